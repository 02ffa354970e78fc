/*
 * host_fs: the only place host_check and login_defs touch the file system.
 * Everything here reads; nothing writes, creates or follows a path out of
 * the root on purpose (symlinks inside the tree are followed as the host
 * would follow them, which for absolute links means the running host's
 * files: tests build their trees without such links).
 */
#include "rules/host_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIST_MAX 4096 /* directory entries considered */

int host_fs_path(const char *root, const char *path, char *out, size_t cap)
{
    const char *prefix = (!root || !strcmp(root, "/")) ? "" : root;
    int n = snprintf(out, cap, "%s%s", prefix, path);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

int host_fs_read(const char *root, const char *path, struct buf *b)
{
    char full[HOST_FS_PATH_MAX];
    int rc = host_fs_path(root, path, full, sizeof(full));
    if (rc < 0)
        return rc;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char chunk[8192];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        total += (size_t)n;
        if (total > HOST_FS_FILE_MAX) {
            rc = -EFBIG;
            break;
        }
        if ((rc = buf_append(b, chunk, (size_t)n)) < 0)
            break;
    }
    close(fd);
    return rc;
}

int host_fs_stat(const char *root, const char *path, struct stat *st, bool follow)
{
    char full[HOST_FS_PATH_MAX];
    int rc = host_fs_path(root, path, full, sizeof(full));
    if (rc < 0)
        return rc;
    return (follow ? stat(full, st) : lstat(full, st)) < 0 ? -errno : 0;
}

bool host_fs_exists(const char *root, const char *path)
{
    struct stat st;
    return host_fs_stat(root, path, &st, false) == 0;
}

static int by_version(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int host_fs_list(const char *root, const char *dir, const char *suffix, struct buf *names)
{
    char full[HOST_FS_PATH_MAX];
    int rc = host_fs_path(root, dir, full, sizeof(full));
    if (rc < 0)
        return rc;
    DIR *d = opendir(full);
    if (!d)
        return -errno;
    char **v = calloc(LIST_MAX, sizeof(*v));
    size_t n = 0;
    struct dirent *de;
    while (v && n < LIST_MAX && (de = readdir(d)))
        if (de->d_name[0] != '.' && ends_with(de->d_name, suffix) && !(v[n++] = strdup(de->d_name)))
            n--;
    closedir(d);
    if (!v)
        return -ENOMEM;
    qsort(v, n, sizeof(*v), by_version);
    for (size_t i = 0; i < n; i++) {
        if (rc >= 0)
            rc = buf_append(names, v[i], strlen(v[i]) + 1);
        free(v[i]);
    }
    free(v);
    return rc < 0 ? rc : (int)n;
}
