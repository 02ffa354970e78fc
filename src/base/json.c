/*
 * json: fast JSON value writers over buf. A table marks the bytes that need
 * attention so that runs of plain ASCII are copied with one memcpy.
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

static void put_escaped_byte(struct buf *b, unsigned char c)
{
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '"':
        e[1] = '"';
        break;
    case '\\':
        e[1] = '\\';
        break;
    case '\n':
        e[1] = 'n';
        break;
    case '\t':
        e[1] = 't';
        break;
    case '\r':
        e[1] = 'r';
        break;
    case '\b':
        e[1] = 'b';
        break;
    case '\f':
        e[1] = 'f';
        break;
    default:
        /* Control bytes and DEL as \u00XX; bytes >= 0x80 here are not UTF-8:
         * \udcXX keeps them recoverable. */
        e[1] = 'u';
        e[2] = c >= 0x80 ? 'd' : '0';
        e[3] = c >= 0x80 ? 'c' : '0';
        e[4] = hex_digits[c >> 4];
        e[5] = hex_digits[c & 15];
        n = 6;
    }
    buf_put(b, e, n);
}

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

static inline const unsigned char *skip_plain(const unsigned char *s, const unsigned char *end)
{
#ifdef __SSE2__
    /* 16 bytes at a time: as signed bytes, "< 0x20" also catches >= 0x80. */
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\'), del = _mm_set1_epi8(0x7f);
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, quote)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, bslash), _mm_cmpeq_epi8(v, del)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return s + __builtin_ctz(mask);
        s += 16;
    }
#endif
    while (end - s >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        if (!word_is_plain(w))
            break;
        s += 8;
    }
    while (s < end && !special[*s])
        s++;
    return s;
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
    const unsigned char *s = (const unsigned char *)p, *end = s + n;
    buf_putc(b, '"');
    while (s < end) {
        const unsigned char *run = s;
        s = skip_plain(s, end);
        if (s > run)
            buf_put(b, run, (size_t)(s - run));
        if (s == end)
            break;
        if (*s >= 0x80) {
            size_t k = utf8_sequence_len(s, (size_t)(end - s));
            if (k) {
                buf_put(b, s, k);
                s += k;
                continue;
            }
        }
        put_escaped_byte(b, *s++);
    }
    buf_putc(b, '"');
    return 0;
}

size_t json_format_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
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
