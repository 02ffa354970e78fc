/*
 * index: building, storing, checking and using the per-file sparse index
 * (see index.h; the format is in docs/formats.md "Search index").
 *
 * Building reads the file once through its own line loop (the reader's rules:
 * blank and over-long lines skipped, headers parsed the same way) so that it
 * knows the block of every record, collates the records with the ordinary
 * collator, and files each closed event's items (search/query) under every
 * block from its first record's to its last's. Reading with an index feeds
 * whole byte ranges into the ordinary audit reader, so what is read is parsed
 * and collated exactly as a scan would.
 *
 * It does not decide which files to read (search/input does), and it writes
 * nothing but index files (".lwidx.<inode>", written to a temporary name and
 * renamed).
 */
#include "search/index.h"

#include "audit/collate.h"
#include "search/input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC        "LWIDX\r\n\x1a"
#define HEADER_BYTES 80
#define KEY_BYTES    24
#define BLOCK_BYTES                                                                                \
    (8 * 5 + 4 * 4 + SEARCH_INDEX_TYPE_BYTES + SEARCH_INDEX_BLOOM + 4 + 2 * SEARCH_INDEX_LIST +    \
     4 + SEARCH_INDEX_CARRY * KEY_BYTES)
#define STREAM_CHUNK SEARCH_STREAM_CHUNK
#define FLAG_ZST     1u
#define BLOOM_HASHES 3
#define KEYMAP_MIN   1024

/* ------------------------------------------------------------------ hash */

/* A streaming 64-bit hash (multiply-rotate over 8-byte words, murmur's
 * finalizer): fast enough to re-hash a file faster than it can be parsed.
 * Not cryptographic: sealing (docs/formats.md) is what detects tampering. */
struct hash64 {
    uint64_t h, total;
    uint8_t carry[8];
    unsigned ncarry;
};

static const uint64_t K1 = 0x9e3779b185ebca87ull, K2 = 0xc2b2ae3d27d4eb4full;

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline void mix(struct hash64 *s, uint64_t w)
{
    s->h = rotl(s->h ^ (w * K1), 31) * K2;
}

static void hash_init(struct hash64 *s)
{
    memset(s, 0, sizeof(*s));
    s->h = 0x27d4eb2f165667c5ull;
}

static void hash_update(struct hash64 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->total += n;
    while (s->ncarry > 0 && s->ncarry < 8 && n) {
        s->carry[s->ncarry++] = *p++, n--;
        if (s->ncarry == 8) {
            uint64_t w;
            memcpy(&w, s->carry, 8);
            mix(s, w);
            s->ncarry = 0;
        }
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        mix(s, w);
    }
    memcpy(s->carry, p, n);
    s->ncarry = (unsigned)n;
}

static uint64_t hash_final(const struct hash64 *s)
{
    uint64_t h = s->h, w = 0;
    memcpy(&w, s->carry, s->ncarry);
    h = rotl(h ^ (w * K1), 31) * K2 ^ s->total;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    struct hash64 s;
    hash_init(&s);
    hash_update(&s, p, n);
    return hash_final(&s);
}

uint64_t search_index_hash(const void *p, size_t n)
{
    return hash_bytes(p, n);
}

/* --------------------------------------------------------------- tokens */

static void bloom_positions(const char *p, size_t n, char kind, uint32_t pos[BLOOM_HASHES])
{
    struct hash64 s;
    hash_init(&s);
    hash_update(&s, &kind, 1);
    hash_update(&s, p, n);
    uint64_t h = hash_final(&s), h2 = (h >> 32) | 1;
    for (int i = 0; i < BLOOM_HASHES; i++)
        pos[i] = (uint32_t)((h + (uint64_t)i * h2) % (SEARCH_INDEX_BLOOM * 8));
}

static void bloom_add(uint8_t *bloom, char kind, const char *p, size_t n)
{
    uint32_t pos[BLOOM_HASHES];
    bloom_positions(p, n, kind, pos);
    for (int i = 0; i < BLOOM_HASHES; i++)
        bloom[pos[i] / 8] |= (uint8_t)(1u << (pos[i] % 8));
}

static bool bloom_has(const uint8_t *bloom, char kind, const char *p, size_t n)
{
    uint32_t pos[BLOOM_HASHES];
    bloom_positions(p, n, kind, pos);
    for (int i = 0; i < BLOOM_HASHES; i++)
        if (!(bloom[pos[i] / 8] & (1u << (pos[i] % 8))))
            return false;
    return true;
}

static void bloom_add_number(uint8_t *bloom, char kind, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    bloom_add(bloom, kind, tmp, (size_t)n);
}

static bool bloom_has_number(const uint8_t *bloom, char kind, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    return bloom_has(bloom, kind, tmp, (size_t)n);
}

static unsigned type_bit(int type)
{
    return type >= 1000 && type < 1000 + SEARCH_INDEX_TYPE_BYTES * 8 - 1
               ? (unsigned)(type - 1000)
               : SEARCH_INDEX_TYPE_BYTES * 8 - 1;
}

