/*
 * host_proc: scans <root>/proc for process names. It reads comm files
 * only; it does not signal, trace or open anything else of a process.
 */
#include "rules/host_proc.h"

#include "rules/host_fs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PROC_SCAN_MAX 65536 /* processes looked at */
#define COMM_MAX      16    /* TASK_COMM_LEN */

static int read_comm(const char *proc, const char *pid, char *comm)
{
    char path[HOST_FS_PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s/comm", proc, pid) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    size_t n = fread(comm, 1, COMM_MAX - 1, f);
    fclose(f);
    comm[n] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
    return 0;
}

static bool is_pid(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

int host_proc_find(const char *root, const char *const *names, char *found, size_t cap)
{
    char proc[HOST_FS_PATH_MAX], comm[COMM_MAX];
    int rc = host_fs_path(root, "/proc", proc, sizeof(proc));
    if (rc < 0)
        return rc;
    DIR *d = opendir(proc);
    if (!d)
        return -ENOENT;
    struct dirent *de;
    int seen = 0, hit = 0;
    while (!hit && seen++ < PROC_SCAN_MAX && (de = readdir(d))) {
        if (!is_pid(de->d_name) || read_comm(proc, de->d_name, comm) < 0)
            continue;
        for (const char *const *n = names; *n && !hit; n++)
            if (!strncmp(comm, *n, COMM_MAX - 1)) {
                snprintf(found, cap, "%s", *n);
                hit = 1;
            }
    }
    closedir(d);
    return hit;
}
