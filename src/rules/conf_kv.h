/*
 * conf_kv: looks up settings in the "key value" and "key = value" files
 * of Linux hosts (login.defs, auditd.conf, audisp-remote.conf, journald's
 * and systemd's .conf files). Lines starting with '#' or ';' are comments;
 * keys compare case-sensitively; the last assignment wins, as in the
 * daemons that read these files.
 */
#ifndef LW_RULES_CONF_KV_H
#define LW_RULES_CONF_KV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Finds key in text (len bytes) and copies its value, without surrounding
 * blanks, into val (cap bytes). Returns the value's length, -ENOENT when
 * the key is absent, or -E2BIG when the value does not fit.
 */
int conf_kv_get(const char *text, size_t len, const char *key, char *val, size_t cap);

#endif
