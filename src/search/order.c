/*
 * order: search results sorted by time in bounded memory (see order.h): an
 * external merge sort. Events wait in memory (their formatted bytes in one
 * buffer, a key per event); past the bound they are sorted and written as a
 * run (a 32-byte header per event, then its bytes) to an unlinked temporary
 * file; SEARCH_ORDER_FANIN runs are merged into one run in a new file. At
 * the end every order's runs and waiting events are merged through a heap.
 * Runs are read back through a buffer per run (SEARCH_ORDER_READ), so an
 * event larger than it is read whole into a grown buffer.
 *
 * It does not know the formats or the events (cli/cmd_search.c formats and
 * keys them); most results fit in memory and are never spilled.
 */
#include "search/order.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define SEARCH_ORDER_READ  (64u << 10) /* read buffer of one run being merged */
#define SEARCH_ORDER_WRITE (1u << 20)  /* bytes copied (from runs) before a writev(2) */
#define SEARCH_ORDER_IOV   1024        /* pieces of one writev(2) (IOV_MAX is 1024) */

struct pending {
    struct search_order_key k;
    size_t off, len;
};

/* One event in a run file. */
struct run_rec {
    int64_t sec;
    uint32_t msec, serial, group, len;
    uint64_t seq;
};

struct run {
    off_t off, end; /* bytes of the run in the order's file */
    uint64_t count;
};

struct search_order {
    size_t max_events, max_bytes;
    struct buf out;
    struct pending *pend;
    size_t npend, cappend;
    bool sorted; /* pend is in key order as added */
    int fd;      /* the runs' file, -1 before the first spill */
    off_t fd_end;
    struct run runs[SEARCH_ORDER_FANIN];
    unsigned nruns;
    struct search_order_stats st;
};

int search_order_key_compare(const struct search_order_key *x, const struct search_order_key *y)
{
    if (x->sec != y->sec)
        return x->sec < y->sec ? -1 : 1;
    if (x->msec != y->msec)
        return x->msec < y->msec ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int compare_pending(const void *a, const void *b)
{
    return search_order_key_compare(&((const struct pending *)a)->k,
                                    &((const struct pending *)b)->k);
}

size_t search_order_events_bound(void)
{
    const char *env = getenv("LOGWARD_SEARCH_ORDER_EVENTS");
    long v = env ? strtol(env, NULL, 10) : 0;
    return v > 0 ? (size_t)v : SEARCH_ORDER_EVENTS;
}

struct search_order *search_order_new(size_t max_events, size_t max_bytes)
{
    struct search_order *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->max_events = max_events ? max_events : SEARCH_ORDER_EVENTS;
    o->max_bytes = max_bytes ? max_bytes : SEARCH_ORDER_BYTES;
    o->sorted = true;
    o->fd = -1;
    buf_init(&o->out, 0);
    return o;
}

void search_order_free(struct search_order *o)
{
    if (!o)
        return;
    if (o->fd >= 0)
        close(o->fd);
    buf_free(&o->out);
    free(o->pend);
    free(o);
}

struct buf *search_order_buf(struct search_order *o)
{
    return &o->out;
}

const struct search_order_stats *search_order_stats(const struct search_order *o)
{
    return &o->st;
}

/* An unlinked temporary file. */
static int temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/logward-search-XXXXXX", dir && *dir ? dir : "/tmp");
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unlink(path);
    return fd;
}

/* ------------------------------------------------------------ writing */

/* Output gathered as pieces for writev(2): bytes that stay put until the
 * flush (events in memory) are referred to, bytes that do not (a run's read
 * buffer, headers) are copied into `stage` first; adjacent pieces join, so a
 * batch already in order is one piece. */
struct writer {
    int fd;
    bool records; /* a run: each event with its header */
    struct iovec iov[SEARCH_ORDER_IOV];
    int niov;
    char *stage;
    size_t staged;
    off_t written;
    int err;
};

static void writer_flush(struct writer *w)
{
    struct iovec *v = w->iov;
    int n = w->niov;
    while (n > 0 && !w->err) {
        ssize_t r = writev(w->fd, v, n);
        if (r < 0) {
            if (errno != EINTR)
                w->err = -errno;
            continue;
        }
        w->written += r;
        while (n > 0 && (size_t)r >= v->iov_len)
            r -= (ssize_t)v->iov_len, v++, n--;
        if (n > 0)
            v->iov_base = (char *)v->iov_base + r, v->iov_len -= (size_t)r;
    }
    w->niov = 0;
    w->staged = 0;
}

