/*
 * queue: the agent's disk-backed queue of records waiting for the
 * collector's acknowledgement, and the keeper of the inputs' positions.
 * Owned by H1 (the agent spine); inputs use only the calls below.
 *
 * A batch is what one input read in one go: queue_put() buffers records in
 * memory, queue_commit() writes them and the input's new position together
 * in one append, so that after a crash either both are in the queue or
 * neither is (an input never re-reads what it already queued, and never
 * skips what it did not). Sequences are assigned at commit, per stream,
 * strictly increasing, and survive restarts.
 *
 * One thread (the agent's loop) owns a struct queue; nothing here locks.
 */
#ifndef LW_AGENT_QUEUE_H
#define LW_AGENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_RECORD_MAX   (1u << 20) /* bytes of one record's data (the wire's frame bound) */
#define QUEUE_INPUT_ID_MAX 256  /* bytes of an input's id, e.g. "audit:/var/log/audit/audit.log" */
#define QUEUE_POSITION_MAX 1024 /* bytes of an input's opaque position */

enum queue_kind { QUEUE_KIND_AUDIT = 'A', QUEUE_KIND_SYSLOG = 'S' };

struct queue;

/* Buffers one record for the next commit. DATA has no LF (the input strips
 * it). Returns 0, -EMSGSIZE past QUEUE_RECORD_MAX (the input counts and
 * skips it), or -ENOMEM. */
int queue_put(struct queue *q, enum queue_kind kind, const char *data, size_t len);

/*
 * Appends the buffered records and the position of input_id after them
 * (opaque bytes the input alone reads back) as one unit. With no records
 * buffered it only moves the position. Returns 0; -ENOSPC when the queue is
 * full and its policy is to block (nothing written, the buffered records
 * are kept: the input stops reading and commits again later); or another
 * negative errno (I/O error, logged once by the queue).
 * With the drop-oldest policy a full queue deletes its oldest records
 * (counted and logged) and commit succeeds.
 */
int queue_commit(struct queue *q, const char *input_id, const void *pos, size_t pos_len);

/* Throws the buffered (uncommitted) records away. */
void queue_abort(struct queue *q);

/* The last committed position of input_id, as recovered at open. Returns its
 * length (copied into pos, at most cap bytes), 0 when the input has none
 * (first start: the input decides where to begin), or -ENOBUFS. */
int queue_position(const struct queue *q, const char *input_id, void *pos, size_t cap);

/* ---- The spine's side (the agent's loop, the sender, status) ---- */

#define QUEUE_STREAM_HEX    32                        /* hex digits of a stream id */
#define QUEUE_SEGMENT_MIN   (QUEUE_RECORD_MAX + 4096) /* smallest segment bound */
#define QUEUE_SEGMENT_BYTES (8u << 20)                /* default bytes of one segment file */
#define QUEUE_MAX_DEFAULT   ((uint64_t)256 << 20)
#define QUEUE_FSYNC_MS      1000        /* default: fdatasync at most this often */
#define QUEUE_INPUTS_MAX    64          /* inputs whose positions the queue keeps */
#define QUEUE_BATCH_MAX     (16u << 20) /* bytes buffered before a commit */

enum queue_full_policy { QUEUE_FULL_BLOCK, QUEUE_FULL_DROP_OLDEST };
enum queue_fsync_policy {
    QUEUE_FSYNC_NONE,     /* page cache only: survives the agent's crash, not the host's */
    QUEUE_FSYNC_INTERVAL, /* fdatasync after a commit at most every fsync_ms (default) */
    QUEUE_FSYNC_EVERY,    /* fdatasync in every commit */
};

struct queue_config {
    const char *dir;        /* the state directory; the queue lives in dir/queue */
    uint64_t max_bytes;     /* bound of the segments' bytes together (0: default) */
    uint64_t segment_bytes; /* roll a segment past this (0: default) */
    enum queue_full_policy full;
    enum queue_fsync_policy fsync;
    unsigned fsync_ms;
    /* Where the queue says what it dropped, could not write, recovered
     * (one line, no LF). NULL: stderr. */
    void (*log)(void *arg, const char *line);
    void *log_arg;
};

struct queue_stats {
    uint64_t queued;    /* records committed since open */
    uint64_t acked;     /* records acknowledged since open */
    uint64_t dropped;   /* records deleted unacknowledged by drop-oldest, since open */
    uint64_t full;      /* commits refused with -ENOSPC (block) */
    uint64_t torn;      /* bytes of torn tail dropped at open */
    uint64_t next_seq;  /* the sequence the next record gets */
    uint64_t acked_seq; /* every record up to this is acknowledged */
    uint64_t pending;   /* records in the queue not yet acknowledged */
    uint64_t bytes;     /* bytes of the segment files */
    uint64_t segments;
};

/* One committed record, read back for the sender. data points into the
 * queue's read buffer: valid until the next queue_read/rewind/ack/close. */
struct queue_record {
    uint64_t seq;
    enum queue_kind kind;
    const char *data;
    size_t len;
};

/*
 * Opens (creating on first use) the queue under cfg->dir: takes the
 * directory's lock (one agent per state directory), reads or creates the
 * stream id, recovers positions, sequences and the acked mark, drops a torn
 * tail. cfg's strings are borrowed for the queue's life. Returns 0, or a
 * negative errno with why in err.
 */
int queue_open(const struct queue_config *cfg, struct queue **out, char *err, size_t errcap);
/* Syncs, writes the acked mark and positions, unlocks, frees. NULL: no-op. */
void queue_close(struct queue *q);

/* New bound and policies (SIGHUP); dir stays. Segments are at most a
 * quarter of the bound (never below QUEUE_SEGMENT_MIN). */
void queue_configure(struct queue *q, uint64_t max_bytes, enum queue_full_policy full,
                     enum queue_fsync_policy fsync, unsigned fsync_ms);

/* The stream's 32 hex digits (NUL-terminated). */
const char *queue_stream(const struct queue *q);

/* Moves the read cursor to the first record with a sequence above
 * after_seq (the sender calls it with the acked mark at each session). */
int queue_rewind(struct queue *q, uint64_t after_seq);
/* Reads the next committed record at the cursor. Returns 1 (rec filled), 0
 * when the cursor is at the end, or a negative errno. */
int queue_read(struct queue *q, struct queue_record *rec);

/* Every record up to seq is stored by the collector: forgets them, deletes
 * segments that hold nothing else (positions written first). A seq at or
 * past next_seq (the collector knows more of this stream than the queue:
 * state restored from a backup) moves next_seq beyond it, so new records
 * are never taken for duplicates. Returns 0 or a negative errno. */
int queue_ack(struct queue *q, uint64_t seq);

/* Timers: the interval fsync, the lazy acked mark. now_ms is monotonic. */
void queue_tick(struct queue *q, int64_t now_ms);

void queue_get_stats(const struct queue *q, struct queue_stats *st);

#endif
