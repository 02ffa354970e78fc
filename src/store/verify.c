/*
 * verify: the verification algorithm of docs/formats.md, "Sealing". For
 * one directory at a time it groups files into families (an active name,
 * its rotated .K and .K.zst, their sidecars .<name>.seal) and checks per
 * family: every sidecar record parses and carries a good tag under k_E
 * (derived from k_0), belongs to this file (path) at its place in the
 * family (seq + number constant), links to the record before; every file's
 * lines re-hash to each seal's head at each seal's line and byte count;
 * each file's chain links to the final seal of the file before, or to an
 * expiry record of it in .expired.seal; after the last seal only an active
 * file may hold lines (the unsealed tail). Across everything read, a chain
 * whose last seal promised another (idle > 0) before the newest seal seen
 * is flagged: its tail was cut with its sidecar rolled back.
 * It never writes, and reads .zst files through zstd. A search index a
 * search would use for a file is rebuilt and compared (check_index).
 */
#include "store/verify.h"
#include "search/index.h"
#include "store/store.h"

#include "base/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>
#include <zstd.h>

#define SIDECAR_MAX ((size_t)256 << 20) /* bytes of one sidecar read */
#define CHUNK       ((size_t)1 << 20)
#define DEPTH_MAX   16
#define MEMBERS_MAX 1024 /* numbers per family: num_logs is at most 999 */

/* Declared in store_int.h, which the verifier does not include. */
int store_name_classify(const char *name, unsigned *num, bool *zst, bool *tmp);

struct promise {
    size_t result; /* index of the result the verdict goes to */
    uint64_t time, idle;
};

struct verify_run {
    struct verify_opts o;
    struct seal_keyring ring;
    bool keyed;
    struct verify_result *res;
    size_t nres, cap;
    struct promise *prom;
    size_t nprom, pcap;
    uint64_t newest, files, bytes, max_epoch;
    char *chunk;
    /* for the store manifest: every good seal's tag, each family's top seq */
    unsigned char (*tags)[SEAL_HASH_BYTES];
    size_t ntags, tcap;
    struct seqmark *marks;
    size_t nmarks, mcap;
};

struct seqmark {
    uint64_t hash, seq;
    bool expired; /* from an expiry record: file seq was deleted by retention */
};

/* One number of a family: the file (plain and/or .zst) and its sidecar. */
struct member {
    unsigned num;
    bool plain, zst, sidecar;
    struct seal_record *recs;
    size_t nrecs;
    bool bad;   /* its sidecar is already reported tampered */
    bool moved; /* its sidecar is still under the number before (a rotation cut short) */
};

struct dirctx {
    int fd;
    const char *shown; /* the directory as shown in results */
    const char *rel;   /* below the store root ("" at the root, "web1/"), NULL unknown */
    struct seal_record *expired;
    size_t nexpired;
    const char *only; /* report only this name (a file given alone) */
};

const char *verify_status_name(enum verify_status s)
{
    static const char *const names[] = {"ok", "unsealed_tail", "tampered", "error"};
    return (unsigned)s <= VERIFY_ERROR ? names[s] : "?";
}

static struct verify_result *result_add(struct verify_run *v, const char *dir, const char *name)
{
    if (v->nres == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        struct verify_result *r = realloc(v->res, cap * sizeof(*r));
        if (!r)
            return NULL;
        v->res = r;
        v->cap = cap;
    }
    struct verify_result *r = &v->res[v->nres++];
    memset(r, 0, sizeof(*r));
    snprintf(r->file, sizeof(r->file), "%s%s%s", dir, *dir && name[0] ? "/" : "", name);
    return r;
}

static void set(struct verify_result *r, enum verify_status st, uint64_t line, uint64_t off,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set(struct verify_result *r, enum verify_status st, uint64_t line, uint64_t off,
                const char *fmt, ...)
{
    if (r->status == VERIFY_TAMPERED || r->status == VERIFY_ERROR)
        return; /* the first problem stands */
    r->status = st;
    r->line = line;
    r->offset = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof(r->what), fmt, ap);
    va_end(ap);
}

/* ---- what the manifest is checked against ---- */

static uint64_t path_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* A good record seen: its tag, and its family's file seq. */
static void seen(struct verify_run *v, const struct seal_record *r, const unsigned char *tag,
                 bool expired)
{
    if (v->ntags == v->tcap) {
        size_t cap = v->tcap ? 2 * v->tcap : 256;
        void *p = realloc(v->tags, cap * sizeof(*v->tags));
        if (!p)
            return;
        v->tags = p, v->tcap = cap;
    }
    memcpy(v->tags[v->ntags++], tag, SEAL_HASH_BYTES);
    if (v->nmarks == v->mcap) {
        size_t cap = v->mcap ? 2 * v->mcap : 256;
        struct seqmark *p = realloc(v->marks, cap * sizeof(*p));
        if (!p)
            return;
        v->marks = p, v->mcap = cap;
    }
    v->marks[v->nmarks++] = (struct seqmark){path_hash(r->file, r->file_len), r->seq, expired};
}

/* ---- reading a file, plain or zstd ---- */

struct src {
    int fd;
    ZSTD_DCtx *z;
    char *in;
    ZSTD_inBuffer zin;
    bool eof;
    bool frame_end; /* the last step of the decoder ended a frame */
};

static ssize_t src_read(struct src *s, char *out, size_t cap)
{
    if (!s->z) {
        ssize_t n;
        while ((n = read(s->fd, out, cap)) < 0 && errno == EINTR)
            ;
        return n < 0 ? -errno : n;
    }
    ZSTD_outBuffer zo = {out, cap, 0};
    while (zo.pos == 0) {
        if (s->zin.pos == s->zin.size) {
            if (s->eof)
                return 0;
            ssize_t n = read(s->fd, s->in, ZSTD_DStreamInSize());
            if (n < 0)
                return -errno;
            s->eof = n == 0;
            s->zin = (ZSTD_inBuffer){s->in, (size_t)n, 0};
        }
        size_t in_at = s->zin.pos;
        size_t r = ZSTD_decompressStream(s->z, &zo, &s->zin);
        if (ZSTD_isError(r))
            return -EBADMSG;
        /* Past a frame's end the decoder asks for the next frame's header
         * (r > 0) even when none follows: only a step that moved data
         * tells whether the stream ended inside a frame. */
        if (s->zin.pos > in_at || zo.pos > 0)
            s->frame_end = r == 0;
        if (s->eof && zo.pos == 0)
            return s->frame_end ? 0 : -EBADMSG; /* else a frame cut short */
    }
    return (ssize_t)zo.pos;
}

