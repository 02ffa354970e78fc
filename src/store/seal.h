/*
 * seal: the pure pieces of the store's sealing (issue 4), shared by the
 * writer (seal_store.c, inside the store) and the verifier (verify.c):
 * the evolving key and its file format, the per-file hash chain over
 * stored lines, and the sidecar's records (format, strict parse, tag).
 * No I/O, no clock, no globals. Format and algorithm: docs/formats.md,
 * "Sealing".
 */
#ifndef LW_STORE_SEAL_H
#define LW_STORE_SEAL_H

#include <openssl/sha.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES   32
#define SEAL_HASH_BYTES  32
#define SEAL_PATH_MAX    1024 /* bytes of a family path (raw), as STORE_PATH_MAX */
#define SEAL_LINE_MAX    4096 /* bytes of one sidecar line, '\n' included */
#define SEAL_KEYFILE_LEN 134  /* bytes of a key file: fixed, so it is overwritten in place */
#define SEAL_KEY_FILE    ".logward-key"
#define SEAL_EXPIRED     ".expired.seal" /* expiry records of one directory */

/* The magic words of the two key files (same layout). */
#define SEAL_KEY_MAGIC    "logward-key"        /* the collector's current key */
#define SEAL_VERIFY_MAGIC "logward-verify-key" /* k_0, kept off the collector */

struct seal_key {
    uint64_t epoch;
    unsigned char k[SEAL_KEY_BYTES];
};

/* k_{e+1} = SHA-256("logward-evolve v1" || k_e); the old bytes are
 * overwritten. */
void seal_key_evolve(struct seal_key *key);
/* Derives the key of `epoch` (>= from->epoch) into out. */
void seal_key_derive(const struct seal_key *from, uint64_t epoch, struct seal_key *out);
/* Wipes a key (OPENSSL_cleanse). */
void seal_key_wipe(struct seal_key *key);
/* "<magic> v1 epoch=%020u key=HEX64 check=HEX16\n"; returns its length
 * (SEAL_KEYFILE_LEN for SEAL_KEY_MAGIC) or -ENOSPC. */
int seal_key_format(const struct seal_key *key, const char *magic, char *out, size_t cap);
/* Parses a key file of the given magic: 0, or -EBADMSG (bad form or check). */
int seal_key_parse(const char *p, size_t n, const char *magic, struct seal_key *out);

/*
 * The chain of one file (version 2): per seal segment, the head is
 * H_k = SHA-256(H_{k-1} || the file's bytes from the last seal's byte
 * count to this seal's), H_0 = h_0; an empty segment keeps the head. The
 * segment is hashed as it is fed, one call per write, not per line.
 */
struct seal_chain {
    unsigned char head[SEAL_HASH_BYTES]; /* at the last seal (or h_0) */
    uint64_t lines, bytes;               /* complete lines fed, bytes with their '\n' */
    uint64_t seg_bytes;                  /* bytes of the open segment */
    SHA256_CTX seg;                      /* H_{k-1} || segment so far */
};
/* Starts a chain at head h (h_0, or a seal's head) and counts. */
void seal_chain_start(struct seal_chain *c, const unsigned char h[SEAL_HASH_BYTES], uint64_t lines,
                      uint64_t bytes);
/* Feeds bytes that reached the file; lines counts their '\n'. The caller
 * keeps a line's start back until its end comes, so that a seal always
 * falls at a line's end. */
void seal_chain_feed(struct seal_chain *c, const char *p, size_t n);
/* The head a seal written now would hold (the chain is unchanged). */
void seal_chain_peek(const struct seal_chain *c, unsigned char out[SEAL_HASH_BYTES]);
/* After that seal was written: the next segment starts from its head. */
void seal_chain_commit(struct seal_chain *c, const unsigned char head[SEAL_HASH_BYTES]);

enum seal_kind { SEAL_REC_SEAL, SEAL_REC_EXPIRED };
enum seal_why { SEAL_WHY_NUM_LOGS, SEAL_WHY_MAX_AGE, SEAL_WHY_MAX_TOTAL, SEAL_WHY_COUNT };

