/*
 * sender: the client side of lwap/1 (sender.h). A state machine driven by
 * the loop's fd events and its tick:
 *
 *   WAITING --(backoff due)--> CONNECTING --(connected; TLS done)--> HELLO
 *   HELLO --(WELCOME)--> UP --(failure)--> WAITING, next collector
 *
 * Output is framed into one bounded buffer (SENDER_OUT_HIGH) from the
 * queue's cursor and written as the socket takes it; the window
 * (SENDER_WINDOW_RECORDS / _BYTES unacknowledged) is a ring of the
 * sequences in flight. Name resolution (getaddrinfo) blocks the loop for
 * its duration: collectors are few and named in the config; a literal
 * address costs nothing.
 */
#include "agent/sender.h"
#include "agent/backoff.h"
#include "agent/queue.h"
#include "base/buf.h"
#include "net/loop.h"
#include "net/tls_client.h"
#include "wire/agent_frame.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_MAX (AGENT_FRAME_MAX + AGENT_FRAME_HEAD_MAX)

enum state { S_WAITING, S_CONNECTING, S_TLS, S_HELLO, S_UP };

struct flight {
    uint64_t seq;
    uint32_t bytes;
};

struct sender {
    struct loop *loop;
    struct queue *q;
    sender_log_fn log;
    void *log_arg;
    /* settings */
    struct collector_url urls[AGENT_COLLECTORS_MAX];
    size_t nurls;
    char collector_name[COLLECTOR_HOST_MAX + 1];
    char agent[AGENT_NAME_LEN_MAX + 1];
    char host[256];
    unsigned backoff_max_ms, failback_ms;
    struct tls_client *tls;
    /* the session */
    enum state st;
    int fd;
    struct tls_client_conn *tc;
    bool tls_wants_write;
    size_t cur;
    unsigned attempt;
    int64_t next_try_ms, started_ms, up_ms, last_rx_ms, last_tx_ms, ping_ms;
    uint64_t ping_n;
    bool ping_out;
    struct buf out;
    size_t out_at;
    char *in;
    size_t inlen;
    struct flight *ring;
    size_t ring_head, ring_count;
    uint64_t flight_bytes;
    bool said_down[AGENT_COLLECTORS_MAX];
    uint64_t high[AGENT_COLLECTORS_MAX]; /* the highest sequence each collector confirmed */
    bool said_read;
    int last_up; /* the collector of the last session, -1 before the first */
    struct sender_stats stats;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void say(struct sender *s, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->log(s->log_arg, line);
}

static const char *url_of(const struct sender *s)
{
    return s->urls[s->cur].text;
}

/* ---- session teardown, failure, backoff ---- */

static void close_session(struct sender *s)
{
    if (s->fd >= 0) {
        loop_del(s->loop, s->fd);
        close(s->fd);
    }
    tls_client_conn_free(s->tc);
    s->tc = NULL;
    s->fd = -1;
    s->tls_wants_write = false;
    buf_reset(&s->out);
    s->out_at = 0;
    s->inlen = 0;
    s->ring_head = s->ring_count = 0;
    s->flight_bytes = 0;
    s->stats.inflight = 0;
    s->ping_out = false;
}

static void schedule(struct sender *s, int64_t now)
{
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        rnd = (uint64_t)now * 6364136223846793005ULL;
    uint64_t d = backoff_delay(s->attempt, AGENT_BACKOFF_BASE_MS, s->backoff_max_ms, rnd);
    if (s->attempt < 64)
        s->attempt++;
    s->next_try_ms = now + (int64_t)d;
    s->st = S_WAITING;
}

/* A failed attempt or a broken session: said once per outage of each
 * collector (again when the reason changes), counted, next collector. */
static void fail(struct sender *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sender *s, const char *fmt, ...)
{
    char why[SENDER_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    struct sender_collector_stats *cs = &s->stats.collectors[s->cur];
    bool was_up = s->st == S_UP;
    cs->failures++;
    if (!s->said_down[s->cur] || strcmp(cs->last_error, why)) {
        say(s, "collector %s %s: %s (retrying, backoff up to %u ms)", url_of(s),
            was_up ? "lost" : "unreachable", why, s->backoff_max_ms);
        s->said_down[s->cur] = true;
    }
    snprintf(cs->last_error, sizeof(cs->last_error), "%s", why);
    close_session(s);
    s->cur = (s->cur + 1) % s->nurls;
    schedule(s, mono_ms());
}

/* ---- writing ---- */

static int flush_out(struct sender *s)
{
    while (s->out_at < s->out.len) {
        ssize_t n;
        const char *p = s->out.data + s->out_at;
        size_t len = s->out.len - s->out_at;
        if (s->tc) {
            bool ww = false;
            n = tls_client_write(s->tc, p, len, &ww);
            if (n == -EAGAIN) {
                s->tls_wants_write = ww;
                return 0;
            }
            if (n < 0) {
                fail(s, "%s", tls_client_conn_error(s->tc));
                return -EPIPE;
            }
        } else {
            n = send(s->fd, p, len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
            if (n < 0) {
                fail(s, "send: %s", strerror(errno));
                return -EPIPE;
            }
        }
        s->out_at += (size_t)n;
        s->last_tx_ms = mono_ms();
    }
    buf_reset(&s->out);
    s->out_at = 0;
    return 0;
}

static void update_events(struct sender *s)
{
    if (s->fd < 0)
        return;
    uint32_t ev = EPOLLIN;
    if (s->st == S_CONNECTING || s->out_at < s->out.len || s->tls_wants_write)
        ev |= EPOLLOUT;
    loop_mod(s->loop, s->fd, ev);
}

static enum agent_kind kind_of(enum queue_kind k)
{
    return k == QUEUE_KIND_SYSLOG ? AGENT_KIND_SYSLOG : AGENT_KIND_AUDIT;
}

/* A record the frame writer refuses (a LF inside, longer than a frame):
 * sent with LFs as spaces and cut to fit, and said, rather than lost. */
static int frame_mangled(struct sender *s, const struct queue_record *rec)
{
    size_t len = rec->len > AGENT_FRAME_MAX - 64 ? AGENT_FRAME_MAX - 64 : rec->len;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++)
        copy[i] = rec->data[i] == '\n' ? ' ' : rec->data[i];
    say(s, "record %llu holds a line feed or is too long for a frame: sent altered",
        (unsigned long long)rec->seq);
    int r = agent_frame_rec(&s->out, rec->seq, kind_of(rec->kind), copy, len);
    free(copy);
    return r;
}

/* Frames records from the queue's cursor while the window and the output
 * buffer have room. */
/* Time to go back to the first collector: no more records for this one. */
static bool failback_due(const struct sender *s, int64_t now)
{
    return s->st == S_UP && s->cur != 0 && now - s->up_ms > (int64_t)s->failback_ms;
}

static void fill(struct sender *s)
{
    if (s->out_at) { /* what the socket took goes, so the buffer stays within its bound */
        memmove(s->out.data, s->out.data + s->out_at, s->out.len - s->out_at);
        s->out.len -= s->out_at;
        s->out_at = 0;
    }
    if (failback_due(s, mono_ms()))
        return; /* let what is in flight be acknowledged first */
    while (s->st == S_UP && s->ring_count < SENDER_WINDOW_RECORDS &&
           s->flight_bytes < SENDER_WINDOW_BYTES && s->out.len < SENDER_OUT_HIGH) {
        struct queue_record rec;
        int r = queue_read(s->q, &rec);
        if (r < 0) {
            if (!s->said_read)
                say(s, "reading the queue: %s (retried)", strerror(-r));
            s->said_read = true;
            return;
        }
        s->said_read = false;
        if (r == 0)
            break;
        size_t before = s->out.len;
        r = agent_frame_rec(&s->out, rec.seq, kind_of(rec.kind), rec.data, rec.len);
        if (r == -EINVAL)
            r = frame_mangled(s, &rec);
        if (r < 0) { /* not sent: read it again next time, never skip it */
            say(s, "framing record %llu: %s (retried)", (unsigned long long)rec.seq, strerror(-r));
            queue_rewind(s->q, rec.seq - 1);
            return;
        }
        struct flight *f = &s->ring[(s->ring_head + s->ring_count++) % SENDER_WINDOW_RECORDS];
        f->seq = rec.seq;
        f->bytes = (uint32_t)(s->out.len - before);
        s->flight_bytes += f->bytes;
        s->stats.sent++;
    }
    s->stats.inflight = s->ring_count;
}

static void pump(struct sender *s)
{
    if (s->st != S_UP)
        return;
    fill(s);
    if (flush_out(s) < 0)
        return;
    update_events(s);
}

void sender_kick(struct sender *s)
{
    pump(s);
}

/* ---- reading ---- */

static void on_ack(struct sender *s, uint64_t seq)
{
    while (s->ring_count && s->ring[s->ring_head].seq <= seq) {
        s->flight_bytes -= s->ring[s->ring_head].bytes;
        s->ring_head = (s->ring_head + 1) % SENDER_WINDOW_RECORDS;
        s->ring_count--;
        s->stats.acked++;
    }
    s->stats.inflight = s->ring_count;
    if (seq > s->high[s->cur])
        s->high[s->cur] = seq;
    int r = queue_ack(s->q, seq);
    if (r < 0)
        say(s, "trimming the queue after ACK %llu: %s", (unsigned long long)seq, strerror(-r));
}

static void on_welcome(struct sender *s, uint64_t last)
{
    struct queue_stats qs;
    queue_get_stats(s->q, &qs);
    if (last < s->high[s->cur])
        say(s,
            "collector %s has this stream up to %llu only, below the %llu it acknowledged "
            "before (its state was reset?): records in between are not resent",
            url_of(s), (unsigned long long)last, (unsigned long long)s->high[s->cur]);
    if (last > s->high[s->cur])
        s->high[s->cur] = last;
    if (last > qs.acked_seq) {
        s->stats.acked += last - qs.acked_seq < qs.pending ? last - qs.acked_seq : qs.pending;
        queue_ack(s->q, last);
    }
    queue_rewind(s->q, last > qs.acked_seq ? last : qs.acked_seq);
    s->st = S_UP;
    s->up_ms = mono_ms();
    s->attempt = 0;
    s->stats.collectors[s->cur].connects++;
    if (s->said_down[s->cur] || (s->last_up >= 0 && (size_t)s->last_up != s->cur))
        say(s, "connected to collector %s (stream %s, it has up to %llu)", url_of(s),
            queue_stream(s->q), (unsigned long long)last);
    s->said_down[s->cur] = false; /* the others' outages go on: said when they end */
    s->last_up = (int)s->cur;
}

/* Returns 0 to go on, < 0 when the session ended. */
static int on_frame(struct sender *s, const char *body, size_t blen)
{
    struct agent_msg m;
    int r = agent_msg_parse(body, blen, &m);
    if (r < 0) {
        fail(s, "bad frame from the collector: %s", agent_frame_strerror(r));
        return -EPROTO;
    }
    if (m.verb == AGENT_ERROR) {
        fail(s, "ERROR %.*s", (int)(m.text_len > 200 ? 200 : m.text_len), m.text);
        return -EPROTO;
    }
    if (s->st == S_HELLO) {
        if (m.verb != AGENT_WELCOME) {
            fail(s, "expected WELCOME, got another frame");
            return -EPROTO;
        }
        on_welcome(s, m.last);
        return 0;
    }
    if (m.verb == AGENT_ACK)
        on_ack(s, m.seq);
    else if (m.verb == AGENT_PONG)
        s->ping_out = false;
    else {
        fail(s, "unexpected frame from the collector");
        return -EPROTO;
    }
    return 0;
}

static int parse_in(struct sender *s)
{
    size_t at = 0;
    while (at < s->inlen) {
        const char *body;
        size_t blen;
        int n = agent_frame_next(s->in + at, s->inlen - at, &body, &blen);
        if (n == 0)
            break;
        if (n < 0) {
            fail(s, "bad frame from the collector: %s", agent_frame_strerror(n));
            return n;
        }
        at += (size_t)n;
        int r = on_frame(s, body, blen);
        if (r < 0)
            return r;
    }
    memmove(s->in, s->in + at, s->inlen - at);
    s->inlen -= at;
    return 0;
}

static int read_in(struct sender *s)
{
    for (;;) {
        if (s->inlen == IN_MAX) {
            fail(s, "frame from the collector too long");
            return -EPROTO;
        }
        ssize_t n;
        if (s->tc) {
            bool ww = false;
            n = tls_client_read(s->tc, s->in + s->inlen, IN_MAX - s->inlen, &ww);
            if (n == -EAGAIN) {
                s->tls_wants_write = ww;
                return 0;
            }
            if (n < 0) {
                fail(s, "%s", tls_client_conn_error(s->tc));
                return -EPIPE;
            }
        } else {
            n = recv(s->fd, s->in + s->inlen, IN_MAX - s->inlen, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
            if (n < 0) {
                fail(s, "recv: %s", strerror(errno));
                return -EPIPE;
            }
        }
        if (n == 0) {
            fail(s, "connection closed by the collector");
            return -EPIPE;
        }
        s->inlen += (size_t)n;
        s->last_rx_ms = mono_ms();
        int r = parse_in(s);
        if (r < 0)
            return r;
    }
}

/* ---- connecting ---- */

static int send_hello(struct sender *s)
{
    s->st = S_HELLO;
    int r = agent_frame_hello(&s->out, s->agent, queue_stream(s->q), s->host);
    if (r < 0) {
        fail(s, "HELLO: %s", strerror(-r));
        return r;
    }
    return flush_out(s);
}

static int handshake(struct sender *s)
{
    bool ww = false;
    int r = tls_client_handshake(s->tc, &ww);
    if (r == -EAGAIN) {
        s->tls_wants_write = ww;
        return 0;
    }
    if (r < 0) {
        fail(s, "%s", tls_client_conn_error(s->tc));
        return r;
    }
    s->tls_wants_write = false;
    return send_hello(s);
}

static void on_connected(struct sender *s)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        fail(s, "connect: %s", strerror(err));
        return;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!s->urls[s->cur].tls) {
        send_hello(s);
        return;
    }
    const char *name = s->collector_name[0] ? s->collector_name : s->urls[s->cur].host;
    if (tls_client_conn_new(s->tls, s->fd, name, &s->tc) < 0) {
        fail(s, "TLS: out of memory");
        return;
    }
    s->st = S_TLS;
    handshake(s);
}

static void on_event(struct loop *l, int fd, uint32_t events, void *arg)
{
    (void)l;
    (void)fd;
    struct sender *s = arg;
    if (s->st == S_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(s);
    } else if (s->st == S_TLS) {
        handshake(s);
    } else {
        if (flush_out(s) < 0)
            return;
        if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (s->tc && tls_client_pending(s->tc)))
            if (read_in(s) < 0)
                return;
        pump(s);
    }
    update_events(s);
}

