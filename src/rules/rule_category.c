/*
 * rule_category: the table of the guideline's categories. Syscall names
 * here are the guideline's intent ("record deletions": unlink, rename...);
 * whether an arch has a syscall is never decided here but by libaudit when
 * rules are generated or judged, so names absent from an arch (stime and
 * chown32 exist only on 32-bit x86, open not on aarch64) are skipped there.
 * Corrections to the guideline's examples are marked "fix:".
 */
#include "rules/rule_category.h"

#include <string.h>

#define MAIN RULE_PROFILE_MAIN
#define FULL RULE_PROFILE_FULL
#define REQ  RULE_WATCH_REQUIRED
#define OPT  RULE_WATCH_IF_PRESENT

static const char *const none[] = {NULL};

static const char *const exec_sys[] = {"execve", NULL};
static const char *const exec_full[] = {"execveat", NULL};
static const struct rule_watch_spec no_watch[] = {{NULL, NULL, MAIN, 0}};

/* Privileged execution: a setuid-root program run by someone else (full). */
static const char *const priv_exec_full[] = {"execve", "execveat", NULL};

static const struct rule_watch_spec actions_watch[] = {
    {"/etc/sudoers", "wa", MAIN, REQ},
    {"/etc/sudoers.d/", "wa", MAIN, 0},
    {NULL, NULL, MAIN, 0},
};

static const char *const delete_sys[] = {"rmdir", "unlink", "unlinkat", "rename", "renameat", NULL};
static const char *const delete_full[] = {"renameat2", NULL};

static const struct rule_watch_spec user_watch[] = {
    {"/etc/group", "wa", MAIN, REQ},
    {"/etc/passwd", "wa", MAIN, REQ},
    {"/etc/gshadow", "wa", MAIN, REQ},
    {"/etc/shadow", "wa", MAIN, REQ},
    {"/etc/security/opasswd", "wa", MAIN, REQ},
    {"/etc/subuid", "wa", FULL, 0},
    {"/etc/subgid", "wa", FULL, 0},
    {NULL, NULL, MAIN, 0},
};

static const struct rule_watch_spec logins_watch[] = {
    {"/var/log/faillog", "wa", MAIN, REQ},
    {"/var/log/lastlog", "wa", MAIN, REQ},
    {"/var/run/faillock/", "wa", FULL, 0}, /* pam_faillock's tallies */
    {NULL, NULL, MAIN, 0},
};

/* fix: stime exists on 32-bit ABIs only; libaudit drops it on b64. */
static const char *const time_sys[] = {"adjtimex", "settimeofday", "clock_settime", "stime", NULL};
static const char *const time_full[] = {"clock_adjtime", NULL};
static const struct rule_watch_spec time_watch[] = {
    {"/etc/localtime", "wa", MAIN, REQ},
    {NULL, NULL, MAIN, 0},
};

static const char *const net_sys[] = {"sethostname", "setdomainname", NULL};
static const struct rule_watch_spec net_watch[] = {
    {"/etc/hosts", "wa", MAIN, REQ},
    {"/etc/issue", "wa", MAIN, REQ},
    {"/etc/sysconfig/network", "wa", MAIN, OPT}, /* RHEL family only */
    {"/etc/hostname", "wa", FULL, 0},
    {"/etc/issue.net", "wa", FULL, 0},
    {"/etc/network/", "wa", FULL, OPT},        /* Debian ifupdown */
    {"/etc/NetworkManager/", "wa", FULL, OPT}, /* NetworkManager */
    {"/etc/netplan/", "wa", FULL, OPT},        /* Ubuntu netplan */
    {NULL, NULL, MAIN, 0},
};

/* The guideline names lchown "and the same for fchown, fremovexattr...". */
static const char *const perm_sys[] = {
    "chmod",     "fchmod",      "fchmodat",     "chown",        "fchown",   "fchownat",
    "lchown",    "chown32",     "fchown32",     "lchown32",     "setxattr", "lsetxattr",
    "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", NULL};

