/*
 * input: the agent's sources of records, one struct input per configured
 * `--input SPEC`. Owned by H2 (inputs); the agent's loop uses only this.
 *
 *   audit:PATH     auditd's log, followed across rotation (records, kind audit)
 *   audit:-        auditd plugin mode: records on stdin (af_unix/ stdin plugin)
 *   file:PATTERN   syslog-format files (glob), followed across rotation
 *                  (kind syslog; a line without <PRI> gets <13>)
 *   journal        the system journal (sd-journal), from a persisted cursor
 *   journal:PATH   a journal directory or file
 *
 * Each input reads complete lines (or journal entries) into the queue in
 * batches and commits its position with them (queue.h), so a crash neither
 * loses nor repeats a record. Inputs never block: the loop polls input_fd()
 * when there is one and calls input_run() on readiness or on a timer.
 */
#ifndef LW_AGENT_INPUT_H
#define LW_AGENT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INPUT_SPEC_MAX 1024
#define INPUT_POLL_MS  250 /* how often inputs without a readiness fd are run */
#define INPUT_LINE_MAX (1u << 20)

struct queue;
struct input;

struct input_stats {
    uint64_t read;      /* records read and committed to the queue */
    uint64_t bad;       /* over-long or undecodable records skipped (counted, logged once) */
    uint64_t rotations; /* rotated files followed to their end */
    uint64_t gone;      /* times the source disappeared (file deleted, journal gone) */
    bool blocked;       /* the queue is full (block policy): reading paused */
};

/* Checks SPEC's syntax only (for --check-config). Returns 0 or -EINVAL with
 * why written to err. */
int input_check_spec(const char *spec, char *err, size_t errcap);

/* Opens an input and restores its position from the queue
 * (queue_position). Returns 0, or a negative errno with why in err. A
 * missing file is not an error: the input waits for it (counted in gone). */
int input_open(const char *spec, struct queue *q, struct input **out, char *err, size_t errcap);
void input_free(struct input *in);

/* An fd to poll for reading (stdin, the journal's inotify fd, an inotify
 * on the followed files), or -1: then the loop runs the input every
 * INPUT_POLL_MS. */
int input_fd(const struct input *in);

/*
 * Reads what is there, up to `budget` records, committing as it goes.
 * Returns the records read (0: nothing new), -ENOSPC when the queue is full
 * (the loop retries after the sender freed space), or another negative
 * errno for an error that the loop logs (the input stays and retries).
 * Returns -EPIPE once stdin reached its end (auditd stopped the plugin).
 */
int input_run(struct input *in, size_t budget);

const char *input_spec(const struct input *in);
const struct input_stats *input_stats(const struct input *in);

#endif
