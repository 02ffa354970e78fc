/*
 * logward events: reads audit logs (files, directories of rotated logs
 * oldest first, or standard input), collates their records into events and
 * prints one normalized JSON object (or text line) per event. --follow keeps
 * reading a growing file across rotation. It reads; it never writes a log.
 */
#include "audit/collate.h"
#include "audit/normalize.h"
#include "audit/reader.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/dir_list.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_FLUSH_BYTES    (1u << 20)
#define ERRORS_SHOWN          20
#define FOLLOW_POLL_MS        200
#define FOLLOW_EXPIRE_SECONDS 2

struct events_run {
    struct audit_normalizer *norm;
    struct buf out;
    uint64_t events;
    uint64_t errors_reported;
    bool quiet;
    int write_error;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fputs("usage: logward events [OPTIONS] [FILE|DIR|-]...\n"
          "\n"
          "Collates Linux audit records into events (by node, time stamp and serial,\n"
          "with or without EOE records) and prints one JSON object per event\n"
          "(schema: docs/event-schema.md) or one text line per event.\n"
          "A DIR is read as a set of rotated logs, oldest first (audit.log.N ... audit.log).\n"
          "With no input, or '-', standard input is read.\n"
          "\n"
          "options:\n"
          "  -F, --format json|text   output format (default json)\n"
          "  -f, --follow             keep reading a growing FILE, across rotation\n"
          "      --utc                times in UTC instead of the local time zone\n"
          "      --local-names        name ids from this machine's accounts when the\n"
          "                           records carry no names (off: the sender's accounts\n"
          "                           are not this machine's)\n"
          "      --event-window N     close an event once N newer events opened (32768)\n"
          "      --settle-window N    ... or N after its PROCTITLE record (64)\n"
          "      --time-window S      ... or once record time passed it by S seconds (600)\n"
          "      --max-open N         most events open at once; the oldest is closed (65536)\n"
          "      --stats              print counters to standard error at the end\n"
          "  -q, --quiet              do not report each line that is not a record\n"
          "  -h, --help               this text\n"
          "\n"
          "exit status: 0 events printed, 1 no event found, 2 usage or I/O error\n",
          f);
}

/* Output goes straight to fd 1 in large writes, bypassing stdio's copy. */
static void flush_output(struct events_run *run)
{
    const char *p = run->out.data;
    size_t left = run->out.len;
    while (left && !run->write_error) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n < 0 && errno != EINTR)
            run->write_error = -errno;
        else if (n > 0)
            p += n, left -= (size_t)n;
    }
    buf_reset(&run->out);
}

static int on_event(const struct audit_event *ev, void *arg)
{
    struct events_run *run = arg;
    int r = audit_normalize_event(run->norm, ev, &run->out);
    if (r < 0)
        return r;
    run->events++;
    if (run->out.len >= OUTPUT_FLUSH_BYTES)
        flush_output(run);
    return run->write_error;
}

static void on_bad_line(void *arg, const char *source, uint64_t line_no, uint64_t offset, int code)
{
    struct events_run *run = arg;
    if (run->quiet || ++run->errors_reported > ERRORS_SHOWN)
        return;
    cli_error("%s:%llu: byte %llu: %s", source, (unsigned long long)line_no,
              (unsigned long long)offset, err_str(code));
}

/* "audit.log.3" -> base "audit.log", 3; "audit.log" -> -1 (the newest). */
static long rotation_number(const char *name, size_t *base_len)
{
    const char *dot = strrchr(name, '.');
    *base_len = strlen(name);
    if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return -1;
    *base_len = (size_t)(dot - name);
    return strtol(dot + 1, NULL, 10);
}

static int compare_rotated(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t xl, yl;
    long xn = rotation_number(x, &xl), yn = rotation_number(y, &yl);
    int c = strncmp(x, y, xl < yl ? xl : yl);
    if (c || xl != yl)
        return c ? c : (xl < yl ? -1 : 1);
    if (xn == yn)
        return 0;
    if (xn < 0 || yn < 0)
        return xn < 0 ? 1 : -1;
    return xn > yn ? -1 : 1; /* higher number = older = first */
}