static const struct rule_watch_spec session_watch[] = {
    {"/var/run/utmp", "wa", MAIN, REQ},
    {"/var/log/btmp", "wa", MAIN, REQ},
    {"/var/log/wtmp", "wa", MAIN, REQ},
    {NULL, NULL, MAIN, 0},
};

/* fix: 32-bit programs truncate through truncate64/ftruncate64. */
static const char *const access_sys[] = {"creat",    "open",      "openat",     "open_by_handle_at",
                                         "truncate", "ftruncate", "truncate64", "ftruncate64",
                                         NULL};
static const char *const access_full[] = {"openat2", NULL};

/* fix: modprobe loads with finit_module; init_module alone misses it. */
static const char *const module_sys[] = {"init_module", "finit_module", "delete_module", NULL};
static const char *const module_full[] = {"kexec_load", "kexec_file_load", NULL};
/* Advice only: on merged-/usr systems these are symlinks to kmod, which a
 * watch on the link does not see executed; the syscalls are the coverage. */
static const struct rule_watch_spec module_watch[] = {
    {"/sbin/insmod", "x", MAIN, 0},
    {"/sbin/rmmod", "x", MAIN, 0},
    {"/sbin/modprobe", "x", MAIN, 0},
    {"/usr/bin/kmod", "x", FULL, OPT},
    {NULL, NULL, MAIN, 0},
};

#define ALL    RULE_OUTCOME_ALL
#define DENIED RULE_OUTCOME_DENIED

const struct rule_category rule_categories[RULE_CATEGORY_COUNT] = {
    {.key = "command_log",
     .title = "commands executed",
     .syscalls = exec_sys,
     .full_syscalls = exec_full,
     .outcome = ALL,
     .watches = no_watch},
    {.key = "actions",
     .title = "privileged commands: sudo's configuration, setuid-root runs",
     .syscalls = none,
     .full_syscalls = priv_exec_full,
     .outcome = ALL,
     .watches = actions_watch,
     .filter = "-C uid!=euid -F euid=0"},
    {.key = "delete",
     .title = "file deletion and renaming by users",
     .syscalls = delete_sys,
     .full_syscalls = delete_full,
     .by_users = true,
     .outcome = ALL,
     .watches = no_watch},
    {.key = "user_modify",
     .title = "changes to users, groups and passwords",
     .syscalls = none,
     .full_syscalls = none,
     .outcome = ALL,
     .watches = user_watch},
    {.key = "logins",
     .title = "changes to the login and failed-login records",
     .syscalls = none,
     .full_syscalls = none,
     .outcome = ALL,
     .watches = logins_watch},
    {.key = "audit_time_rules",
     .title = "changes to the system time and time zone",
     .syscalls = time_sys,
     .full_syscalls = time_full,
     .outcome = ALL,
     .watches = time_watch},
    {.key = "audit_network_modifications",
     .title = "changes to the host name and network configuration",
     .syscalls = net_sys,
     .full_syscalls = none,
     .outcome = ALL,
     .watches = net_watch},
    {.key = "perm_mod",
     .title = "changes to permissions, owners and extended attributes by users",
     .syscalls = perm_sys,
     .full_syscalls = none,
     .by_users = true,
     .outcome = ALL,
     .watches = no_watch},
    {.key = "session",
     .title = "changes to the session records (utmp, wtmp, btmp)",
     .syscalls = none,
     .full_syscalls = none,
     .outcome = ALL,
     .watches = session_watch},
    {.key = "access",
     .title = "file access denied to users (EACCES, EPERM)",
     .syscalls = access_sys,
     .full_syscalls = access_full,
     .by_users = true,
     .outcome = DENIED,
     .watches = no_watch},
    {.key = "modules",
     .title = "kernel module loading and unloading",
     .syscalls = module_sys,
     .full_syscalls = module_full,
     .outcome = ALL,
     .watches = module_watch},
};

const struct rule_category *rule_category_find(const char *key)
{
    for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++)
        if (!strcmp(rule_categories[i].key, key))
            return &rule_categories[i];
    return NULL;
}
