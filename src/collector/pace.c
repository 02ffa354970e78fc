/*
 * pace: fewer, larger reads from busy syslog streams.
 *
 * A sender that writes one message per send() (loggen --read-file does)
 * wakes an idle collector for every few hundred bytes: the wakeups, small reads and socket-lock
 * contention cost the collector more than the messages, and slow the sender too. A stream that
 * keeps above PACE_ENTER_RATE for a window of PACE_WINDOW_US is paced: its socket gets SO_RCVLOWAT
 * = PACE_LOWAT, so the kernel signals it (and wakes us) only once that much is queued, and a poll
 * every PACE_POLL_MS reads whatever lies below the mark. A message therefore waits at most about
 * PACE_POLL_MS longer. Below PACE_LEAVE_RATE over a window the stream goes back to being signalled
 * for every byte (10 to 20 ms after it goes quiet). So, but for those last milliseconds, a
 * poll's read of a paced stream finds 1.5 KB on average at the least: with many paced streams
 * the poll costs no more reads than signals would.
 *
 * Only tcp:// and tls:// syslog: no acknowledgement waits on these reads.
 * audisp-remote, RELP and agents wait for answers and are never paced.
 */
#include "collector/collector_int.h"
#include "net/loop.h"

#include <sys/socket.h>
#include <time.h>

/* The rate is judged over PACE_WINDOW_US at least. Entering at 6 MB/s is
 * about 20,000 messages of 300 bytes a second; leaving at a quarter of it
 * keeps a stream near the mark from flapping. PACE_LOWAT <= CONN_BUF_START,
 * so one read takes what made the socket signal. */
#define PACE_WINDOW_US  10000
#define PACE_ENTER_RATE ((uint64_t)6 * 1000 * 1000)
#define PACE_LEAVE_RATE ((uint64_t)1500 * 1000)
#define PACE_LOWAT      (32 * 1024)
#define PACE_POLL_MS    1

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Never an acknowledged protocol: their commit (on_batch) follows epoll's
 * events, not the poll, so a record only the poll read would wait for its
 * ack until some other socket spoke. */
bool pace_applies(const struct conn *cn)
{
    return cn->l->url.scheme == LISTEN_TCP || cn->l->url.scheme == LISTEN_TLS;
}

static bool set_lowat(struct conn *cn, int bytes)
{
    return setsockopt(cn->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes)) == 0;
}

static void start(struct collector *c, struct conn *cn)
{
    if (!set_lowat(cn, PACE_LOWAT))
        return; /* left signalled per byte: slower, still correct */
    cn->pace.on = true;
    cn->pace.prev = NULL;
    cn->pace.next = c->paced;
    if (c->paced)
        c->paced->pace.prev = cn;
    else
        loop_poll_in(c->loop, PACE_POLL_MS); /* the first paced stream starts the poll */
    c->paced = cn;
    cn->l->stats.paced++;
}

void pace_forget(struct collector *c, struct conn *cn)
{
    if (!cn->pace.on)
        return;
    if (cn->pace.prev)
        cn->pace.prev->pace.next = cn->pace.next;
    else
        c->paced = cn->pace.next;
    if (cn->pace.next)
        cn->pace.next->pace.prev = cn->pace.prev;
    cn->pace.on = false;
    cn->pace.prev = cn->pace.next = NULL;
}

static void stop(struct collector *c, struct conn *cn)
{
    if (set_lowat(cn, 1)) /* else it stays paced, so the poll still reads it */
        pace_forget(c, cn);
}

/* Ends the window when it has lasted long enough, and moves the stream
 * in or out of pacing by the rate it saw. */
static void judge(struct collector *c, struct conn *cn, uint64_t now)
{
    struct conn_pace *p = &cn->pace;
    if (!p->window_start_us) {
        p->window_start_us = now;
        return;
    }
    uint64_t took = now - p->window_start_us;
    if (took < PACE_WINDOW_US)
        return;
    uint64_t rate = p->window_bytes * 1000000 / took;
    if (!p->on && rate >= PACE_ENTER_RATE)
        start(c, cn);
    else if (p->on && rate < PACE_LEAVE_RATE)
        stop(c, cn);
    p->window_start_us = now;
    p->window_bytes = 0;
}

void pace_read(struct collector *c, struct conn *cn, size_t n)
{
    cn->pace.window_bytes += n;
    judge(c, cn, mono_us());
}

void pace_poll(struct collector *c)
{
    for (struct conn *cn = c->paced, *next; cn; cn = next) {
        next = cn->pace.next;        /* reading may close cn (end of stream) */
        if (conn_read_now(c, cn))    /* takes what sits below the mark */
            judge(c, cn, mono_us()); /* a stream gone quiet is judged without a read */
    }
    if (c->paced)
        loop_poll_in(c->loop, PACE_POLL_MS);
}

size_t pace_count(const struct collector *c)
{
    size_t n = 0;
    for (const struct conn *cn = c->paced; cn; cn = cn->pace.next)
        n++;
    return n;
}
