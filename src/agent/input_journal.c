/*
 * input_journal: journal and journal:PATH, entries of the systemd journal
 * through sd-journal (libsystemd), each rendered as one RFC 5424 line:
 *
 *   <PRI>1 TIMESTAMP HOST APP PROCID - [journal@32473 NAME="VALUE" ...] MESSAGE
 *
 * PRI from SYSLOG_FACILITY and PRIORITY; TIMESTAMP from the entry's
 * realtime (microseconds, UTC, "Z"); HOST _HOSTNAME; APP SYSLOG_IDENTIFIER
 * else _COMM; PROCID _PID; the structured data holds the fields of
 * journal_sd_fields[] the entry has (values escaped per RFC 5424: '"', '\'
 * and ']' get a backslash). MESSAGE is kept byte for byte except control
 * bytes (LF among them) and bytes that are not UTF-8, which become #ooo
 * (three octal digits, as rsyslog writes them), so a record is one line.
 * The position is the entry's cursor, committed with each batch; a restart
 * seeks to it and skips the entry it names. First start: a journal PATH
 * from its head, the system journal from the start of the current boot.
 * Reading only: nothing here changes the journal or its files.
 */
#include "agent/input_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LW_HAVE_SYSTEMD

#include "base/buf.h"
#include "base/utf8.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_VALUE_MAX  1024 /* bytes of one structured-data value kept (the rest cut) */
#define JOURNAL_HOST_MAX   255  /* RFC 5424 field bounds */
#define JOURNAL_APP_MAX    48
#define JOURNAL_PROCID_MAX 128
#define JOURNAL_SD_ID      "journal@32473"

/* The fields kept as structured data, in this order. */
static const char *const journal_sd_fields[] = {
    "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_UID",     "_GID",           "_COMM",           "_EXE",
    "_CMDLINE",      "_TRANSPORT",         "_BOOT_ID", "_AUDIT_SESSION", "_AUDIT_LOGINUID",
};

struct journal_in {
    sd_journal *j;
    char path[QUEUE_INPUT_ID_MAX]; /* "" for the system journal */
    int timer;                     /* polls while the journal cannot be opened */
    bool waiting;                  /* not open: counted in gone once */
    struct buf line;
};

/* The value of FIELD in the current entry (borrowed), or NULL. */
static const char *journal_field(sd_journal *j, const char *field, size_t *len)
{
    const void *d;
    size_t n, fl = strlen(field);
    if (sd_journal_get_data(j, field, &d, &n) < 0 || n <= fl)
        return NULL;
    *len = n - fl - 1;
    return (const char *)d + fl + 1;
}

/* Appends p[0..n) with control bytes and non-UTF-8 bytes as #ooo, and, in
 * a structured-data value (sd), '"', '\' and ']' after a backslash. */
static void journal_escape(struct buf *b, const char *p, size_t n, bool sd)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        size_t k = u[i] >= 0x80 ? utf8_sequence_len(u + i, n - i) : 1;
        if (u[i] >= 0x80 && k) {
            buf_put(b, p + i, k);
            i += k;
            continue;
        }
        if (u[i] < 0x20 || u[i] == 0x7f || u[i] >= 0x80) {
            char o[5] = {'#', (char)('0' + (u[i] >> 6)), (char)('0' + ((u[i] >> 3) & 7)),
                         (char)('0' + (u[i] & 7)), 0};
            buf_put(b, o, 4);
        } else {
            if (sd && (u[i] == '"' || u[i] == '\\' || u[i] == ']'))
                buf_putc(b, '\\');
            buf_putc(b, (char)u[i]);
        }
        i++;
    }
}

/* A header field (HOST, APP, PROCID): printable ASCII without space,
 * bounded; anything else becomes '_'; absent or empty is "-". */
static void journal_header_field(struct buf *b, const char *p, size_t n, size_t max)
{
    if (!p || n == 0) {
        buf_putc(b, '-');
    } else {
        for (size_t i = 0; i < n && i < max; i++)
            buf_putc(b, p[i] > 0x20 && p[i] < 0x7f ? p[i] : '_');
    }
    buf_putc(b, ' ');
}

static unsigned journal_number(const char *p, size_t n, unsigned dflt, unsigned max)
{
    unsigned v = 0;
    if (!p || n == 0 || n > 3)
        return dflt;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return dflt;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= max ? v : dflt;
}

