/*
 * queue: the agent's disk-backed queue (queue.h; layout in docs/agent.md).
 *
 *   DIR/lock        flock'ed while an agent uses DIR
 *   DIR/stream      the stream id (32 hex), made once (tmp + rename)
 *   DIR/acked       the acked mark, "SEQ\n", written lazily (tmp + rename)
 *   DIR/positions   every input's last checkpoint, written (tmp + rename)
 *                   before any segment is deleted
 *   DIR/queue/N.seg segments: records and checkpoints (queue_entry.h)
 *
 * A commit is one write() of the batch's records and one checkpoint (the
 * input's position, the generation, the next sequence) at the end of the
 * current segment, so after a crash a segment ends at a checkpoint or in a
 * torn tail that recovery cuts off. Writes go only to a segment this
 * process created; recovery never appends to an old one. The read cursor
 * (for the sender) reads committed bytes back with pread; records just
 * written are in the page cache. Single-threaded: the agent's loop owns it.
 */
#include "agent/queue.h"
#include "agent/queue_entry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK   (64u << 10) /* bytes read per pread by the cursor and recovery */
#define SEG_NAME_MAX 32
#define ACKED_MS     1000 /* the acked mark is written at most this often */

struct segment {
    uint64_t num;
    uint64_t first_seq, last_seq; /* 0, 0 without records */
    uint64_t nrec;
    uint64_t bytes; /* committed bytes, magic included */
};

struct position {
    char id[QUEUE_INPUT_ID_MAX + 1];
    uint64_t gen, next_seq;
    uint8_t pos[QUEUE_POSITION_MAX];
    size_t len;
};

struct reader {
    uint64_t num; /* segment being read; 0: none */
    int fd;
    uint64_t off; /* file offset of buf[0] */
    uint8_t *buf;
    size_t len, at, cap;
    uint64_t after; /* skip records up to this sequence */
};

struct queue {
    struct queue_config cfg;
    uint64_t segment_wanted; /* cfg.segment_bytes as asked, before the bound's cap */
    int dirfd, qfd, lockfd, wfd;
    char stream[QUEUE_STREAM_HEX + 1];
    struct segment *segs; /* by number; the last one is written */
    size_t nsegs, segcap;
    uint64_t next_seq, gen, acked_seq, acked_written;
    struct position *pos;
    size_t npos;
    uint8_t *batch;
    size_t blen, bcap, bcount;
    uint64_t bbase; /* the sequence the batch was numbered from */
    struct reader rd;
    struct queue_stats st;
    bool sync_due, said_full, said_io;
    int64_t last_sync_ms, last_acked_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void say(struct queue *q, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (q->cfg.log)
        q->cfg.log(q->cfg.log_arg, line);
    else
        fprintf(stderr, "logward-agent: queue: %s\n", line);
}

static void seg_name(char *out, uint64_t num)
{
    snprintf(out, SEG_NAME_MAX, "%016" PRIx64 ".seg", num);
}

static uint64_t seg_unacked(const struct segment *s, uint64_t acked)
{
    if (!s->nrec || s->last_seq <= acked)
        return 0;
    uint64_t from = s->first_seq > acked ? s->first_seq : acked + 1;
    return s->last_seq - from + 1;
}

/* ---- small files written whole: tmp, (sync), rename, (sync dir) ---- */

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int replace_file(struct queue *q, const char *name, const void *p, size_t n)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    int fd = openat(q->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, p, n);
    if (r == 0 && q->cfg.fsync != QUEUE_FSYNC_NONE && fdatasync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(q->dirfd, tmp, q->dirfd, name) < 0)
        r = -errno;
    if (r == 0 && q->cfg.fsync != QUEUE_FSYNC_NONE)
        fsync(q->dirfd);
    if (r < 0)
        unlinkat(q->dirfd, tmp, 0);
    return r;
}

static int read_small(int dirfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = 0;
    return (int)n;
}

static int write_acked(struct queue *q)
{
    if (q->acked_written == q->acked_seq)
        return 0;
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", q->acked_seq);
    int r = replace_file(q, "acked", text, (size_t)n);
    if (r == 0)
        q->acked_written = q->acked_seq;
    return r;
}

