/*
 * agent_frame: lwap/1, the protocol between logward-agent and logwardd
 * (docs/formats.md, "The agent protocol on the wire"). Both sides use it:
 * the framer finds `LEN SP BODY` frames in a byte stream, the parser splits
 * a body into a verb and its fields, the writers append whole frames to a
 * buf.
 *
 * Pure: parsing borrows the caller's bytes (every pointer in struct
 * agent_msg points into the body given); nothing is allocated, no clock.
 */
#ifndef LW_WIRE_AGENT_FRAME_H
#define LW_WIRE_AGENT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define AGENT_PROTO          "lwap/1"
#define AGENT_FRAME_MAX      1048576 /* bytes of BODY */
#define AGENT_FRAME_HEAD_MAX 8       /* "1048576 " */
#define AGENT_NAME_MAX       64      /* agent=: [A-Za-z0-9._-]{1,64} */
#define AGENT_STREAM_LEN     32      /* stream=: 32 lowercase hex digits */
#define AGENT_HOST_MAX       255     /* host=: 1..255 bytes, no space or control */
#define AGENT_SEQ_MAX        INT64_MAX
#define AGENT_PORT_DEFAULT   6515

enum agent_verb {
    AGENT_HELLO = 1, /* agent -> collector */
    AGENT_REC,
    AGENT_PING,
    AGENT_WELCOME, /* collector -> agent */
    AGENT_ACK,
    AGENT_PONG,
    AGENT_ERROR,
};

enum agent_kind {
    AGENT_KIND_AUDIT = 1, /* one auditd record line */
    AGENT_KIND_SYSLOG,    /* one syslog message with its PRI */
};

/* One parsed body. Only the fields of its verb are set; the rest are 0. */
struct agent_msg {
    enum agent_verb verb;
    uint64_t seq;         /* REC, ACK: 1..AGENT_SEQ_MAX */
    enum agent_kind kind; /* REC */
    const char *data;     /* REC: DATA (may be empty, never holds LF) */
    size_t data_len;
    const char *agent, *stream, *host; /* HELLO */
    size_t agent_len, stream_len, host_len;
    uint64_t last;    /* WELCOME: 0..AGENT_SEQ_MAX */
    uint64_t n;       /* PING, PONG: 0..AGENT_SEQ_MAX */
    const char *text; /* ERROR: TEXT (may be empty, never holds LF) */
    size_t text_len;
};

/*
 * Looks for one frame at p[0..len). Returns the bytes of the whole frame
 * (head + body) and sets *body and *blen when it is complete, 0 when more bytes
 * are needed, -EBADMSG when the head is not LEN SP (a non-digit, a leading
 * zero, LEN 0, no space after at most 7 digits), -EMSGSIZE when LEN passes
 * AGENT_FRAME_MAX. There is no resync after an error: close.
 */
int agent_frame_next(const char *p, size_t len, const char **body, size_t *blen);

/*
 * Parses one body into *m. Returns 0, -EBADMSG for an unknown verb, a
 * missing, repeated or malformed field, a number out of range, a LF in
 * DATA/TEXT; -EPROTONOSUPPORT for a HELLO with another protocol than
 * lwap/1. HELLO's agent=, stream=, host= may come in any order; other
 * key=value fields are ignored (room for later versions of lwap/1).
 */
int agent_msg_parse(const char *body, size_t blen, struct agent_msg *m);

/* A short fixed text for a negative code of the two functions above. */
const char *agent_frame_strerror(int code);

/*
 * Writers: each appends one whole frame to b. They return 0, -EINVAL when a
 * field breaks the rules above (so a writer never makes a frame the parser
 * refuses), or buf's -ENOMEM/-E2BIG. Strings are NUL-terminated, DATA and
 * TEXT have a length.
 */
int agent_frame_hello(struct buf *b, const char *agent, const char *stream, const char *host);
int agent_frame_rec(struct buf *b, uint64_t seq, enum agent_kind kind, const char *data,
                    size_t len);
int agent_frame_ping(struct buf *b, uint64_t n);
int agent_frame_welcome(struct buf *b, uint64_t last);
int agent_frame_ack(struct buf *b, uint64_t seq);
int agent_frame_pong(struct buf *b, uint64_t n);
int agent_frame_error(struct buf *b, const char *text, size_t len);
/* Writes any parsed message back (the fuzz target's round trip). */
int agent_msg_write(struct buf *b, const struct agent_msg *m);

const char *agent_kind_name(enum agent_kind kind);

#endif
