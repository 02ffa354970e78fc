/*
 * sender: ships the queue's records to a collector over lwap/1
 * (docs/formats.md, "The agent protocol on the wire"), in the agent's
 * single epoll loop. One session at a time, collectors tried in order
 * (failover, back to the first after `failback` ms), exponential
 * backoff with full jitter between attempts. A session: connect (TLS
 * handshake on agent+tls://), HELLO, WELCOME last=N (the queue forgets up
 * to N), then RECs pipelined from the first unacknowledged record within
 * the window; each ACK is handed to queue_ack, which trims the disk. A
 * broken session costs nothing but a resend: the next WELCOME says where
 * to start again.
 */
#ifndef LW_AGENT_SENDER_H
#define LW_AGENT_SENDER_H

#include "agent/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SENDER_WINDOW_RECORDS 4096
#define SENDER_WINDOW_BYTES   (4u << 20)
#define SENDER_OUT_HIGH       (256u << 10) /* bytes framed ahead of the socket */
#define SENDER_CONNECT_MS     10000        /* connect + handshake + WELCOME */
#define SENDER_PING_IDLE_MS   10000        /* PING after this long without a frame out */
#define SENDER_DEAD_MS        30000        /* no frame in for this long, with one due: dead */
#define SENDER_ERROR_MAX      320

struct loop;
struct queue;
struct sender;

struct sender_collector_stats {
    char url[COLLECTOR_URL_MAX + 1];
    uint64_t connects; /* sessions that got their WELCOME */
    uint64_t failures; /* attempts or sessions that failed */
    char last_error[SENDER_ERROR_MAX];
};

struct sender_stats {
    uint64_t sent;     /* REC frames written (resends after a broken session included) */
    uint64_t acked;    /* records acknowledged by ACK or WELCOME, since start */
    uint64_t inflight; /* records sent and not acknowledged yet */
    const char *state; /* "connected", "connecting", "waiting" (backoff) */
    int current;       /* index of the collector in use or tried next */
    size_t ncollectors;
    struct sender_collector_stats collectors[AGENT_COLLECTORS_MAX];
};

/* Where the sender says what happened (one line, no LF). */
typedef void (*sender_log_fn)(void *arg, const char *line);

/* Takes cfg's collectors, TLS files (loaded now: a bad file is an error
 * here, with OpenSSL's reason in err) and backoff cap; borrows l and q. */
int sender_new(struct loop *l, struct queue *q, const struct agent_config *cfg, sender_log_fn log,
               void *log_arg, struct sender **out, char *err, size_t cap);
/* SIGHUP: new collectors, TLS files, backoff. An open session is closed
 * when its collector or the TLS settings changed. On error nothing changes. */
int sender_configure(struct sender *s, const struct agent_config *cfg, char *err, size_t cap);
void sender_free(struct sender *s);

/* Records were committed: send them if a session is up. */
void sender_kick(struct sender *s);
/* Timers: backoff, connect timeout, keepalive, failback. */
void sender_tick(struct sender *s, int64_t now_ms);
/* True when nothing sent waits for its ACK (for a quick exit). */
bool sender_idle(const struct sender *s);

const struct sender_stats *sender_stats(struct sender *s);

#endif
