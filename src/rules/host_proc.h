/*
 * host_proc: which daemons run on a host, read from <root>/proc/<pid>/comm.
 */
#ifndef LW_RULES_HOST_PROC_H
#define LW_RULES_HOST_PROC_H

#include <stddef.h>

/*
 * Looks for a process whose name (comm, at most 15 bytes) is one of names
 * (NULL-terminated). Returns 1 and copies the name found into found (cap
 * bytes), 0 when none runs, or -ENOENT when root has no /proc to look at.
 */
int host_proc_find(const char *root, const char *const *names, char *found, size_t cap);

#endif
