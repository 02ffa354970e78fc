/*
 * queue_entry: the bytes of one entry in the agent's queue segment files
 * (docs/agent.md, "The queue on disk"): a record or a position checkpoint,
 * each framed by its length and a CRC-32 so that recovery can tell a torn
 * or damaged tail from good data. Pure: no I/O, no allocation.
 *
 *   u32 len   bytes of BODY (little-endian)
 *   u32 crc   CRC-32 (zlib's) of BODY
 *   BODY      u8 type, then
 *             'A'/'S' (a record):  u64 seq, data
 *             'P' (checkpoint):    u64 gen, u64 next_seq, u16 id_len, id,
 *                                  u16 pos_len, pos
 *
 * A segment file starts with QUEUE_SEGMENT_MAGIC (8 bytes), then entries.
 */
#ifndef LW_AGENT_QUEUE_ENTRY_H
#define LW_AGENT_QUEUE_ENTRY_H

#include "agent/queue.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QUEUE_SEGMENT_MAGIC     "LWAQ001\n"
#define QUEUE_SEGMENT_MAGIC_LEN 8
#define QUEUE_ENTRY_HEADER      8
#define QUEUE_ENTRY_RECORD_MAX  (QUEUE_ENTRY_HEADER + 9 + QUEUE_RECORD_MAX)
#define QUEUE_ENTRY_CHECKPOINT_MAX                                                                 \
    (QUEUE_ENTRY_HEADER + 1 + 8 + 8 + 2 + QUEUE_INPUT_ID_MAX + 2 + QUEUE_POSITION_MAX)
#define QUEUE_ENTRY_CHECKPOINT 'P'

struct queue_entry {
    uint8_t type; /* 'A', 'S' or 'P' */
    /* a record */
    uint64_t seq;
    const uint8_t *data;
    size_t len;
    /* a checkpoint */
    uint64_t gen, next_seq;
    const char *id;
    size_t id_len;
    const uint8_t *pos;
    size_t pos_len;
};

/* Parses the entry at p. Returns its size in bytes, 0 when len holds only
 * part of it (at a file's end: a torn tail), or -EBADMSG (bad length, type,
 * CRC or layout). e's pointers point into p. */
ssize_t queue_entry_parse(const uint8_t *p, size_t len, struct queue_entry *e);

/* Bytes queue_entry_put_* will write. */
size_t queue_entry_record_size(size_t data_len);
size_t queue_entry_checkpoint_size(size_t id_len, size_t pos_len);

/* Write one entry at out (which has room for its size); return the size. */
size_t queue_entry_put_record(uint8_t *out, uint8_t kind, uint64_t seq, const void *data,
                              size_t len);
size_t queue_entry_put_checkpoint(uint8_t *out, uint64_t gen, uint64_t next_seq, const char *id,
                                  size_t id_len, const void *pos, size_t pos_len);

#endif
