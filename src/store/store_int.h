/*
 * store_int: what the store's files share among themselves (the store and
 * its entries, path template, safe opening below the root, rotation,
 * version file, the index of rotated files, retention, space checks,
 * compression). Not a public header: only src/store/ includes it.
 */
#ifndef LW_STORE_STORE_INT_H
#define LW_STORE_STORE_INT_H

#include "store/seal.h"
#include "store/store.h"

#include "base/buf.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_DEPTH_MAX     8   /* components in a path template */
#define STORE_COMPONENT_MAX 240 /* bytes of one rendered component: room for ".999", ".zst" */

#define STORE_MAINTAIN_DELETES 64                /* retention deletions per store_maintain */
#define STORE_COMPRESS_STEP    ((size_t)2 << 20) /* bytes compressed per store_maintain */
#define STORE_COMPRESS_MS      20         /* and at most about this long (one input chunk more) */
#define STORE_FAMILIES_MAX     (1u << 21) /* active names the index tracks */
#define STORE_ROTATED_SUFFIX   24         /* room for ".999.zst.tmp" and more */

/* One rotated file of a family: <active>.<num>, or <active>.<num>.zst. */
struct store_gen {
    uint64_t id; /* unique in the index: survives the renumbering of rotations */
    uint64_t size;
    int64_t mtime;
    unsigned num;
    bool zst;
    bool no_zst; /* compression failed: not retried until the next index build */
};

/* An active file name and its rotated files (the active file may be gone). */
struct store_family {
    struct store_family *hash_next;
    struct store_family *zq_prev, *zq_next; /* on the compression queue */
    bool in_zq;
    uint64_t hash;
    uint64_t active_bytes;
    size_t heap_pos;        /* in idx->heap while ngens > 0 */
    struct store_gen *gens; /* by num, ascending: the oldest last */
    unsigned ngens, gens_cap;
    size_t path_len;
    char path[]; /* of the active file, relative to the root */
};

/* Built by a walk at open (and reopen) when retention or compression is
 * on; updated at rotation, writes, deletions and compression. */
struct store_index {
    struct store_family **table;
    size_t mask, count;
    struct store_family **heap; /* min-heap by the mtime of each family's oldest gen */
    size_t nheap, heap_cap;
    struct store_family *zq_head, *zq_tail; /* families with a plain gen to compress */
    uint64_t total_bytes, rotated, next_id;
};

struct seal_file;

struct store_entry {
    struct store_entry *lru_prev, *lru_next; /* most recently used at s->lru_head */
    struct store_entry *dirty_prev, *dirty_next;
    struct store_entry *hash_next;
    struct store_family *family; /* when indexed, else NULL */
    struct seal_file *seal;      /* its chain while sealing is on (seal_store.c) */
    bool dirty;                  /* on the dirty list: pending bytes or an fsync owed */
    bool unsynced;               /* written since the last fdatasync */
    bool other_fs;               /* not on the root's file system: syncfs(root) misses it */
    int fd;                      /* -1 until opened (lazily, and again after a failure) */
    uint64_t size;               /* bytes in the file on disk */
    uint64_t hash;
    struct buf pending;
    size_t path_len;
    char path[]; /* rendered, relative to the root */
};

struct store_space_check {
    bool on;
    enum store_space state;
    uint64_t since;       /* bytes appended since the last check */
    uint64_t budget;      /* appends up to this need no check: the headroom left */
    struct timespec last; /* CLOCK_MONOTONIC_COARSE of the last check */
};