/* Adds n bytes at p, which stay valid until the next flush. */
static void writer_ref(struct writer *w, const void *p, size_t n)
{
    struct iovec *last = w->niov ? &w->iov[w->niov - 1] : NULL;
    if (last && (const char *)last->iov_base + last->iov_len == p) {
        last->iov_len += n;
        return;
    }
    if (w->niov == SEARCH_ORDER_IOV)
        writer_flush(w);
    w->iov[w->niov++] = (struct iovec){(void *)p, n};
}

/* Adds a copy of n bytes at p. */
static void writer_copy(struct writer *w, const void *p, size_t n)
{
    if (w->staged + n > SEARCH_ORDER_WRITE || w->niov == SEARCH_ORDER_IOV)
        writer_flush(w);
    if (n > SEARCH_ORDER_WRITE) { /* larger than the stage: written now, as it is */
        writer_ref(w, p, n);
        writer_flush(w);
        return;
    }
    memcpy(w->stage + w->staged, p, n);
    writer_ref(w, w->stage + w->staged, n);
    w->staged += n;
}

/* An event; `stays`: its bytes stay valid until the next flush. */
static void writer_event(struct writer *w, const struct search_order_key *k, const char *p,
                         size_t n, bool stays)
{
    if (w->records) {
        struct run_rec h = {k->sec, k->msec, k->serial, k->group, (uint32_t)n, k->seq};
        writer_copy(w, &h, sizeof(h));
    }
    if (stays)
        writer_ref(w, p, n);
    else
        writer_copy(w, p, n);
}

/* ------------------------------------------------------------ merging */

/* One sorted stream: the waiting events of an order, or a run in a file. */
struct cursor {
    struct search_order_key k; /* the current event */
    const char *p;
    size_t len;
    const struct pending *pend; /* in memory */
    size_t i, n;
    const char *base;
    int fd; /* a run: -1 for memory */
    off_t off, end;
    uint64_t left;
    char *buf;
    size_t cap, pos, fill;
};

/* Makes `need` bytes available at c->buf + c->pos. */
static int cursor_fill(struct cursor *c, size_t need)
{
    if (c->fill - c->pos >= need)
        return 0;
    memmove(c->buf, c->buf + c->pos, c->fill - c->pos);
    c->fill -= c->pos, c->pos = 0;
    if (need > c->cap) {
        char *b = realloc(c->buf, need);
        if (!b)
            return -ENOMEM;
        c->buf = b, c->cap = need;
    }
    while (c->fill < need) {
        size_t want = c->cap - c->fill;
        if ((off_t)want > c->end - c->off)
            want = (size_t)(c->end - c->off);
        ssize_t n = want ? pread(c->fd, c->buf + c->fill, want, c->off) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO; /* a run shorter than written */
        c->off += n, c->fill += (size_t)n;
    }
    return 0;
}

/* Moves c to its next event: 1, 0 at its end, or -errno. */
static int cursor_next(struct cursor *c)
{
    if (c->fd < 0) {
        if (c->i == c->n)
            return 0;
        const struct pending *p = &c->pend[c->i++];
        c->k = p->k, c->p = c->base + p->off, c->len = p->len;
        return 1;
    }
    if (c->left == 0)
        return 0;
    struct run_rec h;
    int r = cursor_fill(c, sizeof(h));
    if (r < 0)
        return r;
    memcpy(&h, c->buf + c->pos, sizeof(h));
    c->pos += sizeof(h);
    if ((r = cursor_fill(c, h.len)) < 0)
        return r;
    c->k = (struct search_order_key){h.sec, h.msec, h.serial, h.group, h.seq};
    c->p = c->buf + c->pos, c->len = h.len;
    c->pos += h.len;
    c->left--;
    return 1;
}

static bool cursor_less(const struct cursor *a, const struct cursor *b)
{
    return search_order_key_compare(&a->k, &b->k) < 0;
}

static void heap_down(struct cursor **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cursor_less(h[l], h[m]))
            m = l;
        if (l + 1 < n && cursor_less(h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        struct cursor *t = h[i];
        h[i] = h[m], h[m] = t;
        i = m;
    }
}

/* Merges the n cursors (each at its first event or empty) into w. */
static int merge(struct cursor *c, size_t n, struct writer *w)
{
    struct cursor **h = malloc((n ? n : 1) * sizeof(*h));
    if (!h)
        return -ENOMEM;
    size_t nh = 0;
    int r = 0;
    for (size_t i = 0; i < n && r >= 0; i++)
        if ((r = cursor_next(&c[i])) > 0)
            h[nh++] = &c[i];
    for (size_t i = nh / 2; i-- > 0;)
        heap_down(h, nh, i);
    while (r >= 0 && nh && !w->err) {
        struct cursor *top = h[0];
        writer_event(w, &top->k, top->p, top->len, top->fd < 0);
        if ((r = cursor_next(top)) == 0)
            h[0] = h[--nh];
        heap_down(h, nh, 0);
    }
    free(h);
    if (r >= 0)
        writer_flush(w);
    return r < 0 ? r : w->err;
}

