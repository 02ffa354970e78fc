/*
 * json: fast JSON value writers over buf. Strings are checked 16 bytes at a
 * time (SSE2, else 8 with word tricks) and stored as they are checked, into
 * the worst-case room reserved up front, so plain runs cost no copy of their
 * own; a table marks the bytes that need attention in short tails.
 */
#include "base/json.h"

#include "base/utf8.h"

#include <stdbool.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* 0: copy as is; 1: needs escaping or UTF-8 checking. */
static const unsigned char special[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

/* Writes the escape of byte c at o; returns the end of what it wrote. */
static char *put_escaped_byte(char *o, unsigned char c)
{
    o[0] = '\\';
    switch (c) {
    case '"':
        o[1] = '"';
        return o + 2;
    case '\\':
        o[1] = '\\';
        return o + 2;
    case '\n':
        o[1] = 'n';
        return o + 2;
    case '\t':
        o[1] = 't';
        return o + 2;
    case '\r':
        o[1] = 'r';
        return o + 2;
    case '\b':
        o[1] = 'b';
        return o + 2;
    case '\f':
        o[1] = 'f';
        return o + 2;
    default:
        /* Control bytes and DEL as \u00XX; bytes >= 0x80 here are not UTF-8:
         * \udcXX keeps them recoverable. */
        o[1] = 'u';
        o[2] = c >= 0x80 ? 'd' : '0';
        o[3] = c >= 0x80 ? 'c' : '0';
        o[4] = hex_digits[c >> 4];
        o[5] = hex_digits[c & 15];
        return o + 6;
    }
}

/* Writes the special byte at *s: a whole UTF-8 sequence as is, anything else
 * escaped. Advances *s past what it consumed; returns the new end of output. */
static inline char *put_special(char *o, const unsigned char **s, const unsigned char *end)
{
    size_t k = **s >= 0x80 ? utf8_sequence_len(*s, (size_t)(end - *s)) : 0;
    if (k == 0)
        return put_escaped_byte(o, *(*s)++);
    memcpy(o, *s, k); /* k <= 4 */
    *s += k;
    return o + k;
}

#ifndef __SSE2__
/* Word-at-a-time test for bytes that need attention: < 0x20, '"', '\\',
 * and >= 0x7f. The usual bit tricks; a hit is confirmed byte by byte. */
static inline bool word_is_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t lt20 = (w - ones * 0x20) & ~w;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t has_quote = (quote - ones) & ~quote, has_bslash = (bslash - ones) & ~bslash;
    uint64_t ge7f = (w + ones * 0x01) | w; /* 0x7f + 1 sets the high bit; >= 0x80 has it */
    return ((lt20 | has_quote | has_bslash | ge7f) & high) == 0;
}
#endif

#ifdef __SSE2__
#define special_mask json_special_mask
#endif

/* Copies a plain tail of 4..15 bytes with two overlapping loads and stores
 * (memcpy of a variable length would be a library call) and returns true;
 * returns false, having written nothing, if any byte needs attention. */
static inline bool put_plain_tail(char *o, const unsigned char *s, size_t n)
{
    if (n >= 8) {
        uint64_t a, z;
        memcpy(&a, s, 8);
        memcpy(&z, s + n - 8, 8);
#ifdef __SSE2__
        /* Both words in one vector: one test instead of two word tricks. */
        if (special_mask(_mm_set_epi64x((long long)z, (long long)a)))
            return false;
#else
        if (!word_is_plain(a) || !word_is_plain(z))
            return false;
#endif
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &z, 8);
        return true;
    }
    uint32_t a, z;
    memcpy(&a, s, 4);
    memcpy(&z, s + n - 4, 4);
#ifdef __SSE2__
    if (special_mask(_mm_cvtsi64_si128((long long)((uint64_t)a | (uint64_t)z << 32))) & 0xff)
        return false;
#else
    if (!word_is_plain((uint64_t)a | (uint64_t)z << 32))
        return false;
#endif
    memcpy(o, &a, 4);
    memcpy(o + n - 4, &z, 4);
    return true;
}

/* Writes the escaped bytes [s, end) at o and returns the end of the output.
 * Room for the worst case (6 per byte) is reserved, so while 16 or more bytes
 * are left a whole block may be stored before it is checked: plain runs are
 * copied without a separate memcpy per run. */
