/*
 * regroup: the collator between audit:// and audit.log, with the spool
 * that keeps acked records of open events durable (regroup.h). Besides the
 * collator it keeps one table: open event key -> (oldest spool file
 * holding its records, host name), so that a spool file can be dropped as
 * soon as no open event started in it or before, and a closed event is
 * written under the host name it arrived with (the node= of its lines is
 * the sanitized form, which is not a name store_append takes back).
 */
#include "collector/regroup.h"

#include "audit/collate.h"
#include "wire/audit_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct host {
    size_t len;
    char name[]; /* not NUL-terminated */
};

struct entry {
    uint64_t key; /* spool_key_hash | 1; 0: empty */
    uint64_t gen; /* oldest spool file with a record of the event */
    const struct host *host;
};

struct gen_count {
    uint64_t gen;
    uint64_t open; /* open events whose oldest record is in this file */
};

struct regroup {
    struct regroup_config cfg;
    regroup_write_fn *fn;
    void *arg;
    struct audit_collate *col;
    struct spool *spool;
    struct entry *tab;
    size_t tab_mask, tab_used;
    const struct host **hosts; /* interned names */
    size_t hosts_mask, hosts_used;
    struct gen_count gens[SPOOL_GENS_MAX];
    size_t ngens;
    uint64_t pinned;  /* files from this generation on are kept (a failed write); 0: none */
    bool replaying;   /* records come from the spool: not spooled again */
    uint64_t add_gen; /* generation of the record being added */
    /* the record being added */
    uint64_t cur_key;
    const char *cur_line;
    size_t cur_len;
    const struct host *cur_host;
    bool cur_closed;
    uint64_t last_expire_ms;
    struct regroup_stats stats;
    /* replay: the end of the last host's audit.log */
    char tail_node[512];
    size_t tail_node_len;
    char *tail;
    size_t tail_len;
};

static uint64_t name_hash(const char *p, size_t n)
{
    return spool_key_hash(p, n) | 1;
}

static const struct host *intern(struct regroup *rg, const char *name, size_t len)
{
    uint64_t h = name_hash(name, len);
    size_t i = (size_t)h & rg->hosts_mask;
    for (const struct host *e; (e = rg->hosts[i]); i = (i + 1) & rg->hosts_mask)
        if (e->len == len && !memcmp(e->name, name, len))
            return e;
    if ((rg->hosts_used + 1) * 2 > rg->hosts_mask + 1) {
        size_t size = (rg->hosts_mask + 1) * 2;
        if (rg->hosts_used >= REGROUP_HOSTS_MAX)
            return NULL;
        const struct host **t = calloc(size, sizeof(*t));
        if (!t)
            return NULL;
        for (size_t j = 0; j <= rg->hosts_mask; j++) {
            const struct host *e = rg->hosts[j];
            if (!e)
                continue;
            size_t k = (size_t)name_hash(e->name, e->len) & (size - 1);
            while (t[k])
                k = (k + 1) & (size - 1);
            t[k] = e;
        }
        free(rg->hosts);
        rg->hosts = t;
        rg->hosts_mask = size - 1;
        return intern(rg, name, len);
    }
    struct host *e = malloc(sizeof(*e) + len);
    if (!e)
        return NULL;
    e->len = len;
    memcpy(e->name, name, len);
    rg->hosts[i] = e;
    rg->hosts_used++;
    return e;
}

static size_t tab_slot(const struct regroup *rg, uint64_t key)
{
    size_t i = (size_t)key & rg->tab_mask;
    while (rg->tab[i].key && rg->tab[i].key != key)
        i = (i + 1) & rg->tab_mask;
    return i;
}

static int tab_grow(struct regroup *rg)
{
    size_t size = (rg->tab_mask + 1) * 2;
    struct entry *t = calloc(size, sizeof(*t));
    if (!t)
        return -ENOMEM;
    struct entry *old = rg->tab;
    size_t old_size = rg->tab_mask + 1;
    rg->tab = t;
    rg->tab_mask = size - 1;
    for (size_t j = 0; j < old_size; j++)
        if (old[j].key)
            rg->tab[tab_slot(rg, old[j].key)] = old[j];
    free(old);
    return 0;
}

