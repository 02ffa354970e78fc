/*
 * host_check: the guideline's host points, judged read-only for the host
 * below a root directory: auditd installed, enabled and running; rules
 * covering each category; auditd.conf settings; a syslog daemon; remote
 * forwarding and its encryption; time synchronisation; /var/log ownership
 * and modes; append-only logs. Each point gets pass, fail or unknown and
 * the command that fixes it.
 */
#ifndef LW_RULES_HOST_CHECK_H
#define LW_RULES_HOST_CHECK_H

#include "rules/rule_arch.h"

#include <stdbool.h>
#include <stddef.h>

#define HOST_CHECK_MAX  48
#define HOST_CHECK_TEXT 512

enum host_verdict { HOST_PASS, HOST_FAIL, HOST_UNKNOWN };

struct host_check_item {
    char id[48];    /* stable: "auditd.running", "rules.delete" */
    char title[96]; /* "auditd running" */
    enum host_verdict verdict;
    bool advisory; /* the guideline suggests it; a fail does not fail the host */
    char detail[HOST_CHECK_TEXT];
    char fix[HOST_CHECK_TEXT]; /* empty when nothing needs fixing */
};

struct host_check_options {
    const char *root; /* "/" for this host */
    bool live;        /* may run `auditctl -l` and `auditctl -s` (root is "/") */
    int host;         /* machine for b64/b32 */
    int machines[RULE_ARCH_MAX];
    int n_machines;
};

struct host_check_report {
    struct host_check_item items[HOST_CHECK_MAX];
    size_t n;
    char rules_source[HOST_CHECK_TEXT]; /* where the rules judged came from */
};

/* Runs every check. Returns 0 or a negative code (-ENOMEM). */
int host_check_run(const struct host_check_options *o, struct host_check_report *r);

const char *host_check_verdict_name(enum host_verdict v);

#endif
