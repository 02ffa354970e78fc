/*
 * query: ausearch's search options -> a query, and the test of one collated
 * audit event against it, with ausearch's meaning (ausearch(8) and its
 * ausearch-match.c / ausearch-parse.c): every option given must hold ("and"),
 * except -m and -n, which take several values ("or"); string options (-k, -f,
 * -x, -tm, -hn) match a substring unless -w; numbers are compared as written.
 * The values an option looks at come from the records ausearch takes them
 * from (SYSCALL, CWD, PATH, SOCKADDR, user-space, LOGIN, daemon, AVC, ...);
 * see docs/search.md for the table and the deliberate differences.
 *
 * It does not read files or print (cmd_search.c does), nor use an index
 * (the per-file index will call search_query_may_match_* to skip work).
 */
#ifndef LW_SEARCH_QUERY_H
#define LW_SEARCH_QUERY_H

#include "audit/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SEARCH_MAX_TYPES    256 /* -m values */
#define SEARCH_MAX_NODES    256 /* -n values */
#define SEARCH_MAX_PATHS    4096
#define SEARCH_MAX_PROGRAMS 64  /* --program values */
#define SEARCH_ERR_MAX      512 /* bytes of an option error message */

enum search_format {
    SEARCH_FORMAT_DEFAULT, /* ausearch's: "----", "time->DATE", records last first */
    SEARCH_FORMAT_RAW,     /* records as read, one per line */
    SEARCH_FORMAT_INTERPRET,
    SEARCH_FORMAT_CSV,
    SEARCH_FORMAT_TEXT,
    SEARCH_FORMAT_JSON, /* normalized events, as `logward events` prints them */
};

/* Numbers not given are SEARCH_UNSET. */
#define SEARCH_UNSET INT64_MIN

struct search_query {
    /* header-only tests (no field is parsed for them) */
    bool has_start, has_end;
    time_t start, end; /* inclusive, whole seconds, as ausearch */
    int64_t event_id;  /* -a: the serial */
    unsigned ntypes, nnodes;
    int types[SEARCH_MAX_TYPES];
    const char *nodes[SEARCH_MAX_NODES]; /* borrowed from argv */
    /* field tests */
    bool uid_all; /* -ua: uid, euid or auid */
    int64_t uid, euid, auid;
    const char *uid_name, *euid_name, *auid_name; /* given as names (ENRICHED names match too) */
    int64_t pid, ppid, session, syscall;
    int success; /* -1 not asked, 0 no, 1 yes */
    const char *key, *file, *exe, *terminal, *host;
    bool exact; /* -w: whole-string matches */
};

struct search_options {
    struct search_query q;
    enum search_format format;
    bool format_set;
    bool local_names, utc, quiet, stats, help, version, line_buffered;
    bool no_index; /* --no-index: scan every file whole */
    /* syslog lines (search/lines): --program (repeated) and --grep */
    unsigned nprograms;
    const char *programs[SEARCH_MAX_PROGRAMS];
    const char *grep;
    unsigned npaths;
    const char *paths[SEARCH_MAX_PATHS]; /* PATH arguments and -if, borrowed */
};

/* Parses `argv[1..argc)` (argv[0] is the subcommand's name) relative to the
 * clock `now`. Returns 0, or -EINVAL with a message in err (SEARCH_ERR_MAX
 * bytes) that names the bad option or word and what is accepted. */
int search_options_parse(struct search_options *o, int argc, char **argv, time_t now,
                         char err[SEARCH_ERR_MAX]);

/* True if the query needs the records' fields (not only their headers). */
bool search_query_needs_fields(const struct search_query *q);

struct search_matcher;

/* Borrows q for the matcher's lifetime. NULL on allocation failure. */
struct search_matcher *search_matcher_new(const struct search_query *q);
void search_matcher_free(struct search_matcher *m);

/* 1 if ev matches, 0 if not, -ENOMEM. */
int search_matcher_match(struct search_matcher *m, const struct audit_event *ev);

/* What ausearch's parser (ausearch-parse.c) takes from an event, the values
 * the options test and aureport counts: borrowed from the event or the
 * matcher's scratch buffer, valid until the next call on the matcher. Ids
 * are SEARCH_UNSET where no record gave them (auid -1 is 4294967295). */
#define SEARCH_MAX_FILES_PER_EVENT 1024 /* file names gathered (more are ignored) */
#define SEARCH_MAX_KEYS_PER_EVENT  64
struct search_span {
    const char *p;
    size_t n;
};
struct search_items {
    int64_t pid, ppid, uid, euid, auid, ses, syscall;
    int success;      /* -1 not said, 0 failed, 1 succeeded */
    bool uid_unnamed; /* taken where ausearch looks up no name (daemon records) */
    struct search_span uid_name, euid_name, auid_name; /* ENRICHED */
    struct search_span exe, comm, terminal, host, cwd;
    unsigned nfiles, nkeys;
    struct search_span files[SEARCH_MAX_FILES_PER_EVENT];
    struct search_span keys[SEARCH_MAX_KEYS_PER_EVENT];
};

/* Gathers ev's items (whatever the query asks). NULL on allocation failure. */
const struct search_items *search_matcher_items(struct search_matcher *m,
                                                const struct audit_event *ev);

/* Counters: events tested and matched. */
struct search_matcher_stats {
    uint64_t tested, matched;
};
const struct search_matcher_stats *search_matcher_stats(const struct search_matcher *m);

/* Hooks for the per-file index (issue 5, part 2): what a file's summary must
 * hold for the query to possibly match. A time range [lo, hi] of seconds. */
bool search_query_may_match_time(const struct search_query *q, int64_t lo, int64_t hi);

#endif
