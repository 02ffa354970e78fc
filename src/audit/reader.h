/*
 * reader: bytes of an audit log -> lines -> parsed headers -> collator.
 * Handles partial lines across reads, over-long lines (skipped, reported),
 * blank lines (skipped), and lines that are not audit records (reported with
 * their byte offset, counted, and the stream goes on). It does not choose or
 * order input files; the caller does (see cli/cmd_events.c).
 */
#ifndef LW_AUDIT_READER_H
#define LW_AUDIT_READER_H

#include "audit/collate.h"

#include <stdbool.h>
#include <stdint.h>

#define AUDIT_READER_CHUNK (1u << 20) /* bytes asked of read() at a time */

struct audit_reader_stats {
    uint64_t bytes;
    uint64_t lines;
    uint64_t records;
    uint64_t blank;
    uint64_t not_audit; /* no audit record in the line (comments, other logs) */
    uint64_t malformed; /* looked like audit but could not be parsed */
};

/* Told about each line that is not a record: source, 1-based line number,
 * byte offset of the line's start plus the offset within it, and the code. */
typedef void (*audit_reader_error_fn)(void *arg, const char *source, uint64_t line_no,
                                      uint64_t offset, int code);

struct audit_reader;

struct audit_reader *audit_reader_new(struct audit_collate *c, audit_reader_error_fn on_error,
                                      void *arg);
void audit_reader_free(struct audit_reader *r);

/* Starts a new source (resets line numbers and offsets; a partial last line
 * of the previous source is finished first). `source` is borrowed. */
int audit_reader_begin(struct audit_reader *r, const char *source);
/* Feeds bytes; complete lines are processed, a partial tail is kept. */
int audit_reader_feed(struct audit_reader *r, const char *data, size_t len);
/* Reads fd until EOF (or until read() says EAGAIN). Returns 0, or -errno
 * from read(), or a collator error. */
int audit_reader_read_fd(struct audit_reader *r, int fd);
/* Processes a final line that has no newline. */
int audit_reader_finish(struct audit_reader *r);

const struct audit_reader_stats *audit_reader_stats(const struct audit_reader *r);

#endif
