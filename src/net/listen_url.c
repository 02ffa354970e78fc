/*
 * listen_url: "scheme://host:port" -> socket address. Literal addresses
 * only; it opens nothing.
 */
#include "net/listen_url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum listen_scheme scheme;
    uint16_t port;
} schemes[] = {
    {"udp", LISTEN_UDP, 514},
    {"tcp", LISTEN_TCP, 514},
    {"tls", LISTEN_TLS, 6514},
    {"relp", LISTEN_RELP, 2514},
    {"relp+tls", LISTEN_RELP_TLS, 2514},
    {"audit", LISTEN_AUDIT, 60},
    {"agent", LISTEN_AGENT, 6515},
    {"agent+tls", LISTEN_AGENT_TLS, 6515},
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

const char *listen_scheme_name(enum listen_scheme s)
{
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].scheme == s)
            return schemes[i].name;
    return "?";
}

uint16_t listen_scheme_default_port(enum listen_scheme s)
{
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].scheme == s)
            return schemes[i].port;
    return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
        return -EINVAL;
    unsigned long v = strtoul(s, &end, 10);
    if (v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

static int fail(const char **why, const char *text)
{
    *why = text;
    return -EINVAL;
}

int listen_url_parse(const char *url, struct listen_url *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    const char *sep = strstr(url, "://");
    if (!sep)
        return fail(why, "expected SCHEME://HOST:PORT");
    size_t slen = (size_t)(sep - url);
    size_t i = 0;
    while (i < NSCHEMES && (strlen(schemes[i].name) != slen || strncmp(schemes[i].name, url, slen)))
        i++;
    if (i == NSCHEMES)
        return fail(why, "unknown scheme (udp, tcp, tls, relp, relp+tls, audit, agent, agent+tls)");
    out->scheme = schemes[i].scheme;
    out->port = schemes[i].port;
    const char *host = sep + 3, *port = NULL;
    char hostbuf[64];
    size_t hlen;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return fail(why, "IPv6 address without closing ']'");
        hlen = (size_t)(close - host - 1);
        if (hlen >= sizeof(hostbuf))
            return fail(why, "address too long");
        memcpy(hostbuf, host + 1, hlen);
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return fail(why, "expected ':' after ']'");
    } else {
        const char *colon = strrchr(host, ':');
        hlen = colon ? (size_t)(colon - host) : strlen(host);
        if (hlen >= sizeof(hostbuf))
            return fail(why, "address too long");
        memcpy(hostbuf, host, hlen);
        port = colon ? colon + 1 : NULL;
    }
    hostbuf[hlen] = 0;
    if (port && parse_port(port, &out->port) < 0)
        return fail(why, "port must be a number from 0 to 65535");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
    if (!strcmp(hostbuf, "localhost"))
        strcpy(hostbuf, "127.0.0.1");
    if (!strcmp(hostbuf, "*") || !hostbuf[0]) {
        v6->sin6_family = AF_INET6; /* dual-stack: IPv4 arrives mapped */
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons(out->port);
        out->addr_len = sizeof(*v6);
    } else if (inet_pton(AF_INET, hostbuf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(out->port);
        out->addr_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, hostbuf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(out->port);
        out->addr_len = sizeof(*v6);
    } else {
        return fail(why, "HOST must be an IP address, [IPv6], '*' or localhost (no DNS)");
    }
    *why = NULL;
    return 0;
}
