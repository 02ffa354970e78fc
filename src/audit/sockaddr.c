/*
 * sockaddr: struct sockaddr bytes -> family, address, port, unix path.
 * Only reads the given bytes; printing is the normalizer's.
 */
#include "audit/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static uint16_t host_u16(const unsigned char *b, bool le)
{
    return le ? (uint16_t)(b[0] | b[1] << 8) : (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t host_u32(const unsigned char *b, bool le)
{
    return le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
              : (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* a.b.c.d as inet_ntop writes it ("%u.%u.%u.%u"), without its trip
 * through sprintf, which cost more than the rest of a SOCKADDR record. */
static void format_ipv4(const unsigned char *a, char *out)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

int audit_sockaddr_decode(const unsigned char *b, size_t n, bool le, struct audit_sockaddr *out)
{
    memset(out, 0, sizeof(*out));
    out->port = -1;
    if (n < 2)
        return -EINVAL;
    out->family = host_u16(b, le);
    switch (out->family) {
    case AF_INET:
        out->family_name = "inet";
        if (n < 8)
            return -EINVAL;
        out->port = b[2] << 8 | b[3];
        _Static_assert(sizeof(out->addr) >= INET_ADDRSTRLEN, "room for a.b.c.d");
        format_ipv4(b + 4, out->addr);
        return 0;
    case AF_INET6:
        out->family_name = "inet6";
        if (n < 24)
            return -EINVAL;
        out->port = b[2] << 8 | b[3];
        inet_ntop(AF_INET6, b + 8, out->addr, sizeof(out->addr));
        return 0;
    case AF_UNIX: {
        out->family_name = "local";
        const unsigned char *p = b + 2;
        size_t len = n - 2;
        out->abstract = len > 0 && p[0] == 0;
        if (out->abstract) {
            p++, len--;
        } else {
            const unsigned char *nul = memchr(p, 0, len);
            if (nul)
                len = (size_t)(nul - p);
        }
        out->path = p;
        out->path_len = len;
        return 0;
    }
    case AF_NETLINK:
        out->family_name = "netlink";
        if (n >= 8) {
            out->netlink_pid = host_u32(b + 4, le);
            out->has_netlink_pid = true;
        }
        return 0;
    default:
        return 0;
    }
}