static void cursor_run(struct cursor *c, int fd, const struct run *run)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd, c->off = run->off, c->end = run->end, c->left = run->count;
}

static void cursor_memory(struct cursor *c, struct search_order *o)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1, c->pend = o->pend, c->n = o->npend, c->base = o->out.data;
}

static int cursors_alloc(struct cursor *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].fd >= 0 && !(c[i].buf = malloc(c[i].cap = SEARCH_ORDER_READ)))
            return -ENOMEM;
    return 0;
}

static void cursors_free(struct cursor *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].buf);
}

/* ------------------------------------------------------------ spilling */

static void sort_pending(struct search_order *o)
{
    if (!o->sorted && o->npend)
        qsort(o->pend, o->npend, sizeof(*o->pend), compare_pending);
    o->sorted = true;
}

/* Merges the order's runs into one run in a new file. */
static int merge_runs(struct search_order *o)
{
    int fd = temp_file();
    if (fd < 0)
        return fd;
    struct cursor c[SEARCH_ORDER_FANIN];
    uint64_t count = 0;
    for (unsigned i = 0; i < o->nruns; i++) {
        cursor_run(&c[i], o->fd, &o->runs[i]);
        count += o->runs[i].count;
    }
    char *wbuf = malloc(SEARCH_ORDER_WRITE);
    struct writer w = {.fd = fd, .records = true, .stage = wbuf};
    int r = wbuf ? cursors_alloc(c, o->nruns) : -ENOMEM;
    if (r == 0)
        r = merge(c, o->nruns, &w);
    cursors_free(c, o->nruns);
    free(wbuf);
    if (r < 0) {
        close(fd);
        return r;
    }
    close(o->fd);
    o->fd = fd, o->fd_end = w.written;
    o->runs[0] = (struct run){0, w.written, count};
    o->nruns = 1;
    o->st.merges++;
    return 0;
}

/* Sorts the waiting events and writes them as a run. */
static int spill(struct search_order *o)
{
    int r = 0;
    if (o->fd < 0 && (o->fd = temp_file()) < 0) {
        r = o->fd;
        o->fd = -1;
        return r;
    }
    if (o->nruns == SEARCH_ORDER_FANIN && (r = merge_runs(o)) < 0)
        return r;
    sort_pending(o);
    char *wbuf = malloc(SEARCH_ORDER_WRITE);
    if (!wbuf)
        return -ENOMEM;
    struct writer w = {.fd = o->fd, .records = true, .stage = wbuf};
    if (lseek(o->fd, o->fd_end, SEEK_SET) < 0)
        w.err = -errno;
    for (size_t i = 0; i < o->npend && !w.err; i++)
        writer_event(&w, &o->pend[i].k, o->out.data + o->pend[i].off, o->pend[i].len, true);
    writer_flush(&w);
    free(wbuf);
    if (w.err)
        return w.err;
    o->runs[o->nruns++] = (struct run){o->fd_end, o->fd_end + w.written, o->npend};
    o->fd_end += w.written;
    o->st.runs++;
    o->st.bytes_spilled += (uint64_t)w.written;
    o->npend = 0;
    buf_reset(&o->out);
    return 0;
}

int search_order_add(struct search_order *o, const struct search_order_key *k, size_t off)
{
    if (o->npend == o->cappend) {
        size_t cap = o->cappend ? o->cappend * 2 : 1024;
        struct pending *p = realloc(o->pend, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        o->pend = p, o->cappend = cap;
    }
    if (o->npend && search_order_key_compare(k, &o->pend[o->npend - 1].k) < 0)
        o->sorted = false;
    o->pend[o->npend++] = (struct pending){*k, off, o->out.len - off};
    o->st.events++;
    if (o->npend >= o->max_events || o->out.len >= o->max_bytes)
        return spill(o);
    return 0;
}

int search_order_write(struct search_order *const *v, size_t n, int fd)
{
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        nc += v[i]->nruns + 1;
    struct cursor *c = calloc(nc ? nc : 1, sizeof(*c));
    char *wbuf = malloc(SEARCH_ORDER_WRITE);
    int r = c && wbuf ? 0 : -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct search_order *o = v[i];
        sort_pending(o);
        for (unsigned k = 0; k < o->nruns; k++)
            cursor_run(&c[m++], o->fd, &o->runs[k]);
        cursor_memory(&c[m++], o);
    }
    struct writer w = {.fd = fd, .stage = wbuf};
    if (r == 0)
        r = cursors_alloc(c, m);
    if (r == 0)
        r = merge(c, m, &w);
    if (c)
        cursors_free(c, m);
    free(c);
    free(wbuf);
    return r;
}
