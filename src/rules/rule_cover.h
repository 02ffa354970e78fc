/*
 * rule_cover: judges whether a rule set records what each guideline
 * category asks for, from the rules' actual arches, syscalls, paths,
 * permissions and result filters, not from their keys: "-w /etc/shadow -p wa
 * -k identity" covers user_modify; "-a always,exit -S unlink -k delete"
 * with exit=-EACCES does not cover delete.
 */
#ifndef LW_RULES_RULE_COVER_H
#define LW_RULES_RULE_COVER_H

#include "base/buf.h"
#include "rules/rule_arch.h"
#include "rules/rule_category.h"
#include "rules/rule_set.h"

#include <stdbool.h>

enum rule_cover_state { RULE_COVERED, RULE_PARTIAL, RULE_MISSING };

struct rule_cover_result {
    const struct rule_category *category;
    enum rule_cover_state state;
    unsigned needed, met; /* items (syscall per arch, watched path) */
    unsigned syscalls_needed[RULE_ARCH_MAX], syscalls_met[RULE_ARCH_MAX]; /* per target ABI */
    bool key_used;      /* a covering rule carries the guideline's key */
    struct buf missing; /* "b32: stime, adjtimex; /etc/shadow (wa)" */
};

/* What the rule set is judged for. */
struct rule_cover_target {
    int host;                    /* resolves b64/b32 and rules without arch */
    int machines[RULE_ARCH_MAX]; /* ABIs that must be covered */
    int n_machines;
};

/*
 * Judges every category (out[] has room for RULE_CATEGORY_COUNT). Rules
 * after a -D are judged without those before it; rules after -e 2 and lines
 * with errors do not count. Returns 0 or -ENOMEM; free with
 * rule_cover_results_free.
 */
int rule_cover_judge(const struct rule_set *s, const struct rule_cover_target *t,
                     struct rule_cover_result *out);
void rule_cover_results_free(struct rule_cover_result *out);

const char *rule_cover_state_name(enum rule_cover_state s);

#endif
