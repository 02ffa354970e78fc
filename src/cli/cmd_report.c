/*
 * logward report: aureport's reports over audit logs, files, rotated
 * directories or a whole store (the inputs of `logward search`): the summary
 * (--summary, aureport's counts) and tables of logins, keys, executables,
 * files or users by hits, over all events or only failed (--failed) or
 * successful (--success) ones, in total and per host (--per-host), as
 * aureport's text or JSON. Events are chosen with search's selection options
 * (-ts/-te with time words, -n, -m, -ua...), collated whole, counted by
 * search/report. A store's hosts are read on several threads (as search
 * reads them), each counting into a report of its own; the hosts' parts are
 * merged in host order at the end, so the report is what one thread counts.
 * It never writes a log.
 */
#include "audit/collate.h"
#include "audit/reader.h"
#include "base/err.h"
#include "cli/cli.h"
#include "search/input.h"
#include "search/pool.h"
#include "search/query.h"
#include "search/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPORT_ARGS_MAX 8192 /* argv words passed on to the selection options */

struct report_run {
    struct report rep;
    struct search_matcher *matcher;
    const char *host; /* the store host being read, or NULL */
    uint64_t selected;
    bool quiet;
};

static void usage(FILE *f)
{
    fputs("usage: logward report [REPORT] [--failed|--success] [--per-host] [--format text|json]\n"
          "                      [SELECTION...] [PATH...]\n"
          "\n"
          "Reports on audit events as aureport(8) does. PATH is read as by `logward search`:\n"
          "a file, a directory of rotated logs (oldest first, .zst decompressed), a store\n"
          "(every HOST/audit.log*), or standard input; none on a terminal reads $LOGWARD_STORE\n"
          "or " SEARCH_DEFAULT_STORE ".\n"
          "\n"
          "REPORT (at most one; none is the summary, aureport --summary: counts of\n"
          "changes, logins, authentications, AVCs, failed syscalls... and of distinct\n"
          "users, terminals, hosts, executables, commands, files, keys and process ids).\n"
          "Each is a table by hits, as aureport's with --summary (accepted, implied):\n"
          "  -l, --login            logins (USER_LOGIN) by auid, and the failed ones\n"
          "  -k, --key              rule keys by hits\n"
          "  -x, --executable       executables by hits\n"
          "  -f, --file             file names by hits\n"
          "  -u, --user             auids of all events by hits\n"
          "\n"
          "      --failed           count only failed events; --success: only successful ones\n"
          "      --per-host         one report per host (store host directory, else node=),\n"
          "                         after the total\n"
          "      --format text|json aureport's text (default) or one JSON object\n"
          "  -i, --interpret        auids as names: the records' own (ENRICHED), else this\n"
          "                         machine's accounts (as aureport -i); --local-names too\n"
          "  -q, --quiet            do not report lines that are not audit records\n"
          "  -h, --help             this text\n"
          "\n"
          "SELECTION: `logward search`'s options choose the events counted: -ts/-te with\n"
          "time words (now, recent, today, yesterday, this-week, week-ago, this-month,\n"
          "this-year) or dates, -n NODE, -m TYPE, -ua/-ui/-ul UID, -sc, -p, --session,\n"
          "-sv, -hn, -tm, -a (see `logward search --help`; -k, -f and -x name reports here,\n"
          "as in aureport).\n"
          "\n"
          "exit status: 0 events counted, 1 no event selected (the report is printed\n"
          "anyway), 2 usage or I/O error\n",
          f);
}

static void on_bad_line(void *arg, const char *source, uint64_t line_no, uint64_t offset, int code)
{
    struct report_run *run = arg;
    if (!run->quiet)
        cli_error("report: %s:%llu: byte %llu: %s", source, (unsigned long long)line_no,
                  (unsigned long long)offset, err_str(code));
}

static int on_event(const struct audit_event *ev, void *arg)
{
    struct report_run *run = arg;
    char node[REPORT_HOST_MAX];
    const char *host = run->host;
    if (!host) {
        size_t n = ev->node_len < sizeof(node) - 1 ? ev->node_len : sizeof(node) - 1;
        memcpy(node, ev->node ? ev->node : "", n);
        node[n] = 0;
        host = node;
    }
    int r = report_saw(&run->rep, host, ev);
    int m = r < 0 ? r : search_matcher_match(run->matcher, ev);
    if (m <= 0)
        return m;
    const struct search_items *it = search_matcher_items(run->matcher, ev);
    if (!it)
        return -ENOMEM;
    r = report_add(&run->rep, host, ev, it);
    run->selected += r > 0;
    return r < 0 ? r : 0;
}

struct report_args {
    enum report_kind kind;
    enum report_only only;
    bool kind_set, per_host, json, help, quiet, interpret;
    int argc;
    char *argv[REPORT_ARGS_MAX];
};

static int set_kind(struct report_args *a, enum report_kind k, const char *opt)
{
    if (a->kind_set && a->kind != k) {
        cli_error("report: %s: only one report at a time (one of -l, -k, -x, -f, -u; none is "
                  "the summary)",
                  opt);
        return -EINVAL;
    }
    a->kind = k, a->kind_set = true;
    return 0;
}

