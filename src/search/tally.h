/*
 * tally: distinct strings with a hit count each (aureport's "slist with
 * hits"): the sets a report counts (users, terminals, files, keys...) and the
 * tables it prints sorted by hits. Open addressing over an FNV-1a hash; the
 * strings are copied. Bounded only by memory (-ENOMEM); a report over a store
 * holds one tally per host and kind.
 */
#ifndef LW_SEARCH_TALLY_H
#define LW_SEARCH_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally_entry {
    char *s; /* NUL-terminated copy */
    size_t n;
    uint64_t hits;
    uint64_t order; /* first-seen rank, ties in tally_sorted */
};

struct tally {
    struct tally_entry *slots; /* cap slots; s == NULL is empty */
    size_t cap, count;
};

void tally_init(struct tally *t);
void tally_free(struct tally *t);
/* Counts one hit of s[0..n). 0, or -ENOMEM. */
int tally_add(struct tally *t, const char *s, size_t n);
/* Adds every entry of from (hits summed). 0, or -ENOMEM. */
int tally_merge(struct tally *t, const struct tally *from);
/* The same, taking from's entries in the order they were first seen there:
 * merging the tallies of parts of a stream in stream order gives the tally
 * of the whole stream, first-seen ranks included. 0, or -ENOMEM. */
int tally_merge_seen(struct tally *t, const struct tally *from);
/* The entries by hits, most first (first seen first among equals); *out is
 * malloc'ed (the caller frees it, not the entries). 0, or -ENOMEM. */
int tally_sorted(const struct tally *t, const struct tally_entry ***out);

#endif
