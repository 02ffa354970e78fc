/*
 * listen_url: parses the listener URLs of logwardd's --listen option:
 *   udp://HOST:PORT  tcp://HOST:PORT  tls://HOST:PORT  relp://HOST:PORT
 *   relp+tls://HOST:PORT  audit://HOST:PORT  agent://HOST:PORT
 *   agent+tls://HOST:PORT
 * HOST is an IPv4 literal, an IPv6 literal in brackets, "*" (all IPv4 and
 * IPv6 addresses) or "localhost"; no name lookups happen here (a collector
 * must not depend on DNS to start). PORT 0 asks the kernel for a free port.
 */
#ifndef LW_NET_LISTEN_URL_H
#define LW_NET_LISTEN_URL_H

#include <stdint.h>
#include <sys/socket.h>

enum listen_scheme {
    LISTEN_UDP,
    LISTEN_TCP,
    LISTEN_TLS,
    LISTEN_RELP,
    LISTEN_RELP_TLS,
    LISTEN_AUDIT,
    LISTEN_AGENT,
    LISTEN_AGENT_TLS,
};

struct listen_url {
    enum listen_scheme scheme;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint16_t port;
};

/* Returns 0, or -EINVAL with *why set to a static explanation. */
int listen_url_parse(const char *url, struct listen_url *out, const char **why);
const char *listen_scheme_name(enum listen_scheme s);
/* Default port of a scheme (514, 6514, 2514, 60...). */
uint16_t listen_scheme_default_port(enum listen_scheme s);

#endif
