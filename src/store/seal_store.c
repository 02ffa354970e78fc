/*
 * seal_store: the store's side of sealing (issue 4; docs/formats.md,
 * "Sealing"), on the event loop. Keeps per active file its chain as of its
 * last seal (head, counts, tag) and, in rounds (store_seal_tick: every
 * seal_interval seconds or seal_records lines), builds a job: per file due
 * its chain and its size now, the other families' manifest lines, the key
 * k_E and the next key's text; the store's sync thread (seal_sync.c) then
 * syncs the data, hashes each file's new lines from the file, appends and
 * syncs the seals, writes the manifest and advances the key file in place,
 * while the loop goes on appending; a later tick collects the job and
 * keeps its results (and evolves the key in memory). One round in flight
 * at a time. Rotation writes a file's final seal (at once, on the loop)
 * and moves the sidecars with the files; retention writes an expiry
 * record before a deletion. Files evicted by the LRU bound park their
 * chain here until the next round seals and forgets them. At open it
 * advances the key once (so an epoch a crash interrupted is never reused)
 * and walks the store: every active file gets its unsealed tail sealed,
 * an interrupted rotation's sidecar is put back beside its file, and an
 * active file a crash right after a rotation left empty or absent gets a
 * closing seal (made first if absent), so file .1's promise is kept.
 * It does not verify (verify.c) nor format records (seal.c).
 * What touches a sidecar of the round in flight (rotating or recovering
 * that file), reopen and close first wait for the round.
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

#define PARK_SLOTS        4096 /* buckets of the parked chains */
#define READ_CHUNK        (1u << 16)
#define SEAL_DATA_FDS_MAX 8 /* files a round fdatasyncs for its data; more: one syncfs */
#define NAME_CAP          SEAL_SIDECAR_NAME_CAP
#define EXPIRED_TAIL_MAX  ((off_t)4 << 20) /* of .expired.seal searched for a family's last */

/* A file's chain as of its last seal: head, lines and bytes there (the
 * segment after it is hashed by the sync thread, from the file). */
struct seal_file {
    struct seal_file *next; /* in a park bucket */
    struct seal_chain chain;
    uint64_t seq;
    unsigned char last_tag[SEAL_HASH_BYTES]; /* of the last seal, or the link to the file before */
    bool sealed;                             /* this file has a seal in its sidecar */
    bool promised;                           /* its last seal promised a next one (idle > 0) */
    time_t sealed_time;
    uint64_t examined; /* the file's size its last seal looked at: more is due */
    uint64_t size;     /* while parked: the file's size when it was closed */
    uint64_t hash;
    size_t path_len;
    char path[];
};

/* A family's newest seal, for the store manifest: every family the store
 * has seen, never forgotten (an active file is never deleted). */
struct seal_fam {
    struct seal_fam *next;
    bool in_job; /* while a round is built: its line comes from the sync thread */
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
    struct seal_job job;    /* the round being built, or in flight */
    struct seal_job now;    /* a seal written at once (rotation's final seal) */
    bool inflight;          /* job handed to the sync thread (or being run inline) */
    bool job_round;         /* job is a round (not a rotation's final seal) */
    struct seal_sync *sync; /* started by the first round off the loop, NULL before */
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
    free(f);
}

static struct seal_file *file_new(const char *path, size_t n)
{
    struct seal_file *f = calloc(1, sizeof(*f) + n + 1);
    if (!f)
        return NULL;
    memcpy(f->path, path, n);
    f->path_len = n;
    f->hash = store_path_hash(path, n);
    static const unsigned char zero[SEAL_HASH_BYTES];
    seal_chain_start(&f->chain, zero, 0, 0); /* h_0 of a first file */
    return f;
}

static struct seal_fam **fam_find(struct store_seal *ss, const char *path, size_t n, uint64_t hash)
{
    struct seal_fam **pp = &ss->fams[hash % PARK_SLOTS];
    while (*pp && ((*pp)->hash != hash || (*pp)->path_len != n || memcmp((*pp)->path, path, n)))
        pp = &(*pp)->next;
    return pp;
}

