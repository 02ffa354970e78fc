/*
 * input_impl: what the kinds of input (input_files.c, input_stdin.c,
 * input_journal.c) share with the dispatcher (input.c). Private to the
 * inputs; the agent's loop sees only input.h.
 */
#ifndef LW_AGENT_INPUT_IMPL_H
#define LW_AGENT_INPUT_IMPL_H

#include "agent/input.h"
#include "agent/queue.h"

/* Bytes put into the queue before an input commits even if budget remains
 * (keeps one commit well under QUEUE_BATCH_MAX). */
#define INPUT_BATCH_BYTES (4u << 20)
#define INPUT_WATCH_MAX   4 /* fds of one input in its readiness set */
/* After a run that read something, the input's sources stay out of its
 * readiness set this long, so that records written one by one (auditd)
 * are read in batches: fewer wake-ups and commits, at most this much more
 * latency. A run that found nothing leaves them in (the next record wakes
 * at once). */
#define INPUT_COALESCE_MS 20

struct input_ops {
    /* Reads up to budget records, putting them and committing through
     * input_commit(). Returns the records read or a negative errno. */
    int (*run)(struct input *in, size_t budget);
    /* After a failed commit (not -ENOSPC) was aborted: go back to the last
     * committed position. NULL: records since then are lost (counted). */
    int (*rewind)(struct input *in);
    void (*free)(struct input *in);
};

struct input {
    const struct input_ops *ops;
    char spec[INPUT_SPEC_MAX];
    struct queue *q;
    struct input_stats st;
    int epfd;    /* what input_fd() returns: readable when a source is */
    int evfd;    /* eventfd in epfd: set while records are left for next run */
    bool ev_set; /* evfd was written since the last run */
    void *impl;
    int watched[INPUT_WATCH_MAX]; /* the kind's fds in epfd (not evfd) */
    size_t nwatched;
    bool muted; /* the fds are out of epfd: blocked (pending) or quiet */
    bool quiet; /* coalescing: qtfd armed, the fds out until it fires */
    int qtfd;   /* one-shot timerfd in epfd, INPUT_COALESCE_MS */
    /* A commit refused with -ENOSPC, retried before anything else. */
    bool pending;
    bool commit_failed; /* a commit failed and was aborted: rewind */
    size_t pending_records;
    size_t pending_len;
    unsigned char pending_pos[QUEUE_POSITION_MAX];
};

/* Adds fd to the input's readiness set (input_fd). Returns 0 or -errno. */
int input_watch(struct input *in, int fd);

/* Makes input_fd() readable until the next input_run (records are left). */
void input_wake(struct input *in);

/* queue_put: 1 when put, 0 for a record too long for the queue (counted in
 * bad and skipped), or a negative errno. */
int input_put(struct input *in, enum queue_kind kind, const char *data, size_t len);

/* queue_commit of the records put since the last commit (records of them)
 * and pos under the input's id. Returns 0; -ENOSPC (kept, retried by
 * input_run); or another negative errno after queue_abort. */
int input_commit(struct input *in, size_t records, const void *pos, size_t pos_len);

/* Constructors of the kinds (spec already checked). They fill in->ops and
 * in->impl; a missing source is not an error. */
int input_files_open(struct input *in, const char *pattern, bool audit, char *err, size_t errcap);
int input_stdin_open(struct input *in, int fd, char *err, size_t errcap);
int input_journal_open(struct input *in, const char *path, char *err, size_t errcap);

/* True when the running binary was built with the journal input. */
bool input_journal_available(void);

#endif
