/*
 * append_at: direct writes whose place is known before they happen, for
 * the agent protocol's exactly-once promise (docs/formats.md, "What the
 * collector keeps per agent stream"). store_append_direct writes a run of
 * lines to one file at once, after flushing that file's buffer so the
 * offset is exact, and calls the caller back with the place (file inode,
 * offset, length, checksum) in between, so the caller can record an intent
 * first. No seal round, rotation or other write happens between the
 * callback and the write (one thread owns the store). store_place_resolve
 * answers, after a crash, whether such a write landed, and cuts the partial
 * tail of one that did not. It knows nothing of agents or sequences.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESOLVE_CHUNK (64 * 1024)

uint64_t store_bytes_sum(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64: finds torn and missing bytes */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

size_t store_direct_max(const struct store *s)
{
    size_t m = s->cfg.batch_bytes;
    if (s->cfg.max_file_bytes && s->cfg.num_logs >= 2 && s->cfg.max_file_bytes < m)
        m = (size_t)s->cfg.max_file_bytes;
    return m;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (const char *end = p + n; p < end && (p = memchr(p, '\n', (size_t)(end - p))); p++)
        k++;
    return k;
}

/* After a failed write: nothing of the run may land later (its rest leaves
 * the buffer), and the bytes that did land are cut, or, where the file
 * cannot be cut (sealing's sync thread may have read them into a chain
 * already; append-only), ended with a LF so the next line stays whole. */
static void undo_partial(struct store *s, struct store_entry *e, uint64_t offset)
{
    s->pending_bytes -= e->pending.len;
    e->pending.len = 0;
    if (e->fd < 0 || e->size <= offset)
        return;
    if (!e->seal && ftruncate(e->fd, (off_t)offset) == 0) {
        e->size = offset;
    } else if (write(e->fd, "\n", 1) == 1) {
        e->size++;
        store_seal_wrote(s, e, "\n", 1, NULL, 0, 1);
    }
    if (e->family)
        store_index_set_active(&s->idx, e->family, e->size);
}

static int write_run(struct store *s, struct store_entry *e, const char *lines, size_t len)
{
    if (len <= s->cfg.batch_bytes) { /* through the buffer: the chain sees each line */
        int r = buf_reserve(&e->pending, len);
        if (r < 0)
            return r;
        buf_put(&e->pending, lines, len);
        s->pending_bytes += len;
        return store_entry_write(s, e, NULL, 0);
    }
    return store_entry_write(s, e, lines, len - 1); /* one long line; the LF is added */
}

int store_append_direct(struct store *s, const char *host, size_t host_len, const char *program,
                        size_t program_len, const char *lines, size_t len,
                        store_before_write_fn *before, void *arg)
{
    int r;
    if (len == 0 || lines[len - 1] != '\n')
        return -EINVAL;
    size_t nlines = count_lines(lines, len);
    if (nlines > 1 && len > store_direct_max(s))
        return -E2BIG;
    if (s->space.on && (r = store_space_gate(s, len)) < 0)
        return r;
    struct store_entry *e = store_entry_get(s, host, host_len, program, program_len);
    if (!e)
        return -ENOMEM;
    if ((r = store_entry_open(s, e)) < 0) {
        s->stats.write_errors++;
        return r;
    }
    uint64_t now = e->size + e->pending.len;
    if (s->cfg.max_file_bytes && s->cfg.num_logs >= 2 && now > 0 &&
        now + len > s->cfg.max_file_bytes && (r = store_entry_rotate(s, e)) < 0)
        return r;
    /* the file's own buffer first, so the offset is exact; then an open fd */
    if ((r = store_entry_write(s, e, NULL, 0)) < 0 || (r = store_entry_open(s, e)) < 0)
        return r;
    struct stat st;
    if (fstat(e->fd, &st) < 0)
        return -errno;
    struct store_place at = {.dev = (uint64_t)st.st_dev,
                             .ino = (uint64_t)st.st_ino,
                             .offset = e->size,
                             .len = len,
                             .sum = store_bytes_sum(lines, len)};
    if (e->path_len >= sizeof(at.path))
        return -ENAMETOOLONG;
    memcpy(at.path, e->path, e->path_len + 1);
    at.path_len = e->path_len;
    if ((r = before(arg, &at)) < 0)
        return r; /* nothing written */
    store_entry_dirty(s, e);
    if ((r = write_run(s, e, lines, len)) < 0) {
        undo_partial(s, e, at.offset);
        return r;
    }
    s->stats.lines += nlines;
    s->stats.bytes += len;
    if (s->cfg.fsync == STORE_FSYNC_EVERY) {
        if (fdatasync(e->fd) < 0) {
            s->stats.write_errors++;
            return -errno; /* written, not known durable: the caller acks nothing */
        }
        e->unsynced = false;
        s->stats.syncs++;
    }
    return 0;
}

