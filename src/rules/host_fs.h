/*
 * host_fs: read-only access to a host's files below a root directory
 * ("/" for the running host, a prepared tree in tests). Paths given are
 * absolute host paths ("/etc/audit/auditd.conf"); the root is prefixed.
 */
#ifndef LW_RULES_HOST_FS_H
#define LW_RULES_HOST_FS_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define HOST_FS_PATH_MAX 4096
#define HOST_FS_FILE_MAX (4u << 20) /* configuration files larger than this are refused */

/* Writes root + path into out (cap bytes). Returns 0 or -ENAMETOOLONG. */
int host_fs_path(const char *root, const char *path, char *out, size_t cap);

/* Appends the file's bytes to b (bounded by HOST_FS_FILE_MAX). Returns 0 or -errno. */
int host_fs_read(const char *root, const char *path, struct buf *b);

/* lstat (follow = false) or stat of root + path. Returns 0 or -errno. */
int host_fs_stat(const char *root, const char *path, struct stat *st, bool follow);

bool host_fs_exists(const char *root, const char *path);

/*
 * Lists the names in a directory (root + dir) that end with suffix (""
 * for all), sorted as augenrules and systemd sort them (version order),
 * into a NUL-separated buf. Returns the count or -errno.
 */
int host_fs_list(const char *root, const char *dir, const char *suffix, struct buf *names);

#endif