/* Adds s to a list of distinct strings; false when it does not fit. */
static bool list_add(char *list, uint16_t *len, struct search_span s)
{
    for (size_t at = 0; at < *len; at += strlen(list + at) + 1)
        if (strlen(list + at) == s.n && !memcmp(list + at, s.p, s.n))
            return true;
    if (memchr(s.p, 0, s.n) || *len + s.n + 1 > SEARCH_INDEX_LIST)
        return false;
    memcpy(list + *len, s.p, s.n);
    list[*len + s.n] = 0;
    *len = (uint16_t)(*len + s.n + 1);
    return true;
}

static bool list_has_part(const char *list, uint16_t len, const char *needle, bool exact)
{
    for (size_t at = 0; at < len; at += strlen(list + at) + 1)
        if (exact ? !strcmp(list + at, needle) : strstr(list + at, needle) != NULL)
            return true;
    return false;
}

/* --------------------------------------------------------------- builder */

struct keyslot {
    int64_t sec;
    uint64_t node; /* hash of the node name; 0 for none */
    uint32_t msec, serial;
    uint32_t minb, maxb;
    uint8_t state; /* 0 empty, 1 used, 2 deleted */
};

struct builder {
    struct search_index *ix;
    uint32_t cap;
    struct search_matcher *m;
    struct search_query q;
    struct keyslot *keys;
    size_t nkeys, ndeleted, capkeys;
    int error;
};

static uint64_t node_hash(const char *p, size_t n)
{
    return n ? hash_bytes(p, n) | 1 : 0;
}

static size_t key_index(const struct keyslot *k, size_t cap)
{
    uint64_t h = (uint64_t)k->sec * K1 ^ (uint64_t)k->serial * K2 ^ k->msec ^ k->node;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct keyslot *key_find(struct builder *b, const struct keyslot *k, bool insert)
{
    size_t i = key_index(k, b->capkeys);
    struct keyslot *free_slot = NULL;
    for (;;) {
        struct keyslot *s = &b->keys[i];
        if (s->state == 0)
            return insert ? (free_slot ? free_slot : s) : NULL;
        if (s->state == 2 && !free_slot)
            free_slot = s;
        if (s->state == 1 && s->sec == k->sec && s->msec == k->msec && s->serial == k->serial &&
            s->node == k->node)
            return s;
        i = (i + 1) & (b->capkeys - 1);
    }
}

static int keys_grow(struct builder *b)
{
    size_t cap = b->capkeys ? b->capkeys * 2 : KEYMAP_MIN;
    if ((b->nkeys + 1) * 2 < b->capkeys && (b->nkeys + b->ndeleted + 1) * 4 < b->capkeys * 3)
        return 0;
    if ((b->nkeys + 1) * 2 < b->capkeys)
        cap = b->capkeys; /* only tombstones to clear */
    struct keyslot *old = b->keys, *v = calloc(cap, sizeof(*v));
    size_t oldcap = b->capkeys;
    if (!v)
        return -ENOMEM;
    b->keys = v, b->capkeys = cap, b->ndeleted = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].state == 1)
            *key_find(b, &old[i], true) = old[i];
    free(old);
    return 0;
}

static int note_record(struct builder *b, const char *line, const struct audit_header *h,
                       uint32_t block)
{
    struct keyslot k = {
        h->sec, node_hash(line + h->node_off, h->node_len), h->msec, h->serial, block, block, 1};
    int r = keys_grow(b);
    if (r < 0)
        return r;
    struct keyslot *s = key_find(b, &k, true);
    if (s->state == 1) {
        s->maxb = block;
        return 0;
    }
    if (s->state == 2)
        b->ndeleted--;
    *s = k;
    b->nkeys++;
    return 0;
}

