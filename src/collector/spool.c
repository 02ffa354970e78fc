/*
 * spool: the audit listener's write-ahead files (format in spool.h). Why a
 * file of its own: a managed audisp-remote record is acked before its event
 * is complete, so it must be durable somewhere other than audit.log, where
 * it would land out of its event. Appends are buffered and written once per
 * commit; read-back loads a file at a time and chains records by key so a
 * done mark covers exactly the records before it.
 */
#include "collector/spool.h"

#include "base/buf.h"
#include "wire/audit_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_PATH_MAX 4096
#define NONE           UINT32_MAX

struct spool {
    char dir[SPOOL_PATH_MAX];
    int dir_fd;
    int fd; /* current file, O_APPEND */
    bool sync, dirty;
    uint64_t gens[SPOOL_GENS_MAX];
    size_t ngens;  /* the last one is the current file */
    uint64_t size; /* of the current file, written bytes */
    struct buf out;
};

static int gen_path(const struct spool *sp, uint64_t gen, char *out, size_t cap)
{
    int n = snprintf(out, cap, "audit.%" PRIu64, gen);
    (void)sp;
    return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int mkdirs(const char *path)
{
    char tmp[SPOOL_PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return -errno;
            tmp[i] = c;
        }
    return 0;
}

/* Creates the file of gen with its first line; makes it the current one. */
static int open_current(struct spool *sp, uint64_t gen)
{
    char name[64];
    int r = gen_path(sp, gen, name, sizeof(name));
    if (r < 0)
        return r;
    int fd = openat(sp->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    static const char magic[] = SPOOL_MAGIC "\n";
    if (write(fd, magic, sizeof(magic) - 1) != (ssize_t)(sizeof(magic) - 1) ||
        (sp->sync && (fsync(fd) < 0 || fsync(sp->dir_fd) < 0))) {
        r = errno ? -errno : -EIO;
        close(fd);
        unlinkat(sp->dir_fd, name, 0);
        return r;
    }
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = fd;
    sp->size = sizeof(magic) - 1;
    return 0;
}

int spool_open(const char *dir, bool sync, struct spool **out)
{
    *out = NULL;
    if (strlen(dir) >= SPOOL_PATH_MAX)
        return -ENAMETOOLONG;
    int r = mkdirs(dir);
    if (r < 0)
        return r;
    struct spool *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    strcpy(sp->dir, dir);
    sp->fd = -1;
    sp->sync = sync;
    buf_init(&sp->out, SPOOL_WRITE_MAX + AUDIT_RECORD_MAX_LINE + SPOOL_KEY_MAX + 64);
    sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dir_fd < 0) {
        r = -errno;
        goto fail;
    }
    DIR *d = fdopendir(dup(sp->dir_fd));
    if (!d) {
        r = -errno;
        goto fail;
    }
    struct dirent *e;
    r = 0;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "audit.", 6) || !e->d_name[6])
            continue;
        errno = 0;
        unsigned long long g = strtoull(e->d_name + 6, &end, 10);
        if (*end || errno)
            continue;
        if (sp->ngens == SPOOL_GENS_MAX - 1) {
            r = -EMFILE; /* more files than ever kept: said by the caller */
            break;
        }
        sp->gens[sp->ngens++] = g;
    }
    closedir(d);
    if (r < 0)
        goto fail;
    qsort(sp->gens, sp->ngens, sizeof(sp->gens[0]), cmp_u64);
    uint64_t next = sp->ngens ? sp->gens[sp->ngens - 1] + 1 : 1;
    if ((r = open_current(sp, next)) < 0)
        goto fail;
    sp->gens[sp->ngens++] = next;
    *out = sp;
    return 0;
fail:
    spool_free(sp);
    return r;
}

void spool_free(struct spool *sp)
{
    if (!sp)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
    buf_free(&sp->out);
    free(sp);
}

const uint64_t *spool_gens(const struct spool *sp, size_t *n)
{
    *n = sp->ngens;
    return sp->gens;
}

uint64_t spool_current(const struct spool *sp)
{
    return sp->gens[sp->ngens - 1];
}

size_t spool_key(char *out, const char *node, size_t node_len, int64_t sec, uint32_t msec,
                 uint32_t serial)
{
    if (node_len > SPOOL_KEY_MAX - 48)
        node_len = SPOOL_KEY_MAX - 48; /* sanitized names are shorter */
    memcpy(out, node, node_len);
    int n = snprintf(out + node_len, SPOOL_KEY_MAX - node_len,
                     " %" PRId64 ".%03" PRIu32 ":%" PRIu32, sec, msec, serial);
    return node_len + (size_t)n;
}

uint64_t spool_key_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

