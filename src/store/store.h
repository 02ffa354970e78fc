/*
 * store: files per host and program under one root, the way the site
 * guideline lays them out (<root>/<host>/<program>.log), with size-based
 * rotation (auditd's max_log_file/num_logs), batched writes and an fsync
 * policy behind the collector's acknowledgements. On-disk layout, name
 * escaping, modes and the version file: docs/formats.md, "The store on disk".
 *
 * One thread owns a struct store; nothing here locks.
 *
 * Housekeeping (retention.c, space.c, compress.c) runs from
 * store_maintain(), which the collector calls periodically; each call does
 * a bounded amount of work. Disk space is also checked inside store_append.
 *
 * Where later work hooks in (not built yet):
 *  - Sealing (issue 4, seal_store.c): the chain is fed where bytes reach
 *    the disk (entry_write), the final seal is written in entry_rotate,
 *    sidecars move in store_rotate() and the expiry record is written in
 *    store_retire(). TODO(issue 4 point 4): chattr +a on active files,
 *    cleared only around store_rotate().
 */
#ifndef LW_STORE_STORE_H
#define LW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define STORE_FORMAT_VERSION 1     /* in <root>/.logward-store */
#define STORE_NAME_MAX       160   /* bytes of one sanitized name, without NUL */
#define STORE_TEMPLATE_MAX   256   /* bytes of path_template */
#define STORE_PATH_MAX       1024  /* bytes of one rendered path below the root */
#define STORE_NUM_LOGS_MAX   999   /* as auditd */
#define STORE_OPEN_FILES_MAX 65536 /* upper bound on max_open_files */
#define STORE_BATCH_MAX      ((size_t)16 << 20)
#define STORE_VERSION_FILE   ".logward-store"
#define STORE_AGE_MAX        ((uint64_t)100 * 366 * 86400) /* bound on max_age_seconds */
#define STORE_ZSTD_LEVEL_MAX 19    /* above, zstd's "ultra" levels need far more memory */
#define STORE_SPACE_MS_MAX   60000 /* bound on space_check_ms */

/* BATCH is 0 so that a zeroed config keeps acknowledged data safe. */
enum store_fsync {
    STORE_FSYNC_BATCH, /* store_flush() fdatasyncs the files written since the last one
                          (one syncfs of the root's file system when there are many) */
    STORE_FSYNC_NONE,  /* write(2) at flush; the kernel decides when it reaches the disk */
    STORE_FSYNC_EVERY, /* every append is written and fdatasynced before it returns */
};

/* What store_space_state() says; the collector maps LOW to audisp-remote's
 * DISKLOW and FULL to DISKFULL (and RELP gets no ack). */
enum store_space {
    STORE_SPACE_OK,
    STORE_SPACE_LOW,  /* free space below space_left: warned, still accepting */
    STORE_SPACE_FULL, /* below admin_space_left: store_append refuses (-ENOSPC) */
};

/* Free space of the root's file system: f_bavail and f_blocks of
 * fstatvfs(root_fd), in bytes. Returns 0 or a negative errno. */
typedef int store_space_probe_fn(void *arg, int root_fd, uint64_t *avail, uint64_t *size);

/* Zero in a numeric or mode field, or NULL template, means the default
 * that store_config_init() sets. `group` has no such zero: gid 0 is root.
 * Retention, space thresholds and compression are off at 0. */
struct store_config {
    const char *root;          /* store root; created with dir_mode if absent */
    const char *path_template; /* default "%h/%p.log": %h host, %p program (sanitized) */
    uint64_t max_file_bytes;   /* rotate when a file would pass this; 0 = never */
    unsigned num_logs;         /* files kept per name incl. the active one; 1 = never rotate */
    mode_t file_mode;          /* 0640 active; rotated files become 0440 (file_mode & 0444) */
    mode_t dir_mode;           /* 0750 */
    gid_t group;               /* (gid_t)-1 = leave as is */
    enum store_fsync fsync;    /* default BATCH */
    unsigned max_open_files;   /* bound on cached fds (LRU), default 1024 */
    size_t batch_bytes;        /* per-file write buffer before a write(2), default 64 KiB */

