/*
 * index: the per-file sparse index of an audit log (docs/formats.md "Search
 * index"). A file is cut into blocks of about SEARCH_INDEX_BLOCK bytes at
 * line ends; each block keeps its byte range and a hash of its bytes, the
 * time range of the events with a record in it, which blocks those events
 * reach back and forward to, a bitmap of record types, the distinct keys and
 * executables (bounded lists), and a bloom filter of the exact values the
 * search options test (uids, pids, syscalls, sessions, serials, nodes, file
 * names, cwds, terminals, hosts, keys, exes). Values are the items
 * search/query gathers per event, so a block the index rules out holds no
 * event the matcher could accept. The index lives beside its file as
 * ".lwidx.<inode>" (renames by rotation need no follow-up) and is bound to
 * it by inode, size, mtime and ctime; when those differ (the file grew, was edited
 * or replaced) every covered block is hashed again and a mismatch makes the
 * index stale: the file is scanned. The index itself ends in a hash of its
 * bytes (a doctored or cut index is refused). A .zst file is indexed over
 * its decompressed bytes.
 *
 * Reading with an index (search_index_feed) feeds only the blocks that may
 * match, plus anything after the covered bytes, into an ordinary audit
 * reader. An event that may match is filed under every block it has records
 * in, so all of them are read and it comes whole; the events that cross
 * from a block read into one skipped ("carry", kept by key per block end)
 * arrive in part and cannot match: the caller drops them (search_drop).
 * Where more events cross a block end than are kept, both sides are read.
 */
#ifndef LW_SEARCH_INDEX_H
#define LW_SEARCH_INDEX_H

#include "audit/reader.h"
#include "search/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEARCH_INDEX_VERSION    1
#define SEARCH_INDEX_BLOCK      (1u << 20) /* target bytes per block */
#define SEARCH_INDEX_TYPE_BYTES 256        /* bitmap: types 1000..3046, bit 2047 = any other */
#define SEARCH_INDEX_BLOOM      4096       /* bytes of a block's bloom filter */
#define SEARCH_INDEX_LIST       512        /* bytes of a block's distinct keys (and exes) */
#define SEARCH_INDEX_CARRY      32         /* events crossing a block's end, kept by key */
#define SEARCH_INDEX_MAX_BLOCKS (1u << 22) /* 4 TiB of log at the target size */
#define SEARCH_INDEX_PREFIX     ".lwidx."  /* + the file's inode number */

enum {
    SEARCH_INDEX_OPEN_AT_END = 1u << 0, /* an event here was still open where the index ends */
    SEARCH_INDEX_KEYS_FULL = 1u << 1,   /* more keys than the list holds: any may be here */
    SEARCH_INDEX_EXES_FULL = 1u << 2,   /* the same for executables */
    SEARCH_INDEX_SUCCESS_YES = 1u << 3, /* an event here succeeded */
    SEARCH_INDEX_SUCCESS_NO = 1u << 4,  /* an event here failed */
    SEARCH_INDEX_CARRY_FULL = 1u << 5,  /* more events cross this block's end than kept */
};

/* An event's identity: what the collator keys it by (node as a hash). */
struct search_index_key {
    int64_t sec;
    uint64_t node;
    uint32_t msec, serial;
};

struct search_index_block {
    uint64_t off, len, hash; /* bytes [off, off+len) of the (decompressed) file */
    int64_t tmin, tmax;      /* seconds of the events here; tmin > tmax: none */
    uint32_t back, fwd;      /* first and last block any event here has records in */
    uint32_t flags, nevents;
    uint8_t types[SEARCH_INDEX_TYPE_BYTES];
    uint8_t bloom[SEARCH_INDEX_BLOOM];
    uint16_t keys_len, exes_len; /* bytes used: NUL-terminated strings back to back */
    char keys[SEARCH_INDEX_LIST], exes[SEARCH_INDEX_LIST];
    uint32_t ncarry; /* events with records here and in the next block */
    struct search_index_key carry[SEARCH_INDEX_CARRY];
};

