/*
 * compress: zstd of rotated files, one file at a time, a bounded step per
 * store_maintain call (STORE_COMPRESS_STEP bytes read or STORE_COMPRESS_MS,
 * whichever comes first, checked per input chunk), so rotation stays a few
 * renames. x.log.K is streamed (fixed buffers, one context) into
 * x.log.K.zst.tmp, which gets mode file_mode & 0444, the group, the plain
 * file's times (so retention by age still sees the rotation's time) and an
 * fsync, then is renamed to x.log.K.zst (K as it is by then: rotations may
 * have renumbered the file meanwhile), the directory is fsynced, and only
 * then is x.log.K deleted. A crash leaves the plain file, or both (the
 * next open keeps the .zst, scan.c), never neither. The output is one zstd
 * frame with a checksum, as `zstd` writes: zstdcat and zstdgrep read it.
 * It does not choose what to keep (retention.c) and never touches an
 * active file.
 */
#include "search/index.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static const char *leaf_of(const struct store_family *f)
{
    const char *slash = strrchr(f->path, '/');
    return slash ? slash + 1 : f->path;
}

void store_compress_abort(struct store *s)
{
    struct store_zjob *j = &s->zjob;
    if (!j->family)
        return;
    close(j->in_fd);
    close(j->out_fd);
    unlinkat(j->dir_fd, j->tmp, 0);
    close(j->dir_fd);
    j->family = NULL;
}

void store_compress_free(struct store *s)
{
    store_compress_abort(s);
    ZSTD_freeCCtx(s->zctx);
    free(s->zin);
    free(s->zout);
    s->zctx = s->zin = s->zout = NULL;
}

/* A failed job: said once, and the file is not tried again until the next
 * index build (it stays plain, which is always readable). */
static int job_fail(struct store *s, const char *what, int r)
{
    struct store_zjob *j = &s->zjob;
    struct store_family *f = j->family;
    int i = store_index_find_gen(f, j->gen_id);
    s->stats.maintain_errors++;
    store_say(s, "store: compressing %s: %s: %s; left uncompressed", j->tmp, what, strerror(-r));
    store_compress_abort(s);
    if (i >= 0)
        store_index_gen_no_zst(&s->idx, f, (unsigned)i);
    return r;
}

static int context_ready(struct store *s, uint64_t size)
{
    if (!s->zctx) {
        s->zctx = ZSTD_createCCtx();
        s->zin = malloc(ZSTD_CStreamInSize());
        s->zout = malloc(ZSTD_CStreamOutSize());
        if (!s->zctx || !s->zin || !s->zout)
            return -ENOMEM;
    }
    ZSTD_CCtx *c = s->zctx;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, s->cfg.compress_level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, size)))
        return -EINVAL;
    return 0;
}

