/*
 * logward search: ausearch's searches over audit logs: files, directories of
 * rotated logs (oldest first, plain or .zst), a whole store (host
 * directories, their audit.log* files; -n picks hosts by directory), or
 * standard input. Records are collated into whole events (audit/collate),
 * each tested against the query (search/query) and printed in one of
 * ausearch's formats or as normalized JSON, ordered by time across every
 * file, host and thread (search/order: an external merge sort in bounded
 * memory; see docs/search.md).
 *
 * Each file is read through its per-file index when one fits it
 * (search/index: only the blocks that may match are read; --no-index scans).
 * It never writes a log.
 */
#include "audit/collate.h"
#include "audit/normalize.h"
#include "audit/reader.h"
#include "base/err.h"
#include "cli/cli.h"
#include "search/format.h"
#include "search/index.h"
#include "search/input.h"
#include "search/lines.h"
#include "search/order.h"
#include "search/pool.h"
#include "search/query.h"
#include "search/timewords.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct search_run {
    struct search_options *o;
    struct search_matcher *matcher;
    struct audit_normalizer *norm;
    struct search_order *order; /* results waiting to be ordered */
    struct buf out;             /* -l: one event on its way to fd 1 */
    uint64_t seq, matched;
    uint32_t group; /* of the source being read: ties between hosts */
    int write_error;
    int order_error;               /* keeping results in a temporary file failed */
    struct search_order_stats ord; /* summed over the threads' orders, for --stats */
    struct search_index_stats ix;
    struct search_drop drop; /* events an index read brings in part */
};

static void usage(FILE *f)
{
    fputs("usage: logward search [OPTIONS] [PATH...]\n"
          "\n"
          "Finds audit events as ausearch(8) does, with ausearch's options and their\n"
          "meaning. Records are collated into whole events first (by node, time and\n"
          "serial, with or without EOE); an event is printed when every option given\n"
          "holds for it (-m and -n take several values, any of which may match).\n"
          "String options match a part of the value unless -w is given.\n"
          "\n"
          "PATH is a file, a directory of rotated logs (read oldest first: audit.log.N\n"
          "... audit.log; .zst files are decompressed), or a store written by logwardd\n"
          "(every HOST/audit.log*; -n NODE reads only those hosts). '-' or no PATH with\n"
          "standard input not a terminal reads standard input; otherwise the store at\n"
          "$LOGWARD_STORE or " SEARCH_DEFAULT_STORE " is searched.\n"
          "\n"
          "search options:\n"
          "  -k,  --key KEY            the rule key (key=) holds KEY\n"
          "  -m,  --message TYPE[,..]  a record of one of these types (names or numbers,\n"
          "                            or ALL); -m may be repeated\n"
          "  -ua, --uid-all UID        uid, euid or auid is UID (a number or a name of\n"
          "                            this machine; ENRICHED names match too)\n"
          "  -ui, --uid UID            uid is UID\n"
          "  -ue, --uid-effective UID  euid is UID\n"
          "  -ul, --loginuid UID       auid (login uid) is UID; -1 is unset\n"
          "  -sc, --syscall NAME|NR    the syscall (names from this machine's arch table)\n"
          "  -f,  --file NAME          a file name of the event (PATH name=, AVC path=,\n"
          "                            AF_UNIX socket), or else its cwd, holds NAME\n"
          "  -x,  --executable EXE     exe= holds EXE\n"
          "  -p,  --pid PID            the process id\n"
          "  -pp, --ppid PID           the parent process id (SYSCALL records)\n"
          "       --session SES        the login session (ses=)\n"
          "  -tm, --terminal TERM      tty= (SYSCALL) or terminal= (user space) holds TERM\n"
          "  -sv, --success yes|no     the syscall's success=, or a user-space res=\n"
          "  -hn, --host HOST          the hostname= (or addr=) of user-space records, or\n"
          "                            a SOCKADDR's address, holds HOST\n"
          "  -n,  --node NODE          the record's node= is NODE (may be repeated)\n"
          "  -a,  --event SERIAL       the event's serial number\n"
          "  -ts, --start [DATE] [TIME]  events at or after; -te, --end [DATE] [TIME]:\n"
          "                            at or before. DATE is the locale's (date +%x; with\n"
          "                            LC_ALL=C MM/DD/YY), TIME is HH:MM:SS or HH:MM, or a\n"
          "                            word: " TIMEWORDS_LIST ".\n"
          "                            -ts: no time = 00:00:00, a word = its day at\n"
          "                            midnight (now, recent: the instant; recent is 10\n"
          "                            minutes ago); -te: no time = the current time of\n"
          "                            day, today = now\n"
          "  -w,  --word               string options must match the whole value\n"
          "  -if, --input PATH         read PATH (as a PATH argument)\n"
          "\n"
          "output:\n"
          "  -r,  --raw                records as read, one per line (--format raw)\n"
          "  -i,  --interpret          ausearch's layout with values interpreted from the\n"
          "                            records themselves (ENRICHED names)\n"
          "       --format F           raw, default, interpret, csv, text (logward's text\n"
          "                            line), or json (normalized events, as `logward\n"
          "                            events` prints them; docs/event-schema.md)\n"
          "       --local-names        interpret/json/text: name ids from this machine's\n"
          "                            accounts (as ausearch -i does) where the records\n"
          "                            carry no names (ENRICHED)\n"
          "       --utc                json/text: times in UTC\n"
          "  -l,  --line-buffered      write each event as it is found (not ordered)\n"
          "  -q,  --quiet              do not report lines that are not audit records\n"
          "       --stats              print counters to standard error at the end (with\n"
          "                            --format json as one JSON object): bytes, records,\n"
          "                            events, matched, and the index's files and blocks\n"
          "                            skipped or scanned\n"
          "       --no-index           scan every file whole, ignoring indexes\n"
          "\n"
          "syslog lines (the store's HOST/PROGRAM.log files instead of audit events):\n"
          "       --program NAME       lines of this program (may be repeated)\n"
          "       --grep REGEX         lines the PCRE2 pattern matches (the whole line)\n"
          "                            with -ts/-te and -n; printed as stored (--format\n"
          "                            json: host and line), ordered by time\n"
          "  -h,  --help               this text\n"
          "\n"
          "Results are ordered by time across all files and hosts (whole events; a large\n"
          "result is sorted through temporary files in $TMPDIR or /tmp; -l prints in the\n"
          "order found). See docs/search.md for the differences from ausearch.\n"
          "\n"
          "exit status: 0 events found, 1 nothing matched, 2 usage or I/O error\n",
          f);
}

