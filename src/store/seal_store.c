/*
 * seal_store: the store's side of sealing (issue 4; docs/formats.md,
 * "Sealing"). Keeps per active file the hash chain over the lines that
 * reached the disk (fed from entry_write, so it always matches the file,
 * also after a short write or a crash), and in rounds (store_seal_tick:
 * every seal_interval seconds or seal_records lines) appends a seal record
 * to each file's sidecar .<file>.seal, syncs, then advances the key in
 * <root>/.logward-key in place. Rotation writes a file's final seal and
 * moves the sidecars with the files; retention writes an expiry record
 * before a deletion. Files evicted by the LRU bound park their chain here
 * until the next round seals and forgets them. At open it advances the key
 * once (so an epoch a crash interrupted is never reused) and walks the
 * store: every active file gets its unsealed tail sealed and an
 * interrupted rotation's sidecar is put back beside its file.
 * It does not verify (verify.c) nor format records (seal.c).
 * Rotated sidecars are made read-only (0440) as their files; the
 * append-only flag of active files is append_only.c's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init...: see seal.c */
#include "store/seal.h"
#include "store/store_int.h"

#include <openssl/sha.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARK_SLOTS    4096 /* buckets of the parked chains */
#define SYNC_EACH_MAX 8    /* sidecars fdatasynced one by one in a round; more: one syncfs */
#define READ_CHUNK    (1u << 16)
#define NAME_CAP      (STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX + 8)

struct seal_file {
    struct seal_file *next; /* in a park bucket */
    struct seal_chain chain;
    uint64_t seq, sealed_lines;
    unsigned char last_tag[SEAL_HASH_BYTES]; /* of the last seal, or the link to the file before */
    bool sealed;                             /* this file has a seal in its sidecar */
    bool promised;                           /* its last seal promised a next one (idle > 0) */
    time_t sealed_time;
    struct buf partial; /* the start of a line whose end is not written yet */
    uint64_t hash;
    size_t path_len;
    char path[];
};

/* A family's newest seal, for the store manifest: every family the store
 * has seen, never forgotten (an active file is never deleted). */
struct seal_fam {
    struct seal_fam *next;
    uint64_t hash, seq;
    unsigned char tag[SEAL_HASH_BYTES];
    size_t path_len;
    char path[];
};

struct store_seal {
    struct store *s;
    struct seal_key key;
    int key_fd;
    time_t last_round, last_time; /* last_time: the clock, never going back in one run */
    uint64_t lines_at_round;
    unsigned synced, to_sync; /* sidecars written in this round */
    bool bulk;                /* a round of many: every sidecar waits for the one syncfs */
    struct seal_file *park[PARK_SLOTS];
    struct seal_fam *fams[PARK_SLOTS];
    uint64_t nfams;
    bool fams_changed; /* since the manifest was last written */
};

static void say_err(struct store *s, const char *what, const char *path, int r)
{
    s->stats.seal_errors++;
    store_say(s, "sealing: %s %s: %s", what, path, strerror(-r));
}

static void file_free(struct seal_file *f)
{
    if (f) {
        buf_free(&f->partial);
        free(f);
    }
}

static struct seal_file *file_new(const char *path, size_t n)
{
    struct seal_file *f = calloc(1, sizeof(*f) + n + 1);
    if (!f)
        return NULL;
    memcpy(f->path, path, n);
    f->path_len = n;
    f->hash = store_path_hash(path, n);
    buf_init(&f->partial, 0);
    static const unsigned char zero[SEAL_HASH_BYTES];
    seal_chain_start(&f->chain, zero, 0, 0); /* h_0 of a first file */
    return f;
}

