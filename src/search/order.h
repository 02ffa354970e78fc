/*
 * order: search results ordered by event time across every file, host and
 * thread, in bounded memory. Each producer (a thread reading sources) keeps
 * one search_order: formatted events wait in memory up to a bound
 * (SEARCH_ORDER_EVENTS events or SEARCH_ORDER_BYTES bytes), are then sorted
 * and spilled as a sorted run to an unlinked temporary file, and at the end
 * search_order_write merges every producer's runs and waiting events (a
 * k-way merge) into one stream. Past SEARCH_ORDER_FANIN runs a producer's
 * runs are merged into one, so open runs (and their read buffers) stay
 * bounded too. An event's bytes stay whole.
 */
#ifndef LW_SEARCH_ORDER_H
#define LW_SEARCH_ORDER_H

#include "base/buf.h"

#include <stddef.h>
#include <stdint.h>

#define SEARCH_ORDER_EVENTS 65536       /* events waiting in memory, per order at most */
#define SEARCH_ORDER_BYTES  (64u << 20) /* ... or bytes of their output (split among threads) */
#define SEARCH_ORDER_FANIN  64          /* runs of one order before they are merged into one */

/* The order of results: time (seconds, milliseconds), serial, then the
 * source group (a store host: ties between hosts in host-name order) and
 * arrival within it (seq, unique within a group). */
struct search_order_key {
    int64_t sec;
    uint32_t msec, serial, group;
    uint64_t seq;
};

struct search_order_stats {
    uint64_t events, runs, bytes_spilled, merges;
};

struct search_order;

/* SEARCH_ORDER_EVENTS, or LOGWARD_SEARCH_ORDER_EVENTS when set (a test hook:
 * spills and merges on small inputs). */
size_t search_order_events_bound(void);
/* An order holding at most max_events events or max_bytes bytes in memory
 * (0: the defaults above); spilled runs go to unlinked files in $TMPDIR (or
 * /tmp). NULL when out of memory. */
struct search_order *search_order_new(size_t max_events, size_t max_bytes);
void search_order_free(struct search_order *o);
/* The buffer an event is formatted into; after formatting, search_order_add
 * takes the bytes from `off` (the buffer's length before) to its end as one
 * event. Returns 0 or -errno (-ENOMEM, a temporary file's write error). */
struct buf *search_order_buf(struct search_order *o);
int search_order_add(struct search_order *o, const struct search_order_key *k, size_t off);
/* Writes the events of all n orders to fd, merged in key order. Each order
 * is read to its end once (write it once). Returns 0, or -errno: of the
 * write to fd (-EPIPE...) or of reading a run back. */
int search_order_write(struct search_order *const *v, size_t n, int fd);
const struct search_order_stats *search_order_stats(const struct search_order *o);
int search_order_key_compare(const struct search_order_key *a, const struct search_order_key *b);

#endif
