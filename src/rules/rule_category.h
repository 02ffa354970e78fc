/*
 * rule_category: the site guideline's audit categories, each with the key
 * the guideline names and what must be audited for it: syscalls (by name;
 * which of them exist on an arch is libaudit's answer) and watched paths
 * with permissions. The generator (rule_gen) writes rules from this table
 * and the coverage judge (rule_cover) checks rule sets against it, so the
 * two cannot drift apart.
 */
#ifndef LW_RULES_RULE_CATEGORY_H
#define LW_RULES_RULE_CATEGORY_H

#include <stdbool.h>
#include <stddef.h>

enum rule_profile {
    RULE_PROFILE_MAIN, /* what the guideline asks for, corrected */
    RULE_PROFILE_FULL, /* plus the newer syscalls and paths the same intent needs */
};

/* Which outcomes of a syscall a category records. */
enum rule_outcome {
    RULE_OUTCOME_ALL,    /* every attempt, successful or not */
    RULE_OUTCOME_DENIED, /* failures with EACCES and EPERM only */
};

enum {
    RULE_WATCH_REQUIRED = 1,   /* coverage demands it (else it is advice) */
    RULE_WATCH_IF_PRESENT = 2, /* written only where its directory exists */
};

struct rule_watch_spec {
    const char *path; /* a trailing '/' marks a directory (watched recursively) */
    const char *perms;
    enum rule_profile profile;
    unsigned flags;
};

struct rule_category {
    const char *key;                  /* the guideline's key, e.g. "delete" */
    const char *title;                /* what is recorded, for comments and reports */
    const char *const *syscalls;      /* main profile; NULL-terminated */
    const char *const *full_syscalls; /* added by the full profile */
    bool by_users;                    /* restrict to auid >= UID_MIN, auid set */
    enum rule_outcome outcome;
    const struct rule_watch_spec *watches; /* terminated by a NULL path */
    const char *filter;                    /* extra -F/-C text for its syscall rules, or NULL */
};

/* The categories, in the guideline's order. */
#define RULE_CATEGORY_COUNT 11
extern const struct rule_category rule_categories[RULE_CATEGORY_COUNT];

/* The category with this key, or NULL. */
const struct rule_category *rule_category_find(const char *key);

#endif
