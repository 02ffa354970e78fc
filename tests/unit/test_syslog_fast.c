/* The syslog parser's fast paths (16 header bytes at a time, the whole
 * RFC 3339 time stamp at once) against the parser as it was before them
 * (syslog_msg_ref.c): for real and edge-case messages, every prefix of
 * each and every one-byte substitution by bytes that matter to the grammar
 * (separators, digits, bounds of PRINTUSASCII, NUL, DEL, high bytes), the
 * return value, the error offset and every field of the result must be
 * the same. Also at the edges of the 16-byte blocks: fields of every
 * length from 1 to past their bound. */
#include "check.h"
#include "wire/syslog_msg.h"

#include <stdio.h>
#include <stdlib.h>

int syslog_msg_parse_ref(const char *p, size_t len, struct syslog_msg *m, size_t *err_off);

static long compared, differ;

static void same(const char *p, size_t n)
{
    struct syslog_msg a, b;
    size_t ea = 7777, eb = 7777;
    memset(&a, 0x5a, sizeof(a));
    memset(&b, 0xa5, sizeof(b));
    int ra = syslog_msg_parse(p, n, &a, &ea), rb = syslog_msg_parse_ref(p, n, &b, &eb);
    compared++;
    /* on error *m is unspecified: only the code and the offset count */
    if (ra != rb || ea != eb || (ra >= 0 && memcmp(&a, &b, sizeof(a)))) {
        if (differ++ < 10)
            fprintf(stderr, "differs (%d/%zu vs %d/%zu): \"%.*s\"\n", ra, ea, rb, eb, (int)n, p);
    }
}

static const char *const seeds[] = {
    "<38>1 2026-12-01T19:59:34+00:00 localhost prg00000 1234 - - \xEF\xBB\xBF"
    "seq: 0000000000, thread: 0000, runid: 1796155174, stamp: 2026-12-01T19:59:34 PADDPADD",
    "<134>1 2026-12-01T14:40:00.000123+00:00 web07.example.org app3 1003 - - seq=000357 x",
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
    "\xEF\xBB\xBF"
    "An application event log entry...",
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time",
    "<38>1 2026-11-22T22:49:26.488161+00:00 vm root - ID47 [timeQuality tzKnown=\"1\" "
    "isSynced=\"0\"][a b=\"c\\\"]\"] hello",
    "<13>Nov 22 22:49:19 vm myprog[2510]: hello 3164 udp",
    "<13>2026-11-22T22:49:19.123456+01:00 host.example prog[1]: rsyslog template",
    "<30>Feb 29 2024 01:02:03 [::1] sshd[42]: Accepted publickey for root",
    "<13>1 - - - - - -",
    "<191>1 2026-02-28T23:59:60Z h a p m - body",
    "Dec  1 00:00:00 host cron[7]: no pri",
    "<0>1 9999-12-31T23:59:59.999999999+23:59 "
    "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa pid mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm - x",
};

static const char subst[] = {' ',        '-',        '0', '9',  ':', 'T',  't',  'Z', '+', '.',
                             '[',        ']',        '"', '\\', '=', '\0', 0x7f, '!', '~', 0x20,
                             (char)0x80, (char)0xff, '<', '>',  '1', 'a',  '\n', '2', '3', '6'};

static void test_seeds(void)
{
    char buf[512];
    for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        size_t n = strlen(seeds[k]);
        for (size_t len = 0; len <= n; len++)
            same(seeds[k], len);
        for (size_t at = 0; at < n; at++)
            for (size_t c = 0; c < sizeof(subst); c++) {
                memcpy(buf, seeds[k], n);
                buf[at] = subst[c];
                same(buf, n);
                same(buf, at + 1); /* the substituted byte last */
            }
        /* two-byte changes inside the time stamp and the first fields */
        for (size_t at = 0; at + 1 < n && at < 48; at++)
            for (size_t c = 0; c < sizeof(subst); c++)
                for (size_t d = 0; d < sizeof(subst); d += 3) {
                    memcpy(buf, seeds[k], n);
                    buf[at] = subst[c];
                    buf[at + 1] = subst[d];
                    same(buf, n);
                }
    }
}

/* Every field length around the 16-byte blocks and the RFC 5424 bounds,
 * with a byte outside PRINTUSASCII at every place in it. */
static void test_field_lengths(void)
{
    char buf[1024];
    static const int bounds[] = {255, 48, 128, 32};
    for (int f = 0; f < 4; f++)
        for (int len = 1; len <= bounds[f] + 2; len++)
            for (int bad = -1; bad < len; bad += (len > 40 ? 7 : 1)) {
                char field[300];
                memset(field, 'x', (size_t)len);
                if (bad >= 0)
                    field[bad] = (char)(bad % 2 ? 0x80 : 0x1f);
                const char *parts[4] = {"host", "app", "pid", "msgid"};
                int n = snprintf(buf, sizeof(buf), "<13>1 2026-01-02T03:04:05Z ");
                for (int g = 0; g < 4; g++) {
                    if (g == f) {
                        memcpy(buf + n, field, (size_t)len);
                        n += len;
                        buf[n++] = ' ';
                    } else {
                        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s ", parts[g]);
                    }
                }
                n += snprintf(buf + n, sizeof(buf) - (size_t)n, "- the message");
                same(buf, (size_t)n);
                same(buf, (size_t)(n - 14)); /* ends right after the fields */
            }
}

/* Random bytes from a fixed seed: mostly grammar bytes, some of anything. */
static void test_random(void)
{
    unsigned long x = 88172645463325252ul;
    char buf[128];
    for (int k = 0; k < 200000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % sizeof(buf);
        size_t base = (x >> 8) % (sizeof(seeds) / sizeof(seeds[0]));
        size_t sl = strlen(seeds[base]);
        memcpy(buf, seeds[base], n < sl ? n : sl);
        for (size_t i = sl; i < n; i++)
            buf[i] = 'y';
        for (int j = 0; j < 3; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (n)
                buf[x % n] = (x >> 20) % 4 ? subst[(x >> 24) % sizeof(subst)] : (char)(x >> 32);
        }
        same(buf, n);
    }
}

int main(void)
{
    test_seeds();
    test_field_lengths();
    test_random();
    CHECK_INT(differ, 0);
    CHECK(compared > 100000);
    printf("%ld messages compared, %ld differ\n", compared, differ);
    return check_status();
}