static void add_items(struct search_index_block *x, const struct audit_event *ev,
                      const struct search_items *it)
{
    uint8_t *bl = x->bloom;
    if (ev->sec < x->tmin)
        x->tmin = ev->sec;
    if (ev->sec > x->tmax)
        x->tmax = ev->sec;
    x->nevents++;
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        unsigned bit = type_bit(ev->records[i].type);
        x->types[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
    bloom_add_number(bl, 'i', ev->serial);
    bloom_add(bl, 'n', ev->node ? ev->node : "", ev->node_len);
    const int64_t nums[] = {it->uid, it->euid, it->auid, it->pid, it->ppid, it->ses, it->syscall};
    const char kinds[] = {'u', 'e', 'a', 'p', 'P', 'S', 's'};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (nums[i] != SEARCH_UNSET)
            bloom_add_number(bl, kinds[i], nums[i]);
    const struct search_span spans[] = {it->uid_name, it->euid_name, it->auid_name, it->exe,
                                        it->terminal, it->host,      it->cwd};
    const char skinds[] = {'U', 'E', 'A', 'x', 't', 'h', 'c'};
    for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
        if (spans[i].p)
            bloom_add(bl, skinds[i], spans[i].p, spans[i].n);
    if (it->uid_unnamed)
        bloom_add(bl, '!', "", 0);
    for (unsigned i = 0; i < it->nfiles; i++)
        bloom_add(bl, 'f', it->files[i].p, it->files[i].n);
    for (unsigned i = 0; i < it->nkeys; i++) {
        bloom_add(bl, 'k', it->keys[i].p, it->keys[i].n);
        if (!list_add(x->keys, &x->keys_len, it->keys[i]))
            x->flags |= SEARCH_INDEX_KEYS_FULL;
    }
    if (it->exe.p && !list_add(x->exes, &x->exes_len, it->exe))
        x->flags |= SEARCH_INDEX_EXES_FULL;
    if (it->success == 1)
        x->flags |= SEARCH_INDEX_SUCCESS_YES;
    if (it->success == 0)
        x->flags |= SEARCH_INDEX_SUCCESS_NO;
}

static int on_built_event(const struct audit_event *ev, void *arg)
{
    struct builder *b = arg;
    struct keyslot k = {ev->sec, node_hash(ev->node, ev->node_len), ev->msec, ev->serial, 0, 0, 1};
    struct keyslot *s = key_find(b, &k, false);
    uint32_t lo = s ? s->minb : b->ix->nblocks - 1, hi = s ? s->maxb : b->ix->nblocks - 1;
    if (s) {
        s->state = 2;
        b->nkeys--, b->ndeleted++;
    }
    const struct search_items *it = search_matcher_items(b->m, ev);
    if (!it)
        return -ENOMEM;
    for (uint32_t i = lo; i <= hi; i++) {
        struct search_index_block *x = &b->ix->blocks[i];
        add_items(x, ev, it);
        if (i < hi && x->ncarry < SEARCH_INDEX_CARRY)
            x->carry[x->ncarry++] = (struct search_index_key){k.sec, k.node, k.msec, k.serial};
        else if (i < hi)
            x->flags |= SEARCH_INDEX_CARRY_FULL;
        if (lo < x->back)
            x->back = lo;
        if (hi > x->fwd)
            x->fwd = hi;
        if (ev->closed_by == AUDIT_CLOSE_END)
            x->flags |= SEARCH_INDEX_OPEN_AT_END;
    }
    return 0;
}

static int new_block(struct builder *b, uint64_t off)
{
    struct search_index *ix = b->ix;
    if (ix->nblocks == SEARCH_INDEX_MAX_BLOCKS)
        return -EFBIG;
    if (ix->nblocks == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        struct search_index_block *v = realloc(ix->blocks, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        ix->blocks = v, b->cap = cap;
    }
    struct search_index_block *x = &ix->blocks[ix->nblocks];
    memset(x, 0, sizeof(*x));
    x->off = off;
    x->tmin = INT64_MAX, x->tmax = INT64_MIN;
    x->back = x->fwd = ix->nblocks++;
    return 0;
}

/* One line (without its newline) at offset off, as audit/reader takes it. */
static int build_line(struct builder *b, struct audit_collate *c, const char *p, size_t n)
{
    struct audit_header h;
    size_t err_off;
    if (n == 0 || (n == 1 && p[0] == '\r') || n > AUDIT_RECORD_MAX_LINE ||
        audit_header_parse(p, n, &h, &err_off) < 0)
        return 0;
    int r = note_record(b, p, &h, b->ix->nblocks - 1);
    return r < 0 ? r : audit_collate_add(c, p, n, &h);
}

static int build_stream(struct builder *b, struct search_stream *in, struct audit_collate *c)
{
    size_t cap = STREAM_CHUNK + AUDIT_RECORD_MAX_LINE + 2, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    struct hash64 hs;
    hash_init(&hs);
    uint64_t at = 0; /* file offset of buf[0] */
    bool skipping = false;
    int r = new_block(b, 0);
    for (ssize_t got = 1; r == 0 && got > 0;) {
        got = search_stream_read(in, buf + len, cap - len - 1);
        if (got < 0) {
            r = (int)got;
            break;
        }
        len += (size_t)got;
        size_t done = 0;
        for (uint8_t *nl; r == 0 && (nl = memchr(buf + done, '\n', len - done));) {
            size_t n = (size_t)(nl - (buf + done));
            if (!skipping)
                r = build_line(b, c, (const char *)buf + done, n);
            skipping = false;
            hash_update(&hs, buf + done, n + 1);
            done += n + 1;
            struct search_index_block *x = &b->ix->blocks[b->ix->nblocks - 1];
            x->len = at + done - x->off;
            if (x->len >= SEARCH_INDEX_BLOCK) {
                x->hash = hash_final(&hs);
                hash_init(&hs);
                r = r < 0 ? r : new_block(b, at + done);
            }
        }
        if (len - done > AUDIT_RECORD_MAX_LINE) { /* as the reader: drop the over-long line */
            skipping = true;
            hash_update(&hs, buf + done, len - done);
            struct search_index_block *x = &b->ix->blocks[b->ix->nblocks - 1];
            x->len = at + len - x->off;
            done = len;
        }
        memmove(buf, buf + done, len - done);
        at += done;
        len -= done;
    }
    free(buf);
    struct search_index_block *x = &b->ix->blocks[b->ix->nblocks - 1];
    if (r == 0 && skipping) /* an over-long last line without newline: not covered */
        x->len = 0;
    if (r == 0) {
        x->hash = hash_final(&hs);
        b->ix->covered = x->off + x->len;
        if (x->len == 0 && b->ix->nblocks > 1)
            b->ix->nblocks--; /* the empty block after the last cut */
    }
    return r;
}

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The file is as it was when indexed (nothing can write it and leave all four). */
static bool same_stat(const struct stat *st, const struct search_index *ix)
{
    return (uint64_t)st->st_ino == ix->ino && (uint64_t)st->st_size == ix->disk_size &&
           ns_of(st->st_mtim) == ix->mtime_ns && ns_of(st->st_ctim) == ix->ctime_ns;
}

static void query_all(struct search_query *q)
{
    memset(q, 0, sizeof(*q));
    q->event_id = q->uid = q->euid = q->auid = SEARCH_UNSET;
    q->pid = q->ppid = q->session = q->syscall = SEARCH_UNSET;
    q->success = -1;
}

static int build_fd(int fd, bool zst, struct search_index *ix)
{
    struct builder b = {.ix = ix};
    struct stat st;
    memset(ix, 0, sizeof(*ix));
    if (fstat(fd, &st) < 0)
        return -errno;
    ix->zst = zst;
    ix->block_size = SEARCH_INDEX_BLOCK;
    ix->ino = (uint64_t)st.st_ino;
    ix->disk_size = (uint64_t)st.st_size;
    ix->mtime_ns = ns_of(st.st_mtim);
    ix->ctime_ns = ns_of(st.st_ctim);
    query_all(&b.q);
    b.m = search_matcher_new(&b.q);
    struct audit_collate *c = b.m ? audit_collate_new(NULL, on_built_event, &b) : NULL;
    struct search_stream in;
    int r = c ? search_stream_open(&in, fd, zst) : -ENOMEM;
    if (r == 0)
        r = build_stream(&b, &in, c);
    if (r == 0)
        r = audit_collate_flush(c);
    if (c)
        search_stream_close(&in);
    audit_collate_free(c);
    search_matcher_free(b.m);
    free(b.keys);
    if (r < 0)
        search_index_free(ix);
    return r;
}

void search_index_free(struct search_index *ix)
{
    free(ix->blocks);
    memset(ix, 0, sizeof(*ix));
}

int search_index_build(const char *path, struct search_index *ix)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = build_fd(fd, search_source_is_zstd(path), ix);
    close(fd);
    return r;
}

/* ---------------------------------------------------------------- format */

static void put32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t **p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t) * (*p)++ << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t **p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t) * (*p)++ << (8 * i);
    return v;
}