struct search_index {
    bool zst;         /* built over the decompressed bytes of a .zst */
    uint64_t covered; /* bytes indexed (through the last complete line) */
    uint64_t ino;     /* the file it was built from */
    uint64_t disk_size;
    int64_t mtime_ns, ctime_ns; /* ctime: no user can set it back after a write */
    uint32_t nblocks;
    uint32_t block_size; /* the target it was cut at (informational) */
    struct search_index_block *blocks;
};

struct search_index_stats {
    uint64_t files_indexed; /* read with their index */
    uint64_t files_plain;   /* no index: scanned */
    uint64_t files_stale;   /* an index that does not fit its file: scanned */
    uint64_t files_grown;   /* indexed, and the bytes after the index scanned */
    uint64_t blocks, blocks_skipped, blocks_scanned;
    uint64_t bytes_skipped;
};

/* The keys of events that come in part (see above): the caller's event
 * callback asks search_drop_has before testing an event. */
struct search_drop {
    struct search_index_key *v;
    size_t n, cap;
};
void search_drop_free(struct search_drop *d);
bool search_drop_has(const struct search_drop *d, const struct audit_event *ev);

void search_index_free(struct search_index *ix);

/* The index path of the file at path (its inode): dir/.lwidx.<ino>. 0 or -errno. */
int search_index_path(const char *path, char *out, size_t cap);

/* Builds the index of a file (plain, or .zst by its name). 0 or -errno. */
int search_index_build(const char *path, struct search_index *ix);
/* Serializes ix (the caller frees *out). 0 or -ENOMEM. */
int search_index_encode(const struct search_index *ix, uint8_t **out, size_t *len);
/* Parses an index file's bytes: 0, -EBADMSG (not an index, bad hash, out of
 * bounds), -EPROTONOSUPPORT (another version), -ENOMEM. */
int search_index_parse(const uint8_t *p, size_t n, struct search_index *ix);
/* The hash the format uses (blocks, and the trailer over the index bytes). */
uint64_t search_index_hash(const void *p, size_t n);
/* Reads and parses the index of the file at path. -ENOENT when there is none. */
int search_index_load(const char *path, struct search_index *ix);
/* Builds and writes (atomically, beside it) the index of the file at path. */
int search_index_write_for(const char *path);

/* How an index fits its file. */
enum search_index_fit {
    SEARCH_INDEX_FIT,   /* same inode, size, mtime and ctime: the index holds as is */
    SEARCH_INDEX_GROWN, /* every covered block hashes as indexed; bytes were added */
    SEARCH_INDEX_STALE, /* anything else */
};
/*
 * The public check (logward verify may use it): hashes every covered block
 * of the file at path against ix, whatever the stat data say. Returns the
 * fit (GROWN also when only the stat data changed), or -errno. With
 * first_bad, the first mismatching block (or nblocks when the file is
 * shorter than the index) is stored there.
 */
int search_index_check(const char *path, const struct search_index *ix, uint32_t *first_bad);

/* Whether an event of block b might match q. */
bool search_index_block_may_match(const struct search_index_block *b, const struct search_query *q);

/*
 * Reads the file at path into reader (begin, feed, finish) using its index
 * when one fits: only the blocks that may match q, closed over their events'
 * reach, then the bytes after the covered part. Without a usable index the
 * whole file is read. 0 or -errno.
 */
int search_index_feed(const char *path, const struct search_query *q, struct audit_reader *reader,
                      struct search_index_stats *st, struct search_drop *drop);

/* Store hooks (src/store): index a rotated audit.log.N of dir_fd; carry the
 * index of a plain file (by its old inode) over to its .zst. Errors are
 * returned, never fatal to the store: a missing index only means a scan. */
int search_index_store_rotated(int dir_fd, const char *name);
int search_index_store_compressed(int dir_fd, uint64_t plain_ino, const char *zst_name);

#endif
