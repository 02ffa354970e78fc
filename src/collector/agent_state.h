/*
 * agent_state: what the collector keeps per agent stream (host, stream) so
 * that a record resent after a broken session or a collector crash is
 * stored once: <root>/.agents/<host>/<stream>, hidden from the store's
 * readers. Each file holds two fixed-size slots written in turn, each a
 * short text record with a generation and a checksum, so a torn write
 * leaves the previous record readable:
 *
 *   lwas/1 gen=G boot=BOOT_ID acked=A last=L
 *   [pending=F-T dev=D ino=I off=O len=N sum=S path=PATH]
 *   crc=C
 *
 * `acked`: the highest sequence made durable by a commit (data synced,
 * then this record synced, then ACK sent); `last`: the highest stored
 * (written to its file); `pending`: the intent of the run being written
 * (sequences F..T, to the file PATH with that inode, at offset O, N bytes
 * whose store_bytes_sum is S). Recovery (docs/formats.md, "What the
 * collector keeps per agent stream") decides from it what a crash left.
 * One thread (the collector's loop) owns all of it.
 */
#ifndef LW_COLLECTOR_AGENT_STATE_H
#define LW_COLLECTOR_AGENT_STATE_H

#include "store/store.h"
#include "wire/agent_frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_STATE_DIR     ".agents"
#define AGENT_STATE_SLOT    2048  /* bytes of one record slot; a file has two */
#define AGENT_STREAMS_MAX   65536 /* streams in memory; past it an idle one leaves */
#define AGENT_BOOT_ID_MAX   40    /* /proc/sys/kernel/random/boot_id: 36 bytes */
#define AGENT_SYNC_EACH_MAX 8     /* more state files to sync than this: one syncfs */

struct agent_stream_stats {
    uint64_t sessions, records, duplicates, gaps; /* gaps: sequences never received */
};

struct agent_stream {
    struct agent_stream *hash_next, *dirty_next;
    bool dirty;                    /* last > acked, or the file's newest record holds an intent */
    char host[STORE_NAME_MAX + 1]; /* sanitized: the host directory's name */
    char id[AGENT_STREAM_LEN + 1]; /* the stream, 32 hex digits */
    uint64_t last;                 /* highest sequence stored */
    uint64_t acked;                /* highest sequence durable and acknowledged */
    uint64_t gen;                  /* generation of the newest record in the file */
    int fd;
    void *owner; /* the connection serving the stream, or NULL */
    struct agent_stream_stats stats;
};

/* What a start-up recovery found, for the log and --status. */
struct agent_recovery {
    uint64_t streams;    /* state files read */
    uint64_t landed;     /* intents whose run was in its file */
    uint64_t not_landed; /* intents whose run was not (or only torn) */
    uint64_t cut;        /* of those: torn tails cut (or ended by a LF) */
    uint64_t rebooted;   /* states from another boot: back to acked */
    uint64_t errors;     /* unreadable states or files (left as they were) */
};

struct agent_states;

/*
 * Settles every stream's state under <root>/.agents after a crash, before
 * store_open (whose seal walk must see the files as they stay): an intent
 * whose run landed advances last, a torn run is cut back, a state of
 * another boot falls back to acked; then, when anything was stored but
 * not acked, syncs the file system, and writes every state back with
 * acked = last and no intent. boot_id NULL reads the kernel's. `sync`:
 * whether the fsync policy syncs. Returns 0 or the first error (the rest
 * still settled; counted in rec->errors).
 */
int agent_states_recover(const char *root, const char *boot_id, bool sync,
                         struct agent_recovery *rec);

/* Opens the table of streams for a store root (the directory is made at
 * the first stream). boot_id NULL reads the kernel's. */
int agent_states_open(const char *root, const char *boot_id, bool sync, struct agent_states **out);
void agent_states_free(struct agent_states *as);

/*
 * The stream (host, id): in memory, or read from its file (settled as at
 * start-up, without cutting: the store is open), or new (last = 0). host
 * is raw; it is sanitized as the store does. Past AGENT_STREAMS_MAX an idle
 * stream leaves memory. Returns 0, -ENOSPC when none is idle, or an I/O
 * error.
 */
int agent_stream_get(struct agent_states *as, const char *host, size_t host_len, const char *id,
                     size_t id_len, struct agent_stream **out);

/* The connection serving the stream is gone: an idle stream lets its file
 * go (reopened when needed). */
void agent_stream_release(struct agent_states *as, struct agent_stream *st);

/* Before a run's write: records the intent (sequences first..last at `at`)
 * in the stream's file. Returns 0 or a negative errno (then nothing may be
 * written). */
int agent_stream_intent(struct agent_states *as, struct agent_stream *st, uint64_t first,
                        uint64_t last, const struct store_place *at);
/* After the write: the run is stored. */
void agent_stream_landed(struct agent_states *as, struct agent_stream *st, uint64_t last);
/* After a failed write (the store cut what it wrote): the intent is void. */
int agent_stream_cancel(struct agent_states *as, struct agent_stream *st);

/* True when some stream has something to commit. */
bool agent_states_dirty(const struct agent_states *as);
/*
 * After store_flush() returned 0: writes acked = last (no intent) for
 * every dirty stream and syncs those files per policy; then acked is what
 * the ACKs may say. Returns 0 or the first error (those streams stay
 * dirty, their acked unchanged).
 */
int agent_states_commit(struct agent_states *as);

typedef void (*agent_stream_fn)(const struct agent_stream *st, void *arg);
void agent_states_foreach(const struct agent_states *as, agent_stream_fn fn, void *arg);
size_t agent_states_count(const struct agent_states *as);

/* The record format, for tests: parses one slot (0, or -EBADMSG). */
struct agent_state_record {
    uint64_t gen, acked, last;
    char boot[AGENT_BOOT_ID_MAX + 1];
    bool pending;
    uint64_t first, end; /* pending sequences */
    struct store_place at;
};
int agent_state_record_parse(const char *p, size_t n, struct agent_state_record *rec);
/* Reads a state file: the valid slot with the highest generation. */
int agent_state_read(int fd, struct agent_state_record *rec);

#endif
