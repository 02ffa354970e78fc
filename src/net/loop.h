/*
 * loop: a small epoll event loop. One handler per fd, a periodic tick for
 * timers (flushes, idle expiry, stats), and a stop flag that signal
 * handlers may set. It owns no sockets: callers open and close them.
 */
#ifndef LW_NET_LOOP_H
#define LW_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#define LOOP_MAX_FDS 65536 /* the collector's hard bound on open descriptors */

struct loop;
typedef void (*loop_fn)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_tick_fn)(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* events: EPOLLIN / EPOLLOUT ... Returns 0 or -errno (-EMFILE past the bound). */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);
/* Runs until loop_stop; calls tick about every tick_ms. Returns 0 or -errno. */
int loop_run(struct loop *l, int tick_ms, loop_tick_fn tick, void *arg);
/* Called after each batch of ready descriptors has been handled, before
 * the loop waits again: where the collector commits (flushes) what the
 * batch stored and sends the acknowledgements, one fsync for them all. */
void loop_on_batch(struct loop *l, loop_tick_fn fn, void *arg);
/* A short one-shot timer beside the tick: after loop_poll_in(l, ms), fn
 * runs once about ms later (ms >= 1), after the batch of that wait. For
 * the collector's paced connections, whose socket signals only past a
 * threshold (collector/pace.c). A later call moves the deadline. */
void loop_set_poll(struct loop *l, loop_tick_fn fn, void *arg);
void loop_poll_in(struct loop *l, int ms);
void loop_stop(struct loop *l);
bool loop_stopping(const struct loop *l);

#endif