int search_index_encode(const struct search_index *ix, uint8_t **out, size_t *len)
{
    size_t n = HEADER_BYTES + (size_t)ix->nblocks * BLOCK_BYTES + 8;
    uint8_t *buf = calloc(1, n), *p = buf;
    if (!buf)
        return -ENOMEM;
    memcpy(p, MAGIC, 8), p += 8;
    put32(&p, SEARCH_INDEX_VERSION);
    put32(&p, ix->zst ? FLAG_ZST : 0);
    put32(&p, ix->nblocks);
    put32(&p, ix->block_size);
    put64(&p, ix->covered);
    put64(&p, ix->ino);
    put64(&p, ix->disk_size);
    put64(&p, (uint64_t)ix->mtime_ns);
    put64(&p, (uint64_t)ix->ctime_ns);
    p = buf + HEADER_BYTES;
    for (uint32_t i = 0; i < ix->nblocks; i++) {
        const struct search_index_block *x = &ix->blocks[i];
        put64(&p, x->off), put64(&p, x->len), put64(&p, x->hash);
        put64(&p, (uint64_t)x->tmin), put64(&p, (uint64_t)x->tmax);
        put32(&p, x->back), put32(&p, x->fwd), put32(&p, x->flags), put32(&p, x->nevents);
        memcpy(p, x->types, sizeof(x->types)), p += sizeof(x->types);
        memcpy(p, x->bloom, sizeof(x->bloom)), p += sizeof(x->bloom);
        *p++ = (uint8_t)x->keys_len, *p++ = (uint8_t)(x->keys_len >> 8);
        *p++ = (uint8_t)x->exes_len, *p++ = (uint8_t)(x->exes_len >> 8);
        memcpy(p, x->keys, SEARCH_INDEX_LIST), p += SEARCH_INDEX_LIST;
        memcpy(p, x->exes, SEARCH_INDEX_LIST), p += SEARCH_INDEX_LIST;
        put32(&p, x->ncarry);
        for (uint32_t k = 0; k < SEARCH_INDEX_CARRY; k++) {
            const struct search_index_key *c = &x->carry[k];
            put64(&p, (uint64_t)c->sec), put64(&p, c->node), put32(&p, c->msec),
                put32(&p, c->serial);
        }
    }
    put64(&p, hash_bytes(buf, n - 8));
    *out = buf, *len = n;
    return 0;
}

static bool list_ok(const char *list, uint16_t len)
{
    return len <= SEARCH_INDEX_LIST && (len == 0 || list[len - 1] == 0);
}