int spool_put_record(struct spool *sp, const char *host, size_t host_len, const char *line,
                     size_t len)
{
    if (len > AUDIT_RECORD_MAX_LINE * 2 || host_len > SPOOL_KEY_MAX || memchr(line, '\n', len))
        return -E2BIG;
    if (sp->out.len > SPOOL_WRITE_MAX) {
        int r = spool_write(sp);
        if (r < 0)
            return r;
    }
    int r = buf_reserve(&sp->out, len + host_len + 32);
    if (r < 0)
        return r;
    char head[32];
    int n = snprintf(head, sizeof(head), "R %zu ", host_len);
    buf_put(&sp->out, head, (size_t)n);
    buf_put(&sp->out, host, host_len);
    buf_putc(&sp->out, ' ');
    buf_put(&sp->out, line, len);
    buf_putc(&sp->out, '\n');
    return 0;
}

int spool_put_done(struct spool *sp, const char *key, size_t len)
{
    if (sp->out.len > SPOOL_WRITE_MAX) {
        int r = spool_write(sp);
        if (r < 0)
            return r;
    }
    int r = buf_reserve(&sp->out, len + 3);
    if (r < 0)
        return r;
    buf_put(&sp->out, "D ", 2);
    buf_put(&sp->out, key, len);
    buf_putc(&sp->out, '\n');
    return 0;
}

int spool_write(struct spool *sp)
{
    size_t off = 0;
    while (off < sp->out.len) {
        ssize_t w = write(sp->fd, sp->out.data + off, sp->out.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int r = w < 0 ? -errno : -EIO;
            memmove(sp->out.data, sp->out.data + off, sp->out.len - off);
            sp->out.len -= off;
            sp->size += off;
            return r;
        }
        off += (size_t)w;
    }
    sp->size += off;
    sp->dirty |= off > 0;
    buf_reset(&sp->out);
    return 0;
}

int spool_sync(struct spool *sp)
{
    int r = spool_write(sp);
    if (r < 0)
        return r;
    if (sp->sync && sp->dirty && fdatasync(sp->fd) < 0)
        return -errno;
    sp->dirty = false;
    return 0;
}

uint64_t spool_size(const struct spool *sp)
{
    return sp->size + sp->out.len;
}

int spool_rotate(struct spool *sp)
{
    if (sp->ngens == SPOOL_GENS_MAX)
        return -EMFILE;
    int r = spool_sync(sp);
    if (r < 0)
        return r;
    uint64_t next = spool_current(sp) + 1;
    if ((r = open_current(sp, next)) < 0)
        return r;
    sp->gens[sp->ngens++] = next;
    return 0;
}

int spool_drop(struct spool *sp, uint64_t gen)
{
    for (size_t i = 0; i + 1 < sp->ngens; i++) {
        if (sp->gens[i] != gen)
            continue;
        char name[64];
        int r = gen_path(sp, gen, name, sizeof(name));
        if (r < 0)
            return r;
        if (unlinkat(sp->dir_fd, name, 0) < 0 && errno != ENOENT)
            return -errno;
        memmove(&sp->gens[i], &sp->gens[i + 1], (sp->ngens - i - 1) * sizeof(sp->gens[0]));
        sp->ngens--;
        return 0;
    }
    return -ENOENT;
}

int spool_truncate(struct spool *sp)
{
    int r = spool_write(sp);
    if (r < 0)
        return r;
    size_t head = strlen(SPOOL_MAGIC) + 1;
    if (sp->size == head)
        return 0;
    if (ftruncate(sp->fd, (off_t)head) < 0)
        return -errno;
    sp->size = head;
    sp->dirty = true; /* the next sync makes the cut durable with what follows */
    return 0;
}

/* ---- read-back ---- */

struct rec {
    uint32_t off, len;           /* the LINE */
    uint32_t host_off, host_len; /* the HOST */
    uint32_t prev;               /* the previous record with the same key, or NONE */
    bool done;
};

struct chain_map {
    uint64_t *keys;
    uint32_t *last; /* NONE: no record of the key since its last done mark */
    size_t mask;
};

static size_t map_slot(const struct chain_map *m, uint64_t k)
{
    size_t i = (size_t)k & m->mask;
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & m->mask;
    return i;
}

static int read_file(struct spool *sp, uint64_t gen, struct buf *b)
{
    char name[64];
    int r = gen_path(sp, gen, name, sizeof(name));
    if (r < 0)
        return r;
    int fd = openat(sp->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > SPOOL_FILE_MAX) {
        r = errno ? -errno : -EFBIG;
        close(fd);
        return r;
    }
    buf_reset(b);
    if ((r = buf_reserve(b, (size_t)st.st_size + 1)) < 0) {
        close(fd);
        return r;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, b->data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    b->len = got;
    return 0;
}

/* Parses "R HOSTLEN HOST LINE": the key of LINE into key. */
static bool parse_record(const char *p, size_t n, struct rec *rc, size_t base, char *key,
                         size_t *key_len)
{
    if (n < 4 || p[0] != 'R' || p[1] != ' ')
        return false;
    size_t i = 2, hl = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && hl <= SPOOL_KEY_MAX)
        hl = hl * 10 + (size_t)(p[i++] - '0');
    if (i == 2 || i >= n || p[i] != ' ' || hl > SPOOL_KEY_MAX || i + 1 + hl + 1 > n ||
        p[i + 1 + hl] != ' ')
        return false;
    rc->host_off = (uint32_t)(base + i + 1);
    rc->host_len = (uint32_t)hl;
    size_t lo = i + 1 + hl + 1;
    rc->off = (uint32_t)(base + lo);
    rc->len = (uint32_t)(n - lo);
    struct audit_header h;
    size_t err;
    if (audit_header_parse(p + lo, n - lo, &h, &err) < 0)
        return false;
    *key_len = spool_key(key, p + lo + h.node_off, h.node_len, h.sec, h.msec, h.serial);
    return true;
}

