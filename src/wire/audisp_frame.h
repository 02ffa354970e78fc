/*
 * audisp_frame: the audisp-remote / auditd "managed" wire format
 * (audit-userspace lib/private.h): a 16-byte header, least significant
 * byte first, then `length` bytes of payload. The same frame carries
 * records (client to server) and replies (server to client).
 *
 *   0..3 magic 0xff0000fe | 4 header version | 5 message version |
 *   6..9 type | 10..11 length | 12..15 sequence id
 *
 * Pure: parsing borrows the caller's bytes; nothing is allocated.
 */
#ifndef LW_WIRE_AUDISP_FRAME_H
#define LW_WIRE_AUDISP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDISP_HEADER_SIZE 16
#define AUDISP_MAGIC       0xff0000feu
#define AUDISP_MAX_PAYLOAD 8970 /* MAX_AUDIT_MESSAGE_LENGTH */
#define AUDISP_MAX_REPLY   64   /* replies carry at most a short text here */

enum audisp_type {
    AUDISP_MESSAGE = 0x00000000,
    AUDISP_HEARTBEAT = 0x00000001,
    AUDISP_ACK = 0x40000000,
    AUDISP_ENDING = 0x40000001,
    AUDISP_DISKLOW = 0x50000001,
    AUDISP_DISKFULL = 0x60000001,
    AUDISP_DISKERROR = 0x60000002,
};

struct audisp_frame {
    uint8_t header_version, message_version;
    uint32_t type;
    uint32_t length; /* of the payload, which follows the header */
    uint32_t sequence;
};

/* True when p starts with the magic (so the stream is "managed", not
 * "ascii": the magic's first byte is never a printable record byte).
 * Needs len >= 4; returns false on fewer bytes. */
bool audisp_is_managed(const unsigned char *p, size_t len);

/*
 * Looks for one frame at p[0..len). Returns the bytes of the whole frame
 * (header + payload) when it is complete, 0 when more bytes are needed,
 * -EBADMSG for a wrong magic or header version, -EMSGSIZE for a payload
 * longer than AUDISP_MAX_PAYLOAD. A managed stream has no way to resync
 * after a bad header: the caller closes the connection.
 */
int audisp_frame_next(const unsigned char *p, size_t len, struct audisp_frame *f);

/* Writes the header of a reply (type, sequence, text length) and the text;
 * returns the bytes written (AUDISP_HEADER_SIZE + text_len), or -EMSGSIZE
 * if they do not fit in cap or text_len > AUDISP_MAX_REPLY. */
int audisp_reply_build(uint32_t type, uint32_t sequence, const char *text, size_t text_len,
                       unsigned char *out, size_t cap);

#endif
