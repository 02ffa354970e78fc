/*
 * dir_list: the entries of one directory as "dir/name" strings, filtered
 * and sorted by the caller's rules (rotated logs oldest first, host
 * directories...). Shared by the subcommands that read directories of logs.
 */
#ifndef LW_CLI_DIR_LIST_H
#define LW_CLI_DIR_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* Keeps an entry when it returns true; name is the bare entry name. */
typedef bool (*dir_list_want_fn)(const char *dir, const char *name, void *arg);

/*
 * Lists dir: every entry want() keeps (NULL keeps all), as "dir/name",
 * sorted with cmp (qsort's comparator over char *; NULL leaves readdir's
 * order). On success *out (owned by the caller: dir_list_free) holds
 * *count names. Returns 0 or -errno; after -ENOMEM what was listed is
 * still returned.
 */
int dir_list(const char *dir, dir_list_want_fn want, void *arg,
             int (*cmp)(const void *, const void *), char ***out, size_t *count);
void dir_list_free(char **names, size_t count);

#endif
