/*
 * err: logward's error codes. Functions return >= 0 on success and a negative
 * code on failure: either a negated errno value or one of the named parse
 * errors below (which sit far above any errno so the two never collide).
 */
#ifndef LW_BASE_ERR_H
#define LW_BASE_ERR_H

enum {
    ERR_BASE = 10000,
    ERR_NOT_AUDIT,     /* the line is not an audit record at all */
    ERR_BAD_TYPE,      /* "type=" missing or malformed */
    ERR_BAD_STAMP,     /* "audit(SEC.MILLI:SERIAL)" missing or malformed */
    ERR_LINE_TOO_LONG, /* longer than the named bound */
    ERR_TOO_MANY_FIELDS,
    ERR_BAD_SYNTAX,        /* generic syntax error in a value */
    ERR_SYSLOG_BAD_PRI,    /* "<N>" malformed or N > 191 */
    ERR_SYSLOG_BAD_TIME,   /* RFC 5424 TIMESTAMP malformed or out of range */
    ERR_SYSLOG_BAD_HEADER, /* RFC 5424 header field missing, too long or not printable */
    ERR_SYSLOG_BAD_SD,     /* RFC 5424 STRUCTURED-DATA malformed */
    ERR_FRAME_BAD_LENGTH,  /* RFC 6587 octet count malformed (leading 0, no SP, too many digits) */
    ERR_FRAME_TOO_LONG,    /* frame above SYSLOG_FRAME_MAX */
    ERR_LAST
};

/* Human-readable text for any code this project returns (errno or ERR_*). */
const char *err_str(int code);

#endif
