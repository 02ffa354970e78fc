/*
 * agent_state: the per-stream state files of the agent protocol (format in
 * agent_state.h, design and guarantees in docs/formats.md). The collector
 * writes an intent before each run of records reaches its file
 * (agent_stream_intent), notes the run stored after the write, and at each
 * group commit, after the store's data is synced, writes acked = last and
 * syncs the state; recovery settles intents a crash left. It does not
 * speak the protocol (conn_agent.c) nor write data (store/append_at.c).
 */
#include "collector/agent_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_SLOTS 4096
#define DIR_MODE   0750
#define FILE_MODE  0640

struct agent_states {
    char *root;
    int root_fd, dir_fd; /* dir_fd: <root>/.agents, -1 until the first stream */
    bool sync;
    char boot[AGENT_BOOT_ID_MAX + 1];
    struct agent_stream *table[HASH_SLOTS];
    struct agent_stream *dirty_head;
    size_t count, ndirty;
};

static uint64_t fnv(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

/* Copies at most AGENT_BOOT_ID_MAX bytes of s up to a space or LF. */
static void boot_copy(char *out, const char *s)
{
    size_t n = strcspn(s, " \n");
    if (n > AGENT_BOOT_ID_MAX)
        n = AGENT_BOOT_ID_MAX;
    memcpy(out, s, n);
    out[n] = 0;
}

static void read_boot_id(const char *given, char *out)
{
    boot_copy(out, given ? given : "unknown");
    if (given)
        return;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f)
        return;
    char line[64];
    if (fgets(line, sizeof(line), f) && line[0] != '\n' && line[0] != ' ')
        boot_copy(out, line);
    fclose(f);
}

/* ---- the record ---- */

static int record_format(const struct agent_state_record *rec, char *out)
{
    memset(out, 0, AGENT_STATE_SLOT);
    int n = snprintf(out, AGENT_STATE_SLOT,
                     "lwas/1 gen=%" PRIu64 " boot=%s acked=%" PRIu64 " last=%" PRIu64 "\n",
                     rec->gen, rec->boot, rec->acked, rec->last);
    if (rec->pending)
        n += snprintf(out + n, AGENT_STATE_SLOT - (size_t)n,
                      "pending=%" PRIu64 "-%" PRIu64 " dev=%" PRIu64 " ino=%" PRIu64 " off=%" PRIu64
                      " len=%" PRIu64 " sum=%016" PRIx64 " path=%s\n",
                      rec->first, rec->end, rec->at.dev, rec->at.ino, rec->at.offset, rec->at.len,
                      rec->at.sum, rec->at.path);
    if (n < 0 || (size_t)n + 24 > AGENT_STATE_SLOT)
        return -ENAMETOOLONG;
    uint64_t crc = fnv(out, (size_t)n, 0xcbf29ce484222325ull);
    n += snprintf(out + n, AGENT_STATE_SLOT - (size_t)n, "crc=%016" PRIx64 "\n", crc);
    return n;
}

/* "key=" at *p, then a number; moves *p past it and one space or LF. */
static int field(const char **p, const char *end, const char *key, uint64_t *v, int base)
{
    size_t k = strlen(key);
    if ((size_t)(end - *p) < k + 1 || memcmp(*p, key, k) != 0)
        return -EBADMSG;
    const char *s = *p + k;
    uint64_t x = 0;
    const char *q = s;
    for (; q < end; q++) {
        int d = *q >= '0' && *q <= '9'                 ? *q - '0'
                : base == 16 && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                                                       : -1;
        if (d < 0)
            break;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -EBADMSG;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    if (q == s || q == end || (*q != ' ' && *q != '\n' && *q != '-'))
        return -EBADMSG;
    *v = x;
    *p = q + 1;
    return 0;
}

static int parse_pending(const char **p, const char *end, struct agent_state_record *rec)
{
    if (field(p, end, "pending=", &rec->first, 10) || (*p)[-1] != '-' ||
        field(p, end, "", &rec->end, 10) || field(p, end, "dev=", &rec->at.dev, 10) ||
        field(p, end, "ino=", &rec->at.ino, 10) || field(p, end, "off=", &rec->at.offset, 10) ||
        field(p, end, "len=", &rec->at.len, 10) || field(p, end, "sum=", &rec->at.sum, 16) ||
        (size_t)(end - *p) < 5 || memcmp(*p, "path=", 5) != 0)
        return -EBADMSG;
    const char *s = *p + 5, *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl || nl == s || (size_t)(nl - s) >= sizeof(rec->at.path) || rec->first == 0 ||
        rec->first > rec->end || rec->at.len == 0)
        return -EBADMSG;
    memcpy(rec->at.path, s, (size_t)(nl - s));
    rec->at.path[nl - s] = 0;
    rec->at.path_len = (size_t)(nl - s);
    if (memchr(rec->at.path, 0, rec->at.path_len))
        return -EBADMSG;
    rec->pending = true;
    *p = nl + 1;
    return 0;
}

