/*
 * follow: complete lines of one log file, across rename rotation,
 * copytruncate, delete and re-create, and across the agent's restarts (the
 * position names the file by device and inode and a fingerprint of its
 * first bytes, never by name). The file descriptor of a renamed file is
 * read to its end before the name is opened again, so nothing written
 * before the rotation is lost; siblings found on restore are finished
 * oldest first. It does no polling and no waiting: the input calls
 * follow_next() when inotify or its timer says something may have changed.
 * Reading only; nothing here writes or decompresses a file.
 */
#include "agent/follow.h"

#include "agent/input.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The read buffer holds at most one maximal line, its LF and a chunk. */
#define FOLLOW_BUF_MAX ((size_t)INPUT_LINE_MAX + 1 + FOLLOW_READ_CHUNK)

struct follow {
    char path[FOLLOW_PATH_MAX];
    struct input_stats *st;
    int oflags; /* O_NOFOLLOW for files a wildcard matched, or 0 */
    int fd;     /* -1: waiting for path */
    uint64_t dev, ino;
    uint64_t off; /* file offset of buf[start] */
    char *buf;    /* read but not yet returned: buf[start..len) */
    size_t start, len, cap;
    char *tail;    /* the unterminated end of a file just left */
    bool skipping; /* inside an over-long line */
    bool waiting;  /* path missing: counted in gone once */
    bool draining; /* path moved on: one more read of the old fd */
    bool bad_logged;
    uint8_t head_len;
    uint32_t head_hash;
    char **chain; /* rotated siblings still to read, oldest first */
    size_t chain_n, chain_i;
    bool in_chain;   /* fd is a sibling: its end is its end */
    bool idle;       /* the last read found the end: check for truncation first */
    bool short_read; /* the last read got less than asked: at the end, no read(0) */
};

static uint32_t follow_fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void follow_pos_put(const struct follow_pos *p, unsigned char out[FOLLOW_POS_BYTES])
{
    put64(out, p->dev);
    put64(out + 8, p->ino);
    put64(out + 16, p->off);
    for (int i = 0; i < 4; i++)
        out[24 + i] = (unsigned char)(p->head_hash >> (8 * i));
    out[28] = p->head_len;
    out[29] = p->skipping ? 1 : 0;
}

int follow_pos_get(const unsigned char in[FOLLOW_POS_BYTES], struct follow_pos *p)
{
    if (in[28] > FOLLOW_HEAD_MAX || in[29] > 1)
        return -EINVAL;
    p->dev = get64(in);
    p->ino = get64(in + 8);
    p->off = get64(in + 16);
    p->head_hash = 0;
    for (int i = 3; i >= 0; i--)
        p->head_hash = p->head_hash << 8 | in[24 + i];
    p->head_len = in[28];
    p->skipping = in[29] != 0;
    return 0;
}

/* Whether fd's first head_len bytes hash to head_hash. */
static bool follow_head_matches(int fd, const struct follow_pos *p)
{
    unsigned char b[FOLLOW_HEAD_MAX];
    if (p->head_len == 0)
        return true;
    ssize_t n = pread(fd, b, p->head_len, 0);
    return n == p->head_len && follow_fnv(b, (size_t)n) == p->head_hash;
}

static bool follow_is_file(const char *path, const struct follow_pos *p)
{
    struct stat s;
    if (stat(path, &s) != 0 || (uint64_t)s.st_dev != p->dev || (uint64_t)s.st_ino != p->ino)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool same = follow_head_matches(fd, p);
    close(fd);
    return same;
}

static bool follow_compressed(const char *name)
{
    static const char *const ext[] = {".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z", ".lzma"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcmp(name + n - e, ext[i]))
            return true;
    }
    return false;
}

static void follow_chain_free(char **chain, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(chain[i]);
    free(chain);
}

static int follow_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * PATH's readable rotated siblings, oldest first: PATH-SUFFIX (dateext,
 * sorted by name) then PATH.N from the highest N down to 1. Returns the
 * count (chain set, possibly NULL) or -ENOMEM.
 */