static int write_positions(struct queue *q)
{
    size_t cap = QUEUE_SEGMENT_MAGIC_LEN + q->npos * QUEUE_ENTRY_CHECKPOINT_MAX;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, QUEUE_SEGMENT_MAGIC, QUEUE_SEGMENT_MAGIC_LEN);
    size_t n = QUEUE_SEGMENT_MAGIC_LEN;
    for (size_t i = 0; i < q->npos; i++) {
        const struct position *p = &q->pos[i];
        n += queue_entry_put_checkpoint(buf + n, p->gen, p->next_seq, p->id, strlen(p->id), p->pos,
                                        p->len);
    }
    int r = replace_file(q, "positions", buf, n);
    free(buf);
    return r;
}

/* ---- positions ---- */

static struct position *position_find(const struct queue *q, const char *id, size_t id_len)
{
    for (size_t i = 0; i < q->npos; i++)
        if (strlen(q->pos[i].id) == id_len && !memcmp(q->pos[i].id, id, id_len))
            return &q->pos[i];
    return NULL;
}

/* Takes a checkpoint if it is newer than what the table holds. A full table
 * forgets its oldest input (one no longer configured, most likely). */
static void position_take(struct queue *q, const struct queue_entry *e)
{
    if (e->next_seq > q->next_seq)
        q->next_seq = e->next_seq;
    if (e->gen > q->gen)
        q->gen = e->gen;
    struct position *p = position_find(q, e->id, e->id_len);
    if (p && p->gen >= e->gen)
        return;
    if (!p && q->npos < QUEUE_INPUTS_MAX)
        p = &q->pos[q->npos++];
    else if (!p) {
        p = &q->pos[0];
        for (size_t i = 1; i < q->npos; i++)
            if (q->pos[i].gen < p->gen)
                p = &q->pos[i];
    }
    memcpy(p->id, e->id, e->id_len);
    p->id[e->id_len] = 0;
    p->gen = e->gen;
    p->next_seq = e->next_seq;
    if (e->pos_len) /* an input may keep no position (stdin): pos may be NULL */
        memcpy(p->pos, e->pos, e->pos_len);
    p->len = e->pos_len;
}

int queue_position(const struct queue *q, const char *input_id, void *pos, size_t cap)
{
    const struct position *p = position_find(q, input_id, strlen(input_id));
    if (!p)
        return 0;
    if (p->len > cap)
        return -ENOBUFS;
    memcpy(pos, p->pos, p->len);
    return (int)p->len;
}

/* ---- segments ---- */

