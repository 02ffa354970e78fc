/*
 * audit_tables: names for audit record types, syscalls, arches and errnos,
 * taken from libaudit's own tables (never typed by hand) and cached in flat
 * arrays at first use so lookups on the hot path are an index, not a search.
 * Also the one place that says which record types form an event on their own.
 */
#ifndef LW_AUDIT_TABLES_H
#define LW_AUDIT_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_TYPE_MIN 1000
#define AUDIT_TYPE_MAX 2999

/* Loads the tables; safe to call from several threads, cheap after the first. */
void audit_tables_init(void);

/* Record type number for a name as written ("SYSCALL"), or 0 if unknown. */
int audit_tables_type_number(const char *name, size_t len);
/* Name of a record type number, or NULL. */
const char *audit_tables_type_name(int type);

/* True for types the kernel or auditd writes as a complete one-record event. */
bool audit_tables_type_is_single(int type);

/* Syscall name for an AUDIT_ARCH_* value (as in SYSCALL's arch=) or NULL. */
const char *audit_tables_syscall_name(uint32_t arch, int syscall);
/* Arch name ("x86_64") for an AUDIT_ARCH_* value, or NULL. */
const char *audit_tables_arch_name(uint32_t arch);
/* True when the arch stores integers least significant byte first. */
bool audit_tables_arch_is_le(uint32_t arch);
/* errno name ("ENOENT") for a positive errno, or NULL. */
const char *audit_tables_errno_name(int err);

#endif
