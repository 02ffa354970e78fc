/*
 * input_files: the inputs that follow files, audit:PATH (one file, records
 * of kind audit) and file:PATTERN (every file glob(3) matches, picked up
 * anew at most every second or when the directory changes, kind syslog:
 * a line without "<PRI>" gets "<13>", user.notice). One follower
 * (follow.c) per file; the positions of all of them are one opaque
 * position of the input, committed with every batch. Wake-ups come from
 * inotify (the directory for creation and renames, each file for writes);
 * where a watch cannot be set (no directory yet, a wildcard in the
 * directory part, no inotify) a timer runs the input every INPUT_POLL_MS.
 * Matches that look like rotated siblings of another match (NAME.1,
 * NAME-20261201) or are compressed are not followed on their own: they are
 * read only as the rest of a rotated file.
 */
#include "agent/follow.h"
#include "agent/input_impl.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define INPUT_FILES_MAX  32   /* files one pattern follows (positions fit QUEUE_POSITION_MAX) */
#define INPUT_GLOB_MS    1000 /* a pattern is matched again at most this often, or on a dir event */
#define INPUT_POS_HEADER 3    /* 'F', version, count */
#define INPUT_EVENTS_BUF 4096

_Static_assert(INPUT_POS_HEADER + INPUT_FILES_MAX * FOLLOW_POS_BYTES <= QUEUE_POSITION_MAX,
               "the positions of all followed files fit one queue position");

struct files {
    bool audit;   /* records of kind audit, else syslog */
    bool literal; /* no wildcard: PATH itself, waited for when missing */
    char pattern[QUEUE_INPUT_ID_MAX];
    struct follow *f[INPUT_FILES_MAX];
    int wd[INPUT_FILES_MAX];
    uint64_t wd_ino[INPUT_FILES_MAX];
    size_t n, rr;
    int ino;      /* inotify fd, -1 without */
    int wd_dir;   /* the pattern's directory, -1 when not watched */
    int timer;    /* timerfd for polling, -1 without */
    bool polling; /* timer armed */
    bool rescan;  /* a directory event: match the pattern again */
    int64_t globbed_ms;
    bool full_logged;
    char *scratch; /* "<13>" + line */
    unsigned char last[QUEUE_POSITION_MAX];
    size_t last_len; /* the position last committed */
};

static int64_t files_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t files_encode(struct files *fs, unsigned char *out)
{
    out[0] = 'F';
    out[1] = 1;
    out[2] = (unsigned char)fs->n;
    for (size_t i = 0; i < fs->n; i++) {
        struct follow_pos p;
        follow_position(fs->f[i], &p);
        follow_pos_put(&p, out + INPUT_POS_HEADER + i * FOLLOW_POS_BYTES);
    }
    return INPUT_POS_HEADER + fs->n * FOLLOW_POS_BYTES;
}

/* Decodes a committed position into at most INPUT_FILES_MAX entries.
 * Returns the count, or -EINVAL for bytes files_encode did not write. */
static int files_decode(const unsigned char *p, size_t len, struct follow_pos *out)
{
    if (len < INPUT_POS_HEADER || p[0] != 'F' || p[1] != 1 || p[2] > INPUT_FILES_MAX ||
        len != INPUT_POS_HEADER + (size_t)p[2] * FOLLOW_POS_BYTES)
        return -EINVAL;
    for (size_t i = 0; i < p[2]; i++)
        if (follow_pos_get(p + INPUT_POS_HEADER + i * FOLLOW_POS_BYTES, &out[i]) < 0)
            return -EINVAL;
    return p[2];
}

static bool files_followed(const struct files *fs, const char *path)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(follow_path(fs->f[i]), path))
            return true;
    return false;
}

/* Starts following path, from the saved entry of the input's position
 * that belongs to it (used entries are marked). */