/* Records the newest seal (seq, tag) of the family at path. */
static void fam_set(struct store_seal *ss, const char *path, size_t n, uint64_t hash, uint64_t seq,
                    const unsigned char tag[SEAL_HASH_BYTES], bool changed)
{
    struct seal_fam **pp = fam_find(ss, path, n, hash);
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
    ss->fams_changed |= changed; /* not when the manifest just written holds it */
}

/* The family's newest seal as a recovered chain knows it. */
static void fam_from_file(struct store_seal *ss, const struct seal_file *f)
{
    static const unsigned char zero[SEAL_HASH_BYTES];
    if (f->sealed)
        fam_set(ss, f->path, f->path_len, f->hash, f->seq, f->last_tag, true);
    else if (f->seq > 0 && memcmp(f->last_tag, zero, SEAL_HASH_BYTES))
        fam_set(ss, f->path, f->path_len, f->hash, f->seq - 1, f->last_tag, true); /* file .1's */
}

/* The family lines of <root>/.logward-manifest into the job, but for the
 * families the job seals: the sync thread adds theirs (with the new
 * tags), the digest and the closing line, tagged under the current key,
 * writes it to a temp file, syncs, renames, fsyncs the root. Before the
 * key advances, so the manifest's epoch is always the key file's or the
 * one before. */
static int manifest_build(struct store_seal *ss, struct seal_job *j)
{
    char line[SEAL_LINE_MAX];
    int r = 0;
    j->nfams_other = 0;
    for (size_t i = 0; r == 0 && i < PARK_SLOTS; i++)
        for (const struct seal_fam *f = ss->fams[i]; r == 0 && f; f = f->next) {
            int n = f->in_job
                        ? -1
                        : seal_fam_format(f->path, f->path_len, f->seq, f->tag, line, sizeof(line));
            if (n < 0)
                continue; /* in the job, or cannot happen: paths are bounded */
            r = buf_append(&j->manifest, line, (size_t)n);
            j->nfams_other++;
        }
    if (r < 0)
        say_err(ss->s, "writing", SEAL_MANIFEST_TMP, r);
    return r;
}

/* ---- the key file ---- */

/* The text of k_{E+1} for the sync thread to write over the key file
 * (and fdatasync); the loop evolves its own k_E once that was tried (the
 * old key is gone from memory either way; a failed write leaves an older
 * key on disk, which still derives every later one: said, counted). */
