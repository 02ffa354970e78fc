/*
 * conn_agent: the collector's side of lwap/1 (agent://, agent+tls://;
 * docs/formats.md, "The agent protocol on the wire"). HELLO names a
 * stream; its state (agent_state.c) gives WELCOME's last. Each REC above
 * the stream's last goes through ingest like any other record, but its
 * line lands in a run: consecutive lines bound for one file, written at
 * once by store_append_direct after the stream's intent is recorded, so a
 * crash at any point leaves a state that says exactly what is stored. A
 * REC at or below last is a duplicate: counted, acknowledged, not stored.
 * ACKs wait for the loop's group commit (data synced, then the stream
 * states), as for audisp-remote. A connection stops reading while
 * AGENT_INFLIGHT_MAX records wait for a commit. Protocol errors and store
 * refusals are answered with ERROR, then the connection closes; the agent
 * resends what was not acknowledged.
 */
#include "collector/agent_state.h"
#include "collector/collector_int.h"
#include "collector/config.h"

#include "base/err.h"
#include "net/loop.h"
#include "net/tls.h"
#include "wire/agent_frame.h"
#include "wire/audit_record.h"
#include "wire/syslog_frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_INFLIGHT_MAX 4096              /* records per connection waiting for a commit */
#define AGENT_RUN_MAX      ((size_t)8 << 20) /* bound of a run's buffer (one long line) */
#define AGENT_PROG_MAX     1024              /* a run's program name, raw */
#define AGENT_ERROR_MAX    200

struct agent_conn {
    struct agent_stream *st;       /* after HELLO */
    char host[AGENT_HOST_MAX + 1]; /* the host directory, raw */
    size_t host_len;
    struct buf run; /* lines for one file, each with its LF */
    char run_prog[AGENT_PROG_MAX];
    size_t run_prog_len;
    uint64_t run_first, run_last, cur_seq;
    unsigned inflight;   /* records since the last commit */
    uint64_t acked_sent; /* the last ACK (or WELCOME) value sent */
    bool ack_due;        /* a record came: an ACK is owed after the commit */
    bool listed;         /* on collector.agent_list */
    bool failed;         /* ERROR owed, then close */
    char error[AGENT_ERROR_MAX];
};

static void say(const struct conn *cn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct conn *cn, const char *fmt, ...)
{
    char peer[64];
    ingest_peer_text((const struct sockaddr *)&cn->peer, peer, sizeof(peer));
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "logwardd: %s from %s: ", listen_scheme_name(cn->l->url.scheme), peer);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int conn_agent_new(struct collector *c, struct conn *cn)
{
    (void)c;
    struct agent_conn *ac = calloc(1, sizeof(*ac));
    if (!ac)
        return -ENOMEM;
    buf_init(&ac->run, AGENT_RUN_MAX);
    cn->agent = ac;
    return 0;
}

static void list(struct collector *c, struct conn *cn)
{
    if (cn->agent->listed)
        return;
    cn->agent->listed = true;
    cn->next_ack = c->agent_list;
    c->agent_list = cn;
}