static int files_add(struct input *in, const char *path, struct follow_pos *saved, int nsaved)
{
    struct files *fs = in->impl;
    if (fs->n == INPUT_FILES_MAX) {
        if (!fs->full_logged)
            fprintf(stderr,
                    "logward-agent: %s: more than %d files match; %s and later ones "
                    "are not followed (logged once)\n",
                    in->spec, INPUT_FILES_MAX, path);
        fs->full_logged = true;
        return 0;
    }
    struct follow_pos mine = {0};
    struct stat st;
    bool live = stat(path, &st) == 0;
    /* The file at path first (one stat), then its rotated siblings. */
    for (int pass = 0; pass < 2 && !mine.ino; pass++)
        for (int i = 0; i < nsaved && !mine.ino; i++)
            if (saved[i].ino &&
                (pass ? follow_owns(path, &saved[i])
                      : live && saved[i].ino == (uint64_t)st.st_ino &&
                            saved[i].dev == (uint64_t)st.st_dev && follow_owns(path, &saved[i]))) {
                mine = saved[i];
                saved[i].ino = 0; /* used */
            }
    int r = follow_open(path, mine.ino ? &mine : NULL, !fs->literal, &in->st, &fs->f[fs->n]);
    if (r < 0)
        return r;
    fs->wd[fs->n] = -1;
    fs->wd_ino[fs->n] = 0;
    fs->n++;
    return 1;
}

static int files_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A match that is a rotated sibling (NAME.N, NAME-DIGITS) of another match. */
static bool files_is_sibling(const char *m, char **sorted, size_t n)
{
    const char *e = m + strlen(m), *p = e;
    while (p > m && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == e || p == m || (p[-1] != '.' && p[-1] != '-'))
        return false;
    char base[FOLLOW_PATH_MAX];
    size_t bl = (size_t)(p - 1 - m);
    if (bl >= sizeof base)
        return false;
    memcpy(base, m, bl);
    base[bl] = '\0';
    const char *key = base;
    return bsearch(&key, sorted, n, sizeof *sorted, files_cmp) != NULL;
}

static bool files_skip(const char *m, char **sorted, size_t n)
{
    static const char *const ext[] = {".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z", ".lzma"};
    size_t l = strlen(m);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (l > e && !strcmp(m + l - e, ext[i]))
            return true;
    }
    struct stat s; /* lstat: a symbolic link a wildcard matched is not followed */
    return files_is_sibling(m, sorted, n) || lstat(m, &s) != 0 || !S_ISREG(s.st_mode);
}

/* Matches the pattern: follows new matches, forgets followers of files
 * that are gone and no longer match. */
static int files_glob(struct input *in, struct follow_pos *saved, int nsaved)
{
    struct files *fs = in->impl;
    fs->globbed_ms = files_now_ms();
    fs->rescan = false;
    if (fs->literal)
        return fs->n ? 0 : files_add(in, fs->pattern, saved, nsaved);
    glob_t g;
    int gr = glob(fs->pattern, 0, NULL, &g), r = 0;
    if (gr == GLOB_NOSPACE)
        return -ENOMEM;
    static char *none[1];
    size_t n = gr == 0 ? g.gl_pathc : 0;
    char **v = n ? g.gl_pathv : none;
    qsort(v, n, sizeof(char *), files_cmp);
    for (size_t i = 0; i < fs->n; i++) {
        const char *p = follow_path(fs->f[i]);
        if (follow_waiting(fs->f[i]) && !bsearch(&p, v, n, sizeof(char *), files_cmp)) {
            follow_free(fs->f[i]);
            fs->n--;
            fs->f[i] = fs->f[fs->n];
            fs->wd[i] = fs->wd[fs->n];
            fs->wd_ino[i] = fs->wd_ino[fs->n];
            i--;
        }
    }
    for (size_t i = 0; i < n && r >= 0; i++)
        if (!files_followed(fs, v[i]) && !files_skip(v[i], v, n))
            r = files_add(in, v[i], saved, nsaved);
    if (gr == 0)
        globfree(&g);
    return r < 0 ? r : 0;
}

