/*
 * input: PATH arguments -> ordered sources, and reading one source into the
 * audit reader (see input.h). The order of rotated files is auditd's
 * (higher number = older = first, the live file last), for plain and .zst
 * alike; store hosts in name order. Directory entries starting with '.'
 * (sidecars, indexes, the store mark) and *.tmp files are never sources.
 */
#include "search/input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_IN_CHUNK (1u << 17)
#define RANGE_CHUNK   (1u << 20)

void search_sources_init(struct search_sources *s)
{
    memset(s, 0, sizeof(*s));
}

void search_sources_free(struct search_sources *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].path);
        free(s->v[i].host);
    }
    free(s->v);
    search_sources_init(s);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bool search_source_is_zstd(const char *path)
{
    return ends_with(path, ".zst");
}

static int push(struct search_sources *s, const char *path, const char *host, unsigned group)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct search_source *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v, s->cap = cap;
    }
    char *p = strdup(path), *h = host ? strdup(host) : NULL;
    if (!p || (host && !h)) {
        free(p);
        free(h);
        return -ENOMEM;
    }
    s->v[s->n++] = (struct search_source){p, h, group};
    return 0;
}

/* "audit.log.3[.zst]" -> base length and 3; "audit.log" -> -1 (newest). */
static long rotation_number(const char *name, size_t *base_len)
{
    size_t len = strlen(name);
    if (ends_with(name, ".zst"))
        len -= 4;
    size_t d = len;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    *base_len = len;
    if (d == len || d == 0 || name[d - 1] != '.')
        return -1;
    *base_len = d - 1;
    return strtol(name + d, NULL, 10);
}

static int compare_rotated(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t xl, yl;
    long xn = rotation_number(x, &xl), yn = rotation_number(y, &yl);
    int c = strncmp(x, y, xl < yl ? xl : yl);
    if (c || xl != yl)
        return c ? c : (xl < yl ? -1 : 1);
    if (xn != yn)
        return xn < 0 ? 1 : yn < 0 ? -1 : (xn > yn ? -1 : 1); /* higher = older = first */
    return strcmp(x, y);
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum list_kind { LIST_FILES, LIST_AUDIT_FILES, LIST_SYSLOG_FILES, LIST_DIRS };

static bool wanted(const char *dir, const char *name, enum list_kind kind)
{
    char path[SEARCH_PATH_MAX];
    struct stat st;
    if (name[0] == '.' ||
        (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
        stat(path, &st) < 0)
        return false;
    if (kind == LIST_DIRS)
        return S_ISDIR(st.st_mode);
    if (!S_ISREG(st.st_mode) || ends_with(name, ".tmp"))
        return false;
    if (kind == LIST_FILES)
        return true;
    size_t base;
    rotation_number(name, &base);
    if (kind == LIST_SYSLOG_FILES)
        return base > 4 && !strncmp(name + base - 4, ".log", 4) &&
               !(base == 9 && !strncmp(name, "audit.log", 9));
    return base == 9 && !strncmp(name, "audit.log", 9);
}

/* The bare names of dir's entries of one kind, sorted; *out is malloc'ed. */
static int list_names(const char *dir, enum list_kind kind, char ***out, size_t *count)
{
    DIR *d = opendir(dir);
    *out = NULL, *count = 0;
    if (!d)
        return -errno;
    size_t cap = 0;
    int r = 0;
    for (struct dirent *e; r == 0 && (e = readdir(d));) {
        if (!wanted(dir, e->d_name, kind))
            continue;
        if (*count == cap) {
            char **v = realloc(*out, (cap = cap ? cap * 2 : 32) * sizeof(*v));
            if (!v) {
                r = -ENOMEM;
                break;
            }
            *out = v;
        }
        if (!((*out)[*count] = strdup(e->d_name)))
            r = -ENOMEM;
        else
            (*count)++;
    }
    closedir(d);
    if (*count)
        qsort(*out, *count, sizeof(**out), kind == LIST_DIRS ? compare_str : compare_rotated);
    return r;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int add_files_of(struct search_sources *s, const char *dir, enum list_kind kind,
                        const char *host, unsigned group)
{
    char **names, path[SEARCH_PATH_MAX];
    size_t n;
    int r = list_names(dir, kind, &names, &n);
    for (size_t i = 0; r == 0 && i < n; i++)
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path))
            r = push(s, path, host, group);
    free_names(names, n);
    return r;
}

static bool host_selected(const struct search_query *q, const char *host)
{
    for (unsigned i = 0; i < q->nnodes; i++)
        if (!strcmp(q->nodes[i], host))
            return true;
    return q->nnodes == 0;
}

static int add_store(struct search_sources *s, const char *root, const struct search_query *q,
                     enum list_kind kind)
{
    char **hosts, dir[SEARCH_PATH_MAX];
    size_t n;
    int r = list_names(root, LIST_DIRS, &hosts, &n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (!host_selected(q, hosts[i]) ||
            (size_t)snprintf(dir, sizeof(dir), "%s/%s", root, hosts[i]) >= sizeof(dir))
            continue;
        unsigned group = ++s->next_group;
        r = add_files_of(s, dir, kind, hosts[i], group);
        if (r == -ENOENT || r == -EACCES)
            r = 0; /* a host directory that went away or is not ours to read */
    }
    free_names(hosts, n);
    s->next_group++;
    return r;
}

int search_sources_add(struct search_sources *s, const char *path, const struct search_query *q)
{
    struct stat st;
    char mark[SEARCH_PATH_MAX];
    if (!strcmp(path, "-"))
        return push(s, path, NULL, s->next_group);
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return push(s, path, NULL, s->next_group);
    snprintf(mark, sizeof(mark), "%s/" SEARCH_STORE_MARK, path);
    if (stat(mark, &st) == 0)
        return add_store(s, path, q, LIST_AUDIT_FILES);
    return add_files_of(s, path, LIST_FILES, NULL, s->next_group);
}

int search_sources_add_syslog(struct search_sources *s, const char *path,
                              const struct search_query *q, const char *const *programs,
                              unsigned nprograms)
{
    struct stat st;
    char mark[SEARCH_PATH_MAX];
    (void)programs, (void)nprograms; /* a store's files are picked by program when read */
    if (!strcmp(path, "-"))
        return push(s, path, NULL, s->next_group);
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return push(s, path, NULL, s->next_group);
    snprintf(mark, sizeof(mark), "%s/" SEARCH_STORE_MARK, path);
    if (stat(mark, &st) == 0)
        return add_store(s, path, q, LIST_SYSLOG_FILES);
    return add_files_of(s, path, LIST_FILES, NULL, s->next_group);
}

/* Streams a zstd-compressed file into the reader. */
static int read_zstd(struct audit_reader *reader, int fd)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    size_t outcap = ZSTD_DStreamOutSize();
    char *in = malloc(ZSTD_IN_CHUNK), *out = malloc(outcap);
    int r = z && in && out ? 0 : -ENOMEM;
    size_t last = 0;
    if (r == 0)
        ZSTD_initDStream(z);
    while (r == 0) {
        ssize_t n = read(fd, in, ZSTD_IN_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : (last != 0 ? -EBADMSG : 0);
            break;
        }
        ZSTD_inBuffer ib = {in, (size_t)n, 0};
        while (r == 0 && ib.pos < ib.size) {
            ZSTD_outBuffer ob = {out, outcap, 0};
            last = ZSTD_decompressStream(z, &ob, &ib);
            if (ZSTD_isError(last))
                r = -EBADMSG;
            else
                r = audit_reader_feed(reader, out, ob.pos);
        }
    }
    ZSTD_freeDStream(z);
    free(in);
    free(out);
    return r;
}

