/*
 * dir_list: readdir into a growing array of "dir/name" strings, then
 * qsort. Reading and ordering files is the callers' business.
 */
#include "cli/dir_list.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int dir_list(const char *dir, dir_list_want_fn want, void *arg,
             int (*cmp)(const void *, const void *), char ***out, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        if (want && !want(dir, de->d_name, arg))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof(*p));
            if (!p) {
                r = -ENOMEM;
                break;
            }
            names = p;
        }
        if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
            r = -ENOMEM;
        else
            n++;
    }
    closedir(d);
    if (n && cmp)
        qsort(names, n, sizeof(*names), cmp);
    *out = names;
    *count = n;
    return r;
}

void dir_list_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}