static int follow_siblings(const char *path, char ***chain)
{
    char pat[FOLLOW_PATH_MAX + 8], name[FOLLOW_PATH_MAX + 24];
    char **v = calloc(FOLLOW_SIBLINGS_MAX * 2, sizeof *v);
    size_t n = 0;
    if (!v)
        return -ENOMEM;
    snprintf(pat, sizeof pat, "%s-[0-9]*", path);
    glob_t g;
    if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
        qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, follow_cmp);
        size_t first = g.gl_pathc > FOLLOW_SIBLINGS_MAX ? g.gl_pathc - FOLLOW_SIBLINGS_MAX : 0;
        for (size_t i = first; i < g.gl_pathc; i++)
            if (!follow_compressed(g.gl_pathv[i]) && (v[n] = strdup(g.gl_pathv[i])))
                n++;
        globfree(&g);
    }
    for (int k = FOLLOW_SIBLINGS_MAX; k >= 1; k--) {
        struct stat s;
        snprintf(name, sizeof name, "%s.%d", path, k);
        if (stat(name, &s) == 0 && S_ISREG(s.st_mode) && (v[n] = strdup(name)))
            n++;
    }
    *chain = v;
    return (int)n;
}

/* Index in chain of saved's file, or -1. */
static int follow_find(char **chain, int n, const struct follow_pos *saved)
{
    for (int i = n - 1; i >= 0; i--)
        if (follow_is_file(chain[i], saved))
            return i;
    return -1;
}

bool follow_owns(const char *path, const struct follow_pos *saved)
{
    if (!saved || saved->ino == 0)
        return false;
    if (follow_is_file(path, saved))
        return true;
    char **chain;
    int n = follow_siblings(path, &chain);
    bool found = n > 0 && follow_find(chain, n, saved) >= 0;
    if (n >= 0)
        follow_chain_free(chain, (size_t)n);
    return found;
}

static void follow_reset(struct follow *f)
{
    f->idle = f->short_read = false;
    f->start = f->len = 0;
    f->off = 0;
    f->skipping = f->draining = false;
    f->head_len = 0;
    f->head_hash = 0;
}

/* Opens name as the file being read, at off (checked against its size).
 * Returns 1, 0 when it is not there, or a negative errno. */
static int follow_open_at(struct follow *f, const char *name, const struct follow_pos *at)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC | f->oflags);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat s;
    if (fstat(fd, &s) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (f->fd >= 0)
        close(f->fd);
    f->fd = fd;
    f->dev = (uint64_t)s.st_dev;
    f->ino = (uint64_t)s.st_ino;
    follow_reset(f);
    if (at && at->off <= (uint64_t)s.st_size && follow_head_matches(fd, at)) {
        if (lseek(fd, (off_t)at->off, SEEK_SET) < 0)
            return -errno;
        f->off = at->off;
        f->skipping = at->skipping;
        f->head_len = at->head_len;
        f->head_hash = at->head_hash;
    } else if (at) {
        f->st->rotations++; /* truncated in place while we were away: from 0 */
    }
    f->waiting = false;
    return 1;
}

int follow_open(const char *path, const struct follow_pos *saved, bool nofollow,
                struct input_stats *st, struct follow **out)
{
    if (strlen(path) >= FOLLOW_PATH_MAX)
        return -ENAMETOOLONG;
    struct follow *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    strcpy(f->path, path);
    f->st = st;
    f->oflags = nofollow ? O_NOFOLLOW : 0;
    f->fd = -1;
    f->cap = FOLLOW_READ_CHUNK * 2;
    if (!(f->buf = malloc(f->cap))) {
        free(f);
        return -ENOMEM;
    }
    *out = f;
    if (!saved || saved->ino == 0)
        return 0;
    struct stat s;
    if (stat(path, &s) == 0 && (uint64_t)s.st_dev == saved->dev &&
        (uint64_t)s.st_ino == saved->ino) {
        follow_open_at(f, path, saved); /* fails: the next read opens path at 0 */
        return 0;
    }
    char **chain;
    int n = follow_siblings(path, &chain);
    if (n < 0)
        return 0;
    int i = follow_find(chain, n, saved);
    if (i >= 0 && follow_open_at(f, chain[i], saved) == 1) {
        f->chain = chain;
        f->chain_n = (size_t)n;
        f->chain_i = (size_t)i + 1;
        f->in_chain = true;
        return 0;
    }
    follow_chain_free(chain, (size_t)n);
    fprintf(stderr,
            "logward-agent: %s: the file of the saved position is gone (deleted or "
            "compressed); reading from the start of the current file\n",
            path);
    st->gone++;
    return 0;
}

