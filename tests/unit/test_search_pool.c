/*
 * Unit tests for src/search/pool, the host-group threads of search and
 * report: a store's PATH expands into one group per host (name order, each
 * host's files oldest first) and a missing PATH reaches the caller; 1, 2, 3,
 * 4 and 8 threads read every host exactly once, each whole on one thread and
 * in order, so per-host results and the summed reader/collator counters are
 * what one thread gives; a failed source marks its thread failed and is
 * passed over, -ECANCELED stops only that thread (the others read every
 * other group); the thread count follows LOGWARD_SEARCH_THREADS, the groups
 * and standard input; bad counts are refused.
 */
#include "check.h"
#include "search/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS       6
#define PER_FILE    5 /* events in each file */
#define LOG_MAX     256
#define CANCEL_NONE ((size_t)-1)

static char root[64];

/* One thread's state: what its collator gave, in order. */
struct seen {
    const char *host;
    size_t n;
    struct {
        char host[16];
        uint32_t serial;
    } v[LOG_MAX];
    const char *cancel_at; /* a path whose read returns -ECANCELED */
};

static atomic_int thread_ends;

static int on_event(const struct audit_event *ev, void *arg)
{
    struct seen *s = arg;
    if (s->n == LOG_MAX)
        return -ENOSPC;
    snprintf(s->v[s->n].host, sizeof(s->v[s->n].host), "%s", s->host ? s->host : "");
    s->v[s->n++].serial = ev->serial;
    return 0;
}

static void on_bad_line(void *arg, const char *source, uint64_t line_no, uint64_t offset, int code)
{
    (void)arg, (void)offset;
    fprintf(stderr, "unexpected bad line %s:%llu: %d\n", source, (unsigned long long)line_no, code);
    check_failures++;
}

static int read_source(void *arg, const struct search_source *src, struct audit_reader *reader)
{
    struct seen *s = arg;
    s->host = src->host;
    if (s->cancel_at && !strcmp(src->path, s->cancel_at))
        return -ECANCELED;
    return search_source_read(src, reader);
}

static void thread_end(void)
{
    atomic_fetch_add(&thread_ends, 1);
}

static const struct search_pool_ops ops = {on_event, on_bad_line, read_source, thread_end};

/* root/hNN/audit.log.1 and audit.log: serials host*100 + file*10 + i. */
static void make_store(void)
{
    snprintf(root, sizeof(root), "/tmp/test_search_pool.XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, SEARCH_STORE_MARK);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    for (int h = 0; h < HOSTS; h++) {
        snprintf(path, sizeof(path), "%s/h%02d", root, h);
        CHECK_INT(mkdir(path, 0700), 0);
        for (int file = 0; file < 2; file++) {
            snprintf(path, sizeof(path), "%s/h%02d/audit.log%s", root, h, file ? "" : ".1");
            f = fopen(path, "w");
            CHECK(f != NULL);
            for (int i = 0; i < PER_FILE; i++) { /* two records each, no EOE */
                int sec = h * 10 + file * 5 + i, serial = h * 100 + file * 10 + i;
                fprintf(f,
                        "type=SYSCALL msg=audit(1700000%03d.000:%d): arch=c000003e syscall=87 "
                        "success=yes exit=0 ppid=1 pid=2 auid=0 uid=0 ses=1 comm=\"rm\" "
                        "exe=\"/usr/bin/rm\" key=\"delete\"\n"
                        "type=CWD msg=audit(1700000%03d.000:%d): cwd=\"/root\"\n",
                        sec, serial, sec, serial);
            }
            fclose(f);
        }
    }
}

static void remove_store(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    CHECK_INT(system(cmd), 0);
}

static int bad_paths;
static void on_bad_path(void *arg, const char *path, int code)
{
    (void)arg;
    CHECK(strstr(path, "missing") != NULL);
    CHECK_INT(code, -ENOENT);
    bad_paths++;
}

