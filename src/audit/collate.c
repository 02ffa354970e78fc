/*
 * collate: records -> events. Open events live in a pool indexed by an
 * open-addressing hash table on their key, and on one of two FIFO queues in
 * the order they opened: "open" (still gathering) and "settled" (PROCTITLE
 * seen). Only queue heads are examined, so each record costs O(1). The pool
 * recycles events and their buffers, so a steady stream allocates nothing.
 * It does not parse fields or interpret anything: see normalize.c.
 */
#include "audit/collate.h"

#include "audit/audit_tables.h"
#include "base/bytes.h"

#include <errno.h>
#include <libaudit.h>
#include <stdlib.h>
#include <string.h>

#define NONE            UINT32_MAX
#define RECENT_CLOSED   4096 /* direct-mapped memory of closed keys, to count splits */
#define TABLE_MIN       64   /* first size of the key table; it doubles up to table_max */
#define TYPE_CACHE_SIZE 16   /* record type names remembered (power of two) */
#define TYPE_CACHE_NAME 24   /* longest name remembered */

enum { Q_OPEN, Q_SETTLED, Q_COUNT };

struct slot {
    struct audit_event ev;
    uint32_t node_off; /* into ev.text */
    uint32_t record_cap;
    uint32_t prev, next; /* queue links; next doubles as the free-list link */
    uint64_t open_seq;   /* opened_seq when it opened */
    uint64_t settle_seq; /* opened_seq when its PROCTITLE came */
    uint64_t key_hash;
    uint32_t epoch; /* of the last record, for audit_collate_expire */
    uint8_t queue;
};

struct queue {
    uint32_t head, tail;
};

struct audit_collate {
    struct audit_collate_config cfg;
    audit_event_fn fn;
    void *arg;
    struct slot *pool;
    uint32_t pool_len, pool_cap, free_head;
    uint32_t *table; /* slot index + 1; 0 = empty */
    uint32_t table_mask, table_max;
    struct queue q[Q_COUNT];
    size_t open;
    uint64_t opened_seq;
    int64_t max_sec;
    uint32_t epoch;
    bool eoe_seen; /* the source writes EOE: wait for it rather than settle */
    int stop;
    uint64_t recent[RECENT_CLOSED];
    struct audit_collate_stats stats;
    /* Record types by name, direct-mapped on the name's length and first
     * byte: a few types make up a log, and a hit is one compare instead of
     * a probe of libaudit's table. */
    struct {
        char name[TYPE_CACHE_NAME];
        uint8_t len; /* 0: empty */
        int type;
    } types[TYPE_CACHE_SIZE];
};

static const char *const close_reason_names[AUDIT_CLOSE_REASONS] = {
    [AUDIT_CLOSE_EOE] = "eoe",           [AUDIT_CLOSE_SINGLE] = "single",
    [AUDIT_CLOSE_SETTLED] = "settled",   [AUDIT_CLOSE_WINDOW] = "window",
    [AUDIT_CLOSE_TIME] = "time",         [AUDIT_CLOSE_CAPACITY] = "capacity",
    [AUDIT_CLOSE_OVERSIZE] = "oversize", [AUDIT_CLOSE_IDLE] = "idle",
    [AUDIT_CLOSE_END] = "end",
};

const char *audit_close_reason_name(enum audit_close_reason r)
{
    return r < AUDIT_CLOSE_REASONS ? close_reason_names[r] : "?";
}

static uint64_t key_hash(const char *node, size_t node_len, int64_t sec, uint32_t msec,
                         uint32_t serial)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the node, then mixed with the stamp */
    for (size_t i = 0; i < node_len; i++)
        h = (h ^ (unsigned char)node[i]) * 1099511628211ull;
    h ^= (uint64_t)serial * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)sec * 1000u + msec) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull;
}

