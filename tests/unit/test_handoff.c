/*
 * test_handoff: producers block until the consumer completes their item;
 * results travel back; the eventfd signals; the queue bound holds; close
 * refuses queued and later items.
 */
#include "check.h"
#include "collector/handoff.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define PRODUCERS    4
#define PER_PRODUCER 500

struct producer {
    struct handoff *h;
    int id;
    int ok, refused;
};

static atomic_int returned;

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof(msg), "p%d-%d", p->id, i);
        struct handoff_item it = {.msg = msg, .len = (size_t)n, .tag = p};
        int r = handoff_submit(p->h, &it);
        if (r == 0)
            p->ok++;
        else if (r == -ECANCELED)
            p->refused++;
        atomic_fetch_add(&returned, 1);
    }
    return NULL;
}

static bool readable(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, ms) == 1;
}

/* Many producers, one consumer: every item completed, results delivered
 * (odd-numbered messages are refused with -EIO). */
static void test_many(void)
{
    struct handoff *h = handoff_new();
    CHECK(h != NULL);
    struct producer p[PRODUCERS];
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct producer){.h = h, .id = i};
        pthread_create(&t[i], NULL, produce, &p[i]);
    }
    int taken = 0, max_batch = 0, refused = 0;
    while (taken < PRODUCERS * PER_PRODUCER) {
        if (!readable(handoff_fd(h), 5000))
            break;
        struct handoff_item *items[HANDOFF_MAX_QUEUED];
        size_t n = handoff_take(h, items, HANDOFF_MAX_QUEUED);
        max_batch = (int)n > max_batch ? (int)n : max_batch;
        for (size_t i = 0; i < n; i++) {
            const char *dash = memchr(items[i]->msg, '-', items[i]->len);
            int odd = dash && atoi(dash + 1) % 2; /* the producer's buffer ends in NUL */
            refused += odd;
            handoff_complete(h, items[i], odd ? -EIO : 0);
        }
        taken += (int)n;
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(taken, PRODUCERS * PER_PRODUCER);
    int ok = 0;
    for (int i = 0; i < PRODUCERS; i++)
        ok += p[i].ok;
    CHECK_INT(ok + refused, PRODUCERS * PER_PRODUCER);
    CHECK_INT(refused, PRODUCERS * PER_PRODUCER / 2);
    CHECK(max_batch <= PRODUCERS); /* each producer has at most one item in flight */
    CHECK(!readable(handoff_fd(h), 0));
    handoff_free(h);
}

/* A producer stays blocked until its item is completed, not merely taken. */
static void test_blocks_until_complete(void)
{
    struct handoff *h = handoff_new();
    struct producer p = {.h = h, .id = 0};
    atomic_store(&returned, 0);
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    CHECK(readable(handoff_fd(h), 5000));
    struct handoff_item *it;
    CHECK_INT(handoff_take(h, &it, 1), 1);
    usleep(50 * 1000);
    CHECK_INT(atomic_load(&returned), 0);
    CHECK_MEM(it->msg, it->len, "p0-0");
    handoff_complete(h, it, 0);
    /* close: the producer's later items are refused without a consumer */
    handoff_close(h);
    pthread_join(t, NULL);
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.refused, PER_PRODUCER - 1);
    handoff_free(h);
}

/* Items queued but not yet taken when the handoff closes are refused. */
static void test_close_cancels_queued(void)
{
    struct handoff *h = handoff_new();
    struct producer p = {.h = h, .id = 0};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    CHECK(readable(handoff_fd(h), 5000));
    handoff_close(h);
    pthread_join(t, NULL);
    CHECK_INT(p.ok, 0);
    CHECK_INT(p.refused, PER_PRODUCER);
    struct handoff_item *it;
    CHECK_INT(handoff_take(h, &it, 1), 0);
    handoff_free(h);
    handoff_free(NULL);
}

int main(void)
{
    test_many();
    test_blocks_until_complete();
    test_close_cancels_queued();
    return check_status();
}
