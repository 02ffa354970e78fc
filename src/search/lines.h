/*
 * lines: `logward search --program/--grep` over stored syslog lines
 * (docs/formats.md "Stored syslog lines": TIMESTAMP CLAIMED-HOST
 * PROGRAM[PID]: MESSAGE<TAB>metadata). A line is kept when its program is one
 * of those given (the file's PROGRAM.log in a store, else the line's
 * PROGRAM field), the PCRE2 pattern matches it (the whole line as stored),
 * its time is within -ts/-te, and, in a store, its host directory is one -n
 * names. Kept lines are printed as stored (or as JSON), ordered by time across
 * all files and hosts (search/order: bounded memory, sorted runs spilled to
 * a temporary file).
 *
 * It reads no audit records and keeps no index.
 */
#ifndef LW_SEARCH_LINES_H
#define LW_SEARCH_LINES_H

#include "base/buf.h"
#include "search/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEARCH_LINES_MAX (1u << 20) /* bytes of one line (longer: cut) */

struct search_lines;

/* Compiles the pattern (NULL: none). NULL with a message in err naming the
 * offset in the pattern on a bad one (or out of memory). */
struct search_lines *search_lines_new(const struct search_options *o, char *err, size_t errlen);
void search_lines_free(struct search_lines *l);

/* The program of a stored line ("sshd" of "... sshd[812]: ..."), or false. */
bool search_lines_program(const char *line, size_t n, const char **p, size_t *len);
/* The RFC 3339 time stamp at the start of a stored line, in seconds. */
bool search_lines_time(const char *line, size_t n, int64_t *sec, uint32_t *usec);

/* Reads one file (plain or .zst) of a host (NULL outside a store); its
 * program is taken from its name when in a store. 0 or -errno. */
int search_lines_read(struct search_lines *l, const char *path, const char *host);
/* Writes every kept line, in time order across all files read, to fd (once,
 * at the end; search/order holds them in bounded memory until then). */
int search_lines_flush(struct search_lines *l, int fd);

struct search_lines_stats {
    uint64_t lines, matched, bad_time;
};
const struct search_lines_stats *search_lines_stats(const struct search_lines *l);

#endif
