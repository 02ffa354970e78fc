/*
 * dest: the store's memory of where a (host, program) pair as received
 * goes: its rendered path below the root and that path's hash. Sanitizing
 * two names and rendering the template cost more than the rest of an
 * append, and a collector sees the same few pairs over and over; the
 * mapping is a pure function of the names and the template, so nothing
 * here goes stale. Bounded (STORE_DESTS_MAX pairs, names up to
 * STORE_DEST_NAME_MAX bytes): past the bound it starts over empty.
 */
#include "store/store_int.h"

#include "base/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STORE_DESTS_MAX     4096 /* pairs remembered; then the table starts over */
#define STORE_DESTS_SLOTS   8192 /* hash slots (a power of 2, twice the pairs) */
#define STORE_DEST_NAME_MAX 255  /* longer host or program names are not remembered */

struct store_dest {
    struct store_dest *next;
    uint64_t key;       /* dest_key of host and program */
    uint64_t path_hash; /* store_path_hash of path */
    uint16_t host_len, prog_len, path_len;
    char bytes[]; /* host, program, path NUL */
};

struct store_dests {
    struct store_dest *slots[STORE_DESTS_SLOTS];
    struct store_dest *last; /* the last one found: tried first */
    size_t count;
};

static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* A word at a time: the names are short and this runs per message. */
static uint64_t bytes_key(uint64_t h, const char *p, size_t n)
{
    uint64_t w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = mix(h, w);
    }
    if (n) {
        w = 0;
        memcpy(&w, p, n);
        h = mix(h, w ^ (uint64_t)n << 59);
    }
    return h;
}

static uint64_t dest_key(const char *host, size_t hl, const char *prog, size_t pl)
{
    return bytes_key(bytes_key(mix(hl, pl << 32 | 1), host, hl), prog, pl);
}

/* a[0..n) == b[0..n) a word at a time (memcmp is a call, and these are
 * short); never reads outside either. */
static bool names_equal(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    if (n < 8)
        return bytes_equal(a, b, n);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8), memcpy(&y, b + i, 8);
        if (x != y)
            return false;
    }
    memcpy(&x, a + n - 8, 8), memcpy(&y, b + n - 8, 8);
    return x == y;
}

static bool same(const struct store_dest *d, uint64_t key, const char *host, size_t hl,
                 const char *prog, size_t pl)
{
    return d->key == key && d->host_len == hl && d->prog_len == pl &&
           names_equal(d->bytes, host, hl) && names_equal(d->bytes + hl, prog, pl);
}

void store_dests_free(struct store_dests *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < STORE_DESTS_SLOTS; i++)
        for (struct store_dest *d = ds->slots[i], *next; d; d = next) {
            next = d->next;
            free(d);
        }
    free(ds);
}

const char *store_dest_find(struct store_dests *ds, const char *host, size_t hl, const char *prog,
                            size_t pl, size_t *path_len, uint64_t *path_hash)
{
    if (!ds || hl > STORE_DEST_NAME_MAX || pl > STORE_DEST_NAME_MAX)
        return NULL;
    struct store_dest *d = ds->last; /* the last pair first: one sender, one program */
    if (!d || d->host_len != hl || d->prog_len != pl || !names_equal(d->bytes, host, hl) ||
        !names_equal(d->bytes + hl, prog, pl)) {
        uint64_t key = dest_key(host, hl, prog, pl);
        for (d = ds->slots[key & (STORE_DESTS_SLOTS - 1)]; d; d = d->next)
            if (same(d, key, host, hl, prog, pl))
                break;
        if (!d)
            return NULL;
        ds->last = d;
    }
    *path_len = d->path_len;
    *path_hash = d->path_hash;
    return d->bytes + hl + pl;
}

int store_dest_add(struct store_dests **dsp, const char *host, size_t hl, const char *prog,
                   size_t pl, const char *path, size_t path_len, uint64_t path_hash)
{
    if (hl > STORE_DEST_NAME_MAX || pl > STORE_DEST_NAME_MAX || path_len >= STORE_PATH_MAX)
        return 0; /* not remembered: rendered each time */
    struct store_dests *ds = *dsp;
    if (!ds && !(ds = *dsp = calloc(1, sizeof(*ds))))
        return -ENOMEM;
    if (ds->count >= STORE_DESTS_MAX) { /* many names (a hostile sender?): start over */
        for (size_t i = 0; i < STORE_DESTS_SLOTS; i++)
            for (struct store_dest *d = ds->slots[i], *next; d; d = next) {
                next = d->next;
                free(d);
            }
        memset(ds, 0, sizeof(*ds));
    }
    struct store_dest *d = malloc(sizeof(*d) + hl + pl + path_len + 1);
    if (!d)
        return -ENOMEM;
    d->key = dest_key(host, hl, prog, pl);
    d->path_hash = path_hash;
    d->host_len = (uint16_t)hl;
    d->prog_len = (uint16_t)pl;
    d->path_len = (uint16_t)path_len;
    memcpy(d->bytes, host, hl);
    memcpy(d->bytes + hl, prog, pl);
    memcpy(d->bytes + hl + pl, path, path_len);
    d->bytes[hl + pl + path_len] = '\0';
    struct store_dest **slot = &ds->slots[d->key & (STORE_DESTS_SLOTS - 1)];
    d->next = *slot;
    *slot = d;
    ds->count++;
    ds->last = d;
    return 0;
}
