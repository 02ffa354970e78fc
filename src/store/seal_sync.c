/*
 * seal_sync: the disk work of a sealing round (issue 4), and the store's
 * one sync thread that runs it off the collector's event loop. The loop
 * thread builds a round in seal_store.c (per file its chain at the last
 * seal and the size to seal up to; the other families' manifest lines;
 * the key k_E and the next key's text) and hands it over; this file syncs
 * the data, hashes each file's new lines (read back, from the page cache:
 * the loop does not hash as it writes), formats and tags the records,
 * and writes in the order that keeps a crash safe: the files' data, then
 * the sidecars, then the manifest, then the key file. A failed step stops the steps after it, and
 * says which in the job for the loop to report (this thread never logs: the log callback belongs to
 * the loop). One job at a time, a mutex and a condition variable: no queue, no lock-free hand-off.
 * Also the sidecar helpers seal_store.c shares with it (names, one appended record). Thread and
 * ownership: docs/CONCURRENCY.md; order: docs/formats.md, "Rounds and crash order".
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init...: see seal.c */
#include "store/seal.h"
#include "store/store_int.h"

#include <openssl/sha.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNC_EACH_MAX 8          /* sidecars fdatasynced one by one in a round; more: one syncfs */
#define IO_CHUNK      (1u << 16) /* bytes read back per pread */