/* Records the newest seal (seq, tag) of the family at path. */
static void fam_set(struct store_seal *ss, const char *path, size_t n, uint64_t hash, uint64_t seq,
                    const unsigned char tag[SEAL_HASH_BYTES])
{
    struct seal_fam **pp = &ss->fams[hash % PARK_SLOTS];
    while (*pp && ((*pp)->hash != hash || (*pp)->path_len != n || memcmp((*pp)->path, path, n)))
        pp = &(*pp)->next;
    if (!*pp) {
        struct seal_fam *f = calloc(1, sizeof(*f) + n + 1);
        if (!f) {
            say_err(ss->s, "remembering the family", path, -ENOMEM);
            return;
        }
        memcpy(f->path, path, n);
        f->path_len = n;
        f->hash = hash;
        *pp = f;
        ss->nfams++;
    }
    (*pp)->seq = seq;
    memcpy((*pp)->tag, tag, SEAL_HASH_BYTES);
    ss->fams_changed = true;
}

/* The family's newest seal as a recovered chain knows it. */
static void fam_from_file(struct store_seal *ss, const struct seal_file *f)
{
    static const unsigned char zero[SEAL_HASH_BYTES];
    if (f->sealed)
        fam_set(ss, f->path, f->path_len, f->hash, f->seq, f->last_tag);
    else if (f->seq > 0 && memcmp(f->last_tag, zero, SEAL_HASH_BYTES))
        fam_set(ss, f->path, f->path_len, f->hash, f->seq - 1, f->last_tag); /* file .1's */
}

/* Writes <root>/.logward-manifest anew (temp file, fdatasync, rename,
 * directory fsync): one line per family, then the closing line tagged
 * under the current key. Before the key advances, so the manifest's epoch
 * is always the key file's or the one before. */
static int manifest_write(struct store_seal *ss, time_t now, bool sync)
{
    struct store *s = ss->s;
    int fd = openat(s->root_fd, SEAL_MANIFEST_TMP,
                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, s->cfg.file_mode & 0640);
    if (fd < 0)
        return -errno;
    struct buf b;
    buf_init(&b, 0);
    SHA256_CTX c;
    SHA256_Init(&c);
    char line[SEAL_LINE_MAX];
    int r = 0;
    for (size_t i = 0; r == 0 && i < PARK_SLOTS; i++)
        for (const struct seal_fam *f = ss->fams[i]; r == 0 && f; f = f->next) {
            int n = seal_fam_format(f->path, f->path_len, f->seq, f->tag, line, sizeof(line));
            if (n < 0)
                continue; /* cannot happen: paths are bounded */
            SHA256_Update(&c, line, (size_t)n);
            r = buf_append(&b, line, (size_t)n);
            if (r == 0 && b.len >= READ_CHUNK) {
                r = write(fd, b.data, b.len) == (ssize_t)b.len ? 0 : -EIO;
                buf_reset(&b);
            }
        }
    struct seal_manifest m = {.epoch = ss->key.epoch, .time = (uint64_t)now, .families = ss->nfams};
    SHA256_Final(m.digest, &c);
    int n = seal_manifest_format(&m, &ss->key, line, sizeof(line));
    if (r == 0 && n > 0)
        r = buf_append(&b, line, (size_t)n);
    if (r == 0)
        r = write(fd, b.data, b.len) == (ssize_t)b.len ? 0 : -EIO;
    buf_free(&b);
    if (r == 0 && sync && fdatasync(fd) < 0)
        r = -errno;
    close(fd);
    if (r < 0)
        say_err(s, "writing", SEAL_MANIFEST_TMP, r);
    return r;
}

/* The temp file, synced (by manifest_write or the round's syncfs), takes
 * the manifest's name; the root is fsynced. */
static int manifest_commit(struct store_seal *ss)
{
    struct store *s = ss->s;
    int r = renameat(s->root_fd, SEAL_MANIFEST_TMP, s->root_fd, SEAL_MANIFEST) < 0 ? -errno : 0;
    if (r == 0 && fsync(s->root_fd) < 0)
        r = -errno;
    if (r < 0)
        say_err(s, "writing", SEAL_MANIFEST, r);
    else
        ss->fams_changed = false;
    return r;
}

/* ---- the key file ---- */

/* k_E -> k_{E+1}, written over the old one and synced. The old key is gone
 * from memory either way; a failed write leaves an older key on disk,
 * which still derives every later one (said, counted). */
