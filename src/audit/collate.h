/*
 * collate: groups audit records into events keyed by (node, time stamp,
 * serial), whatever order they arrive in and whether or not EOE is present.
 *
 * An event is closed (handed to the callback) when:
 *   - its EOE record arrives, or it is a one-record type (audit_tables);
 *   - it has its PROCTITLE (the kernel writes it last) and the stream has
 *     opened `settle_window` newer events since, unless the source has
 *     been seen to write EOE records (then EOE is awaited);
 *   - the stream has opened `event_window` newer events since it opened;
 *   - as a backstop, record time has moved `time_window` seconds past it;
 *   - more than `max_open` events are open (the oldest is closed, counted);
 *   - the input ends (audit_collate_flush), or it got no record between two
 *     calls of audit_collate_expire (followed files and live streams).
 * Windows count newer events rather than serial distance so that files that
 * mix hosts without node= names, lost records and serial rollover need no
 * special cases. Memory is bounded by max_open and the per-event bounds.
 */
#ifndef LW_AUDIT_COLLATE_H
#define LW_AUDIT_COLLATE_H

#include "audit/event.h"
#include "wire/audit_record.h"

#include <stdint.h>

struct audit_collate_config {
    uint32_t event_window;  /* default AUDIT_COLLATE_EVENT_WINDOW */
    uint32_t settle_window; /* default AUDIT_COLLATE_SETTLE_WINDOW */
    uint32_t time_window;   /* seconds; default AUDIT_COLLATE_TIME_WINDOW */
    uint32_t max_open;      /* default AUDIT_COLLATE_MAX_OPEN */
};

#define AUDIT_COLLATE_EVENT_WINDOW  32768
#define AUDIT_COLLATE_SETTLE_WINDOW 64
#define AUDIT_COLLATE_TIME_WINDOW   600
#define AUDIT_COLLATE_MAX_OPEN      65536
/* An event past either bound is closed and a new one started (counted). */
#define AUDIT_EVENT_MAX_RECORDS 8192
#define AUDIT_EVENT_MAX_BYTES   (8u << 20)

struct audit_collate_stats {
    uint64_t records;
    uint64_t events;
    uint64_t closed_by[AUDIT_CLOSE_REASONS];
    uint64_t late_records; /* arrived for an event already closed: it was split */
    uint64_t stray_eoe;    /* EOE whose event was already closed (not emitted) */
    uint64_t max_open_seen;
};

/* Receives each closed event; the event is only borrowed for the call.
 * A negative return stops the collator and is passed back to the caller. */
typedef int (*audit_event_fn)(const struct audit_event *ev, void *arg);

struct audit_collate;

/* NULL config: defaults. Returns NULL on allocation failure. */
struct audit_collate *audit_collate_new(const struct audit_collate_config *config,
                                        audit_event_fn fn, void *arg);
void audit_collate_free(struct audit_collate *c);

/* Adds one record (line without newline, header already parsed). Copies the
 * line. Returns 0, -ENOMEM, or a callback's negative return. */
int audit_collate_add(struct audit_collate *c, const char *line, size_t len,
                      const struct audit_header *h);
/* Closes every open event that got no record since the previous call; a
 * live reader calls it every few seconds of wall clock so quiet streams flush. */
int audit_collate_expire(struct audit_collate *c);
/* Closes all open events in arrival order (end of input). */
int audit_collate_flush(struct audit_collate *c);

size_t audit_collate_open_count(const struct audit_collate *c);
const struct audit_collate_stats *audit_collate_stats(const struct audit_collate *c);

#endif
