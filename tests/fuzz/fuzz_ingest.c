/*
 * Fuzz target: the collector's ingest (src/collector/ingest.c), the path
 * from a received syslog message or audit record to the stored line, which
 * copies and escapes 16 and 64 bytes at a time and keeps the last line's
 * time stamp and origin tail for the next. The input is split at LF into
 * messages fed in turn through one ingest (so those caches are exercised
 * across messages), each from an exact-size copy so ASan sees any
 * overread, alternating origins (IPv4, IPv6 with a TLS identity, local)
 * and syslog/audit by the first byte of each message. Invariants checked
 * on every stored line (caught through the origin's sink, no store): a
 * syslog line holds no control byte but the one TAB before its metadata,
 * an audit line none but auditd's ENRICHED separator (0x1d); every message
 * is counted as received, and makes one stored line or a counted error.
 */
#include "collector/ingest.h"

#include "require.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool audit_line;

static int sink(void *arg, const char *host, size_t host_len, const char *program,
                size_t program_len, const char *line, size_t len)
{
    (void)arg, (void)host, (void)program;
    REQUIRE(host_len > 0 && program_len > 0 && len > 0);
    size_t tabs = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\t')
            tabs++;
        else if (audit_line)
            REQUIRE(c >= 0x20 ? c != 0x7f : c == 0x1d);
        else
            REQUIRE(c >= 0x20 && c != 0x7f);
    }
    REQUIRE(audit_line ? tabs == 0 : tabs == 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest *in = ingest_new(NULL, size && data[0] & 1 ? HOST_FROM_CLAIMED : HOST_FROM_PEER);
    REQUIRE(in);
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    const struct ingest_origin origins[] = {
        {.peer = (const struct sockaddr *)&v4, .transport = "tcp", .sink = sink},
        {.peer = (const struct sockaddr *)&v6,
         .transport = "tls",
         .identity = "web\t01",
         .sink = sink},
        {.peer = NULL, .transport = "udp", .sink = sink},
    };
    uint64_t fed = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t n = i - start;
        char *copy = malloc(n ? n : 1);
        REQUIRE(copy);
        memcpy(copy, data + start, n);
        const struct ingest_origin *o = &origins[fed % 3];
        audit_line = n && (copy[0] == 't' || copy[0] == 'n'); /* type=... or node=... */
        if (audit_line)
            (void)ingest_audit(in, o, copy, n);
        else
            (void)ingest_syslog(in, o, copy, n);
        free(copy);
        fed++;
        start = i + 1;
    }
    const struct ingest_stats *st = ingest_stats(in);
    REQUIRE(st->received == fed);
    REQUIRE(st->stored + st->store_errors ==
            st->received); /* each message is one line, or an error */
    ingest_free(in);
    return 0;
}
