/* Unit test of the stored line (ingest.c, docs/formats.md) against a plain
 * reference written here: time stamps that repeat, change by a second, by
 * zone only, with and without fractions (the stamp is copied from the last
 * line while it holds); message text of every length up to 300 with
 * control bytes anywhere (escaped 64 or 16 bytes at a time); origins that
 * alternate, including a transport buffer whose content changes at the same
 * address and identities that need escapes (the metadata tail is kept per
 * origin). Lines are caught through the origin's sink, so no store. */
#include "check.h"
#include "collector/ingest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

static char got[8192];
static size_t got_len;
static char got_host[256], got_prog[256];

static int sink(void *arg, const char *host, size_t host_len, const char *program,
                size_t program_len, const char *line, size_t len)
{
    (void)arg;
    memcpy(got, line, len < sizeof(got) ? len : sizeof(got));
    got_len = len;
    snprintf(got_host, sizeof(got_host), "%.*s", (int)host_len, host);
    snprintf(got_prog, sizeof(got_prog), "%.*s", (int)program_len, program);
    return 0;
}

static unsigned long rnd_state = 0x9e3779b97f4a7c15ul;
static unsigned long rnd(void)
{
    rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 7, rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* The reference escape: byte by byte, as docs/formats.md says. */
static size_t ref_escape(char *o, const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            k += (size_t)sprintf(o + k, "#%03o", c);
        else
            o[k++] = (char)c;
    }
    return k;
}

struct stamp {
    int y, mo, d, h, mi, s, fd; /* fd: digits of the fraction, 0 = none */
    unsigned long frac;         /* those digits' value */
    int tz;                     /* minutes east; 9999 = "Z" */
};

static const struct stamp stamps[] = {
    {2026, 1, 2, 3, 4, 5, 0, 0, 9999},
    {2026, 1, 2, 3, 4, 5, 0, 0, 0},
    {2026, 1, 2, 3, 4, 5, 0, 0, 330},
    {2026, 1, 2, 3, 4, 5, 1, 5, -210},
    {2026, 1, 2, 3, 4, 6, 0, 0, 9999},
    {2026, 1, 2, 3, 4, 6, 6, 123456, 825},
    {1999, 12, 31, 23, 59, 59, 9, 123456789, -720},
    {2026, 1, 2, 3, 5, 5, 3, 7, 9999},
    {2027, 1, 2, 3, 4, 5, 0, 0, 9999},
    {2026, 2, 2, 3, 4, 5, 0, 0, 9999},
    {2026, 1, 3, 3, 4, 5, 0, 0, 9999},
    {2026, 1, 2, 4, 4, 5, 0, 0, 9999},
    {2024, 2, 29, 0, 0, 60, 6, 999999, 59},
};

static void stamp_text(const struct stamp *t, char *wire, char *stored)
{
    char frac[16] = "", zone[24] = "Z";
    if (t->fd)
        snprintf(frac, sizeof(frac), ".%0*lu", t->fd, t->frac);
    int a = t->tz == 9999 ? 0 : abs(t->tz);
    char sign = t->tz != 9999 && t->tz < 0 ? '-' : '+';
    if (t->tz != 9999)
        snprintf(zone, sizeof(zone), "%c%02d:%02d", sign, a / 60, a % 60);
    sprintf(wire, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", t->y, t->mo, t->d, t->h, t->mi, t->s, frac,
            zone);
    unsigned long usec = t->frac;
    for (int k = t->fd; k < 6; k++)
        usec *= 10;
    for (int k = t->fd; k > 6; k--)
        usec /= 10;
    char sfrac[16] = "";
    if (t->fd)
        snprintf(sfrac, sizeof(sfrac), ".%06lu", usec);
    sprintf(stored, "%04d-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d ", t->y, t->mo, t->d, t->h, t->mi,
            t->s, sfrac, sign, a / 60, a % 60);
}

static void test_lines(void)
{
    struct ingest *in = ingest_new(NULL, HOST_FROM_CLAIMED);
    if (!in)
        abort();
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    struct sockaddr_in v4b = v4;
    inet_pton(AF_INET, "198.51.100.20", &v4b.sin_addr);
    char via[16]; /* one buffer, several names at the same address */
    const struct {
        const struct sockaddr *sa;
        const char *peer, *via, *id;
    } origins[] = {
        {(const struct sockaddr *)&v4, "192.0.2.7", "tcp", NULL},
        {(const struct sockaddr *)&v6, "2001:db8::1", "tls", "web01.example.org"},
        {(const struct sockaddr *)&v4b, "198.51.100.20", "relp", "x\ty"},
        {(const struct sockaddr *)&v4b, "198.51.100.20", "relp+tls", "x\ty"},
        {(const struct sockaddr *)&v4, "192.0.2.7", "relp", NULL},
        {NULL, "local", "tcp", NULL},
    };
    char msg[1024], want[8192], body[400], wire[64], stored[64];
    int wrong = 0;
    for (int k = 0; k < 20000; k++) {
        size_t oi = rnd() % 16 < 12 ? (size_t)(k / 500) % 6 : rnd() % 6; /* runs, then jumps */
        const struct stamp *t = &stamps[rnd() % 4 ? (size_t)(k / 97) % 13 : rnd() % 13];
        stamp_text(t, wire, stored);
        size_t blen = rnd() % 301;
        for (size_t i = 0; i < blen; i++) {
            unsigned long r = rnd();
            body[i] = r % 23 == 0   ? (char)((r >> 8) % 32)
                      : r % 41 == 0 ? 0x7f
                                    : (char)('a' + (r >> 8) % 26);
            if (r % 97 == 0)
                body[i] = (char)(0x80 + (r >> 16) % 128);
        }
        if (blen && body[blen - 1] == '\n') /* a final LF is not part of MSG */
            body[blen - 1] = 'z';
        const char *host = k % 3 ? "web07.example.org" : "h";
        const char *app = k % 5 ? "app" : "a-longer-app-name";
        const char *pid = k % 7 ? "1234" : "9";
        int n = snprintf(msg, sizeof(msg), "<13>1 %s %s %s %s - - ", wire, host, app, pid);
        memcpy(msg + n, body, blen);
        n += (int)blen;
        snprintf(via, sizeof(via), "%s", origins[oi].via);
        struct ingest_origin o = {
            .peer = origins[oi].sa, .transport = via, .identity = origins[oi].id, .sink = sink};
        got_len = 0;
        CHECK_INT(ingest_syslog(in, &o, msg, (size_t)n), 0);
        size_t w = (size_t)sprintf(want, "%s%s %s[%s]: ", stored, host, app, pid);
        w += ref_escape(want + w, body, blen);
        w += (size_t)sprintf(want + w, "\tpeer=%s via=%s id=", origins[oi].peer, origins[oi].via);
        if (origins[oi].id)
            w += ref_escape(want + w, origins[oi].id, strlen(origins[oi].id));
        else
            want[w++] = '-';
        const char *want_host = origins[oi].id ? origins[oi].id : host;
        if (got_len != w || memcmp(got, want, w) || strcmp(got_prog, app) ||
            strcmp(got_host, want_host)) {
            if (wrong++ < 5)
                fprintf(stderr, "line %d:\n got  %.*s\n want %.*s\n (%s/%s)\n", k, (int)got_len,
                        got, (int)w, want, got_host, got_prog);
        }
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(ingest_stats(in)->stored, 20000);
    ingest_free(in);
}

int main(void)
{
    test_lines();
    return check_status();
}
