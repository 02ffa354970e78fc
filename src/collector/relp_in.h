/*
 * relp_in: logwardd's RELP listeners (relp:// and relp+tls://), through
 * librelp, so that rsyslog's omrelp delivers with acknowledgements.
 *
 * librelp runs its own event loop on one dedicated thread. Its receive
 * callback hands each message to the collector's loop thread (handoff.h)
 * and waits there until the message is stored and store_flush() returned 0;
 * only then does it return, and librelp sends "rsp 200 OK". When the store
 * refuses, the callback breaks the peer's session first, so the ack cannot
 * go out and the sender resends (docs/formats.md, "RELP").
 *
 * Threads: relp_in_open/start/dispatch/stop/free and the write functions
 * run on the loop's thread, which owns the ingest and the store; the
 * callback runs on the RELP thread and touches only the handoff.
 */
#ifndef LW_COLLECTOR_RELP_IN_H
#define LW_COLLECTOR_RELP_IN_H

#include "net/listen_url.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RELP_IN_MAX_LISTENERS 32
#define RELP_IN_MAX_SOCKS     4      /* sockets librelp binds per listener (IPv4, IPv6) */
#define RELP_IN_MAX_MSG       200000 /* bytes of one message, as rsyslog caps a frame */
#define RELP_IN_BATCH         64     /* messages ingested per dispatch, then one flush */
#define RELP_IN_STOP_WAIT_MS  5000   /* how long relp_in_stop waits for the thread */
#define RELP_IN_LOG_PER_SEC   10     /* librelp error messages logged per second */

struct relp_in_config {
    const struct listen_url *listen; /* all of logwardd's; only RELP ones are used */
    size_t nlisten;
    const char *tls_cert, *tls_key; /* required by relp+tls:// */
    const char *tls_ca;             /* given: clients must present a certificate it signed */
};

struct relp_in_stats {
    uint64_t received; /* messages handed over by librelp */
    uint64_t acked;    /* durable, then acknowledged */
    uint64_t refused;  /* not acknowledged: store error or shutdown; the sender resends */
};

struct ingest;
struct store;
struct relp_in;

/* The schemes served here. */
bool relp_in_serves(enum listen_scheme s);

/*
 * Binds every RELP listener of cfg (call it before privileges drop; the
 * thread is not started yet). *out is NULL when cfg has none. Returns 0,
 * or a negative code after logging why.
 */
int relp_in_open(const struct relp_in_config *cfg, struct relp_in **out);
/* Starts the RELP thread. Returns 0 or -errno. */
int relp_in_start(struct relp_in *r);
/* The eventfd to watch (EPOLLIN) in the loop; call relp_in_dispatch then. */
int relp_in_fd(const struct relp_in *r);
/* Ingests what the RELP thread handed over, flushes the store once for all
 * of it, and releases each waiting callback with the outcome. */
void relp_in_dispatch(struct relp_in *r, struct ingest *in, struct store *st);
/* SIGTERM: dispatches what is waiting, refuses what comes later, stops the
 * engine and joins the thread. relp_in_stop(NULL, ...) is a no-op. */
void relp_in_stop(struct relp_in *r, struct ingest *in, struct store *st);
/* Stops (refusing what waits) if still running, then frees; NULL is a no-op. */
void relp_in_free(struct relp_in *r);

/* "SCHEME PORT" lines for the ready file, one per bound socket. */
void relp_in_write_ready(const struct relp_in *r, FILE *f);
/* Listener objects for the status file's "listeners" array; `first` when
 * no object precedes them. */
void relp_in_write_status(const struct relp_in *r, FILE *f, bool first);
void relp_in_get_stats(const struct relp_in *r, struct relp_in_stats *out);

#endif
