/*
 * name: turns a host or program name from the network into one safe path
 * component (store_name_sanitize). Injective: the escaped form decodes back
 * to the input, and an over-long name ends in a hash no short name can hold.
 * It only maps names; it does not open anything or decide where a name goes
 * (that is path.c). The rules are in docs/formats.md, "Names".
 */
#include "store/store.h"

#include "base/utf8.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#define NAME_HASH_HEX 32 /* 128 bits of SHA-256: no collision an attacker can find */

/* Code points kept escaped although well-formed: invisible, spacing,
 * bidirectional and other format characters, private use (they would let a
 * name look like another in `ls`, or reorder a terminal line). */
static const struct {
    uint32_t lo, hi;
} hidden_ranges[] = {
    {0x80, 0xa0},     {0xad, 0xad},     {0x34f, 0x34f},     {0x61c, 0x61c},     {0x115f, 0x1160},
    {0x17b4, 0x17b5}, {0x180b, 0x180f}, {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x206f},
    {0x3000, 0x3000}, {0x3164, 0x3164}, {0xe000, 0xf8ff},   {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},
    {0xffa0, 0xffa0}, {0xfff0, 0xffff}, {0x1d173, 0x1d17a}, {0xe0000, 0xe0fff}, {0xf0000, 0x10ffff},
};

static uint32_t utf8_decode(const unsigned char *p, size_t n)
{
    uint32_t c = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        c = c << 6 | (p[i] & 0x3f);
    return c;
}

/* Length of a UTF-8 sequence at p that may stay as it is, or 0. */
static size_t readable_utf8_len(const unsigned char *p, size_t n)
{
    size_t k = utf8_sequence_len(p, n);
    if (k == 0)
        return 0;
    uint32_t c = utf8_decode(p, k);
    for (size_t i = 0; i < sizeof(hidden_ranges) / sizeof(hidden_ranges[0]); i++)
        if (c >= hidden_ranges[i].lo && c <= hidden_ranges[i].hi)
            return 0;
    return k;
}

/* ASCII bytes that stay as they are; '.' and '-' not in first place. */
static bool plain_ascii(unsigned char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c == '.' || c == '-')
        return !first;
    return c == '_' || c == ':' || c == '@' || c == '+';
}

/* The bytes plain_ascii keeps anywhere, as a bitmap of the 128 ASCII
 * codes: letters, digits and ".-_:@+". */
static const uint64_t plain_bits[2] = {0x07ff680000000000ull, 0x07fffffe87ffffffull};

/* True if escape() would copy in[0..len) unchanged, len <= STORE_NAME_MAX:
 * most names are such, and one bit test per byte is much cheaper. */
static bool all_plain(const unsigned char *in, size_t len)
{
    if (len > STORE_NAME_MAX || in[0] == '.' || in[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (in[i] >= 0x80 || !(plain_bits[in[i] >> 6] >> (in[i] & 63) & 1))
            return false;
    return true;
}

/*
 * Escapes in[0..len) into out, at most `room` bytes, never splitting an
 * escape or a UTF-8 sequence. Returns the bytes written; *used gets the
 * input bytes consumed (len when everything fit).
 */
static size_t escape(const unsigned char *in, size_t len, char *out, size_t room, size_t *used)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0, i = 0;
    while (i < len) {
        size_t k = in[i] >= 0x80 ? readable_utf8_len(in + i, len - i) : 0;
        if (k) {
            if (o + k > room)
                break;
            memcpy(out + o, in + i, k);
            o += k;
            i += k;
        } else if (in[i] < 0x80 && plain_ascii(in[i], i == 0)) {
            if (o + 1 > room)
                break;
            out[o++] = (char)in[i++];
        } else {
            if (o + 3 > room)
                break;
            out[o++] = '%';
            out[o++] = hex[in[i] >> 4];
            out[o++] = hex[in[i] & 15];
            i++;
        }
    }
    *used = i;
    return o;
}

static int hash_suffix(const char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(in, len, md, &mdlen, EVP_sha256(), NULL) || mdlen * 2 < NAME_HASH_HEX)
        return -EIO;
    out[0] = '~';
    for (size_t i = 0; i < NAME_HASH_HEX / 2; i++) {
        out[1 + 2 * i] = hex[md[i] >> 4];
        out[2 + 2 * i] = hex[md[i] & 15];
    }
    return 1 + NAME_HASH_HEX;
}

int store_name_sanitize(const char *in, size_t len, char *out, size_t cap)
{
    char tmp[STORE_NAME_MAX];
    size_t n, used;
    if (len == 0) {
        memcpy(tmp, "_", 1); /* and a real "_" is escaped below, so it stays distinct */
        n = 1;
    } else if (len == 1 && in[0] == '_') {
        memcpy(tmp, "%5F", 3);
        n = 3;
    } else if (all_plain((const unsigned char *)in, len)) {
        if (cap < len + 1)
            return -ENAMETOOLONG;
        memcpy(out, in, len);
        out[len] = '\0';
        return (int)len;
    } else {
        n = escape((const unsigned char *)in, len, tmp, sizeof(tmp), &used);
        if (used < len) {
            /* Too long: an escaped prefix, then the hash of the whole name. */
            n = escape((const unsigned char *)in, len, tmp, sizeof(tmp) - 1 - NAME_HASH_HEX, &used);
            int h = hash_suffix(in, len, tmp + n);
            if (h < 0)
                return h;
            n += (size_t)h;
        }
    }
    if (cap < n + 1)
        return -ENAMETOOLONG;
    memcpy(out, tmp, n);
    out[n] = '\0';
    return (int)n;
}
