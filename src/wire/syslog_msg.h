/*
 * syslog_msg: a pure parser for one syslog message (the bytes of one UDP
 * datagram or one RFC 6587 frame, framing already removed), in either form,
 * told apart by the bytes after PRI:
 *
 *   RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]
 *   RFC 3164: [<PRI>][TIMESTAMP ][HOSTNAME ][TAG[:]] MSG
 *             TIMESTAMP: "Mmm dd hh:mm:ss", "Mmm dd yyyy hh:mm:ss" or RFC 3339
 *
 * Nothing is copied or allocated: results are offsets into the caller's
 * bytes, plus the numbers of PRI and the time stamp. A time stamp without a
 * year or a zone is reported as such (flags); completing it is the caller's
 * job. See docs/formats.md, "Syslog on the wire", for what is accepted.
 */
#ifndef LW_WIRE_SYSLOG_MSG_H
#define LW_WIRE_SYSLOG_MSG_H

#include <stddef.h>
#include <stdint.h>

/* A message longer than this is rejected (ERR_LINE_TOO_LONG); it is above
 * SYSLOG_FRAME_MAX and the largest UDP datagram. */
#define SYSLOG_MSG_MAX (256 * 1024)

/* RFC 5424 field bounds (section 6). */
#define SYSLOG_HOSTNAME_MAX 255
#define SYSLOG_APPNAME_MAX  48
#define SYSLOG_PROCID_MAX   128
#define SYSLOG_MSGID_MAX    32
#define SYSLOG_SDNAME_MAX   32
/* An RFC 3164 TAG longer than this ends there (the rest is MSG). */
#define SYSLOG_TAG_MAX 256

/* PRI used when a message has none (RFC 3164 section 4.3.3: user.notice). */
#define SYSLOG_DEFAULT_PRI 13

enum syslog_msg_flag {
    SYSLOG_MSG_RFC5424 = 1 << 0,  /* RFC 5424 form ("<PRI>1 ") */
    SYSLOG_MSG_NO_PRI = 1 << 1,   /* no PRI: facility/severity are the default */
    SYSLOG_MSG_HAS_TIME = 1 << 2, /* a time stamp was present and is valid */
    SYSLOG_MSG_HAS_YEAR = 1 << 3, /* ... with a year (else year is 0) */
    SYSLOG_MSG_HAS_TZ = 1 << 4,   /* ... with a zone (else tz_minutes is 0) */
    SYSLOG_MSG_HAS_FRAC = 1 << 5, /* ... with a fraction of a second */
    SYSLOG_MSG_HAS_HOST = 1 << 6, /* HOSTNAME present */
    SYSLOG_MSG_BOM = 1 << 7,      /* MSG began with a UTF-8 BOM (skipped) */
    SYSLOG_MSG_TAG_COLON = 1 << 8 /* RFC 3164 TAG ended with ':' */
};

struct syslog_msg {
    uint8_t facility; /* 0..23 */
    uint8_t severity; /* 0..7 */
    uint16_t flags;   /* enum syslog_msg_flag */
    uint16_t year;    /* 0 without SYSLOG_MSG_HAS_YEAR */
    uint8_t month, day, hour, minute, second;
    uint8_t frac_digits; /* digits written after the '.' (1..9), 0 without */
    uint32_t nanosecond; /* the fraction, scaled to nanoseconds */
    int16_t tz_minutes;  /* offset east of UTC, -1439..1439 */
    /* Fields: offset into the message and length; length 0 = absent ("-"). */
    uint32_t time_off, time_len; /* the time stamp as written */
    uint32_t host_off, host_len;
    uint32_t app_off, app_len;       /* 5424 APP-NAME; 3164 program part of TAG */
    uint32_t procid_off, procid_len; /* 5424 PROCID; 3164 the pid in TAG[pid] */
    uint32_t msgid_off, msgid_len;   /* 5424 only */
    uint32_t sd_off, sd_len;         /* 5424 STRUCTURED-DATA, all elements */
    uint32_t tag_off, tag_len;       /* 3164 TAG as written, ':' excluded */
    uint32_t msg_off, msg_len;       /* MSG, after a BOM, without a final LF */
};

/*
 * Parses the message p[0..len). Returns len (bytes used) or a negative
 * ERR_* code: ERR_SYSLOG_BAD_PRI, ERR_SYSLOG_BAD_TIME, ERR_SYSLOG_BAD_HEADER,
 * ERR_SYSLOG_BAD_SD, ERR_LINE_TOO_LONG. On error *err_off is the offset
 * where parsing stopped and *m is unspecified; the caller may still store
 * the raw bytes. One final "\n" or "\r\n" is not part of MSG.
 */
int syslog_msg_parse(const char *p, size_t len, struct syslog_msg *m, size_t *err_off);

#endif
