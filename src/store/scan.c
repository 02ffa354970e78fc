/*
 * scan: builds the index (index.c) by one walk of the store at open and
 * reopen, and finishes what a crash interrupted: a compression temp file
 * (x.log.K.zst.tmp) is deleted, and a plain x.log.K beside its x.log.K.zst
 * is deleted (a .zst only ever gets its name once it is complete and
 * fsynced). Hidden names (the version and status files) and names the
 * store never makes are left alone and not counted. Symlinks are never
 * followed; the walk goes no deeper than a template can (STORE_DEPTH_MAX).
 * It is the one walk of the disk: everything after it works on the index.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct walk {
    struct store *s;
    char path[STORE_PATH_MAX]; /* of the directory being read, relative, with a '/' */
    size_t len;
    bool cleaned; /* deleted a crash leftover: sync before going on */
};

/* x.log.K and x.log.K.zst both there: keep the .zst (complete, see above). */
static void add_rotated(struct walk *w, int dir_fd, const char *name, struct store_family *f,
                        unsigned num, bool zst, const struct stat *st)
{
    struct store_index *x = &w->s->idx;
    for (unsigned i = 0; i < f->ngens; i++) {
        if (f->gens[i].num != num)
            continue;
        char plain[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
        w->cleaned = true;
        if (!zst) {
            unlinkat(dir_fd, name, 0);
            return;
        }
        size_t n = strlen(name) - 4; /* the same name without ".zst" */
        memcpy(plain, name, n);
        plain[n] = '\0';
        unlinkat(dir_fd, plain, 0);
        store_index_drop_gen(x, f, i, true);
        break;
    }
    store_index_add_gen(x, f, num, zst, (uint64_t)st->st_size, st->st_mtim.tv_sec);
}

static void add_file(struct walk *w, int dir_fd, const char *name, const struct stat *st)
{
    unsigned num;
    bool zst, tmp;
    int n = store_name_classify(name, &num, &zst, &tmp);
    if (n <= 0 || w->len + (size_t)n >= sizeof(w->path))
        return;
    if (tmp) {
        unlinkat(dir_fd, name, 0); /* a compression the crash cut short */
        w->cleaned = true;
        return;
    }
    memcpy(w->path + w->len, name, (size_t)n);
    struct store_family *f = store_index_family(&w->s->idx, w->path, w->len + (size_t)n);
    if (!f) {
        w->s->stats.maintain_errors++;
        return;
    }
    if (num == 0)
        store_index_set_active(&w->s->idx, f, (uint64_t)st->st_size);
    else
        add_rotated(w, dir_fd, name, f, num, zst, st);
}

static int walk_dir(struct walk *w, int dir_fd, unsigned depth);

static void walk_entry(struct walk *w, int dir_fd, const char *name, unsigned depth)
{
    struct stat st;
    if (name[0] == '.' || fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
        add_file(w, dir_fd, name, &st);
        return;
    }
    size_t n = strlen(name);
    if (!S_ISDIR(st.st_mode) || depth >= STORE_DEPTH_MAX || w->len + n + 2 > sizeof(w->path))
        return;
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        w->s->stats.maintain_errors++;
        return;
    }
    size_t saved = w->len;
    memcpy(w->path + w->len, name, n);
    w->path[w->len + n] = '/';
    w->len += n + 1;
    walk_dir(w, fd, depth + 1); /* closes fd */
    w->len = saved;
}

static int walk_dir(struct walk *w, int dir_fd, unsigned depth)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        w->s->stats.maintain_errors++;
        return -errno;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        walk_entry(w, dirfd(d), de->d_name, depth);
    closedir(d);
    return 0;
}

int store_index_build(struct store *s)
{
    struct walk w = {.s = s};
    int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = walk_dir(&w, fd, 0);
    if (r == 0 && w.cleaned && s->cfg.fsync != STORE_FSYNC_NONE)
        syncfs(s->root_fd); /* the crash leftovers' deletions */
    return r;
}
