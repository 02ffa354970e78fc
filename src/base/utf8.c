/*
 * utf8: strict UTF-8 sequence check per RFC 3629, table 3-7 of Unicode.
 * It only measures; escaping policy belongs to the writers.
 */
#include "base/utf8.h"

size_t utf8_sequence_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && p[1] < 0xa0) /* overlong */
            return 0;
        if (c == 0xed && p[1] >= 0xa0) /* UTF-16 surrogate */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && p[1] < 0x90) /* overlong */
            return 0;
        if (c == 0xf4 && p[1] >= 0x90) /* above U+10FFFF */
            return 0;
        return 4;
    }
    return 0;
}
