/*
 * backoff: exponential backoff with full jitter (backoff.h), as in AWS's
 * "Exponential Backoff And Jitter": the spread is what keeps a fleet of
 * agents from reconnecting all at once after a collector restart.
 */
#include "agent/backoff.h"

uint64_t backoff_ceiling(unsigned attempt, unsigned base_ms, unsigned cap_ms)
{
    uint64_t c = base_ms;
    for (unsigned i = 0; i < attempt && c < cap_ms; i++)
        c *= 2;
    return c < cap_ms ? c : cap_ms;
}

uint64_t backoff_delay(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t rnd)
{
    return rnd % (backoff_ceiling(attempt, base_ms, cap_ms) + 1);
}
