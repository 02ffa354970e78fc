/*
 * rule_gen: the generator behind `logward rules`. For each category it
 * writes one syscall rule per arch (two for "access": EACCES and EPERM),
 * listing only the syscalls libaudit knows on that arch, then the watches.
 * It never writes -D (augenrules concatenates rules.d, so a -D here would
 * drop the other files' rules) and writes -e 2 last when asked.
 */
#include "rules/rule_gen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_BUF         4096
#define SYSCALL_LIST_MAX 4096 /* one rule's -S list; far below auditctl's line */

static bool in_profile(enum rule_profile want, enum rule_profile have)
{
    return want == RULE_PROFILE_MAIN || have == RULE_PROFILE_FULL;
}

/* Appends ",name" for each name of list that `machine` has. */
static int append_syscalls(struct buf *b, const char *const *list, int machine, bool *first)
{
    for (; list && *list; list++) {
        if (rule_arch_syscall(machine, *list) < 0)
            continue;
        int r = buf_printf(b, "%s%s", *first ? "" : ",", *list);
        if (r < 0)
            return r;
        *first = false;
    }
    return 0;
}

static int syscall_rules(const struct rule_gen_options *o, const struct rule_category *c,
                         int machine, struct buf *out)
{
    static const char *const denied[] = {"-EACCES", "-EPERM"};
    struct buf names;
    bool first = true;
    buf_init(&names, SYSCALL_LIST_MAX);
    int r = append_syscalls(&names, c->syscalls, machine, &first);
    if (r >= 0 && o->profile == RULE_PROFILE_FULL)
        r = append_syscalls(&names, c->full_syscalls, machine, &first);
    int n = first ? 0 : c->outcome == RULE_OUTCOME_DENIED ? 2 : 1;
    for (int i = 0; i < n && r >= 0; i++) {
        r = buf_printf(out, "-a always,exit -F arch=%s -S %.*s", rule_arch_bits_name(machine),
                       (int)names.len, names.data);
        if (r >= 0 && c->filter)
            r = buf_printf(out, " %s", c->filter);
        if (r >= 0 && c->outcome == RULE_OUTCOME_DENIED)
            r = buf_printf(out, " -F exit=%s", denied[i]);
        if (r >= 0 && c->by_users)
            r = buf_printf(out, " -F auid>=%u -F auid!=unset", o->auid_min);
        if (r >= 0)
            r = buf_printf(out, " -k %s\n", c->key);
    }
    buf_free(&names);
    return r;
}

/* An optional path is written where its directory exists under root. */
static bool present(const char *root, const char *path)
{
    char full[PATH_BUF];
    size_t len = strlen(path);
    const char *slash = path[len - 1] == '/' ? path + len - 1 : strrchr(path, '/');
    int n = snprintf(full, sizeof(full), "%s%.*s", strcmp(root, "/") ? root : "",
                     (int)(slash - path), path);
    struct stat st;
    return n > 0 && (size_t)n < sizeof(full) && stat(full, &st) == 0 && S_ISDIR(st.st_mode);
}

static int watch_rules(const struct rule_gen_options *o, const struct rule_category *c,
                       struct buf *out)
{
    for (const struct rule_watch_spec *w = c->watches; w->path; w++) {
        if (!in_profile(w->profile, o->profile))
            continue;
        if ((w->flags & RULE_WATCH_IF_PRESENT) && !present(o->root, w->path))
            continue;
        int r = buf_printf(out, "-w %s -p %s -k %s\n", w->path, w->perms, c->key);
        if (r < 0)
            return r;
    }
    return 0;
}

static int header(const struct rule_gen_options *o, struct buf *out)
{
    int r =
        buf_printf(out,
                   "## logward rules: the site logging guideline's audit rules (docs/rules.md)\n"
                   "## profile %s; auid_min %u; arch",
                   o->profile == RULE_PROFILE_FULL ? "full" : "main", o->auid_min);
    for (int i = 0; i < o->n_machines && r >= 0; i++)
        r = buf_printf(out, " %s (%s)", rule_arch_bits_name(o->machines[i]),
                       rule_arch_machine_name(o->machines[i]));
    if (r >= 0)
        r = buf_printf(out, "\n## install as /etc/audit/rules.d/99-logward.rules, then run "
                            "'augenrules --load'\n");
    return r;
}

int rule_gen_write(const struct rule_gen_options *o, struct buf *out)
{
    if (o->n_machines < 1 || o->n_machines > RULE_ARCH_MAX || !o->root)
        return -EINVAL;
    int r = header(o, out);
    for (size_t i = 0; i < RULE_CATEGORY_COUNT && r >= 0; i++) {
        const struct rule_category *c = &rule_categories[i];
        r = buf_printf(out, "\n## %s: %s\n", c->key, c->title);
        for (int m = 0; m < o->n_machines && r >= 0; m++)
            r = syscall_rules(o, c, o->machines[m], out);
        if (r >= 0)
            r = watch_rules(o, c, out);
    }
    if (r >= 0 && o->immutable)
        r = buf_printf(out, "\n## immutable: no rule changes until reboot; this must stay last\n"
                            "-e 2\n");
    return r < 0 ? r : 0;
}
