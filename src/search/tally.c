/*
 * tally: a set of strings with hit counts (see tally.h). Linear probing at
 * most half full; entries keep their first-seen rank so that sorting by hits
 * is stable. Used by report.c; knows nothing of audit.
 */
#include "search/tally.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TALLY_MIN_CAP 64

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void tally_init(struct tally *t)
{
    memset(t, 0, sizeof(*t));
}

void tally_free(struct tally *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].s);
    free(t->slots);
    tally_init(t);
}

static struct tally_entry *find(struct tally_entry *slots, size_t cap, const char *s, size_t n)
{
    size_t i = (size_t)hash(s, n) & (cap - 1);
    while (slots[i].s && !(slots[i].n == n && !memcmp(slots[i].s, s, n)))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(struct tally *t)
{
    size_t cap = t->cap ? t->cap * 2 : TALLY_MIN_CAP;
    struct tally_entry *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].s)
            *find(slots, cap, t->slots[i].s, t->slots[i].n) = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int add_hits(struct tally *t, const char *s, size_t n, uint64_t hits)
{
    if ((t->count + 1) * 2 > t->cap && grow(t) < 0)
        return -ENOMEM;
    struct tally_entry *e = find(t->slots, t->cap, s, n);
    if (!e->s) {
        if (!(e->s = malloc(n + 1)))
            return -ENOMEM;
        memcpy(e->s, s, n);
        e->s[n] = 0;
        e->n = n;
        e->hits = 0;
        e->order = t->count++;
    }
    e->hits += hits;
    return 0;
}

int tally_add(struct tally *t, const char *s, size_t n)
{
    return add_hits(t, s, n, 1);
}

int tally_merge(struct tally *t, const struct tally *from)
{
    const struct tally_entry **v = NULL;
    int r = tally_sorted(from, &v); /* first-seen order of `from` is kept for ties */
    for (size_t i = 0; r == 0 && i < from->count; i++)
        r = add_hits(t, v[i]->s, v[i]->n, v[i]->hits);
    free(v);
    return r;
}

int tally_merge_seen(struct tally *t, const struct tally *from)
{
    const struct tally_entry **v = malloc((from->count ? from->count : 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < from->cap; i++) /* ranks are 0 .. count-1: placed, not sorted */
        if (from->slots[i].s)
            v[from->slots[i].order] = &from->slots[i];
    int r = 0;
    for (size_t i = 0; r == 0 && i < from->count; i++)
        r = add_hits(t, v[i]->s, v[i]->n, v[i]->hits);
    free(v);
    return r;
}

static int by_hits(const void *a, const void *b)
{
    const struct tally_entry *x = *(const struct tally_entry *const *)a;
    const struct tally_entry *y = *(const struct tally_entry *const *)b;
    if (x->hits != y->hits)
        return x->hits > y->hits ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

int tally_sorted(const struct tally *t, const struct tally_entry ***out)
{
    const struct tally_entry **v = malloc((t->count ? t->count : 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].s)
            v[k++] = &t->slots[i];
    if (k)
        qsort(v, k, sizeof(*v), by_hits);
    *out = v;
    return 0;
}