void follow_free(struct follow *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->chain)
        follow_chain_free(f->chain, f->chain_n);
    free(f->buf);
    free(f->tail);
    free(f);
}

/* Opens the next file after the one just finished: the next sibling of the
 * chain, or path. Returns 1 when a file is open, 0 when path is missing. */
static int follow_advance(struct follow *f)
{
    while (f->in_chain && f->chain_i < f->chain_n) {
        int r = follow_open_at(f, f->chain[f->chain_i++], NULL);
        if (r > 0)
            return r; /* an unreadable sibling is skipped */
    }
    if (f->in_chain) {
        follow_chain_free(f->chain, f->chain_n);
        f->chain = NULL;
        f->chain_n = f->chain_i = 0;
        f->in_chain = false;
    }
    int r = follow_open_at(f, f->path, NULL);
    if (r <= 0) { /* the finished file is closed; the next call tries path again */
        if (f->fd >= 0)
            close(f->fd);
        f->fd = -1;
        f->ino = f->dev = 0;
        follow_reset(f);
        if (r == 0 && !f->waiting)
            f->st->gone++;
        f->waiting = true;
    }
    return r;
}

/* Leaves the current file (deleted: counted as gone, else as a rotation):
 * keeps its unterminated tail for the caller. */
static size_t follow_leave(struct follow *f, bool deleted)
{
    size_t n = f->skipping ? 0 : f->len - f->start;
    if (n) {
        char *t = realloc(f->tail, n);
        if (!t)
            n = 0;
        else
            memcpy(f->tail = t, f->buf + f->start, n);
    }
    if (deleted)
        f->st->gone++;
    else
        f->st->rotations++;
    /* A missing path right after is not counted again: after a delete it
     * was counted, after a rename the new file is on its way. */
    f->waiting = true;
    return n;
}

/* Truncated in place (copytruncate): shorter than what was read, or other
 * first bytes (truncated and written past the old size since). */
static bool follow_truncated(struct follow *f, const struct stat *fs)
{
    struct follow_pos head = {.head_len = f->head_len, .head_hash = f->head_hash};
    return (uint64_t)fs->st_size < f->off + (f->len - f->start) ||
           !follow_head_matches(f->fd, &head);
}

static int follow_restart(struct follow *f)
{
    f->st->rotations++;
    follow_reset(f);
    return lseek(f->fd, 0, SEEK_SET) < 0 ? -errno : 1;
}

/*
 * At the end of the current file: decides whether the file is finished.
 * Returns 1 to read again, 0 when there is nothing more now, 2 with a tail
 * (*tail_len bytes in f->tail) of the file just left, or a negative errno.
 */
static int follow_at_eof(struct follow *f, size_t *tail_len)
{
    struct stat ps, fs;
    if (!f->in_chain) {
        bool here = stat(f->path, &ps) == 0 && (uint64_t)ps.st_dev == f->dev &&
                    (uint64_t)ps.st_ino == f->ino;
        if (here) { /* truncation is looked for at the next wake, before reading */
            f->idle = true;
            return 0;
        }
        if (!f->draining) { /* written before the rename, after our read */
            f->draining = true;
            return 1;
        }
    }
    if (fstat(f->fd, &fs) != 0)
        return -errno;
    *tail_len = follow_leave(f, fs.st_nlink == 0);
    int r = follow_advance(f);
    if (r < 0)
        return r;
    return *tail_len ? 2 : r;
}