/* Takes the report's own options out of argv; the rest (selection options,
 * PATHs) go on to search_options_parse. */
static int parse_args(struct report_args *a, int argc, char **argv)
{
    static const struct {
        const char *s, *l;
        enum report_kind k;
    } kinds[] = {{"-l", "--login", REPORT_LOGIN},
                 {"-k", "--key", REPORT_KEY},
                 {"-x", "--executable", REPORT_EXE},
                 {"-f", "--file", REPORT_FILE},
                 {"-u", "--user", REPORT_USER}};
    a->argv[a->argc++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        bool done = false;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !done; k++)
            if ((kinds[k].s && !strcmp(s, kinds[k].s)) || !strcmp(s, kinds[k].l)) {
                if (set_kind(a, kinds[k].k, s) < 0)
                    return -EINVAL;
                done = true;
            }
        if (done)
            continue;
        if (!strcmp(s, "--failed") || !strcmp(s, "--success")) {
            enum report_only o = s[2] == 'f' ? REPORT_FAILED : REPORT_SUCCESS;
            if (a->only != REPORT_ALL && a->only != o) {
                cli_error("report: --failed and --success exclude each other");
                return -EINVAL;
            }
            a->only = o;
        } else if (!strcmp(s, "--summary")) {
            continue; /* aureport's summary level: every report here is one */
        } else if (!strcmp(s, "--per-host")) {
            a->per_host = true;
        } else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            a->help = true;
        } else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            a->quiet = true;
        } else if (!strcmp(s, "--format") || !strncmp(s, "--format=", 9)) {
            const char *v = s[8] == '=' ? s + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strcmp(v, "text") && strcmp(v, "json"))) {
                cli_error("report: --format: '%s' is not text or json", v ? v : "");
                return -EINVAL;
            }
            a->json = !strcmp(v, "json");
        } else if (!strcmp(s, "-i") || !strcmp(s, "--interpret")) {
            a->interpret = true; /* aureport's -i: auids as names */
        } else if (a->argc < REPORT_ARGS_MAX) {
            a->argv[a->argc++] = argv[i];
        } else {
            cli_error("report: more than %d arguments", REPORT_ARGS_MAX);
            return -EINVAL;
        }
    }
    return 0;
}

/* ----------------------------------------------------------- threads */

/* A store's hosts are read on several threads (search/pool), each counting
 * into a report_run of its own; the hosts' parts are merged in host order. */
static int thread_read(void *arg, const struct search_source *s, struct audit_reader *reader)
{
    struct report_run *run = arg;
    run->host = s->host;
    int r = search_source_read(s, reader);
    if (r < 0)
        cli_error("report: %s: %s", s->path, err_str(r));
    return r;
}

static const struct search_pool_ops thread_ops = {
    .on_event = on_event,
    .on_bad_line = on_bad_line,
    .read = thread_read,
};

/* Threads for a store's groups (one host each), as search has them:
 * LOGWARD_SEARCH_THREADS caps the count; 1 when a host name repeats (its
 * parts would be counted apart) or for one stream. */
static unsigned report_threads(const struct search_pool *pool)
{
    unsigned n = search_pool_threads(pool);
    const struct search_sources *src = &pool->src;
    for (size_t g = 0; n > 1 && g < pool->ngroups; g++) {
        const char *h = src->v[pool->group_start[g]].host;
        for (size_t k = 0; h && k < g; k++) {
            const char *o = src->v[pool->group_start[k]].host;
            if (!o || !strcmp(o, h))
                return 1;
        }
        if (!h)
            return 1;
    }
    return n;
}

/* The part of host h in one of the threads' reports, or NULL. */
static struct report_part *thread_part(struct report_run *runs, unsigned n, const char *h)
{
    for (unsigned k = 0; k < n; k++)
        for (size_t i = 0; i < runs[k].rep.nhosts; i++)
            if (!strncmp(runs[k].rep.hosts[i].host, h, REPORT_HOST_MAX - 1))
                return &runs[k].rep.hosts[i];
    return NULL;
}

/* Reads the pool's groups on n threads into run's report. Returns an exit status. */
static int read_threaded(struct report_run *run, const struct search_options *o,
                         struct search_pool *pool, unsigned n)
{
    struct report_run runs[SEARCH_POOL_THREADS];
    void *state[SEARCH_POOL_THREADS];
    int status = EXIT_OK;
    memset(runs, 0, sizeof(runs));
    for (unsigned k = 0; k < n; k++) {
        struct report_run *x = &runs[k];
        state[k] = x;
        x->quiet = run->quiet;
        report_init(&x->rep, run->rep.kind, run->rep.only);
        x->rep.names = run->rep.names;
        x->matcher = search_matcher_new(&o->q);
        if (!x->matcher) {
            cli_error("report: out of memory");
            status = EXIT_TROUBLE;
            break;
        }
    }
    int r = status == EXIT_OK ? search_pool_run(pool, &thread_ops, state, n) : 0;
    if (r < 0)
        cli_error(r == -ENOMEM ? "report: out of memory" : "report: cannot start a thread");
    status = r != 0 ? EXIT_TROUBLE : status;
    for (unsigned k = 0; k < n; k++)
        run->selected += runs[k].selected;
    const struct search_sources *src = &pool->src;
    for (size_t g = 0; g < pool->ngroups; g++) { /* in host order: as one thread counts */
        struct report_part *p = thread_part(runs, n, src->v[pool->group_start[g]].host);
        if (p && report_merge_host(&run->rep, p) < 0) {
            cli_error("report: out of memory");
            status = EXIT_TROUBLE;
            break;
        }
    }
    for (unsigned k = 0; k < n; k++) {
        search_matcher_free(runs[k].matcher);
        report_free(&runs[k].rep);
    }
    return status;
}