/* ---- sidecars ---- */

static int read_all(int dir_fd, const char *name, struct buf *b, size_t max)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char tmp[65536];
    ssize_t n;
    int r = 0;
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        if (b->len + (size_t)n > max || (r = buf_append(b, tmp, (size_t)n)) < 0) {
            r = r ? r : -EFBIG;
            break;
        }
    if (n < 0)
        r = -errno;
    close(fd);
    return r;
}

/* Parses and authenticates every line. *bad_line: 1-based line of the
 * first bad one (0 none), *why says what. A torn last line (no '\n': a
 * crash during its write) is left out. */
static int parse_sidecar(struct verify_run *v, const struct buf *b, struct seal_record **out,
                         size_t *n, size_t *bad_line, const char **why)
{
    size_t cap = 0, k = 0, lineno = 0;
    struct seal_record *recs = NULL;
    *bad_line = 0;
    for (const char *p = b->data ? b->data : "", *end = p + b->len, *nl; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (!nl)
            break; /* torn */
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            struct seal_record *r = realloc(recs, cap * sizeof(*r));
            if (!r) {
                free(recs);
                return -ENOMEM;
            }
            recs = r;
        }
        struct seal_record *r = &recs[k];
        struct seal_key key;
        if (seal_record_parse(p, (size_t)(nl - p), r) < 0) {
            bool v1 = (size_t)(nl - p) > 11 &&
                      (!memcmp(p, "seal v1 ", 8) || !memcmp(p, "expired v1 ", 11));
            *why = v1 ? "a version 1 record (per-line chain, an older logward): this verify reads "
                        "version 2"
                      : "malformed record";
        } else if (v->keyed && seal_keyring_get(&v->ring, r->epoch, &key) < 0) {
            *why = "epoch before the verification key's";
        } else if (v->keyed && !seal_record_check(r, p, &key)) {
            *why = "bad tag (record forged or edited)";
        } else {
            if (r->time > v->newest)
                v->newest = r->time;
            if (r->epoch > v->max_epoch)
                v->max_epoch = r->epoch;
            k++;
            continue;
        }
        *bad_line = lineno;
        break;
    }
    *out = recs;
    *n = k;
    return 0;
}

/* ---- a file's lines against its seals ---- */

struct check {
    const struct seal_record *recs;
    size_t n, i;
    struct seal_chain c;                      /* up to the last seal's bytes */
    uint64_t seg_line, seg_off;               /* first line and offset after the last good seal */
    uint64_t tail_lines, tail_bytes, partial; /* after the last seal */
    char last;                                /* the last byte fed to the chain */
    bool failed;
};

/* At a seal's byte count (several seals may share one): lines and head
 * must match, and the segment must end a line. */
static void at_seals(struct check *k, struct verify_result *r)
{
    while (!k->failed && k->i < k->n && k->c.bytes == k->recs[k->i].bytes) {
        const struct seal_record *s = &k->recs[k->i];
        unsigned char h[SEAL_HASH_BYTES];
        seal_chain_peek(&k->c, h);
        if (k->c.lines == s->lines && (s->bytes == 0 || k->last == '\n') &&
            !memcmp(h, s->head, SEAL_HASH_BYTES)) {
            seal_chain_commit(&k->c, h);
            k->i++;
            k->seg_line = s->lines + 1;
            k->seg_off = s->bytes;
            continue;
        }
        k->failed = true;
        set(r, VERIFY_TAMPERED, k->seg_line, k->seg_off,
            "lines %llu..%llu do not match seal %zu (epoch %llu: %llu lines, %llu bytes): "
            "edited, inserted, deleted or reordered",
            (unsigned long long)k->seg_line, (unsigned long long)s->lines, k->i + 1,
            (unsigned long long)s->epoch, (unsigned long long)s->lines,
            (unsigned long long)s->bytes);
    }
}

/* A chunk of the file: hashed up to each seal's byte count in one call per
 * segment; after the last seal only counted. */
static void feed_chunk(struct check *k, struct verify_result *r, const char *p, size_t n)
{
    while (n > 0 && !k->failed) {
        if (k->i == k->n) {
            const char *end = p + n, *q = p, *nl = NULL;
            for (; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; nl = q++)
                k->tail_lines++;
            k->tail_bytes += n;
            k->partial = nl ? (size_t)(end - nl - 1) : k->partial + n;
            return;
        }
        uint64_t need = k->recs[k->i].bytes - k->c.bytes;
        size_t take = need < n ? (size_t)need : n;
        if (take) {
            seal_chain_feed(&k->c, p, take);
            k->last = p[take - 1];
        }
        p += take;
        n -= take;
        at_seals(k, r);
    }
}

static void check_end(struct check *k, struct verify_result *r, bool active)
{
    if (k->failed)
        return;
    if (k->i < k->n) {
        const struct seal_record *s = &k->recs[k->i];
        set(r, VERIFY_TAMPERED, k->seg_line, k->seg_off,
            "the file ends at line %llu (byte %llu) but seal %zu covers %llu lines, %llu bytes: "
            "truncated or lines deleted",
            (unsigned long long)k->c.lines, (unsigned long long)k->c.bytes, k->i + 1,
            (unsigned long long)s->lines, (unsigned long long)s->bytes);
        return;
    }
    if (k->tail_bytes == 0)
        return;
    if (active)
        set(r, VERIFY_TAIL, k->seg_line, k->seg_off,
            "%llu line(s)%s after the last seal: not sealed yet (or written at a crash)",
            (unsigned long long)k->tail_lines, k->partial ? " and a partial line" : "");
    else
        set(r, VERIFY_TAMPERED, k->seg_line, k->seg_off,
            "%llu line(s)%s after the final seal of a rotated file: appended",
            (unsigned long long)k->tail_lines, k->partial ? " and a partial line" : "");
}

/* A plain file of MAP_MIN bytes or more is hashed from its mapping, not
 * copied into a buffer first (a third of the time at 1 GB/s). A file cut
 * while it is mapped would raise SIGBUS: caught here for the duration, and
 * reported. The bytes past the size seen at the start (an active file
 * growing) are then read as usual. */
