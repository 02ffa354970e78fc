/*
 * rule_cover: the coverage judge used by `logward rules --check` and
 * `logward check`. A required syscall counts as audited on an arch when an
 * "always,exit" rule for that arch lists it (by name or number, or "all"),
 * is not narrowed to some files (path, dir, exe, filetype, perm, inode,
 * device) and, for categories that record every attempt, does not filter on
 * the result. A required path counts as watched when a watch or a path=/dir=
 * rule reaches it (directories recursively) with at least the required
 * permissions. It does not model "never" rules that could shadow a match.
 */
#include "rules/rule_cover.h"

#include <errno.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define PATH_BUF     4096

/* The range of lines that count: after the last -D, before any -e 2. */
static void effective_range(const struct rule_set *s, size_t *from, size_t *to)
{
    *from = 0;
    *to = s->n;
    for (size_t i = 0; i < s->n; i++) {
        const struct rule *r = &s->lines[i].rule;
        if (s->lines[i].error || r->kind != RULE_CONTROL)
            continue;
        for (unsigned c = 0; c < r->n_controls; c++) {
            if (rule_span_is(r->controls[c].option, "-D") && r->n_keys == 0)
                *from = i + 1;
            if (rule_span_is(r->controls[c].option, "-e") &&
                rule_span_is(r->controls[c].value, "2") && *to == s->n)
                *to = i + 1;
        }
    }
    if (*from > *to)
        *from = *to;
}

static bool is_adding_exit_rule(const struct rule *r)
{
    return r->kind == RULE_SYSCALL && (r->verb == RULE_ADD || r->verb == RULE_PREPEND) &&
           r->list == RULE_LIST_EXIT && r->always;
}

/* The machine a rule applies to, or -1 for arch!= and other odd forms. */
static int rule_machine(const struct rule *r, int host)
{
    const struct rule_field *f = rule_find_field(r, AUDIT_ARCH);
    if (!f)
        return host;
    if (f->op != RULE_OP_EQ)
        return -1;
    return rule_arch_resolve(f->value.p, f->value.len, host);
}

static bool narrowed_to_objects(const struct rule *r)
{
    static const int object_fields[] = {AUDIT_WATCH,   AUDIT_DIR,    AUDIT_EXE,      AUDIT_FILETYPE,
                                        AUDIT_PERM,    AUDIT_INODE,  AUDIT_DEVMAJOR, AUDIT_DEVMINOR,
                                        AUDIT_OBJ_UID, AUDIT_OBJ_GID};
    for (size_t i = 0; i < sizeof(object_fields) / sizeof(object_fields[0]); i++)
        if (rule_find_field(r, object_fields[i]))
            return true;
    return false;
}

/* Does the rule list syscall `nr` of `machine` (or all syscalls)? */
static bool lists_syscall(const struct rule *r, int machine, int nr)
{
    size_t pos = 0;
    struct rule_span s;
    char name[NAME_MAX_LEN];
    if (r->n_syscalls == 0)
        return true; /* auditctl adds "all" */
    while (rule_next_syscall(r, &pos, &s)) {
        if (!rule_syscall_name(s, name, sizeof(name)))
            continue;
        if (!strcmp(name, "all"))
            return true;
        char *end;
        long n = strtol(name, &end, 10);
        if (*end == '\0' ? n == nr : rule_arch_syscall(machine, name) == nr)
            return true;
    }
    return false;
}

/* Does the rule's result filter let the wanted outcome through? denied_errno 0 = all. */
static bool passes_outcome(const struct rule *r, int denied_errno)
{
    const struct rule_field *ex = rule_find_field(r, AUDIT_EXIT);
    const struct rule_field *ok = rule_find_field(r, AUDIT_SUCCESS);
    if (!ex && !ok)
        return true;
    if (denied_errno == 0)
        return false;
    if (ok && !ex)
        return ok->op == RULE_OP_EQ && rule_span_is(ok->value, "0");
    if (!ex || ex->op != RULE_OP_EQ || ex->value.len < 2 || ex->value.p[0] != '-')
        return false;
    char word[NAME_MAX_LEN];
    if (ex->value.len >= sizeof(word))
        return false;
    memcpy(word, ex->value.p + 1, ex->value.len - 1);
    word[ex->value.len - 1] = '\0';
    char *end;
    long n = strtol(word, &end, 10);
    return (*end == '\0' ? n : audit_name_to_errno(word)) == denied_errno;
}

struct judge {
    const struct rule_set *s;
    const struct rule_cover_target *t;
    size_t from, to;
    struct rule_cover_result *res;
};

static bool has_key(const struct rule *r, const char *key)
{
    for (unsigned i = 0; i < r->n_keys; i++)
        if (rule_span_is(r->keys[i], key))
            return true;
    return false;
}

static bool syscall_covered(struct judge *j, int machine, int nr, int denied_errno)
{
    bool found = false;
    for (size_t i = j->from; i < j->to; i++) {
        const struct rule *r = &j->s->lines[i].rule;
        if (j->s->lines[i].error || !is_adding_exit_rule(r) || narrowed_to_objects(r))
            continue;
        if (rule_machine(r, j->t->host) != machine || !lists_syscall(r, machine, nr) ||
            !passes_outcome(r, denied_errno))
            continue;
        found = true;
        if (has_key(r, j->res->category->key)) {
            j->res->key_used = true;
            break;
        }
    }
    return found;
}