/* The compression of one rotated file, a step per store_maintain. */
struct store_zjob {
    struct store_family *family; /* NULL: no job */
    uint64_t gen_id;
    int dir_fd, in_fd, out_fd;
    struct stat in_st;
    uint64_t in_bytes, out_bytes;
    char tmp[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
};

struct store {
    struct store_config cfg;
    char *root, *tmpl;
    int root_fd;
    dev_t root_dev;
    struct store_entry **table; /* chained hash of entries by path */
    size_t table_mask;
    struct store_entry *lru_head, *lru_tail, *dirty_head;
    unsigned count, ndirty;
    int lost;               /* error that lost buffered lines since the last flush, or 0 */
    bool need_syncfs;       /* an evicted file was closed with an fsync owed */
    bool indexed;           /* retention or compression on: idx is kept */
    uint64_t pending_bytes; /* buffered in entries, not yet written */
    struct store_index idx;
    struct store_space_check space;
    struct store_zjob zjob;
    void *zctx, *zin, *zout; /* ZSTD_CCtx and its buffers, made at the first job */
    struct store_stats stats;
    unsigned ao_said;        /* append_only.c: reasons already said */
    struct store_seal *seal; /* NULL unless cfg.seal */
    /* dest.c: (host, program) -> path, made at first use */
    struct store_dests *dests;
};

/* Says msg through cfg->log, if set (printf-like, one line). */
void store_say(const struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t store_path_hash(const char *p, size_t n);

/* Checks a path template: returns 0 or -EINVAL (rules in path.c). */
int store_template_check(const char *tmpl);
/* Renders tmpl with sanitized host and program into out (NUL-terminated);
 * returns the length, or -ENAMETOOLONG. */
int store_path_render(const char *tmpl, const char *host, const char *program, char *out,
                      size_t cap);
/* Opens (creating if asked) every directory of relpath below root_fd, never
 * following a symlink; returns the fd of the last directory and points
 * *leaf at relpath's last component, or a negative errno (-ELOOP for a
 * symlink, -ENOTDIR for another file in the way). */
int store_dir_open(int root_fd, const char *relpath, const struct store_config *cfg, bool create,
                   const char **leaf);
/* Opens (creating) the active file leaf in dir_fd for appending; refuses
 * symlinks, non-regular files and files with other hard links (-EPERM).
 * *st gets its fstat. Returns the fd or a negative errno. */
int store_file_open(int dir_fd, const char *leaf, const struct store_config *cfg, struct stat *st);
/* torn.c: mends a torn last line of leaf in dir_fd (path: for messages),
 * whose fstat is *st: cut back to its last LF, or where it cannot be cut
 * (append-only) ended with a LF; said and counted (torn_tails). wfd: the
 * file open for appending, or -1 (opened here if needed). *st follows.
 * 1 mended, 0 whole (or not readable to us), or a negative errno. */
int store_torn_mend(struct store *s, int dir_fd, const char *leaf, const char *path, int wfd,
                    struct stat *st);
/* Rotates leaf in dir_fd: leaf.N-2 -> leaf.N-1 ... leaf -> leaf.1 (N =
 * num_logs, the oldest replaced, through store_retire with seal), then
 * makes fd (the old active file) read-only. Sidecars move with their
 * files. The caller has flushed and synced fd before. */
int store_rotate(struct store_seal *seal, int dir_fd, const char *leaf, int fd,
                 const struct store_config *cfg);
/* Checks <root>/.logward-store, or writes it in a store without one. */
int store_version_check(int root_fd, const struct store_config *cfg);
/* fsyncs a directory when the policy wants durable names. */
int store_dir_sync(int dir_fd, const struct store_config *cfg);
/* "<leaf>.<num>" or "<leaf>.<num>.zst" into out. */
int store_rotated_name(char *out, size_t cap, const char *leaf, unsigned num, bool zst);
/* Parses a file name of a leaf directory: returns the length of its active
 * name (all of it for an active one) and sets *num (0 = active), *zst and
 * *tmp (a compression's temp file); -1 for a name the store never makes. */
int store_name_classify(const char *name, unsigned *num, bool *zst, bool *tmp);

/* ---- dest.c: (host, program) as received -> rendered path, remembered ---- */
struct store_dests;
/* The path remembered for the pair (NUL-terminated; valid until the next
 * store_dest_add), its length and store_path_hash; NULL if not known. */
const char *store_dest_find(struct store_dests *ds, const char *host, size_t host_len,
                            const char *program, size_t program_len, size_t *path_len,
                            uint64_t *path_hash);
/* Remembers a rendered path (made at the first call). Returns 0 (also
 * when it is not kept: over-long names) or -ENOMEM. */
int store_dest_add(struct store_dests **ds, const char *host, size_t host_len, const char *program,
                   size_t program_len, const char *path, size_t path_len, uint64_t path_hash);
void store_dests_free(struct store_dests *ds);

/* ---- index.c ---- */
int store_index_build(struct store *s);
void store_index_free(struct store_index *idx);
/* Finds or adds the family of the active path; NULL past the bound. */
struct store_family *store_index_family(struct store_index *idx, const char *path, size_t n);
void store_index_set_active(struct store_index *idx, struct store_family *f, uint64_t size);
/* The family's active file was renamed to .1 (the slot num_logs-1 deleted
 * first, the others shifted up by one). */
void store_index_rotated(struct store_index *idx, struct store_family *f, unsigned num_logs,
                         uint64_t size, int64_t mtime);
/* Adds a rotated file found on disk (a plain one beside its .zst is not). */
void store_index_add_gen(struct store_index *idx, struct store_family *f, unsigned num, bool zst,
                         uint64_t size, int64_t mtime);
/* Drops gen i of f; `freed` says whether its bytes left the disk. */
void store_index_drop_gen(struct store_index *idx, struct store_family *f, unsigned i, bool freed);
/* The gen with this id in f, or -1. */
int store_index_find_gen(const struct store_family *f, uint64_t id);
/* gen i of f is now its .zst of `size` bytes (or failed: no_zst). */
void store_index_gen_compressed(struct store_index *idx, struct store_family *f, unsigned i,
                                uint64_t size);
void store_index_gen_no_zst(struct store_index *idx, struct store_family *f, unsigned i);
/* The family holding the oldest rotated file store-wide, or NULL. */
struct store_family *store_index_oldest(const struct store_index *idx);

/* ---- retention.c ---- */
enum store_retire_why { STORE_RETIRE_NUM_LOGS, STORE_RETIRE_AGE, STORE_RETIRE_SIZE };
/* The one place where stored data is deleted: name in dir_fd. Returns 0
 * (also when it was already gone) or a negative errno. */
int store_retire(struct store_seal *seal, int dir_fd, const char *name, enum store_retire_why why);
/* Deletes per max_age_seconds and max_total_bytes; returns 1 if more is
 * due, 0, or the first error. */
int store_retention_run(struct store *s, time_t now);

/* ---- seal_store.c: hooks, each a no-op while sealing is off ---- */
int store_seal_open(struct store *s);
void store_seal_close(struct store *s);
/* Waits for the sealing round in flight, if any (store_reopen). */
void store_seal_settle(struct store *s);
/* entry_write wrote w bytes of a[0..alen) then b[0..blen) and "\n" (blen > 0). */
void store_seal_wrote(struct store *s, struct store_entry *e, const char *a, size_t alen,
                      const char *b, size_t blen, size_t w);
/* entry_open of an entry without a chain: the parked one, or recovered. */
void store_seal_attach(struct store *s, struct store_entry *e);
/* entry_release: the chain is parked until the next round seals it. */
void store_seal_detach(struct store *s, struct store_entry *e);
/* Before store_rotate: the final seal (synced); after it: the next file. */
int store_seal_final(struct store *s, struct store_entry *e);
void store_seal_rotated(struct store *s, struct store_entry *e);
/* Renames the sidecar of leaf.from to leaf.to (0 = the active file). */
int store_seal_rename(int dir_fd, const char *leaf, unsigned from, unsigned to);
/* store_retire: the expiry record before the unlink, the sidecar after. */
int store_seal_expire(struct store_seal *seal, int dir_fd, const char *name, int why);
void store_seal_forget(int dir_fd, const char *name);

/* ---- seal_sync.c: a round's disk work, run on the store's sync thread ---- */
#define SEAL_SIDECAR_NAME_CAP (STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX + 8)

/* One seal of a job: the file's chain at its last seal (in) and the seal
 * the sync thread made of it (out). */
struct seal_job_item {
    size_t path_off, path_len; /* the family path, NUL-terminated in job->text */
    uint64_t hash, seq, idle;
    uint64_t lines, bytes; /* at the last seal, whose head and tag follow */
    unsigned char head[SEAL_HASH_BYTES], prev[SEAL_HASH_BYTES];
    uint64_t to;  /* the file's size to seal: up to its last line end below */
    bool had_fam; /* the family's manifest line before: kept if this seal fails */
    uint64_t fam_seq;
    unsigned char fam_tag[SEAL_HASH_BYTES];
    void *file;    /* the loop's own (struct seal_file), NULL when freed; not for the thread */
    bool consumed; /* the loop took it back early (seal_sync_claim); not for the thread */
    int state;     /* SEAL_ITEM_*, under the sync thread's mutex while the job is out */
    int r;         /* out: 0, or why the seal is not written (-ECANCELED: claimed first) */
    uint64_t new_lines, new_bytes;
    unsigned char new_head[SEAL_HASH_BYTES], tag[SEAL_HASH_BYTES];
};

enum { SEAL_ITEM_PENDING, SEAL_ITEM_TAKEN, SEAL_ITEM_DONE, SEAL_ITEM_CANCELLED };

/* A job, built by the loop thread (seal_store.c), run by seal_job_run
 * (on the sync thread, or inline for a seal that must be written at once):
 * fdatasync data_fds and/or syncfs the root (the data), then per item: the
 * file's bytes from the last seal to `to` hashed onto the head, the record
 * formatted and tagged under key, appended to the sidecar; the sidecars
 * synced; then (commit) the manifest: the loop's family lines, one per
 * item, the digest and closing line; its temp file, rename and the root's
 * fsync; then key_text over the key file. While it runs the loop touches
 * none of it, nor the key file, nor the sidecars or the sealed bytes of
 * the files it seals, nor the root fd. */
struct seal_job {
    const struct store_config *cfg;
    int root_fd, key_fd;    /* borrowed */
    struct seal_sync *sync; /* the thread running it, NULL inline */
    struct seal_key key;    /* k_E: the seals' and the manifest's */
    uint64_t time;
    bool data_syncfs;
    int *data_fds; /* dups, closed by the loop when the job is collected */
    size_t ndata, data_cap;
    struct seal_job_item *items;
    size_t nitems, items_cap;
    struct buf text;
    bool commit;
    struct buf manifest; /* the family lines of the families no item seals */
    uint64_t nfams_other;
    char key_text[SEAL_KEYFILE_LEN + 1]; /* k_{E+1}'s file */
    size_t key_len;
    /* results */
    int data_r, side_r, manifest_r, key_r;
    bool key_tried;
    unsigned syncs;
};
void seal_job_run(struct seal_job *j);
/* ".<leaf>.seal", or ".<leaf>.<num>.seal" for a rotated file (num > 0). */
int seal_sidecar_name(char *out, size_t cap, const char *leaf, unsigned num);
/* Appends one record (a single write), fdatasynced if sync. A new sidecar
 * gets the owner and group of its file. */
int seal_sidecar_append(const struct store_config *cfg, int dir_fd, const char *leaf,
                        const char *name, const char *line, size_t n, bool sync);
struct seal_sync;
/* Starts the thread (every signal blocked in it). */
int seal_sync_start(struct seal_sync **out);
/* Hands a job over; the caller owns it again once seal_sync_done says so. */
void seal_sync_submit(struct seal_sync *y, struct seal_job *j);
/* true once the job handed over has finished (then it is the caller's
 * again); with wait, blocks until then. false: none, or still running. */
bool seal_sync_done(struct seal_sync *y, bool wait);
/* The loop takes an item of the job out back: cancelled if the thread
 * has not reached it yet (false: never written), else waits until it is
 * written (true: its results are there). Either way the thread no longer
 * touches its file's sidecar. */
bool seal_sync_claim(struct seal_sync *y, struct seal_job_item *it);
/* Runs what was handed over, then joins; NULL is a no-op. */
void seal_sync_stop(struct seal_sync *y);

/* ---- append_only.c ---- */
/* Sets (on) or clears the append-only flag of fd when cfg.append_only; a
 * flag that cannot be applied is said once and ignored (0); a set flag
 * that cannot be cleared is an error (the rotation's rename would fail). */
int store_append_only(struct store *s, int fd, const char *path, bool on);

/* ---- space.c ---- */
int store_space_setup(struct store *s);
int store_space_check(struct store *s);
/* Before an append of n bytes: checks when due; -ENOSPC when FULL. */
int store_space_gate(struct store *s, size_t n);

/* ---- compress.c ---- */
/* One step of compression; returns 1 if more is due, 0, or an error. */
int store_compress_step(struct store *s);
void store_compress_abort(struct store *s);
void store_compress_free(struct store *s);

/* ---- store.c, for append_at.c: the entry cache as store_append uses it ---- */
/* The entry of (host, program), found or made (NULL: bad name or no memory). */
struct store_entry *store_entry_get(struct store *s, const char *host, size_t host_len,
                                    const char *program, size_t program_len);
int store_entry_open(struct store *s, struct store_entry *e);
/* Writes the entry's buffer, then extra[0..len) and "\n" when len > 0. */
int store_entry_write(struct store *s, struct store_entry *e, const char *extra, size_t len);
int store_entry_rotate(struct store *s, struct store_entry *e);
void store_entry_dirty(struct store *s, struct store_entry *e);

#endif
