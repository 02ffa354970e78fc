/*
 * torn: a collector killed inside a long write can leave an active file
 * ending in part of a line (the kernel stops a write between pages when
 * a fatal signal is pending). Such a line was never acknowledged, and
 * kept as it is it misleads: an audit record cut after `auid=1` of
 * `auid=1000` reads as a whole record of auid 1, and a resend stores the
 * record again in full. Appending to it would glue the next line to it,
 * and a seal covers whole lines only, so a quiet host would keep an
 * unsealed tail for good. So before a file is appended to or sealed in a
 * new run, its torn line is cut back to the last LF, or, where the file
 * cannot be cut (append-only), ended with a LF so the next line starts
 * whole. Said and counted (torn_tails).
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define TORN_SCAN_MAX  ((off_t)1 << 20) /* searched back for the last LF; past it: a LF */
#define TORN_CHUNK     ((size_t)64 << 10)
#define TORN_OPEN_BASE (O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

static bool same_file(int fd, const struct stat *st)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* Offset just past the last LF, 0 when the file has none, -1 when none
 * lies within TORN_SCAN_MAX of the end, or a negative errno (< -1). The
 * last byte is known not to be a LF. */
static off_t after_last_lf(int fd, off_t size)
{
    char buf[TORN_CHUNK];
    for (off_t end = size; end > 0 && size - end < TORN_SCAN_MAX;) {
        size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
        ssize_t got = pread(fd, buf, n, end - (off_t)n);
        if (got != (ssize_t)n)
            return got < 0 ? -errno - 1 : -EIO - 1;
        const char *lf = memrchr(buf, '\n', n);
        if (lf)
            return end - (off_t)n + (lf - buf) + 1;
        end -= (off_t)n;
    }
    return size <= TORN_SCAN_MAX ? 0 : -1;
}

int store_torn_mend(struct store *s, int dir_fd, const char *leaf, const char *path, int wfd,
                    struct stat *st)
{
    if (!S_ISREG(st->st_mode) || st->st_nlink > 1 || st->st_size <= 0)
        return 0; /* not one of ours (store_file_open refuses those), or empty */
    int rfd = openat(dir_fd, leaf, O_RDONLY | TORN_OPEN_BASE);
    if (rfd < 0)
        return errno == EACCES || errno == EPERM ? 0 : -errno; /* write-only to us: left */
    char last = '\n';
    off_t cut = -1;
    int r = 0;
    if (!same_file(rfd, st) || pread(rfd, &last, 1, st->st_size - 1) != 1 || last == '\n') {
        close(rfd);
        return 0;
    }
    cut = after_last_lf(rfd, st->st_size);
    close(rfd);
    if (cut < -1)
        return (int)(cut + 1);
    int own = -1;
    if (wfd < 0 && (wfd = own = openat(dir_fd, leaf, O_WRONLY | O_APPEND | TORN_OPEN_BASE)) < 0)
        r = -errno;
    else if (own >= 0 && !same_file(own, st))
        r = -ESTALE;
    if (r == 0 && cut >= 0 && ftruncate(wfd, cut) == 0) {
        store_say(s, "%s ended in a torn line (a crash inside a write): cut its %lld bytes", path,
                  (long long)(st->st_size - cut));
        st->st_size = cut;
    } else if (r == 0) { /* append-only, or no LF near the end */
        if (write(wfd, "\n", 1) == 1) {
            store_say(s, "%s ended in a torn line (a crash inside a write): ended it with a LF",
                      path);
            st->st_size++;
        } else {
            r = -EIO;
        }
    }
    if (own >= 0)
        close(own);
    if (r < 0) {
        s->stats.write_errors++;
        store_say(s, "mending the torn last line of %s: %s", path, strerror(-r));
        return r;
    }
    s->stats.torn_tails++;
    return 1;
}
