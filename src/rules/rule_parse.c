/*
 * rule_parse: parses one line of auditctl rule syntax the way auditctl's
 * setopt() reads it: words split on spaces only, getopt-style options in
 * order, and the same order rules (a list before -F, arch= before -S, a
 * watch or syscall before -k). It validates value shapes through libaudit's
 * name tables (fields, lists, machines, errno names, message and file
 * types). It does not look up syscall names (they depend on the arch), user
 * names (they depend on the host) or talk to the kernel.
 */
#include "rules/rule_parse.h"

#include <ctype.h>
#include <errno.h>
#include <libaudit.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SYSCALL_POS_STRIDE 8192 /* > RULE_LINE_MAX: packs (word, offset) in one size_t */
#define WORD_MAX           256  /* longest list,action or option value we copy */

static const char *const error_text[] = {
#define RULE_ERR_TEXT(name, text) text,
    RULE_ERRORS(RULE_ERR_TEXT)
#undef RULE_ERR_TEXT
};

const char *rule_parse_strerror(int code)
{
    if (code < 0)
        code = -code;
    if (code <= RULE_ERR_BASE || code >= RULE_ERR_LAST)
        return "unknown error";
    return error_text[code - RULE_ERR_BASE - 1];
}

bool rule_span_is(struct rule_span s, const char *str)
{
    return s.len == strlen(str) && memcmp(s.p, str, s.len) == 0;
}

/* Parser state: what auditctl's globals (_audit_syscalladded...) track. */
struct parse {
    const char *line;
    struct rule *r;
    int list_ops;      /* -a/-A/-d/-w/-W seen */
    bool listed;       /* -a/-A/-d seen: fields may follow */
    bool watched;      /* -w/-W seen */
    bool syscall_seen; /* -S or a watch: a key may follow */
    bool perm_seen;    /* -p or perm= */
    bool exe_seen;     /* exe= */
    bool rule_option;  /* any option that builds a rule */
    bool delete_all;   /* -D */
};

static int fail(struct parse *ps, struct rule_span at, int code)
{
    ps->r->error_offset = (size_t)(at.p - ps->line);
    return -code;
}

static bool copy_word(struct rule_span s, char *dst, size_t cap)
{
    if (s.len >= cap)
        return false;
    memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return true;
}

/* "always,exit" or "exit,always" (auditctl accepts both orders). */
static int parse_list_action(struct parse *ps, struct rule_span arg)
{
    char word[WORD_MAX];
    if (!copy_word(arg, word, sizeof(word)))
        return fail(ps, arg, RULE_ERR_LIST_ACTION);
    char *comma = strchr(word, ',');
    if (!comma || strchr(comma + 1, ','))
        return fail(ps, arg, RULE_ERR_LIST_ACTION);
    *comma = '\0';
    const char *parts[2] = {word, comma + 1};
    int list = -1, action = -1;
    for (int i = 0; i < 2; i++) {
        if (!strcmp(parts[i], "possible"))
            return fail(ps, arg, RULE_ERR_POSSIBLE);
        if (!strcmp(parts[i], "always") || !strcmp(parts[i], "never"))
            action = parts[i][0] == 'a';
        else
            list = audit_name_to_flag(parts[i]);
    }
    if (action < 0 || list < 0)
        return fail(ps, arg, RULE_ERR_LIST_ACTION);
    switch (list) {
    case AUDIT_FILTER_USER:
        ps->r->list = RULE_LIST_USER;
        break;
    case AUDIT_FILTER_TASK:
        ps->r->list = RULE_LIST_TASK;
        break;
    case AUDIT_FILTER_EXIT:
        ps->r->list = RULE_LIST_EXIT;
        break;
    case AUDIT_FILTER_EXCLUDE:
        ps->r->list = RULE_LIST_EXCLUDE;
        break;
    case AUDIT_FILTER_FS:
        ps->r->list = RULE_LIST_FILESYSTEM;
        break;
    default:
        return fail(ps, arg, RULE_ERR_LIST_ACTION);
    }
    ps->r->always = action == 1;
    return 0;
}

static int opt_list(struct parse *ps, char opt, struct rule_span arg)
{
    if (ps->watched)
        return fail(ps, arg, RULE_ERR_WATCH_AND_LIST);
    if (++ps->list_ops > 1)
        return fail(ps, arg, RULE_ERR_MULTIPLE);
    int rc = parse_list_action(ps, arg);
    if (rc < 0)
        return rc;
    if (ps->r->list == RULE_LIST_TASK && ps->syscall_seen)
        return fail(ps, arg, RULE_ERR_SYSCALL_LIST);
    ps->r->kind = RULE_SYSCALL;
    ps->r->verb = opt == 'a' ? RULE_ADD : opt == 'A' ? RULE_PREPEND : RULE_DELETE;
    ps->listed = true;
    return 0;
}

