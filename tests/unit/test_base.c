/* Unit tests of base: the lossless JSON string escape, hex, UTF-8. */
#include "base/hex.h"
#include "base/json.h"
#include "base/utf8.h"
#include "check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void test_json_escape(void)
{
    struct buf b;
    buf_init(&b, 0);
    const char in[] = "a\"b\\c\n\x01\x7f"
                      "\xc3\xa9"
                      "\xff"
                      "\xe2\x82"
                      "z";
    CHECK_INT(json_put_string(&b, in, sizeof(in) - 1), 0);
    CHECK_MEM(b.data, b.len, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\\udcff\\udce2\\udc82z\"");
    buf_reset(&b);
    json_put_i64(&b, -42);
    json_put_u64(&b, 18446744073709551615ull);
    CHECK_MEM(b.data, b.len, "-4218446744073709551615");
    buf_free(&b);
}

/* The escape byte by byte, as docs/event-schema.md states it: the fast paths
 * of json_put_string and json_put_string_padded (16 and 32 bytes at a time,
 * short tails, whole last blocks) must agree. */
static size_t reference_escape(const unsigned char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c >= 0x80 ? utf8_sequence_len(s + i, n - i) : 0;
        if (k) {
            memcpy(o, s + i, k), o += k, i += k;
            continue;
        }
        i++;
        const char *e = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t"
                        : c == '\r' ? "\\r"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                                    : NULL;
        if (e) {
            memcpy(o, e, 2), o += 2;
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(o, c >= 0x80 ? "\\udc" : "\\u00", 4), o += 4;
            *o++ = hex[c >> 4], *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

static void test_json_escape_random(void)
{
    static const unsigned char pick[] = {'a',  '"',  '\\', '\n', 0x01, 0x1f, 0x20, 0x7e, 0x7f,
                                         0x80, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff};
    unsigned char in[200];
    char want[6 * sizeof(in) + 2];
    struct buf b;
    buf_init(&b, 0);
    uint64_t x = 88172645463325252ull; /* xorshift: the same cases every run */
    int bad = 0;
    for (int round = 0; round < 20000 && bad < 3; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % sizeof(in);
        unsigned mostly_plain = (x >> 8) % 4; /* 0: any bytes; else rare specials */
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[i] = mostly_plain && x % 16 ? (unsigned char)(0x20 + (x >> 8) % 95) /* printable */
                                           : pick[(x >> 8) % sizeof(pick)];
        }
        size_t want_len = reference_escape(in, n, want);
        buf_reset(&b);
        CHECK_INT(json_put_string(&b, (const char *)in, n), 0);
        if (b.len != want_len || memcmp(b.data, want, want_len) != 0) {
            fprintf(stderr, "json_put_string differs from the reference for %zu bytes (round %d)\n",
                    n, round);
            bad++;
        }
        /* The padded writer on the same bytes, with 16 bytes of noise after. */
        unsigned char padded[sizeof(in) + 16];
        memcpy(padded, in, n);
        memset(padded + n, (int)(x >> 16) & 0xff, 16);
        buf_reset(&b);
        CHECK_INT(json_put_string_padded(&b, (const char *)padded, n), 0);
        if (b.len != want_len || memcmp(b.data, want, want_len) != 0) {
            fprintf(stderr, "json_put_string_padded differs for %zu bytes (round %d)\n", n, round);
            bad++;
        }
    }
    CHECK_INT(bad, 0);
    buf_free(&b);
}

/* hex_is_encoded and hex_decode (8 digits at a time, then byte by byte)
 * against a per-byte reference on generated strings of every length to 40. */
static void test_hex_random(void)
{
    static const char pick[] = "0123456789abcdefABCDEF/:G@`gz\x80";
    char in[40];
    unsigned char got[20], want[20];
    uint64_t x = 2463534242ull;
    int bad = 0;
    for (int round = 0; round < 20000 && bad < 3; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % (sizeof(in) + 1);
        bool rare = (x >> 8) % 2; /* mostly digits, a wrong byte now and then */
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[i] = pick[(x >> 8) % (rare && x % 64 ? 22 : sizeof(pick) - 1)];
        }
        bool hex = n > 0 && n % 2 == 0;
        for (size_t i = 0; i < n; i++)
            hex = hex && ((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f') ||
                          (in[i] >= 'A' && in[i] <= 'F'));
        if (hex_is_encoded(in, n) != hex) {
            fprintf(stderr, "hex_is_encoded(\"%.*s\") != %d\n", (int)n, in, hex);
            bad++;
            continue;
        }
        if (!hex)
            continue;
        for (size_t i = 0; i < n / 2; i++) {
            unsigned v = 0;
            for (int k = 0; k < 2; k++) {
                char c = in[2 * i + (size_t)k];
                v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
            want[i] = (unsigned char)v;
        }
        hex_decode(in, n, got);
        if (memcmp(got, want, n / 2) != 0) {
            fprintf(stderr, "hex_decode(\"%.*s\") differs\n", (int)n, in);
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static void test_hex_and_utf8(void)
{
    unsigned char out[4];
    CHECK(hex_is_encoded("2F746D70", 8));
    CHECK(!hex_is_encoded("2F7", 3));
    CHECK(!hex_is_encoded("2G", 2));
    CHECK(!hex_is_encoded("", 0));
    hex_decode("2F746d70", 8, out);
    CHECK_MEM(out, 4, "/tmp");
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xc0\x80", 2), 0);     /* overlong */
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
}

static void test_buf_bound(void)
{
    struct buf b;
    buf_init(&b, 16);
    CHECK_INT(buf_append(&b, "0123456789", 10), 0);
    CHECK_INT(buf_append(&b, "0123456789", 10), -E2BIG);
    CHECK_INT(b.len, 10);
    buf_free(&b);
}

int main(void)
{
    test_json_escape();
    test_json_escape_random();
    test_hex_and_utf8();
    test_hex_random();
    test_buf_bound();
    return check_status();
}
