/*
 * collector_url: splits agent:// and agent+tls:// URLs (collector_url.h).
 * Checks only the syntax: a name that does not resolve is the sender's
 * business at connect time, logged as the collector being unreachable.
 */
#include "agent/collector_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool host_ok(const char *h, size_t n, bool bracketed)
{
    if (n == 0 || n > COLLECTOR_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || (bracketed && (c == ':' || c == '%'));
        if (!ok)
            return false;
    }
    return true;
}

int collector_url_parse(const char *url, struct collector_url *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (strlen(url) > COLLECTOR_URL_MAX) {
        *why = "URL too long";
        return -EINVAL;
    }
    const char *p;
    if (!strncmp(url, "agent://", 8))
        p = url + 8;
    else if (!strncmp(url, "agent+tls://", 12)) {
        p = url + 12;
        out->tls = true;
    } else {
        *why = "expected agent://HOST[:PORT] or agent+tls://HOST[:PORT]";
        return -EINVAL;
    }
    const char *host = p, *end;
    bool bracketed = *p == '[';
    if (bracketed) {
        host = p + 1;
        end = strchr(host, ']');
        if (!end) {
            *why = "IPv6 address without its closing ']'";
            return -EINVAL;
        }
        p = end + 1;
    } else {
        end = host + strcspn(host, ":/");
        p = end;
    }
    if (!host_ok(host, (size_t)(end - host), bracketed)) {
        *why = "bad host (a DNS name, an IPv4 address or [IPv6])";
        return -EINVAL;
    }
    memcpy(out->host, host, (size_t)(end - host));
    snprintf(out->port, sizeof(out->port), "6515");
    if (*p == ':') {
        char *e;
        long port = strtol(p + 1, &e, 10);
        if (p[1] < '0' || p[1] > '9' || *e || port < 1 || port > 65535) {
            *why = "bad port (1 to 65535)";
            return -EINVAL;
        }
        snprintf(out->port, sizeof(out->port), "%ld", port);
    } else if (*p) {
        *why = "unexpected text after the host (no path in a collector URL)";
        return -EINVAL;
    }
    snprintf(out->text, sizeof(out->text), "%s", url);
    return 0;
}