/* Names are letters, digits and '_' (auditctl matches them in any case and skips empty
 * items between commas, so "EXECVE" and "execve,,unlink" load). */
static int opt_syscall(struct parse *ps, struct rule_span arg)
{
    if (!ps->listed || ps->r->list != RULE_LIST_EXIT)
        return fail(ps, arg, RULE_ERR_SYSCALL_LIST);
    if (ps->r->n_syscalls == RULE_MAX_SYSCALL_ARGS)
        return fail(ps, arg, RULE_ERR_TOO_MANY);
    bool any = false;
    for (size_t i = 0; i < arg.len; i++) {
        char c = arg.p[i];
        if (c != ',' && !isalnum((unsigned char)c) && c != '_')
            return fail(ps, arg, RULE_ERR_SYSCALL_NAME);
        any |= c != ',';
    }
    if (!any)
        return fail(ps, arg, RULE_ERR_SYSCALL_NAME);
    ps->r->syscalls[ps->r->n_syscalls++] = arg;
    ps->syscall_seen = true;
    return 0;
}

static int add_key(struct parse *ps, struct rule_span key)
{
    size_t total = key.len;
    for (unsigned i = 0; i < ps->r->n_keys; i++)
        total += ps->r->keys[i].len + 1; /* + the separator auditctl inserts */
    if (key.len == 0)
        return fail(ps, key, RULE_ERR_MISSING_ARG);
    if (total > RULE_KEY_MAX || memchr(key.p, AUDIT_KEY_SEPARATOR, key.len))
        return fail(ps, key, RULE_ERR_KEY_TOO_LONG);
    if (ps->r->n_keys == RULE_MAX_KEYS)
        return fail(ps, key, RULE_ERR_TOO_MANY);
    ps->r->keys[ps->r->n_keys++] = key;
    return 0;
}

static int opt_key(struct parse *ps, struct rule_span arg)
{
    bool prior = ps->syscall_seen || ps->perm_seen || ps->exe_seen ||
                 (ps->listed && ps->r->list == RULE_LIST_FILESYSTEM);
    if (!ps->delete_all && (!prior || !(ps->listed || ps->watched)))
        return fail(ps, arg, RULE_ERR_KEY_WITHOUT_RULE);
    return add_key(ps, arg);
}

