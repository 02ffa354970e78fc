/*
 * torn: a collector killed inside a long write can leave an active file
 * ending in part of a line (the kernel stops a write between pages when
 * a fatal signal is pending). Appending to it would glue the next line to
 * that fragment, and a seal covers complete lines only, so a host that
 * stays quiet would keep an unsealed tail for good. Before a file is
 * appended to or sealed in a new run, its torn line is ended with a LF:
 * every byte that arrived stays (the file only grows, as append-only and
 * the search index need), and the next line starts whole.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int store_torn_end(struct store *s, int fd, const char *path, struct stat *st)
{
    if (!S_ISREG(st->st_mode) || st->st_nlink > 1 || st->st_size <= 0)
        return 0; /* not one of ours (store_file_open refuses those) */
    char last;
    ssize_t n = pread(fd, &last, 1, st->st_size - 1);
    if (n < 0)
        return -errno;
    if (n != 1 || last == '\n')
        return 0;
    if (write(fd, "\n", 1) != 1) {
        int r = errno ? -errno : -EIO;
        s->stats.write_errors++;
        store_say(s, "ending the torn last line of %s: %s", path, strerror(-r));
        return r;
    }
    st->st_size++;
    s->stats.torn_ended++;
    store_say(s, "%s ended in a torn line (a crash inside a write): ended it with a LF", path);
    return 1;
}