struct audit_collate *audit_collate_new(const struct audit_collate_config *config,
                                        audit_event_fn fn, void *arg)
{
    struct audit_collate *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cfg.event_window = AUDIT_COLLATE_EVENT_WINDOW;
    c->cfg.settle_window = AUDIT_COLLATE_SETTLE_WINDOW;
    c->cfg.time_window = AUDIT_COLLATE_TIME_WINDOW;
    c->cfg.max_open = AUDIT_COLLATE_MAX_OPEN;
    if (config) {
        if (config->event_window)
            c->cfg.event_window = config->event_window;
        if (config->settle_window)
            c->cfg.settle_window = config->settle_window;
        if (config->time_window)
            c->cfg.time_window = config->time_window;
        if (config->max_open)
            c->cfg.max_open = config->max_open;
    }
    /* Sized for max_open at most half full, but grown to that only as events
     * open: a table for 65536 events is 1 MB, and a probe per record at a
     * random place in it missed the cache when a few dozen are open. */
    c->table_max = 16;
    while (c->table_max < 2 * (c->cfg.max_open + 1))
        c->table_max *= 2;
    uint32_t size = c->table_max < TABLE_MIN ? c->table_max : TABLE_MIN;
    c->table = calloc(size, sizeof(*c->table));
    if (!c->table) {
        free(c);
        return NULL;
    }
    c->table_mask = size - 1;
    c->fn = fn;
    c->arg = arg;
    c->free_head = NONE;
    for (int i = 0; i < Q_COUNT; i++)
        c->q[i].head = c->q[i].tail = NONE;
    audit_tables_init();
    return c;
}

void audit_collate_free(struct audit_collate *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->pool_len; i++) {
        buf_free(&c->pool[i].ev.text);
        free(c->pool[i].ev.records);
    }
    free(c->pool);
    free(c->table);
    free(c);
}

static void queue_push(struct audit_collate *c, uint32_t i, int q)
{
    struct slot *s = &c->pool[i];
    s->queue = (uint8_t)q;
    s->next = NONE;
    s->prev = c->q[q].tail;
    if (c->q[q].tail != NONE)
        c->pool[c->q[q].tail].next = i;
    else
        c->q[q].head = i;
    c->q[q].tail = i;
}

static void queue_remove(struct audit_collate *c, uint32_t i)
{
    struct slot *s = &c->pool[i];
    struct queue *q = &c->q[s->queue];
    if (s->prev != NONE)
        c->pool[s->prev].next = s->next;
    else
        q->head = s->next;
    if (s->next != NONE)
        c->pool[s->next].prev = s->prev;
    else
        q->tail = s->prev;
}

static bool slot_matches(const struct audit_collate *c, uint32_t i, uint64_t hash, const char *node,
                         size_t node_len, const struct audit_header *h)
{
    const struct slot *s = &c->pool[i];
    return s->key_hash == hash && s->ev.serial == h->serial && s->ev.sec == h->sec &&
           s->ev.msec == h->msec && s->ev.node_len == node_len &&
           bytes_equal(s->ev.text.data + s->node_off, node, node_len); /* mostly 0 bytes */
}

static uint32_t table_find(const struct audit_collate *c, uint64_t hash, const char *node,
                           size_t node_len, const struct audit_header *h)
{
    for (uint32_t t = (uint32_t)hash & c->table_mask;; t = (t + 1) & c->table_mask) {
        uint32_t v = c->table[t];
        if (v == 0)
            return NONE;
        if (slot_matches(c, v - 1, hash, node, node_len, h))
            return v - 1;
    }
}

static void table_insert(struct audit_collate *c, uint32_t i)
{
    uint32_t t = (uint32_t)c->pool[i].key_hash & c->table_mask;
    while (c->table[t])
        t = (t + 1) & c->table_mask;
    c->table[t] = i + 1;
}

/* Linear-probing deletion by backward shift: no tombstones to accumulate. */
static void table_remove(struct audit_collate *c, uint32_t i)
{
    uint32_t t = (uint32_t)c->pool[i].key_hash & c->table_mask;
    while (c->table[t] != i + 1)
        t = (t + 1) & c->table_mask;
    uint32_t hole = t;
    for (uint32_t j = (hole + 1) & c->table_mask; c->table[j]; j = (j + 1) & c->table_mask) {
        uint32_t home = (uint32_t)c->pool[c->table[j] - 1].key_hash & c->table_mask;
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_between) {
            c->table[hole] = c->table[j];
            hole = j;
        }
    }
    c->table[hole] = 0;
}

/* Doubles the key table and puts every open event (each is on one queue)
 * into it again. */
static int grow_table(struct audit_collate *c)
{
    uint32_t size = (c->table_mask + 1) * 2;
    uint32_t *t = calloc(size, sizeof(*t));
    if (!t)
        return -ENOMEM;
    free(c->table);
    c->table = t;
    c->table_mask = size - 1;
    for (int q = 0; q < Q_COUNT; q++)
        for (uint32_t i = c->q[q].head; i != NONE; i = c->pool[i].next)
            table_insert(c, i);
    return 0;
}