#define MAP_MIN ((off_t)1 << 18)
static sigjmp_buf map_jmp;

static void map_bus(int sig)
{
    (void)sig;
    siglongjmp(map_jmp, 1);
}

static int map_file(struct verify_run *v, int fd, struct check *k, struct verify_result *r)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < MAP_MIN)
        return 0;
    size_t size = (size_t)st.st_size;
    char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        return 0; /* read() will do */
    madvise(p, size, MADV_SEQUENTIAL);
    struct sigaction sa = {.sa_handler = map_bus}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    volatile size_t done = 0;
    int e = 0;
    if (sigsetjmp(map_jmp, 1) == 0) {
        while (done < size && !k->failed) {
            size_t n = size - done < CHUNK ? size - done : CHUNK;
            feed_chunk(k, r, p + done, n);
            done += n;
            v->bytes += n;
            if (v->o.progress)
                v->o.progress(v->o.progress_arg, v->files, v->bytes);
        }
    } else {
        e = -EFAULT;
    }
    sigaction(SIGBUS, &old, NULL);
    munmap(p, size);
    if (e == 0 && lseek(fd, (off_t)size, SEEK_SET) < 0)
        e = -errno;
    return e;
}

static int check_file(struct verify_run *v, int dir_fd, const char *name, bool zst,
                      const struct member *m, const unsigned char h0[SEAL_HASH_BYTES],
                      struct verify_result *r)
{
    struct src s = {.fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (s.fd < 0) {
        set(r, VERIFY_ERROR, 0, 0, "cannot open: %s", strerror(errno));
        return -errno;
    }
    if (zst && (!(s.z = ZSTD_createDCtx()) || !(s.in = malloc(ZSTD_DStreamInSize())))) {
        ZSTD_freeDCtx(s.z);
        close(s.fd);
        return -ENOMEM;
    }
    struct check k = {.recs = m->recs, .n = m->nrecs, .seg_line = 1};
    seal_chain_start(&k.c, h0, 0, 0);
    at_seals(&k, r); /* seals of an empty file */
    ssize_t n;
    int e = zst ? 0 : map_file(v, s.fd, &k, r);
    if (e < 0) {
        set(r, VERIFY_ERROR, k.c.lines + 1, k.c.bytes, "%s",
            e == -EFAULT ? "the file shrank while it was read (cut meanwhile?)" : strerror(-e));
        k.failed = true;
    }
    while (!k.failed && (n = src_read(&s, v->chunk, CHUNK)) != 0) {
        if (n == -EBADMSG) { /* zstd: the file itself is not what was written */
            set(r, VERIFY_TAMPERED, k.c.lines + 1, k.c.bytes,
                "compressed data corrupt or cut short (zstd)");
            e = (int)n;
            break;
        }
        if (n < 0) {
            set(r, VERIFY_ERROR, k.c.lines + 1, k.c.bytes, "read error: %s", strerror((int)-n));
            e = (int)n;
            break;
        }
        v->bytes += (uint64_t)n;
        feed_chunk(&k, r, v->chunk, (size_t)n);
    }
    if (e == 0)
        check_end(&k, r, m->num == 0);
    r->lines = k.c.lines + k.tail_lines;
    r->bytes = k.c.bytes + k.tail_bytes;
    r->seals = k.i;
    ZSTD_freeDCtx(s.z);
    free(s.in);
    close(s.fd);
    return e;
}

/* ---- the search index of a file (src/search/index.h) ---- */

static bool block_same(const struct search_index_block *a, const struct search_index_block *b)
{
    return a->off == b->off && a->len == b->len && a->hash == b->hash && a->tmin == b->tmin &&
           a->tmax == b->tmax && a->back == b->back && a->fwd == b->fwd && a->flags == b->flags &&
           a->nevents == b->nevents && !memcmp(a->types, b->types, sizeof(a->types)) &&
           !memcmp(a->bloom, b->bloom, sizeof(a->bloom)) && a->keys_len == b->keys_len &&
           a->exes_len == b->exes_len && a->keys_len <= SEARCH_INDEX_LIST &&
           a->exes_len <= SEARCH_INDEX_LIST && !memcmp(a->keys, b->keys, a->keys_len) &&
           !memcmp(a->exes, b->exes, a->exes_len) && a->ncarry == b->ncarry &&
           a->ncarry <= SEARCH_INDEX_CARRY &&
           !memcmp(a->carry, b->carry, a->ncarry * sizeof(a->carry[0]));
}

/* A search index that logward search would use for this file (its blocks
 * hash as the file's: FIT, or GROWN for a file appended to since) must be
 * the index of this file: rebuilt and compared block by block, so that a
 * doctored summary (a bloom, a time range, a type bitmap) cannot make a
 * search skip the block that holds a record. An index search would refuse
 * (damaged, stale) hides nothing and is left alone. */
static void check_index(const struct dirctx *d, const char *name, struct verify_result *r)
{
    char path[VERIFY_NAME_MAX + NAME_MAX + 2];
    snprintf(path, sizeof(path), "%s%s%s", d->shown, *d->shown ? "/" : "", name);
    struct search_index ix = {0}, fresh = {0};
    if (search_index_load(path, &ix) < 0)
        return;
    uint32_t bad = 0;
    int fit = search_index_check(path, &ix, &bad), e = 0;
    if ((fit == SEARCH_INDEX_FIT || fit == SEARCH_INDEX_GROWN) &&
        (e = search_index_build(path, &fresh)) == 0) {
        uint32_t i = 0;
        for (; i < ix.nblocks; i++) {
            const struct search_index_block *b = &ix.blocks[i];
            if (fit == SEARCH_INDEX_GROWN &&
                (b->fwd + 1 >= ix.nblocks || (b->flags & SEARCH_INDEX_OPEN_AT_END)))
                continue; /* may reach into the bytes added since */
            if (i >= fresh.nblocks || !block_same(b, &fresh.blocks[i]))
                break;
        }
        if (i < ix.nblocks || (fit == SEARCH_INDEX_FIT &&
                               (fresh.nblocks != ix.nblocks || fresh.covered != ix.covered)))
            set(r, VERIFY_TAMPERED, 0, i < ix.nblocks ? ix.blocks[i].off : ix.covered,
                "its search index (%s%llu) does not describe it from block %u (byte %llu): "
                "doctored, searches would miss records",
                SEARCH_INDEX_PREFIX, (unsigned long long)ix.ino, i,
                (unsigned long long)(i < ix.nblocks ? ix.blocks[i].off : ix.covered));
    } else if (e < 0) {
        set(r, VERIFY_ERROR, 0, 0, "rebuilding its search index to compare: %s", strerror(-e));
    }
    search_index_free(&ix);
    search_index_free(&fresh);
}

/* ---- a family ---- */

static bool path_ok(const struct dirctx *d, const char *leaf, const struct seal_record *rec)
{
    size_t ll = strlen(leaf);
    if (d->rel) {
        size_t rl = strlen(d->rel);
        return rec->file_len == rl + ll && !memcmp(rec->file, d->rel, rl) &&
               !memcmp(rec->file + rl, leaf, ll);
    }
    /* store root unknown: the last component, and the directory's name */
    if (rec->file_len < ll || memcmp(rec->file + rec->file_len - ll, leaf, ll) ||
        (rec->file_len > ll && rec->file[rec->file_len - ll - 1] != '/'))
        return false;
    if (rec->file_len == ll)
        return true;
    const char *base = strrchr(d->shown, '/');
    base = base ? base + 1 : d->shown;
    size_t bl = strlen(base), dl = rec->file_len - ll - 1;
    const char *ds = rec->file;
    for (size_t i = dl; i > 0; i--)
        if (rec->file[i - 1] == '/') {
            ds = rec->file + i;
            break;
        }
    return (size_t)(rec->file + dl - ds) == bl && !memcmp(ds, base, bl);
}

/* Checks the records of one sidecar among themselves; 0 or the 1-based
 * index of the first bad one and *why. */
static const unsigned char zero_hash[SEAL_HASH_BYTES];

static size_t records_check(const struct dirctx *d, const char *leaf, const struct member *m,
                            const char **why)
{
    for (size_t i = 0; i < m->nrecs; i++) {
        const struct seal_record *r = &m->recs[i], *p = i ? &m->recs[i - 1] : NULL;
        if (r->kind != SEAL_REC_SEAL)
            *why = "not a seal record";
        else if (!path_ok(d, leaf, r))
            *why = "sealed for another file (moved or replaced)";
        else if (p && r->seq != p->seq)
            *why = "sequence number changes within one file";
        else if (p && (r->epoch < p->epoch || r->lines < p->lines || r->bytes < p->bytes))
            *why = "goes backwards (epoch or counts)"; /* time may: clocks are stepped */
        else if (p && memcmp(r->prev, p->tag, SEAL_HASH_BYTES))
            *why = "does not link to the record before it (records deleted or reordered)";
        else if (!p && r->seq == 0 && memcmp(r->prev, zero_hash, SEAL_HASH_BYTES))
            *why = "the first seal of the chain links to another: seals before it deleted";
        else
            continue;
        return i + 1;
    }
    return 0;
}

static const struct seal_record *expiry_of(const struct dirctx *d, const char *path, size_t n,
                                           uint64_t seq)
{
    for (size_t i = 0; i < d->nexpired; i++)
        if (d->expired[i].seq == seq && d->expired[i].file_len == n &&
            !memcmp(d->expired[i].file, path, n))
            return &d->expired[i];
    return NULL;
}

static void file_name(char *out, size_t cap, const char *leaf, const struct member *m, bool zst)
{
    if (m->num == 0)
        snprintf(out, cap, "%s", leaf);
    else
        snprintf(out, cap, "%s.%u%s", leaf, m->num, zst ? ".zst" : "");
}

static int load_member(struct verify_run *v, const struct dirctx *d, const char *leaf,
                       struct member *m, struct verify_result *r)
{
    char side[NAME_MAX + 16];
    unsigned num = m->moved ? m->num - 1 : m->num;
    if (num)
        snprintf(side, sizeof(side), ".%s.%u.seal", leaf, num);
    else
        snprintf(side, sizeof(side), ".%s.seal", leaf);
    struct buf b;
    buf_init(&b, SIDECAR_MAX);
    int e = read_all(d->fd, side, &b, SIDECAR_MAX);
    size_t bad = 0;
    const char *why = NULL;
    if (e == 0)
        e = parse_sidecar(v, &b, &m->recs, &m->nrecs, &bad, &why);
    buf_free(&b);
    if (e < 0) {
        set(r, VERIFY_ERROR, 0, 0, "%s: %s", side, strerror(-e));
        return e;
    }
    if (!bad && (bad = records_check(d, leaf, m, &why)) != 0)
        m->nrecs = bad - 1;
    if (bad) {
        m->bad = true;
        set(r, VERIFY_TAMPERED, 0, 0, "%s line %zu: %s", side, bad, why);
    }
    return 0;
}

static void family_links(struct verify_run *v, const struct dirctx *d, const char *leaf,
                         struct member *ms, size_t n, struct verify_result **rs)
{
    /* seq + num is one value for the whole family, except that a rotation
     * cut short (a crash between its renames, oldest first) leaves the
     * files above a missing number one higher than those below (the gap
     * then moves up one number per rotation); the links below check the
     * chain by seq and tag across such gaps */
    uint64_t base = 0;
    bool have = false;
    for (size_t i = 0; i < n; i++) {
        if (!ms[i].nrecs)
            continue;
        uint64_t b = ms[i].recs[0].seq + ms[i].num;
        if (!have) {
            base = b, have = true;
        } else if (b == base + 1 && i > 0 && ms[i].num > ms[i - 1].num + 1) {
            base = b;
        } else if (b != base && rs[i]) {
            set(rs[i], VERIFY_TAMPERED, 0, 0,
                "holds file %llu of its chain where file %llu belongs: files swapped or replaced",
                (unsigned long long)ms[i].recs[0].seq, (unsigned long long)(base - ms[i].num));
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct member *m = &ms[i];
        if (!m->nrecs || !rs[i] || m->recs[0].seq == 0)
            continue;
        const struct seal_record *first = &m->recs[0];
        const struct member *pred = i + 1 < n ? &ms[i + 1] : NULL; /* the next older file */
        if (pred && pred->nrecs && pred->recs[0].seq + 1 == first->seq) {
            if (memcmp(pred->recs[pred->nrecs - 1].tag, first->prev, SEAL_HASH_BYTES))
                set(rs[i], VERIFY_TAMPERED, 0, 0,
                    "does not continue the chain of %s.%u (a file replaced or reordered)", leaf,
                    pred->num);
            continue;
        }
        if (pred && pred->num != m->num + 1)
            pred = NULL;
        if (pred && (pred->plain || pred->zst))
            continue; /* the file before is unsealed: reported there */
        const struct seal_record *x = expiry_of(d, first->file, first->file_len, first->seq - 1);
        if (!x)
            set(rs[i], VERIFY_TAMPERED, 0, 0,
                "the file before it in the chain (file %llu) is missing: deleted, not expired",
                (unsigned long long)(first->seq - 1));
        else if (memcmp(x->prev, first->prev, SEAL_HASH_BYTES))
            set(rs[i], VERIFY_TAMPERED, 0, 0,
                "does not continue the chain of the expired file %llu", (unsigned long long)x->seq);
    }
    (void)v;
}

/* The expiry records of a family, in file order, are of files 0, 1, 2...
 * (retention deletes the oldest first); a retried deletion (a crash
 * between record and unlink) repeats the last one under a later tag. So a
 * record deleted, reordered or copied shows. */
static void family_expiry(const struct dirctx *d, struct member *ms, size_t n,
                          struct verify_result **rs)
{
    const struct seal_record *any = NULL;
    struct verify_result *r = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ms[i].nrecs && !any)
            any = &ms[i].recs[0];
        if (rs[i])
            r = rs[i]; /* the oldest file shown */
    }
    if (!any || !r)
        return;
    const struct seal_record *prev = NULL;
    uint64_t next = 0;
    for (size_t i = 0; i < d->nexpired; i++) {
        const struct seal_record *x = &d->expired[i];
        if (x->file_len != any->file_len || memcmp(x->file, any->file, x->file_len))
            continue;
        if (x->seq == next) {
            next++;
        } else if (!prev || x->seq != prev->seq || memcmp(x->prev, prev->prev, SEAL_HASH_BYTES) ||
                   !memcmp(x->tag, prev->tag, SEAL_HASH_BYTES)) {
            set(r, VERIFY_TAMPERED, 0, 0,
                "%s: the expiry record of file %llu comes where file %llu's belongs: a record "
                "deleted, copied or reordered",
                SEAL_EXPIRED, (unsigned long long)x->seq, (unsigned long long)next);
            return;
        }
        prev = x;
    }
}