/* Permission letters of -p and perm=: "wa", "rwxa"... */
static int parse_perms(struct rule_span s, unsigned *bits)
{
    *bits = 0;
    if (s.len == 0 || s.len > 4)
        return -1;
    for (size_t i = 0; i < s.len; i++) {
        switch (tolower((unsigned char)s.p[i])) {
        case 'r':
            *bits |= RULE_PERM_R;
            break;
        case 'w':
            *bits |= RULE_PERM_W;
            break;
        case 'x':
            *bits |= RULE_PERM_X;
            break;
        case 'a':
            *bits |= RULE_PERM_A;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

static bool is_path(struct rule_span s)
{
    return s.len > 0 && s.len < PATH_MAX && s.p[0] == '/';
}

static int opt_watch(struct parse *ps, char opt, struct rule_span arg)
{
    if (ps->listed)
        return fail(ps, arg, RULE_ERR_WATCH_AND_LIST);
    if (++ps->list_ops > 1)
        return fail(ps, arg, RULE_ERR_MULTIPLE);
    if (!is_path(arg))
        return fail(ps, arg, RULE_ERR_PATH);
    ps->r->kind = RULE_WATCH;
    ps->r->verb = opt == 'w' ? RULE_WATCH_ADD : RULE_WATCH_DEL;
    ps->r->list = RULE_LIST_EXIT;
    ps->r->always = true;
    ps->r->path = arg;
    ps->watched = ps->syscall_seen = true;
    return 0;
}

static int opt_perm(struct parse *ps, struct rule_span arg)
{
    if (!ps->watched && !ps->listed)
        return fail(ps, arg, RULE_ERR_PERM_WITHOUT_WATCH);
    if (parse_perms(arg, &ps->r->perms) < 0)
        return fail(ps, arg, RULE_ERR_PERM);
    ps->perm_seen = true;
    return 0;
}

static int opt_control(struct parse *ps, struct rule_span option, struct rule_span arg)
{
    if (ps->r->n_controls == RULE_MAX_CONTROLS)
        return fail(ps, option, RULE_ERR_TOO_MANY);
    ps->r->controls[ps->r->n_controls++] = (struct rule_control){option, arg};
    return 0;
}

/* -F/-C operators, longest first so "<=" wins over "<". */
static const struct {
    const char *text;
    enum rule_op op;
} operators[] = {
    {"!=", RULE_OP_NE}, {"<=", RULE_OP_LE}, {">=", RULE_OP_GE}, {"&=", RULE_OP_ANDEQ},
    {"=", RULE_OP_EQ},  {"<", RULE_OP_LT},  {">", RULE_OP_GT},  {"&", RULE_OP_AND},
};

/* Splits "name<op>value"; returns false when there is no operator. */
static bool split_pair(struct rule_span arg, struct rule_field *f)
{
    size_t n = 0;
    while (n < arg.len && (isalnum((unsigned char)arg.p[n]) || arg.p[n] == '_'))
        n++;
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        size_t ol = strlen(operators[i].text);
        if (arg.len - n >= ol && !memcmp(arg.p + n, operators[i].text, ol)) {
            f->name = (struct rule_span){arg.p, n};
            f->op = operators[i].op;
            f->value = (struct rule_span){arg.p + n + ol, arg.len - n - ol};
            return true;
        }
    }
    return false;
}

static int lookup_field(struct rule_span name)
{
    char word[WORD_MAX];
    if (name.len == 0 || !copy_word(name, word, sizeof(word)))
        return -1;
    return audit_name_to_field(word);
}

/* Decimal, negative or 0x-hex integer filling the whole span. */
static bool is_number(struct rule_span v)
{
    char word[WORD_MAX], *end;
    if (v.len == 0 || !copy_word(v, word, sizeof(word)))
        return false;
    if (!isdigit((unsigned char)word[0]) && !(word[0] == '-' && isdigit((unsigned char)word[1])))
        return false;
    errno = 0;
    (void)strtoll(word, &end, 0);
    return errno == 0 && *end == '\0';
}

/* A user or group: number, "unset" or a name (resolved by auditctl, not here). */
static bool is_id(struct rule_span v)
{
    if (is_number(v) || rule_span_is(v, "unset"))
        return true;
    if (v.len == 0 || !(islower((unsigned char)v.p[0]) || v.p[0] == '_'))
        return false;
    for (size_t i = 1; i < v.len; i++)
        if (!isalnum((unsigned char)v.p[i]) && !strchr("_.-$", v.p[i]))
            return false;
    return true;
}

/* exit=: a number, or an errno name with or without '-' ("-EACCES"). */
static bool is_exit_value(struct rule_span v)
{
    char word[WORD_MAX];
    if (is_number(v))
        return true;
    if (!copy_word(v, word, sizeof(word)))
        return false;
    return audit_name_to_errno(word[0] == '-' ? word + 1 : word) > 0;
}

static bool is_name_in(struct rule_span v, int (*lookup)(const char *))
{
    char word[WORD_MAX];
    return copy_word(v, word, sizeof(word)) && lookup(word) >= 0;
}

static bool is_arch(struct rule_span v)
{
    char word[WORD_MAX];
    if (!copy_word(v, word, sizeof(word)))
        return false;
    return !strcmp(word, "b64") || !strcmp(word, "b32") || audit_name_to_machine(word) >= 0;
}

static bool equality_only(int field)
{
    switch (field) {
    case AUDIT_ARCH:
    case AUDIT_WATCH:
    case AUDIT_DIR:
    case AUDIT_EXE:
    case AUDIT_PERM:
    case AUDIT_FILETYPE:
    case AUDIT_FSTYPE:
    case AUDIT_SUBJ_USER:
    case AUDIT_SUBJ_ROLE:
    case AUDIT_SUBJ_TYPE:
    case AUDIT_SUBJ_SEN:
    case AUDIT_SUBJ_CLR:
    case AUDIT_OBJ_USER:
    case AUDIT_OBJ_ROLE:
    case AUDIT_OBJ_TYPE:
    case AUDIT_OBJ_LEV_LOW:
    case AUDIT_OBJ_LEV_HIGH:
        return true;
    default:
        return false;
    }
}

static bool exit_list_only(int field)
{
    switch (field) {
    case AUDIT_WATCH:
    case AUDIT_DIR:
    case AUDIT_EXE:
    case AUDIT_PERM:
    case AUDIT_FILETYPE:
    case AUDIT_EXIT:
    case AUDIT_SUCCESS:
        return true;
    default:
        return false;
    }
}

/* The value's shape for its field; 0 or a RULE_ERR_* code. */
static int value_error(const struct rule_field *f)
{
    struct rule_span v = f->value;
    switch (f->field) {
    case AUDIT_ARCH:
        return is_arch(v) ? 0 : RULE_ERR_ARCH;
    case AUDIT_UID:
    case AUDIT_EUID:
    case AUDIT_SUID:
    case AUDIT_FSUID:
    case AUDIT_LOGINUID:
    case AUDIT_OBJ_UID:
    case AUDIT_GID:
    case AUDIT_EGID:
    case AUDIT_SGID:
    case AUDIT_FSGID:
    case AUDIT_OBJ_GID:
        return is_id(v) ? 0 : RULE_ERR_VALUE;
    case AUDIT_WATCH:
    case AUDIT_DIR:
    case AUDIT_EXE:
        return is_path(v) ? 0 : RULE_ERR_PATH;
    case AUDIT_PERM: {
        unsigned bits;
        return parse_perms(v, &bits) < 0 ? RULE_ERR_PERM : 0;
    }
    case AUDIT_EXIT:
        return is_exit_value(v) ? 0 : RULE_ERR_VALUE;
    case AUDIT_MSGTYPE:
        return is_number(v) || is_name_in(v, audit_name_to_msg_type) ? 0 : RULE_ERR_VALUE;
    case AUDIT_FILETYPE:
        return is_name_in(v, audit_name_to_ftype) ? 0 : RULE_ERR_VALUE;
    case AUDIT_FSTYPE:
        return is_name_in(v, audit_name_to_fstype) ? 0 : RULE_ERR_VALUE;
    case AUDIT_SUBJ_USER:
    case AUDIT_SUBJ_ROLE:
    case AUDIT_SUBJ_TYPE:
    case AUDIT_SUBJ_SEN:
    case AUDIT_SUBJ_CLR:
    case AUDIT_OBJ_USER:
    case AUDIT_OBJ_ROLE:
    case AUDIT_OBJ_TYPE:
    case AUDIT_OBJ_LEV_LOW:
    case AUDIT_OBJ_LEV_HIGH:
        return 0; /* SELinux contexts: any text */
    default:
        return is_number(v) ? 0 : RULE_ERR_VALUE;
    }
}

static int check_field(struct parse *ps, const struct rule_field *f, struct rule_span arg)
{
    if (f->field == AUDIT_ARCH && ps->syscall_seen)
        return fail(ps, arg, RULE_ERR_ARCH_AFTER_SYSCALL);
    if (equality_only(f->field) && f->op != RULE_OP_EQ && f->op != RULE_OP_NE)
        return fail(ps, arg, RULE_ERR_OPERATOR);
    if (exit_list_only(f->field) && ps->r->list != RULE_LIST_EXIT)
        return fail(ps, arg, RULE_ERR_EXIT_ONLY);
    if (f->field == AUDIT_MSGTYPE && ps->r->list != RULE_LIST_EXCLUDE)
        return fail(ps, arg, RULE_ERR_EXCLUDE_ONLY);
    int e = value_error(f);
    return e ? fail(ps, f->value, e) : 0;
}

static int opt_field(struct parse *ps, struct rule_span arg)
{
    struct rule_field f = {0};
    if (!ps->listed)
        return fail(ps, arg, RULE_ERR_FIELD_BEFORE_LIST);
    if (!split_pair(arg, &f) || f.name.len == 0 || f.value.len == 0)
        return fail(ps, arg, RULE_ERR_FIELD_SYNTAX);
    if (rule_span_is(f.name, "key")) {
        if (f.op != RULE_OP_EQ)
            return fail(ps, arg, RULE_ERR_OPERATOR);
        return add_key(ps, f.value); /* auditctl skips the -k order check here */
    }
    f.field = lookup_field(f.name);
    if (f.field < 0)
        return fail(ps, arg, RULE_ERR_UNKNOWN_FIELD);
    int rc = check_field(ps, &f, arg);
    if (rc < 0)
        return rc;
    if (ps->r->n_fields == RULE_MAX_FIELDS)
        return fail(ps, arg, RULE_ERR_TOO_MANY);
    ps->r->fields[ps->r->n_fields++] = f;
    if (f.field == AUDIT_PERM) {
        ps->perm_seen = true;
        (void)parse_perms(f.value, &ps->r->perms);
    }
    ps->exe_seen |= f.field == AUDIT_EXE;
    return 0;
}

static int opt_compare(struct parse *ps, struct rule_span arg)
{
    struct rule_field f = {.compare = true};
    if (!ps->listed)
        return fail(ps, arg, RULE_ERR_FIELD_BEFORE_LIST);
    if (!split_pair(arg, &f) || (f.op != RULE_OP_EQ && f.op != RULE_OP_NE))
        return fail(ps, arg, RULE_ERR_COMPARE);
    f.field = lookup_field(f.name);
    if (f.field < 0 || lookup_field(f.value) < 0)
        return fail(ps, arg, RULE_ERR_COMPARE);
    if (ps->r->n_fields == RULE_MAX_FIELDS)
        return fail(ps, arg, RULE_ERR_TOO_MANY);
    ps->r->fields[ps->r->n_fields++] = f;
    return 0;
}

/* -e and -f take 0, 1 or 2; -b, -r and --backlog_wait_time a number. */
static int check_control_value(struct parse *ps, char opt, struct rule_span arg)
{
    if (opt == 'e' || opt == 'f') {
        if (arg.len != 1 || arg.p[0] < '0' || arg.p[0] > '2')
            return fail(ps, arg, RULE_ERR_CONTROL_VALUE);
    } else if (!is_number(arg) || arg.p[0] == '-') {
        return fail(ps, arg, RULE_ERR_CONTROL_VALUE);
    }
    return 0;
}

static int short_option(struct parse *ps, char opt, struct rule_span word, struct rule_span arg)
{
    switch (opt) {
    case 'a':
    case 'A':
    case 'd':
        ps->rule_option = true;
        return opt_list(ps, opt, arg);
    case 'S':
        ps->rule_option = true;
        return opt_syscall(ps, arg);
    case 'F':
        ps->rule_option = true;
        return opt_field(ps, arg);
    case 'C':
        ps->rule_option = true;
        return opt_compare(ps, arg);
    case 'w':
    case 'W':
        ps->rule_option = true;
        return opt_watch(ps, opt, arg);
    case 'p':
        ps->rule_option = true;
        return opt_perm(ps, arg);
    case 'k':
        return opt_key(ps, arg);
    case 'e':
    case 'f':
    case 'b':
    case 'r': {
        int rc = check_control_value(ps, opt, arg);
        return rc < 0 ? rc : opt_control(ps, word, arg);
    }
    case 'D':
        ps->delete_all = true;
        return opt_control(ps, word, arg);
    case 'R':
        return fail(ps, word, RULE_ERR_NESTED_FILE);
    case 'm':
    case 'q':
    case 'h':
    case 'i':
    case 'c':
    case 's':
    case 'l':
    case 'v':
    case 't':
        return opt_control(ps, word, arg);
    default:
        return fail(ps, word, RULE_ERR_UNKNOWN_OPTION);
    }
}

static bool takes_value(char opt)
{
    return opt && strchr("CefrbaAdSFmRwWkpq", opt);
}

/* Long options of auditctl; `value` says whether one follows. */
static const struct {
    const char *name;
    bool value;
} long_options[] = {
    {"loginuid-immutable", false},
    {"backlog_wait_time", true},
    {"reset-lost", false},
    {"reset_backlog_wait_time_actual", false},
    {"signal", true},
};

/* Word iterator over (p, len): words are separated by spaces only. */
struct words {
    const char *p, *end;
};

static bool next_word(struct words *w, struct rule_span *out)
{
    while (w->p < w->end && *w->p == ' ')
        w->p++;
    if (w->p == w->end)
        return false;
    const char *s = w->p;
    while (w->p < w->end && *w->p != ' ')
        w->p++;
    *out = (struct rule_span){s, (size_t)(w->p - s)};
    return true;
}

static int long_option(struct parse *ps, struct rule_span word, struct words *w)
{
    struct rule_span name = {word.p + 2, word.len - 2}, arg = {word.p + word.len, 0};
    const char *eq = memchr(name.p, '=', name.len);
    if (eq) {
        arg = (struct rule_span){eq + 1, (size_t)(name.p + name.len - eq - 1)};
        name.len = (size_t)(eq - name.p);
    }
    for (size_t i = 0; i < sizeof(long_options) / sizeof(long_options[0]); i++) {
        if (!rule_span_is(name, long_options[i].name))
            continue;
        if (long_options[i].value && !eq && !next_word(w, &arg))
            return fail(ps, word, RULE_ERR_MISSING_ARG);
        if (!long_options[i].value && eq)
            return fail(ps, word, RULE_ERR_STRAY_WORD);
        if (!strcmp(long_options[i].name, "backlog_wait_time")) {
            int rc = check_control_value(ps, 'b', arg);
            if (rc < 0)
                return rc;
        }
        return opt_control(ps, word, arg);
    }
    return fail(ps, word, RULE_ERR_UNKNOWN_OPTION);
}

/* A cluster of short options ("-D", "-kkey", "-F" "auid>=1000"). */
static int short_options(struct parse *ps, struct rule_span word, struct words *w)
{
    for (size_t i = 1; i < word.len; i++) {
        char opt = word.p[i];
        struct rule_span arg = {word.p + word.len, 0};
        struct rule_span optspan = {word.p + i - 1, 2};
        if (takes_value(opt)) {
            if (i + 1 < word.len)
                arg = (struct rule_span){word.p + i + 1, word.len - i - 1};
            else if (!next_word(w, &arg))
                return fail(ps, word, RULE_ERR_MISSING_ARG);
            return short_option(ps, opt, optspan, arg);
        }
        int rc = short_option(ps, opt, optspan, arg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Whole-line checks after all options were read. */
static int finish(struct parse *ps, struct rule_span first)
{
    struct rule *r = ps->r;
    if (ps->delete_all && (ps->rule_option || r->n_controls != 1))
        return fail(ps, first, RULE_ERR_CONTROL_AND_RULE);
    if (r->n_controls && ps->rule_option)
        return fail(ps, first, RULE_ERR_CONTROL_AND_RULE);
    if (r->n_controls)
        r->kind = RULE_CONTROL;
    return 0;
}

int rule_parse_line(const char *p, size_t len, struct rule *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = RULE_BLANK;
    out->perms = RULE_PERM_ALL;
    struct parse ps = {.line = p, .r = out};
    struct words w = {p, p + len};
    struct rule_span word, first;
    if (len > RULE_LINE_MAX)
        return fail(&ps, (struct rule_span){p, len}, RULE_ERR_LINE_TOO_LONG);
    if (!next_word(&w, &first) || first.p[0] == '#')
        return 0;
    const char *bad = memchr(first.p, '\t', (size_t)(p + len - first.p));
    if (bad)
        return fail(&ps, (struct rule_span){bad, 1}, RULE_ERR_TAB);
    if ((bad = memchr(first.p, '\r', (size_t)(p + len - first.p))))
        return fail(&ps, (struct rule_span){bad, 1}, RULE_ERR_CR);
    w.p = first.p;
    while (next_word(&w, &word)) {
        int rc;
        if (word.len >= 2 && word.p[0] == '-' && word.p[1] == '-')
            rc = long_option(&ps, word, &w);
        else if (word.len >= 2 && word.p[0] == '-')
            rc = short_options(&ps, word, &w);
        else
            rc = fail(&ps, word, RULE_ERR_STRAY_WORD);
        if (rc < 0)
            return rc;
    }
    return finish(&ps, first);
}

bool rule_next_syscall(const struct rule *r, size_t *pos, struct rule_span *name)
{
    size_t arg = *pos / SYSCALL_POS_STRIDE, off = *pos % SYSCALL_POS_STRIDE;
    for (;;) {
        while (arg < r->n_syscalls && off >= r->syscalls[arg].len) {
            arg++;
            off = 0;
        }
        if (arg >= r->n_syscalls)
            return false;
        struct rule_span s = r->syscalls[arg];
        const char *comma = memchr(s.p + off, ',', s.len - off);
        size_t end = comma ? (size_t)(comma - s.p) : s.len;
        *pos = arg * SYSCALL_POS_STRIDE + end + 1;
        if (end > off) { /* empty items between commas are skipped, as auditctl does */
            *name = (struct rule_span){s.p + off, end - off};
            return true;
        }
        off = end + 1;
    }
}

bool rule_syscall_name(struct rule_span s, char *out, size_t cap)
{
    if (s.len >= cap)
        return false;
    for (size_t i = 0; i < s.len; i++)
        out[i] = (char)tolower((unsigned char)s.p[i]);
    out[s.len] = '\0';
    return true;
}

const struct rule_field *rule_find_field(const struct rule *r, int field)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (!r->fields[i].compare && r->fields[i].field == field)
            return &r->fields[i];
    return NULL;
}
