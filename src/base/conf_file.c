/*
 * conf_file: reading and splitting a `key = value` configuration file (see
 * conf_file.h). It knows no keys: logwardd's and logward-agent's settings
 * tables do, through the setter each passes in.
 */
#include "base/conf_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int conf_file_read(const char *path, char **out, char *err, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, cap, "%s: %s", path, strerror(e));
        return -e;
    }
    char *text = malloc(CONF_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (text && len < CONF_FILE_MAX && (n = read(fd, text + len, CONF_FILE_MAX - len)) > 0)
        len += (size_t)n;
    int e = n < 0 ? errno : 0;
    char extra;
    bool too_big = text && len == CONF_FILE_MAX && read(fd, &extra, 1) == 1;
    close(fd);
    if (!text || e || too_big || memchr(text, 0, len)) {
        snprintf(err, cap, "%s: %s", path,
                 !text     ? strerror(ENOMEM)
                 : e       ? strerror(e)
                 : too_big ? "larger than 1 MiB"
                           : "holds a NUL byte: not a configuration file");
        free(text);
        return !text ? -ENOMEM : e ? -e : too_big ? -EFBIG : -EINVAL;
    }
    text[len] = 0;
    *out = text;
    return 0;
}

static char *trim(char *p, char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = 0;
    return p;
}

int conf_file_parse(char *text, const char *path, conf_file_set_fn *set, void *arg, char *err,
                    size_t cap)
{
    char *p = text;
    for (int line = 1; *p; line++) {
        char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        char *next = nl ? nl + 1 : end;
        char *hash = memchr(p, '#', (size_t)(end - p));
        char *s = trim(p, hash ? hash : end);
        p = next;
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        const char *why = "expected 'key = value'";
        if (eq) {
            char *key = trim(s, eq), *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
            if (set(arg, key, value, &why) == 0)
                continue;
            snprintf(err, cap, "%s:%d: %s = %s: %s", path, line, key, value, why);
        } else {
            snprintf(err, cap, "%s:%d: %s: %s", path, line, s, why);
        }
        return -EINVAL;
    }
    return 0;
}
