/*
 * conf_kv: a line scanner for simple configuration files. A line is
 * "key<blanks>value", "key=value" or "key = value"; [section] headers are
 * ignored (journald.conf keys are unique across its one section). It does
 * not handle quoting or continuation lines; none of the files read here use
 * them.
 */
#include "rules/conf_kv.h"

#include <errno.h>
#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Matches key at the start of [p, end) and returns the value, or NULL. */
static const char *match(const char *p, const char *end, const char *key, const char **vend)
{
    size_t kl = strlen(key);
    while (p < end && is_blank(*p))
        p++;
    if ((size_t)(end - p) <= kl || memcmp(p, key, kl) != 0)
        return NULL;
    p += kl;
    if (!is_blank(*p) && *p != '=')
        return NULL;
    while (p < end && is_blank(*p))
        p++;
    if (p < end && *p == '=')
        p++;
    while (p < end && is_blank(*p))
        p++;
    *vend = end;
    while (*vend > p && is_blank((*vend)[-1]))
        (*vend)--;
    return p;
}

int conf_kv_get(const char *text, size_t len, const char *key, char *val, size_t cap)
{
    const char *p = text, *end = text + len, *found = NULL, *found_end = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *ve;
        const char *v = (*p == '#' || *p == ';') ? NULL : match(p, le, key, &ve);
        if (v) {
            found = v;
            found_end = ve;
        }
        p = le + 1;
    }
    if (!found)
        return -ENOENT;
    size_t n = (size_t)(found_end - found);
    if (n >= cap)
        return -E2BIG;
    memcpy(val, found, n);
    val[n] = '\0';
    return (int)n;
}
