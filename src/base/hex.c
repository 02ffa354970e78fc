/*
 * hex: validation and decoding of hex-encoded audit values. A table lookup
 * per digit; no locale, no allocation.
 */
#include "base/hex.h"

/* digit value + 1; 0 marks a byte that is not a hex digit */
static const unsigned char digit_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

bool hex_is_encoded(const char *p, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!digit_value[(unsigned char)p[i]])
            return false;
    return true;
}

void hex_decode(const char *p, size_t n, unsigned char *out)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        out[i / 2] = (unsigned char)((digit_value[(unsigned char)p[i]] - 1) << 4 |
                                     (digit_value[(unsigned char)p[i + 1]] - 1));
}