/* Renders the current entry into b. Returns 0 or a negative errno. */
static int journal_render(sd_journal *j, struct buf *b)
{
    size_t n, fn, tn;
    const char *v, *fac = journal_field(j, "SYSLOG_FACILITY", &fn);
    const char *tr = journal_field(j, "_TRANSPORT", &tn);
    bool kernel = tr && tn == 6 && !memcmp(tr, "kernel", 6);
    unsigned pri = journal_number(fac, fn, kernel ? 0 : 1, 23) * 8;
    v = journal_field(j, "PRIORITY", &n);
    pri += journal_number(v, n, 6, 7);
    uint64_t usec = 0;
    int r = sd_journal_get_realtime_usec(j, &usec);
    if (r < 0)
        return r;
    time_t sec = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    buf_reset(b);
    if ((r = buf_printf(b, "<%u>1 %04d-%02d-%02dT%02d:%02d:%02d.%06uZ ", pri, tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (unsigned)(usec % 1000000))) < 0)
        return r;
    /* Each piece below is at most 4 bytes out per byte in, plus punctuation. */
    if ((r = buf_reserve(b, JOURNAL_HOST_MAX + JOURNAL_APP_MAX + JOURNAL_PROCID_MAX + 16 +
                                sizeof journal_sd_fields / sizeof *journal_sd_fields *
                                    (32 + 8 * JOURNAL_VALUE_MAX))) < 0)
        return r;
    v = journal_field(j, "_HOSTNAME", &n);
    journal_header_field(b, v, n, JOURNAL_HOST_MAX);
    if (!(v = journal_field(j, "SYSLOG_IDENTIFIER", &n)))
        v = journal_field(j, "_COMM", &n);
    journal_header_field(b, v, n, JOURNAL_APP_MAX);
    v = journal_field(j, "_PID", &n);
    journal_header_field(b, v, n, JOURNAL_PROCID_MAX);
    buf_put(b, "- ", 2);
    size_t sd_start = b->len;
    for (size_t i = 0; i < sizeof journal_sd_fields / sizeof *journal_sd_fields; i++) {
        if (!(v = journal_field(j, journal_sd_fields[i], &n)))
            continue;
        if (b->len == sd_start)
            buf_put(b, "[" JOURNAL_SD_ID, strlen(JOURNAL_SD_ID) + 1);
        buf_putc(b, ' ');
        buf_put(b, journal_sd_fields[i], strlen(journal_sd_fields[i]));
        buf_put(b, "=\"", 2);
        journal_escape(b, v, n > JOURNAL_VALUE_MAX ? JOURNAL_VALUE_MAX : n, true);
        buf_putc(b, '"');
    }
    if (b->len == sd_start)
        buf_putc(b, '-');
    else
        buf_putc(b, ']');
    if ((v = journal_field(j, "MESSAGE", &n)) && n) {
        if ((r = buf_reserve(b, 1 + 4 * n)) < 0)
            return r;
        buf_putc(b, ' ');
        journal_escape(b, v, n, false);
    }
    return 0;
}

/* Opens the journal; 1 when open, 0 when it is not there (yet). */
static int journal_try_open(struct journal_in *ji)
{
    struct stat s;
    int r;
    if (!ji->path[0])
        r = sd_journal_open(&ji->j, SD_JOURNAL_LOCAL_ONLY);
    else if (stat(ji->path, &s) != 0)
        r = -errno;
    else if (S_ISDIR(s.st_mode))
        r = sd_journal_open_directory(&ji->j, ji->path, 0);
    else
        r = sd_journal_open_files(&ji->j, (const char *[]){ji->path, NULL}, 0);
    if (r < 0) {
        ji->j = NULL;
        return r == -ENOENT ? 0 : r;
    }
    sd_journal_set_data_threshold(ji->j, QUEUE_RECORD_MAX);
    return 1;
}

/* Seeks to the committed cursor, or where a first start begins. */
static int journal_seek(struct input *in, struct journal_in *ji)
{
    char cur[QUEUE_POSITION_MAX + 1];
    int n = queue_position(in->q, in->spec, cur, QUEUE_POSITION_MAX);
    if (n > 0) {
        cur[n] = '\0';
        int r = sd_journal_seek_cursor(ji->j, cur);
        if (r < 0)
            return r;
        r = sd_journal_next(ji->j);
        if (r > 0 && sd_journal_test_cursor(ji->j, cur) <= 0)
            sd_journal_previous(ji->j); /* the cursor's entry is gone: this one is next */
        return r < 0 ? r : 0;
    }
    if (ji->path[0])
        return sd_journal_seek_head(ji->j);
    sd_id128_t boot;
    if (sd_id128_get_boot(&boot) == 0 && sd_journal_seek_monotonic_usec(ji->j, boot, 0) == 0)
        return 0;
    return sd_journal_seek_head(ji->j);
}