/* Backward-shift deletion, so lookups never meet tombstones. */
static void tab_remove(struct regroup *rg, size_t hole)
{
    for (size_t j = (hole + 1) & rg->tab_mask; rg->tab[j].key; j = (j + 1) & rg->tab_mask) {
        size_t home = (size_t)rg->tab[j].key & rg->tab_mask;
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            rg->tab[hole] = rg->tab[j];
            hole = j;
        }
    }
    rg->tab[hole].key = 0;
    rg->tab_used--;
}

static struct gen_count *gen_find(struct regroup *rg, uint64_t gen)
{
    for (size_t i = 0; i < rg->ngens; i++)
        if (rg->gens[i].gen == gen)
            return &rg->gens[i];
    return NULL;
}

static uint64_t event_key(const struct audit_event *ev, char *key, size_t *kl)
{
    *kl = spool_key(key, ev->node ? ev->node : "", ev->node ? ev->node_len : 0, ev->sec, ev->msec,
                    ev->serial);
    return spool_key_hash(key, *kl) | 1;
}

static int on_event(const struct audit_event *ev, void *arg)
{
    struct regroup *rg = arg;
    char key[SPOOL_KEY_MAX];
    size_t kl;
    uint64_t k = event_key(ev, key, &kl);
    size_t s = tab_slot(rg, k);
    struct entry *e = rg->tab[s].key ? &rg->tab[s] : NULL;
    const struct audit_record_ref *last = &ev->records[ev->nrecords - 1];
    bool holds_current = k == rg->cur_key && rg->cur_line && last->len == rg->cur_len &&
                         !memcmp(audit_event_line(ev, ev->nrecords - 1), rg->cur_line, rg->cur_len);
    const struct host *host = e ? e->host : rg->cur_host;
    bool ok = true;
    rg->stats.events++;
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        int r = host ? rg->fn(rg->arg, host->name, host->len, audit_event_line(ev, i),
                              ev->records[i].len)
                     : -EINVAL;
        if (r < 0) {
            rg->stats.write_errors++;
            ok = false;
        }
    }
    if (holds_current)
        rg->cur_closed = true;
    if (!e)
        return 0; /* closed by its first record: it was never spooled */
    if (ok) {
        if (spool_put_done(rg->spool, key, kl) < 0)
            ok = false; /* replayed again at the next start: one more copy, said in docs */
    }
    if (!ok && (!rg->pinned || e->gen < rg->pinned))
        rg->pinned = e->gen; /* keep its records for the next start */
    struct gen_count *g = gen_find(rg, e->gen);
    if (g && g->open)
        g->open--;
    tab_remove(rg, s);
    return 0;
}

int regroup_open(const struct regroup_config *cfg, regroup_write_fn *fn, void *arg,
                 struct regroup **out)
{
    *out = NULL;
    struct regroup *rg = calloc(1, sizeof(*rg));
    if (!rg)
        return -ENOMEM;
    rg->cfg = *cfg;
    if (!rg->cfg.idle_ms)
        rg->cfg.idle_ms = REGROUP_IDLE_MS_DEFAULT;
    if (!rg->cfg.rotate_bytes)
        rg->cfg.rotate_bytes = REGROUP_ROTATE_BYTES;
    rg->fn = fn;
    rg->arg = arg;
    rg->tab_mask = 1023;
    rg->hosts_mask = 63;
    rg->tab = calloc(rg->tab_mask + 1, sizeof(*rg->tab));
    rg->hosts = calloc(rg->hosts_mask + 1, sizeof(*rg->hosts));
    /* Record time is no clock here: hosts' clocks differ, and one far ahead
     * would close every other host's events by the time backstop. Idle
     * time (regroup_tick) bounds how long an event stays open instead. */
    struct audit_collate_config cc = {AUDIT_COLLATE_EVENT_WINDOW, AUDIT_COLLATE_SETTLE_WINDOW,
                                      UINT32_MAX, AUDIT_COLLATE_MAX_OPEN};
    rg->col = audit_collate_new(&cc, on_event, rg);
    int r = -ENOMEM;
    if (!rg->tab || !rg->hosts || !rg->col ||
        (r = spool_open(cfg->spool_dir, cfg->sync, &rg->spool)) < 0) {
        regroup_free(rg);
        return r;
    }
    size_t n;
    const uint64_t *gens = spool_gens(rg->spool, &n);
    for (size_t i = 0; i < n; i++)
        rg->gens[rg->ngens++] = (struct gen_count){gens[i], 0};
    *out = rg;
    return 0;
}

