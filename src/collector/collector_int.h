/*
 * collector_int: the collector's private state, shared by collector.c
 * (listeners, loop, status) and the per-protocol connection code
 * (conn_audit.c). Not a public header: nothing outside src/collector
 * includes it. All of it is owned by the loop's thread (docs/CONCURRENCY.md).
 */
#ifndef LW_COLLECTOR_INT_H
#define LW_COLLECTOR_INT_H

#include "base/buf.h"
#include "collector/agent_state.h"
#include "collector/collector.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONN_BUF_START           (64 * 1024) /* read size: fewer reads and wakeups per message */
#define CONN_OUT_MAX             (64 * 1024) /* replies not yet taken by a client: past it, close */
#define CONN_ACKS_MAX            256         /* records stored but not yet acked, per connection */
#define COLLECTOR_STATUS_STREAMS 1000        /* agent streams listed in the status file */

struct listener_stats {
    uint64_t received, rejected, bad_frames, connections, closed_bad;
    uint64_t tls_failures; /* handshakes or certificates refused */
    uint64_t paced;        /* times a connection's reads were paced (pace.c) */
    /* agent:// and agent+tls:// (conn_agent.c) */
    uint64_t sessions, records, duplicates, gaps, agent_errors, truncated;
};

struct tls_conn;
struct tls_server;

struct listener {
    struct collector *c;
    int fd;
    struct listen_url url;
    struct listener_stats stats;
};

enum audit_mode { AUDIT_MODE_UNKNOWN, AUDIT_MODE_MANAGED, AUDIT_MODE_ASCII };

struct pending_ack {
    uint32_t type; /* AUDISP_ACK, or AUDISP_DISKERROR when the store refused */
    uint32_t sequence;
};

/* Read pacing of a syslog stream (pace.c). */
struct conn_pace {
    uint64_t window_start_us, window_bytes; /* the rate's current window */
    bool on;                                /* SO_RCVLOWAT set; in collector.paced */
    struct conn *prev, *next;
};

struct conn {
    struct listener *l;
    int fd;
    struct sockaddr_storage peer;
    struct tls_conn *tls; /* tls:// only */
    struct buf in;
    struct buf out; /* replies waiting for the socket */
    size_t in_max;  /* bound of `in` for this protocol */
    /* syslog framing resync */
    uint64_t skip;
    bool discard_line;
    /* audisp-remote */
    enum audit_mode audit_mode;
    struct pending_ack acks[CONN_ACKS_MAX];
    unsigned nacks;
    bool paused;              /* EPOLLIN off until acks drain */
    bool closing;             /* close once `out` is written */
    struct conn *next_ack;    /* in collector.ack_list while nacks > 0, or agent_list */
    struct agent_conn *agent; /* agent:// and agent+tls:// only (conn_agent.c) */
    struct conn_pace pace;
};

struct collector {
    const struct collector_config *cfg;
    struct loop *loop;
    struct store *store;
    struct ingest *ingest;
    struct regroup *regroup;     /* audit:// events regrouped through the spool; NULL: off */
    uint64_t regroup_settled_ms; /* last store flush done for the spool's sake (on_tick) */
    struct listener listeners[COLLECTOR_MAX_LISTENERS];
    size_t nlisteners;
    size_t nconns, max_conns; /* max_conns: the configured bound, changed by SIGHUP */
    struct conn **conns;      /* by fd */
    struct conn *ack_list;    /* connections with records waiting for a commit */
    uint64_t commits, commit_errors;
    struct agent_states *agents; /* when an agent listener is configured */
    struct conn *agent_list;     /* agent connections owed an answer after a commit */
    uint64_t agent_commits, agent_commit_errors;
    struct agent_recovery agent_recovery; /* what the start-up recovery found */
    struct tls_server *tls;               /* when a tls:// listener is configured */
    char *udp_bufs;
    struct conn *paced; /* connections read in bulk, polled (pace.c) */
    char status_path[4096];
};

void conn_close(struct collector *c, struct conn *cn);
/* Queues bytes for the client and writes what the socket takes now.
 * Returns 0, or -1 when the connection had to be closed. */
int conn_send(struct collector *c, struct conn *cn, const void *p, size_t n);

/* Reads as if the socket had signalled: for a resumed TLS connection whose
 * decrypted bytes wait inside TLS, which the socket will not signal. */
bool conn_read_now(struct collector *c, struct conn *cn); /* false: it was closed */

/* Read pacing of busy tcp:// and tls:// syslog streams, pace.c */
bool pace_applies(const struct conn *cn);
/* After each read of n bytes from a connection pace_applies to. */
void pace_read(struct collector *c, struct conn *cn, size_t n);
/* The loop's poll (loop_set_poll): reads every paced connection. */
void pace_poll(struct collector *c);
/* How many connections are paced now (for the status file). */
size_t pace_count(const struct collector *c);
/* Before the connection goes away. */
void pace_forget(struct collector *c, struct conn *cn);

/* audisp-remote (audit://), conn_audit.c */
void conn_audit_drain(struct collector *c, struct conn *cn, bool eof);
/* Makes everything stored durable (store_flush) and answers every record
 * waiting for it: ACK, or DISKERROR if the flush failed. */
void conn_audit_commit(struct collector *c);
/* SIGTERM: tells managed clients the server is going (ENDING). */
void conn_audit_ending(struct collector *c, struct conn *cn);

/* agent:// and agent+tls:// (lwap/1), conn_agent.c */
int conn_agent_new(struct collector *c, struct conn *cn);
void conn_agent_drain(struct collector *c, struct conn *cn, bool eof);
/* Makes every stored agent record durable (store_flush, then the stream
 * states) and answers the connections waiting: ACK, or ERROR and close. */
void conn_agent_commit(struct collector *c);
/* True while the connection still owes the client an answer. */
bool conn_agent_owes(const struct conn *cn);
/* From conn_close: stores what is buffered, lets go of the stream. */
void conn_agent_free(struct collector *c, struct conn *cn);
/* SIGTERM: tells the agent the collector is going (ERROR). */
void conn_agent_ending(struct collector *c, struct conn *cn);

#endif