/* The newest sealed file promises the next seal; the verdict waits for
 * verify_finish (newest seal seen). */
static void family_promise(struct verify_run *v, struct member *ms, size_t n,
                           struct verify_result **rs)
{
    for (size_t i = 0; i < n; i++) {
        if (!ms[i].nrecs)
            continue;
        const struct seal_record *last = &ms[i].recs[ms[i].nrecs - 1];
        size_t at = ms[0].num == 0 && rs[0] ? 0 : i; /* an unsealed active file inherits it */
        if (!rs[at] || last->idle == 0)
            return;
        if (v->nprom == v->pcap) {
            size_t cap = v->pcap ? 2 * v->pcap : 64;
            struct promise *p = realloc(v->prom, cap * sizeof(*p));
            if (!p)
                return;
            v->prom = p;
            v->pcap = cap;
        }
        v->prom[v->nprom++] = (struct promise){(size_t)(rs[at] - v->res), last->time, last->idle};
        return;
    }
}

static int verify_family(struct verify_run *v, const struct dirctx *d, const char *leaf,
                         struct member *ms, size_t n)
{
    struct verify_result *rs[MEMBERS_MAX + 1];
    size_t at[MEMBERS_MAX + 1];
    char name[NAME_MAX + 16], alt[NAME_MAX + 16];
    /* A rotation cut short between a file's rename and its sidecar's: the
     * sidecar of K-1 without its file, file K without a sidecar. It is the
     * file's (the next start moves it; its chain is checked all the same). */
    for (size_t i = 0; i + 1 < n; i++)
        if (ms[i].sidecar && !ms[i].plain && !ms[i].zst && !ms[i + 1].sidecar &&
            ms[i + 1].num == ms[i].num + 1 && (ms[i + 1].plain || ms[i + 1].zst)) {
            ms[i + 1].sidecar = ms[i + 1].moved = true;
            memmove(&ms[i], &ms[i + 1], (n - i - 1) * sizeof(*ms));
            n--;
        }
    for (size_t i = 0; i < n; i++) { /* one result per file; a lone sidecar gets one too */
        file_name(name, sizeof(name), leaf, &ms[i], ms[i].zst);
        file_name(alt, sizeof(alt), leaf, &ms[i], false);
        at[i] = SIZE_MAX;
        if (d->only && strcmp(d->only, name) && strcmp(d->only, alt))
            continue;
        if (!result_add(v, d->shown, name))
            return -ENOMEM;
        at[i] = v->nres - 1;
    }
    for (size_t i = 0; i < n; i++) /* no result is added from here on: pointers stay */
        rs[i] = at[i] == SIZE_MAX ? NULL : &v->res[at[i]];
    for (size_t i = 0; i < n; i++) {
        struct verify_result dummy = {0};
        struct verify_result *r = rs[i] ? rs[i] : &dummy;
        if (ms[i].sidecar)
            load_member(v, d, leaf, &ms[i], r);
        if (!ms[i].plain && !ms[i].zst) {
            const struct seal_record *x =
                ms[i].nrecs
                    ? expiry_of(d, ms[i].recs[0].file, ms[i].recs[0].file_len, ms[i].recs[0].seq)
                    : NULL;
            if (x)
                set(r, VERIFY_OK, 0, 0, "expired (%s); its sidecar remains", seal_why_name(x->why));
            else
                set(r, VERIFY_TAMPERED, 0, 0, "the file is gone but its seals remain: deleted");
            continue;
        }
        if (!ms[i].nrecs && ms[i].num > 0 && !ms[i].bad)
            set(r, VERIFY_TAMPERED, 0, 0, "a rotated file without seals (sidecar deleted?)");
        if (!rs[i])
            continue; /* a neighbour of the file asked for: its seals are enough */
        unsigned char h0[SEAL_HASH_BYTES] = {0};
        if (ms[i].nrecs && ms[i].recs[0].seq > 0)
            memcpy(h0, ms[i].recs[0].prev, SEAL_HASH_BYTES);
        for (int z = 0; z < 2; z++) {
            if (!(z ? ms[i].zst : ms[i].plain))
                continue;
            file_name(name, sizeof(name), leaf, &ms[i], z);
            check_file(v, d->fd, name, z, &ms[i], h0, r);
            check_index(d, name, r);
        }
        v->files++;
        if (v->o.progress)
            v->o.progress(v->o.progress_arg, v->files, v->bytes);
    }
    family_links(v, d, leaf, ms, n, rs);
    family_expiry(d, ms, n, rs);
    family_promise(v, ms, n, rs);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < ms[i].nrecs; j++)
            seen(v, &ms[i].recs[j], ms[i].recs[j].tag, false);
        free(ms[i].recs);
    }
    return 0;
}