/* Room for one more chunk, keeping buf[start..len). */
static int follow_make_room(struct follow *f)
{
    if (f->start) {
        memmove(f->buf, f->buf + f->start, f->len - f->start);
        f->len -= f->start;
        f->start = 0;
    }
    if (f->len == 0 && f->cap > FOLLOW_READ_CHUNK * 2) { /* a long line is gone: give back */
        char *b = realloc(f->buf, FOLLOW_READ_CHUNK * 2);
        if (b) {
            f->buf = b;
            f->cap = FOLLOW_READ_CHUNK * 2;
        }
    }
    if (f->cap - f->len >= FOLLOW_READ_CHUNK)
        return 0;
    size_t cap = f->cap * 2 > FOLLOW_BUF_MAX ? FOLLOW_BUF_MAX : f->cap * 2;
    char *b = realloc(f->buf, cap);
    if (!b)
        return -ENOMEM;
    f->buf = b;
    f->cap = cap;
    return 0;
}

/* A complete line in the buffer: 1 with it, 0 when none. Counts and drops
 * what an over-long line has filled the buffer with. */
static int follow_scan(struct follow *f, const char **line, size_t *len)
{
    for (;;) {
        char *p = f->buf + f->start;
        size_t avail = f->len - f->start;
        char *lf = avail ? memchr(p, '\n', avail) : NULL;
        if (!lf) {
            if (f->skipping || avail > INPUT_LINE_MAX) {
                if (!f->skipping && !f->bad_logged)
                    fprintf(stderr,
                            "logward-agent: %s: a line longer than %u bytes skipped "
                            "(counted in bad; logged once)\n",
                            f->path, INPUT_LINE_MAX);
                f->bad_logged = true;
                if (!f->skipping)
                    f->st->bad++;
                f->skipping = true;
                f->off += avail;
                f->start = f->len;
            }
            return 0;
        }
        size_t n = (size_t)(lf - p);
        f->start += n + 1;
        f->off += n + 1;
        if (f->skipping || n > INPUT_LINE_MAX) {
            if (!f->skipping)
                f->st->bad++;
            f->skipping = false;
            continue;
        }
        if (n == 0)
            continue;
        *line = p;
        *len = n;
        return 1;
    }
}

int follow_next(struct follow *f, const char **line, size_t *len)
{
    for (;;) {
        if (f->fd < 0) {
            int r = follow_advance(f);
            if (r <= 0)
                return r;
        }
        if (follow_scan(f, line, len))
            return 1;
        int r;
        if (f->short_read) { /* a regular file reads short only at its end */
            f->short_read = false;
            goto at_end;
        }
        if ((r = follow_make_room(f)) < 0)
            return r;
        if (f->idle) { /* first read after a wait */
            struct stat fs;
            f->idle = false;
            if (!f->in_chain && fstat(f->fd, &fs) == 0 && follow_truncated(f, &fs) &&
                (r = follow_restart(f)) < 0)
                return r;
        }
        size_t want = f->cap - f->len;
        ssize_t n = read(f->fd, f->buf + f->len, want);
        if (n > 0) {
            f->len += (size_t)n;
            f->short_read = (size_t)n < want;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
    at_end:;
        size_t tail = 0;
        r = follow_at_eof(f, &tail);
        if (r == 2) {
            *line = f->tail;
            *len = tail;
            return 1;
        }
        if (r <= 0)
            return r;
    }
}

void follow_position(struct follow *f, struct follow_pos *out)
{
    if (f->fd >= 0 && f->head_len < FOLLOW_HEAD_MAX) {
        unsigned char b[FOLLOW_HEAD_MAX];
        ssize_t n = pread(f->fd, b, FOLLOW_HEAD_MAX, 0);
        if (n > f->head_len) {
            f->head_len = (uint8_t)n;
            f->head_hash = follow_fnv(b, (size_t)n);
        }
    }
    out->dev = f->fd >= 0 ? f->dev : 0;
    out->ino = f->fd >= 0 ? f->ino : 0;
    out->off = f->fd >= 0 ? f->off : 0;
    out->head_len = f->fd >= 0 ? f->head_len : 0;
    out->head_hash = f->fd >= 0 ? f->head_hash : 0;
    out->skipping = f->fd >= 0 && f->skipping;
}

const char *follow_path(const struct follow *f)
{
    return f->path;
}

uint64_t follow_inode(const struct follow *f)
{
    return f->fd >= 0 ? f->ino : 0;
}

bool follow_waiting(const struct follow *f)
{
    return f->fd < 0 && f->waiting;
}
