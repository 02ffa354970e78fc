/*
 * regroup: audit records received on audit:// -> audit.log one event at a
 * time. Records go through the audit engine's collator (audit/collate.h),
 * so the records of one event are written contiguously, in arrival order,
 * whether or not the sender kept EOE. A record whose event is still open
 * is kept in the spool (spool.h) and made durable by the commit before its
 * acknowledgement; when the event closes its lines go to the writer and a
 * done mark to the spool. Spool files are dropped (or the current one cut)
 * once no open event has records in them and the store was flushed. At
 * start the spool is replayed: open events are rebuilt, none is written
 * twice. Events close by the collator's rules, after idle_ms without a
 * record (between 1x and 2x), and all at regroup_finish (SIGTERM).
 */
#ifndef LW_COLLECTOR_REGROUP_H
#define LW_COLLECTOR_REGROUP_H

#include "collector/spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REGROUP_IDLE_MS_DEFAULT 1000
#define REGROUP_IDLE_MS_MIN     100
#define REGROUP_IDLE_MS_MAX     60000
#define REGROUP_ROTATE_BYTES    (4u << 20) /* a new spool file past this size */
#define REGROUP_HOSTS_MAX       65536      /* distinct host names kept for open events */
#define REGROUP_DIR             ".spool"   /* below the store root */

struct regroup_config {
    const char *spool_dir;
    bool sync; /* fdatasync the spool at commits (fsync policy not "none") */
    uint32_t idle_ms;
    uint64_t rotate_bytes; /* 0: REGROUP_ROTATE_BYTES */
    /* When audit.log is <store_root>/<node>/audit.log (the default
     * template): replayed records already at the end of it are not taken
     * again (an event written just before a crash, its done mark not). */
    const char *store_root; /* NULL: no such check */
};
#define REGROUP_TAIL_BYTES (1u << 20) /* of audit.log looked at per host at replay */

/* Writes one line of a closed event to <host>/audit.log (host as received,
 * unsanitized). Returns 0 or the store's negative error. */
typedef int regroup_write_fn(void *arg, const char *host, size_t host_len, const char *line,
                             size_t len);

struct regroup_stats {
    uint64_t records, events;
    uint64_t spooled; /* records kept in the spool while their event was open */
    uint64_t
        write_errors; /* event lines the writer refused: kept in the spool for the next start */
    uint64_t spool_files_dropped, spool_cuts;
    struct spool_replay_stats replay;
    uint64_t replay_stored; /* of replay.replayed: found at the end of audit.log, not taken */
    uint64_t replay_events; /* events rebuilt from the spool at start */
};

struct regroup;

int regroup_open(const struct regroup_config *cfg, regroup_write_fn *fn, void *arg,
                 struct regroup **out);
void regroup_free(struct regroup *rg);
/* At start, after regroup_open: the records the spool still owes. */
int regroup_replay(struct regroup *rg);
/* One record, formatted as it goes to audit.log (node= the filed name).
 * Returns 0, or -EINVAL when line is not a record (not taken). */
int regroup_add(struct regroup *rg, const char *host, size_t host_len, const char *line,
                size_t len);
/* After store_flush succeeded, before acknowledging: makes the spool
 * durable, then drops spool files no open event needs (and rotates). */
int regroup_commit(struct regroup *rg);
/* Writes buffered spool bytes (no sync), for records nobody acks. */
int regroup_write_out(struct regroup *rg);
/* Every loop tick: closes events idle for idle_ms. Returns 1 when spool
 * files wait for a store flush + regroup_commit to be dropped, else 0. */
int regroup_tick(struct regroup *rg, uint64_t now_ms);
/* Closes every open event (SIGTERM); then store_flush and regroup_commit. */
int regroup_finish(struct regroup *rg);
size_t regroup_open_events(const struct regroup *rg);
uint64_t regroup_spool_bytes(const struct regroup *rg);
const struct regroup_stats *regroup_stats(const struct regroup *rg);

#endif