static void write_all(struct search_run *run, const char *p, size_t left)
{
    while (left && !run->write_error) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n < 0 && errno != EINTR)
            run->write_error = -errno;
        else if (n > 0)
            p += n, left -= (size_t)n;
    }
}

/* ausearch's time line: "time->Tue Jul  7 08:56:53 2026" (local time). */
static int put_default(struct buf *b, const struct audit_event *ev, bool interpret,
                       bool local_names)
{
    int r;
    if (interpret) {
        r = buf_append(b, "----\n", 5); /* -i has no time-> line: no date to format */
    } else {
        char when[64];
        time_t t = (time_t)ev->sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
        r = buf_printf(b, "----\ntime->%s\n", when);
    }
    for (uint32_t i = ev->nrecords; r == 0 && i-- > 0;) {
        const char *line = audit_event_line(ev, i);
        uint32_t len = ev->records[i].len;
        if (interpret) {
            r = search_format_interpret(b, ev, i, local_names);
            continue;
        }
        const char *sep = memchr(line, AUDIT_ENRICHED_SEPARATOR, len);
        r = buf_append(b, line, sep ? (size_t)(sep - line) : len);
        if (r == 0)
            r = buf_append(b, "\n", 1);
    }
    return r;
}

static int put_raw(struct buf *b, const struct audit_event *ev)
{
    return buf_append(b, ev->text.data, ev->text.len);
}

