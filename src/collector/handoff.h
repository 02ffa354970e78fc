/*
 * handoff: hands messages from a receiving thread (the RELP thread) to the
 * thread that owns the store (the event loop), and the outcome back.
 *
 * A producer calls handoff_submit(), which queues its item, wakes the
 * consumer through an eventfd (registered in the consumer's epoll loop) and
 * blocks until the consumer has completed the item: stored and made durable
 * (result 0), or refused (a negative code). The consumer takes everything
 * queued at once, so one store_flush() commits a whole group.
 *
 * Because a producer waits until its item is completed, the item and the
 * bytes it points to live in the producer's frame: nothing is copied or
 * allocated per message. The consumer may read an item from handoff_take()
 * until it completes it, and never after.
 */
#ifndef LW_COLLECTOR_HANDOFF_H
#define LW_COLLECTOR_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define HANDOFF_MAX_QUEUED    256 /* items queued and not yet taken; past it, submit waits */
#define HANDOFF_IDENTITY_MAX  256 /* bytes of an authenticated name, with its NUL */
#define HANDOFF_TRANSPORT_MAX 16

struct handoff_item {
    /* filled by the producer */
    const char *msg; /* borrowed: valid until the item is completed */
    size_t len;
    struct sockaddr_storage peer; /* family AF_UNSPEC when unknown */
    char transport[HANDOFF_TRANSPORT_MAX];
    char identity[HANDOFF_IDENTITY_MAX]; /* "" when none */
    void *tag;                           /* the producer's, e.g. its listener */
    /* owned by handoff */
    int result;
    bool done;
    struct handoff_item *next;
};

struct handoff;

/* Returns NULL on failure (errno set). */
struct handoff *handoff_new(void);
/* Frees; the caller has joined every producer first. handoff_free(NULL) is a no-op. */
void handoff_free(struct handoff *h);
/* The eventfd, readable while items wait to be taken. */
int handoff_fd(const struct handoff *h);

/* Producer: queues `it` and waits until it is completed. Returns its result
 * (0: durable), or -ECANCELED if the handoff is closed before it was taken. */
int handoff_submit(struct handoff *h, struct handoff_item *it);

/* Consumer: resets the eventfd and moves up to `max` queued items, oldest
 * first, into out[]. Returns how many. */
size_t handoff_take(struct handoff *h, struct handoff_item **out, size_t max);
/* Consumer: completes a taken item and wakes its producer. */
void handoff_complete(struct handoff *h, struct handoff_item *it, int result);
/* Consumer: from now on every submit returns -ECANCELED at once; items
 * still queued (not taken) are completed with -ECANCELED. */
void handoff_close(struct handoff *h);

#endif
