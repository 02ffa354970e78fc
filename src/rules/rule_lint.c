/*
 * rule_lint: the checks behind `logward rules --check`. Line checks come
 * first, in line order, then one finding per guideline category the rules
 * do not fully cover (judged by rule_cover from what the rules audit, not
 * from their keys). It reads text only; it never asks the kernel.
 */
#include "rules/rule_lint.h"

#include "rules/rule_category.h"
#include "rules/rule_cover.h"
#include "rules/rule_set.h"

#include <ctype.h>
#include <errno.h>
#include <libaudit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 128

struct lint {
    const struct rule_lint_options *o;
    rule_lint_fn fn;
    void *arg;
    int problems;
    int stop; /* the callback's negative return */
};

static void report(struct lint *l, unsigned line, size_t column, enum rule_severity sev,
                   const char *id, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report(struct lint *l, unsigned line, size_t column, enum rule_severity sev,
                   const char *id, const char *fmt, ...)
{
    struct rule_finding f = {.line = line, .column = column, .severity = sev, .id = id};
    va_list ap;
    if (l->stop)
        return;
    va_start(ap, fmt);
    vsnprintf(f.text, sizeof(f.text), fmt, ap);
    va_end(ap);
    if (sev != RULE_SEV_NOTE)
        l->problems++;
    int rc = l->fn(&f, l->arg);
    if (rc < 0)
        l->stop = rc;
}

const char *rule_lint_severity_name(enum rule_severity s)
{
    return s == RULE_SEV_ERROR ? "error" : s == RULE_SEV_WARNING ? "warning" : "note";
}

/* "<path>", "arch=<arch>": an example's stand-in in angle brackets. */
static bool angle_placeholder(const char *w, size_t n)
{
    const char *lt = memchr(w, '<', n);
    if (!lt || lt + 1 >= w + n || !isalpha((unsigned char)lt[1]))
        return false;
    return memchr(lt, '>', (size_t)(w + n - lt)) != NULL;
}

/* ARCH, UID_MIN, SYSCALL: an upper-case stand-in (not an errno name like EPERM). */
static bool upper_placeholder(const char *p, size_t len)
{
    char word[WORD_MAX];
    if (len < 2 || len >= sizeof(word) || !isupper((unsigned char)p[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isupper((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '_')
            return false;
    memcpy(word, p, len);
    word[len] = '\0';
    return audit_name_to_errno(word) <= 0;
}

/* Keys and SELinux contexts may be upper case; other values may not. */
static bool free_text_value(struct rule_span word, struct rule_span prev)
{
    return rule_span_is(prev, "-k") || (word.len >= 4 && !memcmp(word.p, "key=", 4)) ||
           (word.len >= 5 && !memcmp(word.p, "subj_", 5)) ||
           (word.len >= 4 && !memcmp(word.p, "obj_", 4));
}

/* A syscall name (any case) of one of the target ABIs: not a placeholder. */
static bool known_syscall(const struct rule_lint_options *o, const char *p, size_t len)
{
    char name[WORD_MAX];
    if (!rule_syscall_name((struct rule_span){p, len}, name, sizeof(name)))
        return false;
    for (int m = 0; m < o->n_machines; m++)
        if (rule_arch_syscall(o->machines[m], name) >= 0)
            return true;
    return false;
}

/* Finds a placeholder among a line's words; returns its span, or len 0. */
static struct rule_span find_placeholder(const struct rule_lint_options *o, struct rule_span line)
{
    const char *p = line.p, *end = line.p + line.len;
    struct rule_span prev = {p, 0};
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        struct rule_span w = {p, 0};
        while (p < end && *p != ' ')
            p++;
        w.len = (size_t)(p - w.p);
        if (angle_placeholder(w.p, w.len))
            return w;
        /* The value: what follows the last operator or comma. */
        const char *v = w.p;
        for (const char *q = w.p; q < p; q++)
            if (strchr("=<>&,", *q))
                v = q + 1;
        size_t vl = (size_t)(p - v);
        bool syscall_word = rule_span_is(prev, "-S") && known_syscall(o, v, vl);
        if (w.len && !free_text_value(w, prev) && !syscall_word && upper_placeholder(v, vl))
            return (struct rule_span){v, vl};
        prev = w;
    }
    return (struct rule_span){line.p, 0};
}

static size_t column_of(const struct rule_set_line *l, const char *at)
{
    return (size_t)(at - l->text.p) + 1;
}

/* The last rule line before index i that parsed, for the stray -k message. */
static const struct rule_set_line *previous_rule(const struct rule_set *s, size_t i)
{
    while (i-- > 0)
        if (!s->lines[i].error && s->lines[i].rule.kind != RULE_CONTROL)
            return &s->lines[i];
    return NULL;
}

/* "-k key" and nothing else: a key split from its rule. */
static bool only_key(const struct rule_set_line *l)
{
    const char *p = l->text.p, *end = l->text.p + l->text.len;
    int words = 0;
    bool first_is_k = false;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p > w && words++ == 0)
            first_is_k = p - w == 2 && w[0] == '-' && w[1] == 'k';
    }
    return first_is_k && words <= 2;
}

static void lint_error_line(struct lint *l, const struct rule_set *s, size_t i,
                            struct rule_span placeholder)
{
    const struct rule_set_line *line = &s->lines[i];
    const char *at = line->text.p + line->rule.error_offset;
    if (placeholder.len)
        return; /* the placeholder is the cause; already reported */
    if (-line->error == RULE_ERR_KEY_WITHOUT_RULE && only_key(line)) {
        const struct rule_set_line *prev = previous_rule(s, i);
        if (prev)
            report(l, line->line_no, 1, RULE_SEV_ERROR, "stray-key",
                   "-k on a line of its own: auditctl rejects this line, and the rule on line %u "
                   "loads without this key; put the -k at the end of that rule",
                   prev->line_no);
        else
            report(l, line->line_no, 1, RULE_SEV_ERROR, "stray-key",
                   "-k on a line of its own: auditctl rejects it; a key ends a rule");
        return;
    }
    report(l, line->line_no, column_of(line, at), RULE_SEV_ERROR, "syntax", "%s",
           rule_parse_strerror(line->error));
}

/* Syscall names the rule's arch lacks; -S all and numbers the arch knows pass. */
static void lint_syscalls(struct lint *l, const struct rule_set_line *line, int machine)
{
    size_t pos = 0;
    struct rule_span s;
    char name[WORD_MAX];
    while (rule_next_syscall(&line->rule, &pos, &s)) {
        if (!rule_syscall_name(s, name, sizeof(name)))
            continue;
        if (!strcmp(name, "all"))
            continue;
        bool known = isdigit((unsigned char)name[0])
                         ? audit_syscall_to_name(atoi(name), machine) != NULL
                         : rule_arch_syscall(machine, name) >= 0;
        if (known)
            continue;
        const char *elsewhere = NULL;
        for (int m = 0; m < l->o->n_machines; m++)
            if (l->o->machines[m] != machine && rule_arch_syscall(l->o->machines[m], name) >= 0)
                elsewhere = rule_arch_bits_name(l->o->machines[m]);
        report(l, line->line_no, column_of(line, s.p), RULE_SEV_ERROR, "unknown-syscall",
               "%s is not a syscall of %s (%s)%s%s%s", name, rule_arch_bits_name(machine),
               rule_arch_machine_name(machine), elsewhere ? "; it exists on " : "",
               elsewhere ? elsewhere : "", elsewhere ? " only" : "");
    }
}

/* auid>=500 where people start at UID_MIN counts system accounts as people. */
static void lint_auid(struct lint *l, const struct rule_set_line *line)
{
    const struct rule *r = &line->rule;
    for (unsigned i = 0; i < r->n_fields; i++) {
        const struct rule_field *f = &r->fields[i];
        if (f->compare || f->field != AUDIT_LOGINUID || !isdigit((unsigned char)f->value.p[0]))
            continue;
        unsigned long v = strtoul(f->value.p, NULL, 10);
        unsigned long first = f->op == RULE_OP_GE ? v : f->op == RULE_OP_GT ? v + 1 : 0;
        if (first && first < l->o->auid_min)
            report(l, line->line_no, column_of(line, f->name.p), RULE_SEV_WARNING, "auid-min",
                   "auid threshold %lu is below UID_MIN %u: system accounts %lu..%u are "
                   "recorded as users",
                   first, l->o->auid_min, first, l->o->auid_min - 1);
    }
}

static void lint_syscall_rule(struct lint *l, const struct rule_set_line *line)
{
    const struct rule *r = &line->rule;
    const struct rule_field *arch = rule_find_field(r, AUDIT_ARCH);
    if (r->list == RULE_LIST_EXIT && r->n_syscalls && !arch) {
        size_t pos = 0;
        struct rule_span s;
        bool all = rule_next_syscall(r, &pos, &s) && rule_span_is(s, "all");
        if (!all)
            report(l, line->line_no, column_of(line, r->syscalls[0].p), RULE_SEV_WARNING,
                   "missing-arch",
                   "syscall rule without arch=: it matches %s only and 32-bit programs escape "
                   "it; write one rule per arch (-F arch=b64, -F arch=b32)",
                   rule_arch_machine_name(l->o->host));
    }
    int machine = arch ? (arch->op == RULE_OP_EQ
                              ? rule_arch_resolve(arch->value.p, arch->value.len, l->o->host)
                              : -1)
                       : l->o->host;
    if (machine >= 0 && r->n_syscalls)
        lint_syscalls(l, line, machine);
    lint_auid(l, line);
}

static bool sets_immutable(const struct rule *r)
{
    for (unsigned c = 0; c < r->n_controls; c++)
        if (rule_span_is(r->controls[c].option, "-e") && rule_span_is(r->controls[c].value, "2"))
            return true;
    return false;
}

static void lint_lines(struct lint *l, const struct rule_set *s, unsigned *immutable_line)
{
    for (size_t i = 0; i < s->n && !l->stop; i++) {
        const struct rule_set_line *line = &s->lines[i];
        struct rule_span ph = find_placeholder(l->o, line->text);
        if (ph.len)
            report(l, line->line_no, column_of(line, ph.p), RULE_SEV_ERROR, "placeholder",
                   "'%.*s' is a placeholder from an example, not a value%s", (int)ph.len, ph.p,
                   rule_span_is(ph, "ARCH") ? ": write the rule once with -F arch=b64 and once "
                                              "with -F arch=b32"
                                            : "");
        if (*immutable_line)
            report(l, line->line_no, 0, RULE_SEV_ERROR, "after-immutable",
                   "after -e 2 on line %u the kernel refuses every change: this line is not "
                   "loaded",
                   *immutable_line);
        if (line->error) {
            lint_error_line(l, s, i, ph);
            continue;
        }
        if (line->rule.kind == RULE_SYSCALL)
            lint_syscall_rule(l, line);
        if ((line->rule.kind == RULE_SYSCALL || line->rule.kind == RULE_WATCH) &&
            !line->rule.n_keys)
            report(l, line->line_no, 0, RULE_SEV_NOTE, "no-key",
                   "rule without a key: ausearch -k cannot select its events");
        if (line->rule.kind == RULE_CONTROL && sets_immutable(&line->rule) && !*immutable_line)
            *immutable_line = line->line_no;
    }
}

/* Syscall rules for one ABI and none for another: the guideline's b64-only examples. */
static void lint_arch_gap(struct lint *l, const struct rule_cover_result *res)
{
    for (int m = 0; m < l->o->n_machines; m++) {
        int other = -1;
        for (int k = 0; k < l->o->n_machines; k++)
            if (k != m && res->syscalls_met[k] > 0)
                other = k;
        if (res->syscalls_needed[m] == 0 || res->syscalls_met[m] > 0 || other < 0)
            continue;
        report(l, 0, 0, RULE_SEV_ERROR, "missing-arch",
               "category %s has syscall rules for %s but none for %s: %s programs escape them",
               res->category->key, rule_arch_bits_name(l->o->machines[other]),
               rule_arch_bits_name(l->o->machines[m]),
               rule_arch_is_64bit(l->o->machines[m]) ? "64-bit" : "32-bit");
    }
}

static int lint_coverage(struct lint *l, const struct rule_set *s)
{
    struct rule_cover_target t = {.host = l->o->host, .n_machines = l->o->n_machines};
    memcpy(t.machines, l->o->machines, sizeof(t.machines));
    struct rule_cover_result res[RULE_CATEGORY_COUNT];
    int rc = rule_cover_judge(s, &t, res);
    for (size_t i = 0; rc >= 0 && i < RULE_CATEGORY_COUNT; i++) {
        const struct rule_category *c = res[i].category;
        lint_arch_gap(l, &res[i]);
        if (res[i].state == RULE_MISSING)
            report(l, 0, 0, RULE_SEV_ERROR, "missing-category",
                   "category %s (%s) is not covered: nothing audits %.*s", c->key, c->title,
                   (int)res[i].missing.len, res[i].missing.data);
        else if (res[i].state == RULE_PARTIAL)
            report(l, 0, 0, RULE_SEV_ERROR, "partial-category",
                   "category %s (%s) is partly covered: not audited: %.*s", c->key, c->title,
                   (int)res[i].missing.len, res[i].missing.data);
        else if (!res[i].key_used)
            report(l, 0, 0, RULE_SEV_NOTE, "other-key",
                   "category %s is covered under other keys: 'ausearch -k %s' finds nothing",
                   c->key, c->key);
    }
    rule_cover_results_free(res);
    return rc;
}

int rule_lint_text(const char *text, size_t len, const struct rule_lint_options *o, rule_lint_fn fn,
                   void *arg)
{
    struct lint l = {.o = o, .fn = fn, .arg = arg};
    struct rule_set s;
    unsigned immutable_line = 0;
    int rc = rule_set_parse(&s, text, len);
    if (rc >= 0) {
        lint_lines(&l, &s, &immutable_line);
        rc = lint_coverage(&l, &s);
    }
    if (rc >= 0 && !immutable_line)
        report(&l, 0, 0, RULE_SEV_NOTE, "not-immutable",
               "no -e 2: the guideline asks for immutable rules (a reboot is then needed to "
               "change them)");
    rule_set_free(&s);
    if (rc < 0)
        return rc;
    return l.stop ? l.stop : l.problems;
}