/* ---- a directory ---- */

struct dent {
    char *leaf;
    struct member m;
};

static int dent_cmp(const void *a, const void *b)
{
    const struct dent *x = a, *y = b;
    int c = strcmp(x->leaf, y->leaf);
    return c ? c : (x->m.num > y->m.num) - (x->m.num < y->m.num);
}

/* Adds name (a file or a sidecar) to the list, merged by (leaf, num). */
static int dent_add(struct dent **list, size_t *n, size_t *cap, const char *name, bool sidecar)
{
    char base[NAME_MAX + 1];
    unsigned num;
    bool zst, tmp;
    size_t len = strlen(name);
    if (sidecar) {
        if (len < 7 || len - 6 >= sizeof(base))
            return 0;
        memcpy(base, name + 1, len - 6);
        base[len - 6] = '\0';
    } else {
        snprintf(base, sizeof(base), "%s", name);
    }
    int l = store_name_classify(base, &num, &zst, &tmp);
    if (l <= 0 || tmp || (sidecar && zst))
        return 0;
    base[l] = '\0';
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].m.num == num && !strcmp((*list)[i].leaf, base)) {
            struct member *m = &(*list)[i].m;
            m->sidecar |= sidecar, m->zst |= !sidecar && zst, m->plain |= !sidecar && !zst;
            return 0;
        }
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 32;
        struct dent *p = realloc(*list, c * sizeof(*p));
        if (!p)
            return -ENOMEM;
        *list = p, *cap = c;
    }
    char *leaf = strdup(base);
    if (!leaf)
        return -ENOMEM;
    (*list)[(*n)++] = (struct dent){
        leaf, {.num = num, .sidecar = sidecar, .zst = !sidecar && zst, .plain = !sidecar && !zst}};
    return 0;
}

