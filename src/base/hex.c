/*
 * hex: validation and decoding of hex-encoded audit values. Eight digits at
 * a time in a 64-bit word (range tests and nibble packing with the usual
 * bit tricks), a table lookup per digit for what is left; no locale, no
 * allocation.
 */
#include "base/hex.h"

#include <stdint.h>
#include <string.h>

/* digit value + 1; 0 marks a byte that is not a hex digit */
static const unsigned char digit_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* High bit of each byte set where that byte (< 0x80) is >= c: with the high
 * bit forced on, no byte borrows from the next. */
static inline uint64_t bytes_ge(uint64_t w, unsigned c)
{
    return ((w | HIGH) - ONES * c) & HIGH;
}

/* All 8 bytes of w are hex digits (0-9, A-F, a-f). */
static inline int word_is_hex(uint64_t w)
{
    if (w & HIGH)
        return 0;
    uint64_t lower = w | ONES * 0x20;
    uint64_t digit = bytes_ge(w, '0') & ~bytes_ge(w, '9' + 1);
    uint64_t alpha = bytes_ge(lower, 'a') & ~bytes_ge(lower, 'f' + 1);
    return (digit | alpha) == HIGH;
}

bool hex_is_encoded(const char *p, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (!word_is_hex(load8(p + i)))
                return false;
        return word_is_hex(load8(p + n - 8)); /* the last 8, overlapping */
    }
    for (size_t i = 0; i < n; i++)
        if (!digit_value[(unsigned char)p[i]])
            return false;
    return true;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 8 validated digits -> their 4 bytes. A digit's value is its low nibble,
 * plus 9 for a letter (bit 6 set); then each pair is joined and the four
 * bytes are packed together. */
static inline void decode8(const char *p, unsigned char *out)
{
    uint64_t w = load8(p);
    uint64_t nib = (w & ONES * 0x0f) + ((w >> 6) & ONES) * 9;
    uint64_t t = ((nib << 4) | (nib >> 8)) & 0x00ff00ff00ff00ffull;
    t = (t | t >> 8) & 0x0000ffff0000ffffull;
    t = (t | t >> 16) & 0xffffffffull;
    uint32_t v = (uint32_t)t;
    memcpy(out, &v, 4);
}
#define HEX_WORDS 1
#endif

void hex_decode(const char *p, size_t n, unsigned char *out)
{
    size_t i = 0;
#ifdef HEX_WORDS
    for (; i + 8 <= n; i += 8)
        decode8(p + i, out + i / 2);
#endif
    for (; i + 1 < n; i += 2)
        out[i / 2] = (unsigned char)((digit_value[(unsigned char)p[i]] - 1) << 4 |
                                     (digit_value[(unsigned char)p[i + 1]] - 1));
}