int seal_sidecar_name(char *out, size_t cap, const char *leaf, unsigned num)
{
    int n =
        num ? snprintf(out, cap, ".%s.%u.seal", leaf, num) : snprintf(out, cap, ".%s.seal", leaf);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int seal_sidecar_append(const struct store_config *cfg, int dir_fd, const char *leaf,
                        const char *name, const char *line, size_t n, bool sync)
{
    int fd = openat(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                    cfg->file_mode);
    if (fd < 0)
        return -errno;
    struct stat st, fst;
    if (fstat(fd, &st) == 0 && st.st_size == 0 &&
        fstatat(dir_fd, leaf, &fst, AT_SYMLINK_NOFOLLOW) == 0)
        (void)!fchown(fd, fst.st_uid, fst.st_gid);
    int r = write(fd, line, n) == (ssize_t)n ? 0 : -EIO;
    if (r == 0 && sync && fdatasync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* ---- one round's disk work ---- */

/* Feeds the chain (at the last seal: head, lines, bytes) with the file's
 * whole lines from its byte count to the last line end below `to`; the
 * start of a line not ended there is left for the next seal, so that a
 * seal always falls at a line's end. */
static int segment_hash(int fd, struct seal_chain *c, uint64_t to, char *buf)
{
    uint64_t end = to, last = c->bytes;
    while (end > c->bytes) { /* the last '\n', from the end back */
        size_t n = end - c->bytes > IO_CHUNK ? IO_CHUNK : (size_t)(end - c->bytes);
        ssize_t k = pread(fd, buf, n, (off_t)(end - n));
        if (k != (ssize_t)n)
            return k < 0 ? -errno : -EIO; /* shorter than written: cut under us */
        const char *nl = memrchr(buf, '\n', n);
        if (nl) {
            last = end - n + (uint64_t)(nl - buf) + 1;
            break;
        }
        end -= n;
    }
    for (uint64_t off = c->bytes; off < last;) {
        size_t n = last - off > IO_CHUNK ? IO_CHUNK : (size_t)(last - off);
        ssize_t k = pread(fd, buf, n, (off_t)off);
        if (k != (ssize_t)n)
            return k < 0 ? -errno : -EIO;
        seal_chain_feed(c, buf, n);
        off += n;
    }
    return 0;
}

/* One seal: the file's new lines hashed, the record tagged under k_E and
 * appended to the sidecar. */
static int item_seal(struct seal_job *j, struct seal_job_item *it, char *buf, bool sync)
{
    const char *path = j->text.data + it->path_off, *leaf;
    if (it->path_len > SEAL_PATH_MAX)
        return -ENAMETOOLONG;
    int dir = store_dir_open(j->root_fd, path, j->cfg, false, &leaf), r = 0;
    if (dir < 0)
        return dir;
    struct seal_chain c;
    seal_chain_start(&c, it->head, it->lines, it->bytes);
    if (it->to > it->bytes) {
        int fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? -errno : segment_hash(fd, &c, it->to, buf);
        if (fd >= 0)
            close(fd);
    }
    struct seal_record rec = {.kind = SEAL_REC_SEAL,
                              .seq = it->seq,
                              .epoch = j->key.epoch,
                              .time = j->time,
                              .idle = it->idle,
                              .lines = c.lines,
                              .bytes = c.bytes};
    memcpy(rec.file, path, it->path_len + 1);
    rec.file_len = it->path_len;
    seal_chain_peek(&c, rec.head);
    memcpy(rec.prev, it->prev, SEAL_HASH_BYTES);
    char line[SEAL_LINE_MAX], name[SEAL_SIDECAR_NAME_CAP];
    int n = r < 0 ? r : seal_record_format(&rec, &j->key, line, sizeof(line));
    r = n < 0 ? n : seal_sidecar_name(name, sizeof(name), leaf, 0);
    if (r == 0)
        r = seal_sidecar_append(j->cfg, dir, leaf, name, line, (size_t)n, sync);
    close(dir);
    it->new_lines = c.lines;
    it->new_bytes = c.bytes;
    memcpy(it->new_head, rec.head, SEAL_HASH_BYTES);
    memcpy(it->tag, rec.tag, SEAL_HASH_BYTES);
    return r;
}

/* ---- an item's state, against seal_sync_claim (no lock inline) ---- */

static void lock(struct seal_job *j);
static void unlock(struct seal_job *j, bool wake);

/* false: the loop took the item back first */
static bool item_take(struct seal_job *j, struct seal_job_item *it)
{
    lock(j);
    bool go = it->state != SEAL_ITEM_CANCELLED;
    if (go)
        it->state = SEAL_ITEM_TAKEN;
    unlock(j, false);
    return go;
}

static void item_done(struct seal_job *j, struct seal_job_item *it)
{
    lock(j);
    it->state = SEAL_ITEM_DONE;
    unlock(j, true);
}

/* The data first: every byte a seal of this job covers is durable before
 * any seal is written. */
static int data_sync(struct seal_job *j)
{
    if (j->data_syncfs) {
        if (syncfs(j->root_fd) < 0)
            return -errno;
        j->syncs++;
    }
    for (size_t i = 0; i < j->ndata; i++) {
        if (fdatasync(j->data_fds[i]) < 0)
            return -errno;
        j->syncs++;
    }
    return 0;
}

/* The manifest's temp file (synced unless its bytes ride on a syncfs
 * that follows). */
static int manifest_tmp(struct seal_job *j, bool sync)
{
    int fd =
        openat(j->root_fd, SEAL_MANIFEST_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
               j->cfg->file_mode & 0640);
    if (fd < 0)
        return -errno;
    int r = write(fd, j->manifest.data, j->manifest.len) == (ssize_t)j->manifest.len ? 0 : -EIO;
    if (r == 0 && sync && fdatasync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* The items' family lines after the loop's (the new tag; for a seal that
 * failed, the line the family had, if any), then the closing line: the
 * digest of every byte before it, tagged under k_E. */
static int manifest_finish(struct seal_job *j)
{
    char line[SEAL_LINE_MAX];
    uint64_t fams = j->nfams_other;
    int r = 0;
    for (size_t i = 0; r == 0 && i < j->nitems; i++) {
        const struct seal_job_item *it = &j->items[i];
        if (it->r < 0 && !it->had_fam)
            continue;
        int n = seal_fam_format(j->text.data + it->path_off, it->path_len,
                                it->r < 0 ? it->fam_seq : it->seq,
                                it->r < 0 ? it->fam_tag : it->tag, line, sizeof(line));
        r = n < 0 ? n : buf_append(&j->manifest, line, (size_t)n);
        fams++;
    }
    struct seal_manifest m = {.epoch = j->key.epoch, .time = j->time, .families = fams};
    SHA256_CTX c;
    SHA256_Init(&c);
    if (j->manifest.len)
        SHA256_Update(&c, j->manifest.data, j->manifest.len);
    SHA256_Final(m.digest, &c);
    int n = seal_manifest_format(&m, &j->key, line, sizeof(line));
    if (r == 0)
        r = n < 0 ? n : buf_append(&j->manifest, line, (size_t)n);
    return r;
}

static int manifest_commit(struct seal_job *j)
{
    if (renameat(j->root_fd, SEAL_MANIFEST_TMP, j->root_fd, SEAL_MANIFEST) < 0 ||
        fsync(j->root_fd) < 0)
        return -errno;
    j->syncs++;
    return 0;
}

void seal_job_run(struct seal_job *j)
{
    j->data_r = data_sync(j);
    bool bulk = j->nitems > SYNC_EACH_MAX;
    char *buf = j->nitems && j->data_r == 0 ? malloc(IO_CHUNK) : NULL;
    for (size_t i = 0; i < j->nitems; i++) {
        struct seal_job_item *it = &j->items[i];
        if (!item_take(j, it))
            continue;
        /* none written when the data may not be durable */
        it->r = j->data_r < 0 ? j->data_r : buf ? item_seal(j, it, buf, !bulk) : -ENOMEM;
        j->syncs += !bulk && it->r == 0;
        item_done(j, it);
    }
    free(buf);
    if (j->data_r < 0)
        return;
    /* a failed seal keeps its family's line as it was: a manifest naming a
     * seal its sidecar lacks would be a false alarm */
    bool commit = j->commit, ride = commit && bulk;
    if (commit && (j->manifest_r = manifest_finish(j)) < 0)
        commit = ride = false;
    if (ride && (j->manifest_r = manifest_tmp(j, false)) < 0)
        commit = ride = false;
    if (bulk) {
        if (syncfs(j->root_fd) < 0) {
            j->side_r = -errno;
            return; /* the key stays: the seals may not be durable */
        }
        j->syncs++;
    }
    if (!commit)
        return;
    if ((!ride && (j->manifest_r = manifest_tmp(j, true)) < 0) ||
        (j->manifest_r = manifest_commit(j)) < 0)
        return; /* nor while the manifest is older than the seals */
    j->key_tried = true;
    ssize_t w = pwrite(j->key_fd, j->key_text, j->key_len, 0);
    if (w != (ssize_t)j->key_len)
        j->key_r = w < 0 ? -errno : -EIO;
    else if (fdatasync(j->key_fd) < 0)
        j->key_r = -errno;
    else
        j->syncs++;
}

/* ---- the thread ---- */

struct seal_sync {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct seal_job *job; /* handed over, not yet finished */
    bool done;            /* job finished: the loop may collect it */
    bool stop;
};

static void lock(struct seal_job *j)
{
    if (j->sync)
        pthread_mutex_lock(&j->sync->mu);
}

static void unlock(struct seal_job *j, bool wake)
{
    if (!j->sync)
        return;
    if (wake)
        pthread_cond_broadcast(&j->sync->cv);
    pthread_mutex_unlock(&j->sync->mu);
}

bool seal_sync_claim(struct seal_sync *y, struct seal_job_item *it)
{
    pthread_mutex_lock(&y->mu);
    if (it->state == SEAL_ITEM_PENDING) {
        it->state = SEAL_ITEM_CANCELLED;
        it->r = -ECANCELED;
    }
    while (it->state == SEAL_ITEM_TAKEN)
        pthread_cond_wait(&y->cv, &y->mu);
    bool done = it->state == SEAL_ITEM_DONE;
    pthread_mutex_unlock(&y->mu);
    return done;
}

static void *sync_main(void *arg)
{
    struct seal_sync *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->stop && (!y->job || y->done))
            pthread_cond_wait(&y->cv, &y->mu);
        if (!y->job || y->done)
            break; /* stop, nothing left */
        struct seal_job *j = y->job;
        pthread_mutex_unlock(&y->mu);
        seal_job_run(j);
        pthread_mutex_lock(&y->mu);
        y->done = true;
        pthread_cond_broadcast(&y->cv);
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

int seal_sync_start(struct seal_sync **out)
{
    struct seal_sync *y = calloc(1, sizeof(*y));
    if (!y)
        return -ENOMEM;
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->cv, NULL);
    /* every signal blocked in the thread: SIGTERM and SIGHUP reach the loop */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = -pthread_create(&y->thread, NULL, sync_main, y);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0) {
        pthread_cond_destroy(&y->cv);
        pthread_mutex_destroy(&y->mu);
        free(y);
        return r;
    }
    *out = y;
    return 0;
}

void seal_sync_submit(struct seal_sync *y, struct seal_job *j)
{
    pthread_mutex_lock(&y->mu);
    y->job = j;
    y->done = false;
    pthread_cond_broadcast(&y->cv);
    pthread_mutex_unlock(&y->mu);
}

bool seal_sync_done(struct seal_sync *y, bool wait)
{
    pthread_mutex_lock(&y->mu);
    while (wait && y->job && !y->done)
        pthread_cond_wait(&y->cv, &y->mu);
    bool done = y->job && y->done;
    if (done)
        y->job = NULL;
    pthread_mutex_unlock(&y->mu);
    return done;
}

void seal_sync_stop(struct seal_sync *y)
{
    if (!y)
        return;
    pthread_mutex_lock(&y->mu);
    y->stop = true;
    pthread_cond_broadcast(&y->cv);
    pthread_mutex_unlock(&y->mu);
    pthread_join(y->thread, NULL);
    pthread_cond_destroy(&y->cv);
    pthread_mutex_destroy(&y->mu);
    free(y);
}
