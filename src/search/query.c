/*
 * query: ausearch's options parsed into a search_query, and the match of a
 * collated event against it (see query.h). The values each option tests are
 * gathered per event from the records ausearch takes them from, in a table by
 * record class (`record_class`, `takes`): the same record types, the same
 * "first in a record, last record wins" order, the same value forms (quoted,
 * hex, `(null)`). Everything is borrowed from the event or decoded into one
 * scratch buffer reserved per event, so matching does not allocate per field.
 *
 * It does not read input or format output (cli/cmd_search.c), and it does
 * not reproduce ausearch's dropping of events it finds malformed (AppArmor
 * AVCs without tclass=): those are listed differences (docs/search.md).
 */
#include "search/query.h"

#include "audit/audit_tables.h"
#include "audit/sockaddr.h"
#include "base/buf.h"
#include "base/hex.h"
#include "search/timewords.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <libaudit.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parsing */

enum opt_id {
    O_EVENT,
    O_FILE,
    O_HOST,
    O_INTERPRET,
    O_INPUT,
    O_KEY,
    O_MESSAGE,
    O_NODE,
    O_PID,
    O_PPID,
    O_RAW,
    O_FORMAT,
    O_SYSCALL,
    O_SESSION,
    O_SUCCESS,
    O_START,
    O_END,
    O_TERMINAL,
    O_UID_ALL,
    O_UID_EFF,
    O_UID,
    O_LOGINUID,
    O_WORD,
    O_EXE,
    O_LOCAL_NAMES,
    O_UTC,
    O_QUIET,
    O_STATS,
    O_HELP,
    O_VERSION,
    O_LINE_BUFFERED,
    O_NO_INDEX,
    O_PROGRAM,
    O_GREP,
};

struct opt {
    const char *short_name, *long_name;
    enum opt_id id;
    bool value;
};

static const struct opt opts[] = {
    {"-a", "--event", O_EVENT, true},
    {"-f", "--file", O_FILE, true},
    {"-hn", "--host", O_HOST, true},
    {"-i", "--interpret", O_INTERPRET, false},
    {"-if", "--input", O_INPUT, true},
    {"-k", "--key", O_KEY, true},
    {"-m", "--message", O_MESSAGE, true},
    {"-n", "--node", O_NODE, true},
    {"-p", "--pid", O_PID, true},
    {"-pp", "--ppid", O_PPID, true},
    {"-r", "--raw", O_RAW, false},
    {NULL, "--format", O_FORMAT, true},
    {"-sc", "--syscall", O_SYSCALL, true},
    {NULL, "--session", O_SESSION, true},
    {"-sv", "--success", O_SUCCESS, true},
    {"-ts", "--start", O_START, true},
    {"-te", "--end", O_END, true},
    {"-tm", "--terminal", O_TERMINAL, true},
    {"-ua", "--uid-all", O_UID_ALL, true},
    {"-ue", "--uid-effective", O_UID_EFF, true},
    {"-ui", "--uid", O_UID, true},
    {"-ul", "--loginuid", O_LOGINUID, true},
    {"-w", "--word", O_WORD, false},
    {"-x", "--executable", O_EXE, true},
    {NULL, "--local-names", O_LOCAL_NAMES, false},
    {NULL, "--utc", O_UTC, false},
    {"-q", "--quiet", O_QUIET, false},
    {NULL, "--stats", O_STATS, false},
    {"-h", "--help", O_HELP, false},
    {"-v", "--version", O_VERSION, false},
    {"-l", "--line-buffered", O_LINE_BUFFERED, false},
    {NULL, "--no-index", O_NO_INDEX, false},
    {NULL, "--program", O_PROGRAM, true},
    {NULL, "--grep", O_GREP, true},
};

static const struct {
    const char *name;
    enum search_format format;
} formats[] = {
    {"raw", SEARCH_FORMAT_RAW},
    {"default", SEARCH_FORMAT_DEFAULT},
    {"interpret", SEARCH_FORMAT_INTERPRET},
    {"csv", SEARCH_FORMAT_CSV},
    {"text", SEARCH_FORMAT_TEXT},
    {"json", SEARCH_FORMAT_JSON},
};

struct parse_state {
    struct search_options *o;
    char *err;
    time_t now;
};