static int key_advance(struct store_seal *ss)
{
    char text[SEAL_KEYFILE_LEN + 1];
    seal_key_evolve(&ss->key);
    int n = seal_key_format(&ss->key, SEAL_KEY_MAGIC, text, sizeof(text)), r = 0;
    if (n < 0 || pwrite(ss->key_fd, text, (size_t)n, 0) != n || fdatasync(ss->key_fd) < 0)
        r = n < 0 ? n : -errno;
    memset(text, 0, sizeof(text));
    if (r < 0)
        say_err(ss->s, "advancing the key in", SEAL_KEY_FILE, r);
    return r;
}

static int key_load(struct store_seal *ss)
{
    struct store *s = ss->s;
    ss->key_fd = openat(s->root_fd, SEAL_KEY_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (ss->key_fd < 0) {
        int r = -errno;
        store_say(s, "sealing: %s/%s: %s (create it with 'logward keygen')", s->root, SEAL_KEY_FILE,
                  strerror(-r));
        return r;
    }
    struct stat st;
    char text[SEAL_KEYFILE_LEN + 1];
    ssize_t n = fstat(ss->key_fd, &st) < 0 ? -1 : pread(ss->key_fd, text, sizeof(text), 0);
    if (n < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        store_say(s, "sealing: %s/%s: must be a regular file of mode 0600", s->root, SEAL_KEY_FILE);
        return -EPERM;
    }
    int r = seal_key_parse(text, (size_t)n, SEAL_KEY_MAGIC, &ss->key);
    memset(text, 0, sizeof(text));
    if (r < 0)
        store_say(s, "sealing: %s/%s: not a logward key (or torn)", s->root, SEAL_KEY_FILE);
    return r;
}

/* ---- sidecars ---- */

/* ".<leaf>.seal", or ".<leaf>.<num>.seal" for a rotated file (num > 0). */
static int sidecar_name(char *out, size_t cap, const char *leaf, unsigned num)
{
    int n =
        num ? snprintf(out, cap, ".%s.%u.seal", leaf, num) : snprintf(out, cap, ".%s.seal", leaf);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Appends one record. A new sidecar gets the owner, group and mode of its
 * file (made at startup as root, written later by the dropped user). */
static int sidecar_append(struct store_seal *ss, int dir_fd, const char *leaf, const char *name,
                          const char *line, size_t n)
{
    int fd = openat(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                    ss->s->cfg.file_mode);
    if (fd < 0)
        return -errno;
    struct stat st, fst;
    if (fstat(fd, &st) == 0 && st.st_size == 0 &&
        fstatat(dir_fd, leaf, &fst, AT_SYMLINK_NOFOLLOW) == 0)
        (void)!fchown(fd, fst.st_uid, fst.st_gid);
    int r = write(fd, line, n) == (ssize_t)n ? 0 : -EIO;
    bool each = !ss->bulk && ss->synced < SYNC_EACH_MAX;
    if (r == 0 && each && fdatasync(fd) < 0)
        r = -errno;
    if (each)
        ss->synced++;
    else
        ss->to_sync++;
    close(fd);
    return r;
}

/* The last complete record of a sidecar; a torn last line (a crash in the
 * middle of its write) is cut off when fix is set. 1 found, 0 none, <0. */
static int sidecar_last(int dir_fd, const char *name, bool fix, struct seal_record *rec)
{
    int fd = openat(dir_fd, name, (fix ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    char buf[2 * SEAL_LINE_MAX];
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    off_t from = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0;
    ssize_t n = r < 0 ? -1 : pread(fd, buf, (size_t)(st.st_size - from), from);
    if (r == 0 && n < 0)
        r = -errno;
    size_t end = n > 0 ? (size_t)n : 0;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    if (r == 0 && fix && end < (size_t)(n > 0 ? n : 0) && ftruncate(fd, from + (off_t)end) < 0)
        r = -errno;
    close(fd);
    if (r < 0 || end == 0)
        return r;
    size_t start = end - 1;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    return seal_record_parse(buf + start, end - 1 - start, rec) < 0 ? -EBADMSG : 1;
}

/* ---- the chain, fed with what reached the file ---- */

/* Complete lines go into the chain at once (one call per write); the
 * start of a line whose end is not written yet waits in partial, so that
 * a seal always falls at the end of a line. */
static int feed(struct seal_file *f, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (f->partial.len) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) + 1 : n;
        int r = buf_append(&f->partial, p, k);
        if (r < 0 || !nl)
            return r;
        seal_chain_feed(&f->chain, f->partial.data, f->partial.len);
        buf_reset(&f->partial);
        p += k;
        n -= k;
    }
    const char *last = n ? memrchr(p, '\n', n) : NULL;
    size_t k = last ? (size_t)(last - p) + 1 : 0;
    if (k)
        seal_chain_feed(&f->chain, p, k);
    return k < n ? buf_append(&f->partial, p + k, n - k) : 0;
}

void store_seal_wrote(struct store *s, struct store_entry *e, const char *a, size_t alen,
                      const char *b, size_t blen, size_t w)
{
    struct seal_file *f = e->seal;
    if (!f)
        return;
    size_t na = w < alen ? w : alen, nb = w - na < blen ? w - na : blen;
    int r = feed(f, a, na);
    if (r == 0 && nb == blen && w > na + nb && f->partial.len == 0) {
        seal_chain_feed(&f->chain, b, blen); /* a long line written whole: no copy */
        seal_chain_feed(&f->chain, "\n", 1);
        return;
    }
    if (r == 0)
        r = feed(f, b, nb);
    if (r == 0 && w > na + nb)
        r = feed(f, "\n", 1);
    if (r < 0) /* the chain no longer matches the file: stop sealing it (verify says) */
        say_err(s, "chaining", e->path, r), file_free(f), e->seal = NULL;
}

/* Hashes the file's lines from the chain's byte count to its end. */
static int chain_catch_up(struct seal_file *f, int fd, uint64_t size)
{
    char *buf = malloc(READ_CHUNK);
    if (!buf)
        return -ENOMEM;
    uint64_t off = f->chain.bytes;
    int r = 0;
    while (r == 0 && off < size) {
        ssize_t n = pread(fd, buf, READ_CHUNK, (off_t)off);
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        r = feed(f, buf, (size_t)n);
        off += (uint64_t)n;
    }
    free(buf);
    return r;
}

/* ---- recovery of a file's chain from its sidecar and its tail ---- */

static void state_from(struct seal_file *f, const struct seal_record *rec, bool own)
{
    f->seq = own ? rec->seq : rec->seq + 1;
    memcpy(f->last_tag, rec->tag, SEAL_HASH_BYTES);
    if (own) {
        seal_chain_start(&f->chain, rec->head, rec->lines, rec->bytes);
        f->sealed_lines = rec->lines;
        f->sealed = true;
        f->promised = rec->idle > 0;
        f->sealed_time = (time_t)rec->time;
    } else {
        seal_chain_start(&f->chain, rec->tag, 0, 0); /* h_0 of the next file */
    }
}

static int recover(struct store *s, int dir_fd, const char *leaf, const char *path, size_t n,
                   struct seal_file **out)
{
    char name[NAME_CAP];
    struct seal_record rec;
    struct seal_file *f = file_new(path, n);
    if (!f)
        return -ENOMEM;
    int r = sidecar_name(name, sizeof(name), leaf, 0), fd = -1;
    if (r == 0 && (r = sidecar_last(dir_fd, name, true, &rec)) > 0)
        state_from(f, &rec, true);
    else if (r == 0 && (r = sidecar_name(name, sizeof(name), leaf, 1)) == 0 &&
             (r = sidecar_last(dir_fd, name, false, &rec)) > 0)
        state_from(f, &rec, false); /* a new file after a rotation, not sealed yet */
    struct stat st;
    if (r >= 0 && (fd = openat(dir_fd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
        fstat(fd, &st) == 0) {
        if ((uint64_t)st.st_size < f->chain.bytes)
            store_say(s, "sealing: %s is shorter than its seals (%llu < %llu bytes)", path,
                      (unsigned long long)st.st_size, (unsigned long long)f->chain.bytes);
        r = chain_catch_up(f, fd, (uint64_t)st.st_size);
    } else if (r >= 0 && errno != ENOENT) {
        r = -errno;
    }
    if (fd >= 0)
        close(fd);
    if (r < 0) {
        file_free(f);
        return r;
    }
    *out = f;
    return 0;
}

static struct seal_file **park_slot(struct store_seal *ss, const char *path, size_t n)
{
    uint64_t h = store_path_hash(path, n);
    struct seal_file **pp = &ss->park[h % PARK_SLOTS];
    while (*pp && ((*pp)->hash != h || (*pp)->path_len != n || memcmp((*pp)->path, path, n)))
        pp = &(*pp)->next;
    return pp;
}

void store_seal_attach(struct store *s, struct store_entry *e)
{
    struct store_seal *ss = s->seal;
    struct seal_file **pp = park_slot(ss, e->path, e->path_len);
    if (*pp) {
        e->seal = *pp;
        *pp = e->seal->next;
        e->seal->next = NULL;
        return;
    }
    const char *leaf;
    int dir = store_dir_open(s->root_fd, e->path, &s->cfg, false, &leaf), r = dir;
    if (dir >= 0) {
        r = recover(s, dir, leaf, e->path, e->path_len, &e->seal);
        close(dir);
        if (r == 0)
            fam_from_file(ss, e->seal);
    }
    if (r < 0)
        say_err(s, "recovering the chain of", e->path, r);
}

void store_seal_detach(struct store *s, struct store_entry *e)
{
    struct seal_file *f = e->seal;
    struct seal_file **pp = park_slot(s->seal, f->path, f->path_len);
    file_free(*pp); /* cannot be there: one entry per path */
    *pp = f;
    f->next = NULL;
    e->seal = NULL;
}

/* ---- writing seals ---- */

static uint64_t promise(const struct store *s)
{
    return (uint64_t)s->cfg.seal_idle + 2 * (uint64_t)s->cfg.seal_interval;
}

static int seal_write(struct store_seal *ss, struct seal_file *f, uint64_t idle, time_t now)
{
    struct store *s = ss->s;
    now = now > ss->last_time ? now : ss->last_time;
    ss->last_time = now;
    struct seal_record rec = {.kind = SEAL_REC_SEAL,
                              .seq = f->seq,
                              .epoch = ss->key.epoch,
                              .time = (uint64_t)now,
                              .idle = idle,
                              .lines = f->chain.lines,
                              .bytes = f->chain.bytes};
    memcpy(rec.file, f->path, f->path_len + 1);
    rec.file_len = f->path_len;
    seal_chain_peek(&f->chain, rec.head);
    memcpy(rec.prev, f->last_tag, SEAL_HASH_BYTES);
    char line[SEAL_LINE_MAX], name[NAME_CAP];
    const char *leaf;
    int n = seal_record_format(&rec, &ss->key, line, sizeof(line)), r = n;
    int dir = n < 0 ? n : store_dir_open(s->root_fd, f->path, &s->cfg, false, &leaf);
    if (dir >= 0) {
        r = sidecar_name(name, sizeof(name), leaf, 0);
        if (r == 0)
            r = sidecar_append(ss, dir, leaf, name, line, (size_t)n);
        close(dir);
    } else {
        r = dir;
    }
    if (r < 0) {
        say_err(s, "writing the seal of", f->path, r);
        return r;
    }
    seal_chain_commit(&f->chain, rec.head);
    memcpy(f->last_tag, rec.tag, SEAL_HASH_BYTES);
    fam_set(ss, f->path, f->path_len, f->hash, f->seq, rec.tag);
    f->sealed_lines = f->chain.lines;
    f->sealed = true;
    f->promised = idle > 0;
    f->sealed_time = now;
    s->stats.seals++;
    return 0;
}

static bool seal_due(const struct store *s, const struct seal_file *f, time_t now)
{
    return f->chain.lines > f->sealed_lines || (!f->sealed && f->chain.lines) ||
           (f->sealed && now - f->sealed_time >= (time_t)s->cfg.seal_idle);
}

int store_seal_final(struct store *s, struct store_entry *e)
{
    if (!e->seal)
        return 0;
    s->seal->synced = 0; /* synced alone: the renames follow */
    return seal_write(s->seal, e->seal, promise(s), time(NULL));
}

void store_seal_rotated(struct store *s, struct store_entry *e)
{
    struct seal_file *f = e->seal;
    (void)s;
    if (!f)
        return;
    f->seq++;
    seal_chain_start(&f->chain, f->last_tag, 0, 0);
    f->sealed_lines = 0;
    f->sealed = false;
    buf_reset(&f->partial);
}

int store_seal_rename(int dir_fd, const char *leaf, unsigned from, unsigned to)
{
    char a[NAME_CAP], b[NAME_CAP];
    int r = sidecar_name(a, sizeof(a), leaf, from);
    if (r == 0)
        r = sidecar_name(b, sizeof(b), leaf, to);
    if (r == 0 && renameat(dir_fd, a, dir_fd, b) < 0 && errno != ENOENT)
        r = -errno;
    struct stat st; /* a rotated file's sidecar is read-only, as the file (0440) */
    if (r == 0 && to > 0 && fstatat(dir_fd, b, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (st.st_mode & 0222))
        (void)fchmodat(dir_fd, b, st.st_mode & 0444, 0);
    return r;
}

/* ---- expiry ---- */

/* The sidecar of a rotated name ("x.log.3" or "x.log.3.zst"), and whether
 * the other form of the file is still there. */
static int retired_sidecar(int dir_fd, const char *name, char *out, size_t cap, bool *other)
{
    char base[NAME_CAP], alt[NAME_CAP + 8];
    size_t n = strlen(name);
    bool zst = n > 4 && !strcmp(name + n - 4, ".zst");
    if (n >= sizeof(base) - 5)
        return -ENAMETOOLONG;
    memcpy(base, name, n - (zst ? 4 : 0));
    base[n - (zst ? 4 : 0)] = '\0';
    if (snprintf(alt, sizeof(alt), "%s%s", base, zst ? "" : ".zst") >= (int)sizeof(alt))
        return -ENAMETOOLONG;
    struct stat st;
    *other = fstatat(dir_fd, alt, &st, AT_SYMLINK_NOFOLLOW) == 0;
    int k = snprintf(out, cap, ".%s.seal", base);
    return k < 0 || (size_t)k >= cap ? -ENAMETOOLONG : 0;
}

int store_seal_expire(struct store_seal *ss, int dir_fd, const char *name, int why)
{
    struct stat st;
    char side[NAME_CAP], line[SEAL_LINE_MAX];
    bool other;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0; /* nothing to delete */
    int r = retired_sidecar(dir_fd, name, side, sizeof(side), &other);
    struct seal_record rec;
    if (r < 0 || (r = sidecar_last(dir_fd, side, false, &rec)) <= 0) {
        if (r == 0)
            store_say(ss->s, "sealing: expiring %s: it has no seal to record", name);
        return r;
    }
    rec.kind = SEAL_REC_EXPIRED;
    rec.epoch = ss->key.epoch;
    time_t now = time(NULL);
    rec.time = (uint64_t)(now > ss->last_time ? now : ss->last_time);
    rec.why = (enum seal_why)why;
    memcpy(rec.prev, rec.tag, SEAL_HASH_BYTES); /* final= the deleted file's last tag */
    int n = seal_record_format(&rec, &ss->key, line, sizeof(line));
    ss->synced = 0;
    r = n < 0 ? n : sidecar_append(ss, dir_fd, name, SEAL_EXPIRED, line, (size_t)n);
    if (r < 0)
        say_err(ss->s, "writing the expiry record of", name, r);
    return r;
}

void store_seal_forget(int dir_fd, const char *name)
{
    char side[NAME_CAP];
    bool other;
    if (retired_sidecar(dir_fd, name, side, sizeof(side), &other) == 0 && !other)
        unlinkat(dir_fd, side, 0);
}

/* ---- rounds ---- */

static void park_seal_all(struct store_seal *ss, time_t now)
{
    for (size_t i = 0; i < PARK_SLOTS; i++)
        while (ss->park[i]) {
            struct seal_file *f = ss->park[i];
            ss->park[i] = f->next;
            if (seal_due(ss->s, f, now) || f->promised)
                seal_write(ss, f, 0, now); /* closed: no next seal promised */
            file_free(f);
        }
}

/* Ends a round: the sidecars synced, the manifest written (when a seal
 * was written, or always: at open), then the key advanced. */
static int round_end(struct store_seal *ss, time_t now, bool always)
{
    struct store *s = ss->s;
    int r = 0;
    bool wrote = ss->synced || ss->to_sync || always, manifest = wrote || ss->fams_changed;
    /* with a syncfs due anyway, the manifest's bytes ride on it: one sync
     * less; it is renamed into place only after */
    bool ride = manifest && ss->to_sync;
    if (ride && manifest_write(ss, now, false) < 0)
        manifest = ride = false; /* said; the key stays below */
    if (ss->to_sync && syncfs(s->root_fd) < 0)
        r = -errno;
    s->stats.syncs += ss->synced + (ss->to_sync ? 1 : 0);
    ss->synced = ss->to_sync = 0;
    ss->bulk = false;
    if (r < 0) {
        say_err(s, "syncing the sidecars of", s->root, r);
        return r; /* the key stays: the seals may not be durable */
    }
    s->stats.seal_rounds++;
    if (!wrote && !ss->fams_changed)
        return 0; /* a key that sealed nothing need not go */
    if (!manifest || (!ride && (r = manifest_write(ss, now, true)) < 0) ||
        (r = manifest_commit(ss)) < 0)
        return r < 0 ? r : -EIO; /* nor while the manifest is older than the seals */
    return key_advance(ss);
}

static int round_run(struct store *s, time_t now, bool closing)
{
    struct store_seal *ss = s->seal;
    int r = store_flush(s);
    if (r < 0)
        return r; /* sealing waits until what was appended is on disk */
    if (s->cfg.fsync == STORE_FSYNC_NONE && syncfs(s->root_fd) < 0)
        return -errno;
    ss->synced = ss->to_sync = 0;
    unsigned due = 0; /* more than SYNC_EACH_MAX: no sidecar synced on its own */
    for (struct store_entry *e = s->lru_head; e && due <= SYNC_EACH_MAX; e = e->lru_next)
        due += e->seal && (closing || seal_due(s, e->seal, now));
    for (size_t i = 0; i < PARK_SLOTS && due <= SYNC_EACH_MAX; i++)
        for (const struct seal_file *f = ss->park[i]; f && due <= SYNC_EACH_MAX; f = f->next)
            due++;
    ss->bulk = due > SYNC_EACH_MAX;
    for (struct store_entry *e = s->lru_head; e; e = e->lru_next)
        if (e->seal && (closing || seal_due(s, e->seal, now)))
            seal_write(ss, e->seal, closing ? 0 : promise(s), now);
    park_seal_all(ss, now);
    ss->last_round = now;
    ss->lines_at_round = s->stats.lines;
    return round_end(ss, now, false);
}

int store_seal_tick(struct store *s, time_t now)
{
    struct store_seal *ss = s->seal;
    /* seal_records brings a round forward, but not within a second of the
     * last: at 500,000 lines/s a round per 10,000 lines was 50 rounds (each
     * with its syncs) a second, and halved what the collector stored */
    if (!ss ||
        (now - ss->last_round < (time_t)s->cfg.seal_interval &&
         (s->stats.lines - ss->lines_at_round < s->cfg.seal_records || now - ss->last_round < 1)))
        return 0;
    return round_run(s, now, false);
}

/* ---- the walk at open ---- */

/* A rotation cut short between a file's rename and its sidecar's leaves
 * the sidecar one number behind: .x.log.K.seal belongs to x.log.K+1. */
static void repair_rotation(struct store *s, int dir_fd, const char *leaf)
{
    char a[NAME_CAP], b[NAME_CAP], file[NAME_CAP];
    struct seal_record rec;
    struct stat st, fst;
    for (unsigned k = s->cfg.num_logs > 1 ? s->cfg.num_logs - 1 : 0; k >= 1; k--) {
        if (sidecar_name(a, sizeof(a), leaf, k - 1) || sidecar_name(b, sizeof(b), leaf, k) ||
            store_rotated_name(file, sizeof(file), leaf, k, false))
            return;
        if (fstatat(dir_fd, b, &st, 0) == 0 ||
            fstatat(dir_fd, file, &fst, AT_SYMLINK_NOFOLLOW) < 0 ||
            sidecar_last(dir_fd, a, false, &rec) <= 0 || rec.bytes != (uint64_t)fst.st_size)
            continue;
        const char *cur = k == 1 ? leaf : NULL;
        char prevf[NAME_CAP];
        if (!cur && store_rotated_name(prevf, sizeof(prevf), leaf, k - 1, false) == 0)
            cur = prevf;
        if (cur && fstatat(dir_fd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (uint64_t)st.st_size >= rec.bytes)
            continue; /* its own file is still there */
        if (renameat(dir_fd, a, dir_fd, b) == 0)
            store_say(s, "sealing: moved %s to %s (a rotation cut short)", a, b);
    }
}

static void walk_file(struct store *s, int dir_fd, const char *rel, size_t rlen, const char *name,
                      time_t now)
{
    unsigned num;
    bool zst, tmp;
    char path[STORE_PATH_MAX];
    int n = store_name_classify(name, &num, &zst, &tmp);
    if (n <= 0 || num || zst || tmp || rlen + (size_t)n >= sizeof(path))
        return;
    memcpy(path, rel, rlen);
    memcpy(path + rlen, name, (size_t)n + 1);
    repair_rotation(s, dir_fd, name);
    struct seal_file *f;
    int r = recover(s, dir_fd, name, path, rlen + (size_t)n, &f);
    if (r < 0) {
        say_err(s, "recovering the chain of", path, r);
        return;
    }
    fam_from_file(s->seal, f);
    if (seal_due(s, f, now) || f->promised)
        seal_write(s->seal, f, 0, now); /* the tail a crash left, or a fresh closing seal */
    file_free(f);
}

static void walk(struct store *s, int dir_fd, char *rel, size_t rlen, unsigned depth, time_t now)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        return;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct stat st;
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            walk_file(s, dirfd(d), rel, rlen, de->d_name, now);
        } else if (S_ISDIR(st.st_mode) && depth < STORE_DEPTH_MAX &&
                   rlen + n + 2 < STORE_PATH_MAX) {
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                continue;
            memcpy(rel + rlen, de->d_name, n);
            rel[rlen + n] = '/';
            walk(s, fd, rel, rlen + n + 1, depth + 1, now);
        }
    }
    closedir(d);
}

int store_seal_open(struct store *s)
{
    if (!s->cfg.seal)
        return 0;
    struct store_seal *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return -ENOMEM;
    ss->s = s;
    ss->key_fd = -1;
    s->seal = ss;
    int r = key_load(ss);
    if (r < 0)
        return r;
    char rel[STORE_PATH_MAX];
    time_t now = time(NULL);
    int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        walk(s, fd, rel, 0, 0, now);
    ss->last_round = now;
    return round_end(ss, now, true); /* the manifest, then the key advances: once per start */
}

void store_seal_close(struct store *s)
{
    struct store_seal *ss = s->seal;
    if (!ss)
        return;
    if (ss->key_fd >= 0) {
        round_run(s, time(NULL), true); /* closing seals, promising nothing */
        close(ss->key_fd);
    }
    for (struct store_entry *e = s->lru_head; e; e = e->lru_next) {
        file_free(e->seal);
        e->seal = NULL;
    }
    park_seal_all(ss, 0);
    for (size_t i = 0; i < PARK_SLOTS; i++)
        for (struct seal_fam *f = ss->fams[i], *nx; f; f = nx) {
            nx = f->next;
            free(f);
        }
    seal_key_wipe(&ss->key);
    free(ss);
    s->seal = NULL;
}
