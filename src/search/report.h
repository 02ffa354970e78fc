/*
 * report: aureport's reports over collated audit events: the summary
 * (aureport --summary: counts of config changes, logins, authentications,
 * failed syscalls, AVCs... and of distinct users, terminals, hosts,
 * executables, commands, files, keys and pids) and the tables of one item by
 * hits (aureport -l/-k/-x/-f/-u --summary), over all events or only failed
 * (--failed) or successful ones, in total and per host. Counting follows
 * aureport-scan.c's do_summary_total on the items search/query gathers as
 * ausearch-parse.c does; docs/search.md lists what differs.
 *
 * It neither reads input nor selects events (cmd_report.c does, with the
 * search matcher); it formats text as aureport prints it, or JSON.
 */
#ifndef LW_SEARCH_REPORT_H
#define LW_SEARCH_REPORT_H

#include "audit/event.h"
#include "base/buf.h"
#include "search/query.h"
#include "search/tally.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define REPORT_HOST_MAX 256 /* bytes of a host name kept */

enum report_kind {
    REPORT_SUMMARY,
    REPORT_LOGIN, /* USER_LOGIN events by auid */
    REPORT_KEY,   /* rule keys */
    REPORT_EXE,   /* executables */
    REPORT_FILE,  /* file names */
    REPORT_USER,  /* auid of every event */
    REPORT_KINDS
};

enum report_only { REPORT_ALL, REPORT_FAILED, REPORT_SUCCESS };

/* The summary's counters (aureport's summary_data) and sets. */
enum report_count {
    REPORT_N_CHANGES,
    REPORT_N_ACCT_CHANGES,
    REPORT_N_LOGINS,
    REPORT_N_FAILED_LOGINS,
    REPORT_N_AUTHS,
    REPORT_N_FAILED_AUTHS,
    REPORT_N_AVCS,
    REPORT_N_MAC,
    REPORT_N_FAILED_SYSCALLS,
    REPORT_N_ANOMALIES,
    REPORT_N_RESPONSES,
    REPORT_N_CRYPTO,
    REPORT_N_INTEGRITY,
    REPORT_N_VIRT,
    REPORT_N_EVENTS,
    REPORT_N_COUNTS
};
enum report_set {
    REPORT_S_USERS,
    REPORT_S_TERMINALS,
    REPORT_S_HOSTS,
    REPORT_S_EXES,
    REPORT_S_COMMS,
    REPORT_S_FILES,
    REPORT_S_KEYS,
    REPORT_S_PIDS,
    REPORT_S_SETS
};

struct report_stamp {
    int64_t sec;
    uint32_t msec;
};

struct report_part {
    char host[REPORT_HOST_MAX]; /* "" for events without a host */
    bool seen_any;
    struct report_stamp first, last; /* of every event read, selected or not */
    uint64_t counts[REPORT_N_COUNTS];
    struct tally sets[REPORT_S_SETS];
    struct tally table;        /* the kind's table (not for the summary) */
    struct tally login_failed; /* REPORT_LOGIN: failed logins by auid */
};

struct report {
    enum report_kind kind;
    enum report_only only;
    bool names; /* auids as names (aureport -i): ENRICHED, else this machine's accounts */
    struct report_part total;
    struct report_part *hosts;
    size_t nhosts, caphosts;
};

/* Text names for --format json and messages. */
const char *report_kind_name(enum report_kind k);
const char *report_count_name(enum report_count c);
const char *report_set_name(enum report_set s);

void report_init(struct report *r, enum report_kind kind, enum report_only only);
void report_free(struct report *r);

/* Every event read (for the range of time in the logs), selected or not. */
int report_saw(struct report *r, const char *host, const struct audit_event *ev);
/* A selected event and its items. 1 if it was counted (the success filter
 * held), 0 if not, -ENOMEM. */
int report_add(struct report *r, const char *host, const struct audit_event *ev,
               const struct search_items *it);

/* Adds part `from` (of another report of the same kind) to r's total
 * (counts summed, time range widened, sets and tables merged in their
 * first-seen order) and as a host of r: a new host's part is moved into r
 * (`from` is left empty), a known one's merged. Merging the hosts of
 * per-thread reports in the order one thread would have read them gives
 * that thread's report. 0 or -ENOMEM. */
int report_merge_host(struct report *r, struct report_part *from);

/* The selection's time window, for "Selected time for report". */
struct report_window {
    bool has_start, has_end;
    time_t start, end;
};

/* aureport's text for one part (the total or a host). */
int report_format_text(const struct report *r, const struct report_part *p,
                       const struct report_window *w, struct buf *out);
/* One JSON object: the total and, when per_host, each host. */
int report_format_json(const struct report *r, const struct report_window *w, bool per_host,
                       struct buf *out);

#endif