/* Arms (on) or disarms the timer that retries opening. */
static void journal_poll(struct journal_in *ji, bool on)
{
    long ns = (long)INPUT_POLL_MS * 1000000L;
    struct itimerspec t = {{0, 0}, {0, 0}};
    if (on)
        t.it_interval = t.it_value = (struct timespec){ns / 1000000000L, ns % 1000000000L};
    timerfd_settime(ji->timer, 0, &t, NULL);
}

static int journal_open_now(struct input *in, struct journal_in *ji)
{
    int r = journal_try_open(ji);
    if (r <= 0) {
        if (!ji->waiting)
            in->st.gone++;
        ji->waiting = true;
        journal_poll(ji, true);
        return r;
    }
    ji->waiting = false;
    journal_poll(ji, false);
    int fd = sd_journal_get_fd(ji->j);
    if (fd >= 0)
        r = input_watch(in, fd);
    if (fd < 0 || r < 0) /* no inotify: poll */
        journal_poll(ji, true);
    if ((r = journal_seek(in, ji)) < 0) {
        fprintf(stderr, "logward-agent: %s: cannot seek: %s\n", in->spec, strerror(-r));
        return r;
    }
    return 1;
}

static int journal_run(struct input *in, size_t budget)
{
    struct journal_in *ji = in->impl;
    uint64_t ticks;
    if (read(ji->timer, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return -errno;
    if (!ji->j) {
        int r = journal_open_now(in, ji);
        if (r <= 0)
            return r;
    }
    sd_journal_process(ji->j);
    size_t puts = 0, records = 0, bytes = 0;
    int r = 0;
    while (puts < budget && bytes < INPUT_BATCH_BYTES && (r = sd_journal_next(ji->j)) > 0) {
        if ((r = journal_render(ji->j, &ji->line)) < 0) {
            in->st.bad++;
            r = 0;
            continue;
        }
        int p = input_put(in, QUEUE_KIND_SYSLOG, ji->line.data, ji->line.len);
        if (p < 0) {
            queue_abort(in->q);
            in->commit_failed = true;
            return p;
        }
        records += (size_t)p;
        puts++;
        bytes += ji->line.len;
    }
    if (puts) {
        char *cursor = NULL;
        int c = sd_journal_get_cursor(ji->j, &cursor);
        if (c < 0) {
            queue_abort(in->q);
            in->commit_failed = true;
            return c;
        }
        c = input_commit(in, records, cursor, strlen(cursor));
        free(cursor);
        if (c < 0)
            return c;
    }
    return r < 0 ? r : (int)puts;
}

static int journal_rewind(struct input *in)
{
    struct journal_in *ji = in->impl;
    return ji->j ? journal_seek(in, ji) : 0;
}

static void journal_free(struct input *in)
{
    struct journal_in *ji = in->impl;
    if (!ji)
        return;
    if (ji->j)
        sd_journal_close(ji->j);
    if (ji->timer >= 0)
        close(ji->timer);
    buf_free(&ji->line);
    free(ji);
    in->impl = NULL;
}

static const struct input_ops journal_ops = {journal_run, journal_rewind, journal_free};

bool input_journal_available(void)
{
    return true;
}

int input_journal_open(struct input *in, const char *path, char *err, size_t errcap)
{
    struct journal_in *ji = calloc(1, sizeof *ji);
    if (!ji) {
        snprintf(err, errcap, "input '%s': out of memory", in->spec);
        return -ENOMEM;
    }
    in->impl = ji;
    in->ops = &journal_ops;
    buf_init(&ji->line, QUEUE_RECORD_MAX * 5);
    snprintf(ji->path, sizeof ji->path, "%s", path ? path : "");
    ji->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int r = ji->timer < 0 ? -errno : input_watch(in, ji->timer);
    if (r >= 0)
        r = journal_open_now(in, ji);
    if (r < 0) {
        snprintf(err, errcap, "input '%s': %s", in->spec, strerror(-r));
        return r;
    }
    return 0;
}

#else /* !LW_HAVE_SYSTEMD */

bool input_journal_available(void)
{
    return false;
}

int input_journal_open(struct input *in, const char *path, char *err, size_t errcap)
{
    (void)path;
    snprintf(err, errcap, "input '%s': built without libsystemd", in->spec);
    return -ENOTSUP;
}

#endif
