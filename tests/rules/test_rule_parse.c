/*
 * test_rule_parse: the auditctl rule parser against the verdicts in
 * parse_cases.txt (given as argv[1]), and the structure it extracts from a
 * few lines: list and action, syscalls across -S words and commas, fields
 * with operators, keys, watch paths and permissions, settings.
 */
#include "check.h"
#include "rules/rule_parse.h"

#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int code;
} error_names[] = {
#define NAME_ROW(name, text) {#name, name},
    RULE_ERRORS(NAME_ROW)
#undef NAME_ROW
};

static int code_of(const char *name)
{
    if (!strcmp(name, "ok"))
        return 0;
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
        if (!strcmp(error_names[i].name, name))
            return -error_names[i].code;
    fprintf(stderr, "unknown verdict name %s\n", name);
    return 1;
}

static int run_cases(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[8192];
    int cases = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        char *bar = strstr(line, " | ");
        CHECK(bar != NULL);
        if (!bar)
            continue;
        *bar = '\0';
        const char *verdict = line[0] == '!' ? line + 1 : line, *text = bar + 3;
        struct rule r;
        int want = code_of(verdict), got = rule_parse_line(text, strlen(text), &r);
        if (got != want)
            fprintf(stderr, "case \"%s\": got %s (%d), want %s\n", text,
                    got ? rule_parse_strerror(got) : "ok", got, verdict);
        CHECK_INT(got, want);
        cases++;
    }
    fclose(f);
    return cases;
}

static struct rule parse_ok(const char *text)
{
    struct rule r;
    int rc = rule_parse_line(text, strlen(text), &r);
    if (rc)
        fprintf(stderr, "\"%s\": %s\n", text, rule_parse_strerror(rc));
    CHECK_INT(rc, 0);
    return r;
}

static void test_syscall_rule(void)
{
    struct rule r = parse_ok("-a exit,always -F arch=b32 -S rmdir -S unlink,unlinkat -F "
                             "auid>=1000 -F auid!=unset -k delete -k second");
    CHECK_INT(r.kind, RULE_SYSCALL);
    CHECK_INT(r.verb, RULE_ADD);
    CHECK_INT(r.list, RULE_LIST_EXIT);
    CHECK(r.always);
    const char *want[] = {"rmdir", "unlink", "unlinkat"};
    size_t pos = 0, n = 0;
    struct rule_span s;
    while (rule_next_syscall(&r, &pos, &s)) {
        CHECK(n < 3);
        if (n < 3)
            CHECK_MEM(s.p, s.len, want[n]);
        n++;
    }
    CHECK_INT(n, 3);
    CHECK_INT(r.n_fields, 3);
    const struct rule_field *arch = rule_find_field(&r, AUDIT_ARCH);
    CHECK(arch != NULL);
    if (arch)
        CHECK_MEM(arch->value.p, arch->value.len, "b32");
    CHECK_INT(r.fields[1].field, AUDIT_LOGINUID);
    CHECK_INT(r.fields[1].op, RULE_OP_GE);
    CHECK_MEM(r.fields[1].value.p, r.fields[1].value.len, "1000");
    CHECK_INT(r.fields[2].op, RULE_OP_NE);
    CHECK_INT(r.n_keys, 2);
    CHECK_MEM(r.keys[0].p, r.keys[0].len, "delete");
    CHECK_MEM(r.keys[1].p, r.keys[1].len, "second");
}

static void test_watch_and_settings(void)
{
    struct rule r = parse_ok("-w /etc/shadow -p wa -k user_modify");
    CHECK_INT(r.kind, RULE_WATCH);
    CHECK_MEM(r.path.p, r.path.len, "/etc/shadow");
    CHECK_INT(r.perms, RULE_PERM_W | RULE_PERM_A);
    r = parse_ok("-w /var/log/audit/");
    CHECK_INT(r.perms, RULE_PERM_ALL);
    r = parse_ok("-a always,exit -F path=/etc/passwd -F perm=x -F key=k");
    CHECK_INT(r.perms, RULE_PERM_X);
    CHECK_INT(r.n_keys, 1);
    r = parse_ok("-e 2");
    CHECK_INT(r.kind, RULE_CONTROL);
    CHECK_INT(r.n_controls, 1);
    CHECK_MEM(r.controls[0].option.p, r.controls[0].option.len, "-e");
    CHECK_MEM(r.controls[0].value.p, r.controls[0].value.len, "2");
    r = parse_ok("--backlog_wait_time=60000");
    CHECK_MEM(r.controls[0].value.p, r.controls[0].value.len, "60000");
    r = parse_ok("   # comment");
    CHECK_INT(r.kind, RULE_BLANK);
}

static void test_bounds_and_offsets(void)
{
    struct rule r;
    const char *crlf = "-w /etc/passwd -p wa -k k\r";
    CHECK_INT(rule_parse_line(crlf, strlen(crlf), &r), -RULE_ERR_CR);
    CHECK_INT(r.error_offset, strlen(crlf) - 1);
    const char *ph = "-a always,exit -F arch=ARCH -S rmdir";
    CHECK_INT(rule_parse_line(ph, strlen(ph), &r), -RULE_ERR_ARCH);
    CHECK_INT(r.error_offset, strlen("-a always,exit -F arch="));
    static char longline[RULE_LINE_MAX + 16];
    memset(longline, 'x', sizeof(longline) - 1);
    memcpy(longline, "-w /", 4);
    CHECK_INT(rule_parse_line(longline, strlen(longline), &r), -RULE_ERR_LINE_TOO_LONG);
    /* 64 fields fit (the kernel's limit); the 65th does not. */
    char many[RULE_LINE_MAX];
    size_t n = (size_t)snprintf(many, sizeof(many), "-a always,exit -F arch=b64 -S execve");
    for (int i = 1; i < 64; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, " -F uid!=%d", i);
    CHECK_INT(rule_parse_line(many, n, &r), 0);
    CHECK_INT(r.n_fields, 64);
    n += (size_t)snprintf(many + n, sizeof(many) - n, " -F uid!=99");
    CHECK_INT(rule_parse_line(many, n, &r), -RULE_ERR_TOO_MANY);
    /* Keys: 256 bytes in all, separators included. */
    char keys[600];
    n = (size_t)snprintf(keys, sizeof(keys), "-w /etc/passwd -k ");
    memset(keys + n, 'k', 256);
    keys[n + 256] = '\0';
    CHECK_INT(rule_parse_line(keys, strlen(keys), &r), 0);
    strcat(keys, " -k k");
    CHECK_INT(rule_parse_line(keys, strlen(keys), &r), -RULE_ERR_KEY_TOO_LONG);
    CHECK_STR(rule_parse_strerror(-RULE_ERR_TAB),
              "tab character: auditctl splits words on spaces only");
    CHECK_STR(rule_parse_strerror(-1), "unknown error");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_rule_parse parse_cases.txt\n");
        return 2;
    }
    int cases = run_cases(argv[1]);
    CHECK(cases > 60);
    test_syscall_rule();
    test_watch_and_settings();
    test_bounds_and_offsets();
    return check_status();
}
