/*
 * bytes: equality of short byte strings of a known length, the question the
 * name tables (record types, field names, PATH keys) ask for every record.
 * memcmp with a variable length is a library call whose cost dwarfs names
 * of 3 to 16 bytes; two overlapping word loads per side do the same job
 * without reading outside either string.
 */
#ifndef LW_BASE_BYTES_H
#define LW_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* a[0..n) == b[0..n). */
static inline bool bytes_equal(const void *a, const void *b, size_t n)
{
    const char *x = a, *y = b;
    if (n > 16)
        return memcmp(x, y, n) == 0;
    if (n >= 8) {
        uint64_t x0, x1, y0, y1;
        memcpy(&x0, x, 8), memcpy(&x1, x + n - 8, 8);
        memcpy(&y0, y, 8), memcpy(&y1, y + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4) {
        uint32_t x0, x1, y0, y1;
        memcpy(&x0, x, 4), memcpy(&x1, x + n - 4, 4);
        memcpy(&y0, y, 4), memcpy(&y1, y + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

#endif