static int bad(struct parse_state *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct parse_state *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, SEARCH_ERR_MAX, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A whole decimal number, optionally negative; ids are taken modulo 2^32 as
 * the kernel writes them (-1 is 4294967295). */
static bool parse_number(const char *s, bool id, int64_t *out)
{
    char *end;
    if (!s[0] || !(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = id ? (int64_t)(uint32_t)v : v;
    return true;
}

static int parse_user(struct parse_state *ps, const char *opt, const char *v, int64_t *id,
                      const char **name)
{
    if (parse_number(v, true, id))
        return 0;
    struct passwd *pw = getpwnam(v);
    if (!pw)
        return bad(ps, "%s: '%s' is neither a number nor an account of this machine", opt, v);
    *id = pw->pw_uid;
    *name = v;
    return 0;
}

static int parse_types(struct parse_state *ps, const char *opt, const char *v)
{
    struct search_query *q = &ps->o->q;
    const char *p = v;
    if (!strcasecmp(v, "ALL"))
        return 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        char word[64];
        int64_t num;
        if (n == 0 || n >= sizeof(word))
            return bad(ps, "%s: bad record type list '%s' (names or numbers separated by commas)",
                       opt, v);
        memcpy(word, p, n);
        word[n] = 0;
        int t = parse_number(word, false, &num) && num > 0 && num < 100000
                    ? (int)num
                    : audit_name_to_msg_type(word);
        if (t <= 0)
            return bad(ps,
                       "%s: unknown record type '%s' (give a type as written after type=, "
                       "e.g. SYSCALL or USER_LOGIN, a number, or ALL)",
                       opt, word);
        if (q->ntypes == SEARCH_MAX_TYPES)
            return bad(ps, "%s: more than the %s record types allowed", opt, "256");
        q->types[q->ntypes++] = t;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int parse_syscall(struct parse_state *ps, const char *opt, const char *v)
{
    int64_t n;
    if (parse_number(v, false, &n) && n >= 0) {
        ps->o->q.syscall = n;
        return 0;
    }
    int machine = audit_detect_machine();
    int nr = machine < 0 ? -1 : audit_name_to_syscall(v, machine);
    if (nr < 0)
        return bad(ps, "%s: unknown syscall '%s' for this machine's arch (give a name or number)",
                   opt, v);
    ps->o->q.syscall = nr;
    return 0;
}

/* -ts/-te take one or two words: [DATE|KEYWORD] [TIME], in either order. The
 * second word is taken only when it looks like the missing half, so a PATH
 * can follow. Returns the number of extra words used, or -EINVAL. */
static int parse_time(struct parse_state *ps, const char *opt, char **argv, int i, int argc,
                      bool start)
{
    const char *a = argv[i], *b = i + 1 < argc ? argv[i + 1] : NULL;
    const char *date = NULL, *tod = NULL;
    int used = 0;
    if (timewords_is_time(a)) {
        tod = a;
        struct tm tmp = {0};
        const char *e = b ? strptime(b, "%x", &tmp) : NULL;
        if (b && (timewords_is_keyword(b) || (e && !*e)))
            date = b, used = 1;
    } else {
        date = a;
        if (b && timewords_is_time(b) && b[0] != '-')
            tod = b, used = 1;
    }
    if (!tod && timewords_is_keyword(date))
        tod = "00:00:00"; /* as ausearch 3.0.9: a word alone is its day at midnight */
    char msg[SEARCH_ERR_MAX - 32];
    time_t t;
    if (timewords_parse(date, tod, start ? TIMEWORDS_START : TIMEWORDS_END, ps->now, &t, msg,
                        sizeof(msg)) < 0)
        return bad(ps, "%s: %s", opt, msg);
    if (start)
        ps->o->q.has_start = true, ps->o->q.start = t;
    else
        ps->o->q.has_end = true, ps->o->q.end = t;
    return used;
}

static int set_format(struct parse_state *ps, enum search_format f, const char *opt)
{
    if (ps->o->format_set && ps->o->format != f)
        return bad(ps, "%s: conflicts with an output format given before%s", opt, "");
    ps->o->format = f;
    ps->o->format_set = true;
    return 0;
}

static int set_format_name(struct parse_state *ps, const char *v)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(v, formats[i].name) ||
            (formats[i].format == SEARCH_FORMAT_INTERPRET && !strncmp(v, "interp", 6)))
            return set_format(ps, formats[i].format, "--format");
    return bad(ps, "--format: unknown format '%s' (raw, default, interpret, csv, text or json)%s",
               v, "");
}

static int add_path(struct parse_state *ps, const char *p)
{
    if (ps->o->npaths == SEARCH_MAX_PATHS)
        return bad(ps, "more than %s paths%s", "4096", "");
    ps->o->paths[ps->o->npaths++] = p;
    return 0;
}

/* Applies one option with its value v (NULL for flags). Returns extra words
 * consumed beyond v (only -ts/-te), or -EINVAL. */
static int apply(struct parse_state *ps, const struct opt *op, const char *name, const char *v,
                 char **argv, int vi, int argc)
{
    struct search_query *q = &ps->o->q;
    struct search_options *o = ps->o;
    int64_t n;
    switch (op->id) {
    case O_EVENT:
    case O_PID:
    case O_PPID:
    case O_SESSION: {
        bool id = op->id == O_SESSION || op->id == O_EVENT;
        if (!parse_number(v, id, &n) || (!id && n < 0))
            return bad(ps, "%s: '%s' is not a number", name, v);
        *(op->id == O_EVENT  ? &q->event_id
          : op->id == O_PID  ? &q->pid
          : op->id == O_PPID ? &q->ppid
                             : &q->session) = n;
        return 0;
    }
    case O_FILE:
        q->file = v;
        return 0;
    case O_HOST:
        q->host = v;
        return 0;
    case O_KEY:
        q->key = v;
        return 0;
    case O_TERMINAL:
        q->terminal = v;
        return 0;
    case O_EXE:
        q->exe = v;
        return 0;
    case O_INPUT:
        return add_path(ps, v);
    case O_MESSAGE:
        return parse_types(ps, name, v);
    case O_NODE:
        if (q->nnodes == SEARCH_MAX_NODES)
            return bad(ps, "%s: more than %s nodes", name, "256");
        q->nodes[q->nnodes++] = v;
        return 0;
    case O_SYSCALL:
        return parse_syscall(ps, name, v);
    case O_SUCCESS:
        if (strcmp(v, "yes") && strcmp(v, "no"))
            return bad(ps, "%s: '%s' is not yes or no", name, v);
        q->success = !strcmp(v, "yes");
        return 0;
    case O_START:
    case O_END:
        return parse_time(ps, name, argv, vi, argc, op->id == O_START);
    case O_UID_ALL: {
        const char *nm = NULL;
        int r = parse_user(ps, name, v, &q->uid, &nm);
        q->euid = q->auid = q->uid;
        q->uid_name = q->euid_name = q->auid_name = nm;
        q->uid_all = true;
        return r;
    }
    case O_UID:
        return parse_user(ps, name, v, &q->uid, &q->uid_name);
    case O_UID_EFF:
        return parse_user(ps, name, v, &q->euid, &q->euid_name);
    case O_LOGINUID:
        return parse_user(ps, name, v, &q->auid, &q->auid_name);
    case O_INTERPRET:
        return set_format(ps, SEARCH_FORMAT_INTERPRET, name);
    case O_RAW:
        return set_format(ps, SEARCH_FORMAT_RAW, name);
    case O_FORMAT:
        return set_format_name(ps, v);
    case O_WORD:
        q->exact = true;
        return 0;
    case O_LOCAL_NAMES:
        o->local_names = true;
        return 0;
    case O_UTC:
        o->utc = true;
        return 0;
    case O_QUIET:
        o->quiet = true;
        return 0;
    case O_STATS:
        o->stats = true;
        return 0;
    case O_HELP:
        o->help = true;
        return 0;
    case O_VERSION:
        o->version = true;
        return 0;
    case O_LINE_BUFFERED:
        o->line_buffered = true;
        return 0;
    case O_NO_INDEX:
        o->no_index = true;
        return 0;
    case O_PROGRAM:
        if (o->nprograms == SEARCH_MAX_PROGRAMS)
            return bad(ps, "%s: more than %s programs", name, "64");
        o->programs[o->nprograms++] = v;
        return 0;
    case O_GREP:
        o->grep = v;
        return 0;
    }
    return 0;
}

static const struct opt *find_opt(const char *arg, size_t len)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const char *s = opts[i].short_name, *l = opts[i].long_name;
        if ((s && strlen(s) == len && !strncmp(arg, s, len)) ||
            (strlen(l) == len && !strncmp(arg, l, len)))
            return &opts[i];
    }
    return NULL;
}

