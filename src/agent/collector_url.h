/*
 * collector_url: the agent's --collector URLs, agent://HOST:PORT (plain
 * TCP, for tests and trusted loopback) and agent+tls://HOST:PORT (TLS with
 * mutual authentication). HOST is a DNS name, an IPv4 literal or an IPv6
 * literal in brackets; PORT defaults to 6515 (docs/formats.md, lwap/1).
 * Pure: no name lookups here (the sender resolves at each connect).
 */
#ifndef LW_AGENT_COLLECTOR_URL_H
#define LW_AGENT_COLLECTOR_URL_H

#include <stdbool.h>

#define COLLECTOR_URL_MAX  300
#define COLLECTOR_HOST_MAX 255

struct collector_url {
    bool tls;
    char host[COLLECTOR_HOST_MAX + 1]; /* without brackets */
    char port[6];
    char text[COLLECTOR_URL_MAX + 1]; /* as given, for logs and status */
};

/* Returns 0, or -EINVAL with *why set to a static explanation. */
int collector_url_parse(const char *url, struct collector_url *out, const char **why);

#endif
