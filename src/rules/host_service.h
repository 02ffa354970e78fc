/*
 * host_service: whether a service starts at boot, from the links systemd
 * (and SysV init) keep below <root>/etc, without asking systemctl.
 */
#ifndef LW_RULES_HOST_SERVICE_H
#define LW_RULES_HOST_SERVICE_H

#include <stddef.h>

enum host_service_state {
    HOST_SERVICE_ENABLED,
    HOST_SERVICE_DISABLED,
    HOST_SERVICE_MASKED,
    HOST_SERVICE_UNKNOWN, /* neither systemd's nor SysV init's directories exist */
};

/*
 * The boot state of `name` (e.g. "auditd": auditd.service or SysV's
 * S??auditd). Writes where it was found, or what was looked at, into
 * where (cap bytes).
 */
enum host_service_state host_service_state(const char *root, const char *name, char *where,
                                           size_t cap);

#endif
