/*
 * host_forward: how a host sends its logs to a remote collector, found in
 * its configuration: rsyslog forwarding actions (@host, @@host, omfwd,
 * omrelp), systemd-journal-upload, audisp-remote, or logward-agent; and
 * whether each path is encrypted.
 */
#ifndef LW_RULES_HOST_FORWARD_H
#define LW_RULES_HOST_FORWARD_H

#include <stddef.h>

#define HOST_FORWARD_MAX 16

enum host_forward_crypto {
    HOST_FORWARD_PLAIN,     /* UDP, or TCP without TLS */
    HOST_FORWARD_TLS,       /* TLS (or Kerberos for audisp-remote) */
    HOST_FORWARD_NOT_KNOWN, /* configured, but encryption cannot be read */
};

struct host_forward {
    const char *via;  /* "rsyslog", "journal-upload", "audisp-remote", "logward-agent" */
    char where[256];  /* the file that configures it */
    char target[128]; /* the collector, as written */
    enum host_forward_crypto crypto;
};

struct host_forwards {
    struct host_forward f[HOST_FORWARD_MAX];
    size_t n;
};

/* Scans root's configuration. Returns the number found or a negative code. */
int host_forward_scan(const char *root, struct host_forwards *out);

#endif
