/*
 * rule_parse: one line of auditctl's rule syntax, as found in
 * the files of /etc/audit/rules.d and in `auditctl -l` output, parsed into a
 * struct rule without allocation. It checks what auditctl checks before it
 * talks to the kernel (option order, list/action words, field names,
 * operators and value shapes); it does not resolve syscall names, which
 * depend on the arch (see rule_arch and rule_lint).
 */
#ifndef LW_RULES_RULE_PARSE_H
#define LW_RULES_RULE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define RULE_LINE_MAX         6143 /* auditctl reads rule lines into 6144 bytes */
#define RULE_MAX_FIELDS       64   /* the kernel's AUDIT_MAX_FIELDS */
#define RULE_MAX_SYSCALL_ARGS 64   /* -S words on one line (each a comma list) */
#define RULE_MAX_KEYS         32
#define RULE_KEY_MAX          256 /* AUDIT_MAX_KEY_LEN: all keys with separators */
#define RULE_MAX_CONTROLS     8

/* Parse errors: X(name, message). Codes sit above errno values. */
#define RULE_ERRORS(X)                                                                             \
    X(RULE_ERR_TAB, "tab character: auditctl splits words on spaces only")                         \
    X(RULE_ERR_CR, "carriage return: the file has DOS line endings")                               \
    X(RULE_ERR_LINE_TOO_LONG, "line longer than auditctl reads (6143 bytes)")                      \
    X(RULE_ERR_UNKNOWN_OPTION, "unknown option")                                                   \
    X(RULE_ERR_MISSING_ARG, "option needs a value")                                                \
    X(RULE_ERR_STRAY_WORD, "word without an option before it")                                     \
    X(RULE_ERR_LIST_ACTION, "-a/-A/-d need list,action (e.g. always,exit)")                        \
    X(RULE_ERR_POSSIBLE, "action 'possible' is deprecated and ignored")                            \
    X(RULE_ERR_MULTIPLE, "more than one -a/-A/-d/-w/-W on a line")                                 \
    X(RULE_ERR_WATCH_AND_LIST, "-w/-W cannot be combined with -a/-A/-d")                           \
    X(RULE_ERR_SYSCALL_LIST, "-S needs -a/-A/-d with the exit list before it")                     \
    X(RULE_ERR_SYSCALL_NAME, "-S needs syscall names or numbers separated by commas")              \
    X(RULE_ERR_FIELD_BEFORE_LIST, "-F/-C need -a/-A/-d before them")                               \
    X(RULE_ERR_FIELD_SYNTAX, "-F needs field, operator and value (e.g. auid>=1000)")               \
    X(RULE_ERR_UNKNOWN_FIELD, "unknown field name")                                                \
    X(RULE_ERR_OPERATOR, "this field takes only = or !=")                                          \
    X(RULE_ERR_VALUE, "bad value for this field")                                                  \
    X(RULE_ERR_ARCH, "unknown arch (b64, b32 or a machine name such as x86_64)")                   \
    X(RULE_ERR_ARCH_AFTER_SYSCALL, "arch= must come before -S")                                    \
    X(RULE_ERR_EXIT_ONLY, "this field can only be used on the exit list")                          \
    X(RULE_ERR_EXCLUDE_ONLY, "msgtype can only be used on the exclude list")                       \
    X(RULE_ERR_TOO_MANY, "too many fields, syscalls or keys on one line")                          \
    X(RULE_ERR_KEY_WITHOUT_RULE, "-k needs a watch or syscall given before it")                    \
    X(RULE_ERR_KEY_TOO_LONG, "keys longer than 256 bytes in all")                                  \
    X(RULE_ERR_PERM_WITHOUT_WATCH, "-p needs a watch given before it")                             \
    X(RULE_ERR_PERM, "permissions are letters of r, w, x and a")                                   \
    X(RULE_ERR_PATH, "a watched path must be absolute")                                            \
    X(RULE_ERR_CONTROL_VALUE, "bad value for this setting")                                        \
    X(RULE_ERR_CONTROL_AND_RULE, "a setting (-b, -e, -f, -D...) mixed with a rule")                \
    X(RULE_ERR_NESTED_FILE, "-R: auditctl does not read nested rule files")                        \
    X(RULE_ERR_COMPARE, "-C needs field, = or != and field (e.g. auid!=obj_uid)")