int search_index_parse(const uint8_t *buf, size_t n, struct search_index *ix)
{
    memset(ix, 0, sizeof(*ix));
    if (n < HEADER_BYTES + 8 || memcmp(buf, MAGIC, 8))
        return -EBADMSG;
    const uint8_t *p = buf + 8;
    uint32_t version = get32(&p), flags = get32(&p), nblocks = get32(&p), bsize = get32(&p);
    if (version != SEARCH_INDEX_VERSION)
        return -EPROTONOSUPPORT;
    if ((flags & ~FLAG_ZST) || nblocks == 0 || nblocks > SEARCH_INDEX_MAX_BLOCKS || bsize == 0 ||
        n != HEADER_BYTES + (size_t)nblocks * BLOCK_BYTES + 8)
        return -EBADMSG;
    const uint8_t *t = buf + n - 8;
    if (get64(&t) != hash_bytes(buf, n - 8))
        return -EBADMSG;
    ix->zst = flags & FLAG_ZST;
    ix->block_size = bsize;
    ix->covered = get64(&p);
    ix->ino = get64(&p);
    ix->disk_size = get64(&p);
    ix->mtime_ns = (int64_t)get64(&p);
    ix->ctime_ns = (int64_t)get64(&p);
    for (const uint8_t *z = p; z < buf + HEADER_BYTES; z++)
        if (*z)
            return -EBADMSG; /* reserved bytes are zero */
    if (!(ix->blocks = calloc(nblocks, sizeof(*ix->blocks))))
        return -ENOMEM;
    ix->nblocks = nblocks;
    p = buf + HEADER_BYTES;
    uint64_t end = 0;
    for (uint32_t i = 0; i < nblocks; i++) {
        struct search_index_block *x = &ix->blocks[i];
        x->off = get64(&p), x->len = get64(&p), x->hash = get64(&p);
        x->tmin = (int64_t)get64(&p), x->tmax = (int64_t)get64(&p);
        x->back = get32(&p), x->fwd = get32(&p), x->flags = get32(&p), x->nevents = get32(&p);
        memcpy(x->types, p, sizeof(x->types)), p += sizeof(x->types);
        memcpy(x->bloom, p, sizeof(x->bloom)), p += sizeof(x->bloom);
        x->keys_len = (uint16_t)(p[0] | p[1] << 8), x->exes_len = (uint16_t)(p[2] | p[3] << 8);
        p += 4;
        memcpy(x->keys, p, SEARCH_INDEX_LIST), p += SEARCH_INDEX_LIST;
        memcpy(x->exes, p, SEARCH_INDEX_LIST), p += SEARCH_INDEX_LIST;
        x->ncarry = get32(&p);
        for (uint32_t k = 0; k < SEARCH_INDEX_CARRY; k++) {
            struct search_index_key *c = &x->carry[k];
            c->sec = (int64_t)get64(&p), c->node = get64(&p), c->msec = get32(&p),
            c->serial = get32(&p);
        }
        if (x->ncarry > SEARCH_INDEX_CARRY || x->off != end || x->len > UINT64_MAX - end ||
            x->back > i || x->fwd < i || x->fwd >= nblocks || !list_ok(x->keys, x->keys_len) ||
            !list_ok(x->exes, x->exes_len)) {
            search_index_free(ix);
            return -EBADMSG;
        }
        end = x->off + x->len;
    }
    if (end != ix->covered) {
        search_index_free(ix);
        return -EBADMSG;
    }
    return 0;
}

/* ------------------------------------------------------------- on disk */

static int split_path(const char *path, char *dir, size_t cap, const char **name)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n >= cap)
        return -ENAMETOOLONG;
    memcpy(dir, slash ? path : ".", n);
    dir[slash && n == 0 ? 1 : n] = 0;
    if (slash && n == 0)
        dir[0] = '/';
    *name = slash ? slash + 1 : path;
    return 0;
}

int search_index_path(const char *path, char *out, size_t cap)
{
    char dir[SEARCH_PATH_MAX];
    const char *name;
    struct stat st;
    int r = split_path(path, dir, sizeof(dir), &name);
    if (r < 0)
        return r;
    if (stat(path, &st) < 0)
        return -errno;
    int n =
        snprintf(out, cap, "%s/" SEARCH_INDEX_PREFIX "%llu", dir, (unsigned long long)st.st_ino);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int load_fd(int fd, struct search_index *ix)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (st.st_size < HEADER_BYTES ||
        st.st_size > HEADER_BYTES + 8 + (off_t)SEARCH_INDEX_MAX_BLOCKS * BLOCK_BYTES)
        return -EBADMSG;
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(buf);
            return k < 0 ? -errno : -EBADMSG;
        }
        got += (size_t)k;
    }
    int r = search_index_parse(buf, n, ix);
    free(buf);
    return r;
}

int search_index_load(const char *path, struct search_index *ix)
{
    char ipath[SEARCH_PATH_MAX];
    memset(ix, 0, sizeof(*ix));
    int r = search_index_path(path, ipath, sizeof(ipath));
    if (r < 0)
        return r;
    int fd = open(ipath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    r = load_fd(fd, ix);
    close(fd);
    return r;
}

/* Writes ix as dir_fd/.lwidx.<ino> through a temporary name. */
static int write_at(int dir_fd, const struct search_index *ix)
{
    char name[64], tmp[80];
    uint8_t *buf;
    size_t n;
    snprintf(name, sizeof(name), SEARCH_INDEX_PREFIX "%llu", (unsigned long long)ix->ino);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)getpid());
    int r = search_index_encode(ix, &buf, &n);
    if (r < 0)
        return r;
    int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        free(buf);
        return -errno;
    }
    size_t done = 0;
    while (r == 0 && done < n) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k < 0 && errno != EINTR)
            r = -errno;
        else if (k > 0)
            done += (size_t)k;
    }
    free(buf);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(dir_fd, tmp, 0);
    return r;
}

static int build_at(int dir_fd, const char *name, struct search_index *ix)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    int r = build_fd(fd, search_source_is_zstd(name), ix);
    close(fd);
    return r;
}

