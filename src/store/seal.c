/*
 * seal: the evolving key, the per-line hash chain and the sidecar records
 * of the store's sealing (docs/formats.md, "Sealing"). Pure functions over
 * memory: the writer (seal_store.c) and the verifier (verify.c) both use
 * them, so the two can never disagree on a byte. It does no I/O and keeps
 * no state; where keys live and when they advance is seal_store.c's.
 *
 * The chain hashes each seal's segment of the file as a stream (version 2;
 * version 1 hashed each line alone, with its length: 0.8 us per 300-byte
 * line, the init and padding block of every line, against 0.2 us now),
 * with OpenSSL's SHA-256 functions (SHA-NI where the CPU has it), which
 * are deprecated in OpenSSL 3 but cost no provider dispatch per call.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "store/seal.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVOLVE_LABEL "logward-evolve v1"
#define CHECK_LABEL  "logward-key-check v1"
#define MARK_EVERY   1024

static const char hexdig[] = "0123456789abcdef";
static const char *const why_names[SEAL_WHY_COUNT] = {"num_logs", "max_age", "max_total"};

const char *seal_why_name(enum seal_why why)
{
    return (unsigned)why < SEAL_WHY_COUNT ? why_names[why] : "?";
}

static void hex_put(char *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[p[i] >> 4];
        out[2 * i + 1] = hexdig[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case is refused: one spelling per value */
}

static bool hex_get(const char *p, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        int a = hexval(p[2 * i]), b = hexval(p[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[i] = (unsigned char)(a << 4 | b);
    }
    return true;
}

/* ---- keys ---- */

void seal_key_evolve(struct seal_key *key)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, EVOLVE_LABEL, sizeof(EVOLVE_LABEL) - 1);
    SHA256_Update(&c, key->k, sizeof(key->k));
    SHA256_Final(key->k, &c); /* replaces k_e in place */
    OPENSSL_cleanse(&c, sizeof(c));
    key->epoch++;
}

void seal_key_derive(const struct seal_key *from, uint64_t epoch, struct seal_key *out)
{
    *out = *from;
    while (out->epoch < epoch)
        seal_key_evolve(out);
}

void seal_key_wipe(struct seal_key *key)
{
    OPENSSL_cleanse(key, sizeof(*key));
}

static void key_check(const struct seal_key *key, unsigned char out[8])
{
    unsigned char d[SHA256_DIGEST_LENGTH], e[8];
    for (int i = 0; i < 8; i++)
        e[i] = (unsigned char)(key->epoch >> (56 - 8 * i));
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, CHECK_LABEL, sizeof(CHECK_LABEL) - 1);
    SHA256_Update(&c, e, sizeof(e));
    SHA256_Update(&c, key->k, sizeof(key->k));
    SHA256_Final(d, &c);
    memcpy(out, d, 8);
}