static int seg_push(struct queue *q, uint64_t num)
{
    if (q->nsegs == q->segcap) {
        size_t cap = q->segcap ? q->segcap * 2 : 16;
        struct segment *s = realloc(q->segs, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        q->segs = s;
        q->segcap = cap;
    }
    q->segs[q->nsegs++] = (struct segment){.num = num};
    return 0;
}

static void reader_close(struct reader *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
    rd->num = 0;
    rd->len = rd->at = 0;
}

/* Deletes segment i (never the one written). Positions and the acked mark
 * are written first, so no checkpoint is lost with it. */
static int seg_delete(struct queue *q, size_t i, bool positions_written)
{
    struct segment *s = &q->segs[i];
    int r = positions_written ? 0 : write_positions(q);
    if (r == 0)
        r = write_acked(q);
    if (r < 0) {
        say(q, "cannot write positions before trimming: %s", strerror(-r));
        return r;
    }
    char name[SEG_NAME_MAX];
    seg_name(name, s->num);
    if (unlinkat(q->qfd, name, 0) < 0 && errno != ENOENT) {
        r = -errno;
        say(q, "cannot delete segment %s: %s", name, strerror(errno));
        return r;
    }
    if (q->rd.num == s->num)
        reader_close(&q->rd);
    q->st.bytes -= s->bytes;
    memmove(s, s + 1, (q->nsegs - i - 1) * sizeof(*s));
    q->nsegs--;
    return 0;
}

static int sync_now(struct queue *q)
{
    q->sync_due = false;
    q->last_sync_ms = mono_ms();
    if (q->wfd >= 0 && fdatasync(q->wfd) < 0)
        return -errno;
    return 0;
}

/* Starts a new segment to write (after the last one). */
static int seg_roll(struct queue *q)
{
    uint64_t num = q->nsegs ? q->segs[q->nsegs - 1].num + 1 : 1;
    if (q->wfd >= 0) {
        if (q->sync_due && q->cfg.fsync != QUEUE_FSYNC_NONE)
            sync_now(q);
        close(q->wfd);
        q->wfd = -1;
    }
    char name[SEG_NAME_MAX];
    seg_name(name, num);
    int fd = openat(q->qfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, QUEUE_SEGMENT_MAGIC, QUEUE_SEGMENT_MAGIC_LEN);
    if (r == 0)
        r = seg_push(q, num);
    if (r < 0) {
        close(fd);
        unlinkat(q->qfd, name, 0);
        return r;
    }
    if (q->cfg.fsync != QUEUE_FSYNC_NONE)
        fsync(q->qfd);
    q->wfd = fd;
    q->segs[q->nsegs - 1].bytes = QUEUE_SEGMENT_MAGIC_LEN;
    q->st.bytes += QUEUE_SEGMENT_MAGIC_LEN;
    q->st.segments++;
    return 0;
}

static struct segment *seg_current(struct queue *q)
{
    return q->nsegs ? &q->segs[q->nsegs - 1] : NULL;
}

/* Deletes the segments before the current one that hold nothing unacked. */
static int trim(struct queue *q)
{
    bool written = false;
    for (size_t i = 0; i + 1 < q->nsegs;) {
        if (seg_unacked(&q->segs[i], q->acked_seq)) {
            i++;
            continue;
        }
        int r = seg_delete(q, i, written);
        if (r < 0)
            return r;
        written = true;
    }
    return 0;
}

/* ---- recovery ---- */

struct scan {
    struct segment seg;     /* what the checkpoints confirm */
    struct segment pending; /* records since the last checkpoint */
    uint64_t good_end;      /* end of the last checkpoint */
};

static void scan_entry(struct queue *q, struct scan *sc, const struct queue_entry *e, uint64_t end)
{
    if (e->type != QUEUE_ENTRY_CHECKPOINT) {
        if (!sc->pending.nrec)
            sc->pending.first_seq = e->seq;
        sc->pending.last_seq = e->seq;
        sc->pending.nrec++;
        return;
    }
    if (sc->pending.nrec) {
        if (!sc->seg.nrec)
            sc->seg.first_seq = sc->pending.first_seq;
        sc->seg.last_seq = sc->pending.last_seq;
        sc->seg.nrec += sc->pending.nrec;
        if (sc->pending.last_seq + 1 > q->next_seq)
            q->next_seq = sc->pending.last_seq + 1;
    }
    sc->pending = (struct segment){0};
    sc->good_end = end;
    position_take(q, e);
}

/* Reads one segment (or the positions file) entry by entry. Returns 0 or a
 * negative errno for an I/O error; damage only ends the scan early. */
static int scan_file(struct queue *q, int fd, struct scan *sc, uint8_t *buf, size_t cap)
{
    uint8_t magic[QUEUE_SEGMENT_MAGIC_LEN];
    if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
        memcmp(magic, QUEUE_SEGMENT_MAGIC, sizeof(magic)))
        return 0;
    sc->good_end = QUEUE_SEGMENT_MAGIC_LEN;
    uint64_t off = QUEUE_SEGMENT_MAGIC_LEN;
    size_t len = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + len, cap - len, (off_t)(off + len));
        if (n < 0)
            return -errno;
        len += (size_t)n;
        size_t at = 0;
        struct queue_entry e;
        ssize_t used;
        while ((used = queue_entry_parse(buf + at, len - at, &e)) > 0) {
            at += (size_t)used;
            scan_entry(q, sc, &e, off + at);
        }
        if (used < 0 || n == 0)
            return 0;
        memmove(buf, buf + at, len - at);
        len -= at;
        off += at;
    }
}