/*
 * One sidecar line. SEAL: file, seq, epoch, time, idle, lines, bytes,
 * head, prev, tag. EXPIRED: file, seq, epoch, time, why, lines, bytes,
 * head, prev (the deleted file's final tag, written "final="), tag.
 */
struct seal_record {
    enum seal_kind kind;
    char file[SEAL_PATH_MAX + 1]; /* raw family path, NUL-terminated */
    size_t file_len;
    uint64_t seq, epoch, time, idle, lines, bytes;
    enum seal_why why;
    unsigned char head[SEAL_HASH_BYTES], prev[SEAL_HASH_BYTES], tag[SEAL_HASH_BYTES];
    size_t canon_len; /* parse: bytes of the line the tag covers */
};

/* Writes the record as one line ('\n' included) with its tag computed
 * under key (whose epoch must be r->epoch), sets r->tag; returns the
 * length or -ENAMETOOLONG. */
int seal_record_format(struct seal_record *r, const struct seal_key *key, char *out, size_t cap);
/* Strict parse of one line without its '\n' (fields in order, decimal
 * without leading zeros, lower-case hex): 0 or -EBADMSG. Pure. */
int seal_record_parse(const char *p, size_t n, struct seal_record *r);
/* HMAC-SHA256 under key (of r->epoch) of line[0..canon_len) == r->tag. */
bool seal_record_check(const struct seal_record *r, const char *line, const struct seal_key *key);

const char *seal_why_name(enum seal_why why);

/*
 * The store manifest (<root>/.logward-manifest, rewritten each round): one
 * "fam v1 file=PATH seq=S tag=X" line per family (its newest seal: the
 * file of seq S, that seal's tag), then the closing line "manifest v1
 * epoch=E time=T families=N digest=D tag=X", D the SHA-256 of every byte
 * before it, X its HMAC under k_E. Lets verify see a family deleted with
 * its sidecars and a tail cut back (sidecar too) to an earlier seal.
 */
#define SEAL_MANIFEST     ".logward-manifest"
#define SEAL_MANIFEST_TMP ".logward-manifest.tmp"
struct seal_manifest {
    uint64_t epoch, time, families;
    unsigned char digest[SEAL_HASH_BYTES], tag[SEAL_HASH_BYTES];
    size_t canon_len; /* parse: bytes of the line the tag covers */
};
/* One family line ('\n' included); its length or -ENAMETOOLONG. */
int seal_fam_format(const char *path, size_t n, uint64_t seq,
                    const unsigned char tag[SEAL_HASH_BYTES], char *out, size_t cap);
/* Strict parse of a family line without its '\n' into r (kind SEAL_REC_SEAL,
 * file, seq, tag set; the rest zero): 0 or -EBADMSG. */
int seal_fam_parse(const char *p, size_t n, struct seal_record *r);
/* The closing line, tagged under key (of m->epoch); sets m->tag. */
int seal_manifest_format(struct seal_manifest *m, const struct seal_key *key, char *out,
                         size_t cap);
int seal_manifest_parse(const char *p, size_t n, struct seal_manifest *m);
bool seal_manifest_check(const struct seal_manifest *m, const char *line,
                         const struct seal_key *key);

/* Keys of many epochs from k_0 for the verifier: checkpoints every 1024
 * epochs, so going back costs at most 1024 steps. */
struct seal_keyring {
    struct seal_key k0, cur;
    struct seal_key *marks; /* marks[i]: epoch k0.epoch + i * 1024 */
    size_t nmarks;
};
void seal_keyring_init(struct seal_keyring *kr, const struct seal_key *k0);
/* The key of epoch into out; -ERANGE before k0's epoch, -ENOMEM. */
int seal_keyring_get(struct seal_keyring *kr, uint64_t epoch, struct seal_key *out);
void seal_keyring_free(struct seal_keyring *kr);

#endif
