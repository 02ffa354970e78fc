/*
 * path: where a (host, program) pair lives below the store root, and how
 * its directories and active file are opened without ever leaving the root:
 * every step is an openat() from the root's fd with O_NOFOLLOW, so a symlink
 * planted at <root>/<host> or at the file itself is refused, never followed.
 * It does not sanitize names (name.c) nor keep fds (store.c caches them).
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A template is '/'-separated components of literal bytes and the
 * conversions %h, %p and %%. Rules that keep the rendered path inside the
 * root and injective: no leading, trailing or double '/'; no component
 * "." or "..", none starting with '.'; at most one of %h/%p per component
 * (so "a-b"+"c" and "a"+"b-c" cannot meet); no control bytes; the last
 * component ends in a literal byte that is not a digit, so an active name
 * never looks like a rotated one ("x.log.1"), and no rendered name can end
 * in ".zst" or ".tmp" (a compressed "x.log.1.zst", a temp file).
 */
static bool suffix_clash(const char *tmpl)
{
    const char *comp = strrchr(tmpl, '/');
    comp = comp ? comp + 1 : tmpl;
    char lit[STORE_TEMPLATE_MAX + 1]; /* the literal bytes after the last conversion */
    size_t n = 0;
    bool conv = false;
    for (const char *t = comp; *t; t++) {
        if (*t == '%' && (t[1] == 'h' || t[1] == 'p')) {
            n = 0;
            conv = true;
            t++;
            continue;
        }
        if (*t == '%' && t[1] == '%')
            t++;
        lit[n++] = *t;
    }
    static const char *const ours[] = {".zst", ".tmp"};
    for (size_t i = 0; i < 2; i++) {
        const size_t k = 4;
        if (n >= k && memcmp(lit + n - k, ours[i], k) == 0)
            return true;
        if (conv && n < k && memcmp(lit, ours[i] + k - n, n) == 0)
            return true; /* a name could supply the rest */
    }
    return false;
}

int store_template_check(const char *tmpl)
{
    size_t n = strnlen(tmpl, STORE_TEMPLATE_MAX + 1);
    if (n == 0 || n > STORE_TEMPLATE_MAX || tmpl[0] == '/' || tmpl[n - 1] == '/')
        return -EINVAL;
    unsigned depth = 1, convs = 0;
    size_t start = 0;
    char last = 0; /* the last literal byte, 0 after a conversion */
    for (size_t i = 0; i <= n; i++) {
        char c = tmpl[i];
        if (c == '/' || c == '\0') {
            if (i == start || tmpl[start] == '.' || convs > 1 || ++depth > STORE_DEPTH_MAX + 1)
                return -EINVAL;
            start = i + 1;
            convs = 0;
        } else if (c == '%') {
            char k = tmpl[++i];
            if (k == 'h' || k == 'p')
                convs++;
            else if (k != '%')
                return -EINVAL;
            last = k == '%' ? '%' : 0;
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            return -EINVAL;
        } else {
            last = c;
        }
    }
    if (last == 0 || (last >= '0' && last <= '9') || suffix_clash(tmpl))
        return -EINVAL;
    return 0;
}

int store_path_render(const char *tmpl, const char *host, const char *program, char *out,
                      size_t cap)
{
    size_t o = 0, comp = 0;
    for (const char *t = tmpl; *t; t++) {
        const char *add = t;
        size_t addlen = 1;
        if (*t == '%') {
            t++;
            add = *t == 'h' ? host : *t == 'p' ? program : t;
            addlen = *t == '%' ? 1 : strlen(add);
        }
        if (o + addlen + 1 > cap)
            return -ENAMETOOLONG;
        memcpy(out + o, add, addlen);
        o += addlen;
        comp = *t == '/' ? 0 : comp + addlen;
        if (comp > STORE_COMPONENT_MAX)
            return -ENAMETOOLONG;
    }
    out[o] = '\0';
    return (int)o;
}

int store_dir_sync(int dir_fd, const struct store_config *cfg)
{
    if (cfg->fsync == STORE_FSYNC_NONE)
        return 0;
    return fsync(dir_fd) < 0 ? -errno : 0;
}

/* Mode and group of something just created: exact, whatever the umask. */
static int set_owner_mode(int fd, mode_t mode, const struct store_config *cfg)
{
    if (fchmod(fd, mode) < 0)
        return -errno;
    if (cfg->group != (gid_t)-1 && fchown(fd, (uid_t)-1, cfg->group) < 0)
        return -errno;
    return 0;
}

/* O_DIRECTORY|O_NOFOLLOW says ENOTDIR for a symlink: tell the two apart. */
static bool is_symlink(int dir_fd, const char *name)
{
    struct stat st;
    return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* One directory below dir_fd; creates it (dir_mode, group) if asked. */
static int open_subdir(int dir_fd, const char *name, const struct store_config *cfg, bool create)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    for (int tries = 0; tries < 2; tries++) {
        int fd = openat(dir_fd, name, flags);
        if (fd >= 0)
            return fd;
        if (errno == ENOTDIR)
            return is_symlink(dir_fd, name) ? -ELOOP : -ENOTDIR;
        if (errno != ENOENT || !create)
            return -errno;
        if (mkdirat(dir_fd, name, cfg->dir_mode) < 0) {
            if (errno == EEXIST)
                continue; /* made meanwhile: open what is there, with the same checks */
            return -errno;
        }
        fd = openat(dir_fd, name, flags);
        if (fd < 0)
            return -errno;
        int r = set_owner_mode(fd, cfg->dir_mode, cfg);
        if (r == 0)
            r = store_dir_sync(dir_fd, cfg); /* the new name itself must survive a crash */
        if (r < 0) {
            close(fd);
            return r;
        }
        return fd;
    }
    return -EEXIST;
}

int store_dir_open(int root_fd, const char *relpath, const struct store_config *cfg, bool create,
                   const char **leaf)
{
    char name[STORE_COMPONENT_MAX + 1];
    int fd = root_fd;
    const char *p = relpath, *slash;
    while ((slash = strchr(p, '/')) != NULL) {
        size_t n = (size_t)(slash - p);
        if (n == 0 || n > STORE_COMPONENT_MAX) {
            if (fd != root_fd)
                close(fd);
            return -EINVAL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int sub = open_subdir(fd, name, cfg, create);
        if (fd != root_fd)
            close(fd);
        if (sub < 0)
            return sub;
        fd = sub;
        p = slash + 1;
    }
    *leaf = p;
    /* The caller closes what it gets: the root fd is handed out as a dup. */
    if (fd == root_fd && (fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0)) < 0)
        return -errno;
    return fd;
}

int store_file_open(int dir_fd, const char *leaf, const struct store_config *cfg, struct stat *st)
{
    /* O_NONBLOCK: a FIFO planted in the store must not hang the collector. */
    const int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
    bool created = false;
    int fd = openat(dir_fd, leaf, flags);
    if (fd < 0 && errno == ENOENT) {
        fd = openat(dir_fd, leaf, flags | O_CREAT | O_EXCL, cfg->file_mode);
        created = fd >= 0;
        if (fd < 0 && errno == EEXIST)
            fd = openat(dir_fd, leaf, flags);
    }
    if (fd < 0)
        return -errno;
    int r = fstat(fd, st) < 0 ? -errno : 0;
    if (r == 0 && (!S_ISREG(st->st_mode) || st->st_nlink > 1))
        r = -EPERM; /* a hard link could point anywhere on this file system */
    if (r == 0 && created)
        r = set_owner_mode(fd, cfg->file_mode, cfg);
    if (r == 0 && created)
        r = store_dir_sync(dir_fd, cfg);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}
