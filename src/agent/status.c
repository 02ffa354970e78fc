/*
 * status: renders the loop's counters (status.h) as one JSON object. The
 * stream-wide figures (queued, acked) come from the queue's sequences and
 * so survive restarts; the others count since the agent started.
 */
#include "agent/status.h"
#include "base/buf.h"
#include "base/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void key_u64(struct buf *b, const char *k, uint64_t v)
{
    json_put_raw(b, ",");
    json_put_key(b, k);
    json_put_u64(b, v);
}

static void key_str(struct buf *b, const char *k, const char *v)
{
    json_put_raw(b, ",");
    json_put_key(b, k);
    json_put_string(b, v, strlen(v));
}

static void inputs(struct buf *b, const struct status_view *v, uint64_t *read)
{
    json_put_raw(b, ",\"inputs\":[");
    for (size_t i = 0; i < v->ninputs; i++) {
        const struct input_stats *st = input_stats(v->inputs[i]);
        json_put_raw(b, i ? ",{" : "{");
        json_put_key(b, "spec");
        const char *spec = input_spec(v->inputs[i]);
        json_put_string(b, spec, strlen(spec));
        key_u64(b, "read", st->read);
        key_u64(b, "bad", st->bad);
        key_u64(b, "rotations", st->rotations);
        key_u64(b, "gone", st->gone);
        json_put_raw(b, st->blocked ? ",\"blocked\":true}" : ",\"blocked\":false}");
        *read += st->read;
    }
    json_put_raw(b, "]");
}

static void collectors(struct buf *b, const struct sender_stats *s)
{
    json_put_raw(b, ",\"collectors\":[");
    for (size_t i = 0; i < s->ncollectors; i++) {
        const struct sender_collector_stats *c = &s->collectors[i];
        json_put_raw(b, i ? ",{" : "{");
        json_put_key(b, "url");
        json_put_string(b, c->url, strlen(c->url));
        key_u64(b, "connects", c->connects);
        key_u64(b, "failures", c->failures);
        key_str(b, "last_error", c->last_error);
        json_put_raw(b, "}");
    }
    json_put_raw(b, "]");
}

static void render(struct buf *b, const struct status_view *v)
{
    const struct queue_stats *q = v->queue;
    const struct sender_stats *s = v->sender;
    json_put_raw(b, "{");
    json_put_key(b, "name");
    json_put_string(b, v->name, strlen(v->name));
    key_str(b, "stream", v->stream);
    json_put_raw(b, v->running ? ",\"running\":true" : ",\"running\":false");
    key_u64(b, "pid", (uint64_t)getpid());
    key_str(b, "state", s->state);
    key_str(b, "collector", s->ncollectors ? s->collectors[s->current].url : "");
    uint64_t read = 0;
    struct buf in;
    buf_init(&in, 0);
    inputs(&in, v, &read);
    key_u64(b, "read", read);
    key_u64(b, "queued", q->next_seq - 1);
    key_u64(b, "sent", s->sent);
    key_u64(b, "acked", q->acked_seq);
    key_u64(b, "dropped", q->dropped);
    key_u64(b, "pending", q->pending);
    key_u64(b, "inflight", s->inflight);
    key_u64(b, "queued_since_start", q->queued);
    key_u64(b, "acked_since_start", s->acked);
    key_u64(b, "queue_bytes", q->bytes);
    key_u64(b, "queue_segments", q->segments);
    key_u64(b, "queue_full", q->full);
    key_u64(b, "torn_bytes", q->torn);
    buf_append(b, in.data, in.len);
    buf_free(&in);
    collectors(b, s);
    json_put_raw(b, "}\n");
}

int status_write(const char *dir, const struct status_view *v)
{
    struct buf b;
    buf_init(&b, 0);
    render(&b, v);
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/" STATUS_FILE, dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int r = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        r = -errno;
    else {
        if (write(fd, b.data, b.len) != (ssize_t)b.len)
            r = -EIO;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
            r = -errno;
    }
    buf_free(&b);
    return r;
}

int status_print(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/" STATUS_FILE, dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "logward-agent: %s: %s (no agent state there?)\n", path, strerror(errno));
        return 2;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}
