/*
 * input: what `logward search`, `report` and `index` read: PATH arguments
 * expanded into an ordered list of sources. A file is itself; a directory is
 * its rotated logs oldest first (x.N[.zst] ... x.1[.zst], x); a store (a
 * directory holding .logward-store) is every HOST/audit.log* host by host in
 * name order, only the hosts -n names if any; "-" is standard input. Sources
 * of one group are collated as one stream (the PATH arguments outside
 * stores); each store host is a group of its own. search_source_read feeds
 * one source, plain or zstd, into an audit reader.
 *
 * It neither collates nor matches (callers do) and never writes.
 */
#ifndef LW_SEARCH_INPUT_H
#define LW_SEARCH_INPUT_H

#include "audit/reader.h"
#include "search/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zstd.h>

#define SEARCH_STORE_MARK ".logward-store"
#define SEARCH_PATH_MAX   4096 /* bytes of a path built from a directory and a name */

struct search_source {
    char *path;     /* owned; "-" is standard input */
    char *host;     /* owned: the store host directory's name, or NULL */
    unsigned group; /* sources with one group number are one stream */
};

struct search_sources {
    struct search_source *v;
    size_t n, cap;
    unsigned next_group;
};

void search_sources_init(struct search_sources *s);
void search_sources_free(struct search_sources *s);
/* Expands one PATH (nodes from q select store hosts). 0, or -errno for the
 * PATH itself (missing, unreadable directory). */
int search_sources_add(struct search_sources *s, const char *path, const struct search_query *q);

/* The same for syslog files: a store's HOST/PROGRAM.log* other than
 * audit.log* (only the programs named, if any); a directory's files. */
int search_sources_add_syslog(struct search_sources *s, const char *path,
                              const struct search_query *q, const char *const *programs,
                              unsigned nprograms);

/* True if a name ends with .zst. */
bool search_source_is_zstd(const char *path);
/* Reads the whole source into the reader (begin, feed, finish). 0 or -errno
 * (-EBADMSG for a corrupt .zst). */
int search_source_read(const struct search_source *src, struct audit_reader *reader);
/* Feeds bytes [from, to) of a plain file (to = 0: its end) into the reader,
 * which the caller has begun. 0 or -errno. */
int search_source_read_range(int fd, uint64_t from, uint64_t to, struct audit_reader *reader);

/* The bytes of a file, plain or decompressed (.zst), pulled in chunks. */
#define SEARCH_STREAM_CHUNK (1u << 20)
struct search_stream {
    int fd; /* borrowed */
    bool zst;
    ZSTD_DStream *z;
    uint8_t *in;
    ZSTD_inBuffer ib;
    size_t last;
    bool eof;
};
int search_stream_open(struct search_stream *s, int fd, bool zst);
void search_stream_close(struct search_stream *s);
/* Up to cap bytes into buf; 0 at the end; -errno, -EBADMSG for bad zstd. */
ssize_t search_stream_read(struct search_stream *s, uint8_t *buf, size_t cap);

#endif