static void query_init(struct search_query *q)
{
    memset(q, 0, sizeof(*q));
    q->event_id = q->uid = q->euid = q->auid = SEARCH_UNSET;
    q->pid = q->ppid = q->session = q->syscall = SEARCH_UNSET;
    q->success = -1;
}

int search_options_parse(struct search_options *o, int argc, char **argv, time_t now,
                         char err[SEARCH_ERR_MAX])
{
    struct parse_state ps = {o, err, now};
    memset(o, 0, sizeof(*o));
    query_init(&o->q);
    err[0] = 0;
    bool only_paths = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_paths || arg[0] != '-' || !strcmp(arg, "-")) {
            if (add_path(&ps, arg) < 0)
                return -EINVAL;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_paths = true;
            continue;
        }
        const char *eq = !strncmp(arg, "--", 2) ? strchr(arg, '=') : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct opt *op = find_opt(arg, len);
        if (!op)
            return bad(&ps, "unknown option '%s' ('logward search --help' lists them)%s", arg, "");
        const char *v = NULL;
        int vi = i;
        if (op->value) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[vi = ++i];
            else
                return bad(&ps, "%s needs a value%s", arg, "");
        } else if (eq) {
            return bad(&ps, "%s takes no value%s", arg, "");
        }
        if (v && !v[0])
            return bad(&ps, "%s: empty value%s", arg, "");
        int used = apply(&ps, op,
                         op->short_name && !strncmp(arg, op->short_name, len) ? op->short_name
                                                                              : op->long_name,
                         v, argv, vi, eq ? vi + 1 : argc);
        if (used < 0)
            return -EINVAL;
        i += used;
    }
    if (o->q.has_start && o->q.has_end && o->q.start > o->q.end)
        return bad(&ps, "the start time (-ts) is after the end time (-te)%s%s", "", "");
    return 0;
}

bool search_query_needs_fields(const struct search_query *q)
{
    return q->uid != SEARCH_UNSET || q->euid != SEARCH_UNSET || q->auid != SEARCH_UNSET ||
           q->pid != SEARCH_UNSET || q->ppid != SEARCH_UNSET || q->session != SEARCH_UNSET ||
           q->syscall != SEARCH_UNSET || q->success >= 0 || q->key || q->file || q->exe ||
           q->terminal || q->host;
}

bool search_query_may_match_time(const struct search_query *q, int64_t lo, int64_t hi)
{
    return !(q->has_start && hi < (int64_t)q->start) && !(q->has_end && lo > (int64_t)q->end);
}

/* --------------------------------------------------------------- matching */

/* Which of ausearch's record parsers a record type goes through. */
enum record_class {
    RC_NONE,
    RC_SYSCALL,
    RC_CWD,
    RC_PATH,
    RC_AVC_PATH,
    RC_USER,
    RC_USER_AVC,
    RC_LOGIN,
    RC_SOCKADDR,
    RC_DAEMON,
    RC_DAEMON_CONN,
    RC_CONFIG,
    RC_AVC,
    RC_TASK,
    RC_ANOM,
    RC_SIMPLE,
    RC_INTEGRITY,
    RC_TTY,
    RC_KERNEL, /* NETFILTER_CFG, EVENT_LISTENER: ausearch fills what is missing */
};

