/*
 * test_rule_cover: the coverage judge and the linter on small rule sets.
 * Coverage must follow what rules audit (arch, syscalls, paths, permissions,
 * result filters, -D, -e 2), not their keys; the generator's own output
 * must cover every category on every arch it was asked for. The machine is
 * fixed to x86_64 (with i386 as b32) so the results do not depend on the
 * host; libaudit's tables answer for both.
 */
#include "check.h"
#include "rules/rule_cover.h"
#include "rules/rule_gen.h"
#include "rules/rule_lint.h"

#include <libaudit.h>
#include <stdio.h>
#include <string.h>

static struct rule_cover_target target(void)
{
    struct rule_cover_target t = {.host = MACH_86_64, .n_machines = 2};
    t.machines[0] = MACH_86_64;
    t.machines[1] = MACH_X86;
    return t;
}

/* The state of category `key` for rules `text`; *key_used and missing text on request. */
static int judge(const char *text, const char *key, bool *key_used, char *missing, size_t cap)
{
    struct rule_set s;
    struct rule_cover_result res[RULE_CATEGORY_COUNT];
    struct rule_cover_target t = target();
    CHECK_INT(rule_set_parse(&s, text, strlen(text)), 0);
    CHECK_INT(rule_cover_judge(&s, &t, res), 0);
    int state = -1;
    for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++) {
        if (strcmp(res[i].category->key, key))
            continue;
        state = (int)res[i].state;
        if (key_used)
            *key_used = res[i].key_used;
        if (missing)
            snprintf(missing, cap, "%.*s", (int)res[i].missing.len,
                     res[i].missing.data ? res[i].missing.data : "");
    }
    rule_cover_results_free(res);
    rule_set_free(&s);
    CHECK(state >= 0);
    return state;
}

static void generate(enum rule_profile p, int n_machines, struct buf *out)
{
    struct rule_gen_options o = {.profile = p,
                                 .n_machines = n_machines,
                                 .auid_min = 1000,
                                 .immutable = true,
                                 .root = "/nonexistent-root"};
    o.machines[0] = MACH_86_64;
    o.machines[1] = MACH_X86;
    buf_init(out, 0);
    CHECK_INT(rule_gen_write(&o, out), 0);
    CHECK_INT(buf_append(out, "", 1), 0);
}

static void test_generated_rules_cover_everything(void)
{
    for (int p = RULE_PROFILE_MAIN; p <= RULE_PROFILE_FULL; p++) {
        struct buf b;
        generate((enum rule_profile)p, 2, &b);
        for (size_t i = 0; i < RULE_CATEGORY_COUNT; i++) {
            bool used = false;
            char missing[512];
            int st = judge(b.data, rule_categories[i].key, &used, missing, sizeof(missing));
            if (st != RULE_COVERED)
                fprintf(stderr, "profile %d, %s: %s\n", p, rule_categories[i].key, missing);
            CHECK_INT(st, RULE_COVERED);
            CHECK(used);
        }
        buf_free(&b);
    }
    /* b64 only: every category with syscalls lacks b32. */
    struct buf b;
    char missing[512];
    generate(RULE_PROFILE_MAIN, 1, &b);
    CHECK_INT(judge(b.data, "audit_time_rules", NULL, missing, sizeof(missing)), RULE_PARTIAL);
    CHECK(strstr(missing, "b32 (i386): adjtimex settimeofday clock_settime stime") != NULL);
    CHECK(strstr(missing, "b64") == NULL);
    CHECK_INT(judge(b.data, "user_modify", NULL, NULL, 0), RULE_COVERED);
    buf_free(&b);
}

