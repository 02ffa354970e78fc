/*
 * Fuzz target: the sidecar record parser (src/store/seal.c). Input is a
 * sidecar: lines split at '\n', each parsed alone. Checks invariants, not
 * only crashes: a parsed record's covered bytes end right before " tag=";
 * the path holds no NUL; formatting the parsed record again gives the very
 * same bytes up to the tag (one spelling per value, so what the tag covers
 * is what was parsed), and the result parses to the same record. Lines
 * of the store manifest ("fam v1", "manifest v1") go through their own
 * parsers with the same round trip.
 */
#include "store/seal.h"

#include "require.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct seal_key key = {0, {7}};

static void manifest_line(const char *p, size_t n)
{
    struct seal_record f, g;
    char out[SEAL_LINE_MAX * 4];
    if (seal_fam_parse(p, n, &f) == 0) {
        REQUIRE(f.file_len > 0 && f.file_len <= SEAL_PATH_MAX && !memchr(f.file, 0, f.file_len));
        int m = seal_fam_format(f.file, f.file_len, f.seq, f.tag, out, sizeof(out));
        REQUIRE(m > 0 && (size_t)m == n + 1 && !memcmp(out, p, n));
        REQUIRE(seal_fam_parse(out, n, &g) == 0 && g.seq == f.seq);
    }
    struct seal_manifest mf, mg;
    if (seal_manifest_parse(p, n, &mf) == 0) {
        REQUIRE(mf.canon_len + 69 == n && !memcmp(p + mf.canon_len, " tag=", 5));
        struct seal_key k = key;
        k.epoch = mf.epoch;
        int m = seal_manifest_format(&mf, &k, out, sizeof(out));
        REQUIRE(m > 0 && (size_t)m == n + 1 && !memcmp(out, p, mf.canon_len));
        REQUIRE(seal_manifest_parse(out, n, &mg) == 0 && mg.families == mf.families);
        REQUIRE(seal_manifest_check(&mg, out, &k));
    }
}

static void one(const char *p, size_t n)
{
    struct seal_record r, again;
    manifest_line(p, n);
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