static void load_expired(struct verify_run *v, struct dirctx *d)
{
    struct buf b;
    buf_init(&b, SIDECAR_MAX);
    size_t bad = 0;
    const char *why;
    if (read_all(d->fd, SEAL_EXPIRED, &b, SIDECAR_MAX) == 0 &&
        parse_sidecar(v, &b, &d->expired, &d->nexpired, &bad, &why) == 0 && bad) {
        struct verify_result *r = result_add(v, d->shown, SEAL_EXPIRED);
        if (r)
            set(r, VERIFY_TAMPERED, bad, 0, "line %zu: %s", bad, why);
    }
    for (size_t i = 0; i < d->nexpired; i++)
        if (d->expired[i].kind != SEAL_REC_EXPIRED)
            d->nexpired = i; /* a seal record in the expiry file: not trusted as one */
    for (size_t i = 0; i < d->nexpired; i++)
        seen(v, &d->expired[i], d->expired[i].prev, true); /* the expired file's final seal */
    buf_free(&b);
}

static int verify_dir(struct verify_run *v, struct dirctx *d, unsigned depth);

static int scan_dir(struct verify_run *v, struct dirctx *d, struct dent **list, size_t *n,
                    unsigned depth)
{
    int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    size_t cap = 0;
    int r = 0;
    for (struct dirent *de; r == 0 && (de = readdir(dir)) != NULL;) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        struct stat st;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || fstatat(d->fd, nm, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        if (S_ISREG(st.st_mode) && nm[0] == '.' && len > 6 && !strcmp(nm + len - 5, ".seal") &&
            strcmp(nm, SEAL_EXPIRED))
            r = dent_add(list, n, &cap, nm, true);
        else if (S_ISREG(st.st_mode) && nm[0] != '.')
            r = dent_add(list, n, &cap, nm, false);
        else if (S_ISDIR(st.st_mode) && nm[0] != '.' && !d->only && depth < DEPTH_MAX) {
            char shown[VERIFY_NAME_MAX], rel[VERIFY_NAME_MAX];
            struct dirctx sub = {.shown = shown, .rel = d->rel ? rel : NULL};
            snprintf(shown, sizeof(shown), "%s/%s", d->shown, nm);
            if (d->rel)
                snprintf(rel, sizeof(rel), "%s%s/", d->rel, nm);
            sub.fd = openat(d->fd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub.fd >= 0) {
                verify_dir(v, &sub, depth + 1);
                close(sub.fd);
            }
        }
    }
    closedir(dir);
    return r;
}

static int verify_dir(struct verify_run *v, struct dirctx *d, unsigned depth)
{
    struct dent *list = NULL;
    size_t n = 0;
    load_expired(v, d);
    int r = scan_dir(v, d, &list, &n, depth);
    if (n)
        qsort(list, n, sizeof(*list), dent_cmp);
    struct member ms[MEMBERS_MAX + 1];
    char only_leaf[NAME_MAX + 1] = "";
    unsigned num;
    bool zst, tmp;
    if (d->only) {
        snprintf(only_leaf, sizeof(only_leaf), "%s", d->only);
        int l = store_name_classify(only_leaf, &num, &zst, &tmp);
        only_leaf[l > 0 ? l : 0] = '\0';
    }
    for (size_t i = 0, j; r == 0 && i < n; i = j) {
        size_t k = 0;
        for (j = i; j < n && !strcmp(list[j].leaf, list[i].leaf); j++)
            if (k < MEMBERS_MAX)
                ms[k++] = list[j].m;
        if (!d->only || !strcmp(only_leaf, list[i].leaf))
            r = verify_family(v, d, list[i].leaf, ms, k);
    }
    for (size_t i = 0; i < n; i++)
        free(list[i].leaf);
    free(list);
    free(d->expired);
    d->expired = NULL;
    d->nexpired = 0;
    return r;
}

