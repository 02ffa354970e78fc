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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_run(struct loop *l, int tick_ms, loop_tick_fn tick, void *arg)
{
    struct epoll_event evs[LOOP_BATCH];
    int64_t next_tick = now_ms() + tick_ms;
    while (!l->stop) {
        int64_t wait = next_tick - now_ms();
        int n = epoll_wait(l->epfd, evs, LOOP_BATCH, wait < 0 ? 0 : (int)wait);
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
        if (now_ms() >= next_tick) {
            if (tick)
                tick(l, arg);
            next_tick = now_ms() + tick_ms;
        }
    }
    return 0;
}

void loop_on_batch(struct loop *l, loop_tick_fn fn, void *arg)
{
    l->on_batch = fn;
    l->on_batch_arg = arg;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}

bool loop_stopping(const struct loop *l)
{
    return l->stop != 0;
}