static int format_event(struct search_run *run, const struct audit_event *ev, struct buf *b)
{
    switch (run->o->format) {
    case SEARCH_FORMAT_RAW:
        return put_raw(b, ev);
    case SEARCH_FORMAT_DEFAULT:
        return put_default(b, ev, false, false);
    case SEARCH_FORMAT_INTERPRET:
        return put_default(b, ev, true, run->o->local_names);
    case SEARCH_FORMAT_CSV:
        return search_format_csv(b, ev);
    case SEARCH_FORMAT_TEXT:
    case SEARCH_FORMAT_JSON:
        return audit_normalize_event(run->norm, ev, b);
    }
    return 0;
}

static int on_event(const struct audit_event *ev, void *arg)
{
    struct search_run *run = arg;
    if (search_drop_has(&run->drop, ev))
        return 0; /* in part: the index skipped the rest, and it cannot match */
    int m = search_matcher_match(run->matcher, ev);
    if (m <= 0)
        return m;
    bool now = run->o->line_buffered;
    struct buf *b = now ? &run->out : search_order_buf(run->order);
    size_t off = b->len;
    int r = format_event(run, ev, b);
    if (r < 0)
        return r;
    run->matched++;
    if (now) { /* -l: as found, in collation order */
        write_all(run, b->data, b->len);
        buf_reset(b);
        return run->write_error;
    }
    struct search_order_key k = {ev->sec, ev->msec, ev->serial, run->group, run->seq++};
    r = search_order_add(run->order, &k, off);
    if (r < 0 && r != -ENOMEM && !run->order_error) {
        static atomic_flag said = ATOMIC_FLAG_INIT; /* once, not once per thread */
        const char *tmp = getenv("TMPDIR");
        if (!atomic_flag_test_and_set(&said))
            cli_error("search: keeping results in a temporary file in %s: %s",
                      tmp && *tmp ? tmp : "/tmp", err_str(r));
        run->order_error = r;
    }
    return r;
}

/* The bound of events ordered in memory, shared among n threads. */
static size_t order_events(unsigned n)
{
    size_t e = search_order_events_bound();
    return e / n ? e / n : 1;
}

/* Writes the ordered results of n orders to fd 1. */
static void write_ordered(struct search_run *run, struct search_order *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct search_order_stats *st = search_order_stats(v[i]);
        run->ord.events += st->events, run->ord.runs += st->runs;
        run->ord.bytes_spilled += st->bytes_spilled, run->ord.merges += st->merges;
    }
    int r = search_order_write(v, n, STDOUT_FILENO);
    if (r < 0 && !run->write_error)
        run->write_error = r;
}

static void on_bad_line(void *arg, const char *source, uint64_t line_no, uint64_t offset, int code)
{
    struct search_run *run = arg;
    if (!run->o->quiet)
        cli_error("search: %s:%llu: byte %llu: %s", source, (unsigned long long)line_no,
                  (unsigned long long)offset, err_str(code));
}

static void print_stats(const struct search_run *run, const struct audit_reader_stats *rs,
                        const struct audit_collate_stats *cs, const struct search_matcher_stats *ms)
{
    const struct search_index_stats *ix = &run->ix;
#define STATS_ARGS                                                                                 \
    (unsigned long long)rs->bytes, (unsigned long long)rs->records,                                \
        (unsigned long long)rs->not_audit, (unsigned long long)rs->malformed,                      \
        (unsigned long long)cs->events, (unsigned long long)ms->tested,                            \
        (unsigned long long)ms->matched, (unsigned long long)cs->late_records,                     \
        (unsigned long long)ix->files_indexed, (unsigned long long)ix->files_grown,                \
        (unsigned long long)ix->files_stale, (unsigned long long)ix->files_plain,                  \
        (unsigned long long)ix->blocks, (unsigned long long)ix->blocks_skipped,                    \
        (unsigned long long)ix->blocks_scanned, (unsigned long long)ix->bytes_skipped,             \
        (unsigned long long)run->ord.runs, (unsigned long long)run->ord.bytes_spilled,             \
        (unsigned long long)run->ord.merges
    if (run->o->format == SEARCH_FORMAT_JSON)
        fprintf(stderr,
                "{\"bytes\":%llu,\"records\":%llu,\"not_audit\":%llu,\"malformed\":%llu,"
                "\"events\":%llu,\"tested\":%llu,\"matched\":%llu,\"late_records\":%llu,"
                "\"files_indexed\":%llu,\"files_grown\":%llu,\"files_stale\":%llu,"
                "\"files_unindexed\":%llu,\"blocks\":%llu,\"blocks_skipped\":%llu,"
                "\"blocks_scanned\":%llu,\"bytes_skipped\":%llu,\"order_runs\":%llu,"
                "\"order_bytes_spilled\":%llu,\"order_merges\":%llu}\n",
                STATS_ARGS);
    else
        fprintf(stderr,
                "bytes %llu records %llu not_audit %llu malformed %llu events %llu tested %llu "
                "matched %llu late_records %llu files_indexed %llu files_grown %llu "
                "files_stale %llu files_unindexed %llu blocks %llu blocks_skipped %llu "
                "blocks_scanned %llu bytes_skipped %llu order_runs %llu order_bytes_spilled %llu "
                "order_merges %llu\n",
                STATS_ARGS);
#undef STATS_ARGS
}

