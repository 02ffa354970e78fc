/*
 * agent_queue_fake: an in-memory stand-in for the agent's queue (the four
 * calls of queue.h that inputs use), for the inputs' unit tests. It records
 * what was committed, in order, and the last position per input id; a test
 * can make the next commits fail (full: -ENOSPC, keeping the buffered
 * records; or an I/O error) and can "crash" by dropping what is buffered.
 */
#ifndef LW_TEST_AGENT_QUEUE_FAKE_H
#define LW_TEST_AGENT_QUEUE_FAKE_H

#include "agent/queue.h"

#include <stdbool.h>
#include <stddef.h>

#define FAKE_RECORDS_MAX 100000
#define FAKE_IDS_MAX     8

struct fake_record {
    enum queue_kind kind;
    char *data;
    size_t len;
};

struct queue {
    struct fake_record *buffered, *committed;
    size_t nbuffered, ncommitted;
    size_t commits;   /* successful queue_commit calls */
    int fail_commits; /* the next N commits fail with fail_errno */
    int fail_errno;   /* ENOSPC (kept) or e.g. EIO (the input aborts) */
    char ids[FAKE_IDS_MAX][QUEUE_INPUT_ID_MAX];
    unsigned char pos[FAKE_IDS_MAX][QUEUE_POSITION_MAX];
    size_t pos_len[FAKE_IDS_MAX];
    size_t nids;
};

struct queue *fake_queue_new(void);
void fake_queue_free(struct queue *q);
/* A crash: buffered (uncommitted) records vanish, committed ones stay. */
void fake_queue_crash(struct queue *q);
/* Committed record i as a NUL-terminated string (records hold no NUL in tests). */
const char *fake_record(const struct queue *q, size_t i);

#endif