void regroup_free(struct regroup *rg)
{
    if (!rg)
        return;
    audit_collate_free(rg->col);
    spool_free(rg->spool);
    for (size_t i = 0; rg->hosts && i <= rg->hosts_mask; i++)
        free((void *)rg->hosts[i]);
    free(rg->hosts);
    free(rg->tab);
    free(rg);
}

static int add(struct regroup *rg, uint64_t gen, const char *host, size_t host_len,
               const char *line, size_t len)
{
    struct audit_header h;
    size_t err;
    if (audit_header_parse(line, len, &h, &err) < 0)
        return -EINVAL;
    const struct host *ho = intern(rg, host, host_len);
    if (!ho)
        return -ENOMEM;
    char key[SPOOL_KEY_MAX];
    size_t kl = spool_key(key, line + h.node_off, h.node_len, h.sec, h.msec, h.serial);
    rg->cur_key = spool_key_hash(key, kl) | 1;
    rg->cur_line = line;
    rg->cur_len = len;
    rg->cur_host = ho;
    rg->cur_closed = false;
    rg->stats.records++;
    int r = audit_collate_add(rg->col, line, len, &h);
    rg->cur_line = NULL;
    if (r < 0)
        return r;
    if (rg->cur_closed)
        return 0; /* written already: the fast path of one-record events */
    if (!rg->replaying) {
        if ((r = spool_put_record(rg->spool, host, host_len, line, len)) < 0)
            return r;
        rg->stats.spooled++;
    }
    size_t s = tab_slot(rg, rg->cur_key);
    if (rg->tab[s].key)
        return 0;
    rg->tab[s] = (struct entry){rg->cur_key, gen, ho};
    struct gen_count *g = gen_find(rg, gen);
    if (g)
        g->open++;
    if (++rg->tab_used * 2 > rg->tab_mask + 1)
        return tab_grow(rg);
    return 0;
}

int regroup_add(struct regroup *rg, const char *host, size_t host_len, const char *line, size_t len)
{
    return add(rg, spool_current(rg->spool), host, host_len, line, len);
}

/* Loads the last REGROUP_TAIL_BYTES of <root>/<node>/audit.log. */
static void load_tail(struct regroup *rg, const char *node, size_t node_len)
{
    if (rg->tail_node_len == node_len && !memcmp(rg->tail_node, node, node_len))
        return;
    free(rg->tail);
    rg->tail = NULL;
    rg->tail_len = 0;
    rg->tail_node_len = 0;
    if (node_len >= sizeof(rg->tail_node) || memchr(node, '/', node_len) || node[0] == '.')
        return;
    memcpy(rg->tail_node, node, node_len);
    rg->tail_node_len = node_len;
    char path[4700];
    snprintf(path, sizeof(path), "%s/%.*s/audit.log", rg->cfg.store_root, (int)node_len, node);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        size_t n = st.st_size > REGROUP_TAIL_BYTES ? REGROUP_TAIL_BYTES : (size_t)st.st_size;
        rg->tail = malloc(n + 1);
        ssize_t got = rg->tail ? pread(fd, rg->tail + 1, n, st.st_size - (off_t)n) : -1;
        if (got > 0) {
            /* a LF in front: the file's first line matches; a cut one does not */
            rg->tail[0] = (size_t)st.st_size > n ? 0 : '\n';
            rg->tail_len = (size_t)got + 1;
        }
    }
    close(fd);
}

