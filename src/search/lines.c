/*
 * lines: search over stored syslog lines (see lines.h). Each file is read
 * as a stream (plain or zstd); a kept line is handed to search/order with
 * its time and a sequence number, which orders all of them by time in
 * bounded memory (spilling sorted runs) and writes them at the end. Time
 * stamps are RFC 3339 as the
 * collector writes them (docs/formats.md); a line without one sorts first
 * and is kept only without -ts/-te.
 */
#include "search/lines.h"

#include "base/json.h"
#include "search/input.h"
#include "search/order.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct search_lines {
    const struct search_options *o;
    pcre2_code *re;
    pcre2_match_data *md;
    struct search_order *order; /* the kept lines; key: seconds, microseconds, arrival */
    uint64_t seq;
    struct search_lines_stats stats;
};

struct search_lines *search_lines_new(const struct search_options *o, char *err, size_t errlen)
{
    struct search_lines *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->o = o;
    if (!(l->order = search_order_new(search_order_events_bound(), 0))) {
        snprintf(err, errlen, "out of memory");
        search_lines_free(l);
        return NULL;
    }
    if (o->grep) {
        int code;
        PCRE2_SIZE at;
        l->re = pcre2_compile((PCRE2_SPTR)o->grep, PCRE2_ZERO_TERMINATED, 0, &code, &at, NULL);
        if (!l->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof(msg));
            snprintf(err, errlen, "--grep: bad regular expression at offset %zu: %s", (size_t)at,
                     (const char *)msg);
            search_lines_free(l);
            return NULL;
        }
        pcre2_jit_compile(l->re, PCRE2_JIT_COMPLETE); /* faster where available */
        if (!(l->md = pcre2_match_data_create_from_pattern(l->re, NULL))) {
            snprintf(err, errlen, "out of memory");
            search_lines_free(l);
            return NULL;
        }
    }
    return l;
}

void search_lines_free(struct search_lines *l)
{
    if (!l)
        return;
    pcre2_match_data_free(l->md);
    pcre2_code_free(l->re);
    search_order_free(l->order);
    free(l);
}

