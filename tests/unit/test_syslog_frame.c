/* Unit tests of the RFC 6587 framer: real streams captured from util-linux
 * logger 2.38.1 (-T, --octet-count) and syslog-ng 3.38 loggen (-P and
 * default), partial input, CR LF and NUL, empty lines, damaged and huge
 * octet counts, oversize frames and resync, and the same frames whether a
 * stream arrives whole or byte by byte. */
#include "base/err.h"
#include "check.h"
#include "wire/syslog_frame.h"

#include <stdlib.h>

static int next(const char *s, size_t n, struct syslog_frame *f)
{
    return syslog_frame_next(s, n, 0, f);
}

static void test_logger_octet_counted(void)
{
    /* logger --rfc5424 -T --octet-count --msgid ID47 --sd-id ... */
    const char *s = "161 <38>1 2026-11-22T22:49:26.488161+00:00 vm root - ID47 [timeQuality "
                    "tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" "
                    "eventSource=\"App\\\"li\\]c\\\\\"] hello 5424 tcp";
    struct syslog_frame f;
    CHECK_INT(next(s, strlen(s), &f), strlen(s));
    CHECK_INT(f.kind, SYSLOG_FRAME_OCTET_COUNTED);
    CHECK_INT(f.msg_off, 4);
    CHECK_INT(f.msg_len, 161);
    CHECK_MEM(s + f.msg_off, 6, "<38>1 ");
    /* every shorter prefix needs more */
    for (size_t n = 0; n < strlen(s); n++)
        CHECK_INT(next(s, n, &f), 0);
    /* logger --rfc3164 -T --octet-count */
    s = "45 <13>Nov 22 22:49:26 vm root: hello octet 3164";
    CHECK_INT(next(s, strlen(s), &f), 48);
    CHECK_MEM(s + f.msg_off, f.msg_len, "<13>Nov 22 22:49:26 vm root: hello octet 3164");
}

static void test_loggen_streams(void)
{
    /* loggen -P -n 3 (default size): octet-counted frames back to back,
     * each message ending in LF; only the seq: number differs */
    const char *one = "256 <38>1 2026-11-22T22:55:08+00:00 localhost prg00000 1234 "
                      "- - \xEF"
                      "\xBB"
                      "\xBF"
                      "seq: 0000000000, thread: 0000, runid: 1795388108, sta"
                      "mp: 2026-11-22T22:55:08 PADDPADDPADDPADDPADDPADDPADDPADDPADD"
                      "PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD"
                      "PADDPADDPADDPADDPAD\n";
    char stream[3 * 260 + 1];
    size_t n = 0, len = strlen(one);
    CHECK_INT(len, 260);
    for (int k = 0; k < 3; k++, n += len)
        memcpy(stream + n, one, len);
    size_t pos = 0;
    int frames = 0;
    struct syslog_frame f;
    for (int r; (r = next(stream + pos, n - pos, &f)) > 0; pos += (size_t)r) {
        CHECK_INT(f.kind, SYSLOG_FRAME_OCTET_COUNTED);
        CHECK_INT(f.msg_len, 256);
        CHECK_MEM(stream + pos + f.msg_off, 4, "<38>");
        CHECK(stream[pos + f.msg_off + f.msg_len - 1] == '\n');
        frames++;
    }
    CHECK_INT(frames, 3);
    CHECK_INT(pos, n);
    /* loggen default: LF-terminated */
    const char *lf = "<38>2026-11-22T22:52:59 localhost prg00000[1234]: seq: 0000000000\n"
                     "<38>2026-11-22T22:52:59 localhost prg00000[1234]: seq: 0000000001\n";
    int r = next(lf, strlen(lf), &f);
    CHECK_INT(r, strlen(lf) / 2);
    CHECK_INT(f.kind, SYSLOG_FRAME_LF);
    CHECK_INT(f.msg_len, strlen(lf) / 2 - 1);
    CHECK_INT(next(lf + r, strlen(lf) - (size_t)r, &f), r);
    /* logger -T (default RFC 5424, LF-terminated) */
    const char *lg = "<13>1 2026-11-22T22:49:26.577465+00:00 vm root - - [timeQuality "
                     "tzKnown=\"1\" isSynced=\"0\"] default tcp\n";
    CHECK_INT(next(lg, strlen(lg), &f), strlen(lg));
    CHECK_INT(f.msg_len, strlen(lg) - 1);
}

static void test_lf_details(void)
{
    struct syslog_frame f;
    CHECK_INT(next("abc\r\nx", 6, &f), 5);
    CHECK_INT(f.msg_len, 3);
    CHECK_INT(next("\n", 1, &f), 1); /* empty line: a frame of length 0 */
    CHECK_INT(f.msg_len, 0);
    CHECK_INT(next("\r\n", 2, &f), 2);
    CHECK_INT(f.msg_len, 0);
    CHECK_INT(next("a\rb\n", 4, &f), 4); /* a CR inside stays */
    CHECK_INT(f.msg_len, 3);
    CHECK_INT(next("<13>abc", 7, &f), 0);
    /* NUL: part of the message by default, a terminator with the option */
    CHECK_INT(next("a\0b\n", 4, &f), 4);
    CHECK_INT(f.msg_len, 3);
    CHECK_INT(syslog_frame_next("a\0b\n", 4, SYSLOG_FRAME_NUL_ENDS, &f), 2);
    CHECK_INT(f.msg_len, 1);
    CHECK_INT(syslog_frame_next("a\nb\0", 4, SYSLOG_FRAME_NUL_ENDS, &f), 2);
    /* a digit forced to LF framing */
    CHECK_INT(syslog_frame_next("12x y\n", 6, SYSLOG_FRAME_LF_ONLY, &f), 6);
    CHECK_INT(f.msg_len, 5);
}

