/*
 * syslog_frame: RFC 6587 framing of syslog over a byte stream (TCP, TLS),
 * decided per frame as rsyslog does: a frame that starts with a digit is
 * octet-counted ("LEN SP MSG"), any other is terminated by LF.
 *
 * The framer is pure and keeps no state: the caller passes the bytes it has
 * not consumed yet and gets "need more", a frame, or an error that says how
 * many bytes to drop to get back in step. It never reads past len.
 */
#ifndef LW_WIRE_SYSLOG_FRAME_H
#define LW_WIRE_SYSLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest message in a frame, as rsyslog's imtcp maxFrameSize default. */
#define SYSLOG_FRAME_MAX 200000
/* An octet count with more digits than this is malformed. */
#define SYSLOG_FRAME_LEN_DIGITS 10
/* No frame is consumed in one piece longer than this (LF frame: MSG, CR, LF). */
#define SYSLOG_FRAME_MAX_CONSUMED (SYSLOG_FRAME_MAX + 2)

enum syslog_frame_kind {
    SYSLOG_FRAME_OCTET_COUNTED = 1,
    SYSLOG_FRAME_LF = 2,
};

/* Options, or-ed. */
enum syslog_frame_option {
    SYSLOG_FRAME_NUL_ENDS = 1 << 0, /* NUL ends an LF frame too (rsyslog's
                                       AddtlFrameDelimiter="0"; off by default) */
    SYSLOG_FRAME_LF_ONLY = 1 << 1,  /* treat the frame as LF-terminated even if it
                                       starts with a digit (after ERR_FRAME_BAD_LENGTH,
                                       to take the line as a raw frame) */
};

struct syslog_frame {
    uint8_t kind;     /* enum syslog_frame_kind */
    uint32_t msg_off; /* the message: no length prefix, no CR LF / NUL */
    uint32_t msg_len; /* 0 for an empty line: callers skip it (rsyslog does) */
    /* On error: drop `skip` bytes (may exceed len: keep dropping as they
     * arrive), then, if discard_line, drop everything through the next LF. */
    uint64_t skip;
    bool discard_line;
};

/*
 * Looks for one frame at the start of p[0..len). Returns:
 *   > 0  a frame: *f holds the message; the value is the bytes consumed;
 *     0  need more bytes (nothing is decided yet);
 *   < 0  ERR_FRAME_TOO_LONG: octet count above SYSLOG_FRAME_MAX (skip = the
 *        whole announced frame, exact resync), or no LF within
 *        SYSLOG_FRAME_MAX_CONSUMED bytes (skip those, discard_line set);
 *        ERR_FRAME_BAD_LENGTH: octet count with a leading 0, not followed
 *        by SP, or too long (skip 0, discard_line set: the frame's end is
 *        unknown; call again with SYSLOG_FRAME_LF_ONLY to take the line).
 * The answer for a prefix never changes when more bytes are appended.
 */
int syslog_frame_next(const char *p, size_t len, unsigned options, struct syslog_frame *f);

#endif