    /* Retention (store_maintain): only rotated files are ever deleted. */
    uint64_t max_age_seconds; /* delete rotated files whose mtime is older than this */
    uint64_t max_total_bytes; /* delete the oldest rotated files, store-wide, while the
                                 active and rotated files together pass this */
    /* Disk space, auditd's space_left/admin_space_left: each in bytes or
     * in percent of the file system's size, not both. admin <= space_left
     * when both use the same unit. */
    uint64_t space_left_bytes, admin_space_left_bytes;
    unsigned space_left_percent, admin_space_left_percent; /* 1..99 */
    unsigned space_check_ms; /* longest time between two checks, default 1000 */
    /* zstd level (1..19) for rotated files, compressed by store_maintain */
    int compress_level;
    /* Sealing (docs/formats.md, "Sealing"): needs <root>/.logward-key
     * (logward keygen); rounds run from store_seal_tick. */
    bool seal;
    unsigned seal_interval; /* seconds between rounds, default 10 */
    uint64_t seal_records;  /* or after this many appended lines, default 10000 */
    unsigned seal_idle;     /* an idle open file is sealed at least this often, default 300 s */
    /* chattr +a on active files, cleared only to rotate (append_only.c) */
    bool append_only;

    /* Called once per space crossing and per housekeeping error, with a
     * one-line message; NULL: nothing is said (counters still count). */
    void (*log)(void *arg, const char *msg);
    void *log_arg;
    /* For tests only: replaces fstatvfs(root) to inject free space. */
    store_space_probe_fn *space_probe;
    void *space_probe_arg;
};

struct store;

struct store_stats {
    uint64_t lines, bytes; /* appended (buffered or written) */
    uint64_t rotations;
    uint64_t write_errors; /* failed open, mkdir, write, fsync, rename */
    uint64_t dropped;      /* lines buffered, then lost to a write error (flush reported it) */
    uint64_t syncs;        /* fdatasync and syncfs calls made */
    uint64_t open_files;   /* now */
    /* retention and compression (store_maintain) */
    uint64_t expired_age, expired_size; /* rotated files deleted by max_age/max_total */
    uint64_t expired_bytes;             /* their bytes */
    uint64_t compressed;                /* rotated files compressed */
    uint64_t compress_in, compress_out; /* bytes before and after */
    uint64_t maintain_errors;           /* failed deletion, compression or scan step */
    uint64_t total_bytes;               /* now: active + rotated files (when indexed) */
    uint64_t rotated_files;             /* now: rotated files in the index */
    /* disk space */
    uint64_t space_checks;
    uint64_t space_low, space_full; /* crossings into LOW (from OK), into FULL */
    uint64_t refused_full;          /* appends refused with -ENOSPC */
    uint64_t space_avail;           /* free bytes at the last check */
    /* sealing */
    uint64_t seals, seal_rounds, seal_errors;
    uint64_t append_only_errors; /* reasons the flag could not be applied, said once each */
    uint64_t torn_tails; /* torn last lines (a crash inside a write) cut, or ended with a LF */
};

/* Fills cfg with the defaults above (root NULL, group (gid_t)-1). */
void store_config_init(struct store_config *cfg);

/*
 * Opens (and creates) the store at cfg->root and checks or writes its
 * version file. Returns 0, -EINVAL for a bad config or template,
 * -EPROTONOSUPPORT for a store of a newer format, -EBADMSG for an
 * unreadable version file, or another negative errno. cfg is copied.
 */
int store_open(const struct store_config *cfg, struct store **out);

/*
 * Appends line + '\n' to the file for (host, program). Names are sanitized
 * (store_name_sanitize) before they become path components. Buffered: the
 * line is durable only after store_flush() returns 0 (or at once with
 * STORE_FSYNC_EVERY). A line holding '\n' is refused (-EINVAL): one append
 * is one line. On error the line is not stored and write_errors counts it.
 * With free space below admin_space_left it returns -ENOSPC (refused_full
 * counts it; nothing is written): the caller must not acknowledge the line.
 */
int store_append(struct store *s, const char *host, size_t host_len, const char *program,
                 size_t program_len, const char *line, size_t len);

/*
 * Writes every buffered byte, and fsyncs per policy; after it returns 0,
 * everything appended before is durable (the caller acks only then). A
 * negative return means some appended data may be lost: ack nothing pending.
 */
int store_flush(struct store *s);

/*
 * Housekeeping, to be called periodically (every loop tick is fine) with
 * the wall clock: checks disk space, then deletes rotated files past
 * max_age_seconds (mtime older than now - max_age) or, oldest first,
 * while the total passes max_total_bytes, then compresses rotated files.
 * Bounded per call (STORE_MAINTAIN_DELETES deletions, STORE_COMPRESS_STEP
 * bytes read). Returns 1 if work is left (call again soon), 0 if none,
 * or the first negative errno (the rest still ran; counted too).
 */
int store_maintain(struct store *s, time_t now);

