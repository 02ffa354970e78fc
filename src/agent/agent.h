/*
 * agent: logward-agent's loop. One thread, one epoll loop (net/loop.h):
 * the inputs (their fds, and every INPUT_POLL_MS), the sender's socket,
 * a signalfd (SIGTERM/SIGINT: stop; SIGHUP: reload) and a tick for the
 * timers (backoff, keepalive, queue fsync, status.json).
 */
#ifndef LW_AGENT_AGENT_H
#define LW_AGENT_AGENT_H

#include "agent/config.h"

#include <stddef.h>

#define AGENT_TICK_MS      20
#define AGENT_INPUT_BUDGET 4096 /* records one input_run may read */
#define AGENT_SHUTDOWN_MS  2000 /* at SIGTERM, how long to wait for ACKs in flight */

/* Builds a fresh configuration (the file again, then the command line),
 * for SIGHUP. Returns 0 or a negative code with why in err. */
typedef int (*agent_reload_fn)(void *arg, struct agent_config *out, char *err, size_t cap);

/* Runs the agent until SIGTERM/SIGINT (or every input ended). Takes over
 * cfg (freed by the agent). Returns 0 on a clean stop, 2 when the state
 * directory, an input or the TLS setup cannot be opened. */
int agent_run(struct agent_config *cfg, agent_reload_fn reload, void *reload_arg);

#endif
