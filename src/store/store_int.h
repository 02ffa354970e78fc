/*
 * store_int: what the store's files share among themselves (path template,
 * safe opening below the root, rotation, version file). Not a public
 * header: only src/store/ includes it.
 */
#ifndef LW_STORE_STORE_INT_H
#define LW_STORE_STORE_INT_H

#include "store/store.h"

#include <stdbool.h>
#include <sys/stat.h>

#define STORE_DEPTH_MAX     8   /* components in a path template */
#define STORE_COMPONENT_MAX 240 /* bytes of one rendered component: room for ".999", ".zst" */

/* Checks a path template: returns 0 or -EINVAL (rules in path.c). */
int store_template_check(const char *tmpl);
/* Renders tmpl with sanitized host and program into out (NUL-terminated);
 * returns the length, or -ENAMETOOLONG. */
int store_path_render(const char *tmpl, const char *host, const char *program, char *out,
                      size_t cap);
/* Opens (creating if asked) every directory of relpath below root_fd, never
 * following a symlink; returns the fd of the last directory and points
 * *leaf at relpath's last component, or a negative errno (-ELOOP for a
 * symlink, -ENOTDIR for another file in the way). */
int store_dir_open(int root_fd, const char *relpath, const struct store_config *cfg, bool create,
                   const char **leaf);
/* Opens (creating) the active file leaf in dir_fd for appending; refuses
 * symlinks, non-regular files and files with other hard links (-EPERM).
 * *st gets its fstat. Returns the fd or a negative errno. */
int store_file_open(int dir_fd, const char *leaf, const struct store_config *cfg, struct stat *st);
/* Rotates leaf in dir_fd: leaf.N-2 -> leaf.N-1 ... leaf -> leaf.1 (N =
 * num_logs, the oldest replaced), then makes fd (the old active file)
 * read-only. The caller has flushed and synced fd before. */
int store_rotate(int dir_fd, const char *leaf, int fd, const struct store_config *cfg);
/* Checks <root>/.logward-store, or writes it in a store without one. */
int store_version_check(int root_fd, const struct store_config *cfg);
/* fsyncs a directory when the policy wants durable names. */
int store_dir_sync(int dir_fd, const struct store_config *cfg);

#endif