/*
 * Sealing, to be called periodically (every loop tick) with the wall
 * clock: collects the round in flight if it has finished (says and counts
 * what failed in it); when seal_interval seconds or seal_records lines have
 * passed and no round is in flight, writes every buffer out and starts a
 * round on the store's sync thread (data synced, a seal appended to the
 * sidecar of every file with new lines or idle for seal_idle, synced, the
 * manifest, the key advanced). Never waits for a round. 0 when off, not
 * due or started; a negative errno (said and counted) otherwise.
 */
int store_seal_tick(struct store *s, time_t now);

/* Space state after the last check (store_append and store_maintain
 * check); OK when no threshold is set. */
enum store_space store_space_state(const struct store *s);

/*
 * Writes every buffered byte with write(2) but syncs nothing: what was
 * written becomes durable at the next store_flush() (which syncs it, per
 * policy) or when the kernel writes it back. For data no one acknowledges,
 * so that it leaves the process's buffers promptly without an fsync.
 */
int store_write_out(struct store *s);

/* SIGHUP: flushes, closes every fd (the root's too) and reopens lazily;
 * rebuilds the index of rotated files (a walk of the store). */
int store_reopen(struct store *s);

/* Flushes and frees; store_close(NULL) is a no-op. */
void store_close(struct store *s);

void store_get_stats(const struct store *s, struct store_stats *out);

/*
 * Makes a safe single path component: no '/', no NUL or control bytes, not
 * "." or "..", no leading '.' or '-', bounded length (STORE_NAME_MAX),
 * empty -> "_"; unsafe bytes become %XX so distinct names stay distinct
 * (injective). A name whose escaped form passes STORE_NAME_MAX keeps an
 * escaped prefix and ends in '~' and 32 hex digits of its SHA-256, so it
 * stays distinct too (a raw '~' is always escaped). Well-formed UTF-8 stays
 * readable except invisible and control characters. Writes a NUL after.
 * Returns the length written, or -ENAMETOOLONG if cap is too small.
 */
int store_name_sanitize(const char *in, size_t len, char *out, size_t cap);

/* ---- append_at.c: direct writes with a known place (the agent protocol) ---- */

/* Where a direct write goes: what an agent stream's intent records. */
struct store_place {
    uint64_t dev, ino; /* of the active file at the time of the write */
    uint64_t offset;   /* its size before the write */
    uint64_t len;      /* bytes written: the lines with their LFs */
    uint64_t sum;      /* store_bytes_sum of those bytes */
    size_t path_len;
    char path[STORE_PATH_MAX]; /* rendered, relative to the root */
};

/* Called between the flush of the file's buffer and the write; a negative
 * return cancels the write (nothing is written) and is returned. */
typedef int store_before_write_fn(void *arg, const struct store_place *at);

/*
 * Writes lines[0..len) (one or more lines, each ending in LF) to the file
 * of (host, program) now, with write(2), not through the batch: rotates
 * first if the run would take the file past max_file_bytes, writes the
 * file's buffered lines, calls before() with the place, then writes the
 * run. Durable at the next store_flush (at once with STORE_FSYNC_EVERY).
 * A run of several lines is at most store_direct_max() bytes (-E2BIG); one
 * line may be longer. On a failed write nothing of the run lands later:
 * the bytes that reached the file are cut (or, when a seal chain holds
 * them, ended with a LF) and the error returned. -ENOSPC below
 * admin_space_left, as store_append.
 */
int store_append_direct(struct store *s, const char *host, size_t host_len, const char *program,
                        size_t program_len, const char *lines, size_t len,
                        store_before_write_fn *before, void *arg);
size_t store_direct_max(const struct store *s);
uint64_t store_bytes_sum(const char *p, size_t n);

enum store_place_fix {
    STORE_PLACE_UNTOUCHED,
    STORE_PLACE_CUT,   /* a torn tail of the run was cut off */
    STORE_PLACE_ENDED, /* it could not be cut (append-only file): a LF ends it */
};

/*
 * After a crash, before store_open (whose seal walk must see the file as
 * it will stay): did the write at `at` land? Returns 1 when the file (or,
 * after a rotation, its .1) holds the run's bytes at the offset, 1 too
 * when the file was rotated away beyond .1 (rotation follows only complete
 * writes), 0 when not; then, if may_cut and the file ends inside the run
 * (only the run's bytes can be there), its torn tail is cut (*fix says
 * what was done). A negative errno when the file cannot be read.
 */
int store_place_resolve(const char *root, const struct store_place *at, bool may_cut,
                        enum store_place_fix *fix);

#endif
