/*
 * execve: reassembles a command line from the EXECVE records of one event:
 * a0="ls" a1=2F746D70 (hex), and long arguments split as a1_len=N a1[0]=..
 * a1[1]=.., possibly across several EXECVE records.
 */
#ifndef LW_AUDIT_EXECVE_H
#define LW_AUDIT_EXECVE_H

#include "base/buf.h"
#include "wire/audit_record.h"

#include <stdint.h>

struct audit_argv {
    struct buf bytes; /* decoded arguments back to back */
    uint32_t *ends;   /* ends[i]: end offset of argument i in bytes */
    uint32_t count, cap;
    int64_t current; /* index of the argument being filled, -1 none */
};

void audit_argv_init(struct audit_argv *a);
void audit_argv_free(struct audit_argv *a);
void audit_argv_reset(struct audit_argv *a);
/* Feeds one field of an EXECVE record; other fields are ignored.
 * Returns 0 or -ENOMEM / -E2BIG. */
int audit_argv_add(struct audit_argv *a, const char *line, const struct audit_field *f);

static inline const char *audit_argv_arg(const struct audit_argv *a, uint32_t i, size_t *len)
{
    uint32_t start = i ? a->ends[i - 1] : 0;
    *len = a->ends[i] - start;
    return a->bytes.data ? a->bytes.data + start : ""; /* all arguments empty */
}

#endif