static enum record_class record_class(int t)
{
    if (t == AUDIT_USER_AVC)
        return RC_USER_AVC;
    if (t == AUDIT_USER || (t >= AUDIT_FIRST_USER_MSG && t <= AUDIT_LAST_USER_MSG) ||
        (t >= AUDIT_FIRST_USER_MSG2 && t <= AUDIT_LAST_USER_MSG2))
        return RC_USER;
    if (t >= AUDIT_DAEMON_START && t <= AUDIT_DAEMON_RESUME && t != AUDIT_DAEMON_RECONFIG)
        return RC_DAEMON;
    if (t == AUDIT_DAEMON_ACCEPT || t == AUDIT_DAEMON_CLOSE)
        return RC_DAEMON_CONN;
    if (t >= AUDIT_MAC_POLICY_LOAD && t <= AUDIT_MAC_UNLBL_STCDEL)
        return RC_SIMPLE;
    if (t >= AUDIT_INTEGRITY_DATA && t <= AUDIT_INTEGRITY_RULE)
        return RC_INTEGRITY;
    switch (t) {
    case AUDIT_SYSCALL:
        return RC_SYSCALL;
    case AUDIT_CWD:
        return RC_CWD;
    case AUDIT_PATH:
        return RC_PATH;
    case AUDIT_AVC_PATH:
        return RC_AVC_PATH;
    case AUDIT_LOGIN:
        return RC_LOGIN;
    case AUDIT_SOCKADDR:
        return RC_SOCKADDR;
    case AUDIT_CONFIG_CHANGE:
        return RC_CONFIG;
    case AUDIT_AVC:
        return RC_AVC;
    case AUDIT_FEATURE_CHANGE:
    case AUDIT_ANOM_LINK:
        return RC_TASK;
    case AUDIT_TTY:
        return RC_TTY;
    case 1325: /* NETFILTER_CFG */
    case 1335: /* EVENT_LISTENER */
        return RC_KERNEL;
    case AUDIT_SECCOMP:
    case AUDIT_ANOM_PROMISCUOUS:
    case AUDIT_ANOM_ABEND:
        return RC_ANOM;
    default:
        return RC_NONE;
    }
}

/* Item bits: which items a record class gives. */
enum {
    I_PID = 1 << 0,
    I_PPID = 1 << 1,
    I_UID = 1 << 2,
    I_EUID = 1 << 3,
    I_AUID = 1 << 4,
    I_SES = 1 << 5,
    I_TTY = 1 << 6,      /* tty= as terminal */
    I_TERMINAL = 1 << 7, /* terminal= */
    I_EXE = 1 << 8,
    I_KEY = 1 << 9,
    I_SYSCALL = 1 << 10,
    I_HOSTNAME = 1 << 11,
    I_CWD = 1 << 12,
    I_NAME = 1 << 13,     /* name= as a file */
    I_PATH = 1 << 14,     /* path= as a file */
    I_RES_WORD = 1 << 15, /* res=failed.. -> no, other words -> yes */
    I_RES_NUM = 1 << 16,  /* res=1 -> yes, anything else -> no */
    I_COMM = 1 << 17,     /* comm= (aureport's command count) */
};

#define TASK_ITEMS                                                                                 \
    (I_PID | I_PPID | I_UID | I_EUID | I_AUID | I_SES | I_TTY | I_EXE | I_RES_NUM | I_COMM)

static const unsigned takes[] = {
    [RC_NONE] = 0,
    [RC_SYSCALL] = TASK_ITEMS | I_KEY | I_SYSCALL,
    [RC_CWD] = I_CWD,
    [RC_PATH] = I_NAME,
    [RC_AVC_PATH] = I_PATH,
    [RC_USER] = I_PID | I_UID | I_AUID | I_SES | I_TERMINAL | I_EXE | I_HOSTNAME | I_CWD |
                I_RES_WORD | I_COMM,
    [RC_USER_AVC] = I_PID | I_UID | I_AUID | I_SES | I_TERMINAL | I_EXE | I_HOSTNAME | I_CWD |
                    I_RES_WORD | I_COMM,
    [RC_LOGIN] = I_PID | I_UID | I_AUID | I_SES | I_RES_NUM,
    [RC_SOCKADDR] = 0,
    [RC_DAEMON] = I_PID | I_UID | I_AUID | I_SES | I_RES_WORD,
    [RC_DAEMON_CONN] = I_RES_WORD,
    [RC_CONFIG] = I_AUID | I_SES | I_KEY | I_PATH | I_RES_NUM,
    [RC_AVC] = I_PID | I_PATH | I_NAME | I_COMM,
    [RC_TASK] = TASK_ITEMS,
    [RC_ANOM] = I_PID | I_UID | I_AUID | I_SES | I_EXE | I_SYSCALL | I_RES_NUM | I_COMM,
    [RC_SIMPLE] = I_AUID | I_SES | I_KEY | I_RES_NUM,
    [RC_INTEGRITY] = I_PID | I_UID | I_AUID | I_SES | I_NAME | I_RES_NUM,
    [RC_TTY] = I_PID | I_UID | I_AUID | I_SES | I_COMM,
    [RC_KERNEL] = I_PID | I_UID | I_AUID | I_SES | I_TTY | I_EXE | I_RES_NUM | I_COMM,
};

