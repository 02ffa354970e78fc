/*
 * hosts_seen: the last time each host was heard from, and how much it
 * sent, for `logwardd --status`. Keyed by the name a host is filed under
 * (identity, address or claimed name: whatever names its directory).
 * Bounded: past HOSTS_SEEN_MAX distinct names new hosts are only counted.
 */
#ifndef LW_COLLECTOR_HOSTS_SEEN_H
#define LW_COLLECTOR_HOSTS_SEEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HOSTS_SEEN_MAX      65536
#define HOSTS_SEEN_NAME_MAX 255

struct hosts_seen;

struct hosts_seen *hosts_seen_new(void);
void hosts_seen_free(struct hosts_seen *hs);
/* Records one message from host at now. Returns 0, or -ENOSPC when the
 * table is full (counted in hosts_seen_untracked). */
int hosts_seen_note(struct hosts_seen *hs, const char *host, size_t len, time_t now);
uint64_t hosts_seen_untracked(const struct hosts_seen *hs);
size_t hosts_seen_count(const struct hosts_seen *hs);

typedef void (*hosts_seen_fn)(const char *host, time_t last, uint64_t messages, void *arg);
void hosts_seen_foreach(const struct hosts_seen *hs, hosts_seen_fn fn, void *arg);

#endif
