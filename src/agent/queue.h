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
#define QUEUE_INPUT_ID_MAX 256        /* bytes of an input's id, e.g. "audit:/var/log/audit/audit.log" */
#define QUEUE_POSITION_MAX 1024       /* bytes of an input's opaque position */

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

#endif
