/*
 * buf: a growable byte buffer with a hard size bound. Used for output
 * batching and for per-event arenas. Growth doubles; an append that would
 * pass the bound fails with -E2BIG instead of growing without limit.
 */
#ifndef LW_BASE_BUF_H
#define LW_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* hard bound on cap; 0 means BUF_DEFAULT_MAX */
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Makes room for `extra` more bytes; returns 0, -ENOMEM or -E2BIG. */
int buf_grow(struct buf *b, size_t extra);
static inline int buf_reserve(struct buf *b, size_t extra)
{
    return extra <= b->cap - b->len ? 0 : buf_grow(b, extra);
}
/* memcpy(d, s, n) for d and s that do not overlap. Up to 16 bytes it is two
 * overlapping fixed-size moves, which compilers inline: a memcpy of a
 * variable length is a library call, and the keys, numbers and short values
 * of JSON output are mostly that short. */
static inline void buf_copy(char *d, const void *src, size_t n)
{
    const char *s = src;
    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        uint64_t a, z;
        memcpy(&a, s, 8), memcpy(&z, s + n - 8, 8);
        memcpy(d, &a, 8), memcpy(d + n - 8, &z, 8);
    } else if (n >= 4) {
        uint32_t a, z;
        memcpy(&a, s, 4), memcpy(&z, s + n - 4, 4);
        memcpy(d, &a, 4), memcpy(d + n - 4, &z, 4);
    } else if (n) {
        char a = s[0], m = s[n / 2], z = s[n - 1];
        d[0] = a, d[n / 2] = m, d[n - 1] = z;
    }
}
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);
    if (r == 0 && n) {
        buf_copy(b->data + b->len, p, n);
        b->len += n;
    }
    return r;
}
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void buf_reset(struct buf *b)
{
    b->len = 0;
}
/* Unchecked append for callers that reserved room first (hot paths). */
static inline void buf_put(struct buf *b, const void *p, size_t n)
{
    if (n == 0) /* data may still be NULL: no room was ever reserved */
        return;
    buf_copy(b->data + b->len, p, n);
    b->len += n;
}
static inline void buf_putc(struct buf *b, char c)
{
    b->data[b->len++] = c;
}

#endif
