/*
 * loop: epoll with handlers in a flat array indexed by fd (bounded by
 * LOOP_MAX_FDS), so dispatch is one index. Level-triggered: a handler that
 * reads only part of what is ready is called again.
 */
#include "net/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 256

struct handler {
    loop_fn fn;
    void *arg;
};

struct loop {
    int epfd;
    volatile sig_atomic_t stop;
    struct handler *handlers; /* LOOP_MAX_FDS entries */
    loop_tick_fn on_batch;
    void *on_batch_arg;
    loop_tick_fn on_poll;
    void *on_poll_arg;
    int64_t poll_at_us; /* 0: no poll due */
};

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->handlers = calloc(LOOP_MAX_FDS, sizeof(*l->handlers));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!l->handlers || l->epfd < 0) {
        loop_free(l);
        return NULL;
    }
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->handlers);
    free(l);
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg)
{
    if (fd < 0 || fd >= LOOP_MAX_FDS)
        return -EMFILE;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    l->handlers[fd] = (struct handler){fn, arg};
    return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
    if (fd < 0 || fd >= LOOP_MAX_FDS)
        return -EBADF;
    l->handlers[fd] = (struct handler){NULL, NULL};
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds until `at`, rounded up: epoll_wait never returns early
 * into a busy turn of the loop. */
static int ms_until(int64_t at, int64_t now)
{
    return at <= now ? 0 : (int)((at - now + 999) / 1000);
}

int loop_run(struct loop *l, int tick_ms, loop_tick_fn tick, void *arg)
{
    struct epoll_event evs[LOOP_BATCH];
    int64_t next_tick = now_us() + (int64_t)tick_ms * 1000;
    while (!l->stop) {
        int64_t now = now_us();
        int wait = ms_until(next_tick, now);
        if (l->poll_at_us && ms_until(l->poll_at_us, now) < wait)
            wait = ms_until(l->poll_at_us, now);
        int n = epoll_wait(l->epfd, evs, LOOP_BATCH, wait);
        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n && !l->stop; i++) {
            int fd = evs[i].data.fd;
            struct handler h = l->handlers[fd];
            if (h.fn) /* a handler earlier in this batch may have closed it */
                h.fn(l, fd, evs[i].events, h.arg);
        }
        if (l->on_batch && n > 0)
            l->on_batch(l, l->on_batch_arg);
        now = now_us();
        if (l->poll_at_us && now >= l->poll_at_us && !l->stop) {
            l->poll_at_us = 0; /* before the call: fn may ask for the next one */
            if (l->on_poll)
                l->on_poll(l, l->on_poll_arg);
        }
        if (now >= next_tick) {
            if (tick)
                tick(l, arg);
            next_tick = now_us() + (int64_t)tick_ms * 1000;
        }
    }
    return 0;
}

void loop_on_batch(struct loop *l, loop_tick_fn fn, void *arg)
{
    l->on_batch = fn;
    l->on_batch_arg = arg;
}

void loop_set_poll(struct loop *l, loop_tick_fn fn, void *arg)
{
    l->on_poll = fn;
    l->on_poll_arg = arg;
}

void loop_poll_in(struct loop *l, int ms)
{
    l->poll_at_us = now_us() + (int64_t)(ms < 1 ? 1 : ms) * 1000;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}

bool loop_stopping(const struct loop *l)
{
    return l->stop != 0;
}
