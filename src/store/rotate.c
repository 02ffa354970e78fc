/*
 * rotate: size-based rotation with auditd's num_logs semantics:
 * x.log.(N-2) -> x.log.(N-1), ..., x.log -> x.log.1, the oldest replaced,
 * so N files are kept including the active one; files above .N-1 (left by
 * a larger num_logs) are left alone, as auditd does. Renames stay inside
 * one directory fd; a rename never follows a symlink. It does not decide
 * when to rotate, flush or reopen (store.c), nor delete by age or size.
 *
 * TODO(sealing, issue 4): the file's final seal goes here, before the
 * renames, and chattr -a/+a around them; the next file's chain starts
 * from that seal.
 * TODO(compression, retention): after the renames, on leaf.1 and beyond.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

static int rotated_name(char *out, size_t cap, const char *leaf, unsigned i)
{
    int n = snprintf(out, cap, "%s.%u", leaf, i);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int store_rotate(int dir_fd, const char *leaf, int fd, const struct store_config *cfg)
{
    char from[STORE_COMPONENT_MAX + 16], to[STORE_COMPONENT_MAX + 16];
    int r;
    for (unsigned i = cfg->num_logs - 1; i >= 2; i--) {
        if ((r = rotated_name(from, sizeof(from), leaf, i - 1)) < 0 ||
            (r = rotated_name(to, sizeof(to), leaf, i)) < 0)
            return r;
        if (renameat(dir_fd, from, dir_fd, to) < 0 && errno != ENOENT)
            return -errno;
    }
    if ((r = rotated_name(to, sizeof(to), leaf, 1)) < 0)
        return r;
    if (renameat(dir_fd, leaf, dir_fd, to) < 0)
        return -errno;
    /* Read-only once rotated; through the fd, so no path is followed. */
    if (fchmod(fd, cfg->file_mode & 0444) < 0)
        return -errno;
    return store_dir_sync(dir_fd, cfg);
}