int agent_state_record_parse(const char *p, size_t n, struct agent_state_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    const char *start = p, *end = p + n;
    if (n < 7 || memcmp(p, "lwas/1 ", 7) != 0)
        return -EBADMSG;
    p += 7;
    if (field(&p, end, "gen=", &rec->gen, 10) || (size_t)(end - p) < 5 || memcmp(p, "boot=", 5))
        return -EBADMSG;
    const char *b = p + 5, *sp = memchr(b, ' ', (size_t)(end - b));
    if (!sp || sp == b || (size_t)(sp - b) > AGENT_BOOT_ID_MAX)
        return -EBADMSG;
    memcpy(rec->boot, b, (size_t)(sp - b));
    p = sp + 1;
    if (field(&p, end, "acked=", &rec->acked, 10) || field(&p, end, "last=", &rec->last, 10) ||
        p[-1] != '\n' || rec->acked > rec->last)
        return -EBADMSG;
    if ((size_t)(end - p) >= 8 && memcmp(p, "pending=", 8) == 0 && parse_pending(&p, end, rec))
        return -EBADMSG;
    uint64_t crc, want = fnv(start, (size_t)(p - start), 0xcbf29ce484222325ull);
    if (field(&p, end, "crc=", &crc, 16) || p[-1] != '\n' || crc != want)
        return -EBADMSG;
    if (rec->pending && rec->first != rec->last + 1)
        return -EBADMSG;
    return 0;
}

int agent_state_read(int fd, struct agent_state_record *rec)
{
    char buf[2 * AGENT_STATE_SLOT];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    if (n < 0)
        return -errno;
    int found = -ENOENT;
    for (size_t slot = 0; slot < 2; slot++) {
        size_t off = slot * AGENT_STATE_SLOT;
        if ((size_t)n <= off)
            break;
        size_t len = (size_t)n - off < AGENT_STATE_SLOT ? (size_t)n - off : AGENT_STATE_SLOT;
        const char *z = memchr(buf + off, 0, len);
        struct agent_state_record r;
        if (agent_state_record_parse(buf + off, z ? (size_t)(z - buf - off) : len, &r) < 0)
            continue;
        if (found < 0 || r.gen > rec->gen)
            *rec = r, found = 0;
    }
    return n == 0 ? -ENOENT : found < 0 ? -EBADMSG : 0;
}

static int record_write(int fd, const struct agent_state_record *rec)
{
    char buf[AGENT_STATE_SLOT];
    int n = record_format(rec, buf);
    if (n < 0)
        return n;
    ssize_t w = pwrite(fd, buf, sizeof(buf), (off_t)((rec->gen & 1) * AGENT_STATE_SLOT));
    return w == (ssize_t)sizeof(buf) ? 0 : w < 0 ? -errno : -EIO;
}

/* ---- recovery ---- */

/* The sequence a state says is stored, after a crash left it so. */
static uint64_t settle(const char *root, const struct agent_state_record *rec, const char *boot,
                       bool may_cut, struct agent_recovery *stats)
{
    bool same_boot = strcmp(rec->boot, boot) == 0;
    uint64_t last = same_boot ? rec->last : rec->acked;
    stats->rebooted += !same_boot;
    if (!rec->pending)
        return last;
    enum store_place_fix fix;
    int r = store_place_resolve(root, &rec->at, may_cut, &fix);
    stats->cut += fix != STORE_PLACE_UNTOUCHED;
    if (r < 0) {
        stats->errors++;
        return last; /* undecided: the agent resends the run (at least once) */
    }
    if (r == 1) {
        stats->landed++;
        return same_boot ? rec->end : last;
    }
    stats->not_landed++;
    return last;
}