static void on_bad_path(void *arg, const char *path, int code)
{
    (void)arg;
    cli_error("report: %s: %s", path, err_str(code));
}

static int read_all(struct report_run *run, struct search_options *o, struct audit_reader *reader,
                    struct audit_collate *c)
{
    struct search_pool pool;
    int status = search_pool_open(&pool, o, false, on_bad_path, NULL) ? EXIT_TROUBLE : EXIT_OK;
    unsigned n = report_threads(&pool);
    if (n > 1) {
        int st = read_threaded(run, o, &pool, n);
        search_pool_free(&pool);
        return st != EXIT_OK ? st : status;
    }
    const struct search_sources *src = &pool.src;
    bool progress = isatty(STDERR_FILENO) && src->n > 1;
    for (size_t i = 0; i < src->n; i++) {
        const struct search_source *s = &src->v[i];
        int r = 0;
        if (progress) /* on a terminal only */
            fprintf(stderr, "\rreport: file %zu of %zu\033[K", i + 1, src->n);
        if (i && s->group != s[-1].group)
            r = audit_collate_flush(c); /* the previous host's events, under its name */
        run->host = s->host;
        if (r == 0)
            r = search_source_read(s, reader);
        if (r < 0) {
            cli_error("report: %s: %s", s->path, err_str(r));
            status = EXIT_TROUBLE;
            if (r == -ENOMEM)
                break;
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    if (audit_collate_flush(c) < 0)
        status = EXIT_TROUBLE;
    search_pool_free(&pool);
    return status;
}

static int print_report(const struct report_run *run, const struct search_options *o,
                        const struct report_args *a)
{
    struct report_window w = {o->q.has_start, o->q.has_end, o->q.start, o->q.end};
    struct buf out;
    buf_init(&out, 0);
    int r = 0;
    if (a->json) {
        r = report_format_json(&run->rep, &w, a->per_host, &out);
    } else {
        r = report_format_text(&run->rep, &run->rep.total, &w, &out);
        for (size_t i = 0; r == 0 && a->per_host && i < run->rep.nhosts; i++) {
            const struct report_part *p = &run->rep.hosts[i];
            r = buf_printf(&out, "\nHost: %s\n", p->host[0] ? p->host : "(none)");
            if (r == 0)
                r = report_format_text(&run->rep, p, &w, &out);
        }
    }
    if (r == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        r = -EIO;
    if (r == 0 && fflush(stdout) != 0)
        r = -errno;
    buf_free(&out);
    if (r < 0)
        cli_error("report: writing the report: %s", err_str(r));
    return r;
}

int cmd_report(int argc, char **argv)
{
    static struct report_args a;    /* large: not on the stack */
    static struct search_options o; /* large (paths, types) */
    char err[SEARCH_ERR_MAX];
    memset(&a, 0, sizeof(a));
    if (parse_args(&a, argc, argv) < 0)
        return EXIT_TROUBLE;
    if (a.help) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *pinned = getenv("LOGWARD_SEARCH_NOW"); /* test hook, as for search */
    time_t now = pinned ? (time_t)strtoll(pinned, NULL, 10) : time(NULL);
    if (search_options_parse(&o, a.argc, a.argv, now, err) < 0) {
        cli_error("report: %s", err);
        return EXIT_TROUBLE;
    }
    if (o.help) {
        usage(stdout);
        return EXIT_OK;
    }
    struct report_run run = {.quiet = a.quiet || o.quiet};
    report_init(&run.rep, a.kind, a.only);
    run.rep.names = a.interpret || o.local_names;
    run.matcher = search_matcher_new(&o.q);
    struct audit_collate *c = audit_collate_new(NULL, on_event, &run);
    struct audit_reader *reader = c ? audit_reader_new(c, on_bad_line, &run) : NULL;
    int status = EXIT_TROUBLE;
    if (!run.matcher || !reader)
        cli_error("report: out of memory");
    else
        status = read_all(&run, &o, reader, c);
    if (run.matcher && reader && print_report(&run, &o, &a) < 0)
        status = EXIT_TROUBLE;
    if (status == EXIT_OK && run.selected == 0)
        status = EXIT_NEGATIVE;
    audit_reader_free(reader);
    audit_collate_free(c);
    search_matcher_free(run.matcher);
    report_free(&run.rep);
    return status;
}
