/*
 * hosts_seen: an open-addressing hash table (linear probing, FNV-1a),
 * grown by doubling up to HOSTS_SEEN_MAX entries at most half full, so a
 * lookup is a hash and usually one compare on the hot path. Names are
 * copied, cut at HOSTS_SEEN_NAME_MAX (the store's own names are shorter).
 * The entry noted last is tried first: a connection's messages come in
 * runs from one host, and the hash cost more than the rest of a note.
 */
#include "collector/hosts_seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *name; /* NULL: free slot */
    size_t len;
    time_t last;
    uint64_t messages;
};

struct hosts_seen {
    struct entry *slots;
    size_t cap, used;
    uint64_t untracked;
    struct entry *last; /* noted last; NULL after a grow */
};

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

struct hosts_seen *hosts_seen_new(void)
{
    struct hosts_seen *hs = calloc(1, sizeof(*hs));
    if (!hs)
        return NULL;
    hs->cap = 64;
    hs->slots = calloc(hs->cap, sizeof(*hs->slots));
    if (!hs->slots) {
        free(hs);
        return NULL;
    }
    return hs;
}

void hosts_seen_free(struct hosts_seen *hs)
{
    if (!hs)
        return;
    for (size_t i = 0; i < hs->cap; i++)
        free(hs->slots[i].name);
    free(hs->slots);
    free(hs);
}

static struct entry *find(struct entry *slots, size_t cap, const char *p, size_t n)
{
    for (size_t i = hash(p, n) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].name || (slots[i].len == n && !memcmp(slots[i].name, p, n)))
            return &slots[i];
}

static int grow(struct hosts_seen *hs)
{
    size_t cap = hs->cap * 2;
    struct entry *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < hs->cap; i++)
        if (hs->slots[i].name)
            *find(slots, cap, hs->slots[i].name, hs->slots[i].len) = hs->slots[i];
    free(hs->slots);
    hs->slots = slots;
    hs->cap = cap;
    hs->last = NULL;
    return 0;
}

int hosts_seen_note(struct hosts_seen *hs, const char *host, size_t len, time_t now)
{
    if (len > HOSTS_SEEN_NAME_MAX)
        len = HOSTS_SEEN_NAME_MAX;
    struct entry *e = hs->last;
    if (e && e->len == len && !memcmp(e->name, host, len)) {
        e->last = now;
        e->messages++;
        return 0;
    }
    e = find(hs->slots, hs->cap, host, len);
    if (!e->name) {
        if (hs->used >= HOSTS_SEEN_MAX) {
            hs->untracked++;
            return -ENOSPC;
        }
        if ((hs->used + 1) * 2 > hs->cap) {
            if (grow(hs) < 0) {
                hs->untracked++;
                return -ENOMEM;
            }
            e = find(hs->slots, hs->cap, host, len);
        }
        if (!(e->name = malloc(len + 1))) {
            hs->untracked++;
            return -ENOMEM;
        }
        memcpy(e->name, host, len);
        e->name[len] = 0;
        e->len = len;
        hs->used++;
    }
    e->last = now;
    e->messages++;
    hs->last = e;
    return 0;
}

uint64_t hosts_seen_untracked(const struct hosts_seen *hs)
{
    return hs->untracked;
}

size_t hosts_seen_count(const struct hosts_seen *hs)
{
    return hs->used;
}

void hosts_seen_foreach(const struct hosts_seen *hs, hosts_seen_fn fn, void *arg)
{
    for (size_t i = 0; i < hs->cap; i++)
        if (hs->slots[i].name)
            fn(hs->slots[i].name, hs->slots[i].last, hs->slots[i].messages, arg);
}
