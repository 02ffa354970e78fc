/*
 * json: appends JSON values to a buf. Strings are always valid UTF-8 JSON
 * whatever bytes they hold: a byte that is not part of well-formed UTF-8 is
 * written as the escape \udcXX (XX = the byte, U+DC80..U+DCFF, the
 * "surrogateescape" convention), so the original bytes are recoverable
 * exactly (Python: s.encode("utf-8", "surrogateescape")), nothing is dropped
 * and U+FFFD is never substituted. See docs/event-schema.md.
 */
#ifndef LW_BASE_JSON_H
#define LW_BASE_JSON_H

#include "base/buf.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <string.h>

/* Worst-case growth of json_put_string for n input bytes. */
#define JSON_STRING_MAX(n) (6 * (n) + 2)

int json_put_string(struct buf *b, const char *p, size_t n);
#ifdef __SSE2__
/* Bit i set: byte i of v needs attention in a JSON string (< 0x20, '"',
 * '\\', 0x7f and up). v + 1 as signed bytes is below 0x21 exactly for
 * 0x00..0x1f, 0x7f (which wraps to -128) and 0x80..0xff. */
static inline unsigned json_special_mask(__m128i v)
{
    const __m128i bound = _mm_set1_epi8(0x21), one = _mm_set1_epi8(1), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\');
    __m128i low = _mm_cmpgt_epi8(bound, _mm_add_epi8(v, one));
    __m128i hit =
        _mm_or_si128(low, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
    return (unsigned)_mm_movemask_epi8(hit);
}
#endif
/* The part of json_put_string_padded that is not inline. */
int json_put_string_padded_long(struct buf *b, const char *p, size_t n);
/* json_put_string for p[0..n) where 16 bytes can be read at any byte of it
 * and at p + n (a value inside a buffer with slack after it): a plain string
 * of up to 16 bytes is one load, one test and one store, inline, with no
 * branch on its length; a longer one ends with a whole 16-byte block too. */
static inline int json_put_string_padded(struct buf *b, const char *p, size_t n)
{
#ifdef __SSE2__
    if (n <= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        if ((json_special_mask(v) & ((1u << n) - 1)) == 0) {
            int r = buf_reserve(b, 18);
            if (r < 0)
                return r;
            char *o = b->data + b->len;
            o[0] = '"';
            _mm_storeu_si128((__m128i *)(void *)(o + 1), v);
            o[n + 1] = '"';
            b->len += n + 2;
            return 0;
        }
    }
    return json_put_string_padded_long(b, p, n);
#else
    return json_put_string(b, p, n);
#endif
}
int json_put_u64(struct buf *b, uint64_t v);
int json_put_i64(struct buf *b, int64_t v);
/* Appends `"name":` for name[0..n) (plain ASCII without quotes). */
static inline int json_put_key_len(struct buf *b, const char *name, size_t n)
{
    int r = buf_reserve(b, n + 3);
    if (r < 0)
        return r;
    b->data[b->len] = '"';
    buf_copy(b->data + b->len + 1, name, n);
    b->data[b->len + 1 + n] = '"';
    b->data[b->len + 2 + n] = ':';
    b->len += n + 3;
    return 0;
}
/* The same for a NUL-terminated name. Inline so that the length of a
 * literal name is known at compile time. */
static inline int json_put_key(struct buf *b, const char *name)
{
    return json_put_key_len(b, name, strlen(name));
}
int json_put_raw(struct buf *b, const char *s); /* literal text: punctuation, true, null */

/* Writes v in decimal at p (room for 20 bytes); returns the length. */
size_t json_format_u64(char *p, uint64_t v);

#endif