static void test_bad_lengths(void)
{
    struct syslog_frame f;
    const char *cases[] = {"0 ", "01 a", "0", "12x", "1\n", "12345678901"};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int r = next(cases[k], strlen(cases[k]), &f);
        if (r != -ERR_FRAME_BAD_LENGTH)
            fprintf(stderr, "  input: \"%s\"\n", cases[k]);
        CHECK_INT(r, -ERR_FRAME_BAD_LENGTH);
        CHECK_INT(f.skip, 0);
        CHECK(f.discard_line);
    }
    CHECK_INT(next("1234567890", 10, &f), 0); /* 10 digits may still be followed by SP */
}

static void test_oversize(void)
{
    struct syslog_frame f;
    /* an octet count above the bound: skip exactly the announced frame */
    CHECK_INT(next("200001 <13>", 11, &f), -ERR_FRAME_TOO_LONG);
    CHECK_INT(f.skip, 7 + 200001);
    CHECK(!f.discard_line);
    CHECK_INT(next("9999999999 x", 12, &f), -ERR_FRAME_TOO_LONG);
    CHECK_INT(f.skip, 11 + 9999999999ULL);
    CHECK_INT(next("200001", 6, &f), 0); /* not decided before the SP */
    size_t big = SYSLOG_FRAME_MAX + 16;
    char *b = malloc(big);
    memset(b, 'a', big);
    /* exactly SYSLOG_FRAME_MAX, both framings */
    memcpy(b, "200000 ", 7);
    CHECK_INT(next(b, 7 + SYSLOG_FRAME_MAX, &f), 7 + SYSLOG_FRAME_MAX);
    CHECK_INT(f.msg_len, SYSLOG_FRAME_MAX);
    CHECK_INT(next(b, 6 + SYSLOG_FRAME_MAX, &f), 0);
    b[0] = 'x';
    b[SYSLOG_FRAME_MAX] = '\r';
    b[SYSLOG_FRAME_MAX + 1] = '\n';
    CHECK_INT(next(b, big, &f), SYSLOG_FRAME_MAX + 2);
    CHECK_INT(f.msg_len, SYSLOG_FRAME_MAX);
    /* one byte more (no CR): too long, skip through the LF */
    b[SYSLOG_FRAME_MAX] = 'a';
    CHECK_INT(next(b, big, &f), -ERR_FRAME_TOO_LONG);
    CHECK_INT(f.skip, SYSLOG_FRAME_MAX + 2);
    CHECK(!f.discard_line);
    /* no LF in sight: skip what was seen and the rest of the line */
    memset(b, 'a', big);
    CHECK_INT(next(b, SYSLOG_FRAME_MAX_CONSUMED - 1, &f), 0);
    CHECK_INT(next(b, SYSLOG_FRAME_MAX_CONSUMED, &f), -ERR_FRAME_TOO_LONG);
    CHECK_INT(f.skip, SYSLOG_FRAME_MAX_CONSUMED);
    CHECK(f.discard_line);
    free(b);
}

/* A caller: feeds `s` in chunks of `chunk` bytes, resyncs as told, and
 * writes one line per event ("F off len" / "E code") to out. */
static void drive(const char *s, size_t n, size_t chunk, char *out, size_t cap)
{
    size_t start = 0, have = 0, o = 0;
    uint64_t skip = 0;
    bool to_lf = false;
    out[0] = 0;
    while (have < n) {
        have = have + chunk < n ? have + chunk : n;
        for (;;) {
            if (skip > 0) {
                size_t k = have - start < skip ? have - start : (size_t)skip;
                start += k;
                skip -= k;
                if (skip > 0)
                    break;
            }
            if (to_lf) {
                const char *lf = memchr(s + start, '\n', have - start);
                start = lf ? (size_t)(lf - s) + 1 : have;
                if (!lf)
                    break;
                to_lf = false;
            }
            struct syslog_frame f;
            int r = syslog_frame_next(s + start, have - start, 0, &f);
            if (r == 0)
                break;
            if (r > 0) {
                o += (size_t)snprintf(out + o, cap - o, "F %zu %u\n", start + f.msg_off, f.msg_len);
                start += (size_t)r;
            } else {
                o += (size_t)snprintf(out + o, cap - o, "E %s at %zu\n",
                                      r == -ERR_FRAME_TOO_LONG ? "too-long" : "bad-length", start);
                skip = f.skip;
                to_lf = f.discard_line;
            }
        }
    }
}

static void test_whole_or_byte_by_byte(void)
{
    static const char s[] = "5 <13>a\n<13>b c\r\n\n012 bad count\n<13>x\n"
                            "999999 skip me please\n<13>y\n45 <13>Nov 22 22:49:26 vm root: "
                            "hello octet 3164<13>tail";
    static char whole[2048], bytes[2048], sevens[2048];
    drive(s, sizeof(s) - 1, sizeof(s), whole, sizeof(whole));
    drive(s, sizeof(s) - 1, 1, bytes, sizeof(bytes));
    drive(s, sizeof(s) - 1, 7, sevens, sizeof(sevens));
    CHECK_STR(bytes, whole);
    CHECK_STR(sevens, whole);
    /* what the caller saw, in order; the oversize frame eats the rest */
    CHECK_STR(whole, "F 2 5\nF 7 0\nF 8 7\nF 17 0\nE bad-length at 18\nF 32 5\n"
                     "E too-long at 38\n");
}

int main(void)
{
    test_logger_octet_counted();
    test_loggen_streams();
    test_lf_details();
    test_bad_lengths();
    test_oversize();
    test_whole_or_byte_by_byte();
    return check_status();
}