/* ---- the store manifest and the key file (docs/formats.md, "Store
 * manifest") ---- */

static int tag_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SEAL_HASH_BYTES);
}

static int mark_cmp(const void *a, const void *b)
{
    const struct seqmark *x = a, *y = b;
    return x->hash != y->hash ? (x->hash > y->hash) - (x->hash < y->hash)
                              : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The result of the file at path (below the root), found or added. */
static struct verify_result *result_for(struct verify_run *v, const struct dirctx *d,
                                        const char *path)
{
    const char *below = path + strlen(d->rel);
    char name[VERIFY_NAME_MAX];
    snprintf(name, sizeof(name), "%s%s%s", d->shown, *d->shown ? "/" : "", below);
    for (size_t i = 0; i < v->nres; i++)
        if (!strcmp(v->res[i].file, name))
            return &v->res[i];
    return result_add(v, d->shown, below);
}

/* The key file: its epoch (the collector's current one), checked against
 * k_0 when keyed. -1: no usable key file (a result says why). */
/* The key file and the manifest, read before any sidecar: on a store being
 * written, every seal the manifest names is then already in its sidecar
 * when that is read, and the manifest is at least as new as the key. */
struct root_snap {
    struct buf key, man;
    int key_e, man_e; /* 0 or the read error */
};

static void snap_read(const char *root, struct root_snap *rs)
{
    buf_init(&rs->key, 4096);
    buf_init(&rs->man, SIDECAR_MAX);
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rs->key_e = rfd < 0 ? -errno : read_all(rfd, SEAL_KEY_FILE, &rs->key, 4096);
    rs->man_e = rfd < 0 ? -errno : read_all(rfd, SEAL_MANIFEST, &rs->man, SIDECAR_MAX);
    if (rfd >= 0)
        close(rfd);
}

static void snap_free(struct root_snap *rs)
{
    if (rs->key.len)
        memset(rs->key.data, 0, rs->key.len);
    buf_free(&rs->key);
    buf_free(&rs->man);
}

static int64_t key_file_epoch(struct verify_run *v, const struct root_snap *rs,
                              const struct dirctx *d, bool any)
{
    const struct buf *bk = &rs->key;
    int e = rs->key_e;
    struct seal_key kf, want;
    int64_t out = -1;
    const char *why = NULL;
    if (e == -ENOENT)
        why = any ? "missing: the store's key file was deleted (the freshness of the seals "
                    "cannot be checked)"
                  : NULL;
    else if (e < 0)
        why = "unreadable";
    else if (seal_key_parse(bk->data, bk->len, SEAL_KEY_MAGIC, &kf) < 0)
        why = "not a logward key (edited or torn)";
    else if (v->keyed && kf.epoch > v->max_epoch + ((uint64_t)1 << 20))
        why = "its epoch is far beyond every seal's (edited)";
    else if (v->keyed && (seal_keyring_get(&v->ring, kf.epoch, &want) < 0 ||
                          memcmp(want.k, kf.k, SEAL_KEY_BYTES)))
        why = "not the key of its epoch under the verification key (replaced or edited)";
    else
        out = (int64_t)kf.epoch;
    if (why) {
        struct verify_result *r = result_add(v, d->shown, d->rel[0] ? "" : SEAL_KEY_FILE);
        if (r) {
            if (d->rel[0])
                snprintf(r->file, sizeof(r->file), "(store root)/%s", SEAL_KEY_FILE);
            set(r, e < 0 && e != -ENOENT ? VERIFY_ERROR : VERIFY_TAMPERED, 0, 0, "%s", why);
        }
    }
    seal_key_wipe(&kf);
    seal_key_wipe(&want);
    return out;
}

/* After a store (or a directory of it) was read: the manifest's epoch is
 * the key file's or the one before (it is written before each advance),
 * and every family it lists below d->rel still has the seal it names (or
 * a later file of its chain). */
static void manifest_check(struct verify_run *v, struct root_snap *rs, const struct dirctx *d)
{
    bool any = v->ntags > 0;
    int64_t kep = key_file_epoch(v, rs, d, any);
    struct buf b = rs->man; /* borrowed: freed by snap_free */
    int e = rs->man_e;
    char shown[64];
    snprintf(shown, sizeof(shown), "%s", d->rel[0] ? "(store root)/" SEAL_MANIFEST : SEAL_MANIFEST);
    struct verify_result tmp = {0}, *mr = &tmp;
    const char *why = NULL;
    struct seal_manifest m;
    size_t last = 0, nfam = 0;
    if (e == -ENOENT) {
        why = any ? "missing: the store manifest was deleted" : NULL;
    } else if (e < 0) {
        why = "unreadable";
    } else {
        if (b.len == 0 || b.data[b.len - 1] != '\n')
            why = "does not end with its closing line (cut or edited)";
        for (size_t i = 0; !why && i + 1 < b.len; i++)
            if (b.data[i] == '\n')
                last = i + 1, nfam++;
        struct seal_key k;
        unsigned char dig[SEAL_HASH_BYTES];
        if (!why) {
            SHA256((const unsigned char *)b.data, last, dig);
            if (seal_manifest_parse(b.data + last, b.len - last - 1, &m) < 0)
                why = "its closing line is malformed (edited)";
            else if (v->keyed && (seal_keyring_get(&v->ring, m.epoch, &k) < 0 ||
                                  !seal_manifest_check(&m, b.data + last, &k)))
                why = "bad tag on its closing line (forged or edited)";
            else if (memcmp(dig, m.digest, SEAL_HASH_BYTES) || m.families != nfam)
                why = "its family lines do not match its digest (edited)";
            else if (kep >= 0 && m.epoch + 1 < (uint64_t)kep)
                why = "older than the key file: rolled back (seals of later rounds may be "
                      "missing)";
        }
    }
    if (why && (mr = result_add(v, d->shown, d->rel[0] ? "" : SEAL_MANIFEST)) != NULL) {
        if (d->rel[0])
            snprintf(mr->file, sizeof(mr->file), "%s", shown);
        set(mr, e < 0 && e != -ENOENT ? VERIFY_ERROR : VERIFY_TAMPERED, 0, 0, "%s", why);
    }
    if (!why && e == 0) {
        if (v->ntags)
            qsort(v->tags, v->ntags, sizeof(*v->tags), tag_cmp);
        if (v->nmarks)
            qsort(v->marks, v->nmarks, sizeof(*v->marks), mark_cmp);
        size_t rl = strlen(d->rel);
        struct seal_record f;
        for (const char *p = b.data, *nl; p < b.data + last; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(b.data + last - p));
            if (seal_fam_parse(p, (size_t)(nl - p), &f) < 0) {
                if ((mr = result_add(v, d->shown, d->rel[0] ? "" : SEAL_MANIFEST)) != NULL)
                    set(mr, VERIFY_TAMPERED, 0, 0, "a malformed family line");
                break;
            }
            if (f.file_len < rl || memcmp(f.file, d->rel, rl))
                continue;
            if (v->ntags && bsearch(f.tag, v->tags, v->ntags, sizeof(*v->tags), tag_cmp))
                continue;
            struct seqmark key = {path_hash(f.file, f.file_len), UINT64_MAX, false}, *hi = NULL;
            size_t lo = 0, n = v->nmarks; /* the first mark above (hash, any seq) */
            while (n > 0) {
                size_t half = n / 2;
                if (mark_cmp(&v->marks[lo + half], &key) < 0)
                    lo += half + 1, n -= half + 1;
                else
                    n = half;
            }
            if (lo > 0 && v->marks[lo - 1].hash == key.hash)
                hi = &v->marks[lo - 1]; /* the highest seq of this family */
            if (hi && hi->seq > f.seq)
                continue;      /* a later file of its chain holds newer seals */
            bool gone = false; /* the file it names was expired since: its seals went with it */
            for (size_t at = lo; hi && !gone && at > 0 && v->marks[at - 1].hash == key.hash &&
                                 v->marks[at - 1].seq == f.seq;
                 at--)
                gone = v->marks[at - 1].expired;
            if (gone)
                continue;
            struct verify_result *r = result_for(v, d, f.file);
            if (!r)
                break;
            if (hi)
                set(r, VERIFY_TAMPERED, 0, 0,
                    "the store manifest (epoch %llu) names a newer seal of file %llu of this "
                    "chain than its sidecar holds: the tail was cut and the sidecar rolled back",
                    (unsigned long long)m.epoch, (unsigned long long)f.seq);
            else
                set(r, VERIFY_TAMPERED, 0, 0,
                    "listed in the store manifest (epoch %llu) but none of its seals is here: "
                    "deleted with its sidecars",
                    (unsigned long long)m.epoch);
        }
    }
}