/* Followers from the position the queue holds for this input. */
static int files_load(struct input *in)
{
    struct files *fs = in->impl;
    struct follow_pos saved[INPUT_FILES_MAX];
    int r = queue_position(in->q, in->spec, fs->last, sizeof fs->last);
    int nsaved = 0;
    fs->last_len = r > 0 ? (size_t)r : 0;
    if (r > 0 && (nsaved = files_decode(fs->last, (size_t)r, saved)) < 0) {
        fprintf(stderr,
                "logward-agent: %s: the saved position is not one of this version's; "
                "starting from the beginning of the current files\n",
                in->spec);
        nsaved = 0;
    }
    r = files_glob(in, saved, nsaved);
    for (int i = 0; i < nsaved; i++)
        if (saved[i].ino && ++in->st.gone)
            fprintf(stderr,
                    "logward-agent: %s: a followed file (inode %llu, read to byte %llu) is "
                    "no longer found (deleted or compressed while the agent was down); "
                    "whatever it held past that byte is lost\n",
                    in->spec, (unsigned long long)saved[i].ino, (unsigned long long)saved[i].off);
    return r;
}

static void files_drop_followers(struct files *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->wd[i] >= 0 && fs->ino >= 0)
            inotify_rm_watch(fs->ino, fs->wd[i]);
        follow_free(fs->f[i]);
    }
    fs->n = 0;
}

/* Arms or disarms the poll timer. */
static void files_poll(struct files *fs, bool on)
{
    if (fs->timer < 0 || on == fs->polling)
        return;
    long ns = (long)INPUT_POLL_MS * 1000000L;
    struct itimerspec t = {{0, 0}, {0, 0}};
    if (on)
        t.it_interval = t.it_value = (struct timespec){ns / 1000000000L, ns % 1000000000L};
    if (timerfd_settime(fs->timer, 0, &t, NULL) == 0)
        fs->polling = on;
}

/* Watches the pattern's directory and each followed file's current inode;
 * polls where that is not possible. */