static void start_connect(struct sender *s, int64_t now)
{
    const struct collector_url *u = &s->urls[s->cur];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    s->started_ms = now;
    int r = getaddrinfo(u->host, u->port, &hints, &res);
    if (r != 0) {
        fail(s, "resolving %s: %s", u->host, gai_strerror(r));
        return;
    }
    s->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        freeaddrinfo(res);
        fail(s, "socket: %s", strerror(errno));
        return;
    }
    r = connect(s->fd, res->ai_addr, res->ai_addrlen);
    int e = errno;
    freeaddrinfo(res);
    if (r < 0 && e != EINPROGRESS) {
        fail(s, "connect: %s", strerror(e));
        return;
    }
    if ((r = loop_add(s->loop, s->fd, EPOLLIN | EPOLLOUT, on_event, s)) < 0) {
        fail(s, "poll: %s", strerror(-r));
        return;
    }
    s->st = S_CONNECTING;
    s->last_rx_ms = s->last_tx_ms = now;
}

/* ---- timers ---- */

static void keepalive(struct sender *s, int64_t now)
{
    if (s->ping_out && now - s->ping_ms > SENDER_DEAD_MS) {
        fail(s, "no answer to PING for %d s", SENDER_DEAD_MS / 1000);
        return;
    }
    if (s->ring_count && now - s->last_rx_ms > SENDER_DEAD_MS) {
        fail(s, "no ACK for %d s with records in flight", SENDER_DEAD_MS / 1000);
        return;
    }
    if (!s->ping_out && now - s->last_tx_ms >= SENDER_PING_IDLE_MS) {
        if (agent_frame_ping(&s->out, ++s->ping_n) == 0) {
            s->ping_out = true;
            s->ping_ms = now;
            if (flush_out(s) == 0)
                update_events(s);
        }
    }
}

