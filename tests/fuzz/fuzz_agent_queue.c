/*
 * Fuzz target: the reader of the agent queue's segment files
 * (src/agent/queue_entry.c), driven as recovery drives it: entries one
 * after another from the start of a segment until a torn or damaged tail.
 * Invariants: an entry never claims more bytes than given and stays within
 * its bound; a prefix of an entry is "need more" (so a torn tail is never
 * taken for data); every parsed entry written again is byte-identical
 * (round trip); each call sees an exact-size copy, so ASan sees overreads.
 */
#include "agent/queue_entry.h"

#include "require.h"
#include <stdlib.h>
#include <string.h>

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
                   ? queue_entry_put_checkpoint(out, e->gen, e->next_seq, e->id, e->id_len,
                                                e->pos, e->pos_len)
                   : queue_entry_put_record(out, e->type, e->seq, e->data, e->len);
    REQUIRE(w == n && !memcmp(out, p, n));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;
    if (size >= QUEUE_SEGMENT_MAGIC_LEN && !memcmp(data, QUEUE_SEGMENT_MAGIC, QUEUE_SEGMENT_MAGIC_LEN))
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
    }
    return 0;
}
