/*
 * rule_arch: resolves arch= words and syscall names per machine through
 * libaudit (audit_name_to_syscall and friends). It holds one small table of
 * its own, the 64-bit machines' 32-bit compat ABIs, which mirrors
 * libaudit's audit_determine_machine() so that "b32" can be resolved for a
 * host other than the one we run on. No syscall table lives here.
 */
#include "rules/rule_arch.h"

#include <errno.h>
#include <libaudit.h>
#include <string.h>
#include <strings.h>

#define ARCH_WORD_MAX 32

/* 64-bit machine -> its 32-bit compat ABI (as libaudit maps "b32"). */
static const struct {
    int wide, narrow;
} compat_abis[] = {
    {MACH_86_64, MACH_X86},
    {MACH_PPC64, MACH_PPC},
    {MACH_S390X, MACH_S390},
    {MACH_AARCH64, MACH_ARM},
};

int rule_arch_host(void)
{
    int m = audit_detect_machine();
    return m < 0 ? -EINVAL : m;
}

int rule_arch_machine_from_name(const char *name)
{
    int m = audit_name_to_machine(name);
    return m < 0 ? -EINVAL : m;
}

const char *rule_arch_machine_name(int machine)
{
    const char *s = audit_machine_to_name(machine);
    return s ? s : "unknown";
}

bool rule_arch_is_64bit(int machine)
{
    return (audit_machine_to_elf(machine) & __AUDIT_ARCH_64BIT) != 0;
}

const char *rule_arch_bits_name(int machine)
{
    return rule_arch_is_64bit(machine) ? "b64" : "b32";
}

static int compat_of(int machine)
{
    for (size_t i = 0; i < sizeof(compat_abis) / sizeof(compat_abis[0]); i++)
        if (compat_abis[i].wide == machine)
            return compat_abis[i].narrow;
    return -EINVAL;
}

int rule_arch_resolve(const char *p, size_t len, int host)
{
    char word[ARCH_WORD_MAX];
    if (len == 0 || len >= sizeof(word))
        return -EINVAL;
    memcpy(word, p, len);
    word[len] = '\0';
    if (!strcasecmp(word, "b64"))
        return rule_arch_is_64bit(host) ? host : -EINVAL;
    if (!strcasecmp(word, "b32"))
        return rule_arch_is_64bit(host) ? compat_of(host) : host;
    return rule_arch_machine_from_name(word);
}

int rule_arch_defaults(int host, int out[RULE_ARCH_MAX])
{
    if (host < 0)
        return -EINVAL;
    out[0] = host;
    int c = compat_of(host);
    if (c < 0)
        return 1;
    out[1] = c;
    return 2;
}

int rule_arch_parse_list(const char *list, int host, int out[RULE_ARCH_MAX])
{
    int n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int m = rule_arch_resolve(p, len, host);
        if (m < 0)
            return -EINVAL;
        bool seen = false;
        for (int i = 0; i < n; i++)
            seen |= out[i] == m;
        if (!seen) {
            if (n == RULE_ARCH_MAX)
                return -EINVAL;
            out[n++] = m;
        }
        if (!p[len])
            return n;
        p += len + 1;
    }
}

int rule_arch_syscall(int machine, const char *name)
{
    int n = audit_name_to_syscall(name, machine);
    return n < 0 ? -ENOENT : n;
}