static void files_watch(struct files *fs)
{
    bool need_poll = fs->ino < 0;
    if (fs->ino >= 0 && fs->wd_dir < 0) {
        char dir[FOLLOW_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", fs->pattern);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (!strpbrk(dir, "*?[")) /* no wildcard in the directory part */
            fs->wd_dir = inotify_add_watch(
                fs->ino, dir, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
        need_poll = fs->wd_dir < 0;
    }
    for (size_t i = 0; i < fs->n && fs->ino >= 0; i++) {
        struct stat s;
        const char *p = follow_path(fs->f[i]);
        if (fs->wd[i] >= 0 && follow_inode(fs->f[i]) == fs->wd_ino[i])
            continue; /* watching what is read */
        if (stat(p, &s) != 0 || (uint64_t)s.st_ino == fs->wd_ino[i])
            continue;
        int wd = inotify_add_watch(fs->ino, p, IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF);
        if (fs->wd[i] >= 0 && fs->wd[i] != wd)
            inotify_rm_watch(fs->ino, fs->wd[i]); /* EINVAL when the kernel dropped it */
        fs->wd[i] = wd;
        fs->wd_ino[i] = wd >= 0 ? (uint64_t)s.st_ino : 0;
        need_poll |= wd < 0;
    }
    files_poll(fs, need_poll);
}

/* Reads and forgets pending wake-ups; notes a directory event. */
static void files_drain(struct files *fs)
{
    char b[INPUT_EVENTS_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    bool more = fs->ino >= 0;
    while (more && (n = read(fs->ino, b, sizeof b)) > 0) {
        more = (size_t)n > sizeof b - sizeof(struct inotify_event) - NAME_MAX - 1;
        for (char *p = b; p < b + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->wd == fs->wd_dir || (e->mask & (IN_IGNORED | IN_Q_OVERFLOW)))
                fs->rescan = true;
            for (size_t i = 0; (e->mask & IN_IGNORED) && i < fs->n; i++)
                if (fs->wd[i] == e->wd) /* the watched inode is gone: watch again */
                    fs->wd[i] = -1, fs->wd_ino[i] = 0;
            if ((e->mask & IN_IGNORED) && e->wd == fs->wd_dir)
                fs->wd_dir = -1;
            p += sizeof *e + e->len;
        }
    }
    uint64_t ticks;
    if (fs->polling && read(fs->timer, &ticks, sizeof ticks) > 0)
        fs->rescan |= fs->wd_dir < 0;
}

static bool files_has_pri(const char *p, size_t n)
{
    size_t i = 1;
    if (n < 3 || p[0] != '<')
        return false;
    while (i < n && i <= 3 && p[i] >= '0' && p[i] <= '9')
        i++;
    return i > 1 && i < n && p[i] == '>';
}

static int files_put(struct input *in, struct files *fs, const char *line, size_t len)
{
    if (fs->audit || files_has_pri(line, len))
        return input_put(in, fs->audit ? QUEUE_KIND_AUDIT : QUEUE_KIND_SYSLOG, line, len);
    if (!fs->scratch && !(fs->scratch = malloc(INPUT_LINE_MAX + 4)))
        return -ENOMEM;
    memcpy(fs->scratch, "<13>", 4);
    memcpy(fs->scratch + 4, line, len);
    return input_put(in, QUEUE_KIND_SYSLOG, fs->scratch, len + 4);
}

static int files_run(struct input *in, size_t budget)
{
    struct files *fs = in->impl;
    files_drain(fs);
    int r = 0;
    if (!fs->literal && (fs->rescan || files_now_ms() - fs->globbed_ms >= INPUT_GLOB_MS))
        r = files_glob(in, NULL, 0);
    size_t records = 0, puts = 0, bytes = 0;
    int rerr = r, perr = 0;
    for (size_t k = 0; k < fs->n && !rerr && puts < budget && bytes < INPUT_BATCH_BYTES; k++) {
        struct follow *f = fs->f[(fs->rr + k) % fs->n];
        const char *line;
        size_t len;
        while (puts < budget && bytes < INPUT_BATCH_BYTES) {
            if ((r = follow_next(f, &line, &len)) <= 0) {
                rerr = r; /* read error: what was read is committed first */
                break;
            }
            if ((perr = files_put(in, fs, line, len)) < 0)
                break;
            records += (size_t)perr;
            puts++;
            bytes += len;
        }
        if (perr < 0) {
            queue_abort(in->q);
            in->commit_failed = true; /* rewind to the committed position */
            return perr;
        }
    }
    if (fs->n)
        fs->rr = (fs->rr + 1) % fs->n;
    unsigned char pos[QUEUE_POSITION_MAX];
    size_t pos_len = files_encode(fs, pos);
    if (records || pos_len != fs->last_len || memcmp(pos, fs->last, pos_len)) {
        int c = input_commit(in, records, pos, pos_len);
        if (c == 0 || c == -ENOSPC) { /* -ENOSPC: the queue holds them, retried */
            memcpy(fs->last, pos, pos_len);
            fs->last_len = pos_len;
        }
        if (c < 0)
            return c;
    }
    files_watch(fs);
    return rerr < 0 ? rerr : (int)puts;
}

static int files_rewind(struct input *in)
{
    files_drop_followers(in->impl);
    return files_load(in);
}

static void files_free(struct input *in)
{
    struct files *fs = in->impl;
    if (!fs)
        return;
    files_drop_followers(fs);
    if (fs->ino >= 0)
        close(fs->ino);
    if (fs->timer >= 0)
        close(fs->timer);
    free(fs->scratch);
    free(fs);
    in->impl = NULL;
}

static const struct input_ops files_ops = {files_run, files_rewind, files_free};

int input_files_open(struct input *in, const char *pattern, bool audit, char *err, size_t errcap)
{
    struct files *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errcap, "input '%s': out of memory", in->spec);
        return -ENOMEM;
    }
    in->impl = fs;
    in->ops = &files_ops;
    fs->audit = audit;
    fs->literal = audit || !strpbrk(pattern, "*?[");
    snprintf(fs->pattern, sizeof fs->pattern, "%s", pattern);
    fs->wd_dir = -1;
    fs->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    fs->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if ((fs->ino >= 0 && input_watch(in, fs->ino) < 0) ||
        (fs->timer >= 0 && input_watch(in, fs->timer) < 0) || (fs->ino < 0 && fs->timer < 0)) {
        snprintf(err, errcap, "input '%s': no inotify and no timer: %s", in->spec, strerror(errno));
        return -errno;
    }
    int r = files_load(in);
    if (r < 0) {
        snprintf(err, errcap, "input '%s': %s", in->spec, strerror(-r));
        return r;
    }
    files_watch(fs);
    return 0;
}
