/*
 * sockaddr: decodes the struct sockaddr bytes of a SOCKADDR record's saddr=
 * (after hex decoding). The family is in the sender's byte order (given by
 * the SYSCALL record's arch); ports are in network order on every arch.
 */
#ifndef LW_AUDIT_SOCKADDR_H
#define LW_AUDIT_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit_sockaddr {
    unsigned family;           /* AF_* number */
    const char *family_name;   /* "inet", "inet6", "local", "netlink", or NULL */
    char addr[64];             /* printable address (inet, inet6), else "" */
    int port;                  /* -1 when the family has none */
    const unsigned char *path; /* AF_UNIX path bytes (into the input), or NULL */
    size_t path_len;
    bool abstract;        /* AF_UNIX abstract name (path starts with NUL) */
    uint32_t netlink_pid; /* AF_NETLINK port id (0 = the kernel) */
    bool has_netlink_pid; /* the bytes hold one */
};

/* Returns 0, or -EINVAL when the bytes are too short for their family. */
int audit_sockaddr_decode(const unsigned char *b, size_t n, bool little_endian,
                          struct audit_sockaddr *out);

#endif