static inline __attribute__((always_inline)) char *
put_escaped_any(char *o, const unsigned char *s, const unsigned char *end, bool padded)
{
#ifdef __SSE2__
    /* 32 bytes a turn while there are (records are mostly plain, with a
     * quoted value every 60 bytes or so), then 16. The inner loops make no
     * call, so their constants stay in registers; after a special byte the
     * scan restarts right behind it. */
    while (end - s >= 16) {
        unsigned mask = 0;
        while (end - s >= 32) {
            __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
            _mm_storeu_si128((__m128i *)(void *)o, v0);
            _mm_storeu_si128((__m128i *)(void *)(o + 16), v1);
            mask = special_mask(v0) | special_mask(v1) << 16;
            if (mask)
                break;
            s += 32, o += 32;
        }
        if (mask == 0) {
            if (end - s < 16)
                break;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
            _mm_storeu_si128((__m128i *)(void *)o, v);
            mask = special_mask(v);
            if (mask == 0) {
                s += 16, o += 16;
                break; /* fewer than 32 were left: fewer than 16 are now */
            }
        }
        unsigned k = (unsigned)__builtin_ctz(mask);
        s += k, o += k;
        if (*s == '"') { /* raw records quote every string: not worth a call */
            o[0] = '\\', o[1] = '"';
            s++, o += 2;
            continue;
        }
        o = put_special(o, &s, end);
    }
    /* With 16 readable bytes past the end, the last ones are a block too:
     * loaded whole, tested up to the end only. */
    while (padded && s < end) {
        size_t left = (size_t)(end - s); /* < 16 */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        _mm_storeu_si128((__m128i *)(void *)o, v);
        unsigned mask = special_mask(v) & ((1u << left) - 1);
        if (mask == 0)
            return o + left;
        unsigned k = (unsigned)__builtin_ctz(mask);
        s += k, o += k;
        if (*s == '"') {
            o[0] = '\\', o[1] = '"';
            s++, o += 2;
            continue;
        }
        o = put_special(o, &s, end);
    }
#else
    (void)padded;
    while (end - s >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        if (!word_is_plain(w))
            break;
        memcpy(o, &w, 8);
        s += 8, o += 8;
    }
#endif
    size_t n = (size_t)(end - s);
    if (n >= 4 && put_plain_tail(o, s, n))
        return o + n;
    while (s < end) {
        if (!special[*s])
            *o++ = (char)*s++;
        else
            o = put_special(o, &s, end);
    }
    return o;
}

static __attribute__((noinline)) char *put_escaped(char *o, const unsigned char *s,
                                                   const unsigned char *end)
{
    return put_escaped_any(o, s, end, false);
}

int json_put_string_padded_long(struct buf *b, const char *p, size_t n)
{
    /* 16 more: the last block's store may pass the escaped end */
    int r = buf_reserve(b, JSON_STRING_MAX(n) + 16);
    if (r < 0)
        return r;
    const unsigned char *s = (const unsigned char *)p;
    char *o = b->data + b->len;
    *o++ = '"';
    o = put_escaped_any(o, s, s + n, true);
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

int json_put_string(struct buf *b, const char *p, size_t n)
{
    int r = buf_reserve(b, JSON_STRING_MAX(n));
    if (r < 0)
        return r;
    if (n == 0) { /* p may be NULL */
        buf_put(b, "\"\"", 2);
        return 0;
    }
    const unsigned char *s = (const unsigned char *)p;
    char *o = b->data + b->len;
    *o++ = '"';
    /* Most strings are short values: their tail path inline, so that the
     * call does not save the registers the 16-byte loop needs. */
    if (n >= 4 && n < 16 && put_plain_tail(o, s, n))
        o += n;
    else
        o = put_escaped(o, s, s + n);
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/* "00" .. "99": two digits per division. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

size_t json_format_u64(char *p, uint64_t v)
{
    size_t n = 1; /* digits */
    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    char *o = p + n;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--o = digit_pairs[d + 1];
        *--o = digit_pairs[d];
    }
    if (v >= 10) {
        *--o = digit_pairs[v * 2 + 1];
        *--o = digit_pairs[v * 2];
    } else {
        *--o = (char)('0' + v);
    }
    return n;
}

int json_put_u64(struct buf *b, uint64_t v)
{
    int r = buf_reserve(b, 20);
    if (r < 0)
        return r;
    b->len += json_format_u64(b->data + b->len, v);
    return 0;
}

int json_put_i64(struct buf *b, int64_t v)
{
    int r = buf_reserve(b, 21);
    if (r < 0)
        return r;
    if (v < 0) {
        buf_putc(b, '-');
        b->len += json_format_u64(b->data + b->len, (uint64_t)0 - (uint64_t)v);
    } else {
        b->len += json_format_u64(b->data + b->len, (uint64_t)v);
    }
    return 0;
}

int json_put_raw(struct buf *b, const char *s)
{
    return buf_append_str(b, s);
}
