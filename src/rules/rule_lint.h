/*
 * rule_lint: checks a rules text (a rules.d file or `auditctl -l` output)
 * and reports findings line by line: syntax errors, placeholders left from
 * examples (arch=ARCH), a -k on a line of its own, syscall rules without an
 * arch, syscalls the arch does not have, rules after -e 2, user thresholds
 * below UID_MIN, and categories of the guideline the rules do not cover.
 */
#ifndef LW_RULES_RULE_LINT_H
#define LW_RULES_RULE_LINT_H

#include "rules/rule_arch.h"

#include <stddef.h>

enum rule_severity {
    RULE_SEV_ERROR,   /* auditctl would refuse it, or it records less than asked */
    RULE_SEV_WARNING, /* loads, but does not do what it seems to */
    RULE_SEV_NOTE,    /* worth knowing; not counted as a problem */
};

#define RULE_FINDING_TEXT_MAX 1024

struct rule_finding {
    unsigned line; /* 0 for findings about the whole file */
    size_t column; /* 1-based byte column, 0 when unknown */
    enum rule_severity severity;
    const char *id; /* short stable name: "syntax", "placeholder", "stray-key"... */
    char text[RULE_FINDING_TEXT_MAX];
};

struct rule_lint_options {
    int host;                    /* resolves b64/b32 and rules without arch */
    int machines[RULE_ARCH_MAX]; /* ABIs the rules must cover */
    int n_machines;
    unsigned auid_min; /* the first user id of people on the hosts */
};

/* Called per finding, in line order; a negative return stops the lint. */
typedef int (*rule_lint_fn)(const struct rule_finding *f, void *arg);

/*
 * Lints text (len bytes). Returns the number of errors and warnings found
 * (0: clean), or a negative code (-ENOMEM, -E2BIG, or the callback's).
 */
int rule_lint_text(const char *text, size_t len, const struct rule_lint_options *o, rule_lint_fn fn,
                   void *arg);

const char *rule_lint_severity_name(enum rule_severity s);

#endif