int spool_replay(struct spool *sp, spool_record_fn *fn, void *arg, struct spool_replay_stats *st)
{
    *st = (struct spool_replay_stats){0};
    size_t nold = sp->ngens - 1;
    if (nold == 0)
        return 0;
    /* Every old file at once: a done mark may cover records of older files. */
    struct buf text;
    buf_init(&text, (size_t)SPOOL_FILE_MAX * SPOOL_GENS_MAX);
    struct buf one;
    buf_init(&one, SPOOL_FILE_MAX + 1);
    uint64_t *file_of = NULL; /* generation per record */
    struct rec *recs = NULL;
    size_t nrecs = 0, cap = 0;
    struct chain_map m = {0};
    int r = 0;
    size_t file_start[SPOOL_GENS_MAX];
    for (size_t g = 0; g < nold && r == 0; g++) {
        file_start[g] = text.len;
        if ((r = read_file(sp, sp->gens[g], &one)) < 0)
            break;
        st->files++;
        size_t head = strlen(SPOOL_MAGIC);
        if (one.len < head + 1 || memcmp(one.data, SPOOL_MAGIC, head) || one.data[head] != '\n') {
            st->bad_lines += one.len > 0; /* empty: created, never written */
            continue;
        }
        if ((r = buf_append(&text, one.data, one.len)) < 0)
            break;
    }
    buf_free(&one);
    if (r < 0)
        goto out;
    /* Pass 1: records, chained by key; done marks settle their chain. */
    size_t want = 1024;
    while (want < text.len / 16) /* records are longer than 32 bytes: load <= 1/2 */
        want *= 2;
    m.mask = want - 1;
    m.keys = calloc(want, sizeof(*m.keys));
    m.last = calloc(want, sizeof(*m.last));
    if (!m.keys || !m.last) {
        r = -ENOMEM;
        goto out;
    }
    size_t used = 0, g = 0;
    for (size_t pos = 0; pos < text.len;) {
        while (g + 1 < nold && pos >= file_start[g + 1])
            g++;
        const char *p = text.data + pos;
        const char *nl = memchr(p, '\n', text.len - pos);
        size_t end_of_file = g + 1 < nold ? file_start[g + 1] : text.len;
        if (!nl || (size_t)(nl - text.data) >= end_of_file) {
            st->torn++; /* never acked: its write did not complete */
            pos = end_of_file;
            continue;
        }
        size_t n = (size_t)(nl - p);
        size_t here = pos;
        pos += n + 1;
        if (here == file_start[g])
            continue; /* the magic line */
        char key[SPOOL_KEY_MAX];
        size_t kl = 0;
        if (n > 2 && p[0] == 'D' && p[1] == ' ') {
            uint64_t k = spool_key_hash(p + 2, n - 2) | 1;
            size_t s = map_slot(&m, k);
            if (!m.keys[s])
                continue;
            st->done++;
            for (uint32_t i = m.last[s]; i != NONE; i = recs[i].prev)
                recs[i].done = true;
            m.last[s] = NONE;
            continue;
        }
        struct rec rc;
        if (!parse_record(p, n, &rc, here, key, &kl)) {
            st->bad_lines++;
            continue;
        }
        if (nrecs == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct rec *nr = realloc(recs, nc * sizeof(*nr));
            uint64_t *nf = nr ? realloc(file_of, nc * sizeof(*nf)) : NULL;
            if (nr)
                recs = nr;
            if (!nr || !nf) {
                r = -ENOMEM;
                goto out;
            }
            file_of = nf;
            cap = nc;
        }
        if ((used + 1) * 2 > m.mask + 1) {
            r = -E2BIG; /* cannot happen: the table is sized by the text */
            goto out;
        }
        uint64_t k = spool_key_hash(key, kl) | 1; /* 0 marks an empty slot */
        size_t s = map_slot(&m, k);
        if (!m.keys[s]) {
            m.keys[s] = k;
            m.last[s] = NONE;
            used++;
        }
        rc.prev = m.last[s];
        rc.done = false;
        m.last[s] = (uint32_t)nrecs;
        file_of[nrecs] = sp->gens[g];
        recs[nrecs++] = rc;
        st->records++;
    }
    /* Pass 2: what no done mark covers, in order. */
    for (size_t i = 0; i < nrecs && r == 0; i++) {
        if (recs[i].done)
            continue;
        st->replayed++;
        r = fn(arg, file_of[i], text.data + recs[i].host_off, recs[i].host_len,
               text.data + recs[i].off, recs[i].len);
    }
out:
    free(m.keys);
    free(m.last);
    free(recs);
    free(file_of);
    buf_free(&text);
    return r;
}
