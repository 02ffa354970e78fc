/*
 * collector: logwardd's runtime. Opens the listeners and reads the TLS key
 * (before privileges are dropped), the store, and runs the event loop:
 * UDP datagrams, TCP and TLS frames (RFC 6587), audisp-remote records,
 * logward-agent's lwap/1 records (agent://, agent+tls://, stored exactly
 * once: conn_agent.c, agent_state.c) and (on a thread of their own) RELP
 * messages become stored lines through ingest.
 */
#ifndef LW_COLLECTOR_H
#define LW_COLLECTOR_H

#include "collector/ingest.h"
#include "net/listen_url.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

#define COLLECTOR_MAX_LISTENERS     32
#define COLLECTOR_DEFAULT_MAX_CONNS 1024
#define COLLECTOR_UDP_BATCH         32    /* datagrams per recvmmsg */
#define COLLECTOR_UDP_MAX           65536 /* largest datagram kept whole */
#define COLLECTOR_FLUSH_MS          200   /* write-out (and fsync per policy) period */

struct collector_config {
    struct store_config store; /* root, template, rotation, modes, group, fsync */
    struct listen_url listen[COLLECTOR_MAX_LISTENERS];
    size_t nlisten;
    const char *user; /* drop to this user after binding; NULL: stay */
    enum host_source host_from;
    size_t max_conns;
    bool sync_acked_only;           /* fsync = ack: the periodic flush writes, commits sync */
    const char *ready_file;         /* written with "SCHEME PORT" lines once listening */
    const char *config_path;        /* re-read at SIGHUP; NULL: no file */
    char *text;                     /* owned: the file's text, which string settings point into */
    const char *tls_cert, *tls_key; /* PEM files for tls:// and relp+tls:// */
    const char *tls_ca;             /* given: clients must present a certificate it signed */
    bool audit_regroup;             /* audit:// records regrouped into whole events (regroup.h) */
    unsigned audit_idle_ms;         /* an open event with no record this long is closed */
};

/* Runs until SIGTERM/SIGINT; SIGHUP re-reads the configuration file (what
 * can change while running changes, the rest is logged as needing a
 * restart) and reopens store files. Returns 0, or a negative code after
 * printing why. */
int collector_run(const struct collector_config *cfg);

#endif
