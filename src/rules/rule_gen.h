/*
 * rule_gen: writes a complete rules file for /etc/audit/rules.d from the
 * guideline's categories (rule_category) for a profile, a set of arches, a
 * UID_MIN and the immutable flag.
 */
#ifndef LW_RULES_RULE_GEN_H
#define LW_RULES_RULE_GEN_H

#include "base/buf.h"
#include "rules/rule_arch.h"
#include "rules/rule_category.h"

#include <stdbool.h>

struct rule_gen_options {
    enum rule_profile profile;
    int machines[RULE_ARCH_MAX]; /* libaudit MACH_* values, native first */
    int n_machines;
    unsigned auid_min; /* first user id of people (login.defs UID_MIN) */
    bool immutable;    /* end with -e 2 */
    const char *root;  /* where optional paths are looked for; "/" for this host */
};

/* Appends the rules file to out. Returns 0, -EINVAL or a buf error. */
int rule_gen_write(const struct rule_gen_options *o, struct buf *out);

#endif
