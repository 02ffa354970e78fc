/*
 * event: one audit event as the collator hands it out: its key and its
 * records, each with its raw line and parsed header. Read-only for consumers.
 */
#ifndef LW_AUDIT_EVENT_H
#define LW_AUDIT_EVENT_H

#include "base/buf.h"
#include "wire/audit_record.h"

#include <stdint.h>

enum audit_close_reason {
    AUDIT_CLOSE_EOE,      /* EOE record */
    AUDIT_CLOSE_SINGLE,   /* a one-record type */
    AUDIT_CLOSE_SETTLED,  /* PROCTITLE seen and the stream moved on */
    AUDIT_CLOSE_WINDOW,   /* the stream opened event_window newer events */
    AUDIT_CLOSE_TIME,     /* record time moved time_window past it */
    AUDIT_CLOSE_CAPACITY, /* too many open events: the oldest went */
    AUDIT_CLOSE_OVERSIZE, /* too many records or bytes in one event */
    AUDIT_CLOSE_IDLE,     /* no records for a while (live input) */
    AUDIT_CLOSE_END,      /* end of input */
    AUDIT_CLOSE_REASONS
};

struct audit_record_ref {
    uint32_t off, len;     /* the raw line in the event's text */
    int type;              /* record type number; 0 if unknown */
    struct audit_header h; /* offsets relative to the line */
};

/* Bytes readable (allocated, of no meaning) after every line of an event's
 * text: a consumer may load 16 bytes at any byte of a line. */
#define AUDIT_EVENT_SLACK 16

struct audit_event {
    int64_t sec;
    uint32_t msec;
    uint32_t serial;
    uint32_t node_len; /* 0: no node= name */
    uint32_t nrecords;
    uint8_t closed_by; /* enum audit_close_reason */
    const char *node;  /* into text */
    struct audit_record_ref *records;
    struct buf text; /* raw lines, each followed by '\n', then AUDIT_EVENT_SLACK */
};

static inline const char *audit_event_line(const struct audit_event *ev, uint32_t i)
{
    return ev->text.data + ev->records[i].off;
}

const char *audit_close_reason_name(enum audit_close_reason r);

#endif
