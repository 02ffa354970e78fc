/*
 * Fuzz target: the reader of the agent queue's segment files
 * (src/agent/queue_entry.c), driven as recovery drives it: entries one
 * after another from the start of a segment until a torn or damaged tail.
 * Invariants: an entry never claims more bytes than given and stays within
 * its bound; a prefix of an entry is "need more" (so a torn tail is never
 * taken for data); every parsed entry written again is byte-identical
 * (round trip); each call sees an exact-size copy, so ASan sees overreads.
 * Then the same bytes as the only segment of a state directory go through
 * queue_open's recovery: it succeeds, cuts the file to at most the last
 * good checkpoint, and reads back no more records than stood before it,
 * in increasing sequence order.
 */
#include "agent/queue_entry.h"

#include <stdbool.h>

#include "require.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssize_t parse_exact(const uint8_t *p, size_t n, struct queue_entry *e, uint8_t **copy)
{
    *copy = malloc(n ? n : 1);
    REQUIRE(*copy);
    memcpy(*copy, p, n);
    return queue_entry_parse(*copy, n, e);
}

static void round_trip(const uint8_t *p, size_t n, const struct queue_entry *e)
{
    uint8_t *out = malloc(n);
    REQUIRE(out);
    size_t w = e->type == QUEUE_ENTRY_CHECKPOINT
                   ? queue_entry_put_checkpoint(out, e->gen, e->next_seq, e->id, e->id_len, e->pos,
                                                e->pos_len)
                   : queue_entry_put_record(out, e->type, e->seq, e->data, e->len);
    REQUIRE(w == n && !memcmp(out, p, n));
    free(out);
}

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static char dir[64];

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Recovery of `data` as a segment whose entries parse up to good_end, with
 * nrec records before the last checkpoint. */
static void recover(const uint8_t *data, size_t size, size_t good_end, size_t nrec)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_agent_queue.%d", (int)getpid());
        mkdir(dir, 0700);
        atexit(remove_dir);
    }
    char path[160];
    snprintf(path, sizeof(path), "%s/queue", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/queue/0000000000000001.seg", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0 && write(fd, data, size) == (ssize_t)size);
    close(fd);
    struct queue_config c = {.dir = dir, .fsync = QUEUE_FSYNC_NONE, .log = quiet};
    struct queue *q = NULL;
    char err[256];
    REQUIRE(queue_open(&c, &q, err, sizeof(err)) == 0);
    /* cut to the last checkpoint, or deleted when no record stood before it */
    struct stat st;
    if (stat(path, &st) == 0)
        REQUIRE((size_t)st.st_size <= (good_end > 8 ? good_end : 8));
    else
        REQUIRE(nrec == 0);
    struct queue_record rec;
    uint64_t last = 0;
    size_t n = 0;
    int r;
    while ((r = queue_read(q, &rec)) == 1) {
        REQUIRE(rec.seq > last && rec.len <= QUEUE_RECORD_MAX);
        last = rec.seq;
        n++;
    }
    REQUIRE(r == 0 && n <= nrec);
    queue_close(q);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/queue %s/positions %s/acked", dir, dir, dir);
    REQUIRE(system(cmd) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0, good_end = 0, nrec = 0, pending = 0;
    if (size >= QUEUE_SEGMENT_MAGIC_LEN &&
        !memcmp(data, QUEUE_SEGMENT_MAGIC, QUEUE_SEGMENT_MAGIC_LEN))
        at = QUEUE_SEGMENT_MAGIC_LEN;
    for (;;) {
        struct queue_entry e;
        uint8_t *copy;
        ssize_t n = parse_exact(data + at, size - at, &e, &copy);
        if (n <= 0) {
            free(copy);
            break;
        }
        REQUIRE((size_t)n <= size - at && (size_t)n >= QUEUE_ENTRY_HEADER + 9);
        REQUIRE((size_t)n <= (e.type == QUEUE_ENTRY_CHECKPOINT ? QUEUE_ENTRY_CHECKPOINT_MAX
                                                               : QUEUE_ENTRY_RECORD_MAX));
        REQUIRE(e.type == 'A' || e.type == 'S' || e.type == 'P');
        round_trip(copy, (size_t)n, &e);
        free(copy);
        /* a torn copy of this entry is never an entry */
        struct queue_entry t;
        uint8_t *half;
        REQUIRE(parse_exact(data + at, (size_t)n - 1, &t, &half) == 0);
        free(half);
        at += (size_t)n;
        if (e.type == QUEUE_ENTRY_CHECKPOINT) {
            nrec += pending;
            pending = 0;
            good_end = at;
        } else {
            pending++;
        }
    }
    bool segment = size >= QUEUE_SEGMENT_MAGIC_LEN &&
                   !memcmp(data, QUEUE_SEGMENT_MAGIC, QUEUE_SEGMENT_MAGIC_LEN);
    if (segment && size <= (1u << 16))
        recover(data, size, good_end, nrec);
    return 0;
}
