/*
 * Fuzz target: the sidecar record parser (src/store/seal.c). Input is a
 * sidecar: lines split at '\n', each parsed alone. Checks invariants, not
 * only crashes: a parsed record's covered bytes end right before " tag=";
 * the path holds no NUL; formatting the parsed record again gives the very
 * same bytes up to the tag (one spelling per value, so what the tag covers
 * is what was parsed), and the result parses to the same record.
 */
#include "store/seal.h"

#include "require.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct seal_key key = {0, {7}};

static void one(const char *p, size_t n)
{
    struct seal_record r, again;
    if (seal_record_parse(p, n, &r) < 0)
        return;
    REQUIRE(r.canon_len + 69 == n && !memcmp(p + r.canon_len, " tag=", 5));
    REQUIRE(r.file_len > 0 && r.file_len <= SEAL_PATH_MAX && !memchr(r.file, 0, r.file_len));
    REQUIRE(r.kind == SEAL_REC_SEAL || (unsigned)r.why < SEAL_WHY_COUNT);
    char out[SEAL_LINE_MAX * 4];
    struct seal_key k = key; /* the record's epoch, any bytes: the tag is recomputed */
    k.epoch = r.epoch;
    int m = seal_record_format(&r, &k, out, sizeof(out));
    REQUIRE(m > 0 && (size_t)m == n + 1 && out[m - 1] == '\n');
    REQUIRE(!memcmp(out, p, r.canon_len));
    REQUIRE(seal_record_parse(out, (size_t)m - 1, &again) == 0);
    REQUIRE(again.seq == r.seq && again.lines == r.lines && again.bytes == r.bytes &&
            again.file_len == r.file_len && !memcmp(again.file, r.file, r.file_len) &&
            !memcmp(again.head, r.head, SEAL_HASH_BYTES) && !memcmp(again.prev, r.prev, 32));
    REQUIRE(seal_record_check(&again, out, &k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n < SEAL_LINE_MAX)
            one(p, n);
        p += n + 1;
    }
    return 0;
}
