/*
 * audit_record: a pure parser for one Linux audit record line, in every form
 * auditd and the kernel write it:
 *
 *   [node=NAME ]type=T msg=audit(SEC.MILLI:SERIAL): k=v k="v" k='v' k=HEX ...
 *   type=UNKNOWN[1234] msg=audit(...): ...
 *   ... msg='k=v k=v ...'        (user-space records: a nested field list)
 *   ... <0x1d>AUID="root" SADDR={ ... }   (ENRICHED: interpreted values)
 *   ... kernel: [..] audit: type=1400 audit(SEC.MILLI:SERIAL): ...  (syslog form)
 *
 * It works in two steps so that hot paths pay only for what they use: the
 * header (node, type, time stamp, serial) is enough to collate records into
 * events; the fields are parsed later, only for records that are printed.
 * Nothing is copied or allocated: results are offsets into the caller's line.
 * Unknown types and fields are kept; interpreting values (hex, names) is the
 * normalizer's job, not this parser's.
 */
#ifndef LW_WIRE_AUDIT_RECORD_H
#define LW_WIRE_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record longer than this is rejected (the kernel caps one at 8970 bytes;
 * ENRICHED text and node names add less than this margin). */
#define AUDIT_RECORD_MAX_LINE (64 * 1024)
/* Enough for a maximal line of the shortest possible fields ("a=b "). */
#define AUDIT_RECORD_MAX_FIELDS (AUDIT_RECORD_MAX_LINE / 4)

/* The byte auditd puts between the raw record and its ENRICHED part. */
#define AUDIT_ENRICHED_SEPARATOR '\x1d'

struct audit_header {
    uint32_t node_off, node_len; /* node_len 0: no node= prefix */
    uint32_t type_off, type_len; /* the type as written: "SYSCALL", "1400", "UNKNOWN[1420]" */
    int type_number;             /* > 0 when the type was written as a number */
    int64_t sec;
    uint32_t msec;
    uint32_t serial;
    uint32_t start_off;    /* where the record starts ("node=" or "type="); > 0 in syslog form */
    uint32_t body_off;     /* first byte of the field list */
    uint32_t enriched_off; /* offset of the 0x1d separator, or the line length */
    bool syslog_form;
};

enum audit_value_kind {
    AUDIT_VALUE_PLAIN,   /* unquoted: a number, a word, or hex-encoded bytes */
    AUDIT_VALUE_DQUOTED, /* "text" (quotes not included) */
    AUDIT_VALUE_SQUOTED, /* 'text' */
    AUDIT_VALUE_BRACED,  /* { ... } as in ENRICHED SADDR= */
    AUDIT_VALUE_NULL,    /* (null) */
    AUDIT_VALUE_UNSET,   /* ? */
};

enum audit_field_part {
    AUDIT_PART_BODY,     /* the record's own fields */
    AUDIT_PART_MSG,      /* inside a user-space record's msg='...' */
    AUDIT_PART_ENRICHED, /* after the 0x1d separator */
};

struct audit_field {
    uint32_t name_off;
    uint16_t name_len;
    uint8_t kind; /* enum audit_value_kind */
    uint8_t part; /* enum audit_field_part */
    uint32_t value_off, value_len;
};

/*
 * Parses the header of `line` (no trailing newline). Returns 0 or a negative
 * ERR_* code: ERR_NOT_AUDIT for lines that are not audit records at all,
 * ERR_BAD_TYPE / ERR_BAD_STAMP for damaged ones, ERR_LINE_TOO_LONG.
 * On error *err_off is the byte offset where parsing stopped.
 */
int audit_header_parse(const char *line, size_t len, struct audit_header *h, size_t *err_off);

/*
 * The same, for a caller that has already looked for the ENRICHED
 * separator: gs_off is the offset of the first 0x1d byte in the line, or len
 * if there is none (a reader that scans its whole buffer once instead of
 * every line). Gives exactly what audit_header_parse gives.
 */
int audit_header_parse_gs(const char *line, size_t len, size_t gs_off, struct audit_header *h,
                          size_t *err_off);

/*
 * Parses the fields of a record whose header was parsed, into f[0..cap).
 * Returns the number of fields, or ERR_TOO_MANY_FIELDS (the first cap fields
 * are still valid). Bare words without '=' (as in AVC's "avc: denied { read }")
 * are not fields; they stay in the raw line.
 */
int audit_fields_parse(const char *line, size_t len, const struct audit_header *h,
                       struct audit_field *f, size_t cap);

#endif