int search_index_write_for(const char *path)
{
    char dir[SEARCH_PATH_MAX];
    const char *name;
    int r = split_path(path, dir, sizeof(dir), &name);
    int dir_fd = r < 0 ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r == 0 && dir_fd < 0)
        r = -errno;
    struct search_index ix;
    if (r == 0 && (r = build_at(dir_fd, name, &ix)) == 0) {
        r = write_at(dir_fd, &ix);
        search_index_free(&ix);
    }
    if (dir_fd >= 0)
        close(dir_fd);
    return r;
}

/* ------------------------------------------------------------ checking */

/* Hashes the covered blocks of the (decompressed) stream; the first that
 * differs, or nblocks when all hash as indexed. */
static int hash_blocks(int fd, const struct search_index *ix, uint32_t *first_bad)
{
    struct search_stream in;
    uint8_t *buf = malloc(STREAM_CHUNK);
    int r = buf ? search_stream_open(&in, fd, ix->zst) : -ENOMEM;
    if (r < 0) {
        free(buf);
        return r;
    }
    uint32_t b = 0;
    uint64_t at = 0;
    struct hash64 hs;
    hash_init(&hs);
    *first_bad = ix->nblocks;
    while (b < ix->nblocks) {
        ssize_t got = search_stream_read(&in, buf, STREAM_CHUNK);
        if (got <= 0) {
            r = got < 0 ? (int)got : 0;
            *first_bad = b; /* shorter than the index */
            break;
        }
        size_t used = 0;
        while (used < (size_t)got && b < ix->nblocks) {
            const struct search_index_block *x = &ix->blocks[b];
            uint64_t want = x->off + x->len - at;
            size_t take = (size_t)got - used < want ? (size_t)got - used : (size_t)want;
            hash_update(&hs, buf + used, take);
            used += take, at += take;
            if (at == x->off + x->len) {
                if (hash_final(&hs) != x->hash) {
                    *first_bad = b;
                    goto done;
                }
                hash_init(&hs);
                b++;
            }
        }
    }
done:
    search_stream_close(&in);
    free(buf);
    return r;
}

int search_index_check(const char *path, const struct search_index *ix, uint32_t *first_bad)
{
    uint32_t bad;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = fstat(fd, &st) < 0 ? -errno : hash_blocks(fd, ix, &bad);
    close(fd);
    if (r < 0)
        return r;
    if (first_bad)
        *first_bad = bad;
    if (bad < ix->nblocks)
        return SEARCH_INDEX_STALE;
    return same_stat(&st, ix) ? SEARCH_INDEX_FIT : SEARCH_INDEX_GROWN;
}

/* The fit for reading: the stat data first, the hashes only when they differ. */
static int fit_of(int fd, const struct search_index *ix)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (same_stat(&st, ix))
        return SEARCH_INDEX_FIT;
    if (ix->zst || (uint64_t)st.st_size < ix->covered)
        return SEARCH_INDEX_STALE; /* a .zst does not grow; a shorter file was cut */
    uint32_t bad;
    int r = hash_blocks(fd, ix, &bad);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    return r < 0 ? r : bad < ix->nblocks ? SEARCH_INDEX_STALE : SEARCH_INDEX_GROWN;
}

/* ------------------------------------------------------------- matching */

static bool id_may(const uint8_t *bl, char kind, char name_kind, int64_t id, const char *name)
{
    if (name && bloom_has(bl, name_kind, name, strlen(name)))
        return true;
    return bloom_has_number(bl, kind, id) || (name && bloom_has(bl, '!', "", 0));
}

static bool text_may(const struct search_index_block *b, const struct search_query *q, char kind,
                     const char *v)
{
    return !v || !q->exact || bloom_has(b->bloom, kind, v, strlen(v));
}

bool search_index_block_may_match(const struct search_index_block *b, const struct search_query *q)
{
    if (b->nevents == 0 || !search_query_may_match_time(q, b->tmin, b->tmax))
        return false;
    const uint8_t *bl = b->bloom;
    if (q->event_id != SEARCH_UNSET && !bloom_has_number(bl, 'i', q->event_id))
        return false;
    if (q->nnodes) {
        unsigned i = 0;
        while (i < q->nnodes && !bloom_has(bl, 'n', q->nodes[i], strlen(q->nodes[i])))
            i++;
        if (i == q->nnodes)
            return false;
    }
    if (q->ntypes) {
        unsigned i = 0;
        for (; i < q->ntypes; i++) {
            unsigned bit = type_bit(q->types[i]);
            if (b->types[bit / 8] & (1u << (bit % 8)))
                break;
        }
        if (i == q->ntypes)
            return false;
    }
    if (q->uid_all) {
        if (!id_may(bl, 'u', 'U', q->uid, q->uid_name) &&
            !id_may(bl, 'e', 'E', q->euid, q->euid_name) &&
            !id_may(bl, 'a', 'A', q->auid, q->auid_name))
            return false;
    } else if ((q->uid != SEARCH_UNSET && !id_may(bl, 'u', 'U', q->uid, q->uid_name)) ||
               (q->euid != SEARCH_UNSET && !id_may(bl, 'e', 'E', q->euid, q->euid_name)) ||
               (q->auid != SEARCH_UNSET && !id_may(bl, 'a', 'A', q->auid, q->auid_name))) {
        return false;
    }
    if ((q->pid != SEARCH_UNSET && !bloom_has_number(bl, 'p', q->pid)) ||
        (q->ppid != SEARCH_UNSET && !bloom_has_number(bl, 'P', q->ppid)) ||
        (q->session != SEARCH_UNSET && !bloom_has_number(bl, 'S', q->session)) ||
        (q->syscall != SEARCH_UNSET && !bloom_has_number(bl, 's', q->syscall)))
        return false;
    if ((q->success == 1 && !(b->flags & SEARCH_INDEX_SUCCESS_YES)) ||
        (q->success == 0 && !(b->flags & SEARCH_INDEX_SUCCESS_NO)))
        return false;
    if (q->key && !(b->flags & SEARCH_INDEX_KEYS_FULL) &&
        !list_has_part(b->keys, b->keys_len, q->key, q->exact))
        return false;
    if (q->exe && !(b->flags & SEARCH_INDEX_EXES_FULL) &&
        !list_has_part(b->exes, b->exes_len, q->exe, q->exact))
        return false;
    if (q->file && q->exact && !bloom_has(bl, 'f', q->file, strlen(q->file)) &&
        !bloom_has(bl, 'c', q->file, strlen(q->file)))
        return false;
    return text_may(b, q, 't', q->terminal) && text_may(b, q, 'h', q->host);
}

