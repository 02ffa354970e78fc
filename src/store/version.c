/*
 * version: the store's format version, in <root>/.logward-store. A store
 * without the file gets one (written whole, then renamed into place); a
 * store of a newer format is refused, so an old collector never writes
 * into a layout it does not know. It does not migrate anything.
 *
 * The file is text: "logward-store N\n", then lines a later version may
 * add, which this one ignores.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION_FILE_MAX 4096
#define VERSION_TMP      STORE_VERSION_FILE ".tmp"
#define VERSION_MAGIC    "logward-store "
/* Readable by all: no secret in it, and a collector that has dropped
 * privileges after creating the store must still read it on SIGHUP. */
#define VERSION_MODE 0444

static int version_parse(const char *p, size_t n)
{
    size_t m = sizeof(VERSION_MAGIC) - 1;
    if (n <= m || memcmp(p, VERSION_MAGIC, m) != 0)
        return -EBADMSG;
    long v = 0;
    size_t i = m;
    for (; i < n && i < m + 6 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (p[i] - '0');
    if (i == m || i == n || p[i] != '\n' || v < 1)
        return -EBADMSG;
    return v > STORE_FORMAT_VERSION ? -EPROTONOSUPPORT : 0;
}

static int version_write(int root_fd, const struct store_config *cfg)
{
    char text[64];
    int n = snprintf(text, sizeof(text), VERSION_MAGIC "%d\n", STORE_FORMAT_VERSION);
    unlinkat(root_fd, VERSION_TMP, 0); /* a leftover from a crash */
    int fd = openat(root_fd, VERSION_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    VERSION_MODE);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, text, (size_t)n);
    int r = w == n ? 0 : w < 0 ? -errno : -EIO;
    if (r == 0 && fchmod(fd, VERSION_MODE) < 0)
        r = -errno;
    if (r == 0 && cfg->group != (gid_t)-1 && fchown(fd, (uid_t)-1, cfg->group) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0) /* always: this file is written once */
        r = -errno;
    close(fd);
    if (r == 0 && renameat(root_fd, VERSION_TMP, root_fd, STORE_VERSION_FILE) < 0)
        r = -errno;
    if (r == 0 && fsync(root_fd) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(root_fd, VERSION_TMP, 0);
    return r;
}

int store_version_check(int root_fd, const struct store_config *cfg)
{
    int fd = openat(root_fd, STORE_VERSION_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? version_write(root_fd, cfg) : -errno;
    char text[VERSION_FILE_MAX];
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = read(fd, text, sizeof(text));
    close(fd);
    return n < 0 ? -EBADMSG : version_parse(text, (size_t)n);
}