int seal_key_format(const struct seal_key *key, const char *magic, char *out, size_t cap)
{
    char k[2 * SEAL_KEY_BYTES + 1], ck[17];
    unsigned char c[8];
    key_check(key, c);
    hex_put(k, key->k, sizeof(key->k));
    hex_put(ck, c, sizeof(c));
    int n = snprintf(out, cap, "%s v1 epoch=%020" PRIu64 " key=%s check=%s\n", magic, key->epoch, k,
                     ck);
    OPENSSL_cleanse(k, sizeof(k));
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int seal_key_parse(const char *p, size_t n, const char *magic, struct seal_key *out)
{
    size_t m = strlen(magic);
    const char *q = p + m;
    unsigned char c[8], want[8];
    /* magic " v1 epoch=" 20 " key=" 64 " check=" 16 "\n" */
    if (n != m + 10 + 20 + 5 + 64 + 7 + 16 + 1 || memcmp(p, magic, m) ||
        memcmp(q, " v1 epoch=", 10))
        return -EBADMSG;
    q += 10;
    uint64_t e = 0;
    for (int i = 0; i < 20; i++) {
        if (q[i] < '0' || q[i] > '9' || e > (UINT64_MAX - 9) / 10)
            return -EBADMSG;
        e = e * 10 + (uint64_t)(q[i] - '0');
    }
    q += 20;
    if (memcmp(q, " key=", 5) || !hex_get(q + 5, SEAL_KEY_BYTES, out->k) ||
        memcmp(q + 69, " check=", 7) || !hex_get(q + 76, 8, c) || q[92] != '\n')
        return -EBADMSG;
    out->epoch = e;
    key_check(out, want);
    if (memcmp(c, want, sizeof(c))) {
        seal_key_wipe(out);
        return -EBADMSG; /* a torn or edited key file */
    }
    return 0;
}

/* ---- the chain ---- */

void seal_chain_start(struct seal_chain *c, const unsigned char h[SEAL_HASH_BYTES], uint64_t lines,
                      uint64_t bytes)
{
    memcpy(c->head, h, SEAL_HASH_BYTES);
    c->lines = lines;
    c->bytes = bytes;
    c->seg_bytes = 0;
    SHA256_Init(&c->seg);
    SHA256_Update(&c->seg, c->head, SEAL_HASH_BYTES);
}

void seal_chain_feed(struct seal_chain *c, const char *p, size_t n)
{
    SHA256_Update(&c->seg, p, n);
    c->bytes += n;
    c->seg_bytes += n;
    for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        c->lines++;
}

void seal_chain_peek(const struct seal_chain *c, unsigned char out[SEAL_HASH_BYTES])
{
    if (c->seg_bytes == 0) { /* an empty segment keeps the head */
        memcpy(out, c->head, SEAL_HASH_BYTES);
        return;
    }
    SHA256_CTX x = c->seg;
    SHA256_Final(out, &x);
}

void seal_chain_commit(struct seal_chain *c, const unsigned char head[SEAL_HASH_BYTES])
{
    seal_chain_start(c, head, c->lines, c->bytes);
}

/* ---- records ---- */

static bool must_escape(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '%';
}

/* The path with space, '%', DEL and control bytes as %XX (upper case). */
static int path_put(char *out, size_t cap, const char *p, size_t n)
{
    static const char up[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (o + 4 > cap)
            return -ENAMETOOLONG;
        if (must_escape(c)) {
            out[o++] = '%';
            out[o++] = up[c >> 4];
            out[o++] = up[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return (int)o;
}

int seal_record_format(struct seal_record *r, const struct seal_key *key, char *out, size_t cap)
{
    char path[3 * SEAL_PATH_MAX + 1], head[65], prev[65], tag[65];
    if (r->file_len > SEAL_PATH_MAX || path_put(path, sizeof(path), r->file, r->file_len) < 0)
        return -ENAMETOOLONG;
    hex_put(head, r->head, sizeof(r->head));
    hex_put(prev, r->prev, sizeof(r->prev));
    int n;
    if (r->kind == SEAL_REC_SEAL)
        n = snprintf(out, cap,
                     "seal v2 file=%s seq=%" PRIu64 " epoch=%" PRIu64 " time=%" PRIu64
                     " idle=%" PRIu64 " lines=%" PRIu64 " bytes=%" PRIu64 " head=%s prev=%s",
                     path, r->seq, r->epoch, r->time, r->idle, r->lines, r->bytes, head, prev);
    else
        n = snprintf(out, cap,
                     "expired v2 file=%s seq=%" PRIu64 " epoch=%" PRIu64 " time=%" PRIu64
                     " why=%s lines=%" PRIu64 " bytes=%" PRIu64 " head=%s final=%s",
                     path, r->seq, r->epoch, r->time, seal_why_name(r->why), r->lines, r->bytes,
                     head, prev);
    if (n < 0 || (size_t)n + 70 > cap)
        return -ENAMETOOLONG;
    unsigned int len = 0;
    HMAC(EVP_sha256(), key->k, (int)sizeof(key->k), (const unsigned char *)out, (size_t)n, r->tag,
         &len);
    hex_put(tag, r->tag, sizeof(r->tag));
    r->canon_len = (size_t)n;
    n += snprintf(out + n, cap - (size_t)n, " tag=%s\n", tag);
    return n;
}

bool seal_record_check(const struct seal_record *r, const char *line, const struct seal_key *key)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key->k, (int)sizeof(key->k), (const unsigned char *)line, r->canon_len,
              mac, &len))
        return false;
    return len == SEAL_HASH_BYTES && CRYPTO_memcmp(mac, r->tag, SEAL_HASH_BYTES) == 0;
}

/* A cursor over one line: each field is " name=value" (the first without
 * the space), in a fixed order. */
struct cur {
    const char *p, *end;
};

static bool take(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n))
        return false;
    c->p += n;
    return true;
}

