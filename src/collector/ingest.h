/*
 * ingest: one received syslog message -> one stored line, in the file of
 * the host it is filed under and the program that sent it:
 *
 *   TIMESTAMP CLAIMED-HOST PROGRAM[PID]: MESSAGE<TAB>peer=ADDR via=TRANSPORT id=IDENTITY
 *
 * TIMESTAMP is RFC 3339 with offset: the sender's when it carries a zone,
 * else the time of receipt. Control bytes of the message (TAB, LF, NUL...)
 * are written as #ooo (octal, as rsyslog does) so one message is one line
 * and the last TAB always starts the metadata. The host directory comes from
 * the authenticated identity, else the peer address, or the claimed name if
 * configured so (docs/formats.md). Parsing failures are stored all the same
 * (raw, program "unparsed") and counted: nothing received is dropped here.
 */
#ifndef LW_COLLECTOR_INGEST_H
#define LW_COLLECTOR_INGEST_H

#include "base/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum host_source { HOST_FROM_PEER, HOST_FROM_CLAIMED };

/* Where a formatted line goes instead of store_append (the agent protocol
 * collects runs of lines and writes them itself). Returns 0 or the store's
 * negative error. */
typedef int ingest_sink_fn(void *arg, const char *host, size_t host_len, const char *program,
                           size_t program_len, const char *line, size_t len);

struct ingest_origin {
    const struct sockaddr *peer; /* NULL for a local source */
    const char *transport;       /* "udp", "tcp", "tls", ... */
    const char *identity;        /* authenticated name (TLS), or NULL */
    /* Optional (agent://, agent+tls://): the host directory, decided by the
     * caller for the whole session, and the sink; NULL: as above, store. */
    const char *host;
    size_t host_len;
    ingest_sink_fn *sink;
    void *sink_arg;
};

struct ingest_stats {
    uint64_t received;
    uint64_t stored;
    uint64_t unparsed;     /* stored raw under program "unparsed" */
    uint64_t store_errors; /* of which refused_full: the store is below admin_space_left */
    uint64_t refused_full;
    uint64_t audit_records;       /* of received: audit records (audit://) */
    uint64_t audit_unparsed;      /* of those: not audit records, stored in audit-unparsed.log */
    uint64_t audit_not_regrouped; /* the regrouping failed (memory, bounds): stored at once */
};

/* A syslog message whose program is this would share the audit trail's
 * file: it is filed as INGEST_AUDIT_PROGRAM_SYSLOG instead, so that only
 * the audit listener ever writes audit.log. */
#define INGEST_AUDIT_PROGRAM        "audit"
#define INGEST_AUDIT_PROGRAM_SYSLOG "audit.syslog"
#define INGEST_AUDIT_UNPARSED       "audit-unparsed"

struct store;
struct ingest;

struct ingest *ingest_new(struct store *store, enum host_source host_from);
void ingest_free(struct ingest *in);
void ingest_set_host_from(struct ingest *in, enum host_source host_from);
enum host_source ingest_host_from(const struct ingest *in);
/* Stores one message (the bytes of a datagram or a frame). Returns 0 or the
 * store's negative error (counted). */
int ingest_syslog(struct ingest *in, const struct ingest_origin *o, const char *msg, size_t len);
/*
 * Stores one audit record (a line without its LF) in <host>/audit.log, in
 * auditd's own format with node= set to the name it is filed under (the
 * sanitized host), so that ausearch -if and logward events read the file
 * as it is. A different node name the sender claimed is kept as data: a
 * field claimed_node=NAME after the record's own fields (before the
 * ENRICHED part). A line that is not an audit record goes to
 * <host>/audit-unparsed.log, counted. Returns 0 or the store's error.
 */
int ingest_audit(struct ingest *in, const struct ingest_origin *o, const char *rec, size_t len);
const struct ingest_stats *ingest_stats(const struct ingest *in);
/* With a regroup (regroup.h), ingest_audit hands records of audit:// (no
 * sink) to it instead of the store: audit.log gets whole events. */
struct regroup;
void ingest_set_regroup(struct ingest *in, struct regroup *rg);
/* The regroup's writer (regroup_write_fn): one line of a closed event into
 * <host>/audit.log, counted as stored. */
int ingest_audit_write(void *arg, const char *host, size_t host_len, const char *line, size_t len);
/* The hosts heard from (hosts_seen.h), by the name they are filed under. */
struct hosts_seen;
const struct hosts_seen *ingest_hosts(const struct ingest *in);

/* Formats a peer address as text ("192.0.2.7", "2001:db8::1"; IPv4-mapped
 * IPv6 as IPv4). Returns the length. */
size_t ingest_peer_text(const struct sockaddr *sa, char *out, size_t cap);

#endif
