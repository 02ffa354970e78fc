/*
 * collector: logwardd's runtime. Opens the listeners (before privileges are
 * dropped), the store, and runs the event loop: UDP datagrams and TCP
 * frames (RFC 6587) become stored lines through ingest. TLS, RELP and the
 * audisp-remote protocol are not served yet; asking for them is refused at
 * start with a clear error rather than silently ignored.
 */
#ifndef LW_COLLECTOR_H
#define LW_COLLECTOR_H

#include "collector/ingest.h"
#include "net/listen_url.h"

#include <stdbool.h>
#include <stddef.h>

#define COLLECTOR_MAX_LISTENERS     32
#define COLLECTOR_DEFAULT_MAX_CONNS 1024
#define COLLECTOR_UDP_BATCH         32    /* datagrams per recvmmsg */
#define COLLECTOR_UDP_MAX           65536 /* largest datagram kept whole */
#define COLLECTOR_FLUSH_MS          200   /* write-out (and fsync per policy) period */

struct collector_config {
    const char *store_root;
    struct listen_url listen[COLLECTOR_MAX_LISTENERS];
    size_t nlisten;
    const char *user; /* drop to this user after binding; NULL: stay */
    enum host_source host_from;
    size_t max_conns;
    int fsync_policy;       /* enum store_fsync */
    const char *ready_file; /* written with "PORT..." once listening (tests) */
    const char *tls_cert, *tls_key; /* PEM files for tls:// and relp+tls:// */
    const char *tls_ca;             /* given: clients must present a certificate it signed */
};

/* Runs until SIGTERM/SIGINT; SIGHUP reopens store files. Returns 0, or a
 * negative code after printing why. */
int collector_run(const struct collector_config *cfg);

#endif