static int recover_segment(struct queue *q, uint64_t num, uint8_t *buf, size_t cap)
{
    char name[SEG_NAME_MAX];
    seg_name(name, num);
    int fd = openat(q->qfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct scan sc = {0};
    int r = scan_file(q, fd, &sc, buf, cap);
    struct stat stb;
    if (r == 0 && fstat(fd, &stb) < 0)
        r = -errno;
    if (r == 0 && (uint64_t)stb.st_size > sc.good_end) {
        say(q,
            "segment %s: dropped a torn or damaged tail of %" PRIu64 " bytes (at byte %" PRIu64 ")",
            name, (uint64_t)stb.st_size - sc.good_end, sc.good_end);
        q->st.torn += (uint64_t)stb.st_size - sc.good_end;
        if (ftruncate(fd, (off_t)sc.good_end) < 0)
            r = -errno;
    }
    close(fd);
    if (r < 0)
        return r;
    if ((r = seg_push(q, num)) < 0)
        return r;
    sc.seg.num = num;
    sc.seg.bytes = sc.good_end;
    q->segs[q->nsegs - 1] = sc.seg;
    q->st.bytes += sc.good_end;
    q->st.segments++;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int list_segments(struct queue *q, uint64_t **out, size_t *n)
{
    int fd = dup(q->qfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    uint64_t *nums = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        uint64_t num = strtoull(de->d_name, &end, 16);
        if (strlen(de->d_name) != 20 || strcmp(end, ".seg") || num == 0)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *t = realloc(nums, cap * sizeof(*t));
            if (!t) {
                free(nums);
                closedir(d);
                return -ENOMEM;
            }
            nums = t;
        }
        nums[cnt++] = num;
    }
    closedir(d);
    if (cnt)
        qsort(nums, cnt, sizeof(*nums), cmp_u64);
    *out = nums;
    *n = cnt;
    return 0;
}

static int recover(struct queue *q, char *err, size_t cap)
{
    uint8_t *buf = malloc(QUEUE_ENTRY_RECORD_MAX + READ_CHUNK);
    if (!buf)
        return -ENOMEM;
    size_t bufcap = QUEUE_ENTRY_RECORD_MAX + READ_CHUNK;
    char text[32];
    if (read_small(q->dirfd, "acked", text, sizeof(text)) > 0)
        q->acked_seq = q->acked_written = strtoull(text, NULL, 10);
    int r = 0, fd = openat(q->dirfd, "positions", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct scan sc = {0};
        r = scan_file(q, fd, &sc, buf, bufcap);
        close(fd);
    }
    uint64_t *nums = NULL;
    size_t n = 0;
    if (r == 0)
        r = list_segments(q, &nums, &n);
    for (size_t i = 0; r == 0 && i < n; i++)
        if ((r = recover_segment(q, nums[i], buf, bufcap)) < 0)
            snprintf(err, cap, "%s/queue: segment %016" PRIx64 ": %s", q->cfg.dir, nums[i],
                     strerror(-r));
    free(nums);
    free(buf);
    if (r < 0)
        return r;
    if (q->next_seq <= q->acked_seq)
        q->next_seq = q->acked_seq + 1;
    return 0;
}

/* ---- open, close ---- */

static int make_stream(struct queue *q, char *err, size_t cap)
{
    char text[64];
    int n = read_small(q->dirfd, "stream", text, sizeof(text));
    if (n >= QUEUE_STREAM_HEX) {
        bool ok = true;
        for (int i = 0; i < QUEUE_STREAM_HEX; i++)
            ok = ok && ((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'));
        if (ok && (n == QUEUE_STREAM_HEX || text[QUEUE_STREAM_HEX] == '\n')) {
            memcpy(q->stream, text, QUEUE_STREAM_HEX);
            return 0;
        }
    }
    if (n >= 0) {
        snprintf(err, cap, "%s/stream: not a stream id (32 hex digits)", q->cfg.dir);
        return -EINVAL;
    }
    if (n != -ENOENT) {
        snprintf(err, cap, "%s/stream: %s", q->cfg.dir, strerror(-n));
        return n;
    }
    uint8_t rnd[QUEUE_STREAM_HEX / 2];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        snprintf(err, cap, "getrandom: %s", strerror(errno));
        return -errno;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(q->stream + 2 * i, 3, "%02x", rnd[i]);
    snprintf(text, sizeof(text), "%s\n", q->stream);
    enum queue_fsync_policy f = q->cfg.fsync;
    q->cfg.fsync = QUEUE_FSYNC_EVERY; /* the identity is made once: make it durable */
    int r = replace_file(q, "stream", text, QUEUE_STREAM_HEX + 1);
    q->cfg.fsync = f;
    if (r < 0)
        snprintf(err, cap, "%s/stream: %s", q->cfg.dir, strerror(-r));
    return r;
}

static int open_dirs(struct queue *q, char *err, size_t cap)
{
    const char *dir = q->cfg.dir;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        goto fail;
    if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        goto fail;
    q->lockfd = openat(q->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (q->lockfd < 0)
        goto fail;
    if (flock(q->lockfd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        snprintf(err, cap, "%s: %s", dir,
                 e == EWOULDBLOCK ? "in use by another logward-agent" : strerror(e));
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    if (mkdirat(q->dirfd, "queue", 0700) < 0 && errno != EEXIST)
        goto fail;
    if ((q->qfd = openat(q->dirfd, "queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        goto fail;
    return 0;
fail:;
    int e = errno;
    snprintf(err, cap, "%s: %s", dir, strerror(e));
    return -e;
}

int queue_open(const struct queue_config *cfg, struct queue **out, char *err, size_t errcap)
{
    struct queue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->cfg = *cfg;
    q->dirfd = q->qfd = q->lockfd = q->wfd = q->rd.fd = -1;
    q->segment_wanted = cfg->segment_bytes ? cfg->segment_bytes : QUEUE_SEGMENT_BYTES;
    queue_configure(q, cfg->max_bytes, cfg->full, cfg->fsync, cfg->fsync_ms);
    q->pos = calloc(QUEUE_INPUTS_MAX, sizeof(*q->pos));
    q->rd.cap = READ_CHUNK;
    q->rd.buf = malloc(q->rd.cap);
    q->next_seq = 1;
    int r = q->pos && q->rd.buf ? 0 : -ENOMEM;
    if (r < 0)
        snprintf(err, errcap, "%s", strerror(ENOMEM));
    if (r == 0)
        r = open_dirs(q, err, errcap);
    if (r == 0)
        r = make_stream(q, err, errcap);
    if (r == 0)
        r = recover(q, err, errcap);
    if (r == 0 && (r = seg_roll(q)) < 0)
        snprintf(err, errcap, "%s/queue: new segment: %s", cfg->dir, strerror(-r));
    if (r == 0 && (r = write_positions(q)) == 0)
        r = trim(q);
    if (r < 0) {
        if (!*err)
            snprintf(err, errcap, "%s: %s", cfg->dir, strerror(-r));
        queue_close(q);
        return r;
    }
    q->st.next_seq = q->next_seq;
    q->last_sync_ms = q->last_acked_ms = mono_ms();
    queue_rewind(q, q->acked_seq);
    *out = q;
    return 0;
}

void queue_close(struct queue *q)
{
    if (!q)
        return;
    if (q->wfd >= 0) {
        if (q->cfg.fsync != QUEUE_FSYNC_NONE)
            fdatasync(q->wfd);
        close(q->wfd);
    }
    if (q->lockfd >= 0 && q->qfd >= 0)
        write_acked(q);
    reader_close(&q->rd);
    if (q->qfd >= 0)
        close(q->qfd);
    if (q->dirfd >= 0)
        close(q->dirfd);
    if (q->lockfd >= 0)
        close(q->lockfd); /* releases the flock */
    free(q->rd.buf);
    free(q->segs);
    free(q->pos);
    free(q->batch);
    free(q);
}

void queue_configure(struct queue *q, uint64_t max_bytes, enum queue_full_policy full,
                     enum queue_fsync_policy fsync, unsigned fsync_ms)
{
    q->cfg.max_bytes = max_bytes ? max_bytes : QUEUE_MAX_DEFAULT;
    q->cfg.full = full;
    q->cfg.fsync = fsync;
    q->cfg.fsync_ms = fsync_ms ? fsync_ms : QUEUE_FSYNC_MS;
    /* at least four segments fit in the bound, so that drop-oldest drops a
     * quarter at most and a full segment of acked records is soon rolled */
    uint64_t seg = q->segment_wanted, quarter = q->cfg.max_bytes / 4;
    if (seg > quarter)
        seg = quarter;
    q->cfg.segment_bytes = seg < QUEUE_SEGMENT_MIN ? QUEUE_SEGMENT_MIN : seg;
}

const char *queue_stream(const struct queue *q)
{
    return q->stream;
}

/* ---- writing ---- */

static int batch_reserve(struct queue *q, size_t n)
{
    if (q->blen + n <= q->bcap)
        return 0;
    size_t cap = q->bcap ? q->bcap : 64 << 10;
    while (cap < q->blen + n)
        cap *= 2;
    uint8_t *b = realloc(q->batch, cap);
    if (!b)
        return -ENOMEM;
    q->batch = b;
    q->bcap = cap;
    return 0;
}

int queue_put(struct queue *q, enum queue_kind kind, const char *data, size_t len)
{
    if (len > QUEUE_RECORD_MAX)
        return -EMSGSIZE;
    if (q->blen + queue_entry_record_size(len) > QUEUE_BATCH_MAX)
        return -ENOMEM;
    int r = batch_reserve(q, queue_entry_record_size(len));
    if (r < 0)
        return r;
    if (!q->bcount)
        q->bbase = q->next_seq;
    q->blen +=
        queue_entry_put_record(q->batch + q->blen, (uint8_t)kind, q->bbase + q->bcount, data, len);
    q->bcount++;
    return 0;
}

void queue_abort(struct queue *q)
{
    q->blen = q->bcount = 0;
}

/* next_seq moved under a buffered batch (queue_ack past it): number the
 * batch again from next_seq. */
static void renumber(struct queue *q)
{
    for (size_t at = 0, i = 0; at < q->blen; i++) {
        struct queue_entry e;
        ssize_t n = queue_entry_parse(q->batch + at, q->blen - at, &e);
        if (n <= 0)
            break;
        queue_entry_put_record(q->batch + at, e.type, q->next_seq + i, e.data, e.len);
        at += (size_t)n;
    }
    q->bbase = q->next_seq;
}

/* drop-oldest: deletes the oldest segments until `need` more bytes fit.
 * The segment being written goes last (it is rolled first). */
static int make_room(struct queue *q, uint64_t need)
{
    while (q->st.bytes + need > q->cfg.max_bytes) {
        if (q->nsegs < 2) {
            int r = seg_roll(q);
            if (r < 0)
                return r;
        }
        struct segment *s = &q->segs[0];
        uint64_t lost = seg_unacked(s, q->acked_seq);
        if (lost) {
            q->st.dropped += lost;
            say(q,
                "full (%" PRIu64 " bytes): dropped the %" PRIu64
                " oldest unacknowledged records (sequences %" PRIu64 " to %" PRIu64 ")",
                q->cfg.max_bytes, lost, s->last_seq - lost + 1, s->last_seq);
        }
        int r = seg_delete(q, 0, false);
        if (r < 0)
            return r;
        if (q->nsegs == 1)
            return 0; /* one batch larger than the whole queue: admitted alone */
    }
    return 0;
}

/* Before refusing: the segment being written may hold only acked records. */
static int reclaim(struct queue *q)
{
    struct segment *cur = seg_current(q);
    if (!cur || cur->bytes <= QUEUE_SEGMENT_MAGIC_LEN || seg_unacked(cur, q->acked_seq))
        return 0;
    int r = seg_roll(q);
    return r < 0 ? r : trim(q);
}

static int check_room(struct queue *q, uint64_t need)
{
    if (q->st.bytes + need <= q->cfg.max_bytes)
        return 0;
    int r = reclaim(q);
    if (r < 0 || q->st.bytes + need <= q->cfg.max_bytes)
        return r;
    bool empty = true;
    for (size_t i = 0; i < q->nsegs && empty; i++)
        empty = !seg_unacked(&q->segs[i], q->acked_seq);
    if (empty)
        return 0; /* a batch larger than the bound waits for nothing: admitted alone */
    if (q->cfg.full == QUEUE_FULL_DROP_OLDEST)
        return make_room(q, need);
    q->st.full++;
    if (!q->said_full)
        say(q,
            "full (%" PRIu64 " bytes, %" PRIu64 " records unacknowledged): inputs wait "
            "(queue_full = block)",
            q->cfg.max_bytes, q->next_seq - 1 - q->acked_seq);
    q->said_full = true;
    return -ENOSPC;
}

static void note_written(struct queue *q, struct segment *cur, size_t n)
{
    if (q->bcount) {
        if (!cur->nrec)
            cur->first_seq = q->next_seq;
        cur->last_seq = q->next_seq + q->bcount - 1;
        cur->nrec += q->bcount;
    }
    cur->bytes += n;
    q->st.bytes += n;
    q->st.queued += q->bcount;
    q->next_seq += q->bcount;
    q->st.next_seq = q->next_seq;
    q->blen = q->bcount = 0;
    if (q->said_full)
        say(q, "no longer full: inputs go on");
    q->said_full = q->said_io = false;
}

static void sync_policy(struct queue *q)
{
    if (q->cfg.fsync == QUEUE_FSYNC_EVERY)
        sync_now(q);
    else if (q->cfg.fsync == QUEUE_FSYNC_INTERVAL) {
        q->sync_due = true;
        if (mono_ms() - q->last_sync_ms >= (int64_t)q->cfg.fsync_ms)
            sync_now(q);
    }
}

int queue_commit(struct queue *q, const char *input_id, const void *pos, size_t pos_len)
{
    size_t id_len = strlen(input_id);
    if (id_len > QUEUE_INPUT_ID_MAX || pos_len > QUEUE_POSITION_MAX)
        return -EINVAL;
    size_t cp = queue_entry_checkpoint_size(id_len, pos_len);
    int r = batch_reserve(q, cp);
    if (r < 0)
        return r;
    struct segment *cur = seg_current(q);
    uint64_t need = q->blen + cp;
    if (cur && cur->bytes > QUEUE_SEGMENT_MAGIC_LEN && cur->bytes + need > q->cfg.segment_bytes) {
        if ((r = seg_roll(q)) < 0)
            goto io;
    }
    if ((r = check_room(q, need)) < 0)
        return r;
    if (q->bcount && q->bbase != q->next_seq)
        renumber(q);
    cur = seg_current(q);
    struct queue_entry e = {.gen = q->gen + 1,
                            .next_seq = q->next_seq + q->bcount,
                            .id = input_id,
                            .id_len = id_len,
                            .pos = pos,
                            .pos_len = pos_len};
    size_t n = q->blen + queue_entry_put_checkpoint(q->batch + q->blen, e.gen, e.next_seq, input_id,
                                                    id_len, pos, pos_len);
    if ((r = write_all(q->wfd, q->batch, n)) < 0) {
        if (ftruncate(q->wfd, (off_t)cur->bytes) < 0)
            say(q, "cannot cut a failed write back: the next start drops the torn tail");
        goto io;
    }
    note_written(q, cur, n);
    position_take(q, &e);
    sync_policy(q);
    return 0;
io:
    if (!q->said_io)
        say(q, "cannot write to %s/queue: %s (records kept in memory, retried)", q->cfg.dir,
            strerror(-r));
    q->said_io = true;
    return r;
}

/* ---- reading back, acknowledging ---- */

static size_t seg_index(const struct queue *q, uint64_t num)
{
    size_t i = 0;
    while (i < q->nsegs && q->segs[i].num < num)
        i++;
    return i;
}

int queue_rewind(struct queue *q, uint64_t after_seq)
{
    reader_close(&q->rd);
    q->rd.after = after_seq;
    return 0;
}

static int reader_open(struct queue *q, size_t i)
{
    char name[SEG_NAME_MAX];
    seg_name(name, q->segs[i].num);
    int fd = openat(q->qfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    q->rd.fd = fd;
    q->rd.num = q->segs[i].num;
    q->rd.off = QUEUE_SEGMENT_MAGIC_LEN;
    q->rd.len = q->rd.at = 0;
    return 0;
}

/* Reads more committed bytes of the reader's segment. Returns bytes, 0 at
 * the committed end. */
static ssize_t reader_fill(struct queue *q, const struct segment *s)
{
    struct reader *rd = &q->rd;
    memmove(rd->buf, rd->buf + rd->at, rd->len - rd->at);
    rd->off += rd->at;
    rd->len -= rd->at;
    rd->at = 0;
    uint64_t left = s->bytes - rd->off - rd->len;
    if (!left)
        return 0;
    if (rd->len == rd->cap) {
        size_t cap = rd->cap * 2;
        uint8_t *b = cap <= QUEUE_ENTRY_RECORD_MAX * 2 ? realloc(rd->buf, cap) : NULL;
        if (!b)
            return -EBADMSG;
        rd->buf = b;
        rd->cap = cap;
    }
    size_t want = rd->cap - rd->len;
    if (want > left)
        want = (size_t)left;
    ssize_t n = pread(rd->fd, rd->buf + rd->len, want, (off_t)(rd->off + rd->len));
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EIO; /* shorter than committed: cut under us */
    rd->len += (size_t)n;
    return n;
}

int queue_read(struct queue *q, struct queue_record *rec)
{
    struct reader *rd = &q->rd;
    for (;;) {
        size_t i;
        if (!rd->num) {
            for (i = 0; i < q->nsegs && q->segs[i].last_seq <= rd->after &&
                        q->segs[i].num != seg_current(q)->num;
                 i++)
                ;
            if (i == q->nsegs)
                return 0;
            int r = reader_open(q, i);
            if (r < 0)
                return r;
        }
        i = seg_index(q, rd->num);
        struct queue_entry e;
        ssize_t used = queue_entry_parse(rd->buf + rd->at, rd->len - rd->at, &e);
        if (used < 0)
            return -EBADMSG;
        if (used > 0) {
            rd->at += (size_t)used;
            if (e.type == QUEUE_ENTRY_CHECKPOINT || e.seq <= rd->after)
                continue;
            rd->after = e.seq;
            *rec =
                (struct queue_record){e.seq, (enum queue_kind)e.type, (const char *)e.data, e.len};
            return 1;
        }
        ssize_t n = reader_fill(q, &q->segs[i]);
        if (n < 0)
            return (int)n;
        if (n > 0)
            continue;
        if (i + 1 >= q->nsegs)
            return 0; /* at the end of what is committed */
        uint64_t after = rd->after;
        reader_close(rd);
        rd->after = after;
        int r = reader_open(q, i + 1);
        if (r < 0)
            return r;
    }
}

static uint64_t count_acked(const struct queue *q, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    for (size_t i = 0; i < q->nsegs; i++) {
        const struct segment *s = &q->segs[i];
        if (!s->nrec || s->last_seq <= from || s->first_seq > to)
            continue;
        uint64_t a = s->first_seq > from ? s->first_seq : from + 1;
        uint64_t b = s->last_seq < to ? s->last_seq : to;
        n += b - a + 1;
    }
    return n;
}

int queue_ack(struct queue *q, uint64_t seq)
{
    if (seq <= q->acked_seq)
        return 0;
    if (seq >= q->next_seq) {
        say(q,
            "the collector has this stream up to %" PRIu64 ", past the queue's %" PRIu64
            ": new records start after it",
            seq, q->next_seq - 1);
        q->next_seq = seq + 1; /* a buffered batch is numbered again at its commit */
        q->st.next_seq = q->next_seq;
    }
    q->st.acked += count_acked(q, q->acked_seq, seq);
    q->acked_seq = seq;
    struct segment *cur = seg_current(q);
    if (cur && !seg_unacked(cur, seq) && cur->bytes >= q->cfg.segment_bytes / 8 && seg_roll(q) < 0)
        return -EIO;
    return trim(q);
}

void queue_tick(struct queue *q, int64_t now_ms)
{
    if (q->sync_due && now_ms - q->last_sync_ms >= (int64_t)q->cfg.fsync_ms)
        sync_now(q);
    if (q->acked_written != q->acked_seq && now_ms - q->last_acked_ms >= ACKED_MS) {
        q->last_acked_ms = now_ms;
        write_acked(q);
    }
}

void queue_get_stats(const struct queue *q, struct queue_stats *st)
{
    *st = q->st;
    st->acked_seq = q->acked_seq;
    st->next_seq = q->next_seq;
    st->pending = 0;
    for (size_t i = 0; i < q->nsegs; i++)
        st->pending += seg_unacked(&q->segs[i], q->acked_seq);
    st->segments = q->nsegs;
}
