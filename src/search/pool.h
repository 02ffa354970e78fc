/*
 * pool: how `logward search` and `logward report` read their inputs. The
 * PATHs given (else standard input, else the default store) are expanded
 * into sources (search/input) and split into groups, one stream each: a
 * store host, or the PATHs outside stores. A store's groups are read on up
 * to SEARCH_POOL_THREADS threads, each with its own audit reader and
 * collator; a thread takes the next group not yet taken, reads its sources
 * in order through the caller's callback and flushes its collator (the
 * group's last events, under that host), until none is left. A thread stops
 * at its own fatal error; the others go on. Which thread reads which group
 * is not fixed: each caller keeps what a thread found apart (its state w)
 * and merges it in group order at the end (search by its order keys, report
 * host by host), so its output is one thread's.
 *
 * It neither matches, prints nor merges: the caller's callbacks (which get
 * each collated event) and the caller do. The one-thread path (progress
 * line, -l, standard input) stays with each command.
 */
#ifndef LW_SEARCH_POOL_H
#define LW_SEARCH_POOL_H

#include "audit/collate.h"
#include "audit/reader.h"
#include "search/input.h"
#include "search/query.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define SEARCH_POOL_THREADS     8                  /* threads reading a store's hosts, at most */
#define SEARCH_DEFAULT_STORE    "/var/log/logward" /* logwardd.conf's default store */
#define SEARCH_POOL_THREADS_ENV "LOGWARD_SEARCH_THREADS" /* caps the count; 1: one thread */

struct search_pool {
    struct search_sources src; /* the inputs, in the order one thread reads them */
    size_t *group_start;       /* source index where each group starts; [ngroups] = src.n;
                                  NULL if it could not be allocated (one thread then) */
    size_t ngroups;
    atomic_size_t next; /* the next group a thread takes */
    /* summed over the threads of the last run (max_open_seen: the most) */
    struct audit_reader_stats reader_stats;
    struct audit_collate_stats collate_stats;
};

/* What a run does on each thread; w is the caller's state of that thread
 * (one each), passed to every callback. */
struct search_pool_ops {
    audit_event_fn on_event;           /* the thread's collator's */
    audit_reader_error_fn on_bad_line; /* the thread's reader's */
    /* Reads one source into the thread's reader. 0, or -errno: the source
     * failed (the callback says so, once) and the thread goes on with the
     * next one; at -ENOMEM or -ECANCELED (nothing more it reads can be kept)
     * the thread stops. */
    int (*read)(void *w, const struct search_source *s, struct audit_reader *reader);
    /* Optional: called on the thread as it ends (its thread-local state). */
    void (*thread_end)(void);
};

/* The caller's word on a PATH that could not be read (the pool leaves it out). */
typedef void search_pool_bad_path(void *arg, const char *path, int code);

/* Expands o's PATHs (o->paths; none: "-" when standard input is not a
 * terminal, else $LOGWARD_STORE or SEARCH_DEFAULT_STORE) into the pool's
 * sources, audit logs or, with syslog, the stored syslog files of
 * o->programs, and splits them into groups. A PATH that fails goes to
 * bad_path. Returns how many PATHs failed (>= 0); search_pool_free it in
 * any case. */
int search_pool_open(struct search_pool *p, const struct search_options *o, bool syslog,
                     search_pool_bad_path *bad_path, void *arg);
/* Splits p->src into groups (search_pool_open does): for sources added by hand. */
void search_pool_split(struct search_pool *p);
void search_pool_free(struct search_pool *p);

/* How many threads: $LOGWARD_SEARCH_THREADS, else one per core; at most
 * SEARCH_POOL_THREADS and one per group; 1 for standard input. */
unsigned search_pool_threads(const struct search_pool *p);

/* Reads every group on n threads (w[k]: thread k's state, n <= the
 * bound), each with a reader and a collator of its own (made and freed
 * here); a group ends with its collator flushed (its last events, under its
 * host), which stops the thread if it fails. Returns how many threads failed
 * (>= 0), or -ENOMEM when a thread's reader could not be made (no thread
 * started), -errno when a thread could not be started (those started have
 * read every group and are joined), -EINVAL when n is out of bounds. */
int search_pool_run(struct search_pool *p, const struct search_pool_ops *ops, void *const *w,
                    unsigned n);

#endif