/* A string option's needle as it may appear in a record: as written, or
 * hex-encoded (upper or lower case). An event whose text holds none of them
 * cannot match, so its fields need not be parsed. */
struct needle {
    const char *plain;
    char *upper, *lower;
};

struct search_matcher {
    const struct search_query *q;
    bool fields;
    unsigned need; /* items the query tests (~0u: every record is gathered) */
    struct needle key, exe;
    struct audit_field *f;
    struct buf scratch;
    struct search_items it;
    struct search_matcher_stats stats;
};

static int needle_init(struct needle *n, const char *s)
{
    static const char up[] = "0123456789ABCDEF", low[] = "0123456789abcdef";
    n->plain = s;
    if (!s)
        return 0;
    size_t len = strlen(s);
    n->upper = malloc(2 * len + 1), n->lower = malloc(2 * len + 1);
    if (!n->upper || !n->lower)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        n->upper[2 * i] = up[c >> 4], n->upper[2 * i + 1] = up[c & 15];
        n->lower[2 * i] = low[c >> 4], n->lower[2 * i + 1] = low[c & 15];
    }
    n->upper[2 * len] = n->lower[2 * len] = 0;
    return 0;
}

static bool needle_in_text(const struct needle *n, const char *t, size_t len)
{
    return memmem(t, len, n->plain, strlen(n->plain)) ||
           memmem(t, len, n->upper, strlen(n->upper)) || memmem(t, len, n->lower, strlen(n->lower));
}

/* Whether the needle is in a record that gives the item (takes[] & item):
 * the value tested comes from such a record, as written or hex-encoded, so
 * the other records (EXECVE arguments, PATH, PROCTITLE: most of an event's
 * bytes) need not be searched. NETFILTER_CFG and EVENT_LISTENER default a
 * missing exe to "(null)", which no text holds: such an event is let through. */
static bool needle_in(const struct needle *n, const struct audit_event *ev, unsigned item)
{
    if (!n->plain)
        return true;
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        enum record_class rc = record_class(ev->records[i].type);
        if (rc == RC_KERNEL && item == I_EXE)
            return true;
        if ((takes[rc] & item) && needle_in_text(n, audit_event_line(ev, i), ev->records[i].len))
            return true;
    }
    return false;
}

/* The items the query's field options test, or ~0u (every record gathered)
 * when it tests one whose value may come from a record outside takes[]
 * (ENRICHED names, SOCKADDR hosts and files, AVC and daemon results). */
static unsigned items_needed(const struct search_query *q)
{
    if (q->uid != SEARCH_UNSET || q->euid != SEARCH_UNSET || q->auid != SEARCH_UNSET ||
        q->uid_all || q->host || q->file || q->success >= 0)
        return ~0u;
    unsigned need = 0;
    need |= q->key ? I_KEY : 0;
    need |= q->exe ? I_EXE : 0;
    need |= q->pid != SEARCH_UNSET ? I_PID : 0;
    need |= q->ppid != SEARCH_UNSET ? I_PPID : 0;
    need |= q->session != SEARCH_UNSET ? I_SES : 0;
    need |= q->terminal ? I_TTY | I_TERMINAL : 0;
    need |= q->syscall != SEARCH_UNSET ? I_SYSCALL : 0;
    return need;
}

struct search_matcher *search_matcher_new(const struct search_query *q)
{
    struct search_matcher *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->q = q;
    m->fields = search_query_needs_fields(q);
    m->need = items_needed(q);
    if (needle_init(&m->key, q->key) < 0 || needle_init(&m->exe, q->exe) < 0) {
        search_matcher_free(m);
        return NULL;
    }
    m->f = calloc(AUDIT_RECORD_MAX_FIELDS, sizeof(*m->f));
    buf_init(&m->scratch, 0);
    if (!m->f) {
        free(m);
        return NULL;
    }
    audit_tables_init();
    return m;
}

void search_matcher_free(struct search_matcher *m)
{
    if (!m)
        return;
    free(m->key.upper), free(m->key.lower), free(m->exe.upper), free(m->exe.lower);
    free(m->f);
    buf_free(&m->scratch);
    free(m);
}

const struct search_matcher_stats *search_matcher_stats(const struct search_matcher *m)
{
    return &m->stats;
}

static bool span_is(struct search_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && !memcmp(s.p, lit, n);
}
/* The same for a string literal: its length known at compile time. */
#define SPAN_IS(s, lit) ((s).n == sizeof(lit) - 1 && !memcmp((s).p, lit, sizeof(lit) - 1))

/* The value of a field as ausearch reads it: quoted text as is, unquoted
 * hex decoded (into the scratch buffer, reserved for the whole event). */
static struct search_span value_of(struct search_matcher *m, const char *line,
                                   const struct audit_field *f)
{
    struct search_span s = {line + f->value_off, f->value_len};
    if (f->kind == AUDIT_VALUE_PLAIN && hex_is_encoded(s.p, s.n)) {
        char *d = m->scratch.data + m->scratch.len;
        hex_decode(s.p, s.n, (unsigned char *)d);
        m->scratch.len += s.n / 2;
        s.p = d;
        s.n /= 2;
        s.n = strnlen(s.p, s.n); /* ausearch's strings end at a NUL */
    }
    return s;
}