void sender_tick(struct sender *s, int64_t now)
{
    switch (s->st) {
    case S_WAITING:
        if (now >= s->next_try_ms)
            start_connect(s, now);
        break;
    case S_CONNECTING:
    case S_TLS:
    case S_HELLO:
        if (now - s->started_ms > SENDER_CONNECT_MS)
            fail(s, "no session after %d s (connect, TLS handshake or WELCOME)",
                 SENDER_CONNECT_MS / 1000);
        break;
    case S_UP:
        keepalive(s, now);
        if (failback_due(s, now) && !s->ring_count) {
            say(s, "leaving collector %s to try the first one again", url_of(s));
            close_session(s);
            s->cur = 0;
            s->attempt = 0;
            s->st = S_WAITING;
            s->next_try_ms = now;
        } else {
            pump(s);
        }
        break;
    }
}

/* ---- setup ---- */

static int apply(struct sender *s, const struct agent_config *cfg, struct tls_client *tls)
{
    memcpy(s->urls, cfg->collectors, cfg->ncollectors * sizeof(cfg->collectors[0]));
    s->nurls = cfg->ncollectors;
    snprintf(s->collector_name, sizeof(s->collector_name), "%s",
             cfg->collector_name ? cfg->collector_name : "");
    snprintf(s->agent, sizeof(s->agent), "%s", cfg->name);
    s->backoff_max_ms = cfg->backoff_max_ms;
    s->failback_ms = cfg->failback_ms ? cfg->failback_ms : AGENT_FAILBACK_MS;
    tls_client_free(s->tls);
    s->tls = tls;
    s->stats.ncollectors = s->nurls;
    for (size_t i = 0; i < s->nurls; i++)
        snprintf(s->stats.collectors[i].url, sizeof(s->stats.collectors[i].url), "%s",
                 s->urls[i].text);
    return 0;
}

