/*
 * append_only: the kernel's append-only flag (FS_APPEND_FL, `chattr +a`)
 * on the store's active files (issue 4, point 4; docs/formats.md,
 * "Append-only files"). With `append_only` on, a file gets the flag when
 * the store opens it and loses it only right before its rotation (an
 * append-only file can be neither renamed nor deleted), so an intruder
 * with the collector's user cannot cut or rewrite a file being written;
 * rotated files are 0440 (rotate.c), their sidecars too (seal_store.c).
 * Setting and clearing the flag needs CAP_LINUX_IMMUTABLE, which the
 * collector keeps, alone, when it drops privileges. Where the flag cannot
 * be applied (a file system without it, such as tmpfs; no capability) the
 * store says so once per reason and goes on without it.
 */
#include "store/store_int.h"

#include <errno.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>

/* Reasons said once each (struct store's ao_said bits). */
enum { AO_SAID_UNSUPPORTED = 1, AO_SAID_PERM = 2, AO_SAID_OTHER = 4 };

static void say_once(struct store *s, unsigned bit, const char *path, int e)
{
    if (s->ao_said & bit)
        return;
    s->ao_said |= bit;
    s->stats.append_only_errors++;
    if (bit == AO_SAID_UNSUPPORTED)
        store_say(s,
                  "append_only: %s: the file system has no append-only flag (tmpfs?): "
                  "files are not protected",
                  path);
    else if (bit == AO_SAID_PERM)
        store_say(s,
                  "append_only: %s: not permitted (needs CAP_LINUX_IMMUTABLE: run as root, "
                  "which keeps it when dropping privileges): files are not protected",
                  path);
    else
        store_say(s, "append_only: %s: %s", path, strerror(e));
}

int store_append_only(struct store *s, int fd, const char *path, bool on)
{
    if (!s->cfg.append_only)
        return 0;
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
        int e = errno;
        say_once(
            s, e == ENOTTY || e == EOPNOTSUPP || e == EINVAL ? AO_SAID_UNSUPPORTED : AO_SAID_OTHER,
            path, e);
        return 0; /* without the flag, nothing stands in the way of a rotation */
    }
    if (!!(flags & FS_APPEND_FL) == on)
        return 0;
    flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
    if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0)
        return 0;
    int e = errno;
    say_once(s,
             e == EPERM || e == EACCES                       ? AO_SAID_PERM
             : e == ENOTTY || e == EOPNOTSUPP || e == EINVAL ? AO_SAID_UNSUPPORTED
                                                             : AO_SAID_OTHER,
             path, e);
    /* A flag that stays set blocks the rotation's rename: say it, fail it. */
    return on ? 0 : -e;
}
