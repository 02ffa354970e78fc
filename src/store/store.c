/*
 * store: the collector's last step. Keeps one entry per active file (an fd
 * and a write buffer), at most max_open_files of them, least recently used
 * evicted first; appends go to the buffer, store_flush() writes them out
 * and fsyncs per policy, which is when the collector may acknowledge.
 * Rotates a file before a line would take it past max_file_bytes.
 * store_maintain() runs the housekeeping of retention.c, space.c and
 * compress.c. It does not parse or format lines (the collector does), nor
 * seal: seal_store.c and its sync thread (seal_sync.c) hash what reached
 * the files, read back from them.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define STORE_SYNCFS_FILES 8 /* more files to sync than this: one syncfs instead */

void store_config_init(struct store_config *cfg)
{
    *cfg = (struct store_config){
        .path_template = "%h/%p.log",
        .num_logs = 5,
        .file_mode = 0640,
        .dir_mode = 0750,
        .group = (gid_t)-1,
        .fsync = STORE_FSYNC_BATCH,
        .max_open_files = 1024,
        .batch_bytes = 64 * 1024,
        .space_check_ms = 1000,
        .seal_interval = 10,
        .seal_records = 10000,
        .seal_idle = 300,
    };
}

void store_say(const struct store *s, const char *fmt, ...)
{
    if (!s->cfg.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_arg, msg);
}

/* A threshold is bytes or percent, not both. */
static bool threshold_bad(uint64_t bytes, unsigned pct)
{
    return (bytes && pct) || pct > 99;
}

static int housekeeping_check(const struct store_config *c)
{
    if (c->max_age_seconds > STORE_AGE_MAX || c->compress_level < 0 ||
        c->compress_level > STORE_ZSTD_LEVEL_MAX || c->space_check_ms > STORE_SPACE_MS_MAX ||
        threshold_bad(c->space_left_bytes, c->space_left_percent) ||
        threshold_bad(c->admin_space_left_bytes, c->admin_space_left_percent))
        return -EINVAL;
    /* auditd wants admin_space_left below space_left; in one unit we can tell */
    if (c->space_left_bytes && c->admin_space_left_bytes > c->space_left_bytes)
        return -EINVAL;
    if (c->space_left_percent && c->admin_space_left_percent > c->space_left_percent)
        return -EINVAL;
    return 0;
}

/* Zeros become defaults; then everything is checked against its bound. */
static int config_fill(struct store_config *c)
{
    struct store_config d;
    store_config_init(&d);
    if (!c->path_template)
        c->path_template = d.path_template;
    c->num_logs = c->num_logs ? c->num_logs : d.num_logs;
    c->file_mode = c->file_mode ? c->file_mode : d.file_mode;
    c->dir_mode = c->dir_mode ? c->dir_mode : d.dir_mode;
    c->max_open_files = c->max_open_files ? c->max_open_files : d.max_open_files;
    c->batch_bytes = c->batch_bytes ? c->batch_bytes : d.batch_bytes;
    c->space_check_ms = c->space_check_ms ? c->space_check_ms : d.space_check_ms;
    c->seal_interval = c->seal_interval ? c->seal_interval : d.seal_interval;
    c->seal_records = c->seal_records ? c->seal_records : d.seal_records;
    c->seal_idle = c->seal_idle ? c->seal_idle : d.seal_idle;
    if (housekeeping_check(c) < 0)
        return -EINVAL;
    if (!c->root || !c->root[0] || c->num_logs > STORE_NUM_LOGS_MAX ||
        c->max_open_files > STORE_OPEN_FILES_MAX || c->batch_bytes > STORE_BATCH_MAX ||
        (c->file_mode & ~0777u) || (c->dir_mode & ~0777u) || (unsigned)c->fsync > STORE_FSYNC_EVERY)
        return -EINVAL;
    return store_template_check(c->path_template);
}

static int root_open(struct store *s, dev_t *dev)
{
    if (mkdir(s->root, s->cfg.dir_mode) == 0) {
        int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        int r = fchmod(fd, s->cfg.dir_mode) < 0 ? -errno : 0;
        if (r == 0 && s->cfg.group != (gid_t)-1 && fchown(fd, (uid_t)-1, s->cfg.group) < 0)
            r = -errno;
        close(fd);
        if (r < 0)
            return r;
    } else if (errno != EEXIST) {
        return -errno;
    }
    /* The root itself is the administrator's path and may be a symlink;
     * everything below it is opened relative to this fd. */
    int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = -errno;
        if (fd >= 0)
            close(fd);
        return r;
    }
    *dev = st.st_dev;
    return fd;
}

