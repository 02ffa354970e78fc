/*
 * space: auditd's space_left and admin_space_left for the root's file
 * system. Below space_left the state is LOW (said once per crossing,
 * counted; the collector tells audisp-remote DISKLOW); below
 * admin_space_left it is FULL and store_append refuses (-ENOSPC: the
 * collector acks nothing, audisp-remote gets DISKFULL) until a later check
 * finds the space back. Checked with fstatvfs, not on every append: at
 * every store_maintain, after space_check_ms, and before an append that
 * would use more than the headroom left above the next threshold at the
 * last check (so the store's own writes never cross one unseen). Free
 * space counts the bytes still buffered as used. It does not free space
 * (retention.c does) nor write anything.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

static const char *const state_names[] = {"ok", "low", "full"};

static int probe(const struct store *s, uint64_t *avail, uint64_t *size)
{
    if (s->cfg.space_probe)
        return s->cfg.space_probe(s->cfg.space_probe_arg, s->root_fd, avail, size);
    struct statvfs v;
    if (fstatvfs(s->root_fd, &v) < 0)
        return -errno;
    *avail = (uint64_t)v.f_bavail * v.f_frsize; /* what an unprivileged writer gets */
    *size = (uint64_t)v.f_blocks * v.f_frsize;
    return 0;
}

static uint64_t threshold(uint64_t bytes, unsigned pct, uint64_t size)
{
    return bytes ? bytes : size / 100 * pct;
}

static void state_set(struct store *s, enum store_space to, uint64_t avail, uint64_t low,
                      uint64_t full)
{
    enum store_space from = s->space.state;
    if (to == from)
        return;
    s->space.state = to;
    if (to == STORE_SPACE_FULL)
        s->stats.space_full++;
    if (to != STORE_SPACE_OK && from == STORE_SPACE_OK)
        s->stats.space_low++;
    store_say(s,
              "store: free space %llu MiB (space_left %llu MiB, admin_space_left %llu MiB): "
              "%s -> %s%s",
              (unsigned long long)(avail >> 20), (unsigned long long)(low >> 20),
              (unsigned long long)(full >> 20), state_names[from], state_names[to],
              to == STORE_SPACE_FULL     ? "; refusing new lines"
              : from == STORE_SPACE_FULL ? "; accepting again"
                                         : "");
}

int store_space_check(struct store *s)
{
    uint64_t avail, size;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &s->space.last);
    s->space.since = 0;
    s->stats.space_checks++;
    int r = probe(s, &avail, &size);
    if (r < 0) {
        s->stats.maintain_errors++;
        s->space.budget = 0; /* try again at the next append */
        return r;
    }
    avail = avail > s->pending_bytes ? avail - s->pending_bytes : 0;
    s->stats.space_avail = avail;
    uint64_t low = threshold(s->cfg.space_left_bytes, s->cfg.space_left_percent, size);
    uint64_t full = threshold(s->cfg.admin_space_left_bytes, s->cfg.admin_space_left_percent, size);
    enum store_space to = avail < full  ? STORE_SPACE_FULL
                          : avail < low ? STORE_SPACE_LOW
                                        : STORE_SPACE_OK;
    state_set(s, to, avail, low, full);
    /* Headroom down to the next threshold below: appends within it cannot
     * change the state by themselves. */
    uint64_t next = to == STORE_SPACE_OK && low > full ? low : full;
    s->space.budget = avail > next ? avail - next : 0;
    return 0;
}

int store_space_setup(struct store *s)
{
    const struct store_config *c = &s->cfg;
    s->space.on = c->space_left_bytes || c->space_left_percent || c->admin_space_left_bytes ||
                  c->admin_space_left_percent;
    s->space.state = STORE_SPACE_OK;
    return s->space.on ? store_space_check(s) : 0;
}

static bool interval_passed(const struct store *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    int64_t ms = (int64_t)(now.tv_sec - s->space.last.tv_sec) * 1000 +
                 (now.tv_nsec - s->space.last.tv_nsec) / 1000000;
    return ms >= (int64_t)s->cfg.space_check_ms;
}

int store_space_gate(struct store *s, size_t n)
{
    /* When FULL, only time can bring the space back: no check per refusal. */
    bool due = s->space.state == STORE_SPACE_FULL
                   ? interval_passed(s)
                   : s->space.since + n > s->space.budget || interval_passed(s);
    if (due)
        store_space_check(s); /* on error the state stays as it was */
    if (s->space.state == STORE_SPACE_FULL) {
        s->stats.refused_full++;
        return -ENOSPC;
    }
    s->space.since += n;
    return 0;
}
