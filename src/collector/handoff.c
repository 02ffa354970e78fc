/*
 * handoff: a bounded queue between producer threads and the event loop,
 * under one mutex. Producers wait on one condition variable for both room
 * in the queue and their own completion (there is one RELP thread, so a
 * broadcast wakes little). The eventfd only says "look at the queue": it
 * is reset before the queue is read, so a submit racing with a take is
 * never missed. See docs/CONCURRENCY.md.
 */
#include "collector/handoff.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct handoff_item *head, *tail;
    size_t queued;
    bool closed;
    int efd;
};

struct handoff *handoff_new(void)
{
    struct handoff *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->efd < 0) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    return h;
}

void handoff_free(struct handoff *h)
{
    if (!h)
        return;
    close(h->efd);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int handoff_fd(const struct handoff *h)
{
    return h->efd;
}

static void wake_consumer(struct handoff *h)
{
    uint64_t one = 1;
    /* EAGAIN only if the counter would overflow: it is readable anyway. */
    if (write(h->efd, &one, sizeof(one)) < 0)
        return;
}

int handoff_submit(struct handoff *h, struct handoff_item *it)
{
    it->done = false;
    it->result = 0;
    it->next = NULL;
    pthread_mutex_lock(&h->mu);
    while (!h->closed && h->queued >= HANDOFF_MAX_QUEUED)
        pthread_cond_wait(&h->cv, &h->mu);
    if (h->closed) {
        pthread_mutex_unlock(&h->mu);
        return -ECANCELED;
    }
    if (h->tail)
        h->tail->next = it;
    else
        h->head = it;
    h->tail = it;
    h->queued++;
    wake_consumer(h);
    while (!it->done)
        pthread_cond_wait(&h->cv, &h->mu);
    int r = it->result;
    pthread_mutex_unlock(&h->mu);
    return r;
}

size_t handoff_take(struct handoff *h, struct handoff_item **out, size_t max)
{
    uint64_t v;
    if (read(h->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing signalled, but look anyway (cheap, and harmless). */
    }
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    while (n < max && h->head) {
        struct handoff_item *it = h->head;
        h->head = it->next;
        if (!h->head)
            h->tail = NULL;
        h->queued--;
        out[n++] = it;
    }
    if (h->head) /* more than max were queued: come back for the rest */
        wake_consumer(h);
    if (n)
        pthread_cond_broadcast(&h->cv); /* room for producers waiting on the bound */
    pthread_mutex_unlock(&h->mu);
    return n;
}

void handoff_complete(struct handoff *h, struct handoff_item *it, int result)
{
    pthread_mutex_lock(&h->mu);
    it->result = result;
    it->done = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void handoff_close(struct handoff *h)
{
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    for (struct handoff_item *it = h->head, *next; it; it = next) {
        next = it->next;
        it->result = -ECANCELED;
        it->done = true;
    }
    h->head = h->tail = NULL;
    h->queued = 0;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}