static void on_bad_path(void *arg, const char *path, int code)
{
    (void)arg;
    cli_error("search: %s: %s", path, err_str(code));
}

/* --program/--grep: stored syslog lines instead of audit events. */
static int run_lines(struct search_options *o)
{
    const struct search_query *q = &o->q;
    if (search_query_needs_fields(q) || q->ntypes || q->event_id != SEARCH_UNSET ||
        (o->format_set && o->format != SEARCH_FORMAT_RAW && o->format != SEARCH_FORMAT_JSON)) {
        cli_error("search: --program and --grep search syslog lines: of the other options only "
                  "-ts, -te, -n, --format raw|json and --stats apply");
        return EXIT_TROUBLE;
    }
    char err[SEARCH_ERR_MAX];
    struct search_lines *l = search_lines_new(o, err, sizeof(err));
    if (!l) {
        cli_error("search: %s", err);
        return EXIT_TROUBLE;
    }
    struct search_pool pool;
    int status = search_pool_open(&pool, o, true, on_bad_path, NULL) ? EXIT_TROUBLE : EXIT_OK;
    const struct search_sources *src = &pool.src;
    bool progress = isatty(STDERR_FILENO) && src->n > 1;
    for (size_t i = 0; i < src->n; i++) {
        if (progress)
            fprintf(stderr, "\rsearch: file %zu of %zu\033[K", i + 1, src->n);
        int r = search_lines_read(l, src->v[i].path, src->v[i].host);
        if (r < 0) {
            cli_error("search: %s: %s", src->v[i].path, err_str(r));
            status = EXIT_TROUBLE;
            if (r == -ENOMEM || r == -EPIPE)
                break;
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    int r = search_lines_flush(l, STDOUT_FILENO);
    if (r < 0) {
        cli_error("search: writing output: %s", err_str(r));
        status = EXIT_TROUBLE;
    }
    const struct search_lines_stats *st = search_lines_stats(l);
    if (o->stats)
        fprintf(stderr, "lines %llu matched %llu no_time %llu\n", (unsigned long long)st->lines,
                (unsigned long long)st->matched, (unsigned long long)st->bad_time);
    if (status == EXIT_OK && st->matched == 0) {
        fputs("<no matches>\n", stderr);
        status = EXIT_NEGATIVE;
    }
    search_pool_free(&pool);
    search_lines_free(l);
    return status;
}

/* ----------------------------------------------------------- threads */

/* A store's hosts are read on SEARCH_POOL_THREADS threads at most
 * (search/pool: one host at a time each, as its own stream, with a
 * search_run of its own); each thread orders its results in its share of
 * the memory bound (search/order, spilling sorted runs), and all are merged
 * by time at the end, so the output is what one thread prints. */
static int thread_read(void *arg, const struct search_source *s, struct audit_reader *reader)
{
    struct search_run *run = arg;
    const struct search_options *o = run->o;
    run->group = s->group;
    int r = o->no_index ? search_source_read(s, reader)
                        : search_index_feed(s->path, &o->q, reader, &run->ix, &run->drop);
    if (r < 0 && !run->order_error)
        cli_error("search: %s: %s", s->path, err_str(r));
    return r < 0 && run->order_error ? -ECANCELED : r; /* said once, by on_event */
}

static const struct search_pool_ops thread_ops = {
    .on_event = on_event,
    .on_bad_line = on_bad_line,
    .read = thread_read,
    .thread_end = search_format_thread_end, /* this thread's field array */
};

static void add_stats(struct search_matcher_stats *ms, struct search_index_stats *ix,
                      const struct search_run *run)
{
    const struct search_matcher_stats *m = search_matcher_stats(run->matcher);
    ms->tested += m->tested, ms->matched += m->matched;
    const struct search_index_stats *x = &run->ix;
    ix->files_indexed += x->files_indexed, ix->files_plain += x->files_plain;
    ix->files_stale += x->files_stale, ix->files_grown += x->files_grown;
    ix->blocks += x->blocks, ix->blocks_skipped += x->blocks_skipped;
    ix->blocks_scanned += x->blocks_scanned, ix->bytes_skipped += x->bytes_skipped;
}

static void free_run(struct search_run *run)
{
    audit_normalizer_free(run->norm);
    search_matcher_free(run->matcher);
    search_order_free(run->order);
    search_drop_free(&run->drop);
    buf_free(&run->out);
}

/* Reads the pool's groups on n threads, writes the ordered results through
 * main_run, and sums the counters. Returns an exit status. */
static int search_threaded(struct search_run *main_run, struct search_pool *pool, unsigned n,
                           const struct audit_normalize_options *nopt)
{
    struct search_run runs[SEARCH_POOL_THREADS];
    void *state[SEARCH_POOL_THREADS];
    int status = EXIT_OK;
    memset(runs, 0, sizeof(runs));
    for (unsigned k = 0; k < n; k++) {
        struct search_run *x = &runs[k];
        state[k] = x;
        x->o = main_run->o;
        buf_init(&x->out, 0);
        /* the memory bound is shared: each thread orders its part of it */
        x->order = search_order_new(order_events(n), SEARCH_ORDER_BYTES / n);
        x->matcher = search_matcher_new(&main_run->o->q);
        x->norm = audit_normalizer_new(nopt);
        if (!x->order || !x->matcher || !x->norm) {
            status = EXIT_TROUBLE;
            break;
        }
    }
    if (status == EXIT_OK && search_pool_run(pool, &thread_ops, state, n) != 0)
        status = EXIT_TROUBLE; /* a source, a host's end or a thread failed */
    struct search_order *orders[SEARCH_POOL_THREADS];
    for (unsigned k = 0; k < n; k++) {
        orders[k] = runs[k].order;
        main_run->matched += runs[k].matched;
        main_run->order_error = main_run->order_error ? main_run->order_error : runs[k].order_error;
    }
    /* what was found, even past an error reading an input (not past one keeping results) */
    if ((status == EXIT_OK || main_run->matched) && !main_run->order_error)
        write_ordered(main_run, orders, n);
    struct search_matcher_stats ms = {0};
    for (unsigned k = 0; k < n; k++) {
        if (runs[k].matcher)
            add_stats(&ms, &main_run->ix, &runs[k]);
        free_run(&runs[k]);
    }
    if (main_run->o->stats)
        print_stats(main_run, &pool->reader_stats, &pool->collate_stats, &ms);
    return status;
}

/* How many threads (search/pool): one per store host up to the cores and
 * the bound; 1 for a single stream, -l, or LOGWARD_SEARCH_THREADS=1. */
static unsigned thread_count(const struct search_options *o, const struct search_pool *pool)
{
    return o->line_buffered ? 1 : search_pool_threads(pool);
}

static int run_search(struct search_options *o)
{
    struct search_run run = {.o = o};
    struct audit_normalize_options nopt = {
        .format = o->format == SEARCH_FORMAT_TEXT ? AUDIT_OUTPUT_TEXT : AUDIT_OUTPUT_JSON,
        .local_names = o->local_names,
        .utc = o->utc,
    };
    buf_init(&run.out, 0);
    run.order = search_order_new(order_events(1), SEARCH_ORDER_BYTES);
    run.matcher = search_matcher_new(&o->q);
    run.norm = audit_normalizer_new(&nopt);
    struct audit_collate *c = audit_collate_new(NULL, on_event, &run);
    struct audit_reader *reader = c ? audit_reader_new(c, on_bad_line, &run) : NULL;
    int status = EXIT_OK;
    if (!run.order || !run.matcher || !run.norm || !reader) {
        cli_error("search: out of memory");
        status = EXIT_TROUBLE;
        goto done;
    }
    struct search_pool pool;
    if (search_pool_open(&pool, o, false, on_bad_path, NULL) > 0)
        status = EXIT_TROUBLE;
    if (o->format == SEARCH_FORMAT_CSV)
        write_all(&run, SEARCH_CSV_HEADER, strlen(SEARCH_CSV_HEADER));
    unsigned nthreads = thread_count(o, &pool);
    if (nthreads > 1) {
        int st = search_threaded(&run, &pool, nthreads, &nopt);
        status = st != EXIT_OK ? st : status;
        search_pool_free(&pool);
        goto finish;
    }
    const struct search_sources *src = &pool.src;
    bool progress = isatty(STDERR_FILENO) && src->n > 1;
    for (size_t i = 0; i < src->n && !run.write_error; i++) {
        const struct search_source *s = &src->v[i];
        if (i && s->group != s[-1].group && audit_collate_flush(c) < 0)
            break;    /* records never span a store's hosts */
        if (progress) /* on a terminal only: file i of n, matched so far */
            fprintf(stderr, "\rsearch: file %zu of %zu, %llu matched\033[K", i + 1, src->n,
                    (unsigned long long)run.matched);
        run.group = s->group;
        int r = o->no_index || !strcmp(s->path, "-")
                    ? search_source_read(s, reader)
                    : search_index_feed(s->path, &o->q, reader, &run.ix, &run.drop);
        if (r == -ENOMEM) {
            cli_error("search: out of memory");
            status = EXIT_TROUBLE;
            break;
        }
        if (r < 0 && r != run.write_error && !run.order_error)
            cli_error("search: %s: %s", s->path, err_str(r));
        if (r < 0 && r != run.write_error)
            status = EXIT_TROUBLE;
        if (run.order_error)
            break;
    }
    if (progress)
        fputs("\r\033[K", stderr);
    search_pool_free(&pool);
    if (!run.write_error && !run.order_error && audit_collate_flush(c) < 0 && !run.write_error)
        status = EXIT_TROUBLE;
    if (!run.order_error) /* else the results are not all there to be ordered */
        write_ordered(&run, &run.order, 1);
    if (o->stats)
        print_stats(&run, audit_reader_stats(reader), audit_collate_stats(c),
                    search_matcher_stats(run.matcher));
finish:
    if (run.write_error) {
        cli_error("search: writing output: %s", strerror(-run.write_error));
        status = EXIT_TROUBLE;
    }
    if (status == EXIT_OK && run.matched == 0) {
        fputs("<no matches>\n", stderr);
        status = EXIT_NEGATIVE;
    }
done:
    audit_reader_free(reader);
    audit_collate_free(c);
    audit_normalizer_free(run.norm);
    search_matcher_free(run.matcher);
    search_order_free(run.order);
    search_drop_free(&run.drop);
    buf_free(&run.out);
    return status;
}

int cmd_search(int argc, char **argv)
{
    static struct search_options o; /* large (paths, types): not on the stack */
    char err[SEARCH_ERR_MAX];
    /* Test hook: a pinned clock where faketime cannot be preloaded (the
     * sanitizer build deadlocks under libfaketime); docs/search.md. */
    const char *pinned = getenv("LOGWARD_SEARCH_NOW");
    time_t now = pinned ? (time_t)strtoll(pinned, NULL, 10) : time(NULL);
    if (search_options_parse(&o, argc, argv, now, err) < 0) {
        cli_error("search: %s", err);
        return EXIT_TROUBLE;
    }
    if (o.help) {
        usage(stdout);
        return EXIT_OK;
    }
    if (o.version) {
        puts("logward search (ausearch-compatible options)");
        return EXIT_OK;
    }
    return o.nprograms || o.grep ? run_lines(&o) : run_search(&o);
}