int store_open(const struct store_config *cfg, struct store **out)
{
    *out = NULL;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->root_fd = -1;
    s->cfg = *cfg;
    int r = config_fill(&s->cfg);
    if (r < 0)
        goto fail;
    size_t slots = 16;
    while (slots < 2 * (size_t)s->cfg.max_open_files)
        slots *= 2;
    s->table = calloc(slots, sizeof(*s->table));
    s->table_mask = slots - 1;
    s->root = strdup(s->cfg.root);
    s->tmpl = strdup(s->cfg.path_template);
    r = -ENOMEM;
    if (!s->table || !s->root || !s->tmpl)
        goto fail;
    s->cfg.root = s->root; /* the caller's strings are only borrowed */
    s->cfg.path_template = s->tmpl;
    s->zjob.family = NULL;
    s->indexed = s->cfg.max_age_seconds || s->cfg.max_total_bytes || s->cfg.compress_level;
    if ((r = s->root_fd = root_open(s, &s->root_dev)) < 0 ||
        (r = store_version_check(s->root_fd, &s->cfg)) < 0 ||
        (s->indexed && (r = store_index_build(s)) < 0) || (r = store_space_setup(s)) < 0 ||
        (r = store_seal_open(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    store_close(s);
    return r;
}

/* ---- the entry cache: hash by path, LRU list, dirty list ---- */

uint64_t store_path_hash(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a: the chain length is bounded by count */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

static void lru_unlink(struct store *s, struct store_entry *e)
{
    *(e->lru_prev ? &e->lru_prev->lru_next : &s->lru_head) = e->lru_next;
    *(e->lru_next ? &e->lru_next->lru_prev : &s->lru_tail) = e->lru_prev;
}

static void lru_push_front(struct store *s, struct store_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = s->lru_head;
    *(s->lru_head ? &s->lru_head->lru_prev : &s->lru_tail) = e;
    s->lru_head = e;
}

static void dirty_set(struct store *s, struct store_entry *e, bool dirty)
{
    if (e->dirty == dirty)
        return;
    e->dirty = dirty;
    s->ndirty += dirty ? 1 : -1u;
    if (dirty) {
        e->dirty_prev = NULL;
        e->dirty_next = s->dirty_head;
        if (s->dirty_head)
            s->dirty_head->dirty_prev = e;
        s->dirty_head = e;
    } else {
        *(e->dirty_prev ? &e->dirty_prev->dirty_next : &s->dirty_head) = e->dirty_next;
        if (e->dirty_next)
            e->dirty_next->dirty_prev = e->dirty_prev;
    }
}

static struct store_entry *entry_find(struct store *s, const char *path, size_t n, uint64_t h)
{
    for (struct store_entry *e = s->table[h & s->table_mask]; e; e = e->hash_next)
        if (e->hash == h && e->path_len == n && memcmp(e->path, path, n) == 0)
            return e;
    return NULL;
}

/* ---- writing ---- */

/* Writes iov out whole (short writes resumed); returns bytes or -errno. */
static ssize_t write_all(int fd, struct iovec *iov, int n)
{
    size_t done = 0;
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return done ? (ssize_t)done : -errno;
        if (w == 0)
            return done ? (ssize_t)done : -EIO;
        done += (size_t)w;
        for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
            w -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return (ssize_t)done;
}

static int entry_open(struct store *s, struct store_entry *e)
{
    if (e->fd >= 0)
        return 0;
    const char *leaf;
    int dir = store_dir_open(s->root_fd, e->path, &s->cfg, true, &leaf);
    if (dir < 0)
        return dir;
    struct stat st;
    int fd = store_file_open(dir, leaf, &s->cfg, &st);
    /* a torn line a crash left: failed, said; the lines still go on */
    bool mended = fd >= 0 && store_torn_mend(s, dir, leaf, e->path, fd, &st) == 1;
    close(dir);
    if (fd < 0)
        return fd;
    e->fd = fd;
    if (mended) /* the cut or the LF reaches the disk before a seal covers the file */
        e->unsynced = s->cfg.fsync != STORE_FSYNC_NONE;
    e->size = (uint64_t)st.st_size;
    e->other_fs = st.st_dev != s->root_dev;
    s->stats.open_files++;
    store_append_only(s, fd, e->path, true);
    if (s->seal && !e->seal)
        store_seal_attach(s, e);
    if (s->indexed && !e->family)
        e->family = store_index_family(&s->idx, e->path, e->path_len);
    if (e->family)
        store_index_set_active(&s->idx, e->family, e->size);
    return 0;
}

/*
 * The one place where bytes reach a file: the pending buffer, then `extra`
 * (a line too long to buffer) if any. What was written leaves the buffer;
 * on error the rest stays there and the error is counted and returned.
 */
static int entry_write(struct store *s, struct store_entry *e, const char *extra, size_t extra_len)
{
    if (e->pending.len == 0 && extra_len == 0)
        return 0;
    int r = entry_open(s, e);
    struct iovec iov[3] = {
        {e->pending.data, e->pending.len}, {(void *)extra, extra_len}, {"\n", 1}};
    ssize_t w = r;
    if (r == 0)
        w = write_all(e->fd, iov, extra_len ? 3 : 1);
    size_t from_buf = w > 0 ? ((size_t)w < e->pending.len ? (size_t)w : e->pending.len) : 0;
    if (w > 0) {
        store_seal_wrote(s, e, e->pending.data, e->pending.len, extra, extra_len, (size_t)w);
        e->size += (uint64_t)w;
        e->unsynced = s->cfg.fsync != STORE_FSYNC_NONE;
        if (from_buf) /* data is NULL while the buffer was never used */
            memmove(e->pending.data, e->pending.data + from_buf, e->pending.len - from_buf);
        e->pending.len -= from_buf;
        s->pending_bytes -= from_buf;
        if (e->family)
            store_index_set_active(&s->idx, e->family, e->size);
    }
    size_t want = e->pending.len + from_buf + (extra_len ? extra_len + 1 : 0);
    if (w >= 0 && (size_t)w == want)
        return 0;
    s->stats.write_errors++;
    return w < 0 ? (int)w : -EIO;
}

static int entry_sync(struct store *s, struct store_entry *e)
{
    if (!e->unsynced)
        return 0;
    if (fdatasync(e->fd) < 0) {
        s->stats.write_errors++;
        return -errno;
    }
    e->unsynced = false;
    s->stats.syncs++;
    return 0;
}

/* Writes what the entry holds, closes its fd and frees it. Lines that could
 * not be written are counted as dropped and make the next flush fail. */
static void entry_release(struct store *s, struct store_entry *e)
{
    int r = entry_write(s, e, NULL, 0);
    if (r < 0) {
        for (const char *p = e->pending.data, *end = p + e->pending.len;
             p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
            s->stats.dropped++;
        s->lost = s->lost ? s->lost : r;
        s->pending_bytes -= e->pending.len;
    }
    if (e->fd >= 0) {
        if (e->unsynced && e->other_fs && entry_sync(s, e) < 0)
            s->lost = s->lost ? s->lost : -EIO;
        else if (e->unsynced)
            s->need_syncfs = true; /* store_flush() syncs the file system */
        close(e->fd);
        s->stats.open_files--;
    }
    struct store_entry **pp = &s->table[e->hash & s->table_mask];
    while (*pp != e)
        pp = &(*pp)->hash_next;
    *pp = e->hash_next;
    lru_unlink(s, e);
    dirty_set(s, e, false);
    buf_free(&e->pending);
    if (e->seal)
        store_seal_detach(s, e);
    s->count--;
    free(e);
}

/* The entry of path (h = store_path_hash of it), made if absent. */
static struct store_entry *entry_get_hashed(struct store *s, const char *path, size_t n, uint64_t h)
{
    struct store_entry *e = entry_find(s, path, n, h);
    if (e) {
        if (e != s->lru_head) {
            lru_unlink(s, e);
            lru_push_front(s, e);
        }
        return e;
    }
    while (s->count >= s->cfg.max_open_files)
        entry_release(s, s->lru_tail);
    e = calloc(1, sizeof(*e) + n + 1);
    if (!e)
        return NULL;
    e->fd = -1;
    e->hash = h;
    e->path_len = n;
    memcpy(e->path, path, n + 1);
    buf_init(&e->pending, s->cfg.batch_bytes);
    e->hash_next = s->table[h & s->table_mask];
    s->table[h & s->table_mask] = e;
    lru_push_front(s, e);
    s->count++;
    return e;
}

static struct store_entry *entry_get(struct store *s, const char *path, size_t n)
{
    return entry_get_hashed(s, path, n, store_path_hash(path, n));
}

/* ---- rotation ---- */

static int entry_rotate(struct store *s, struct store_entry *e)
{
    /* Flushed and synced first: what was acknowledged, or is about to be,
     * must be on disk before its file changes name. */
    int r = entry_write(s, e, NULL, 0);
    if (r == 0)
        r = entry_sync(s, e);
    if (r == 0)
        r = store_seal_final(s, e);
    if (r < 0)
        return r;
    const char *leaf;
    int dir = store_dir_open(s->root_fd, e->path, &s->cfg, true, &leaf);
    if (dir < 0) {
        s->stats.write_errors++;
        return dir;
    }
    struct stat st;
    r = fstat(e->fd, &st) < 0 ? -errno : store_append_only(s, e->fd, e->path, false);
    if (r == 0)
        r = store_rotate(s->seal, dir, leaf, e->fd, &s->cfg);
    close(dir);
    if (r < 0) {
        s->stats.write_errors++;
        return r;
    }
    s->stats.rotations++;
    store_seal_rotated(s, e);
    if (e->family)
        store_index_rotated(&s->idx, e->family, s->cfg.num_logs, e->size, st.st_mtim.tv_sec);
    close(e->fd);
    e->fd = -1;
    e->size = 0;
    s->stats.open_files--;
    return 0; /* the new active file is opened by the next write */
}

/* ---- the API ---- */

static int render(const struct store *s, const char *host, size_t host_len, const char *program,
                  size_t program_len, char *path, size_t cap)
{
    char h[STORE_NAME_MAX + 1], p[STORE_NAME_MAX + 1];
    int r = store_name_sanitize(host, host_len, h, sizeof(h));
    if (r >= 0)
        r = store_name_sanitize(program, program_len, p, sizeof(p));
    if (r >= 0)
        r = store_path_render(s->tmpl, h, p, path, cap);
    return r;
}

int store_append(struct store *s, const char *host, size_t host_len, const char *program,
                 size_t program_len, const char *line, size_t len)
{
    int r;
    if (memchr(line, '\n', len))
        return -EINVAL;
    if (s->space.on && (r = store_space_gate(s, len + 1)) < 0)
        return r;
    /* The path of a pair seen before is remembered (dest.c). */
    size_t path_len;
    uint64_t h;
    const char *known =
        store_dest_find(s->dests, host, host_len, program, program_len, &path_len, &h);
    char path[STORE_PATH_MAX];
    if (!known) {
        r = render(s, host, host_len, program, program_len, path, sizeof(path));
        if (r < 0)
            return r;
        known = path;
        path_len = (size_t)r;
        h = store_path_hash(path, path_len);
        if ((r = store_dest_add(&s->dests, host, host_len, program, program_len, path, path_len,
                                h)) < 0)
            return r;
    }
    struct store_entry *e = entry_get_hashed(s, known, path_len, h);
    if (!e)
        return -ENOMEM;
    if ((r = entry_open(s, e)) < 0) {
        s->stats.write_errors++;
        return r;
    }
    uint64_t now = e->size + e->pending.len;
    if (s->cfg.max_file_bytes && s->cfg.num_logs >= 2 && now > 0 &&
        now + len + 1 > s->cfg.max_file_bytes && (r = entry_rotate(s, e)) < 0)
        return r;
    bool fits = e->pending.len + len + 1 <= s->cfg.batch_bytes;
    if (!fits && (r = entry_write(s, e, NULL, 0)) < 0)
        return r;
    if (len + 1 <= s->cfg.batch_bytes) {
        if ((r = buf_reserve(&e->pending, len + 1)) < 0)
            return r;
        buf_put(&e->pending, line, len);
        buf_putc(&e->pending, '\n');
        s->pending_bytes += len + 1;
    } else if ((r = entry_write(s, e, line, len)) < 0) {
        return r;
    }
    dirty_set(s, e, true);
    s->stats.lines++;
    s->stats.bytes += len + 1;
    if (s->cfg.fsync == STORE_FSYNC_EVERY) {
        if ((r = entry_write(s, e, NULL, 0)) < 0 || (r = entry_sync(s, e)) < 0)
            return r;
        dirty_set(s, e, false);
    }
    return 0;
}

/* With many files to sync, one syncfs of the root's file system costs one
 * journal commit where an fdatasync per file costs one each. */
static bool flush_by_syncfs(const struct store *s)
{
    return s->cfg.fsync == STORE_FSYNC_BATCH && s->ndirty > STORE_SYNCFS_FILES;
}

static int sync_all(struct store *s)
{
    if (syncfs(s->root_fd) < 0) {
        s->stats.write_errors++;
        return -errno;
    }
    s->stats.syncs++;
    s->need_syncfs = false;
    for (struct store_entry *e = s->dirty_head, *next; e; e = next) {
        next = e->dirty_next;
        if (!e->other_fs)
            e->unsynced = false;
        if (e->pending.len == 0 && !e->unsynced)
            dirty_set(s, e, false);
    }
    return 0;
}

int store_flush(struct store *s)
{
    int first = s->lost, r;
    s->lost = 0;
    bool by_syncfs = flush_by_syncfs(s);
    for (struct store_entry *e = s->dirty_head, *next; e; e = next) {
        next = e->dirty_next;
        r = entry_write(s, e, NULL, 0);
        bool fd_sync = !by_syncfs || e->other_fs;
        if (r == 0 && fd_sync)
            r = entry_sync(s, e);
        if (r == 0 && fd_sync)
            dirty_set(s, e, false);
        else if (r < 0 && first == 0)
            first = r;
    }
    if ((by_syncfs || s->need_syncfs) && s->cfg.fsync != STORE_FSYNC_NONE &&
        (r = sync_all(s)) < 0 && first == 0)
        first = r;
    return first;
}

int store_write_out(struct store *s)
{
    int first = 0;
    for (struct store_entry *e = s->dirty_head; e; e = e->dirty_next) {
        int r = entry_write(s, e, NULL, 0);
        if (r < 0 && first == 0)
            first = r; /* the lines stay buffered: the next flush tries again */
    }
    return first; /* entries stay dirty while unsynced: store_flush syncs them */
}

int store_reopen(struct store *s)
{
    store_seal_settle(s); /* the sync thread uses the root fd */
    int r = store_flush(s);
    while (s->lru_head)
        entry_release(s, s->lru_head);
    if (r == 0)
        r = s->lost;
    s->lost = 0;
    dev_t dev;
    int fd = root_open(s, &dev);
    int v = fd < 0 ? fd : store_version_check(fd, &s->cfg);
    if (v < 0) {
        if (fd >= 0)
            close(fd);
        return r ? r : v; /* keep the old root fd: still a place to write */
    }
    close(s->root_fd);
    s->root_fd = fd;
    s->root_dev = dev;
    if (s->indexed) {
        /* No entry points into the index now: rebuild it from the disk,
         * which sees what an administrator moved or deleted. */
        store_compress_abort(s);
        store_index_free(&s->idx);
        if ((v = store_index_build(s)) < 0 && r == 0)
            r = v;
    }
    if (s->space.on && (v = store_space_check(s)) < 0 && r == 0)
        r = v;
    return r;
}

int store_maintain(struct store *s, time_t now)
{
    int first = 0, more = 0, r;
    if (s->space.on && (r = store_space_check(s)) < 0)
        first = r;
    if (s->indexed && (r = store_retention_run(s, now)) != 0) {
        more |= r > 0;
        first = first ? first : r < 0 ? r : 0;
    }
    if (s->cfg.compress_level && (r = store_compress_step(s)) != 0) {
        more |= r > 0;
        first = first ? first : r < 0 ? r : 0;
    }
    return first ? first : more;
}

enum store_space store_space_state(const struct store *s)
{
    return s->space.state;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->table) {
        store_flush(s);
        store_seal_close(s);
        while (s->lru_head)
            entry_release(s, s->lru_head);
        if (s->need_syncfs && s->cfg.fsync != STORE_FSYNC_NONE)
            syncfs(s->root_fd);
    }
    store_compress_free(s);
    store_dests_free(s->dests);
    store_index_free(&s->idx);
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s->table);
    free(s->root);
    free(s->tmpl);
    free(s);
}

void store_get_stats(const struct store *s, struct store_stats *out)
{
    *out = s->stats;
    out->total_bytes = s->idx.total_bytes;
    out->rotated_files = s->idx.rotated;
}

/* ---- for append_at.c (direct writes of the agent protocol) ---- */

struct store_entry *store_entry_get(struct store *s, const char *host, size_t host_len,
                                    const char *program, size_t program_len)
{
    char path[STORE_PATH_MAX];
    int r = render(s, host, host_len, program, program_len, path, sizeof(path));
    return r < 0 ? NULL : entry_get(s, path, (size_t)r);
}

int store_entry_open(struct store *s, struct store_entry *e)
{
    return entry_open(s, e);
}

int store_entry_write(struct store *s, struct store_entry *e, const char *extra, size_t len)
{
    return entry_write(s, e, extra, len);
}

int store_entry_rotate(struct store *s, struct store_entry *e)
{
    return entry_rotate(s, e);
}

void store_entry_dirty(struct store *s, struct store_entry *e)
{
    dirty_set(s, e, true);
}
