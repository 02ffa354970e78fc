/*
 * reader: splits input into lines with memchr, parses each header, and hands
 * records to the collator. read() goes straight into the pending buffer after
 * any partial line, so bytes are copied only when a line straddles two reads.
 */
#include "audit/reader.h"

#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct audit_reader {
    struct audit_collate *collate;
    audit_reader_error_fn on_error;
    void *arg;
    char *pending; /* a partial line, then room for the next read */
    size_t len, cap;
    const char *source;
    uint64_t line_no;
    uint64_t offset; /* source offset of pending[0] */
    bool skipping;   /* inside an over-long line: drop until its newline */
    struct audit_reader_stats stats;
};

struct audit_reader *audit_reader_new(struct audit_collate *c, audit_reader_error_fn on_error,
                                      void *arg)
{
    struct audit_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cap = AUDIT_READER_CHUNK + AUDIT_RECORD_MAX_LINE + 1;
    r->pending = malloc(r->cap);
    if (!r->pending) {
        free(r);
        return NULL;
    }
    r->collate = c;
    r->on_error = on_error;
    r->arg = arg;
    r->source = "-";
    return r;
}

void audit_reader_free(struct audit_reader *r)
{
    if (!r)
        return;
    free(r->pending);
    free(r);
}

static void report(struct audit_reader *r, uint64_t offset, int code)
{
    if (r->on_error)
        r->on_error(r->arg, r->source, r->line_no, offset, code);
}

/* gs_off: where the line's first 0x1d byte is (n: none), if the caller knows;
 * SIZE_MAX: look. */
static int process_line(struct audit_reader *r, const char *p, size_t n, uint64_t offset,
                        size_t gs_off)
{
    r->stats.lines++;
    r->line_no++;
    if (n == 0 || (n == 1 && p[0] == '\r')) {
        r->stats.blank++;
        return 0;
    }
    struct audit_header h;
    size_t err_off;
    int e = gs_off == SIZE_MAX ? audit_header_parse(p, n, &h, &err_off)
                               : audit_header_parse_gs(p, n, gs_off, &h, &err_off);
    if (e < 0) {
        if (e == -ERR_NOT_AUDIT)
            r->stats.not_audit++;
        else
            r->stats.malformed++;
        report(r, offset + err_off, e);
        return 0;
    }
    r->stats.records++;
    return audit_collate_add(r->collate, p, n, &h);
}

/* Processes the complete lines of pending[0..len) and keeps the tail. The
 * ENRICHED separator is looked for once across the buffer, not once per
 * line: logs written without it cost one search per read. */
static int drain(struct audit_reader *r)
{
    char *p = r->pending, *end = p + r->len;
    const char *gs = NULL; /* the next 0x1d at or after p, end if none; NULL: not looked */
    int ret = 0;
    while (p < end && ret == 0) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        uint64_t off = r->offset + (uint64_t)(p - r->pending);
        if (r->skipping) {
            r->skipping = false;
            r->line_no++;
        } else {
            if (!gs || gs < p) {
                gs = memchr(p, AUDIT_ENRICHED_SEPARATOR, (size_t)(end - p));
                gs = gs ? gs : end;
            }
            size_t n = (size_t)(nl - p);
            ret = process_line(r, p, n, off, gs < nl ? (size_t)(gs - p) : n);
        }
        p = nl + 1;
    }
    size_t used = (size_t)(p - r->pending), tail = r->len - used;
    /* After a callback's error the tail holds the complete lines not yet
     * read, not one over-long line. */
    if (ret == 0 && tail > AUDIT_RECORD_MAX_LINE && !r->skipping) {
        r->stats.lines++;
        r->stats.malformed++;
        report(r, r->offset + used + AUDIT_RECORD_MAX_LINE, -ERR_LINE_TOO_LONG);
        r->skipping = true;
    }
    if (r->skipping) {
        used = r->len;
        tail = 0;
    }
    memmove(r->pending, p, tail);
    r->offset += used;
    r->len = tail;
    return ret;
}

int audit_reader_begin(struct audit_reader *r, const char *source)
{
    int ret = audit_reader_finish(r);
    r->source = source;
    r->line_no = 0;
    r->offset = 0;
    return ret;
}

int audit_reader_feed(struct audit_reader *r, const char *data, size_t len)
{
    r->stats.bytes += len;
    while (len) {
        size_t room = r->cap - r->len, n = len < room ? len : room;
        memcpy(r->pending + r->len, data, n);
        r->len += n;
        data += n;
        len -= n;
        int ret = drain(r);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int audit_reader_read_fd(struct audit_reader *r, int fd)
{
    for (;;) {
        size_t room = r->cap - r->len;
        if (room > AUDIT_READER_CHUNK)
            room = AUDIT_READER_CHUNK;
        ssize_t n = read(fd, r->pending + r->len, room);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -errno;
        }
        r->stats.bytes += (uint64_t)n;
        r->len += (size_t)n;
        int ret = drain(r);
        if (ret < 0)
            return ret;
    }
}

int audit_reader_finish(struct audit_reader *r)
{
    int ret = 0;
    if (r->len && !r->skipping)
        ret = process_line(r, r->pending, r->len, r->offset, SIZE_MAX);
    r->offset += r->len;
    r->len = 0;
    r->skipping = false;
    return ret;
}

const struct audit_reader_stats *audit_reader_stats(const struct audit_reader *r)
{
    return &r->stats;
}
