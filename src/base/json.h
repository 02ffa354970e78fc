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

#include <stdint.h>
#include <string.h>

/* Worst-case growth of json_put_string for n input bytes. */
#define JSON_STRING_MAX(n) (6 * (n) + 2)

int json_put_string(struct buf *b, const char *p, size_t n);
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