/* True if LF LINE LF is in the tail of the record's host's audit.log. */
static bool already_stored(struct regroup *rg, const char *line, size_t len)
{
    struct audit_header h;
    size_t err;
    if (!rg->cfg.store_root || audit_header_parse(line, len, &h, &err) < 0 || !h.node_len)
        return false;
    load_tail(rg, line + h.node_off, h.node_len);
    const char *p = rg->tail, *end = rg->tail + rg->tail_len;
    while (p && (size_t)(end - p) >= len + 2) {
        const char *m = memmem(p, (size_t)(end - p), line, len);
        if (!m)
            return false;
        if (m > rg->tail && m[-1] == '\n' && m + len < end && m[len] == '\n')
            return true;
        p = m + 1;
    }
    return false;
}

static int replay_one(void *arg, uint64_t gen, const char *host, size_t host_len, const char *line,
                      size_t len)
{
    struct regroup *rg = arg;
    if (already_stored(rg, line, len)) {
        rg->stats.replay_stored++; /* its event was written, its done mark was not */
        return 0;
    }
    int r = add(rg, gen, host, host_len, line, len);
    return r == -EINVAL ? 0 : r;
}

int regroup_replay(struct regroup *rg)
{
    rg->replaying = true;
    int r = spool_replay(rg->spool, replay_one, rg, &rg->stats.replay);
    rg->replaying = false;
    free(rg->tail);
    rg->tail = NULL;
    rg->tail_len = rg->tail_node_len = 0;
    rg->stats.replay_events = rg->tab_used;
    return r;
}

int regroup_commit(struct regroup *rg)
{
    int r = spool_sync(rg->spool);
    if (r < 0)
        return r;
    /* The store was flushed: every closed event is durable in audit.log. */
    while (rg->ngens > 1 && rg->gens[0].open == 0 &&
           (!rg->pinned || rg->gens[0].gen < rg->pinned)) {
        if ((r = spool_drop(rg->spool, rg->gens[0].gen)) < 0)
            return r;
        memmove(&rg->gens[0], &rg->gens[1], (rg->ngens - 1) * sizeof(rg->gens[0]));
        rg->ngens--;
        rg->stats.spool_files_dropped++;
    }
    if (rg->ngens == 1 && rg->tab_used == 0 && !rg->pinned &&
        spool_size(rg->spool) > strlen(SPOOL_MAGIC) + 1) {
        if ((r = spool_truncate(rg->spool)) < 0)
            return r;
        rg->stats.spool_cuts++;
    } else if (spool_size(rg->spool) > rg->cfg.rotate_bytes && rg->ngens < SPOOL_GENS_MAX) {
        if ((r = spool_rotate(rg->spool)) < 0)
            return r;
        rg->gens[rg->ngens++] = (struct gen_count){spool_current(rg->spool), 0};
    }
    return 0;
}

int regroup_write_out(struct regroup *rg)
{
    return spool_write(rg->spool);
}

int regroup_tick(struct regroup *rg, uint64_t now_ms)
{
    if (now_ms - rg->last_expire_ms >= rg->cfg.idle_ms) {
        rg->last_expire_ms = now_ms;
        int r = audit_collate_expire(rg->col);
        if (r < 0)
            return r;
    }
    bool waiting = rg->ngens > 1
                       ? rg->gens[0].open == 0
                       : rg->tab_used == 0 && spool_size(rg->spool) > strlen(SPOOL_MAGIC) + 1;
    return waiting && !rg->pinned;
}

int regroup_finish(struct regroup *rg)
{
    return audit_collate_flush(rg->col);
}

size_t regroup_open_events(const struct regroup *rg)
{
    return rg->tab_used;
}

uint64_t regroup_spool_bytes(const struct regroup *rg)
{
    return spool_size(rg->spool);
}

const struct regroup_stats *regroup_stats(const struct regroup *rg)
{
    return &rg->stats;
}