/* Copies a path, dropping trailing '/' and reading /var/run as /run. */
static bool norm_path(struct rule_span p, char *out, size_t cap)
{
    while (p.len > 1 && p.p[p.len - 1] == '/')
        p.len--;
    size_t skip = 0;
    if (p.len >= 8 && !memcmp(p.p, "/var/run", 8) && (p.len == 8 || p.p[8] == '/'))
        skip = 4; /* "/var/run/x" -> "/run/x": /var/run is a link to /run */
    if (p.len - skip >= cap)
        return false;
    memcpy(out, p.p + skip, p.len - skip);
    out[p.len - skip] = '\0';
    return true;
}

static bool reaches(const char *watch, const char *want, bool recursive)
{
    size_t wl = strlen(watch);
    if (!strcmp(watch, want))
        return true;
    return recursive && !strncmp(want, watch, wl) && (want[wl] == '/' || wl == 1);
}

/* The watched object of a rule and whether it covers subdirectories. */
static bool rule_object(const struct rule *r, char *path, size_t cap, bool *recursive)
{
    if (r->kind == RULE_WATCH && r->verb == RULE_WATCH_ADD) {
        *recursive = true; /* a watch on a directory covers the tree below it */
        return norm_path(r->path, path, cap);
    }
    if (!is_adding_exit_rule(r) || r->n_syscalls > 0)
        return false; /* a -S list narrows a path rule to some syscalls */
    const struct rule_field *f = rule_find_field(r, AUDIT_WATCH);
    *recursive = false;
    if (!f) {
        f = rule_find_field(r, AUDIT_DIR);
        *recursive = true;
    }
    return f && f->op == RULE_OP_EQ && norm_path(f->value, path, cap);
}

static bool path_covered(struct judge *j, const char *want_raw, unsigned perms)
{
    char want[PATH_BUF], have[PATH_BUF];
    bool recursive, found = false;
    if (!norm_path((struct rule_span){want_raw, strlen(want_raw)}, want, sizeof(want)))
        return false;
    for (size_t i = j->from; i < j->to; i++) {
        const struct rule *r = &j->s->lines[i].rule;
        if (j->s->lines[i].error || !rule_object(r, have, sizeof(have), &recursive))
            continue;
        if (!reaches(have, want, recursive) || (r->perms & perms) != perms)
            continue;
        found = true;
        if (has_key(r, j->res->category->key)) {
            j->res->key_used = true;
            break;
        }
    }
    return found;
}

static unsigned perm_bits(const char *s)
{
    unsigned bits = 0;
    for (; *s; s++)
        bits |= *s == 'r'   ? RULE_PERM_R
                : *s == 'w' ? RULE_PERM_W
                : *s == 'x' ? RULE_PERM_X
                            : RULE_PERM_A;
    return bits;
}

static int note_missing(struct judge *j, int *group, int machine, const char *what)
{
    struct buf *b = &j->res->missing;
    int r;
    if (machine >= 0 && *group != machine)
        r = buf_printf(b, "%s%s (%s): %s", b->len ? "; " : "", rule_arch_bits_name(machine),
                       rule_arch_machine_name(machine), what);
    else if (machine >= 0)
        r = buf_printf(b, " %s", what);
    else
        r = buf_printf(b, "%s%s", b->len ? "; " : "", what);
    *group = machine;
    return r;
}

static int judge_syscalls(struct judge *j)
{
    const struct rule_category *c = j->res->category;
    int group = -1;
    for (int m = 0; m < j->t->n_machines; m++) {
        int machine = j->t->machines[m];
        for (const char *const *name = c->syscalls; *name; name++) {
            int nr = rule_arch_syscall(machine, *name);
            if (nr < 0)
                continue;
            bool ok = c->outcome == RULE_OUTCOME_DENIED ? syscall_covered(j, machine, nr, EACCES) &&
                                                              syscall_covered(j, machine, nr, EPERM)
                                                        : syscall_covered(j, machine, nr, 0);
            j->res->needed++;
            j->res->syscalls_needed[m]++;
            if (ok) {
                j->res->met++;
                j->res->syscalls_met[m]++;
            }
            if (!ok && note_missing(j, &group, machine, *name) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int judge_watches(struct judge *j)
{
    int group = -1;
    char what[PATH_BUF];
    for (const struct rule_watch_spec *w = j->res->category->watches; w->path; w++) {
        if (!(w->flags & RULE_WATCH_REQUIRED))
            continue;
        j->res->needed++;
        if (path_covered(j, w->path, perm_bits(w->perms))) {
            j->res->met++;
            continue;
        }
        snprintf(what, sizeof(what), "%s (-p %s)", w->path, w->perms);
        if (note_missing(j, &group, -1, what) < 0)
            return -ENOMEM;
    }
    return 0;
}

int rule_cover_judge(const struct rule_set *s, const struct rule_cover_target *t,
                     struct rule_cover_result *out)
{
    struct judge j = {.s = s, .t = t};
    effective_range(s, &j.from, &j.to);
    for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++) {
        out[i] = (struct rule_cover_result){.category = &rule_categories[i]};
        buf_init(&out[i].missing, 0);
    }
    for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++) {
        j.res = &out[i];
        if (judge_syscalls(&j) < 0 || judge_watches(&j) < 0)
            return -ENOMEM;
        out[i].state = out[i].met == out[i].needed ? RULE_COVERED
                       : out[i].met == 0           ? RULE_MISSING
                                                   : RULE_PARTIAL;
    }
    return 0;
}

void rule_cover_results_free(struct rule_cover_result *out)
{
    for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++)
        buf_free(&out[i].missing);
}

const char *rule_cover_state_name(enum rule_cover_state s)
{
    return s == RULE_COVERED ? "covered" : s == RULE_PARTIAL ? "partial" : "missing";
}