static int open_dir_at(int at, const char *name, bool create)
{
    if (create && mkdirat(at, name, DIR_MODE) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* One pass over every state file: fn(fd, arg) for each. */
typedef int (*state_file_fn)(int fd, void *arg);

static int walk(int agents_fd, state_file_fn fn, void *arg, struct agent_recovery *stats)
{
    /* a directory fd of its own: a dup would share the first pass's offset */
    int dfd = openat(agents_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), first = 0;
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return -errno;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        int hfd = open_dir_at(dirfd(d), de->d_name, false);
        DIR *h = hfd >= 0 ? fdopendir(hfd) : NULL;
        if (!h) {
            if (hfd >= 0)
                close(hfd);
            continue;
        }
        for (struct dirent *se; (se = readdir(h)) != NULL;) {
            if (se->d_name[0] == '.')
                continue;
            int fd = openat(dirfd(h), se->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            int r = fd < 0 ? -errno : fn(fd, arg);
            if (fd >= 0)
                close(fd);
            if (r < 0) {
                stats->errors++;
                first = first ? first : r;
            }
        }
        closedir(h);
    }
    closedir(d);
    return first;
}

struct recover_ctx {
    const char *root;
    const char *boot;
    struct agent_recovery *stats;
    bool sync, need_sync;
    int pass;
};

static int recover_one(int fd, void *arg)
{
    struct recover_ctx *x = arg;
    struct agent_state_record rec;
    int r = agent_state_read(fd, &rec);
    if (r < 0)
        return r == -ENOENT ? 0 : r; /* an empty file: a stream made, never written */
    if (x->pass == 1) {
        x->stats->streams++;
        if (!rec.pending && rec.acked == rec.last)
            return 0; /* nothing to settle (whatever the boot: last is acked) */
        uint64_t last = settle(x->root, &rec, x->boot, true, x->stats);
        struct agent_state_record out = {.gen = rec.gen + 1, .acked = rec.acked, .last = last};
        if (out.acked > last)
            out.acked = last;
        snprintf(out.boot, sizeof(out.boot), "%s", x->boot);
        x->need_sync |= last > out.acked;
        return record_write(fd, &out);
    }
    if (rec.acked == rec.last)
        return 0;
    rec.gen++;
    rec.acked = rec.last;
    if ((r = record_write(fd, &rec)) == 0 && x->sync && fdatasync(fd) < 0)
        r = -errno;
    return r;
}

int agent_states_recover(const char *root, const char *boot_id, bool sync,
                         struct agent_recovery *rec)
{
    memset(rec, 0, sizeof(*rec));
    char boot[AGENT_BOOT_ID_MAX + 1];
    read_boot_id(boot_id, boot);
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int agents = open_dir_at(root_fd, AGENT_STATE_DIR, false);
    if (agents < 0) {
        close(root_fd);
        return agents == -ENOENT ? 0 : agents;
    }
    struct recover_ctx x = {root, boot, rec, sync, false, 1};
    int r = walk(agents, recover_one, &x, rec), r2 = 0;
    /* What a state now says is stored must be durable before it is acked;
     * if it cannot be made so, acked stays (the next start tries again). */
    if (x.need_sync && sync && syncfs(root_fd) < 0)
        r2 = -errno;
    x.pass = 2;
    if (r2 == 0)
        r2 = walk(agents, recover_one, &x, rec);
    close(agents);
    close(root_fd);
    return r ? r : r2;
}

/* ---- the table ---- */

int agent_states_open(const char *root, const char *boot_id, bool sync, struct agent_states **out)
{
    *out = NULL;
    struct agent_states *as = calloc(1, sizeof(*as));
    if (!as)
        return -ENOMEM;
    as->dir_fd = -1;
    as->sync = sync;
    read_boot_id(boot_id, as->boot);
    as->root = strdup(root);
    as->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!as->root || as->root_fd < 0) {
        int r = as->root ? -errno : -ENOMEM;
        agent_states_free(as);
        return r;
    }
    *out = as;
    return 0;
}

void agent_states_free(struct agent_states *as)
{
    if (!as)
        return;
    for (size_t i = 0; i < HASH_SLOTS; i++)
        for (struct agent_stream *st = as->table[i], *next; st; st = next) {
            next = st->hash_next;
            if (st->fd >= 0)
                close(st->fd);
            free(st);
        }
    if (as->dir_fd >= 0)
        close(as->dir_fd);
    if (as->root_fd >= 0)
        close(as->root_fd);
    free(as->root);
    free(as);
}

static void mark_dirty(struct agent_states *as, struct agent_stream *st)
{
    if (st->dirty)
        return;
    st->dirty = true;
    st->dirty_next = as->dirty_head;
    as->dirty_head = st;
    as->ndirty++;
}

/* Opens (creating) <root>/.agents/<host>/<id>; the directories are synced
 * when made, so a state a commit synced is found after a reboot. */
static int state_open(struct agent_states *as, const char *host, const char *id, bool *created)
{
    *created = false;
    if (as->dir_fd < 0) {
        int fd = open_dir_at(as->root_fd, AGENT_STATE_DIR, true);
        if (fd < 0)
            return fd;
        if (as->sync)
            fsync(as->root_fd);
        as->dir_fd = fd;
    }
    bool new_dir = faccessat(as->dir_fd, host, F_OK, AT_SYMLINK_NOFOLLOW) < 0;
    int hfd = open_dir_at(as->dir_fd, host, true);
    if (hfd < 0)
        return hfd;
    if (new_dir && as->sync)
        fsync(as->dir_fd);
    int fd = openat(hfd, id, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = openat(hfd, id, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                    FILE_MODE);
        *created = fd >= 0;
        if (*created && as->sync)
            fsync(hfd);
    }
    int r = fd < 0 ? -errno : fd;
    close(hfd);
    return r;
}

/* The stream's file, opened again if an idle stream let it go. */
static int stream_fd(struct agent_states *as, struct agent_stream *st)
{
    bool created;
    if (st->fd < 0)
        st->fd = state_open(as, st->host, st->id, &created);
    return st->fd;
}

/* Past AGENT_STREAMS_MAX: one stream nobody serves and nothing waits on
 * leaves memory (its file keeps its state). Returns 0 or -ENOSPC. */
static int evict_idle(struct agent_states *as)
{
    for (size_t i = 0; i < HASH_SLOTS; i++)
        for (struct agent_stream **pp = &as->table[i]; *pp; pp = &(*pp)->hash_next) {
            struct agent_stream *st = *pp;
            if (st->owner || st->dirty)
                continue;
            *pp = st->hash_next;
            if (st->fd >= 0)
                close(st->fd);
            free(st);
            as->count--;
            return 0;
        }
    return -ENOSPC;
}

void agent_stream_release(struct agent_states *as, struct agent_stream *st)
{
    (void)as;
    st->owner = NULL;
    if (!st->dirty && st->fd >= 0) {
        close(st->fd); /* idle streams hold no fd */
        st->fd = -1;
    }
}

int agent_stream_get(struct agent_states *as, const char *host, size_t host_len, const char *id,
                     size_t id_len, struct agent_stream **out)
{
    char name[STORE_NAME_MAX + 1];
    int n = store_name_sanitize(host, host_len, name, sizeof(name));
    if (n < 0)
        return n;
    if (id_len != AGENT_STREAM_LEN)
        return -EINVAL;
    uint64_t h = fnv(id, id_len, fnv(name, (size_t)n + 1, 0xcbf29ce484222325ull));
    struct agent_stream **slot = &as->table[h % HASH_SLOTS];
    for (struct agent_stream *st = *slot; st; st = st->hash_next)
        if (!strcmp(st->host, name) && !memcmp(st->id, id, id_len)) {
            *out = st;
            return 0;
        }
    if (as->count >= AGENT_STREAMS_MAX && evict_idle(as) < 0)
        return -ENOSPC;
    struct agent_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    memcpy(st->host, name, (size_t)n + 1);
    memcpy(st->id, id, id_len);
    bool created;
    st->fd = state_open(as, name, st->id, &created);
    struct agent_state_record rec;
    int r = st->fd < 0 ? st->fd : created ? -ENOENT : agent_state_read(st->fd, &rec);
    if (r == 0) {
        struct agent_recovery stats = {0};
        st->last = settle(as->root, &rec, as->boot, false, &stats);
        st->acked = rec.acked < st->last ? rec.acked : st->last;
        st->gen = rec.gen;
        if (rec.pending || st->last > st->acked)
            mark_dirty(as, st); /* the next commit makes it durable */
    } else if (r != -ENOENT) {
        if (st->fd >= 0)
            close(st->fd);
        free(st);
        return r; /* unreadable: refused rather than restarted at 0 */
    }
    st->hash_next = *slot;
    *slot = st;
    as->count++;
    *out = st;
    return 0;
}

static struct agent_state_record record_of(const struct agent_states *as,
                                           const struct agent_stream *st)
{
    struct agent_state_record rec = {.gen = st->gen + 1, .acked = st->acked, .last = st->last};
    memcpy(rec.boot, as->boot, sizeof(rec.boot));
    return rec;
}

int agent_stream_intent(struct agent_states *as, struct agent_stream *st, uint64_t first,
                        uint64_t last, const struct store_place *at)
{
    if (first != st->last + 1 && first <= st->last)
        return -EINVAL;
    struct agent_state_record rec = record_of(as, st);
    rec.pending = true;
    /* Sequences st->last+1 .. first-1 never came (gaps): the run covers them. */
    rec.first = st->last + 1;
    rec.end = last;
    rec.at = *at;
    int r = stream_fd(as, st);
    if (r >= 0)
        r = record_write(st->fd, &rec);
    if (r < 0)
        return r;
    st->gen = rec.gen;
    mark_dirty(as, st);
    return 0;
}

void agent_stream_landed(struct agent_states *as, struct agent_stream *st, uint64_t last)
{
    st->last = last;
    mark_dirty(as, st);
}

int agent_stream_cancel(struct agent_states *as, struct agent_stream *st)
{
    struct agent_state_record rec = record_of(as, st);
    int r = stream_fd(as, st);
    if (r >= 0)
        r = record_write(st->fd, &rec);
    if (r == 0)
        st->gen = rec.gen;
    return r < 0 ? r : 0;
}

bool agent_states_dirty(const struct agent_states *as)
{
    return as->dirty_head != NULL;
}

int agent_states_commit(struct agent_states *as)
{
    int first = 0;
    bool by_syncfs = as->sync && as->ndirty > AGENT_SYNC_EACH_MAX;
    for (struct agent_stream *st = as->dirty_head; st; st = st->dirty_next) {
        struct agent_state_record rec = record_of(as, st);
        rec.acked = st->last;
        int r = stream_fd(as, st);
        if (r >= 0)
            r = record_write(st->fd, &rec);
        if (r == 0 && as->sync && !by_syncfs && fdatasync(st->fd) < 0)
            r = -errno;
        if (r == 0)
            st->gen = rec.gen;
        else if (first == 0)
            first = r;
    }
    if (by_syncfs && first == 0 && syncfs(as->root_fd) < 0)
        first = -errno;
    if (first < 0)
        return first; /* nothing is acked: the next commit tries again */
    for (struct agent_stream *st = as->dirty_head, *next; st; st = next) {
        next = st->dirty_next;
        st->acked = st->last;
        st->dirty = false;
        st->dirty_next = NULL;
        if (!st->owner)
            agent_stream_release(as, st);
    }
    as->dirty_head = NULL;
    as->ndirty = 0;
    return 0;
}

void agent_states_foreach(const struct agent_states *as, agent_stream_fn fn, void *arg)
{
    for (size_t i = 0; i < HASH_SLOTS; i++)
        for (const struct agent_stream *st = as->table[i]; st; st = st->hash_next)
            fn(st, arg);
}

size_t agent_states_count(const struct agent_states *as)
{
    return as->count;
}