static size_t value_len(const struct cur *c)
{
    const char *s = memchr(c->p, ' ', (size_t)(c->end - c->p));
    return (size_t)((s ? s : c->end) - c->p);
}

static bool take_u64(struct cur *c, const char *name, uint64_t *out)
{
    if (!take(c, name))
        return false;
    size_t n = value_len(c);
    if (n == 0 || n > 20 || (n > 1 && c->p[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(c->p[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    c->p += n;
    *out = v;
    return true;
}

static bool take_hash(struct cur *c, const char *name, unsigned char out[SEAL_HASH_BYTES])
{
    if (!take(c, name) || value_len(c) != 2 * SEAL_HASH_BYTES ||
        !hex_get(c->p, SEAL_HASH_BYTES, out))
        return false;
    c->p += 2 * SEAL_HASH_BYTES;
    return true;
}

static int unhex_up(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool take_path(struct cur *c, struct seal_record *r)
{
    if (!take(c, "file="))
        return false;
    size_t n = value_len(c), o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->p[i];
        if (ch == '%') {
            int a = i + 2 < n ? unhex_up(c->p[i + 1]) : -1, b = a >= 0 ? unhex_up(c->p[i + 2]) : -1;
            if (b < 0 || !must_escape((unsigned char)(a << 4 | b)))
                return false; /* one spelling: only what must be escaped is */
            ch = (unsigned char)(a << 4 | b);
            i += 2;
        } else if (must_escape(ch)) {
            return false;
        }
        if (o == SEAL_PATH_MAX)
            return false;
        r->file[o++] = (char)ch;
    }
    if (o == 0 || memchr(r->file, 0, o))
        return false;
    r->file[o] = '\0';
    r->file_len = o;
    c->p += n;
    return true;
}

static bool take_why(struct cur *c, enum seal_why *why)
{
    if (!take(c, " why="))
        return false;
    size_t n = value_len(c);
    for (int i = 0; i < SEAL_WHY_COUNT; i++)
        if (strlen(why_names[i]) == n && !memcmp(c->p, why_names[i], n)) {
            *why = (enum seal_why)i;
            c->p += n;
            return true;
        }
    return false;
}

int seal_record_parse(const char *p, size_t n, struct seal_record *r)
{
    struct cur c = {p, p + n};
    memset(r, 0, offsetof(struct seal_record, file));
    bool seal = take(&c, "seal v2 "), ok;
    if (!seal && !take(&c, "expired v2 "))
        return -EBADMSG;
    r->kind = seal ? SEAL_REC_SEAL : SEAL_REC_EXPIRED;
    ok = take_path(&c, r) && take_u64(&c, " seq=", &r->seq) && take_u64(&c, " epoch=", &r->epoch) &&
         take_u64(&c, " time=", &r->time) &&
         (seal ? take_u64(&c, " idle=", &r->idle) : take_why(&c, &r->why)) &&
         take_u64(&c, " lines=", &r->lines) && take_u64(&c, " bytes=", &r->bytes) &&
         take_hash(&c, " head=", r->head) && take_hash(&c, seal ? " prev=" : " final=", r->prev);
    if (!ok)
        return -EBADMSG;
    r->canon_len = (size_t)(c.p - p);
    if (!take_hash(&c, " tag=", r->tag) || c.p != c.end)
        return -EBADMSG;
    return 0;
}

/* ---- the store manifest ---- */

int seal_fam_format(const char *path, size_t n, uint64_t seq,
                    const unsigned char tag[SEAL_HASH_BYTES], char *out, size_t cap)
{
    char esc[3 * SEAL_PATH_MAX + 1], t[65];
    if (n > SEAL_PATH_MAX || path_put(esc, sizeof(esc), path, n) < 0)
        return -ENAMETOOLONG;
    hex_put(t, tag, SEAL_HASH_BYTES);
    int k = snprintf(out, cap, "fam v1 file=%s seq=%" PRIu64 " tag=%s\n", esc, seq, t);
    return k < 0 || (size_t)k >= cap ? -ENAMETOOLONG : k;
}

int seal_fam_parse(const char *p, size_t n, struct seal_record *r)
{
    struct cur c = {p, p + n};
    memset(r, 0, offsetof(struct seal_record, file));
    r->kind = SEAL_REC_SEAL;
    if (!take(&c, "fam v1 ") || !take_path(&c, r) || !take_u64(&c, " seq=", &r->seq) ||
        !take_hash(&c, " tag=", r->tag) || c.p != c.end)
        return -EBADMSG;
    return 0;
}

int seal_manifest_format(struct seal_manifest *m, const struct seal_key *key, char *out, size_t cap)
{
    char d[65], t[65];
    hex_put(d, m->digest, SEAL_HASH_BYTES);
    int n = snprintf(
        out, cap, "manifest v1 epoch=%" PRIu64 " time=%" PRIu64 " families=%" PRIu64 " digest=%s",
        m->epoch, m->time, m->families, d);
    if (n < 0 || (size_t)n + 70 > cap)
        return -ENAMETOOLONG;
    unsigned int len = 0;
    HMAC(EVP_sha256(), key->k, (int)sizeof(key->k), (const unsigned char *)out, (size_t)n, m->tag,
         &len);
    hex_put(t, m->tag, SEAL_HASH_BYTES);
    m->canon_len = (size_t)n;
    return n + snprintf(out + n, cap - (size_t)n, " tag=%s\n", t);
}

int seal_manifest_parse(const char *p, size_t n, struct seal_manifest *m)
{
    struct cur c = {p, p + n};
    memset(m, 0, sizeof(*m));
    if (!take(&c, "manifest v1") || !take_u64(&c, " epoch=", &m->epoch) ||
        !take_u64(&c, " time=", &m->time) || !take_u64(&c, " families=", &m->families) ||
        !take_hash(&c, " digest=", m->digest))
        return -EBADMSG;
    m->canon_len = (size_t)(c.p - p);
    if (!take_hash(&c, " tag=", m->tag) || c.p != c.end)
        return -EBADMSG;
    return 0;
}

bool seal_manifest_check(const struct seal_manifest *m, const char *line,
                         const struct seal_key *key)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key->k, (int)sizeof(key->k), (const unsigned char *)line, m->canon_len,
              mac, &len))
        return false;
    return len == SEAL_HASH_BYTES && CRYPTO_memcmp(mac, m->tag, SEAL_HASH_BYTES) == 0;
}

/* ---- the verifier's keys ---- */

void seal_keyring_init(struct seal_keyring *kr, const struct seal_key *k0)
{
    *kr = (struct seal_keyring){.k0 = *k0, .cur = *k0};
}

int seal_keyring_get(struct seal_keyring *kr, uint64_t epoch, struct seal_key *out)
{
    if (epoch < kr->k0.epoch)
        return -ERANGE;
    if (epoch < kr->cur.epoch) {
        size_t i = (size_t)((epoch - kr->k0.epoch) / MARK_EVERY);
        kr->cur = i < kr->nmarks ? kr->marks[i] : kr->k0;
    }
    while (kr->cur.epoch < epoch) {
        uint64_t off = kr->cur.epoch - kr->k0.epoch;
        if (off % MARK_EVERY == 0 && off / MARK_EVERY == kr->nmarks) {
            struct seal_key *m = realloc(kr->marks, (kr->nmarks + 1) * sizeof(*m));
            if (!m)
                return -ENOMEM;
            kr->marks = m;
            kr->marks[kr->nmarks++] = kr->cur;
        }
        seal_key_evolve(&kr->cur);
    }
    *out = kr->cur;
    return 0;
}

void seal_keyring_free(struct seal_keyring *kr)
{
    if (kr->marks)
        OPENSSL_cleanse(kr->marks, kr->nmarks * sizeof(*kr->marks));
    free(kr->marks);
    seal_key_wipe(&kr->k0);
    seal_key_wipe(&kr->cur);
    kr->marks = NULL;
    kr->nmarks = 0;
}