/* -------------------------------------------------------------- reading */

/* Marks the blocks to read: those that may match (and, when the file grew,
 * those with events open where the index ends); a block end crossed by more
 * events than it keeps cannot be cut, so both sides are read. */
static uint8_t *wanted_blocks(const struct search_index *ix, const struct search_query *q,
                              bool grown)
{
    uint8_t *want = calloc(ix->nblocks, 1);
    if (!want)
        return NULL;
    for (uint32_t i = 0; i < ix->nblocks; i++)
        want[i] = search_index_block_may_match(&ix->blocks[i], q) ||
                  (grown && (ix->blocks[i].flags & SEARCH_INDEX_OPEN_AT_END));
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 0; i + 1 < ix->nblocks; i++)
            if (want[i] != want[i + 1] && (ix->blocks[i].flags & SEARCH_INDEX_CARRY_FULL))
                want[i] = want[i + 1] = 1, changed = true;
    }
    return want;
}

void search_drop_free(struct search_drop *d)
{
    free(d->v);
    memset(d, 0, sizeof(*d));
}

static int compare_key(const void *a, const void *b)
{
    const struct search_index_key *x = a, *y = b;
    if (x->sec != y->sec)
        return x->sec < y->sec ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    if (x->msec != y->msec)
        return x->msec < y->msec ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

bool search_drop_has(const struct search_drop *d, const struct audit_event *ev)
{
    if (!d || d->n == 0)
        return false;
    struct search_index_key k = {ev->sec, node_hash(ev->node, ev->node_len), ev->msec, ev->serial};
    return bsearch(&k, d->v, d->n, sizeof(k), compare_key) != NULL;
}

/* The events crossing the end of block b come in part when one side of it
 * is skipped. */
static int drop_carry(struct search_drop *d, const struct search_index_block *b)
{
    if (d->n + b->ncarry > d->cap) {
        size_t cap = d->cap * 2 + b->ncarry + 16;
        struct search_index_key *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        d->v = v, d->cap = cap;
    }
    memcpy(d->v + d->n, b->carry, b->ncarry * sizeof(*b->carry));
    d->n += b->ncarry;
    return 0;
}

/* The decompressed chunk at hand: bytes [lo, hi) of the stream. */
struct cursor {
    uint8_t *buf;
    uint64_t lo, hi;
};

/* Feeds [from, to) of the stream (to = UINT64_MAX: its end) into the reader;
 * ranges come in increasing order, and what lies between them is dropped. */
static int feed_range(struct search_stream *in, struct cursor *c, uint64_t from, uint64_t to,
                      struct audit_reader *reader)
{
    if (!in->zst)
        return search_source_read_range(in->fd, from, to == UINT64_MAX ? 0 : to, reader);
    for (;;) {
        uint64_t a = c->lo > from ? c->lo : from, z = c->hi < to ? c->hi : to;
        if (a < z) {
            int r = audit_reader_feed(reader, (const char *)c->buf + (a - c->lo), (size_t)(z - a));
            if (r < 0)
                return r;
        }
        if (c->hi >= to)
            return 0;
        ssize_t got = search_stream_read(in, c->buf, STREAM_CHUNK);
        if (got <= 0)
            return got < 0 ? (int)got : 0;
        c->lo = c->hi;
        c->hi += (uint64_t)got;
    }
}

static int feed_indexed(int fd, const struct search_index *ix, const struct search_query *q,
                        bool grown, struct audit_reader *reader, struct search_index_stats *st,
                        struct search_drop *drop)
{
    uint8_t *want = wanted_blocks(ix, q, grown);
    uint8_t *buf = ix->zst ? malloc(STREAM_CHUNK) : NULL;
    struct search_stream in;
    int r = want && (buf || !ix->zst) ? search_stream_open(&in, fd, ix->zst) : -ENOMEM;
    if (r < 0) {
        free(want);
        free(buf);
        return r;
    }
    struct cursor cur = {buf, 0, 0};
    for (uint32_t i = 0; r == 0 && i + 1 < ix->nblocks; i++)
        if (want[i] != want[i + 1])
            r = drop_carry(drop, &ix->blocks[i]);
    if (r == 0 && drop->n)
        qsort(drop->v, drop->n, sizeof(*drop->v), compare_key);
    for (uint32_t i = 0; r == 0 && i < ix->nblocks;) {
        uint32_t k = i;
        while (k < ix->nblocks && want[k] == want[i])
            k++;
        uint64_t from = ix->blocks[i].off, to = ix->blocks[k - 1].off + ix->blocks[k - 1].len;
        st->blocks += k - i;
        if (want[i]) {
            st->blocks_scanned += k - i;
            r = feed_range(&in, &cur, from, to, reader);
        } else {
            st->blocks_skipped += k - i;
            st->bytes_skipped += to - from;
        }
        i = k;
    }
    if (r == 0) /* what was appended after the index, or a last line without newline */
        r = feed_range(&in, &cur, ix->covered, UINT64_MAX, reader);
    search_stream_close(&in);
    free(want);
    free(buf);
    return r;
}

int search_index_feed(const char *path, const struct search_query *q, struct audit_reader *reader,
                      struct search_index_stats *st, struct search_drop *drop)
{
    struct search_index ix;
    int have = search_index_load(path, &ix);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (have == 0)
            search_index_free(&ix);
        return -errno;
    }
    int fit = have == 0 ? fit_of(fd, &ix) : have;
    int r = audit_reader_begin(reader, path);
    if (r == 0 && (fit == SEARCH_INDEX_FIT || fit == SEARCH_INDEX_GROWN)) {
        st->files_indexed++;
        st->files_grown += fit == SEARCH_INDEX_GROWN;
        r = feed_indexed(fd, &ix, q, fit == SEARCH_INDEX_GROWN, reader, st, drop);
    } else if (r == 0) {
        if (have == 0 || (have != -ENOENT && have != -ENOMEM))
            st->files_stale++; /* stale, doctored, cut or of another version */
        else
            st->files_plain++;
        struct search_source src = {(char *)path, NULL, 0};
        close(fd);
        fd = -1;
        if (have == 0)
            search_index_free(&ix);
        return search_source_read(&src, reader);
    }
    if (r == 0)
        r = audit_reader_finish(reader);
    if (fd >= 0)
        close(fd);
    if (have == 0)
        search_index_free(&ix);
    return r;
}