static int64_t number_of(struct search_span s, bool id)
{
    char tmp[32];
    if (s.n >= sizeof(tmp))
        return SEARCH_UNSET;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = 0;
    long long v = strtoll(tmp, NULL, 10); /* as ausearch's strtoul: "?" is 0 */
    return id ? (int64_t)(uint32_t)v : v;
}

static void add_file(struct search_matcher *m, struct search_span s)
{
    struct search_items *it = &m->it;
    if (it->nfiles == SEARCH_MAX_FILES_PER_EVENT)
        return;
    /* ausearch rebuilds "./x" and "../x" from the event's cwd */
    if (s.n >= 2 && s.p[0] == '.' && (s.p[1] == '.' || s.p[1] == '/') && it->cwd.p &&
        buf_reserve(&m->scratch, it->cwd.n + s.n + 1) == 0) {
        char *d = m->scratch.data + m->scratch.len;
        memcpy(d, it->cwd.p, it->cwd.n);
        d[it->cwd.n] = '/';
        memcpy(d + it->cwd.n + 1, s.p, s.n);
        m->scratch.len += it->cwd.n + 1 + s.n;
        s.p = d;
        s.n += it->cwd.n + 1;
    }
    it->files[it->nfiles++] = s;
}

static void add_keys(struct search_items *it, struct search_span s)
{
    const char *p = s.p, *end = s.p + s.n;
    while (p < end && it->nkeys < SEARCH_MAX_KEYS_PER_EVENT) {
        const char *sep = memchr(p, AUDIT_KEY_SEPARATOR, (size_t)(end - p));
        const char *e = sep ? sep : end;
        if (e > p)
            it->keys[it->nkeys++] = (struct search_span){p, (size_t)(e - p)};
        p = e + 1;
    }
}

static void take_sockaddr(struct search_matcher *m, const char *line, const struct audit_field *f)
{
    /* the bytes of the struct whole: value_of would end them at the first NUL */
    struct search_span v = {line + f->value_off, f->value_len};
    struct audit_sockaddr sa;
    m->it.host = (struct search_span){NULL, 0}; /* as ausearch: other families clear it */
    if (f->kind != AUDIT_VALUE_PLAIN || !hex_is_encoded(v.p, v.n))
        return;
    char *bytes = m->scratch.data + m->scratch.len;
    hex_decode(v.p, v.n, (unsigned char *)bytes);
    m->scratch.len += v.n / 2;
    if (audit_sockaddr_decode((const unsigned char *)bytes, v.n / 2, true, &sa) < 0)
        return;
    if (sa.family_name && (!strcmp(sa.family_name, "inet") || !strcmp(sa.family_name, "inet6"))) {
        size_t n = strlen(sa.addr);
        if (buf_reserve(&m->scratch, n) == 0) {
            char *d = m->scratch.data + m->scratch.len;
            memcpy(d, sa.addr, n);
            m->scratch.len += n;
            m->it.host = (struct search_span){d, n};
        }
    } else if (sa.path && sa.path_len) {
        size_t n = strnlen((const char *)sa.path + sa.abstract, sa.path_len - sa.abstract);
        if (n)
            add_file(m, (struct search_span){(const char *)sa.path + sa.abstract, n});
    }
}

/* AVC: "avc:  denied  { read }" says the result. */
static void take_avc_result(struct search_items *it, const char *line, size_t len)
{
    const char *a = memmem(line, len, "avc: ", 5);
    const char *brace = a ? memchr(a, '{', len - (size_t)(a - line)) : NULL;
    if (brace)
        it->success = memmem(a, (size_t)(brace - a), "denied", 6) ? 0 : 1;
}

/* One field of a record of class rc. `seen` holds items already taken from
 * this record (most are taken from their first occurrence). */