static void test_open(void)
{
    static struct search_options o;
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing", root);
    o.paths[0] = root, o.paths[1] = missing, o.npaths = 2;
    struct search_pool p;
    CHECK_INT(search_pool_open(&p, &o, false, on_bad_path, NULL), 1);
    CHECK_INT(bad_paths, 1);
    CHECK_INT(p.src.n, HOSTS * 2);
    CHECK_INT(p.ngroups, HOSTS);
    for (size_t g = 0; g < p.ngroups; g++) {
        char want[16];
        snprintf(want, sizeof(want), "h%02u", (unsigned)(g % 100));
        CHECK_INT(p.group_start[g], g * 2);
        CHECK_STR(p.src.v[g * 2].host, want);
        CHECK(strstr(p.src.v[g * 2].path, "audit.log.1") != NULL); /* oldest first */
    }
    CHECK_INT(p.group_start[p.ngroups], p.src.n);
    search_pool_free(&p);

    o.npaths = 0; /* none: standard input, or on a terminal $LOGWARD_STORE */
    setenv("LOGWARD_STORE", root, 1);
    CHECK_INT(search_pool_open(&p, &o, false, on_bad_path, NULL), 0);
    if (isatty(STDIN_FILENO)) {
        CHECK_INT(p.ngroups, HOSTS);
    } else {
        CHECK_INT(p.src.n, 1);
        CHECK_STR(p.src.v[0].path, "-");
        CHECK_INT(search_pool_threads(&p), 1); /* one stream */
    }
    search_pool_free(&p);
    unsetenv("LOGWARD_STORE");
}

/* Reads the store on n threads; checks that each host came whole, in order,
 * from one thread, and the counters. */
static void run_store(unsigned n)
{
    static struct search_options o;
    static struct seen seen[SEARCH_POOL_THREADS];
    void *w[SEARCH_POOL_THREADS];
    o.paths[0] = root, o.npaths = 1;
    struct search_pool p;
    CHECK_INT(search_pool_open(&p, &o, false, on_bad_path, NULL), 0);
    memset(seen, 0, sizeof(seen));
    for (unsigned k = 0; k < n; k++)
        w[k] = &seen[k];
    atomic_store(&thread_ends, 0);
    CHECK_INT(search_pool_run(&p, &ops, w, n), 0);
    CHECK_INT(atomic_load(&thread_ends), n);
    CHECK_INT(p.reader_stats.records, HOSTS * 2 * PER_FILE * 2);
    CHECK_INT(p.collate_stats.events, HOSTS * 2 * PER_FILE);
    int hosts_seen = 0;
    for (int h = 0; h < HOSTS; h++) {
        char name[16];
        snprintf(name, sizeof(name), "h%02d", h);
        int threads_with_it = 0;
        for (unsigned k = 0; k < n; k++) {
            size_t i = 0;
            while (i < seen[k].n && strcmp(seen[k].v[i].host, name))
                i++;
            if (i == seen[k].n)
                continue;
            threads_with_it++;
            for (int e = 0; e < 2 * PER_FILE; e++, i++) { /* whole, in order */
                CHECK(i < seen[k].n);
                if (i < seen[k].n) {
                    CHECK_STR(seen[k].v[i].host, name);
                    CHECK_INT(seen[k].v[i].serial, h * 100 + (e / PER_FILE) * 10 + e % PER_FILE);
                }
            }
        }
        CHECK_INT(threads_with_it, 1);
        hosts_seen += threads_with_it;
    }
    CHECK_INT(hosts_seen, HOSTS);
    size_t total = 0;
    for (unsigned k = 0; k < n; k++)
        total += seen[k].n;
    CHECK_INT(total, HOSTS * 2 * PER_FILE);
    search_pool_free(&p);
}

static void add_source(struct search_pool *p, const char *path, const char *host, unsigned group)
{
    struct search_sources *s = &p->src;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (struct search_source){strdup(path), strdup(host), group};
}

