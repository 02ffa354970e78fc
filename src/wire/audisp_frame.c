/*
 * audisp_frame: header parsing and reply building for the managed
 * audisp-remote protocol. Byte order is fixed little-endian on the wire
 * whatever the host (audit-userspace writes it so despite a comment saying
 * network order), so fields are assembled byte by byte.
 */
#include "wire/audisp_frame.h"

#include <errno.h>
#include <string.h>

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

bool audisp_is_managed(const unsigned char *p, size_t len)
{
    return len >= 4 && get32(p) == AUDISP_MAGIC;
}

int audisp_frame_next(const unsigned char *p, size_t len, struct audisp_frame *f)
{
    if (len >= 4 && get32(p) != AUDISP_MAGIC)
        return -EBADMSG;
    if (len < AUDISP_HEADER_SIZE)
        return 0;
    f->header_version = p[4];
    f->message_version = p[5];
    f->type = get32(p + 6);
    f->length = (uint32_t)p[10] | (uint32_t)p[11] << 8;
    f->sequence = get32(p + 12);
    if (f->header_version != 0)
        return -EBADMSG;
    if (f->length > AUDISP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (len - AUDISP_HEADER_SIZE < f->length)
        return 0;
    return (int)(AUDISP_HEADER_SIZE + f->length);
}

int audisp_reply_build(uint32_t type, uint32_t sequence, const char *text, size_t text_len,
                       unsigned char *out, size_t cap)
{
    if (text_len > AUDISP_MAX_REPLY || cap < AUDISP_HEADER_SIZE + text_len)
        return -EMSGSIZE;
    put32(out, AUDISP_MAGIC);
    out[4] = 0;
    out[5] = 0;
    put32(out + 6, type);
    out[10] = (unsigned char)text_len;
    out[11] = (unsigned char)(text_len >> 8);
    put32(out + 12, sequence);
    if (text_len)
        memcpy(out + AUDISP_HEADER_SIZE, text, text_len);
    return (int)(AUDISP_HEADER_SIZE + text_len);
}
