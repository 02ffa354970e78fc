/*
 * rule_arch: what "arch=" means in an audit rule. auditctl reads "b64" and
 * "b32" relative to the machine it runs on (b32 on x86_64 is i386), or takes
 * a machine name (x86_64, i386, aarch64...). Syscall names are looked up in
 * libaudit's own per-machine tables, never in a table of ours.
 */
#ifndef LW_RULES_RULE_ARCH_H
#define LW_RULES_RULE_ARCH_H

#include <stdbool.h>
#include <stddef.h>

/* At most two ABIs per machine: the native one and its 32-bit compat one. */
#define RULE_ARCH_MAX 2

/* The machine this process runs on (a libaudit MACH_* value), or < 0. */
int rule_arch_host(void);

/* A machine from its name ("x86_64", "i386", "aarch64"), or -EINVAL. */
int rule_arch_machine_from_name(const char *name);
const char *rule_arch_machine_name(int machine);

/*
 * Resolves an arch= value (p, len) as auditctl does on a `host` machine:
 * "b64", "b32" or a machine name. Returns the machine or -EINVAL.
 */
int rule_arch_resolve(const char *p, size_t len, int host);

/* True for a 64-bit ABI. */
bool rule_arch_is_64bit(int machine);

/* "b64" or "b32": how a rule names `machine` on a host of its family. */
const char *rule_arch_bits_name(int machine);

/*
 * The ABIs a rule set should cover on `host`: the native one and, on a
 * 64-bit machine with a 32-bit compat ABI, that one too. Fills out[] (room
 * for RULE_ARCH_MAX) and returns the count, or -EINVAL.
 */
int rule_arch_defaults(int host, int out[RULE_ARCH_MAX]);

/*
 * Parses a comma list of arch words ("b64,b32") for `host` into out[]
 * (room for RULE_ARCH_MAX, no duplicates). Returns the count or -EINVAL.
 */
int rule_arch_parse_list(const char *list, int host, int out[RULE_ARCH_MAX]);

/* The syscall number of `name` on `machine`, or -ENOENT if it has none. */
int rule_arch_syscall(int machine, const char *name);

#endif