static void take_field(struct search_matcher *m, enum record_class rc, const char *line,
                       const struct audit_field *f, unsigned *seen, bool *had_host, unsigned need)
{
    struct search_items *it = &m->it;
    unsigned want = takes[rc] & need; /* what is not tested is not read */
    struct search_span name = {line + f->name_off, f->name_len};
    struct search_span raw = {line + f->value_off, f->value_len};
#define FIRST(bit) ((want & (bit)) && !(*seen & (bit)) && (*seen |= (bit)))
    if (f->part == AUDIT_PART_ENRICHED) {
        if (SPAN_IS(name, "UID"))
            it->uid_name = raw;
        else if (SPAN_IS(name, "EUID"))
            it->euid_name = raw;
        else if (SPAN_IS(name, "AUID"))
            it->auid_name = raw;
        return;
    }
    if (SPAN_IS(name, "pid")) {
        if (FIRST(I_PID))
            it->pid = number_of(raw, false);
    } else if (SPAN_IS(name, "ppid")) {
        if (FIRST(I_PPID))
            it->ppid = number_of(raw, false);
    } else if (SPAN_IS(name, "uid")) {
        /* user-space records: a later uid= (in msg='...') is the one meant */
        if ((want & I_UID) && (rc == RC_USER || rc == RC_USER_AVC || FIRST(I_UID))) {
            /* TTY, INTEGRITY: ausearch reads " uid=" one byte short, from '=' */
            bool short_read = rc == RC_TTY || rc == RC_INTEGRITY;
            it->uid = short_read ? 0 : number_of(raw, true);
            it->uid_unnamed = rc == RC_DAEMON;
        }
    } else if (SPAN_IS(name, "euid")) {
        if (FIRST(I_EUID))
            it->euid = number_of(raw, true);
    } else if (SPAN_IS(name, "auid") || SPAN_IS(name, "loginuid")) {
        /* LOGIN: the new auid is the last one written */
        if ((want & I_AUID) && (rc == RC_LOGIN || FIRST(I_AUID)))
            it->auid = number_of(raw, true);
    } else if (SPAN_IS(name, "ses")) {
        if ((want & I_SES) && (rc == RC_LOGIN || FIRST(I_SES)))
            it->ses = number_of(raw, true);
    } else if (SPAN_IS(name, "tty")) {
        if (FIRST(I_TTY))
            it->terminal = raw;
    } else if (SPAN_IS(name, "terminal")) {
        if (FIRST(I_TERMINAL))
            it->terminal = raw;
    } else if (SPAN_IS(name, "comm")) {
        if (FIRST(I_COMM))
            it->comm = value_of(m, line, f);
    } else if (SPAN_IS(name, "exe")) {
        if (FIRST(I_EXE))
            it->exe = value_of(m, line, f);
    } else if (SPAN_IS(name, "key")) {
        if (FIRST(I_KEY) && f->kind != AUDIT_VALUE_NULL)
            add_keys(it, value_of(m, line, f));
    } else if (SPAN_IS(name, "syscall")) {
        if (FIRST(I_SYSCALL))
            it->syscall = number_of(raw, false);
    } else if (SPAN_IS(name, "success")) {
        if (rc == RC_SYSCALL) /* ausearch compares the text: "yes" quoted is not yes */
            it->success = f->kind == AUDIT_VALUE_PLAIN && SPAN_IS(raw, "yes");
    } else if (SPAN_IS(name, "res") || SPAN_IS(name, "result")) {
        if (want & I_RES_WORD)
            it->success = !(raw.n >= 6 && !memcmp(raw.p, "failed", 6));
        else if ((want & I_RES_NUM) && SPAN_IS(name, "res"))
            it->success = number_of(raw, false) == 1;
    } else if (SPAN_IS(name, "hostname")) {
        if (FIRST(I_HOSTNAME)) {
            it->host = raw;
            *had_host = true;
        }
    } else if (SPAN_IS(name, "addr")) {
        if (rc == RC_DAEMON_CONN) {
            const char *colon = memchr(raw.p, ':', raw.n);
            it->host = (struct search_span){raw.p, colon ? (size_t)(colon - raw.p) : raw.n};
        } else if ((want & I_HOSTNAME) && *had_host && span_is(it->host, "?")) {
            it->host = raw;
        }
    } else if (SPAN_IS(name, "cwd")) {
        if ((want & I_CWD) && (rc != RC_CWD || !it->cwd.p))
            it->cwd = value_of(m, line, f);
    } else if (SPAN_IS(name, "name")) {
        if ((want & I_NAME) && !(rc == RC_AVC && (*seen & I_PATH)) && FIRST(I_NAME))
            add_file(m, value_of(m, line, f));
    } else if (SPAN_IS(name, "path")) {
        if (FIRST(I_PATH))
            add_file(m, value_of(m, line, f));
    } else if (SPAN_IS(name, "saddr") && rc == RC_SOCKADDR) {
        take_sockaddr(m, line, f);
    }
#undef FIRST
}

/* NETFILTER_CFG and EVENT_LISTENER (ausearch's parse_kernel): each item is
 * taken only if no earlier record gave it, and one the record lacks gets a
 * default (uid 0, auid and ses unset, tty "(none)", exe "(null)"). */
static void fill_kernel(struct search_items *it, const struct search_items *before, unsigned seen)
{
    if (before->pid != SEARCH_UNSET)
        it->pid = before->pid;
    it->uid = before->uid != SEARCH_UNSET ? before->uid : (seen & I_UID) ? it->uid : 0;
    it->auid = before->auid != SEARCH_UNSET ? before->auid
               : (seen & I_AUID)            ? it->auid
                                            : 4294967295;
    it->ses = before->ses != SEARCH_UNSET ? before->ses : (seen & I_SES) ? it->ses : 4294967295;
    if (before->terminal.p)
        it->terminal = before->terminal;
    else if (!(seen & I_TTY))
        it->terminal = (struct search_span){"(none)", 6};
    if (before->exe.p)
        it->exe = before->exe;
    else if (!(seen & I_EXE))
        it->exe = (struct search_span){"(null)", 6};
}

/* Gathers the items of ev from the records that give one of `need` (~0u:
 * every record). */
static int gather(struct search_matcher *m, const struct audit_event *ev, unsigned need)
{
    struct search_items *it = &m->it;
    it->pid = it->ppid = it->uid = it->euid = it->auid = it->ses = it->syscall = SEARCH_UNSET;
    it->success = -1;
    it->uid_unnamed = false;
    it->uid_name = it->euid_name = it->auid_name = (struct search_span){NULL, 0};
    it->exe = it->terminal = it->host = it->cwd = it->comm = (struct search_span){NULL, 0};
    it->nfiles = it->nkeys = 0;
    buf_reset(&m->scratch);
    /* decoded values are at most half their hex; joined paths add a cwd each */
    if (buf_reserve(&m->scratch, 2 * ev->text.len + 64) < 0)
        return -ENOMEM;
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        const struct audit_record_ref *r = &ev->records[i];
        enum record_class rc = record_class(r->type);
        if (rc == RC_NONE || (need != ~0u && !(takes[rc] & need)))
            continue;
        const char *line = audit_event_line(ev, i);
        int n = audit_fields_parse(line, r->len, &r->h, m->f, AUDIT_RECORD_MAX_FIELDS);
        if (n < 0)
            n = AUDIT_RECORD_MAX_FIELDS;
        unsigned seen = 0;
        bool had_host = false;
        if (rc == RC_AVC)
            take_avc_result(it, line, r->len);
        struct search_items before; /* only its ids and spans: no 20 KB memset per record */
        if (rc == RC_KERNEL)
            memcpy(&before, it, offsetof(struct search_items, nfiles));
        for (int k = 0; k < n; k++)
            take_field(m, rc, line, &m->f[k], &seen, &had_host, need);
        if (rc == RC_KERNEL)
            fill_kernel(it, &before, seen);
    }
    return 0;
}

