/*
 * queue_entry: encodes and parses the entries of the queue's segment files.
 * Only the byte layout lives here (queue_entry.h); queue.c does the files,
 * the recovery and the bounds. The CRC is zlib's crc32 over the body, so a
 * torn write (length present, body short) and damaged bytes (CRC wrong) are
 * both seen; a record's data is never interpreted.
 */
#include "agent/queue_entry.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint32_t body_crc(const uint8_t *body, size_t len)
{
    return (uint32_t)crc32(0L, body, (uInt)len);
}

static int parse_checkpoint(const uint8_t *b, size_t len, struct queue_entry *e)
{
    if (len < 1 + 8 + 8 + 2)
        return -EBADMSG;
    e->gen = get64(b + 1);
    e->next_seq = get64(b + 9);
    e->id_len = get16(b + 17);
    if (e->id_len > QUEUE_INPUT_ID_MAX || 19 + e->id_len + 2 > len)
        return -EBADMSG;
    e->id = (const char *)b + 19;
    e->pos_len = get16(b + 19 + e->id_len);
    if (e->pos_len > QUEUE_POSITION_MAX || 21 + e->id_len + e->pos_len != len)
        return -EBADMSG;
    e->pos = b + 21 + e->id_len;
    return 0;
}

ssize_t queue_entry_parse(const uint8_t *p, size_t len, struct queue_entry *e)
{
    if (len < QUEUE_ENTRY_HEADER)
        return 0;
    size_t blen = get32(p);
    if (blen < 1 || blen > QUEUE_ENTRY_RECORD_MAX - QUEUE_ENTRY_HEADER)
        return -EBADMSG;
    if (len - QUEUE_ENTRY_HEADER < blen)
        return 0;
    const uint8_t *b = p + QUEUE_ENTRY_HEADER;
    if (body_crc(b, blen) != get32(p + 4))
        return -EBADMSG;
    memset(e, 0, sizeof(*e));
    e->type = b[0];
    if (e->type == QUEUE_KIND_AUDIT || e->type == QUEUE_KIND_SYSLOG) {
        if (blen < 9)
            return -EBADMSG;
        e->seq = get64(b + 1);
        if (e->seq == 0 || e->seq > INT64_MAX)
            return -EBADMSG;
        e->data = b + 9;
        e->len = blen - 9;
    } else if (e->type == QUEUE_ENTRY_CHECKPOINT) {
        if (blen > QUEUE_ENTRY_CHECKPOINT_MAX - QUEUE_ENTRY_HEADER || parse_checkpoint(b, blen, e))
            return -EBADMSG;
    } else {
        return -EBADMSG;
    }
    return (ssize_t)(QUEUE_ENTRY_HEADER + blen);
}

size_t queue_entry_record_size(size_t data_len)
{
    return QUEUE_ENTRY_HEADER + 9 + data_len;
}

size_t queue_entry_checkpoint_size(size_t id_len, size_t pos_len)
{
    return QUEUE_ENTRY_HEADER + 21 + id_len + pos_len;
}

static size_t seal(uint8_t *out, size_t blen)
{
    put32(out, (uint32_t)blen);
    put32(out + 4, body_crc(out + QUEUE_ENTRY_HEADER, blen));
    return QUEUE_ENTRY_HEADER + blen;
}

size_t queue_entry_put_record(uint8_t *out, uint8_t kind, uint64_t seq, const void *data,
                              size_t len)
{
    uint8_t *b = out + QUEUE_ENTRY_HEADER;
    b[0] = kind;
    put64(b + 1, seq);
    if (len)
        memmove(b + 9, data, len); /* may be in place (renumbering) */
    return seal(out, 9 + len);
}

size_t queue_entry_put_checkpoint(uint8_t *out, uint64_t gen, uint64_t next_seq, const char *id,
                                  size_t id_len, const void *pos, size_t pos_len)
{
    uint8_t *b = out + QUEUE_ENTRY_HEADER;
    b[0] = QUEUE_ENTRY_CHECKPOINT;
    put64(b + 1, gen);
    put64(b + 9, next_seq);
    put16(b + 17, (uint16_t)id_len);
    memcpy(b + 19, id, id_len);
    put16(b + 19 + id_len, (uint16_t)pos_len);
    if (pos_len)
        memcpy(b + 21 + id_len, pos, pos_len);
    return seal(out, 21 + id_len + pos_len);
}
