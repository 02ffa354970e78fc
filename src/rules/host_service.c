/*
 * host_service: reads systemd's enablement links (/etc/systemd/system/
 * *.wants/NAME.service, a link to /dev/null for masked units) and SysV
 * init's /etc/rc[2-5].d/S??NAME links. Units enabled only by presets or
 * static units in /usr/lib are not seen; auditd, rsyslog, chrony and
 * journal-upload are all enabled through .wants links.
 */
#include "rules/host_service.h"

#include "rules/host_fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool masked(const char *root, const char *unit)
{
    char rel[HOST_FS_PATH_MAX], full[HOST_FS_PATH_MAX], target[HOST_FS_PATH_MAX];
    snprintf(rel, sizeof(rel), "/etc/systemd/system/%s", unit);
    if (host_fs_path(root, rel, full, sizeof(full)) < 0)
        return false;
    ssize_t n = readlink(full, target, sizeof(target) - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return !strcmp(target, "/dev/null");
}

/* Finds unit in any /etc/systemd/system/<x>.wants directory. */
static bool in_wants(const char *root, const char *unit, char *where, size_t cap)
{
    struct buf dirs;
    buf_init(&dirs, 0);
    int n = host_fs_list(root, "/etc/systemd/system", ".wants", &dirs);
    bool hit = false;
    for (const char *d = dirs.data; n > 0 && !hit; n--, d += strlen(d) + 1) {
        char rel[HOST_FS_PATH_MAX];
        snprintf(rel, sizeof(rel), "/etc/systemd/system/%s/%s", d, unit);
        if (host_fs_exists(root, rel)) {
            snprintf(where, cap, "%s", rel);
            hit = true;
        }
    }
    buf_free(&dirs);
    return hit;
}

static bool in_sysv(const char *root, const char *name, char *where, size_t cap)
{
    for (char level = '2'; level <= '5'; level++) {
        char dir[32];
        struct buf names;
        snprintf(dir, sizeof(dir), "/etc/rc%c.d", level);
        buf_init(&names, 0);
        int n = host_fs_list(root, dir, name, &names);
        bool hit = false;
        for (const char *s = names.data; n > 0 && !hit; n--, s += strlen(s) + 1)
            if (s[0] == 'S' && strlen(s) == strlen(name) + 3) {
                snprintf(where, cap, "%s/%s", dir, s);
                hit = true;
            }
        buf_free(&names);
        if (hit)
            return true;
    }
    return false;
}

enum host_service_state host_service_state(const char *root, const char *name, char *where,
                                           size_t cap)
{
    char unit[256];
    snprintf(unit, sizeof(unit), "%s.service", name);
    if (masked(root, unit)) {
        snprintf(where, cap, "/etc/systemd/system/%s -> /dev/null", unit);
        return HOST_SERVICE_MASKED;
    }
    if (in_wants(root, unit, where, cap) || in_sysv(root, name, where, cap))
        return HOST_SERVICE_ENABLED;
    bool systemd = host_fs_exists(root, "/etc/systemd/system");
    bool sysv = host_fs_exists(root, "/etc/rc2.d");
    snprintf(where, cap, "no %s link in %s%s%s", unit, systemd ? "/etc/systemd/system/*.wants" : "",
             systemd && sysv ? " or " : "", sysv ? "/etc/rc[2-5].d" : "");
    return systemd || sysv ? HOST_SERVICE_DISABLED : HOST_SERVICE_UNKNOWN;
}
