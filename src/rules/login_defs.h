/*
 * login_defs: the first user id of people, UID_MIN, from a host's
 * /etc/login.defs (shadow-utils' file; 1000 on Debian and RHEL alike).
 */
#ifndef LW_RULES_LOGIN_DEFS_H
#define LW_RULES_LOGIN_DEFS_H

#define LOGIN_DEFS_UID_MIN_DEFAULT 1000u /* shadow-utils' built-in default */

/*
 * Reads UID_MIN from root's /etc/login.defs into *uid_min. Returns 1 when
 * the file set it, 0 when the default applies (no file or no UID_MIN), or
 * a negative code for an unreadable file or a bad value.
 */
int login_defs_uid_min(const char *root, unsigned *uid_min);

#endif
