/*
 * index: what the store knows of its rotated files, so that retention and
 * compression never walk the disk after open: one family per active name
 * (found by hash), its rotated files by number, a min-heap of families by
 * the mtime of their oldest rotated file (the next to expire store-wide),
 * the queue of families with a file to compress, and the total bytes of
 * active and rotated files. Built by one walk of the store at open (and
 * reopen), which also finishes what a crash interrupted (compression temp
 * files, a plain file beside its finished .zst); kept up to date by
 * store.c, retention.c and compress.c. It deletes nothing else and decides
 * nothing: retention.c does.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INDEX_SLOTS_MIN 1024
#define NOT_IN_HEAP     SIZE_MAX

/* ---- heap by the oldest gen's mtime ---- */

static int64_t heap_key(const struct store_family *f)
{
    return f->gens[f->ngens - 1].mtime;
}

static void heap_set(struct store_index *x, size_t i, struct store_family *f)
{
    x->heap[i] = f;
    f->heap_pos = i;
}

static void heap_up(struct store_index *x, size_t i)
{
    struct store_family *f = x->heap[i];
    while (i > 0 && heap_key(x->heap[(i - 1) / 2]) > heap_key(f)) {
        heap_set(x, i, x->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(x, i, f);
}

static void heap_down(struct store_index *x, size_t i)
{
    struct store_family *f = x->heap[i];
    for (size_t c; (c = 2 * i + 1) < x->nheap; i = c) {
        if (c + 1 < x->nheap && heap_key(x->heap[c + 1]) < heap_key(x->heap[c]))
            c++;
        if (heap_key(x->heap[c]) >= heap_key(f))
            break;
        heap_set(x, i, x->heap[c]);
    }
    heap_set(x, i, f);
}

static void heap_remove(struct store_index *x, struct store_family *f)
{
    size_t i = f->heap_pos;
    f->heap_pos = NOT_IN_HEAP;
    struct store_family *last = x->heap[--x->nheap];
    if (last == f)
        return;
    heap_set(x, i, last);
    heap_up(x, i);
    heap_down(x, last->heap_pos);
}

/* After f's gens changed: in the heap exactly while it has one. The heap
 * has room for every family (grown with them), so this cannot fail. */
static void heap_fix(struct store_index *x, struct store_family *f)
{
    if (f->ngens == 0) {
        if (f->heap_pos != NOT_IN_HEAP)
            heap_remove(x, f);
        return;
    }
    if (f->heap_pos == NOT_IN_HEAP) {
        heap_set(x, x->nheap++, f);
        heap_up(x, f->heap_pos);
        return;
    }
    heap_up(x, f->heap_pos);
    heap_down(x, f->heap_pos);
}

/* ---- the compression queue ---- */

static void zq_fix(struct store_index *x, struct store_family *f)
{
    bool want = false;
    for (unsigned i = 0; i < f->ngens && !want; i++)
        want = !f->gens[i].zst && !f->gens[i].no_zst;
    if (want == f->in_zq)
        return;
    f->in_zq = want;
    if (want) {
        f->zq_next = NULL;
        f->zq_prev = x->zq_tail;
        *(x->zq_tail ? &x->zq_tail->zq_next : &x->zq_head) = f;
        x->zq_tail = f;
    } else {
        *(f->zq_prev ? &f->zq_prev->zq_next : &x->zq_head) = f->zq_next;
        *(f->zq_next ? &f->zq_next->zq_prev : &x->zq_tail) = f->zq_prev;
    }
}

static void gens_changed(struct store_index *x, struct store_family *f)
{
    heap_fix(x, f);
    zq_fix(x, f);
}

/* ---- families ---- */

static int table_grow(struct store_index *x)
{
    size_t slots = x->table ? 2 * (x->mask + 1) : INDEX_SLOTS_MIN;
    struct store_family **t = calloc(slots, sizeof(*t));
    struct store_family **h = realloc(x->heap, slots * sizeof(*h));
    if (!t || !h) {
        free(t);
        if (h)
            x->heap = h;
        return -ENOMEM;
    }
    x->heap = h;
    x->heap_cap = slots;
    for (size_t i = 0; x->table && i <= x->mask; i++)
        for (struct store_family *f = x->table[i], *next; f; f = next) {
            next = f->hash_next;
            f->hash_next = t[f->hash & (slots - 1)];
            t[f->hash & (slots - 1)] = f;
        }
    free(x->table);
    x->table = t;
    x->mask = slots - 1;
    return 0;
}

struct store_family *store_index_family(struct store_index *x, const char *path, size_t n)
{
    uint64_t h = store_path_hash(path, n);
    if (x->table)
        for (struct store_family *f = x->table[h & x->mask]; f; f = f->hash_next)
            if (f->hash == h && f->path_len == n && memcmp(f->path, path, n) == 0)
                return f;
    if (x->count >= STORE_FAMILIES_MAX || (x->count >= x->heap_cap && table_grow(x) < 0))
        return NULL;
    struct store_family *f = calloc(1, sizeof(*f) + n + 1);
    if (!f)
        return NULL;
    f->hash = h;
    f->heap_pos = NOT_IN_HEAP;
    f->path_len = n;
    memcpy(f->path, path, n);
    f->hash_next = x->table[h & x->mask];
    x->table[h & x->mask] = f;
    x->count++;
    return f;
}

void store_index_set_active(struct store_index *x, struct store_family *f, uint64_t size)
{
    x->total_bytes += size - f->active_bytes; /* wraps back when smaller */
    f->active_bytes = size;
}

static int gen_insert(struct store_index *x, struct store_family *f, unsigned at,
                      struct store_gen g)
{
    if (f->ngens == f->gens_cap) {
        unsigned cap = f->gens_cap ? 2 * f->gens_cap : 4;
        struct store_gen *gens = realloc(f->gens, cap * sizeof(*gens));
        if (!gens)
            return -ENOMEM;
        f->gens = gens;
        f->gens_cap = cap;
    }
    memmove(f->gens + at + 1, f->gens + at, (f->ngens - at) * sizeof(g));
    g.id = ++x->next_id;
    f->gens[at] = g;
    f->ngens++;
    x->total_bytes += g.size;
    x->rotated++;
    return 0;
}

void store_index_add_gen(struct store_index *x, struct store_family *f, unsigned num, bool zst,
                         uint64_t size, int64_t mtime)
{
    unsigned at = 0;
    while (at < f->ngens && f->gens[at].num < num)
        at++;
    if (at < f->ngens && f->gens[at].num == num)
        return; /* the walker handles pairs before it gets here */
    struct store_gen g = {.num = num, .zst = zst, .size = size, .mtime = mtime};
    if (gen_insert(x, f, at, g) == 0)
        gens_changed(x, f);
}

void store_index_drop_gen(struct store_index *x, struct store_family *f, unsigned i, bool freed)
{
    if (freed)
        x->total_bytes -= f->gens[i].size;
    x->rotated--;
    memmove(f->gens + i, f->gens + i + 1, (f->ngens - i - 1) * sizeof(f->gens[0]));
    f->ngens--;
    gens_changed(x, f);
}

void store_index_rotated(struct store_index *x, struct store_family *f, unsigned num_logs,
                         uint64_t size, int64_t mtime)
{
    unsigned last = num_logs - 1;
    for (unsigned i = 0; i < f->ngens; i++)
        if (f->gens[i].num == last) {
            store_index_drop_gen(x, f, i, true); /* deleted by store_rotate */
            break;
        }
    for (unsigned i = 0; i < f->ngens && f->gens[i].num < last; i++)
        f->gens[i].num++;
    store_index_set_active(x, f, 0);
    struct store_gen g = {.num = 1, .size = size, .mtime = mtime};
    if (gen_insert(x, f, 0, g) < 0)
        x->total_bytes += size; /* not indexed, but still on disk */
    gens_changed(x, f);
}

int store_index_find_gen(const struct store_family *f, uint64_t id)
{
    for (unsigned i = 0; i < f->ngens; i++)
        if (f->gens[i].id == id)
            return (int)i;
    return -1;
}

void store_index_gen_compressed(struct store_index *x, struct store_family *f, unsigned i,
                                uint64_t size)
{
    x->total_bytes += size - f->gens[i].size;
    f->gens[i].size = size;
    f->gens[i].zst = true;
    zq_fix(x, f);
}

void store_index_gen_no_zst(struct store_index *x, struct store_family *f, unsigned i)
{
    f->gens[i].no_zst = true;
    zq_fix(x, f);
}

struct store_family *store_index_oldest(const struct store_index *x)
{
    return x->nheap ? x->heap[0] : NULL;
}

void store_index_free(struct store_index *x)
{
    for (size_t i = 0; x->table && i <= x->mask; i++)
        for (struct store_family *f = x->table[i], *next; f; f = next) {
            next = f->hash_next;
            free(f->gens);
            free(f);
        }
    free(x->table);
    free(x->heap);
    *x = (struct store_index){0};
}
