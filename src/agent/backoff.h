/*
 * backoff: the delay before the sender's next connection attempt:
 * exponential with full jitter (a uniform draw in [0, min(cap, base * 2^n)]),
 * so that many agents cut off by one outage do not come back in step.
 * Pure: the caller gives the random number.
 */
#ifndef LW_AGENT_BACKOFF_H
#define LW_AGENT_BACKOFF_H

#include <stdint.h>

/* The ceiling for attempt n (0 for the first retry): min(cap, base << n). */
uint64_t backoff_ceiling(unsigned attempt, unsigned base_ms, unsigned cap_ms);

/* The delay in ms for attempt n: rnd mapped uniformly onto [0, ceiling]. */
uint64_t backoff_delay(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t rnd);

#endif
