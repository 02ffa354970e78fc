/*
 * retention: deletes rotated files by age (max_age_seconds, by mtime) and
 * by total size (max_total_bytes: the oldest rotated file store-wide goes
 * first while active and rotated files together pass the bound), a bounded
 * number per store_maintain call, working on the index (index.c), never on
 * a walk. An active file is never deleted. store_retire() is the one place
 * where stored data leaves the disk (retention here, num_logs in rotate.c).
 * It does not rotate or compress.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *const why_names[] = {"num_logs", "max_age", "max_total"};

int store_retire(struct store_seal *seal, int dir_fd, const char *name, enum store_retire_why why)
{
    /* Sealing: the expiry record (which file, why, its last seal) is
     * written and synced first; the sidecar goes with the last form. */
    int r = seal ? store_seal_expire(seal, dir_fd, name, (int)why) : 0;
    if (r < 0)
        return r;
    if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    if (seal)
        store_seal_forget(dir_fd, name);
    return 0;
}

/* Deletes the oldest rotated file of f. A file that cannot be deleted
 * leaves the index (so it is not retried every call) but still counts in
 * the total: its bytes are still on the disk. */
static int expire_oldest(struct store *s, struct store_family *f, enum store_retire_why why)
{
    unsigned i = f->ngens - 1;
    const struct store_gen *g = &f->gens[i];
    const char *leaf;
    char name[STORE_COMPONENT_MAX + STORE_ROTATED_SUFFIX];
    int dir = store_dir_open(s->root_fd, f->path, &s->cfg, false, &leaf), r = dir;
    if (dir >= 0) {
        r = store_rotated_name(name, sizeof(name), leaf, g->num, g->zst);
        if (r == 0)
            r = store_retire(s->seal, dir, name, why);
        close(dir);
    }
    if (r < 0 && r != -ENOENT) {
        s->stats.maintain_errors++;
        store_say(s, "store: cannot delete %s.%u%s (%s): %s; left in place", f->path, g->num,
                  g->zst ? ".zst" : "", why_names[why], strerror(-r));
        store_index_drop_gen(&s->idx, f, i, false);
        return r;
    }
    *(why == STORE_RETIRE_AGE ? &s->stats.expired_age : &s->stats.expired_size) += 1;
    s->stats.expired_bytes += g->size;
    store_index_drop_gen(&s->idx, f, i, true);
    return 0;
}

int store_retention_run(struct store *s, time_t now)
{
    const struct store_config *c = &s->cfg;
    int first = 0, budget = STORE_MAINTAIN_DELETES;
    struct store_family *f;
    while (budget > 0 && (f = store_index_oldest(&s->idx)) != NULL) {
        int64_t mtime = f->gens[f->ngens - 1].mtime;
        enum store_retire_why why;
        if (c->max_age_seconds && mtime < (int64_t)now - (int64_t)c->max_age_seconds)
            why = STORE_RETIRE_AGE;
        else if (c->max_total_bytes && s->idx.total_bytes > c->max_total_bytes)
            why = STORE_RETIRE_SIZE;
        else
            break;
        int r = expire_oldest(s, f, why);
        first = first ? first : r;
        budget--;
    }
    return first ? first : budget == 0;
}