static int close_event(struct audit_collate *c, uint32_t i, enum audit_close_reason why)
{
    struct slot *s = &c->pool[i];
    table_remove(c, i);
    queue_remove(c, i);
    c->open--;
    if (why != AUDIT_CLOSE_EOE && why != AUDIT_CLOSE_SINGLE)
        c->recent[s->key_hash % RECENT_CLOSED] = s->key_hash;
    s->ev.closed_by = (uint8_t)why;
    s->ev.node = s->ev.node_len ? s->ev.text.data + s->node_off : NULL;
    c->stats.events++;
    c->stats.closed_by[why]++;
    int r = c->fn ? c->fn(&s->ev, c->arg) : 0;
    buf_reset(&s->ev.text);
    s->ev.nrecords = 0;
    s->next = c->free_head;
    c->free_head = i;
    if (r < 0 && !c->stop)
        c->stop = r;
    return r < 0 ? r : 0;
}

static int grow_pool(struct audit_collate *c)
{
    uint32_t cap = c->pool_cap ? c->pool_cap * 2 : 64;
    if (cap > c->cfg.max_open + 1)
        cap = c->cfg.max_open + 1;
    if (cap <= c->pool_cap)
        return -ENOMEM; /* cannot happen: capacity eviction runs first */
    struct slot *p = realloc(c->pool, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    c->pool = p;
    c->pool_cap = cap;
    return 0;
}

static int open_event(struct audit_collate *c, uint64_t hash, const struct audit_header *h,
                      uint32_t *out)
{
    if ((c->open + 1) * 2 > c->table_mask + 1 && c->table_mask + 1 < c->table_max) {
        int r = grow_table(c);
        if (r < 0)
            return r;
    }
    uint32_t i = c->free_head;
    if (i != NONE) {
        c->free_head = c->pool[i].next;
    } else {
        if (c->pool_len == c->pool_cap) {
            int r = grow_pool(c);
            if (r < 0)
                return r;
        }
        i = c->pool_len++;
        memset(&c->pool[i], 0, sizeof(c->pool[i]));
        buf_init(&c->pool[i].ev.text,
                 AUDIT_EVENT_MAX_BYTES + AUDIT_RECORD_MAX_LINE + 1 + AUDIT_EVENT_SLACK);
    }
    struct slot *s = &c->pool[i];
    s->ev.sec = h->sec;
    s->ev.msec = h->msec;
    s->ev.serial = h->serial;
    s->ev.node_len = h->node_len;
    s->ev.nrecords = 0;
    s->key_hash = hash;
    s->open_seq = ++c->opened_seq;
    if (c->recent[hash % RECENT_CLOSED] == hash)
        c->stats.late_records++;
    table_insert(c, i);
    queue_push(c, i, Q_OPEN);
    if (++c->open > c->stats.max_open_seen)
        c->stats.max_open_seen = c->open;
    *out = i;
    return 0;
}

static int append_record(struct slot *s, const char *line, size_t len, const struct audit_header *h,
                         int type)
{
    if (s->ev.nrecords == s->record_cap) {
        uint32_t cap = s->record_cap ? s->record_cap * 2 : 8;
        struct audit_record_ref *r = realloc(s->ev.records, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        s->ev.records = r;
        s->record_cap = cap;
    }
    uint32_t off = (uint32_t)s->ev.text.len;
    int r = buf_reserve(&s->ev.text, len + 1 + AUDIT_EVENT_SLACK);
    if (r < 0)
        return r;
    buf_put(&s->ev.text, line, len);
    buf_putc(&s->ev.text, '\n');
    if (s->ev.nrecords == 0)
        s->node_off = off + h->node_off;
    struct audit_record_ref *ref = &s->ev.records[s->ev.nrecords++];
    ref->off = off;
    ref->len = (uint32_t)len;
    ref->type = type;
    ref->h = *h;
    return 0;
}

static uint32_t oldest_open(const struct audit_collate *c)
{
    uint32_t a = c->q[Q_OPEN].head, b = c->q[Q_SETTLED].head;
    if (a == NONE)
        return b;
    if (b == NONE)
        return a;
    return c->pool[a].open_seq < c->pool[b].open_seq ? a : b;
}

static int check_windows(struct audit_collate *c)
{
    static const enum audit_close_reason by_queue[Q_COUNT] = {AUDIT_CLOSE_WINDOW,
                                                              AUDIT_CLOSE_SETTLED};
    const uint32_t window[Q_COUNT] = {c->cfg.event_window, c->cfg.settle_window};
    int r = 0;
    for (int q = 0; q < Q_COUNT && r == 0; q++) {
        uint32_t i;
        while (r == 0 && (i = c->q[q].head) != NONE) {
            const struct slot *s = &c->pool[i];
            uint64_t since = q == Q_SETTLED ? s->settle_seq : s->open_seq;
            if (c->opened_seq - since >= window[q])
                r = close_event(c, i, by_queue[q]);
            else if (c->max_sec - s->ev.sec > (int64_t)c->cfg.time_window)
                r = close_event(c, i, AUDIT_CLOSE_TIME);
            else
                break;
        }
    }
    while (r == 0 && c->open > c->cfg.max_open)
        r = close_event(c, oldest_open(c), AUDIT_CLOSE_CAPACITY);
    return r;
}

static int type_by_name(struct audit_collate *c, const char *name, size_t n)
{
    if (n == 0 || n > TYPE_CACHE_NAME)
        return audit_tables_type_number(name, n);
    unsigned i = ((unsigned)n * 7 + (unsigned char)name[0]) & (TYPE_CACHE_SIZE - 1);
    if (c->types[i].len == n && bytes_equal(c->types[i].name, name, n))
        return c->types[i].type;
    int type = audit_tables_type_number(name, n);
    memcpy(c->types[i].name, name, n);
    c->types[i].len = (uint8_t)n;
    c->types[i].type = type;
    return type;
}

int audit_collate_add(struct audit_collate *c, const char *line, size_t len,
                      const struct audit_header *h)
{
    if (c->stop)
        return c->stop;
    int type = h->type_number ? h->type_number : type_by_name(c, line + h->type_off, h->type_len);
    if (type == AUDIT_EOE)
        c->eoe_seen = true;
    const char *node = line + h->node_off;
    uint64_t hash = key_hash(node, h->node_len, h->sec, h->msec, h->serial);
    c->stats.records++;
    if (h->sec > c->max_sec)
        c->max_sec = h->sec;
    uint32_t i = table_find(c, hash, node, h->node_len, h);
    int r;
    if (i != NONE && (c->pool[i].ev.nrecords >= AUDIT_EVENT_MAX_RECORDS ||
                      c->pool[i].ev.text.len + len + 1 > AUDIT_EVENT_MAX_BYTES)) {
        if ((r = close_event(c, i, AUDIT_CLOSE_OVERSIZE)) < 0)
            return r;
        i = NONE;
    }
    if (i == NONE && type == AUDIT_EOE) {
        c->stats.stray_eoe++; /* its event was closed already: EOE adds nothing */
        return 0;
    }
    if (i == NONE && (r = open_event(c, hash, h, &i)) < 0)
        return r;
    struct slot *s = &c->pool[i];
    if ((r = append_record(s, line, len, h, type)) < 0)
        return r;
    s->epoch = c->epoch;
    if (type == AUDIT_EOE)
        r = close_event(c, i, AUDIT_CLOSE_EOE);
    else if (s->ev.nrecords == 1 && audit_tables_type_is_single(type))
        r = close_event(c, i, AUDIT_CLOSE_SINGLE);
    else if (type == AUDIT_PROCTITLE && s->queue == Q_OPEN && !c->eoe_seen) {
        queue_remove(c, i);
        queue_push(c, i, Q_SETTLED);
        s->settle_seq = c->opened_seq;
    }
    if (r < 0)
        return r;
    return check_windows(c);
}

int audit_collate_expire(struct audit_collate *c)
{
    int r = 0;
    for (int q = 0; q < Q_COUNT; q++) {
        uint32_t i = c->q[q].head;
        while (i != NONE && r == 0) {
            uint32_t next = c->pool[i].next;
            if (c->pool[i].epoch != c->epoch)
                r = close_event(c, i, AUDIT_CLOSE_IDLE);
            i = next;
        }
    }
    c->epoch++;
    return r;
}

int audit_collate_flush(struct audit_collate *c)
{
    int r = 0;
    uint32_t i;
    while (r == 0 && (i = oldest_open(c)) != NONE)
        r = close_event(c, i, AUDIT_CLOSE_END);
    return r;
}

size_t audit_collate_open_count(const struct audit_collate *c)
{
    return c->open;
}

const struct audit_collate_stats *audit_collate_stats(const struct audit_collate *c)
{
    return &c->stats;
}