enum {
    RULE_ERR_BASE = 20000,
#define RULE_ERR_ENUM(name, text) name,
    RULE_ERRORS(RULE_ERR_ENUM)
#undef RULE_ERR_ENUM
        RULE_ERR_LAST
};

/* Message for a RULE_ERR_* code (or "unknown error"). */
const char *rule_parse_strerror(int code);

/* A part of the parsed line; points into the caller's text. */
struct rule_span {
    const char *p;
    size_t len;
};

enum rule_kind {
    RULE_BLANK,   /* empty line or comment */
    RULE_SYSCALL, /* -a/-A/-d list,action with -S, -F, -C, -k */
    RULE_WATCH,   /* -w/-W path with -p and -k */
    RULE_CONTROL, /* settings and commands: -D -b -f -e -r --backlog_wait_time ... */
};

enum rule_verb { RULE_ADD, RULE_PREPEND, RULE_DELETE, RULE_WATCH_ADD, RULE_WATCH_DEL };

enum rule_list {
    RULE_LIST_USER,
    RULE_LIST_TASK,
    RULE_LIST_EXIT,
    RULE_LIST_EXCLUDE,
    RULE_LIST_FILESYSTEM,
};

enum rule_op {
    RULE_OP_EQ,
    RULE_OP_NE,
    RULE_OP_LT,
    RULE_OP_GT,
    RULE_OP_LE,
    RULE_OP_GE,
    RULE_OP_AND,
    RULE_OP_ANDEQ
};

/* Permission bits of -p and perm= (the kernel's AUDIT_PERM_* values). */
enum { RULE_PERM_X = 1, RULE_PERM_W = 2, RULE_PERM_R = 4, RULE_PERM_A = 8, RULE_PERM_ALL = 15 };

struct rule_field {
    struct rule_span name, value; /* for -C, value is the right-hand field name */
    int field;                    /* libaudit's AUDIT_* field number */
    enum rule_op op;
    bool compare; /* given with -C */
};

/* A setting or command: the option ("-b", "--backlog_wait_time", ...) and its value. */
struct rule_control {
    struct rule_span option, value; /* value.len == 0 when the option takes none */
};

struct rule {
    enum rule_kind kind;
    enum rule_verb verb;
    enum rule_list list;
    bool always;                                      /* action: always (true) or never */
    struct rule_span syscalls[RULE_MAX_SYSCALL_ARGS]; /* -S words, each a comma list */
    unsigned n_syscalls;
    struct rule_field fields[RULE_MAX_FIELDS]; /* -F and -C in order, key= excluded */
    unsigned n_fields;
    struct rule_span keys[RULE_MAX_KEYS]; /* -k and -F key= */
    unsigned n_keys;
    struct rule_span path; /* -w/-W */
    unsigned perms;        /* -p bits; RULE_PERM_ALL when -p is absent */
    struct rule_control controls[RULE_MAX_CONTROLS];
    unsigned n_controls;
    size_t error_offset; /* byte offset of the failing word when parsing failed */
};

/*
 * Parses one line (p, len), without its newline, into *out. Returns 0 or a
 * negative RULE_ERR_* code with out->error_offset set. The spans in *out
 * point into p; out only borrows it.
 */
int rule_parse_line(const char *p, size_t len, struct rule *out);

/*
 * Iterates the syscall names of a rule across its -S words and their
 * commas: start with *pos = 0; returns true and sets *name while names
 * remain.
 */
bool rule_next_syscall(const struct rule *r, size_t *pos, struct rule_span *name);

/* Copies a syscall name lower-cased (auditctl matches any case). False if it does not fit. */
bool rule_syscall_name(struct rule_span s, char *out, size_t cap);

/* The first field numbered `field` (e.g. AUDIT_ARCH), or NULL. */
const struct rule_field *rule_find_field(const struct rule *r, int field);

/* True when the span equals the NUL-terminated string s. */
bool rule_span_is(struct rule_span s, const char *str);

#endif