static bool text_match(const struct search_query *q, const char *needle, struct search_span hay)
{
    size_t n = strlen(needle);
    if (!hay.p)
        return false;
    if (q->exact)
        return hay.n == n && !memcmp(hay.p, needle, n);
    return memmem(hay.p, hay.n, needle, n) != NULL;
}

/* A name given matches the record's own (ENRICHED) name, else the id it was
 * looked up as; ausearch compares names only where it looks them up. */
static bool id_match(int64_t want, const char *want_name, int64_t have,
                     struct search_span have_name, bool unnamed)
{
    if (want_name && (unnamed || have_name.p))
        return !unnamed && span_is(have_name, want_name);
    return have != SEARCH_UNSET && have == want;
}

static bool users_match(const struct search_query *q, const struct search_items *it)
{
    if (q->uid_all)
        return id_match(q->uid, q->uid_name, it->uid, it->uid_name, it->uid_unnamed) ||
               id_match(q->euid, q->euid_name, it->euid, it->euid_name, false) ||
               id_match(q->auid, q->auid_name, it->auid, it->auid_name, false);
    if (q->uid != SEARCH_UNSET &&
        !id_match(q->uid, q->uid_name, it->uid, it->uid_name, it->uid_unnamed))
        return false;
    if (q->euid != SEARCH_UNSET && !id_match(q->euid, q->euid_name, it->euid, it->euid_name, false))
        return false;
    return q->auid == SEARCH_UNSET ||
           id_match(q->auid, q->auid_name, it->auid, it->auid_name, false);
}

/* -f: a file name of the event, else its cwd (as ausearch). */
static bool file_match(const struct search_query *q, const struct search_items *it)
{
    for (unsigned i = 0; i < it->nfiles; i++)
        if (text_match(q, q->file, it->files[i]))
            return true;
    return text_match(q, q->file, it->cwd);
}

static bool keys_match(const struct search_query *q, const struct search_items *it)
{
    for (unsigned i = 0; i < it->nkeys; i++)
        if (text_match(q, q->key, it->keys[i]))
            return true;
    return false;
}

static bool fields_match(const struct search_query *q, const struct search_items *it)
{
    if (!users_match(q, it))
        return false;
    if (q->ppid != SEARCH_UNSET && q->ppid != it->ppid)
        return false;
    if (q->pid != SEARCH_UNSET && q->pid != it->pid)
        return false;
    if (q->syscall != SEARCH_UNSET && q->syscall != it->syscall)
        return false;
    if (q->session != SEARCH_UNSET && q->session != it->ses)
        return false;
    if (q->success >= 0 && q->success != it->success)
        return false;
    if (q->file && !file_match(q, it))
        return false;
    if (q->host && !text_match(q, q->host, it->host))
        return false;
    if (q->terminal && !text_match(q, q->terminal, it->terminal))
        return false;
    if (q->exe && !text_match(q, q->exe, it->exe))
        return false;
    return !q->key || keys_match(q, it);
}

static bool header_match(const struct search_query *q, const struct audit_event *ev)
{
    if (q->has_start && ev->sec < (int64_t)q->start)
        return false;
    if (q->has_end && ev->sec > (int64_t)q->end)
        return false;
    if (q->event_id != SEARCH_UNSET && q->event_id != ev->serial)
        return false;
    if (q->nnodes) {
        unsigned i = 0;
        while (i < q->nnodes && !(strlen(q->nodes[i]) == ev->node_len &&
                                  !memcmp(q->nodes[i], ev->node, ev->node_len)))
            i++;
        if (i == q->nnodes)
            return false;
    }
    if (q->ntypes) {
        for (uint32_t i = 0; i < ev->nrecords; i++)
            for (unsigned k = 0; k < q->ntypes; k++)
                if (ev->records[i].type == q->types[k])
                    return true;
        return false;
    }
    return true;
}

int search_matcher_match(struct search_matcher *m, const struct audit_event *ev)
{
    m->stats.tested++;
    if (!header_match(m->q, ev))
        return 0;
    if (m->fields && !(needle_in(&m->key, ev, I_KEY) && needle_in(&m->exe, ev, I_EXE)))
        return 0; /* the key or exe is in no record that could give it */
    if (m->fields) {
        int r = gather(m, ev, m->need);
        if (r < 0)
            return r;
        if (!fields_match(m->q, &m->it))
            return 0;
    }
    m->stats.matched++;
    return 1;
}

const struct search_items *search_matcher_items(struct search_matcher *m,
                                                const struct audit_event *ev)
{
    return gather(m, ev, ~0u) < 0 ? NULL : &m->it;
}
