/*
 * store: files per host and program under one root, the way the site
 * guideline lays them out (<root>/<host>/<program>.log), with size-based
 * rotation (auditd's max_log_file/num_logs), batched writes and an fsync
 * policy behind the collector's acknowledgements. On-disk layout, name
 * escaping, modes and the version file: docs/formats.md, "The store on disk".
 *
 * One thread owns a struct store; nothing here locks.
 *
 * Where later work hooks in (not built yet):
 *  - TODO(sealing, issue 4): every byte reaches the disk through one place
 *    (the pending-buffer write in store.c) and every rotation through
 *    store_rotate() in rotate.c, after the file is flushed and before its
 *    rename: the hash chain, its seals and chattr +a belong there.
 *  - TODO(retention): deletion by age and by total size, after rotation.
 *  - TODO(disk space): space_left/admin_space_left checks before appends.
 *  - TODO(compression): zstd of rotated files, after the rename to .1.
 */
#ifndef LW_STORE_STORE_H
#define LW_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STORE_FORMAT_VERSION 1     /* in <root>/.logward-store */
#define STORE_NAME_MAX       160   /* bytes of one sanitized name, without NUL */
#define STORE_TEMPLATE_MAX   256   /* bytes of path_template */
#define STORE_PATH_MAX       1024  /* bytes of one rendered path below the root */
#define STORE_NUM_LOGS_MAX   999   /* as auditd */
#define STORE_OPEN_FILES_MAX 65536 /* upper bound on max_open_files */
#define STORE_BATCH_MAX      ((size_t)16 << 20)
#define STORE_VERSION_FILE   ".logward-store"

/* BATCH is 0 so that a zeroed config keeps acknowledged data safe. */
enum store_fsync {
    STORE_FSYNC_BATCH, /* store_flush() fdatasyncs the files written since the last one
                          (one syncfs of the root's file system when there are many) */
    STORE_FSYNC_NONE,  /* write(2) at flush; the kernel decides when it reaches the disk */
    STORE_FSYNC_EVERY, /* every append is written and fdatasynced before it returns */
};

/* Zero in a numeric or mode field, or NULL template, means the default
 * that store_config_init() sets. `group` has no such zero: gid 0 is root. */
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
};

struct store;

struct store_stats {
    uint64_t lines, bytes; /* appended (buffered or written) */
    uint64_t rotations;
    uint64_t write_errors; /* failed open, mkdir, write, fsync, rename */
    uint64_t dropped;      /* lines buffered, then lost to a write error (flush reported it) */
    uint64_t syncs;        /* fdatasync and syncfs calls made */
    uint64_t open_files;   /* now */
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
 */
int store_append(struct store *s, const char *host, size_t host_len, const char *program,
                 size_t program_len, const char *line, size_t len);

/*
 * Writes every buffered byte, and fsyncs per policy; after it returns 0,
 * everything appended before is durable (the caller acks only then). A
 * negative return means some appended data may be lost: ack nothing pending.
 */
int store_flush(struct store *s);

/* SIGHUP: flushes, closes every fd (the root's too) and reopens lazily. */
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

#endif