static int key_next_text(struct store_seal *ss, struct seal_job *j)
{
    struct seal_key next = ss->key;
    seal_key_evolve(&next);
    int n = seal_key_format(&next, SEAL_KEY_MAGIC, j->key_text, sizeof(j->key_text));
    seal_key_wipe(&next);
    j->key_len = n > 0 ? (size_t)n : 0;
    return n < 0 ? n : 0;
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

#define sidecar_name seal_sidecar_name

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

/* entry_write's hook: nothing to do any more. The chain is not fed as
 * bytes are written: the sync thread hashes a file's new lines from the
 * file itself when it seals them (seal_sync.c), off the loop. */
void store_seal_wrote(struct store *s, struct store_entry *e, const char *a, size_t alen,
                      const char *b, size_t blen, size_t w)
{
    (void)s, (void)e, (void)a, (void)alen, (void)b, (void)blen, (void)w;
}

/* ---- recovery of a file's chain from its sidecar and its tail ---- */

static void state_from(struct seal_file *f, const struct seal_record *rec, bool own)
{
    f->seq = own ? rec->seq : rec->seq + 1;
    memcpy(f->last_tag, rec->tag, SEAL_HASH_BYTES);
    if (own) {
        seal_chain_start(&f->chain, rec->head, rec->lines, rec->bytes);
        f->examined = rec->bytes; /* a tail after it is due */
        f->sealed = true;
        f->promised = rec->idle > 0;
        f->sealed_time = (time_t)rec->time;
    } else {
        seal_chain_start(&f->chain, rec->tag, 0, 0); /* h_0 of the next file */
        f->promised = rec->idle > 0;                 /* file .1's final seal promised this one */
    }
}

/* The last expiry record of path (below the root) within the last
 * EXPIRED_TAIL_MAX bytes of its directory's .expired.seal (the newest
 * are at the end): 1 found, 0 none, or a negative errno. */
static int expired_last(int dir_fd, const char *path, size_t n, struct seal_record *out)
{
    int fd = openat(dir_fd, SEAL_EXPIRED, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
    if (r < 0) {
        close(fd);
        return r;
    }
    off_t from = st.st_size > EXPIRED_TAIL_MAX ? st.st_size - EXPIRED_TAIL_MAX : 0;
    size_t len = (size_t)(st.st_size - from), got = 0;
    char *buf = malloc(len + 1);
    r = buf ? 0 : -ENOMEM;
    while (r == 0 && got < len) {
        ssize_t k = pread(fd, buf + got, len - got, from + (off_t)got);
        if (k < 0 && errno != EINTR)
            r = -errno;
        else if (k == 0)
            break;
        else if (k > 0)
            got += (size_t)k;
    }
    close(fd);
    struct seal_record rec;
    const char *p = buf, *end = buf ? buf + got : NULL;
    if (r == 0 && from > 0) { /* the first line is cut */
        const char *nl = memchr(buf, '\n', got);
        p = nl ? nl + 1 : end;
    }
    for (const char *nl; r >= 0 && p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
        if (seal_record_parse(p, (size_t)(nl - p), &rec) == 0 && rec.kind == SEAL_REC_EXPIRED &&
            rec.file_len == n && !memcmp(rec.file, path, n)) {
            *out = rec;
            r = 1;
        }
    free(buf);
    return r;
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
    else if (r == 0 && (r = expired_last(dir_fd, path, n, &rec)) > 0) {
        /* file .1 was expired before this one's first seal: the chain
         * goes on from the expiry record's final tag, as verify links it */
        memcpy(rec.tag, rec.prev, SEAL_HASH_BYTES);
        rec.idle = 0;
        state_from(f, &rec, false);
    }
    struct stat st;
    if (r >= 0 && (fd = openat(dir_fd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
        fstat(fd, &st) == 0) {
        if ((uint64_t)st.st_size < f->chain.bytes)
            store_say(s, "sealing: %s is shorter than its seals (%llu < %llu bytes)", path,
                      (unsigned long long)st.st_size, (unsigned long long)f->chain.bytes);
        f->size = (uint64_t)st.st_size; /* its tail is hashed by the next seal */
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

static int round_wait(struct store_seal *ss);
static void round_release(struct store_seal *ss, const char *path, size_t n);

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
    round_release(ss, e->path, e->path_len); /* the round may be appending to its sidecar */
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
    f->size = e->size;
    *pp = f;
    f->next = NULL;
    e->seal = NULL;
}

/* ---- writing seals ---- */

static uint64_t promise(const struct store *s)
{
    return (uint64_t)s->cfg.seal_idle + 2 * (uint64_t)s->cfg.seal_interval;
}

/* A job's key (k_E, wiped when it is collected) and time (the clock,
 * never going back within one run). */
static void job_begin(struct store_seal *ss, struct seal_job *j, time_t now)
{
    ss->last_time = now > ss->last_time ? now : ss->last_time;
    j->time = (uint64_t)ss->last_time;
    j->key = ss->key;
}

/* Adds a seal of f, up to the last line end below `to` bytes, to the job
 * being built: the file's chain at its last seal; the sync thread hashes
 * the file's bytes after it, formats and tags the record. f is left as it
 * is until the job is collected (which then keeps it, if it was not
 * freed meanwhile: a parked or walked file is, the item's `file` is then
 * NULL). */
static int seal_write(struct store_seal *ss, struct seal_job *j, struct seal_file *f, uint64_t idle,
                      uint64_t to)
{
    size_t text_len = j->text.len;
    int r = 0;
    if (j->nitems == j->items_cap) {
        size_t cap = j->items_cap ? 2 * j->items_cap : 64;
        struct seal_job_item *it = realloc(j->items, cap * sizeof(*it));
        r = it ? 0 : -ENOMEM;
        if (it)
            j->items = it, j->items_cap = cap;
    }
    if (r == 0 && (r = buf_append(&j->text, f->path, f->path_len + 1)) < 0)
        j->text.len = text_len;
    if (r < 0) {
        say_err(ss->s, "writing the seal of", f->path, r);
        return r;
    }
    struct seal_job_item *it = &j->items[j->nitems++];
    *it = (struct seal_job_item){.path_off = text_len,
                                 .path_len = f->path_len,
                                 .hash = f->hash,
                                 .seq = f->seq,
                                 .idle = idle,
                                 .lines = f->chain.lines,
                                 .bytes = f->chain.bytes,
                                 .to = to,
                                 .file = f};
    memcpy(it->head, f->chain.head, SEAL_HASH_BYTES);
    memcpy(it->prev, f->last_tag, SEAL_HASH_BYTES);
    const struct seal_fam *fam = *fam_find(ss, f->path, f->path_len, f->hash);
    if ((it->had_fam = fam != NULL)) {
        it->fam_seq = fam->seq;
        memcpy(it->fam_tag, fam->tag, SEAL_HASH_BYTES);
    }
    return 0;
}

static bool seal_due(const struct store *s, const struct seal_file *f, uint64_t size, time_t now)
{
    return size > f->examined || (f->sealed && now - f->sealed_time >= (time_t)s->cfg.seal_idle);
}

static int job_run_inline(struct store_seal *ss, struct seal_job *j);

int store_seal_final(struct store *s, struct store_entry *e)
{
    struct store_seal *ss = s->seal;
    if (!ss)
        return 0;
    round_release(ss, e->path, e->path_len); /* its sidecar is renamed next */
    if (!e->seal)
        return 0;
    /* the data was synced by the caller; the seal is synced alone (a job
     * of one, beside the round in flight, which has no seal of this
     * family), the renames follow */
    job_begin(ss, &ss->now, time(NULL));
    int r = seal_write(ss, &ss->now, e->seal, promise(s), e->size);
    return r < 0 ? r : job_run_inline(ss, &ss->now);
}

void store_seal_rotated(struct store *s, struct store_entry *e)
{
    struct seal_file *f = e->seal;
    (void)s;
    if (!f)
        return;
    f->seq++;
    seal_chain_start(&f->chain, f->last_tag, 0, 0);
    f->examined = 0;
    f->sealed = false;
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
    /* no wait for a round in flight: it writes only active files' sidecars,
     * and a record of epoch E after the key file says E+1 is still one
     * only a holder of k_E could write */
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
    r = n < 0 ? n
              : seal_sidecar_append(&ss->s->cfg, dir_fd, name, SEAL_EXPIRED, line, (size_t)n, true);
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

static void park_seal_all(struct store_seal *ss, struct seal_job *j, time_t now)
{
    for (size_t i = 0; i < PARK_SLOTS; i++)
        while (ss->park[i]) {
            struct seal_file *f = ss->park[i];
            ss->park[i] = f->next;
            if ((seal_due(ss->s, f, f->size, now) || f->promised) &&
                seal_write(ss, j, f, 0, f->size) == 0) /* closed: no next seal promised */
                j->items[j->nitems - 1].file = NULL;
            file_free(f);
        }
}

static void job_reset(struct seal_job *j)
{
    for (size_t i = 0; i < j->ndata; i++)
        close(j->data_fds[i]);
    j->ndata = j->nitems = 0;
    buf_reset(&j->text);
    buf_reset(&j->manifest);
    memset(j->key_text, 0, sizeof(j->key_text));
    seal_key_wipe(&j->key);
    j->key_len = 0;
    j->data_syncfs = j->commit = j->key_tried = false;
    j->data_r = j->side_r = j->manifest_r = j->key_r = 0;
    j->syncs = 0;
}

static void job_free(struct seal_job *j)
{
    job_reset(j);
    free(j->data_fds);
    free(j->items);
    buf_free(&j->text);
    buf_free(&j->manifest);
}

/* A seal that may or may not have reached its sidecar (a failed write or
 * sync): the open or parked file takes its state from the sidecar's last
 * record (a torn one cut), so that the next seal follows what is there. */
static void item_resync(struct store_seal *ss, struct seal_file *f)
{
    struct store *s = ss->s;
    struct seal_record rec;
    char name[NAME_CAP];
    const char *leaf;
    int dir = store_dir_open(s->root_fd, f->path, &s->cfg, false, &leaf);
    if (dir < 0)
        return;
    if (sidecar_name(name, sizeof(name), leaf, 0) == 0 && sidecar_last(dir, name, true, &rec) > 0 &&
        rec.seq == f->seq && rec.bytes >= f->chain.bytes &&
        memcmp(rec.tag, f->last_tag, SEAL_HASH_BYTES)) {
        state_from(f, &rec, true);
        fam_from_file(ss, f);
    }
    close(dir);
}

/* A finished item: its seal kept in its file's state (unless the file is
 * gone: then in its family only), or said and the file taken back to its
 * sidecar. changed: the family's new line is not in a written manifest. */
static int item_keep(struct store_seal *ss, const struct seal_job *j, struct seal_job_item *it,
                     bool changed)
{
    struct store *s = ss->s;
    const char *path = j->text.data + it->path_off;
    struct seal_file *f = it->file;
    if (it->r == -ECANCELED || (it->r < 0 && j->data_r < 0))
        return it->r == -ECANCELED ? 0 : it->r; /* never tried (the data: said once) */
    if (it->r < 0) {
        say_err(s, "writing the seal of", path, it->r);
        if (f)
            item_resync(ss, f);
        return it->r;
    }
    s->stats.seals++;
    fam_set(ss, path, it->path_len, it->hash, it->seq, it->tag, changed);
    if (f) {
        seal_chain_start(&f->chain, it->new_head, it->new_lines, it->new_bytes);
        memcpy(f->last_tag, it->tag, SEAL_HASH_BYTES);
        f->examined = it->to;
        f->sealed = true;
        f->promised = it->idle > 0;
        f->sealed_time = (time_t)j->time;
    }
    return 0;
}

/* The loop takes the finished job back: counts, says what failed, keeps
 * each written seal in its file's state and its family (no manifest
 * change owed when the job's manifest was written), evolves the key if
 * its file was written (or tried). */
static int round_collect(struct store_seal *ss, struct seal_job *j)
{
    struct store *s = ss->s;
    int r = j->data_r;
    bool round = j == &ss->job && ss->job_round;
    if (j == &ss->job)
        ss->inflight = false;
    s->stats.syncs += j->syncs;
    if (j->data_r < 0)
        say_err(s, "syncing the data (no seal written) of", s->root, j->data_r);
    for (size_t i = 0; i < j->nitems; i++) {
        int ir = j->items[i].consumed ? 0 : item_keep(ss, j, &j->items[i], !j->key_tried);
        r = r ? r : ir;
    }
    if (j->side_r < 0)
        say_err(s, "syncing the sidecars of", s->root, j->side_r);
    if (j->manifest_r < 0)
        say_err(s, "writing", SEAL_MANIFEST, j->manifest_r);
    if (round && j->data_r == 0 && j->side_r == 0)
        s->stats.seal_rounds++;
    if (j->commit && !j->key_tried)
        ss->fams_changed = true; /* the manifest again next round; the key stays */
    if (j->key_tried) {
        seal_key_evolve(&ss->key);
        if (j->key_r < 0)
            say_err(s, "advancing the key in", SEAL_KEY_FILE, j->key_r);
    }
    r = r ? r : j->side_r ? j->side_r : j->manifest_r ? j->manifest_r : j->key_r;
    job_reset(j);
    if (j == &ss->job)
        ss->job_round = false;
    return r;
}

/* The store's fds as they are now (store_reopen changes the root's, but
 * only once no job is in flight). */
static void job_bind(struct store_seal *ss, struct seal_job *j)
{
    j->root_fd = ss->s->root_fd;
    j->key_fd = ss->key_fd;
    j->sync = NULL; /* inline; round_submit sets it */
}

static int job_run_inline(struct store_seal *ss, struct seal_job *j)
{
    job_bind(ss, j);
    if (j == &ss->job)
        ss->inflight = true;
    seal_job_run(j);
    return round_collect(ss, j);
}

/* Waits for the round in flight, if any, and collects it. */
static int round_wait(struct store_seal *ss)
{
    if (!ss->inflight)
        return 0;
    seal_sync_done(ss->sync, true);
    return round_collect(ss, &ss->job);
}

/* The round in flight has a seal of path to write: takes it back before
 * the sync thread reaches it (it is then not written: the file is sealed
 * from where it was), or waits for that one seal (not the round) and keeps
 * it now. Either way the round no longer touches the file's sidecar: a
 * rotation may rename it, a recovery read it. */
static void round_release(struct store_seal *ss, const char *path, size_t n)
{
    struct seal_job *j = &ss->job;
    for (size_t i = 0; ss->inflight && j->sync && i < j->nitems; i++) {
        struct seal_job_item *it = &j->items[i];
        if (it->consumed || it->path_len != n || memcmp(j->text.data + it->path_off, path, n))
            continue;
        it->consumed = true;
        if (seal_sync_claim(ss->sync, it))
            item_keep(ss, j, it, true);
        return;
    }
}

static int data_fd_add(struct seal_job *j, int fd)
{
    if (j->ndata == j->data_cap) {
        size_t cap = j->data_cap ? 2 * j->data_cap : 16;
        int *p = realloc(j->data_fds, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        j->data_fds = p;
        j->data_cap = cap;
    }
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0)
        return -errno;
    j->data_fds[j->ndata++] = d;
    return 0;
}

/* What the job must make durable before its seals: the written bytes of
 * every file it seals. One syncfs of the root when many (or unknown:
 * fsync = none, or an evicted file's sync is owed), else an fdatasync per
 * file; a file on another file system is always fdatasynced. Decided
 * before the seals are added (seal_due changes then). */
static void job_mark(struct store_seal *ss, const struct seal_job *j, bool on)
{
    for (size_t i = 0; i < j->nitems; i++) {
        const struct seal_job_item *it = &j->items[i];
        struct seal_fam *f = *fam_find(ss, j->text.data + it->path_off, it->path_len, it->hash);
        if (f)
            f->in_job = on;
    }
}

/* The manifest's lines of the families the job does not seal. */
static int job_manifest(struct store_seal *ss, struct seal_job *j)
{
    job_mark(ss, j, true);
    int r = manifest_build(ss, j);
    job_mark(ss, j, false);
    return r;
}

static int round_data(struct store *s, time_t now, bool closing)
{
    struct seal_job *j = &s->seal->job;
    unsigned nroot = 0;
    int r = 0;
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        for (struct store_entry *e = s->lru_head; e && r == 0; e = e->lru_next) {
            if (!e->seal || e->fd < 0 || !e->unsynced ||
                (!closing && !seal_due(s, e->seal, e->size, now)))
                continue;
            if (pass == 0 && !e->other_fs)
                nroot++;
            else if (pass == 1 ? !e->other_fs : e->other_fs)
                r = data_fd_add(j, e->fd);
        }
        if (pass == 0)
            j->data_syncfs =
                s->cfg.fsync == STORE_FSYNC_NONE || s->need_syncfs || nroot > SEAL_DATA_FDS_MAX;
        if (j->data_syncfs)
            break;
    }
    return r;
}

/* Builds a round in the job: the buffers written out (not synced: the
 * job syncs what it covers), a seal per due file (closing: per open
 * file, promising nothing), a closing seal per parked chain, the manifest
 * and the next key's text. 1: a job to run, 0: nothing to seal. */
static int round_build(struct store *s, time_t now, bool closing)
{
    struct store_seal *ss = s->seal;
    struct seal_job *j = &ss->job;
    int r = store_write_out(s);
    if (r < 0)
        return r; /* sealing waits until what was appended has reached the files */
    job_reset(j);
    if ((r = round_data(s, now, closing)) < 0) {
        job_reset(j);
        return r;
    }
    job_begin(ss, j, now);
    for (struct store_entry *e = s->lru_head; e; e = e->lru_next)
        if (e->seal && (closing || seal_due(s, e->seal, e->size, now)))
            seal_write(ss, j, e->seal, closing ? 0 : promise(s), e->size);
    park_seal_all(ss, j, now);
    ss->last_round = now;
    ss->lines_at_round = s->stats.lines;
    if (j->nitems == 0 && !ss->fams_changed) {
        job_reset(j);
        s->stats.seal_rounds++;
        return 0; /* a key that sealed nothing need not go */
    }
    j->commit = job_manifest(ss, j) == 0 && key_next_text(ss, j) == 0;
    ss->fams_changed = !j->commit; /* else the job's manifest holds every change so far */
    ss->job_round = true;
    return 1;
}

/* Hands the built job to the sync thread (started at the first round:
 * after the collector dropped its privileges, so that the thread has the
 * same credentials and capabilities as the loop), or runs it inline when
 * the thread cannot start. */
static int round_submit(struct store_seal *ss)
{
    if (!ss->sync) {
        int r = seal_sync_start(&ss->sync);
        if (r < 0) {
            say_err(ss->s, "starting the sync thread (rounds run on the loop) for", ss->s->root, r);
            return job_run_inline(ss, &ss->job);
        }
    }
    job_bind(ss, &ss->job);
    ss->job.sync = ss->sync;
    ss->inflight = true;
    seal_sync_submit(ss->sync, &ss->job);
    return 0;
}

int store_seal_tick(struct store *s, time_t now)
{
    struct store_seal *ss = s->seal;
    if (!ss)
        return 0;
    int r = 0;
    if (ss->inflight) {
        if (!seal_sync_done(ss->sync, false))
            return 0; /* one round at a time */
        r = round_collect(ss, &ss->job);
    }
    /* seal_records brings a round forward, but not within a second of the
     * last: at 500,000 lines/s a round per 10,000 lines meant 50 rounds
     * (each with its syncs) a second */
    if (now - ss->last_round < (time_t)s->cfg.seal_interval &&
        (s->stats.lines - ss->lines_at_round < s->cfg.seal_records || now - ss->last_round < 1))
        return r;
    int b = round_build(s, now, false);
    if (b > 0)
        b = round_submit(ss);
    return r < 0 ? r : b;
}

void store_seal_settle(struct store *s)
{
    if (s->seal)
        round_wait(s->seal);
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
    /* a torn last line mended first, so that the seal below covers the file */
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        store_torn_mend(s, dir_fd, name, path, -1, &st);
    struct seal_file *f;
    int r = recover(s, dir_fd, name, path, rlen + (size_t)n, &f);
    if (r < 0) {
        say_err(s, "recovering the chain of", path, r);
        return;
    }
    fam_from_file(s->seal, f);
    struct seal_job *j = &s->seal->job; /* the tail a crash left, or a fresh closing seal: */
    if ((seal_due(s, f, f->size, now) || f->promised) && seal_write(s->seal, j, f, 0, f->size) == 0)
        j->items[j->nitems - 1].file = NULL; /* the item holds what it needs */
    file_free(f);
}

/* A crash between a rotation's renames and the new active file's first
 * write leaves no active file (or an empty one), and the rotated file's
 * final seal promised the family's next seal: the host may say nothing
 * for long, so the walk keeps that promise with a closing seal of the
 * empty active file, which it makes here first if it is absent (only
 * when neither the active file nor its sidecar is there and file .1's
 * last seal promised: a sidecar left alone stays a deleted file). */
static void walk_absent(struct store *s, int dir_fd, const char *rel, size_t rlen, const char *name)
{
    unsigned num;
    bool zst, tmp;
    char leaf[NAME_CAP], side[NAME_CAP];
    struct seal_record rec;
    struct stat st;
    int n = store_name_classify(name, &num, &zst, &tmp);
    if (n <= 0 || num != 1 || tmp || (size_t)n >= sizeof(leaf))
        return;
    memcpy(leaf, name, (size_t)n);
    leaf[n] = '\0';
    if (fstatat(dir_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        return;
    repair_rotation(s, dir_fd, leaf); /* a sidecar left behind by that crash goes to .1 */
    if (sidecar_name(side, sizeof(side), leaf, 0) ||
        fstatat(dir_fd, side, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT ||
        sidecar_name(side, sizeof(side), leaf, 1) || sidecar_last(dir_fd, side, false, &rec) <= 0 ||
        rec.idle == 0)
        return;
    int fd = store_file_open(dir_fd, leaf, &s->cfg, &st);
    if (fd < 0) {
        s->stats.seal_errors++;
        store_say(s, "sealing: making the active file %.*s%s (lost after a rotation): %s",
                  (int)rlen, rel, leaf, strerror(-fd));
        return;
    }
    /* the walk runs before the drop of privileges: the file belongs to
     * whoever owns file .1 (the collector's user), not to root */
    struct stat one;
    if (fstatat(dir_fd, name, &one, AT_SYMLINK_NOFOLLOW) == 0 && one.st_uid != st.st_uid &&
        fchown(fd, one.st_uid, (gid_t)-1) < 0)
        store_say(s, "sealing: %.*s%s: giving it the owner of %s: %s", (int)rlen, rel, leaf, name,
                  strerror(errno));
    close(fd);
    store_say(s,
              "sealing: made an empty %.*s%s (the active file a crash after a rotation left out)",
              (int)rlen, rel, leaf);
}

static void walk(struct store *s, int dir_fd, char *rel, size_t rlen, unsigned depth, time_t now)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        return;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (de->d_name[0] != '.')
            walk_absent(s, dirfd(d), rel, rlen, de->d_name);
    rewinddir(d); /* the files made above are walked as the others */
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
    ss->job.cfg = ss->now.cfg = &s->cfg;
    buf_init(&ss->job.text, 0);
    buf_init(&ss->job.manifest, 0);
    buf_init(&ss->now.text, 0);
    buf_init(&ss->now.manifest, 0);
    int r = key_load(ss);
    if (r < 0)
        return r;
    char rel[STORE_PATH_MAX];
    time_t now = time(NULL);
    job_begin(ss, &ss->job, now);
    int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        walk(s, fd, rel, 0, 0, now);
    ss->last_round = now;
    /* the walk's seals cover a previous run's bytes: synced first; then the
     * manifest, and the key advances: once per start (inline: before the
     * collector serves) */
    struct seal_job *j = &ss->job;
    j->data_syncfs = j->nitems > 0;
    r = job_manifest(ss, j);
    if (r == 0)
        r = key_next_text(ss, j);
    if (r < 0) {
        job_reset(j);
        return r;
    }
    j->commit = true;
    ss->fams_changed = false;
    ss->job_round = true;
    return job_run_inline(ss, &ss->job);
}

void store_seal_close(struct store *s)
{
    struct store_seal *ss = s->seal;
    if (!ss)
        return;
    round_wait(ss);
    seal_sync_stop(ss->sync);
    ss->sync = NULL;
    if (ss->key_fd >= 0) {
        if (round_build(s, time(NULL), true) > 0) /* closing seals, promising nothing */
            job_run_inline(ss, &ss->job);
        close(ss->key_fd);
    }
    for (struct store_entry *e = s->lru_head; e; e = e->lru_next) {
        file_free(e->seal);
        e->seal = NULL;
    }
    for (size_t i = 0; i < PARK_SLOTS; i++)
        while (ss->park[i]) { /* left only when the closing round failed: the next walk */
            struct seal_file *f = ss->park[i];
            ss->park[i] = f->next;
            file_free(f);
        }
    for (size_t i = 0; i < PARK_SLOTS; i++)
        for (struct seal_fam *f = ss->fams[i], *nx; f; f = nx) {
            nx = f->next;
            free(f);
        }
    seal_key_wipe(&ss->key);
    job_free(&ss->job);
    job_free(&ss->now);
    free(ss);
    s->seal = NULL;
}