/* Events of host h over n threads' logs. */
static size_t host_events(const struct seen *seen, unsigned n, int h)
{
    char name[16];
    snprintf(name, sizeof(name), "h%02d", h);
    size_t c = 0;
    for (unsigned k = 0; k < n; k++)
        for (size_t i = 0; i < seen[k].n; i++)
            c += !strcmp(seen[k].v[i].host, name);
    return c;
}

/* A missing file is passed over; -ECANCELED stops its thread alone. */
static void test_errors(void)
{
    struct search_pool p;
    memset(&p, 0, sizeof(p));
    search_sources_init(&p.src);
    char path[256], missing[256];
    snprintf(missing, sizeof(missing), "%s/h00/missing.log", root);
    for (int h = 0; h < HOSTS; h++) {
        char host[16];
        snprintf(host, sizeof(host), "h%02d", h);
        if (h == 1)
            add_source(&p, missing, host, (unsigned)h);
        snprintf(path, sizeof(path), "%s/h%02d/audit.log.1", root, h);
        add_source(&p, path, host, (unsigned)h);
        snprintf(path, sizeof(path), "%s/h%02d/audit.log", root, h);
        add_source(&p, path, host, (unsigned)h);
    }
    search_pool_split(&p);
    CHECK_INT(p.ngroups, HOSTS);

    static struct seen seen[2];
    void *w[2] = {&seen[0], &seen[1]};
    memset(seen, 0, sizeof(seen));
    CHECK_INT(search_pool_run(&p, &ops, w, 1), 1); /* one thread failed, went on */
    CHECK_INT(seen[0].n, HOSTS * 2 * PER_FILE);

    char cancel[256]; /* h03's newer file: the rest of h03 is not read by that thread */
    snprintf(cancel, sizeof(cancel), "%s/h03/audit.log", root);
    for (unsigned n = 1; n <= 2; n++) {
        memset(seen, 0, sizeof(seen));
        seen[0].cancel_at = seen[1].cancel_at = cancel;
        int failed = search_pool_run(&p, &ops, w, n);
        CHECK(failed >= 1 && failed <= (int)n); /* h01's missing file, h03's cancel */
        for (int h = 0; h < HOSTS; h++) {
            size_t got = host_events(seen, n, h);
            if (h == 3)
                CHECK(got <= PER_FILE);
            else if (n == 1 && h > 3) /* the only thread stopped at h03 */
                CHECK_INT(got, 0);
            else /* the other thread read every group left */
                CHECK_INT(got, 2 * PER_FILE);
        }
        CHECK_INT(p.collate_stats.events, seen[0].n + seen[1].n);
    }
    CHECK_INT(search_pool_run(&p, &ops, w, 0), -EINVAL);
    CHECK_INT(search_pool_run(&p, &ops, w, SEARCH_POOL_THREADS + 1), -EINVAL);
    search_pool_free(&p);
}

static void test_threads(void)
{
    static struct search_options o;
    o.paths[0] = root, o.npaths = 1;
    struct search_pool p;
    CHECK_INT(search_pool_open(&p, &o, false, on_bad_path, NULL), 0);
    setenv(SEARCH_POOL_THREADS_ENV, "3", 1);
    CHECK_INT(search_pool_threads(&p), 3);
    setenv(SEARCH_POOL_THREADS_ENV, "20", 1);
    CHECK_INT(search_pool_threads(&p), HOSTS); /* one per group */
    setenv(SEARCH_POOL_THREADS_ENV, "1", 1);
    CHECK_INT(search_pool_threads(&p), 1);
    setenv(SEARCH_POOL_THREADS_ENV, "0", 1);
    CHECK_INT(search_pool_threads(&p), 1);
    unsetenv(SEARCH_POOL_THREADS_ENV);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long want = cores > HOSTS ? HOSTS : cores;
    CHECK_INT(search_pool_threads(&p), want < 2 ? 1 : want);
    search_pool_free(&p);
}

int main(void)
{
    make_store();
    test_open();
    for (unsigned n = 1; n <= SEARCH_POOL_THREADS; n++)
        run_store(n);
    test_errors();
    test_threads();
    remove_store();
    return check_status();
}
