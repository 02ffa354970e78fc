/*
 * pool: the inputs of `logward search` and `logward report` as groups of
 * sources (a store host each, or the PATHs outside stores), and the threads
 * that read a store's groups: each thread has a reader and a collator (made
 * here, events to the caller's callback), takes the next group (one atomic
 * counter), reads its sources in order through the caller's read callback
 * and flushes its collator, until no group is left. A thread stops at its
 * own fatal error (out of memory, a run the caller cancelled, a group that
 * cannot be flushed) and the others go on, as the one-thread loop goes on
 * past a failed source. The threads' reader and collator counters are
 * summed for --stats.
 *
 * What is read (index or scan), how it is matched, counted or ordered, the
 * messages, and the merge of the threads' results in group order are the
 * commands' (cmd_search.c, cmd_report.c). It sits between search/input (the
 * sources) and the commands' matchers.
 */
#include "search/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int search_pool_open(struct search_pool *p, const struct search_options *o, bool syslog,
                     search_pool_bad_path *bad_path, void *arg)
{
    memset(p, 0, sizeof(*p));
    search_sources_init(&p->src);
    const char *fallback = getenv("LOGWARD_STORE");
    const char *none[] = {isatty(STDIN_FILENO) ? (fallback ? fallback : SEARCH_DEFAULT_STORE)
                                               : "-"};
    const char *const *paths = o->npaths ? o->paths : none;
    unsigned npaths = o->npaths ? o->npaths : 1;
    int bad = 0;
    for (unsigned i = 0; i < npaths; i++) {
        int r = syslog
                    ? search_sources_add_syslog(&p->src, paths[i], &o->q, o->programs, o->nprograms)
                    : search_sources_add(&p->src, paths[i], &o->q);
        if (r < 0) {
            bad_path(arg, paths[i], r);
            bad++;
        }
    }
    search_pool_split(p);
    return bad;
}

void search_pool_split(struct search_pool *p)
{
    free(p->group_start);
    p->ngroups = 0;
    p->group_start = malloc((p->src.n + 1) * sizeof(*p->group_start));
    if (!p->group_start)
        return; /* read on one thread, which needs no groups */
    for (size_t i = 0; i < p->src.n; i++)
        if (i == 0 || p->src.v[i].group != p->src.v[i - 1].group)
            p->group_start[p->ngroups++] = i;
    p->group_start[p->ngroups] = p->src.n;
}

void search_pool_free(struct search_pool *p)
{
    search_sources_free(&p->src);
    free(p->group_start);
    p->group_start = NULL;
    p->ngroups = 0;
}

unsigned search_pool_threads(const struct search_pool *p)
{
    if (!p->group_start || (p->src.n && !strcmp(p->src.v[0].path, "-")))
        return 1; /* standard input is one stream */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv(SEARCH_POOL_THREADS_ENV);
    long n = env ? strtol(env, NULL, 10) : cores;
    if (n > SEARCH_POOL_THREADS)
        n = SEARCH_POOL_THREADS;
    if (n > (long)p->ngroups)
        n = (long)p->ngroups;
    return n < 2 ? 1 : (unsigned)n;
}

struct pool_thread {
    struct search_pool *p;
    const struct search_pool_ops *ops;
    void *w; /* the caller's state of this thread */
    struct audit_collate *c;
    struct audit_reader *reader;
    bool failed;
};

static void read_groups(struct pool_thread *t)
{
    struct search_pool *p = t->p;
    for (size_t g; (g = atomic_fetch_add(&p->next, 1)) < p->ngroups;) {
        for (size_t i = p->group_start[g]; i < p->group_start[g + 1]; i++) {
            int r = t->ops->read(t->w, &p->src.v[i], t->reader);
            if (r < 0)
                t->failed = true;
            if (r == -ENOMEM || r == -ECANCELED)
                return;
        }
        if (audit_collate_flush(t->c) < 0) { /* the host's last events, under its name */
            t->failed = true;
            return;
        }
    }
}

static void *thread_main(void *arg)
{
    struct pool_thread *t = arg;
    read_groups(t);
    if (t->ops->thread_end)
        t->ops->thread_end();
    return NULL;
}

static void add_stats(struct search_pool *p, const struct pool_thread *t)
{
    const struct audit_reader_stats *r = audit_reader_stats(t->reader);
    const struct audit_collate_stats *c = audit_collate_stats(t->c);
    struct audit_reader_stats *rs = &p->reader_stats;
    struct audit_collate_stats *cs = &p->collate_stats;
    rs->bytes += r->bytes, rs->lines += r->lines, rs->records += r->records;
    rs->blank += r->blank, rs->not_audit += r->not_audit, rs->malformed += r->malformed;
    cs->records += c->records, cs->events += c->events, cs->late_records += c->late_records;
    cs->stray_eoe += c->stray_eoe;
    for (size_t k = 0; k < AUDIT_CLOSE_REASONS; k++)
        cs->closed_by[k] += c->closed_by[k];
    cs->max_open_seen = c->max_open_seen > cs->max_open_seen ? c->max_open_seen : cs->max_open_seen;
}

/* Starts the threads of t[0..n); returns how many started, *err the failure. */
static unsigned start(struct pool_thread *t, pthread_t *tid, unsigned n, int *err)
{
    for (unsigned k = 0; k < n; k++) {
        int e = pthread_create(&tid[k], NULL, thread_main, &t[k]);
        if (e != 0) {
            *err = -e;
            return k;
        }
    }
    return n;
}

int search_pool_run(struct search_pool *p, const struct search_pool_ops *ops, void *const *w,
                    unsigned n)
{
    if (n == 0 || n > SEARCH_POOL_THREADS || !p->group_start)
        return -EINVAL;
    struct pool_thread t[SEARCH_POOL_THREADS];
    pthread_t tid[SEARCH_POOL_THREADS];
    int err = 0;
    memset(t, 0, sizeof(t));
    memset(&p->reader_stats, 0, sizeof(p->reader_stats));
    memset(&p->collate_stats, 0, sizeof(p->collate_stats));
    atomic_store(&p->next, 0);
    for (unsigned k = 0; k < n && !err; k++) {
        t[k] = (struct pool_thread){.p = p, .ops = ops, .w = w[k]};
        t[k].c = audit_collate_new(NULL, ops->on_event, w[k]);
        t[k].reader = t[k].c ? audit_reader_new(t[k].c, ops->on_bad_line, w[k]) : NULL;
        err = t[k].reader ? 0 : -ENOMEM;
    }
    unsigned started = err ? 0 : start(t, tid, n, &err);
    int failed = 0;
    for (unsigned k = 0; k < started; k++) {
        pthread_join(tid[k], NULL);
        failed += t[k].failed;
    }
    for (unsigned k = 0; k < n; k++) {
        if (t[k].reader)
            add_stats(p, &t[k]);
        audit_reader_free(t[k].reader);
        audit_collate_free(t[k].c);
    }
    return err < 0 ? err : failed;
}