static int read_path(struct audit_reader *reader, const char *path);

static bool not_hidden(const char *dir, const char *name, void *arg)
{
    (void)dir;
    (void)arg;
    return name[0] != '.';
}

static int read_dir(struct audit_reader *reader, const char *path)
{
    char **names;
    size_t n;
    int r = dir_list(path, not_hidden, NULL, compare_rotated, &names, &n);
    if (r < 0 && !n)
        return r;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (r == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            r = read_path(reader, names[i]);
    }
    dir_list_free(names, n);
    return r;
}

static int read_path(struct audit_reader *reader, const char *path)
{
    if (!strcmp(path, "-")) {
        int r = audit_reader_begin(reader, "<stdin>");
        return r < 0 ? r : audit_reader_read_fd(reader, 0);
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return read_dir(reader, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = audit_reader_begin(reader, path);
    if (r == 0)
        r = audit_reader_read_fd(reader, fd);
    close(fd);
    return r;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reads path as it grows; reopens it when it is replaced (rotation) after
 * reading the rest of the old file. Ends on SIGINT/SIGTERM. */
static int follow_path(struct audit_reader *reader, struct audit_collate *c, struct events_run *run,
                       const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = audit_reader_begin(reader, path);
    time_t last_expire = time(NULL);
    while (r == 0 && !stop_requested) {
        r = audit_reader_read_fd(reader, fd);
        flush_output(run);
        struct stat now, cur;
        if (r == 0 && stat(path, &now) == 0 && fstat(fd, &cur) == 0 &&
            (now.st_ino != cur.st_ino || now.st_dev != cur.st_dev || now.st_size < cur.st_size)) {
            r = audit_reader_read_fd(reader, fd);
            close(fd);
            if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return -errno;
            if (r == 0)
                r = audit_reader_begin(reader, path);
            continue;
        }
        if (r == 0 && time(NULL) - last_expire >= FOLLOW_EXPIRE_SECONDS) {
            r = audit_collate_expire(c);
            last_expire = time(NULL);
        }
        sleep_ms(FOLLOW_POLL_MS);
    }
    close(fd);
    return r;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static void print_stats(const struct audit_reader *reader, const struct audit_collate *c)
{
    const struct audit_reader_stats *rs = audit_reader_stats(reader);
    const struct audit_collate_stats *cs = audit_collate_stats(c);
    fprintf(stderr,
            "bytes %llu lines %llu records %llu blank %llu not_audit %llu malformed %llu\n"
            "events %llu late_records %llu stray_eoe %llu max_open %llu closed_by",
            (unsigned long long)rs->bytes, (unsigned long long)rs->lines,
            (unsigned long long)rs->records, (unsigned long long)rs->blank,
            (unsigned long long)rs->not_audit, (unsigned long long)rs->malformed,
            (unsigned long long)cs->events, (unsigned long long)cs->late_records,
            (unsigned long long)cs->stray_eoe, (unsigned long long)cs->max_open_seen);
    for (int i = 0; i < AUDIT_CLOSE_REASONS; i++)
        fprintf(stderr, " %s=%llu", audit_close_reason_name((enum audit_close_reason)i),
                (unsigned long long)cs->closed_by[i]);
    fputc('\n', stderr);
}

enum {
    OPT_UTC = 256,
    OPT_LOCAL_NAMES,
    OPT_EVENT_WINDOW,
    OPT_SETTLE_WINDOW,
    OPT_TIME_WINDOW,
    OPT_MAX_OPEN,
    OPT_STATS
};

int cmd_events(int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'F'},
        {"follow", no_argument, NULL, 'f'},
        {"utc", no_argument, NULL, OPT_UTC},
        {"local-names", no_argument, NULL, OPT_LOCAL_NAMES},
        {"event-window", required_argument, NULL, OPT_EVENT_WINDOW},
        {"settle-window", required_argument, NULL, OPT_SETTLE_WINDOW},
        {"time-window", required_argument, NULL, OPT_TIME_WINDOW},
        {"max-open", required_argument, NULL, OPT_MAX_OPEN},
        {"stats", no_argument, NULL, OPT_STATS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct audit_normalize_options nopt = {.format = AUDIT_OUTPUT_JSON};
    struct audit_collate_config ccfg = {0};
    bool follow = false, stats = false, quiet = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "F:fqh", options, NULL)) != -1) {
        uint32_t *target = NULL;
        switch (opt) {
        case 'F':
            if (!strcmp(optarg, "json"))
                nopt.format = AUDIT_OUTPUT_JSON;
            else if (!strcmp(optarg, "text"))
                nopt.format = AUDIT_OUTPUT_TEXT;
            else {
                cli_error("events: unknown format '%s' (json or text)", optarg);
                return EXIT_TROUBLE;
            }
            break;
        case 'f':
            follow = true;
            break;
        case 'q':
            quiet = true;
            break;
        case OPT_UTC:
            nopt.utc = true;
            break;
        case OPT_LOCAL_NAMES:
            nopt.local_names = true;
            break;
        case OPT_STATS:
            stats = true;
            break;
        case OPT_EVENT_WINDOW:
            target = &ccfg.event_window;
            break;
        case OPT_SETTLE_WINDOW:
            target = &ccfg.settle_window;
            break;
        case OPT_TIME_WINDOW:
            target = &ccfg.time_window;
            break;
        case OPT_MAX_OPEN:
            target = &ccfg.max_open;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_TROUBLE;
        }
        if (target && !parse_u32(optarg, target)) {
            cli_error("events: '%s' is not a positive whole number", optarg);
            return EXIT_TROUBLE;
        }
    }
    int ninputs = argc - optind;
    if (follow && (ninputs != 1 || !strcmp(argv[optind], "-"))) {
        cli_error("events: --follow takes exactly one FILE");
        return EXIT_TROUBLE;
    }
    struct events_run run = {.quiet = quiet};
    buf_init(&run.out, 0);
    run.norm = audit_normalizer_new(&nopt);
    struct audit_collate *c = audit_collate_new(&ccfg, on_event, &run);
    struct audit_reader *reader = c ? audit_reader_new(c, on_bad_line, &run) : NULL;
    if (!run.norm || !reader) {
        cli_error("events: out of memory");
        return EXIT_TROUBLE;
    }
    if (follow) {
        signal(SIGINT, on_stop_signal);
        signal(SIGTERM, on_stop_signal);
    }
    int status = EXIT_OK, r = 0;
    for (int i = optind; i < argc || (ninputs == 0 && i == optind); i++) {
        const char *path = ninputs ? argv[i] : "-";
        r = follow ? follow_path(reader, c, &run, path) : read_path(reader, path);
        if (r < 0 && r != run.write_error) {
            cli_error("events: %s: %s", path, err_str(r));
            status = EXIT_TROUBLE;
            r = 0; /* go on with the other inputs */
        }
        if (run.write_error)
            break;
    }
    if (!run.write_error) {
        audit_reader_finish(reader);
        audit_collate_flush(c);
    }
    flush_output(&run);
    if (run.write_error) {
        cli_error("events: writing output: %s", strerror(-run.write_error));
        status = EXIT_TROUBLE;
    }
    const struct audit_reader_stats *rs = audit_reader_stats(reader);
    if (run.errors_reported > ERRORS_SHOWN)
        cli_error("events: %llu more lines that are not records were not shown",
                  (unsigned long long)(run.errors_reported - ERRORS_SHOWN));
    if (stats)
        print_stats(reader, c);
    else if (!quiet && (rs->not_audit || rs->malformed))
        cli_error("events: skipped %llu lines that are not audit records and %llu malformed",
                  (unsigned long long)rs->not_audit, (unsigned long long)rs->malformed);
    if (status == EXIT_OK && run.events == 0)
        status = EXIT_NEGATIVE;
    audit_reader_free(reader);
    audit_collate_free(c);
    audit_normalizer_free(run.norm);
    buf_free(&run.out);
    return status;
}
