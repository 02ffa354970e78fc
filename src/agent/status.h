/*
 * status: the agent's counters as JSON in DIR/status.json, written by the
 * loop every status_interval (tmp + rename, so a reader never sees half a
 * file) and once more at exit; `logward-agent --status` prints it.
 */
#ifndef LW_AGENT_STATUS_H
#define LW_AGENT_STATUS_H

#include "agent/input.h"
#include "agent/queue.h"
#include "agent/sender.h"

#include <stdbool.h>
#include <stddef.h>

#define STATUS_FILE "status.json"

struct status_view {
    const char *name, *stream;
    bool running;
    const struct queue_stats *queue;
    const struct sender_stats *sender;
    size_t ninputs;
    struct input *const *inputs;
};

/* Writes DIR/status.json. Returns 0 or a negative errno. */
int status_write(const char *dir, const struct status_view *v);

/* Prints DIR/status.json to stdout. Returns 0, or 2 (with a message on
 * stderr) when there is no agent state there. */
int status_print(const char *dir);

#endif