int search_source_read_range(int fd, uint64_t from, uint64_t to, struct audit_reader *reader)
{
    char *chunk = malloc(RANGE_CHUNK);
    if (!chunk)
        return -ENOMEM;
    int r = 0;
    uint64_t at = from;
    while (r == 0 && (to == 0 || at < to)) {
        size_t want = RANGE_CHUNK;
        if (to && to - at < want)
            want = (size_t)(to - at);
        ssize_t n = pread(fd, chunk, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        at += (uint64_t)n;
        r = audit_reader_feed(reader, chunk, (size_t)n);
    }
    free(chunk);
    return r;
}

int search_source_read(const struct search_source *src, struct audit_reader *reader)
{
    if (!strcmp(src->path, "-")) {
        int r = audit_reader_begin(reader, "<stdin>");
        r = r < 0 ? r : audit_reader_read_fd(reader, STDIN_FILENO);
        return r < 0 ? r : audit_reader_finish(reader);
    }
    int fd = open(src->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = audit_reader_begin(reader, src->path);
    if (r == 0)
        r = search_source_is_zstd(src->path) ? read_zstd(reader, fd)
                                             : audit_reader_read_fd(reader, fd);
    if (r == 0)
        r = audit_reader_finish(reader);
    close(fd);
    return r;
}

int search_stream_open(struct search_stream *s, int fd, bool zst)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->zst = zst;
    if (!zst)
        return 0;
    s->z = ZSTD_createDStream();
    s->in = malloc(SEARCH_STREAM_CHUNK);
    if (!s->z || !s->in)
        return -ENOMEM;
    ZSTD_initDStream(s->z);
    return 0;
}

void search_stream_close(struct search_stream *s)
{
    ZSTD_freeDStream(s->z);
    free(s->in);
}

ssize_t search_stream_read(struct search_stream *s, uint8_t *buf, size_t cap)
{
    if (!s->zst) {
        for (;;) {
            ssize_t n = read(s->fd, buf, cap);
            if (n >= 0 || errno != EINTR)
                return n < 0 ? -errno : n;
        }
    }
    for (;;) {
        if (s->ib.pos == s->ib.size && !s->eof) {
            ssize_t n = read(s->fd, s->in, SEARCH_STREAM_CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return -errno;
            if (n == 0)
                s->eof = true;
            s->ib = (ZSTD_inBuffer){s->in, (size_t)n, 0};
        }
        if (s->eof && s->ib.pos == s->ib.size)
            return s->last != 0 ? -EBADMSG : 0;
        ZSTD_outBuffer ob = {buf, cap, 0};
        s->last = ZSTD_decompressStream(s->z, &ob, &s->ib);
        if (ZSTD_isError(s->last))
            return -EBADMSG;
        if (ob.pos)
            return (ssize_t)ob.pos;
    }
}