/* ---------------------------------------------------------- store hooks */

/* Removes .lwidx.<ino> files whose inode is no longer in the directory. */
static void prune_at(int dir_fd)
{
    int fd = dup(dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t n = 0, cap = 0, ni = 0, capi = 0;
    uint64_t *inos = NULL;
    char **idx = NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strncmp(e->d_name, SEARCH_INDEX_PREFIX, strlen(SEARCH_INDEX_PREFIX))) {
            if (ni == capi) {
                char **v = realloc(idx, (capi = capi ? capi * 2 : 16) * sizeof(*v));
                if (!v)
                    break;
                idx = v;
            }
            if ((idx[ni] = strdup(e->d_name)))
                ni++;
        } else {
            if (n == cap) {
                uint64_t *v = realloc(inos, (cap = cap ? cap * 2 : 64) * sizeof(*v));
                if (!v)
                    break;
                inos = v;
            }
            inos[n++] = (uint64_t)e->d_ino;
        }
    }
    closedir(d);
    for (size_t i = 0; i < ni; i++) {
        uint64_t ino = strtoull(idx[i] + strlen(SEARCH_INDEX_PREFIX), NULL, 10);
        size_t k = 0;
        while (k < n && inos[k] != ino)
            k++;
        if (k == n && !strstr(idx[i], ".tmp"))
            unlinkat(dir_fd, idx[i], 0);
        free(idx[i]);
    }
    free(idx);
    free(inos);
}

int search_index_store_rotated(int dir_fd, const char *name)
{
    if (strncmp(name, "audit.log", 9))
        return 0; /* only audit logs have an index */
    struct search_index ix;
    int r = build_at(dir_fd, name, &ix);
    if (r == 0) {
        r = write_at(dir_fd, &ix);
        search_index_free(&ix);
    }
    prune_at(dir_fd);
    return r;
}

int search_index_store_compressed(int dir_fd, uint64_t plain_ino, const char *zst_name)
{
    char old[64];
    struct stat st;
    struct search_index ix;
    if (strncmp(zst_name, "audit.log", 9))
        return 0;
    snprintf(old, sizeof(old), SEARCH_INDEX_PREFIX "%llu", (unsigned long long)plain_ino);
    int fd = openat(dir_fd, old, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? search_index_store_rotated(dir_fd, zst_name) : -errno;
    int r = load_fd(fd, &ix);
    close(fd);
    if (r == 0 && fstatat(dir_fd, zst_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        r = -errno;
    if (r == 0) { /* the same bytes, decompressed: only the binding changes */
        ix.zst = true;
        ix.ino = (uint64_t)st.st_ino;
        ix.disk_size = (uint64_t)st.st_size;
        ix.mtime_ns = ns_of(st.st_mtim);
        ix.ctime_ns = ns_of(st.st_ctim);
        r = write_at(dir_fd, &ix);
        search_index_free(&ix);
    }
    unlinkat(dir_fd, old, 0);
    return r;
}