/* Compares the file's bytes at at->offset with at->sum. */
static int bytes_match(int fd, const struct store_place *at)
{
    char *buf = malloc(RESOLVE_CHUNK);
    if (!buf)
        return -ENOMEM;
    uint64_t h = 0xcbf29ce484222325ull, done = 0;
    int r = 1;
    while (done < at->len) {
        size_t want = at->len - done < RESOLVE_CHUNK ? (size_t)(at->len - done) : RESOLVE_CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)(at->offset + done));
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
        done += (uint64_t)n;
    }
    free(buf);
    return r < 0 ? r : r && h == at->sum;
}

/* The file at `at` was renamed by a rotation after the write: look at .1. */
static int resolve_rotated(int dir, const char *leaf, const struct store_place *at)
{
    char name[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
    struct stat st;
    if (store_rotated_name(name, sizeof(name), leaf, 1, false) < 0)
        return 1;
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 1; /* compressed or gone: rotation follows only complete writes */
    int r = 1;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == at->ino && (uint64_t)st.st_dev == at->dev)
        r = bytes_match(fd, at);
    close(fd);
    return r;
}

/* Cuts the file back to offset; where it cannot be cut (append-only), ends
 * the torn line with a LF so the lines after it stay whole. */
static enum store_place_fix cut_tail(int dir, const char *leaf, int fd, uint64_t offset)
{
    if (ftruncate(fd, (off_t)offset) == 0)
        return STORE_PLACE_CUT;
    int afd = openat(dir, leaf, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    enum store_place_fix fix = STORE_PLACE_UNTOUCHED;
    if (afd >= 0 && write(afd, "\n", 1) == 1 && fdatasync(afd) == 0)
        fix = STORE_PLACE_ENDED;
    if (afd >= 0)
        close(afd);
    return fix;
}

int store_place_resolve(const char *root, const struct store_place *at, bool may_cut,
                        enum store_place_fix *fix)
{
    *fix = STORE_PLACE_UNTOUCHED;
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return -errno;
    struct store_config cfg;
    store_config_init(&cfg);
    const char *leaf;
    int dir = store_dir_open(root_fd, at->path, &cfg, false, &leaf), r;
    close(root_fd);
    if (dir < 0)
        return dir == -ENOENT ? 0 : dir; /* no directory: nothing was written there */
    int fd = openat(dir, leaf, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM))
        fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        r = errno == ENOENT ? resolve_rotated(dir, leaf, at) : -errno;
    } else if ((uint64_t)st.st_ino != at->ino || (uint64_t)st.st_dev != at->dev) {
        r = resolve_rotated(dir, leaf, at);
    } else if (!S_ISREG(st.st_mode)) {
        r = -EPERM;
    } else if ((uint64_t)st.st_size >= at->offset + at->len) {
        r = bytes_match(fd, at); /* not ours (0): other lines came after, leave them */
    } else {
        r = 0;
        /* The file ends inside the run: only its bytes can be there. */
        if (may_cut && (uint64_t)st.st_size > at->offset)
            *fix = cut_tail(dir, leaf, fd, at->offset);
        if (*fix == STORE_PLACE_CUT && fsync(fd) < 0)
            r = -errno;
    }
    if (fd >= 0)
        close(fd);
    close(dir);
    return r;
}