/* The directory's path below the store root (the nearest parent holding
 * .logward-store), with a trailing '/', or false if none. */
static bool find_rel(const char *dir, char *rel, size_t cap, char root[PATH_MAX])
{
    char real[PATH_MAX], probe[PATH_MAX + 32];
    if (!realpath(dir, real))
        return false;
    size_t n = strlen(real);
    for (size_t cut = n;;) {
        snprintf(probe, sizeof(probe), "%.*s/%s", (int)cut, real, STORE_VERSION_FILE);
        if (access(probe, F_OK) == 0) {
            const char *below = real + cut + (cut < n);
            snprintf(root, PATH_MAX, "%.*s", (int)(cut ? cut : 1), real);
            snprintf(rel, cap, "%s%s", below, *below ? "/" : "");
            return true;
        }
        while (cut > 0 && real[cut - 1] != '/')
            cut--;
        if (cut <= 1)
            return false;
        cut--;
    }
}

int verify_path(struct verify_run *v, const char *path)
{
    struct stat st;
    char dir[VERIFY_NAME_MAX], rel[VERIFY_NAME_MAX];
    const char *only = NULL;
    if (stat(path, &st) < 0) {
        int e = -errno;
        struct verify_result *r = result_add(v, path, "");
        if (r)
            set(r, VERIFY_ERROR, 0, 0, "%s", strerror(-e));
        return e;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    if (!S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        only = slash ? path + (slash - dir) + 1 : path;
        if (slash)
            *slash = slash == dir ? (dir[1] = '\0', '/') : '\0';
        else
            snprintf(dir, sizeof(dir), ".");
    }
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = '\0';
    struct dirctx d = {.shown = only && !strchr(path, '/') ? "" : dir, .only = only};
    char root[PATH_MAX];
    d.rel = find_rel(dir, rel, sizeof(rel), root) ? rel : NULL;
    d.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.fd < 0) {
        int e = -errno;
        struct verify_result *r = result_add(v, path, "");
        if (r)
            set(r, VERIFY_ERROR, 0, 0, "%s", strerror(-e));
        return e;
    }
    struct root_snap rs;
    bool whole = d.rel && !only;
    if (whole)
        snap_read(root, &rs);
    int r = verify_dir(v, &d, 0);
    close(d.fd);
    if (r == 0 && whole)
        manifest_check(v, &rs, &d);
    if (whole)
        snap_free(&rs);
    return r;
}

void verify_finish(struct verify_run *v)
{
    for (size_t i = 0; i < v->nprom; i++) {
        const struct promise *p = &v->prom[i];
        if (v->newest > p->time + p->idle)
            set(&v->res[p->result], VERIFY_TAMPERED, 0, 0,
                "missing seals: the last seal (time %llu) promised another within %llu s, and "
                "the store has seals up to %llu: its tail was cut and its sidecar rolled back, "
                "or sealing stopped",
                (unsigned long long)p->time, (unsigned long long)p->idle,
                (unsigned long long)v->newest);
    }
    v->nprom = 0;
}

int verify_run_new(const struct verify_opts *o, struct verify_run **out)
{
    struct verify_run *v = calloc(1, sizeof(*v));
    if (!v || !(v->chunk = malloc(CHUNK))) {
        free(v);
        return -ENOMEM;
    }
    v->o = *o;
    if (o->k0) {
        seal_keyring_init(&v->ring, o->k0);
        v->keyed = true;
    }
    *out = v;
    return 0;
}

size_t verify_count(const struct verify_run *v)
{
    return v->nres;
}

const struct verify_result *verify_get(const struct verify_run *v, size_t i)
{
    return &v->res[i];
}

void verify_run_free(struct verify_run *v)
{
    if (!v)
        return;
    if (v->keyed)
        seal_keyring_free(&v->ring);
    free(v->chunk);
    free(v->res);
    free(v->prom);
    free(v->tags);
    free(v->marks);
    free(v);
}
