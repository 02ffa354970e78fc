/*
 * input_stdin: audit:-, the agent as an auditd plugin. auditd (plugins.d,
 * `format = string`) writes each record as one text line on the plugin's
 * stdin; the agent reads them without blocking, complete lines only, into
 * the queue as records of kind audit. There is no position: what auditd
 * wrote is in the queue once committed, and a record auditd had not
 * written yet is auditd's to keep. At end of input (auditd stopped or
 * restarted the plugin) a last unterminated line is committed too and
 * input_run returns -EPIPE. Lines over INPUT_LINE_MAX are counted in bad
 * and skipped to their LF.
 */
#include "agent/input_impl.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDIN_READ_CHUNK (64u << 10)
#define STDIN_BUF_MAX    ((size_t)INPUT_LINE_MAX + 1 + STDIN_READ_CHUNK)

struct stdin_in {
    int fd;
    char *buf;
    size_t start, len, cap;
    bool skipping, eof, bad_logged;
    bool unpollable; /* a regular file on stdin: epoll refuses it, always ready */
};

/* The next complete line in the buffer (1), or 0. */
static int stdin_line(struct input *in, struct stdin_in *s, const char **line, size_t *len)
{
    for (;;) {
        char *p = s->buf + s->start, *lf;
        size_t avail = s->len - s->start;
        if (!(lf = avail ? memchr(p, '\n', avail) : NULL)) {
            if (!s->skipping && avail > INPUT_LINE_MAX) {
                in->st.bad++;
                if (!s->bad_logged)
                    fprintf(stderr,
                            "logward-agent: %s: a line longer than %u bytes skipped "
                            "(counted in bad; logged once)\n",
                            in->spec, INPUT_LINE_MAX);
                s->bad_logged = s->skipping = true;
            }
            if (s->skipping)
                s->start = s->len;
            if (s->eof && avail && !s->skipping) { /* the last line, unterminated */
                s->start = s->len;
                *line = p;
                *len = avail;
                return 1;
            }
            return 0;
        }
        size_t n = (size_t)(lf - p);
        s->start += n + 1;
        if (s->skipping || n > INPUT_LINE_MAX) {
            in->st.bad += !s->skipping;
            s->skipping = false;
            continue;
        }
        if (n) {
            *line = p;
            *len = n;
            return 1;
        }
    }
}

/* Reads what stdin has; 1 when bytes came, 0 when none now, <0 on error. */
static int stdin_fill(struct stdin_in *s)
{
    if (s->start) {
        memmove(s->buf, s->buf + s->start, s->len - s->start);
        s->len -= s->start;
        s->start = 0;
    }
    if (s->cap - s->len < STDIN_READ_CHUNK) {
        size_t cap = s->cap * 2 > STDIN_BUF_MAX ? STDIN_BUF_MAX : s->cap * 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return -ENOMEM;
        s->buf = b;
        s->cap = cap;
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (n > 0) {
            s->len += (size_t)n;
            return 1;
        }
        if (n == 0) {
            s->eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : -errno;
    }
}

static int stdin_run(struct input *in, size_t budget)
{
    struct stdin_in *s = in->impl;
    size_t puts = 0, records = 0, bytes = 0;
    int r = 0;
    while (puts < budget && bytes < INPUT_BATCH_BYTES) {
        const char *line;
        size_t len;
        if (!stdin_line(in, s, &line, &len)) {
            if (s->eof || (r = stdin_fill(s)) <= 0)
                break;
            continue;
        }
        int p = input_put(in, QUEUE_KIND_AUDIT, line, len);
        if (p < 0) {
            queue_abort(in->q);
            in->commit_failed = true;
            return p;
        }
        records += (size_t)p;
        puts++;
        bytes += len;
    }
    if (records) {
        int c = input_commit(in, records, "", 0); /* no position; not NULL: the queue copies it */
        if (c < 0)
            return c;
    }
    if (r < 0)
        return r;
    if (s->eof && s->start == s->len && puts == 0)
        return -EPIPE;
    if (s->unpollable)
        input_wake(in);
    return (int)puts;
}

/* What a closed stdin input had read and not queued (a line being written,
 * lines past its budget): kept for the next input on the same fd, so that a
 * reload (SIGHUP reopens the inputs) neither loses nor cuts a record.
 * Reachable from here until taken, so no leak is reported at exit. */
static struct stdin_in *stdin_parked;

static void stdin_free(struct input *in)
{
    struct stdin_in *s = in->impl;
    in->impl = NULL;
    if (s && s->start < s->len && !s->eof && !stdin_parked) {
        stdin_parked = s;
        return;
    }
    if (s)
        free(s->buf);
    free(s);
}

/* No rewind: a failed commit's records were consumed from the pipe. */
static const struct input_ops stdin_ops = {stdin_run, NULL, stdin_free};

int input_stdin_open(struct input *in, int fd, char *err, size_t errcap)
{
    struct stdin_in *s = stdin_parked && stdin_parked->fd == fd ? stdin_parked : NULL;
    if (s)
        stdin_parked = NULL;
    else if ((s = calloc(1, sizeof *s)) && !(s->buf = malloc(s->cap = STDIN_READ_CHUNK * 2))) {
        free(s);
        s = NULL;
    }
    if (!s) {
        snprintf(err, errcap, "input '%s': out of memory", in->spec);
        return -ENOMEM;
    }
    s->fd = fd;
    in->impl = s;
    in->ops = &stdin_ops;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errcap, "input '%s': stdin: %s", in->spec, strerror(errno));
        return -errno;
    }
    int r = input_watch(in, fd);
    if (r == -EPERM) { /* a regular file: ready until its end */
        s->unpollable = true;
        input_wake(in);
        r = 0;
    }
    if (r < 0) {
        snprintf(err, errcap, "input '%s': stdin cannot be polled: %s", in->spec, strerror(-r));
        return r;
    }
    if (s->start < s->len) /* taken over with bytes read: run soon */
        input_wake(in);
    return 0;
}