const struct search_lines_stats *search_lines_stats(const struct search_lines *l)
{
    return &l->stats;
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

bool search_lines_time(const char *p, size_t n, int64_t *sec, uint32_t *usec)
{
    /* 2026-12-01T14:40:02[.ffffff](+|-)HH:MM | Z */
    if (n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return false;
    struct tm tm = {0};
    int y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2), h = digits(p + 11, 2),
        mi = digits(p + 14, 2), s = digits(p + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || s < 0)
        return false;
    size_t i = 19;
    uint32_t frac = 0, scale = 1000000;
    if (i < n && p[i] == '.')
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            if (scale > 1)
                scale /= 10, frac += (uint32_t)(p[i] - '0') * scale;
    int64_t off = 0;
    if (i < n && p[i] == 'Z') {
        i++;
    } else if (i + 6 <= n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int oh = digits(p + i + 1, 2), om = digits(p + i + 4, 2);
        if (oh < 0 || om < 0)
            return false;
        off = (p[i] == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    } else {
        return false;
    }
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
    *sec = (int64_t)timegm(&tm) - off;
    *usec = frac;
    return true;
}

bool search_lines_program(const char *line, size_t n, const char **p, size_t *len)
{
    const char *a = memchr(line, ' ', n); /* after the time stamp */
    const char *b = a ? memchr(a + 1, ' ', n - (size_t)(a + 1 - line)) : NULL; /* after host */
    if (!b)
        return false;
    const char *start = b + 1, *end = line + n, *q = start;
    while (q < end && *q != '[' && *q != ':' && *q != ' ')
        q++;
    if (q == start || q == end || *q == ' ')
        return false;
    *p = start, *len = (size_t)(q - start);
    return true;
}

/* The program a store file holds: "sshd" of "HOST/sshd.log.2.zst". */
static bool file_program(const char *path, const char **p, size_t *len)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    const char *dot = strstr(name, ".log");
    if (!dot)
        return false;
    *p = name, *len = (size_t)(dot - name);
    return true;
}

static bool program_wanted(const struct search_options *o, const char *p, size_t n)
{
    for (unsigned i = 0; i < o->nprograms; i++)
        if (strlen(o->programs[i]) == n && !memcmp(o->programs[i], p, n))
            return true;
    return o->nprograms == 0;
}

static int keep(struct search_lines *l, const char *line, size_t n, const char *host,
                bool program_known)
{
    const struct search_options *o = l->o;
    const char *prog;
    size_t plen;
    l->stats.lines++;
    if (!program_known && o->nprograms &&
        !(search_lines_program(line, n, &prog, &plen) && program_wanted(o, prog, plen)))
        return 0;
    int64_t sec = INT64_MIN;
    uint32_t usec = 0;
    if (!search_lines_time(line, n, &sec, &usec)) {
        l->stats.bad_time++;
        if (o->q.has_start || o->q.has_end)
            return 0;
    }
    if ((o->q.has_start && sec < (int64_t)o->q.start) || (o->q.has_end && sec > (int64_t)o->q.end))
        return 0;
    if (l->re && pcre2_match(l->re, (PCRE2_SPTR)line, n, 0, 0, l->md, NULL) < 0)
        return 0;
    struct buf *b = search_order_buf(l->order);
    size_t off = b->len;
    int r = 0;
    if (o->format == SEARCH_FORMAT_JSON) {
        r = buf_append_str(b, "{\"host\":");
        r = r ? r : json_put_string(b, host ? host : "", host ? strlen(host) : 0);
        r = r ? r : buf_append_str(b, ",\"line\":");
        r = r ? r : json_put_string(b, line, n);
        r = r ? r : buf_append_str(b, "}\n");
    } else {
        r = buf_append(b, line, n);
        r = r ? r : buf_append(b, "\n", 1);
    }
    if (r < 0)
        return r;
    struct search_order_key k = {sec, usec, 0, 0, l->seq++}; /* usec in the msec slot */
    l->stats.matched++;
    return search_order_add(l->order, &k, off);
}

int search_lines_read(struct search_lines *l, const char *path, const char *host)
{
    const char *prog;
    size_t plen;
    bool known = host && file_program(path, &prog, &plen);
    if (known && !program_wanted(l->o, prog, plen))
        return 0;
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0)
        return -errno;
    struct search_stream in;
    size_t cap = SEARCH_STREAM_CHUNK + SEARCH_LINES_MAX, len = 0;
    uint8_t *buf = malloc(cap);
    int r = buf ? search_stream_open(&in, fd, search_source_is_zstd(path)) : -ENOMEM;
    for (ssize_t got = 1; r == 0 && got > 0;) {
        got = search_stream_read(&in, buf + len, cap - len);
        if (got < 0) {
            r = (int)got;
            break;
        }
        len += (size_t)got;
        size_t done = 0;
        for (uint8_t *nl; r == 0 && (nl = memchr(buf + done, '\n', len - done));) {
            size_t n = (size_t)(nl - (buf + done));
            if (n)
                r = keep(l, (const char *)buf + done, n, host, known);
            done += n + 1;
        }
        if (got == 0 && done < len) /* a last line without newline */
            r = r ? r : keep(l, (const char *)buf + done, len - done, host, known), done = len;
        if (len - done >= SEARCH_LINES_MAX) /* an over-long line: cut */
            r = r ? r : keep(l, (const char *)buf + done, len - done, host, known), done = len;
        memmove(buf, buf + done, len - done);
        len -= done;
    }
    if (buf)
        search_stream_close(&in);
    free(buf);
    if (fd != STDIN_FILENO)
        close(fd);
    return r;
}

int search_lines_flush(struct search_lines *l, int fd)
{
    return search_order_write(&l->order, 1, fd);
}