static int make_tls(const struct agent_config *cfg, struct tls_client **out, char *err, size_t cap)
{
    *out = NULL;
    bool any = false;
    for (size_t i = 0; i < cfg->ncollectors; i++)
        any = any || cfg->collectors[i].tls;
    if (!any)
        return 0;
    return tls_client_new(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, out, err, cap);
}

int sender_new(struct loop *l, struct queue *q, const struct agent_config *cfg, sender_log_fn log,
               void *log_arg, struct sender **out, char *err, size_t cap)
{
    struct tls_client *tls;
    int r = make_tls(cfg, &tls, err, cap);
    if (r < 0)
        return r;
    struct sender *s = calloc(1, sizeof(*s));
    if (s) {
        s->ring = calloc(SENDER_WINDOW_RECORDS, sizeof(*s->ring));
        s->in = malloc(IN_MAX);
    }
    if (!s || !s->ring || !s->in) {
        if (s) {
            free(s->ring);
            free(s->in);
        }
        free(s);
        tls_client_free(tls);
        snprintf(err, cap, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    s->loop = l;
    s->q = q;
    s->log = log;
    s->log_arg = log_arg;
    s->fd = -1;
    s->last_up = -1;
    buf_init(&s->out, SENDER_OUT_HIGH + AGENT_FRAME_MAX + 2 * AGENT_FRAME_HEAD_MAX + 64);
    gethostname(s->host, sizeof(s->host) - 1);
    if (!s->host[0] || strpbrk(s->host, " \t"))
        snprintf(s->host, sizeof(s->host), "%s", cfg->name);
    apply(s, cfg, tls);
    s->st = S_WAITING;
    s->next_try_ms = mono_ms();
    *out = s;
    return 0;
}

int sender_configure(struct sender *s, const struct agent_config *cfg, char *err, size_t cap)
{
    struct tls_client *tls;
    int r = make_tls(cfg, &tls, err, cap);
    if (r < 0)
        return r;
    bool same = s->nurls == cfg->ncollectors && !s->urls[s->cur].tls;
    for (size_t i = 0; same && i < s->nurls; i++)
        same = !strcmp(s->urls[i].text, cfg->collectors[i].text);
    if (!same) { /* another collector list, or TLS settings that may differ */
        close_session(s);
        s->cur = 0;
        s->attempt = 0;
        s->st = S_WAITING;
        s->next_try_ms = mono_ms();
        memset(s->stats.collectors, 0, sizeof(s->stats.collectors));
        memset(s->said_down, 0, sizeof(s->said_down));
        memset(s->high, 0, sizeof(s->high));
        s->last_up = -1;
    }
    apply(s, cfg, tls);
    return 0;
}

void sender_free(struct sender *s)
{
    if (!s)
        return;
    close_session(s);
    tls_client_free(s->tls);
    buf_free(&s->out);
    free(s->ring);
    free(s->in);
    free(s);
}

bool sender_idle(const struct sender *s)
{
    return s->ring_count == 0;
}

const struct sender_stats *sender_stats(struct sender *s)
{
    static const char *names[] = {"waiting", "connecting", "connecting", "connecting", "connected"};
    s->stats.state = names[s->st];
    s->stats.current = (int)s->cur;
    return &s->stats;
}
