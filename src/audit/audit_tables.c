/*
 * audit_tables: flat caches over libaudit's lookup tables. libaudit is the
 * authority (it is generated from the kernel's headers); this file only makes
 * its answers cheap to ask repeatedly and adds the event-boundary rule.
 */
#include "audit/audit_tables.h"

#include "base/bytes.h"

#include <libaudit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define SYSCALL_MAX    1024 /* above every arch's highest syscall number */
#define ERRNO_MAX      256
#define MACHINE_MAX    16
#define TYPE_HASH_SIZE 4096 /* power of two, > 2 x the number of named types */

static const char *type_names[AUDIT_TYPE_MAX - AUDIT_TYPE_MIN + 1];
static uint8_t type_name_lens[AUDIT_TYPE_MAX - AUDIT_TYPE_MIN + 1]; /* 0: longer than 255 */
static uint16_t type_hash[TYPE_HASH_SIZE]; /* type - AUDIT_TYPE_MIN + 1; 0 empty */
static const char *syscall_names[MACHINE_MAX][SYSCALL_MAX];
static const char *errno_names[ERRNO_MAX];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
/* Set once the tables are loaded: every record asks for its type, and a
 * load of a flag is cheaper than a call into pthread_once each time. */
static atomic_bool tables_loaded;

/* Mixes the length with the first and last four bytes (or the one to three
 * there are): one multiply, where a byte-wise hash is a chain of them that
 * every record waits for. Names that share all of these only probe further. */
static uint32_t hash_name(const char *s, size_t n)
{
    uint64_t w = n;
    if (n >= 4) {
        uint32_t a, z;
        memcpy(&a, s, 4), memcpy(&z, s + n - 4, 4);
        w ^= (uint64_t)a << 8 ^ (uint64_t)z << 32;
    } else {
        for (size_t i = 0; i < n; i++)
            w ^= (uint64_t)(unsigned char)s[i] << (8 * i + 8);
    }
    return (uint32_t)((w * 0x9e3779b97f4a7c15ull) >> 32);
}

static void load_tables(void)
{
    for (int t = AUDIT_TYPE_MIN; t <= AUDIT_TYPE_MAX; t++) {
        const char *name = audit_msg_type_to_name(t);
        type_names[t - AUDIT_TYPE_MIN] = name;
        if (!name)
            continue;
        size_t len = strlen(name);
        type_name_lens[t - AUDIT_TYPE_MIN] = (uint8_t)(len < 256 ? len : 0);
        uint32_t i = hash_name(name, len) & (TYPE_HASH_SIZE - 1);
        while (type_hash[i])
            i = (i + 1) & (TYPE_HASH_SIZE - 1);
        type_hash[i] = (uint16_t)(t - AUDIT_TYPE_MIN + 1);
    }
    for (int m = 0; m < MACHINE_MAX; m++)
        if (audit_machine_to_name(m))
            for (int sc = 0; sc < SYSCALL_MAX; sc++)
                syscall_names[m][sc] = audit_syscall_to_name(sc, m);
    for (int e = 1; e < ERRNO_MAX; e++)
        errno_names[e] = audit_errno_to_name(e);
    atomic_store_explicit(&tables_loaded, true, memory_order_release);
}

void audit_tables_init(void)
{
    if (!atomic_load_explicit(&tables_loaded, memory_order_acquire))
        pthread_once(&tables_once, load_tables);
}

int audit_tables_type_number(const char *name, size_t len)
{
    audit_tables_init();
    uint32_t i = hash_name(name, len) & (TYPE_HASH_SIZE - 1);
    while (type_hash[i]) {
        int t = type_hash[i] - 1 + AUDIT_TYPE_MIN;
        const char *s = type_names[t - AUDIT_TYPE_MIN];
        size_t n = type_name_lens[t - AUDIT_TYPE_MIN];
        if (n ? n == len && bytes_equal(s, name, len) : strncmp(s, name, len) == 0 && !s[len])
            return t;
        i = (i + 1) & (TYPE_HASH_SIZE - 1);
    }
    return 0;
}

const char *audit_tables_type_name(int type)
{
    audit_tables_init();
    if (type < AUDIT_TYPE_MIN || type > AUDIT_TYPE_MAX)
        return NULL;
    return type_names[type - AUDIT_TYPE_MIN];
}

bool audit_tables_type_is_single(int type)
{
    /* User-space and daemon records are written one per event by their
     * senders; the kernel's own ranges (1300-1999) may join a syscall. */
    if (type == AUDIT_EOE)
        return true;
    if (type >= AUDIT_FIRST_USER_MSG && type <= AUDIT_LAST_DAEMON)
        return true;
    if (type >= AUDIT_FIRST_ANOM_MSG && type <= 2999)
        return true;
    return false;
}

static int machine_of(uint32_t arch)
{
    int m = audit_elf_to_machine(arch);
    return m >= 0 && m < MACHINE_MAX ? m : -1;
}

const char *audit_tables_syscall_name(uint32_t arch, int syscall)
{
    audit_tables_init();
    int m = machine_of(arch);
    if (m < 0 || syscall < 0 || syscall >= SYSCALL_MAX)
        return NULL;
    return syscall_names[m][syscall];
}

const char *audit_tables_arch_name(uint32_t arch)
{
    int m = machine_of(arch);
    return m < 0 ? NULL : audit_machine_to_name(m);
}

bool audit_tables_arch_is_le(uint32_t arch)
{
    return (arch & __AUDIT_ARCH_LE) != 0;
}

const char *audit_tables_errno_name(int err)
{
    audit_tables_init();
    return err > 0 && err < ERRNO_MAX ? errno_names[err] : NULL;
}
