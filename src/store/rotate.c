/*
 * rotate: size-based rotation with auditd's num_logs semantics:
 * x.log.(N-2) -> x.log.(N-1), ..., x.log -> x.log.1, the oldest deleted,
 * so N files are kept including the active one; files above .N-1 (left by
 * a larger num_logs) are left alone, as auditd does. A rotated file may be
 * compressed (x.log.K.zst, compress.c): both forms move together. Renames
 * stay inside one directory fd; a rename never follows a symlink. It does
 * not decide when to rotate, flush or reopen (store.c), nor delete by age
 * or size (retention.c), nor compress.
 *
 * Sealing: the caller (entry_rotate) writes the file's final seal before;
 * each sidecar (.x.log.K.seal) is renamed right after its file, and the
 * walk at open (seal_store.c) repairs a pair a crash left in between.
 * TODO(issue 4 point 4): chattr -a/+a around the renames.
 */
#include "search/index.h"
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int store_rotated_name(char *out, size_t cap, const char *leaf, unsigned num, bool zst)
{
    int n = snprintf(out, cap, "%s.%u%s", leaf, num, zst ? ".zst" : "");
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static bool ends_with(const char *name, size_t *n, const char *suffix)
{
    size_t k = strlen(suffix);
    if (*n < k || memcmp(name + *n - k, suffix, k) != 0)
        return false;
    *n -= k;
    return true;
}

/* The template check (path.c) makes sure no active name ends in a digit,
 * ".zst" or ".tmp", so these suffixes are always ours. */
int store_name_classify(const char *name, unsigned *num, bool *zst, bool *tmp)
{
    size_t n = strlen(name), end;
    *tmp = ends_with(name, &n, ".zst.tmp");
    *zst = *tmp || ends_with(name, &n, ".zst");
    end = n;
    unsigned v = 0, scale = 1;
    while (n > 0 && name[n - 1] >= '0' && name[n - 1] <= '9' && end - n < 4) {
        v += (unsigned)(name[n - 1] - '0') * scale;
        scale *= 10;
        n--;
    }
    *num = v;
    if (end == n && !*zst)
        return (int)n; /* an active name */
    if (end == n || n < 2 || name[n - 1] != '.' || name[n] == '0' || v < 1 ||
        v > STORE_NUM_LOGS_MAX || (n < end && name[n - 1] >= '0' && name[n - 1] <= '9'))
        return -1;
    return (int)n - 1;
}

/* Moves both forms of leaf.from to leaf.to (either may be absent), then
 * its sidecar. */
static int shift(int dir_fd, const char *leaf, unsigned from, unsigned to)
{
    char a[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX], b[sizeof(a)];
    for (int zst = 0; zst < 2; zst++) {
        int r = store_rotated_name(a, sizeof(a), leaf, from, zst);
        if (r == 0)
            r = store_rotated_name(b, sizeof(b), leaf, to, zst);
        if (r < 0)
            return r;
        if (renameat(dir_fd, a, dir_fd, b) < 0 && errno != ENOENT)
            return -errno;
    }
    return store_seal_rename(dir_fd, leaf, from, to);
}

int store_rotate(struct store_seal *seal, int dir_fd, const char *leaf, int fd,
                 const struct store_config *cfg)
{
    char name[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
    unsigned last = cfg->num_logs - 1;
    int r;
    /* The oldest goes first, through the one place that deletes data. */
    for (int zst = 0; zst < 2; zst++)
        if ((r = store_rotated_name(name, sizeof(name), leaf, last, zst)) < 0 ||
            (r = store_retire(seal, dir_fd, name, STORE_RETIRE_NUM_LOGS)) < 0)
            return r;
    for (unsigned i = last; i >= 2; i--)
        if ((r = shift(dir_fd, leaf, i - 1, i)) < 0)
            return r;
    if ((r = store_rotated_name(name, sizeof(name), leaf, 1, false)) < 0)
        return r;
    if (renameat(dir_fd, leaf, dir_fd, name) < 0)
        return -errno;
    if ((r = store_seal_rename(dir_fd, leaf, 0, 1)) < 0)
        return r;
    /* Read-only once rotated; through the fd, so no path is followed. */
    if (fchmod(fd, cfg->file_mode & 0444) < 0)
        return -errno;
    search_index_store_rotated(dir_fd, name); /* search index (issue 5); none = a scan */
    return store_dir_sync(dir_fd, cfg);
}
