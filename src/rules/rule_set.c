/*
 * rule_set: splits a rules text into lines and keeps every line that is not
 * blank or a comment, parsed or with its parse error. The line "No rules",
 * which `auditctl -l` prints for an empty rule list, counts as blank.
 */
#include "rules/rule_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct rule_set *s)
{
    if (s->n < s->cap)
        return 0;
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct rule_set_line *p = realloc(s->lines, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    s->lines = p;
    s->cap = cap;
    return 0;
}

static int add_line(struct rule_set *s, unsigned no, const char *p, size_t len)
{
    struct rule tmp;
    int rc = rule_parse_line(p, len, &tmp);
    if (rc == 0 && tmp.kind == RULE_BLANK)
        return 0;
    if (len == 8 && !memcmp(p, "No rules", 8))
        return 0;
    if (grow(s) < 0)
        return -ENOMEM;
    struct rule_set_line *l = &s->lines[s->n++];
    l->line_no = no;
    l->error = rc;
    l->text = (struct rule_span){p, len};
    l->rule = tmp;
    return 0;
}

int rule_set_parse(struct rule_set *s, const char *text, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->text = malloc(len + 1);
    if (!s->text)
        return -ENOMEM;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->text_len = len;
    const char *p = s->text, *end = s->text + len;
    unsigned no = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (++no > RULE_SET_MAX_LINES)
            return -E2BIG;
        int rc = add_line(s, no, p, n);
        if (rc < 0)
            return rc;
        p += n + 1;
    }
    return 0;
}

void rule_set_free(struct rule_set *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->lines);
    memset(s, 0, sizeof(*s));
}