static void test_keys_do_not_decide(void)
{
    bool used = true;
    /* Right syscalls and paths under other keys: covered. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S rmdir,unlink,unlinkat,rename,renameat -k x\n"
                    "-a always,exit -F arch=b32 -S rmdir,unlink,unlinkat,rename,renameat -k x\n",
                    "delete", &used, NULL, 0),
              RULE_COVERED);
    CHECK(!used);
    CHECK_INT(judge("-w /etc/ -p wa -k etc\n", "user_modify", &used, NULL, 0), RULE_COVERED);
    /* The right key on the wrong syscalls or permissions: not covered. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S open -k delete\n"
                    "-a always,exit -F arch=b32 -S open -k delete\n",
                    "delete", NULL, NULL, 0),
              RULE_MISSING);
    CHECK_INT(judge("-w /etc/passwd -p r -k user_modify\n", "user_modify", NULL, NULL, 0),
              RULE_MISSING);
    CHECK_INT(judge("-w /etc/ -p r -k user_modify\n", "user_modify", NULL, NULL, 0), RULE_MISSING);
}

static void test_filters_and_order(void)
{
    const char *all_arch = "-a always,exit -F arch=b64 -S all -k all64\n"
                           "-a always,exit -F arch=b32 -S all -k all32\n";
    CHECK_INT(judge(all_arch, "perm_mod", NULL, NULL, 0), RULE_COVERED);
    /* A failure filter does not record deletions that succeed. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S all -F exit=-EACCES\n"
                    "-a always,exit -F arch=b32 -S all -F exit=-EACCES\n",
                    "delete", NULL, NULL, 0),
              RULE_MISSING);
    /* access needs both EACCES and EPERM; success=0 records both. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S all -F exit=-EACCES\n"
                    "-a always,exit -F arch=b32 -S all -F exit=-EACCES\n",
                    "access", NULL, NULL, 0),
              RULE_MISSING);
    CHECK_INT(judge("-a always,exit -F arch=b64 -S all -F success=0\n"
                    "-a always,exit -F arch=b32 -S all -F exit=-13\n"
                    "-a always,exit -F arch=b32 -S all -F exit=-EPERM\n",
                    "access", NULL, NULL, 0),
              RULE_COVERED);
    /* Narrowed to a file, or a never rule: not syscall coverage. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S all -F dir=/tmp\n"
                    "-a never,exit -F arch=b32 -S all\n",
                    "perm_mod", NULL, NULL, 0),
              RULE_MISSING);
    /* Without arch= a rule binds to the host's ABI only. */
    char missing[512];
    CHECK_INT(judge("-a always,exit -S init_module,finit_module,delete_module\n", "modules", NULL,
                    missing, sizeof(missing)),
              RULE_PARTIAL);
    CHECK(strstr(missing, "b32 (i386)") && !strstr(missing, "b64"));
    /* -D drops what came before; -e 2 stops what comes after. */
    CHECK_INT(judge("-w /var/log/faillog -p wa\n-w /var/log/lastlog -p wa\n-D\n", "logins", NULL,
                    NULL, 0),
              RULE_MISSING);
    CHECK_INT(judge("-w /var/log/faillog -p wa\n-e 2\n-w /var/log/lastlog -p wa\n", "logins", NULL,
                    NULL, 0),
              RULE_PARTIAL);
    /* /var/run is /run; path= and dir= rules count like watches. */
    CHECK_INT(judge("-w /run/utmp -p wa\n-a always,exit -F path=/var/log/btmp -F perm=wa\n"
                    "-a always,exit -F dir=/var/log/ -F perm=wa\n",
                    "session", NULL, NULL, 0),
              RULE_COVERED);
    /* Syscalls by number resolve per arch: 59 is execve on x86_64, 11 on i386. */
    CHECK_INT(judge("-a always,exit -F arch=b64 -S 59\n-a always,exit -F arch=b32 -S 11\n",
                    "command_log", NULL, NULL, 0),
              RULE_COVERED);
    CHECK_INT(judge("-a always,exit -F arch=b64 -S 11\n-a always,exit -F arch=b32 -S 59\n",
                    "command_log", NULL, NULL, 0),
              RULE_MISSING);
}

struct seen {
    char ids[64][32];
    unsigned lines[64];
    int n;
};

static int collect(const struct rule_finding *f, void *arg)
{
    struct seen *s = arg;
    if (s->n < 64) {
        snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", f->id);
        s->lines[s->n++] = f->line;
    }
    return 0;
}

static bool has(const struct seen *s, const char *id, unsigned line)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->ids[i], id) && (line == 0 || s->lines[i] == line))
            return true;
    return false;
}

static void test_lint(void)
{
    struct rule_lint_options o = {.host = MACH_86_64, .n_machines = 2, .auid_min = 1000};
    o.machines[0] = MACH_86_64;
    o.machines[1] = MACH_X86;
    const char *text = "-a always,exit -F arch=b64 -S stime,adjtimex -k t\n" /* 1 */
                       "-a always,exit -S unlink -F auid>=500 -k d\n"        /* 2 */
                       "-e 2\n"                                              /* 3 */
                       "-w /etc/passwd -p wa -k user_modify\n";              /* 4 */
    struct seen s = {0};
    int problems = rule_lint_text(text, strlen(text), &o, collect, &s);
    CHECK(problems > 0);
    CHECK(has(&s, "unknown-syscall", 1));
    CHECK(has(&s, "missing-arch", 2));
    CHECK(has(&s, "auid-min", 2));
    CHECK(has(&s, "after-immutable", 4));
    CHECK(has(&s, "missing-category", 0));
    CHECK(!has(&s, "syntax", 0));
    /* The generator's output is clean. */
    struct buf b;
    generate(RULE_PROFILE_FULL, 2, &b);
    struct seen clean = {0};
    CHECK_INT(rule_lint_text(b.data, b.len - 1, &o, collect, &clean), 0);
    buf_free(&b);
}

int main(void)
{
    test_generated_rules_cover_everything();
    test_keys_do_not_decide();
    test_filters_and_order();
    test_lint();
    return check_status();
}