/* Opens the lowest-numbered plain rotated file of the queue's first family. */
static int job_start(struct store *s)
{
    struct store_zjob *j = &s->zjob;
    struct store_family *f = s->idx.zq_head;
    unsigned i = 0;
    while (f->gens[i].zst || f->gens[i].no_zst)
        i++;
    char name[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
    const char *leaf;
    *j = (struct store_zjob){.family = f, .gen_id = f->gens[i].id, .in_fd = -1, .out_fd = -1};
    int r = store_rotated_name(name, sizeof(name), leaf_of(f), f->gens[i].num, false);
    memcpy(j->tmp, name, sizeof(name));
    strcat(j->tmp, ".zst.tmp"); /* fits: STORE_ROTATED_SUFFIX has room */
    if (r < 0 || (j->dir_fd = store_dir_open(s->root_fd, f->path, &s->cfg, false, &leaf)) < 0) {
        j->family = NULL;
        store_index_gen_no_zst(&s->idx, f, i);
        s->stats.maintain_errors++;
        return r < 0 ? r : j->dir_fd;
    }
    j->in_fd = openat(j->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (j->in_fd < 0 || fstat(j->in_fd, &j->in_st) < 0)
        return job_fail(s, "open", -errno);
    if (!S_ISREG(j->in_st.st_mode) || j->in_st.st_nlink != 1)
        return job_fail(s, "open", -EPERM);
    unlinkat(j->dir_fd, j->tmp, 0);
    j->out_fd =
        openat(j->dir_fd, j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (j->out_fd < 0)
        return job_fail(s, "create", -errno);
    if ((r = context_ready(s, (uint64_t)j->in_st.st_size)) < 0)
        return job_fail(s, "zstd", r);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Compresses n bytes at zin (n 0: ends the frame) and writes the output. */
static int feed(struct store *s, size_t n)
{
    ZSTD_EndDirective mode = n ? ZSTD_e_continue : ZSTD_e_end;
    ZSTD_inBuffer in = {s->zin, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->zout, ZSTD_CStreamOutSize(), 0};
        size_t left = ZSTD_compressStream2(s->zctx, &out, &in, mode);
        if (ZSTD_isError(left))
            return -EIO;
        int r = write_all(s->zjob.out_fd, s->zout, out.pos);
        if (r < 0)
            return r;
        s->zjob.out_bytes += out.pos;
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

/* The .zst is complete: make it final, then let the plain file go. */
static int job_finish(struct store *s, unsigned i)
{
    struct store_zjob *j = &s->zjob;
    struct store_family *f = j->family;
    const struct store_config *c = &s->cfg;
    gid_t gid = c->group != (gid_t)-1 ? c->group : j->in_st.st_gid;
    struct timespec times[2] = {j->in_st.st_atim, j->in_st.st_mtim};
    if (fchmod(j->out_fd, c->file_mode & 0444) < 0 ||
        (fchown(j->out_fd, (uid_t)-1, gid) < 0 && c->group != (gid_t)-1))
        return job_fail(s, "mode", -errno);
    if (futimens(j->out_fd, times) < 0 || fsync(j->out_fd) < 0) /* always: see above */
        return job_fail(s, "sync", -errno);
    char zname[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX], plain[sizeof(zname)];
    store_rotated_name(zname, sizeof(zname), leaf_of(f), f->gens[i].num, true);
    store_rotated_name(plain, sizeof(plain), leaf_of(f), f->gens[i].num, false);
    if (renameat(j->dir_fd, j->tmp, j->dir_fd, zname) < 0)
        return job_fail(s, "rename", -errno);
    if (fsync(j->dir_fd) < 0) /* the .zst's name is durable before the plain one goes */
        return job_fail(s, "sync", -errno);
    unlinkat(j->dir_fd, plain, 0); /* not a deletion of data: the .zst holds it */
    search_index_store_compressed(j->dir_fd, (uint64_t)j->in_st.st_ino, zname); /* issue 5 */
    s->stats.compressed++;
    s->stats.compress_in += j->in_bytes;
    s->stats.compress_out += j->out_bytes;
    store_index_gen_compressed(&s->idx, f, i, j->out_bytes);
    j->tmp[0] = '\0';
    store_compress_abort(s); /* closes the fds; the temp name is gone already */
    return 0;
}

static bool step_over(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000 >=
           STORE_COMPRESS_MS;
}

int store_compress_step(struct store *s)
{
    struct store_zjob *j = &s->zjob;
    if (s->space.state == STORE_SPACE_FULL)
        return 0; /* a .zst needs room until its plain file goes */
    if (!j->family && !s->idx.zq_head)
        return 0;
    int r;
    if (!j->family && (r = job_start(s)) < 0)
        return r;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t0);
    for (size_t done = 0; done < STORE_COMPRESS_STEP && !(done && step_over(&t0));) {
        int i = store_index_find_gen(j->family, j->gen_id);
        if (i < 0) { /* deleted (retention, num_logs) meanwhile */
            store_compress_abort(s);
            return 1;
        }
        ssize_t n = read(j->in_fd, s->zin, ZSTD_CStreamInSize());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return job_fail(s, "read", -errno);
        if ((r = feed(s, (size_t)n)) < 0)
            return job_fail(s, "write", r);
        j->in_bytes += (uint64_t)n;
        done += (size_t)n;
        if (n == 0)
            return (r = job_finish(s, (unsigned)i)) < 0 ? r : s->idx.zq_head != NULL;
    }
    return 1;
}