/* Stops reading; an ERROR TEXT is owed after what the commit answers. */
static void set_error(struct conn *cn, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void set_error(struct conn *cn, const char *fmt, va_list ap)
{
    struct agent_conn *ac = cn->agent;
    if (ac->failed)
        return;
    vsnprintf(ac->error, sizeof(ac->error), fmt, ap);
    for (char *p = ac->error; *p; p++)
        if (*p == '\n')
            *p = ' ';
    ac->failed = true;
    cn->closing = true;
    cn->l->stats.agent_errors++;
    say(cn, "%s; connection closed", ac->error);
}

static void fail_now(struct conn *cn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_now(struct conn *cn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(cn, fmt, ap);
    va_end(ap);
}

/* set_error, answered (ACK owed, then ERROR, then close) at the commit. */
static void fail(struct collector *c, struct conn *cn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct collector *c, struct conn *cn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(cn, fmt, ap);
    va_end(ap);
    list(c, cn);
}

/* ---- runs: lines for one file, written at once after their intent ---- */

struct before_ctx {
    struct collector *c;
    struct agent_conn *ac;
    bool intent;
};

static int before_write(void *arg, const struct store_place *at)
{
    struct before_ctx *x = arg;
    int r = agent_stream_intent(x->c->agents, x->ac->st, x->ac->run_first, x->ac->run_last, at);
    x->intent = r == 0;
    return r;
}

static int run_flush(struct collector *c, struct conn *cn)
{
    struct agent_conn *ac = cn->agent;
    if (ac->run.len == 0)
        return 0;
    struct before_ctx x = {c, ac, false};
    int r = store_append_direct(c->store, ac->host, ac->host_len, ac->run_prog, ac->run_prog_len,
                                ac->run.data, ac->run.len, before_write, &x);
    if (r == 0)
        agent_stream_landed(c->agents, ac->st, ac->run_last);
    else if (x.intent)
        agent_stream_cancel(c->agents, ac->st); /* the store cut what it wrote */
    buf_reset(&ac->run);
    return r;
}

/* ingest's sink: the line joins the run, or starts the next one. */
static int sink(void *arg, const char *host, size_t host_len, const char *prog, size_t prog_len,
                const char *line, size_t len)
{
    struct conn *cn = arg;
    struct agent_conn *ac = cn->agent;
    struct collector *c = cn->l->c;
    (void)host, (void)host_len; /* always ac->host: the origin says so */
    if (prog_len > sizeof(ac->run_prog))
        return -ENAMETOOLONG;
    size_t max = store_direct_max(c->store);
    bool same =
        ac->run.len && ac->run_prog_len == prog_len && !memcmp(ac->run_prog, prog, prog_len);
    if (ac->run.len && (!same || ac->run.len + len + 1 > max)) {
        int r = run_flush(c, cn);
        if (r < 0)
            return r;
    }
    if (ac->run.len == 0) {
        memcpy(ac->run_prog, prog, prog_len);
        ac->run_prog_len = prog_len;
        ac->run_first = ac->cur_seq;
    }
    int r = buf_reserve(&ac->run, len + 1);
    if (r < 0)
        return r;
    buf_put(&ac->run, line, len);
    buf_putc(&ac->run, '\n');
    ac->run_last = ac->cur_seq;
    return 0;
}

/* ---- verbs ---- */

static int send_frame(struct collector *c, struct conn *cn, struct buf *b)
{
    int r = conn_send(c, cn, b->data, b->len);
    buf_free(b);
    return r;
}

static void replace_owner(struct collector *c, struct agent_stream *st)
{
    struct conn *old = st->owner;
    struct buf b;
    buf_init(&b, 0);
    static const char text[] = "replaced: a new session opened this stream";
    agent_frame_error(&b, text, sizeof(text) - 1);
    old->agent->st = NULL;
    st->owner = NULL; /* taken over at once: the file stays open */
    say(old, "%s; connection closed", text);
    if (send_frame(c, old, &b) == 0)
        conn_close(c, old);
}

static void hello(struct collector *c, struct conn *cn, const struct agent_msg *m)
{
    struct agent_conn *ac = cn->agent;
    const char *host;
    size_t hl;
    char peer[64];
    if (cn->tls) {
        host = tls_conn_identity(cn->tls);
        hl = strlen(host);
        if (hl == 0) {
            fail(c, cn, "refused: no client certificate identity");
            return;
        }
    } else if (ingest_host_from(c->ingest) == HOST_FROM_CLAIMED) { /* SIGHUP may change it */
        host = m->host, hl = m->host_len;
    } else {
        hl = ingest_peer_text((const struct sockaddr *)&cn->peer, peer, sizeof(peer));
        host = peer;
    }
    if (hl == 0 || hl > AGENT_HOST_MAX) {
        fail(c, cn, "refused: no host name to file under");
        return;
    }
    memcpy(ac->host, host, hl);
    ac->host[hl] = 0;
    ac->host_len = hl;
    struct agent_stream *st;
    int r = agent_stream_get(c->agents, ac->host, hl, m->stream, m->stream_len, &st);
    if (r < 0) {
        fail(c, cn, "state: %s", err_str(r));
        return;
    }
    if (st->owner && st->owner != cn)
        replace_owner(c, st);
    st->owner = cn;
    ac->st = st;
    /* WELCOME's last must be durable: what a replaced session stored is
     * committed first. */
    if (st->dirty &&
        ((r = store_flush(c->store)) < 0 || (r = agent_states_commit(c->agents)) < 0)) {
        fail(c, cn, "store: %s", err_str(r));
        return;
    }
    cn->l->stats.sessions++;
    st->stats.sessions++;
    struct buf b;
    buf_init(&b, 0);
    if (agent_frame_welcome(&b, st->acked) < 0)
        return buf_free(&b), fail(c, cn, "store: out of memory");
    ac->acked_sent = st->acked;
    send_frame(c, cn, &b);
}

static void rec(struct collector *c, struct conn *cn, const struct agent_msg *m)
{
    struct agent_conn *ac = cn->agent;
    struct agent_stream *st = ac->st;
    cn->l->stats.received++;
    uint64_t top = ac->run.len ? ac->run_last : st->last;
    ac->ack_due = true;
    if (m->seq <= top) {
        cn->l->stats.duplicates++;
        st->stats.duplicates++;
        return;
    }
    if (m->seq > top + 1) {
        cn->l->stats.gaps += m->seq - top - 1;
        st->stats.gaps += m->seq - top - 1;
    }
    ac->cur_seq = m->seq;
    const char *id = cn->tls ? tls_conn_identity(cn->tls) : "";
    struct ingest_origin o = {.peer = (const struct sockaddr *)&cn->peer,
                              .transport = listen_scheme_name(cn->l->url.scheme),
                              .identity = *id ? id : NULL,
                              .host = ac->host,
                              .host_len = ac->host_len,
                              .sink = sink,
                              .sink_arg = cn};
    /* As long as audit:// and tcp:// take one: a longer one is cut, counted
     * (refusing it would wedge the stream: the agent would resend it). */
    size_t max = m->kind == AGENT_KIND_AUDIT ? AUDIT_RECORD_MAX_LINE : SYSLOG_FRAME_MAX;
    size_t n = m->data_len < max ? m->data_len : max;
    cn->l->stats.truncated += n < m->data_len;
    int r = m->kind == AGENT_KIND_AUDIT ? ingest_audit(c->ingest, &o, m->data, n)
                                        : ingest_syslog(c->ingest, &o, m->data, n);
    if (r < 0) {
        fail(c, cn, "store: %s", err_str(r));
        return;
    }
    cn->l->stats.records++;
    st->stats.records++;
    ac->inflight++;
}

static void message(struct collector *c, struct conn *cn, const char *body, size_t blen)
{
    struct agent_conn *ac = cn->agent;
    struct agent_msg m;
    int r = agent_msg_parse(body, blen, &m);
    if (r < 0) {
        cn->l->stats.bad_frames++;
        fail(c, cn, "%s", agent_frame_strerror(r));
        return;
    }
    if (!ac->st && m.verb != AGENT_HELLO) {
        cn->l->stats.bad_frames++;
        fail(c, cn, "bad frame: HELLO expected first");
        return;
    }
    switch (m.verb) {
    case AGENT_HELLO:
        if (ac->st) {
            cn->l->stats.bad_frames++;
            fail(c, cn, "bad frame: HELLO twice");
            return;
        }
        hello(c, cn, &m);
        return;
    case AGENT_REC:
        rec(c, cn, &m);
        return;
    case AGENT_PING: {
        struct buf b;
        buf_init(&b, 0);
        if (agent_frame_pong(&b, m.n) == 0)
            send_frame(c, cn, &b);
        else
            buf_free(&b);
        return;
    }
    case AGENT_ERROR:
        say(cn, "the agent says: %.*s", (int)m.text_len, m.text);
        cn->closing = true;
        return;
    default:
        cn->l->stats.bad_frames++;
        fail(c, cn, "bad frame: not a verb an agent sends");
        return;
    }
}

void conn_agent_drain(struct collector *c, struct conn *cn, bool eof)
{
    struct agent_conn *ac = cn->agent;
    const char *p = cn->in.data;
    size_t len = cn->in.len, pos = 0;
    int fd = cn->fd;
    while (pos < len && !cn->closing && ac->inflight < AGENT_INFLIGHT_MAX) {
        const char *body;
        size_t blen;
        int r = agent_frame_next(p + pos, len - pos, &body, &blen);
        if (r == 0)
            break;
        if (r < 0) {
            cn->l->stats.bad_frames++;
            fail(c, cn, "%s", agent_frame_strerror(r));
            break;
        }
        message(c, cn, body, blen);
        if (c->conns[fd] != cn)
            return; /* closed while answering */
        pos += (size_t)r;
    }
    int r = run_flush(c, cn);
    if (r < 0)
        fail(c, cn, "store: %s", err_str(r));
    (void)eof; /* a partial frame at the end is never acknowledged: it is resent */
    if (cn->closing) {
        cn->in.len = 0;
    } else {
        memmove(cn->in.data, cn->in.data + pos, len - pos);
        cn->in.len = len - pos;
    }
    if (ac->ack_due)
        list(c, cn);
    if (ac->inflight >= AGENT_INFLIGHT_MAX && !cn->paused && !cn->closing &&
        loop_mod(c->loop, cn->fd, 0) == 0)
        cn->paused = true;
}

/* ---- the commit and its answers ---- */

static void answer(struct collector *c, struct conn *cn, int commit)
{
    struct agent_conn *ac = cn->agent;
    struct buf b;
    buf_init(&b, 0);
    if (commit < 0)
        fail_now(cn, "store: %s", err_str(commit));
    struct agent_stream *st = ac->st;
    if (commit == 0 && st && st->acked > 0 && (st->acked > ac->acked_sent || ac->ack_due)) {
        agent_frame_ack(&b, st->acked);
        ac->acked_sent = st->acked;
    }
    ac->ack_due = false;
    ac->inflight = 0;
    if (ac->failed)
        agent_frame_error(&b, ac->error, strlen(ac->error));
    int fd = cn->fd;
    if (send_frame(c, cn, &b) < 0 || c->conns[fd] != cn)
        return;
    if (ac->failed) {
        if (cn->out.len == 0)
            conn_close(c, cn);
        return; /* closed once the socket took the rest (on_conn) */
    }
    if (cn->paused && !cn->closing && loop_mod(c->loop, cn->fd, EPOLLIN) == 0) {
        cn->paused = false;
        conn_agent_drain(c, cn, false); /* frames that waited for room */
        if (c->conns[fd] == cn && !cn->paused && !cn->closing && cn->tls &&
            tls_conn_pending(cn->tls))
            conn_read_now(c, cn); /* records TLS holds: the socket will not say */
    }
}

void conn_agent_commit(struct collector *c)
{
    if (!c->agents)
        return;
    for (bool first = true; first || c->agent_list; first = false) {
        int r = 0;
        if (agent_states_dirty(c->agents)) {
            r = store_flush(c->store);
            if (r == 0)
                r = agent_states_commit(c->agents);
            c->agent_commits++;
            c->agent_commit_errors += r < 0;
        }
        struct conn *l = c->agent_list;
        c->agent_list = NULL;
        while (l) {
            struct conn *cn = l;
            l = cn->next_ack;
            cn->next_ack = NULL;
            cn->agent->listed = false;
            answer(c, cn, r); /* may list again (resumed drain) */
        }
        if (r < 0)
            break; /* the next batch tries again */
    }
}

bool conn_agent_owes(const struct conn *cn)
{
    return cn->agent && (cn->agent->listed || cn->agent->failed);
}

void conn_agent_free(struct collector *c, struct conn *cn)
{
    struct agent_conn *ac = cn->agent;
    if (!ac)
        return;
    if (ac->st && run_flush(c, cn) < 0)
        say(cn, "records lost at close: not acknowledged, the agent resends them");
    if (ac->listed)
        for (struct conn **pp = &c->agent_list; *pp; pp = &(*pp)->next_ack)
            if (*pp == cn) {
                *pp = cn->next_ack;
                break;
            }
    if (ac->st && ac->st->owner == cn)
        agent_stream_release(c->agents, ac->st);
    buf_free(&ac->run);
    free(ac);
    cn->agent = NULL;
}

void conn_agent_ending(struct collector *c, struct conn *cn)
{
    if (!cn->agent || !cn->agent->st || cn->agent->failed)
        return;
    struct buf b;
    buf_init(&b, 0);
    static const char text[] = "ending: the collector is stopping";
    agent_frame_error(&b, text, sizeof(text) - 1);
    send_frame(c, cn, &b);
}
