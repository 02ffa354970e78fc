/*
 * rule_set: a whole rules text (a rules.d file, augenrules' audit.rules or
 * `auditctl -l` output) parsed line by line with rule_parse. It owns a copy
 * of the text that the parsed rules point into.
 */
#ifndef LW_RULES_RULE_SET_H
#define LW_RULES_RULE_SET_H

#include "rules/rule_parse.h"

#include <stddef.h>

#define RULE_SET_MAX_LINES 100000 /* bound on lines read from one input */

struct rule_set_line {
    unsigned line_no; /* 1-based */
    int error;        /* 0 or the parser's negative RULE_ERR_* code */
    struct rule_span text;
    struct rule rule;
};

struct rule_set {
    char *text; /* owned copy of the input */
    size_t text_len;
    struct rule_set_line *lines; /* non-blank lines only */
    size_t n, cap;
};

/* Parses text (copied). Returns 0, -ENOMEM or -E2BIG. rule_set_free after. */
int rule_set_parse(struct rule_set *s, const char *text, size_t len);
void rule_set_free(struct rule_set *s);

#endif
