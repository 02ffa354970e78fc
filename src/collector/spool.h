/*
 * spool: the audit listener's write-ahead file for records of events not
 * yet closed (regroup.c). A record is appended here and made durable
 * before its acknowledgement; when its event is closed and written to
 * audit.log, a "done" mark for the event's key follows. At start every
 * spool file is read back: the records not covered by a later done mark
 * are handed out again, in their order, so a crash neither loses an acked
 * record nor writes an event twice.
 *
 * Files: <dir>/audit.<GEN> (GEN a decimal counter, a new one at every
 * start and at rotation), each starting with the line SPOOL_MAGIC. Lines:
 *   R <HOSTLEN> <HOST> <LINE>      a record, LINE as it goes to audit.log
 *   D <KEY>                        every earlier record with KEY is stored
 * KEY is "NODE SEC.MSEC:SERIAL" (spool_key). A torn last line is ignored
 * (it was never acknowledged). Nothing here knows about events or hosts.
 */
#ifndef LW_COLLECTOR_SPOOL_H
#define LW_COLLECTOR_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAGIC     "logward-spool 1"
#define SPOOL_GENS_MAX  64         /* spool files at once (old ones + the current) */
#define SPOOL_KEY_MAX   (256 + 48) /* sanitized node (STORE_NAME_MAX) + time stamp */
#define SPOOL_FILE_MAX  (1u << 30) /* a spool file longer than this is not read back */
#define SPOOL_WRITE_MAX (1u << 20) /* buffered bytes written out at once */

struct spool;

struct spool_replay_stats {
    uint64_t files, records, done, replayed, torn, bad_lines;
};

/* Creates dir (0700) if needed and a new current file after the existing
 * ones. sync: fdatasync at spool_sync (fsync policy not "none"). */
int spool_open(const char *dir, bool sync, struct spool **out);
void spool_free(struct spool *sp);

/* Receives each record still owed, in order, with the generation of the
 * file it was read from. A negative return stops the replay. */
typedef int spool_record_fn(void *arg, uint64_t gen, const char *host, size_t host_len,
                            const char *line, size_t len);
/* Reads every file older than the current one. */
int spool_replay(struct spool *sp, spool_record_fn *fn, void *arg, struct spool_replay_stats *st);

/* The generations of the files found at open (oldest first), then the
 * current one; n is set to their count. */
const uint64_t *spool_gens(const struct spool *sp, size_t *n);
uint64_t spool_current(const struct spool *sp);

/* KEY text of an event into out (SPOOL_KEY_MAX); returns its length. */
size_t spool_key(char *out, const char *node, size_t node_len, int64_t sec, uint32_t msec,
                 uint32_t serial);
uint64_t spool_key_hash(const char *key, size_t len);

/* Buffered appends to the current file. -E2BIG for a line that cannot be
 * a record (too long), -ENOMEM. */
int spool_put_record(struct spool *sp, const char *host, size_t host_len, const char *line,
                     size_t len);
int spool_put_done(struct spool *sp, const char *key, size_t len);
/* write(2) of what is buffered; spool_sync also fdatasyncs (if written). */
int spool_write(struct spool *sp);
int spool_sync(struct spool *sp);
/* Bytes in the current file, buffered ones included. */
uint64_t spool_size(const struct spool *sp);
/* Starts a new current file (what is buffered is written first). */
int spool_rotate(struct spool *sp);
/* Removes the file of an older generation. */
int spool_drop(struct spool *sp, uint64_t gen);
/* Cuts the current file back to its first line. */
int spool_truncate(struct spool *sp);

#endif
