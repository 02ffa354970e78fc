/*
 * test_agent_queue: the agent's disk queue (src/agent/queue.c). Commits
 * read back in order; a reopen recovers positions, the stream and the next
 * sequence; torn and damaged tails are cut at the last checkpoint; records
 * without their checkpoint are dropped; acknowledged segments are trimmed
 * with positions kept; the bound holds under both full policies; a second
 * agent on one state directory is refused.
 */
#include "agent/queue.h"
#include "agent/queue_entry.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char lastlog[512];
static int nlogs;

static void logline(void *arg, const char *line)
{
    (void)arg;
    snprintf(lastlog, sizeof(lastlog), "%s", line);
    nlogs++;
}

static struct queue_config conf(uint64_t max, enum queue_full_policy full)
{
    return (struct queue_config){.dir = dir,
                                 .max_bytes = max,
                                 .segment_bytes = QUEUE_SEGMENT_MIN,
                                 .full = full,
                                 .fsync = QUEUE_FSYNC_NONE,
                                 .log = logline};
}

static struct queue *open_q(uint64_t max, enum queue_full_policy full)
{
    struct queue_config c = conf(max, full);
    struct queue *q = NULL;
    char err[512] = "";
    int r = queue_open(&c, &q, err, sizeof(err));
    if (r < 0)
        fprintf(stderr, "queue_open: %s\n", err);
    CHECK_INT(r, 0);
    return q;
}

static int commit_n(struct queue *q, int n, size_t len, const char *id, const char *pos)
{
    static char data[4096];
    for (int i = 0; i < n; i++) {
        int k = snprintf(data, sizeof(data), "rec %d", i);
        memset(data + k, 'x', len > (size_t)k ? len - (size_t)k : 0);
        int r = queue_put(q, QUEUE_KIND_AUDIT, data, len > (size_t)k ? len : (size_t)k);
        if (r < 0)
            return r;
    }
    return queue_commit(q, id, pos, strlen(pos));
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    CHECK_INT(system(cmd), 0);
}

static const char *last_segment(void)
{
    static char path[512];
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls %s/queue/*.seg | tail -n 1", dir);
    FILE *p = popen(cmd, "r");
    path[0] = 0;
    if (p && fgets(path, sizeof(path), p))
        path[strcspn(path, "\n")] = 0;
    if (p)
        pclose(p);
    return path;
}

static const char *first_segment_with_data(void)
{
    static char path[512];
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls -S %s/queue/*.seg | head -n 1", dir);
    FILE *p = popen(cmd, "r");
    path[0] = 0;
    if (p && fgets(path, sizeof(path), p))
        path[strcspn(path, "\n")] = 0;
    if (p)
        pclose(p);
    return path;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, p, n), n);
    close(fd);
}

static void test_commit_read_reopen(void)
{
    struct queue *q = open_q(0, QUEUE_FULL_BLOCK);
    char stream[QUEUE_STREAM_HEX + 1];
    snprintf(stream, sizeof(stream), "%s", queue_stream(q));
    CHECK_INT(strlen(stream), 32);
    char pos[64];
    CHECK_INT(queue_position(q, "audit:x", pos, sizeof(pos)), 0);
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "one", 3), 0);
    CHECK_INT(queue_put(q, QUEUE_KIND_SYSLOG, "<13>two", 7), 0);
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "", 0), 0);
    CHECK_INT(queue_commit(q, "audit:x", "P1", 2), 0);
    CHECK_INT(queue_commit(q, "file:y", "Q1", 2), 0); /* a position only */
    struct queue_record rec;
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 1);
    CHECK_INT(rec.kind, QUEUE_KIND_AUDIT);
    CHECK_MEM(rec.data, rec.len, "one");
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 2);
    CHECK_INT(rec.kind, QUEUE_KIND_SYSLOG);
    CHECK_MEM(rec.data, rec.len, "<13>two");
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 3);
    CHECK_INT(rec.len, 0);
    CHECK_INT(queue_read(q, &rec), 0);
    /* more arrives after the cursor reached the end */
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "four", 4), 0);
    CHECK_INT(queue_commit(q, "audit:x", "P2", 2), 0);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 4);
    /* uncommitted records vanish with abort, and take no sequence */
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "lost", 4), 0);
    queue_abort(q);
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "x", QUEUE_RECORD_MAX + 1), -EMSGSIZE);
    queue_close(q);

    q = open_q(0, QUEUE_FULL_BLOCK);
    CHECK_STR(queue_stream(q), stream);
    CHECK_INT(queue_position(q, "audit:x", pos, sizeof(pos)), 2);
    CHECK_MEM(pos, 2, "P2");
    CHECK_INT(queue_position(q, "file:y", pos, sizeof(pos)), 2);
    CHECK_MEM(pos, 2, "Q1");
    CHECK_INT(queue_position(q, "file:y", pos, 1), -ENOBUFS);
    struct queue_stats st;
    queue_get_stats(q, &st);
    CHECK_INT(st.next_seq, 5);
    CHECK_INT(st.pending, 4);
    /* nothing acked: the cursor starts at the first record again */
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 1);
    CHECK_INT(queue_ack(q, 2), 0);
    CHECK_INT(queue_rewind(q, 2), 0);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 3);
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "five", 4), 0);
    CHECK_INT(queue_commit(q, "audit:x", "P3", 2), 0);
    queue_close(q);

    /* the acked mark is written at close: the cursor starts after it */
    q = open_q(0, QUEUE_FULL_BLOCK);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 3);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 4);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 5);
    CHECK_MEM(rec.data, rec.len, "five");
    CHECK_INT(queue_read(q, &rec), 0);

    /* one agent per state directory */
    struct queue_config c = conf(0, QUEUE_FULL_BLOCK);
    struct queue *q2 = NULL;
    char err[512] = "";
    CHECK_INT(queue_open(&c, &q2, err, sizeof(err)), -EBUSY);
    CHECK(strstr(err, "in use") != NULL);
    queue_close(q);
    rm_rf(dir);
}

static void test_torn_tail(void)
{
    struct queue *q = open_q(0, QUEUE_FULL_BLOCK);
    CHECK_INT(commit_n(q, 10, 100, "audit:x", "A10"), 0);
    queue_close(q);
    const char *seg = first_segment_with_data();
    struct stat sb;
    CHECK_INT(stat(seg, &sb), 0);
    off_t good = sb.st_size;

    /* a record whose checkpoint never came, then half an entry */
    uint8_t ent[256];
    size_t n = queue_entry_put_record(ent, QUEUE_KIND_AUDIT, 11, "orphan", 6);
    append_bytes(seg, ent, n);
    n = queue_entry_put_record(ent, QUEUE_KIND_AUDIT, 12, "half", 4);
    append_bytes(seg, ent, n / 2);

    nlogs = 0;
    q = open_q(0, QUEUE_FULL_BLOCK);
    struct queue_stats st;
    queue_get_stats(q, &st);
    CHECK(st.torn > 0);
    CHECK_INT(st.next_seq, 11); /* the orphan's sequence is given again */
    CHECK(nlogs > 0 && strstr(lastlog, "torn") != NULL);
    CHECK_INT(stat(seg, &sb), 0);
    CHECK_INT(sb.st_size, good);
    struct queue_record rec;
    int got = 0;
    while (queue_read(q, &rec) == 1)
        got++;
    CHECK_INT(got, 10);
    CHECK_INT(commit_n(q, 5, 100, "audit:x", "A15"), 0);
    queue_close(q);

    /* a damaged byte inside the second batch's first record */
    seg = last_segment();
    int fd = open(seg, O_RDWR);
    CHECK(fd >= 0);
    uint8_t b = 0;
    CHECK_INT(pread(fd, &b, 1, QUEUE_SEGMENT_MAGIC_LEN + 30), 1);
    b ^= 0x40;
    CHECK_INT(pwrite(fd, &b, 1, QUEUE_SEGMENT_MAGIC_LEN + 30), 1);
    close(fd);
    q = open_q(0, QUEUE_FULL_BLOCK);
    char pos[16];
    CHECK_INT(queue_position(q, "audit:x", pos, sizeof(pos)), 3);
    CHECK_MEM(pos, 3, "A10"); /* the damaged batch is gone with its checkpoint */
    queue_get_stats(q, &st);
    CHECK_INT(st.next_seq, 11);
    queue_close(q);
    rm_rf(dir);
}

static void test_trim_positions(void)
{
    struct queue *q = open_q(0, QUEUE_FULL_BLOCK);
    /* about 3.5 segments of 1000-byte records */
    for (int i = 0; i < 40; i++) {
        char pos[16];
        snprintf(pos, sizeof(pos), "p%d", i);
        CHECK_INT(commit_n(q, 100, 1000, "audit:x", pos), 0);
    }
    CHECK_INT(commit_n(q, 0, 0, "file:y", "only"), 0);
    struct queue_stats st;
    queue_get_stats(q, &st);
    CHECK(st.segments >= 4);
    CHECK_INT(st.pending, 4000);
    CHECK_INT(queue_ack(q, 3990), 0);
    queue_get_stats(q, &st);
    CHECK_INT(st.segments, 1);
    CHECK_INT(st.pending, 10);
    CHECK_INT(st.acked, 3990);
    queue_close(q);

    /* the checkpoints of the deleted segments live on in DIR/positions */
    q = open_q(0, QUEUE_FULL_BLOCK);
    char pos[16];
    CHECK_INT(queue_position(q, "audit:x", pos, sizeof(pos)), 3);
    CHECK_MEM(pos, 3, "p39");
    CHECK_INT(queue_position(q, "file:y", pos, sizeof(pos)), 4);
    struct queue_record rec;
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 3991);
    CHECK_INT(queue_ack(q, 4000), 0);
    queue_close(q);

    /* all acked and trimmed: sequences go on from the acked mark */
    q = open_q(0, QUEUE_FULL_BLOCK);
    queue_get_stats(q, &st);
    CHECK_INT(st.next_seq, 4001);
    CHECK_INT(st.pending, 0);
    CHECK_INT(queue_read(q, &rec), 0);
    /* the collector knows more of this stream than the queue */
    CHECK_INT(queue_put(q, QUEUE_KIND_AUDIT, "a", 1), 0);
    CHECK_INT(queue_ack(q, 5000), 0);
    CHECK_INT(queue_commit(q, "audit:x", "p40", 3), 0);
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, 5001);
    queue_close(q);
    rm_rf(dir);
}

static void test_full_block(void)
{
    uint64_t max = 3 * (uint64_t)QUEUE_SEGMENT_MIN;
    struct queue *q = open_q(max, QUEUE_FULL_BLOCK);
    int r = 0, batches = 0;
    while ((r = commit_n(q, 100, 1000, "audit:x", "p")) == 0)
        batches++;
    CHECK_INT(r, -ENOSPC);
    CHECK(batches > 20);
    struct queue_stats st;
    queue_get_stats(q, &st);
    CHECK(st.bytes <= max);
    CHECK_INT(st.full, 1);
    CHECK(strstr(lastlog, "full") != NULL);
    /* the refused records stay buffered: committing again after an ack
     * writes them, nothing lost */
    CHECK_INT(queue_commit(q, "audit:x", "p", 1), -ENOSPC);
    CHECK_INT(queue_ack(q, 1500), 0);
    CHECK_INT(queue_commit(q, "audit:x", "q", 1), 0);
    queue_get_stats(q, &st);
    CHECK_INT(st.next_seq, (uint64_t)batches * 100 + 101);
    CHECK_INT(st.dropped, 0);
    queue_close(q);
    rm_rf(dir);

    /* a batch larger than the whole bound is admitted into an empty queue
     * (else its input could never go on), then the bound holds again */
    max = 2 * (uint64_t)QUEUE_SEGMENT_MIN;
    q = open_q(max, QUEUE_FULL_BLOCK);
    CHECK_INT(commit_n(q, 3000, 1000, "audit:x", "big"), 0);
    CHECK_INT(commit_n(q, 1, 10, "audit:x", "small"), -ENOSPC);
    CHECK_INT(queue_ack(q, 3000), 0);
    CHECK_INT(queue_commit(q, "audit:x", "small", 5), 0);
    queue_get_stats(q, &st);
    CHECK(st.bytes <= max);
    CHECK_INT(st.next_seq, 3002);
    queue_close(q);
    rm_rf(dir);
}

static void test_full_drop_oldest(void)
{
    uint64_t max = 3 * (uint64_t)QUEUE_SEGMENT_MIN;
    struct queue *q = open_q(max, QUEUE_FULL_DROP_OLDEST);
    for (int i = 0; i < 60; i++)
        CHECK_INT(commit_n(q, 100, 1000, "audit:x", "p"), 0);
    struct queue_stats st;
    queue_get_stats(q, &st);
    CHECK(st.bytes <= max);
    CHECK(st.dropped > 0);
    CHECK_INT(st.next_seq, 6001);
    CHECK_INT(st.pending + st.dropped, 6000);
    CHECK(strstr(lastlog, "dropped") != NULL);
    struct queue_record rec;
    CHECK_INT(queue_read(q, &rec), 1);
    CHECK_INT(rec.seq, st.dropped + 1); /* the oldest went first */
    uint64_t want = rec.seq + 1;
    int bad = 0;
    while (queue_read(q, &rec) == 1)
        bad += rec.seq != want++;
    CHECK_INT(bad, 0);
    CHECK_INT(want, 6001);
    queue_close(q);
    q = open_q(max, QUEUE_FULL_DROP_OLDEST);
    queue_get_stats(q, &st);
    CHECK_INT(st.next_seq, 6001);
    CHECK_INT(commit_n(q, 3000, 1000, "audit:x", "big"), 0); /* larger than the bound */
    queue_get_stats(q, &st);
    CHECK_INT(st.pending, 3000);
    CHECK_INT(st.next_seq, 9001);
    queue_close(q);
    rm_rf(dir);
}

/* fsync every commit, then interval after a reconfigure: the same records
 * come back; a 65th input's position makes room by forgetting the one
 * committed longest ago. */
static void test_fsync_and_positions(void)
{
    struct queue_config c = conf(0, QUEUE_FULL_BLOCK);
    c.fsync = QUEUE_FSYNC_EVERY;
    struct queue *q = NULL;
    char err[512] = "";
    CHECK_INT(queue_open(&c, &q, err, sizeof(err)), 0);
    char id[32], pos[32];
    for (int i = 0; i <= QUEUE_INPUTS_MAX; i++) {
        snprintf(id, sizeof(id), "file:/var/log/%d.log", i);
        snprintf(pos, sizeof(pos), "at %d", i);
        CHECK_INT(commit_n(q, 1, 10, id, pos), 0);
        if (i == 0)
            queue_configure(q, 0, QUEUE_FULL_BLOCK, QUEUE_FSYNC_INTERVAL, 5);
    }
    queue_tick(q, INT64_MAX / 2); /* the interval's sync is due */
    queue_close(q);
    q = open_q(0, QUEUE_FULL_BLOCK);
    CHECK_INT(queue_position(q, "file:/var/log/0.log", pos, sizeof(pos)), 0);
    CHECK_INT(queue_position(q, "file:/var/log/1.log", pos, sizeof(pos)), 4);
    CHECK_MEM(pos, 4, "at 1");
    snprintf(id, sizeof(id), "file:/var/log/%d.log", QUEUE_INPUTS_MAX);
    CHECK_INT(queue_position(q, id, pos, sizeof(pos)), 5);
    struct queue_record rec;
    int n = 0;
    while (queue_read(q, &rec) == 1)
        n++;
    CHECK_INT(n, QUEUE_INPUTS_MAX + 1);
    queue_close(q);
    rm_rf(dir);
}

static void test_entry_roundtrip(void)
{
    uint8_t buf[QUEUE_ENTRY_CHECKPOINT_MAX];
    size_t n = queue_entry_put_checkpoint(buf, 7, 42, "journal", 7, "cur", 3);
    CHECK_INT(n, queue_entry_checkpoint_size(7, 3));
    struct queue_entry e;
    CHECK_INT(queue_entry_parse(buf, n, &e), n);
    CHECK_INT(e.type, 'P');
    CHECK_INT(e.gen, 7);
    CHECK_INT(e.next_seq, 42);
    CHECK_MEM(e.id, e.id_len, "journal");
    CHECK_INT(queue_entry_parse(buf, n - 1, &e), 0);
    buf[n - 1] ^= 1;
    CHECK_INT(queue_entry_parse(buf, n, &e), -EBADMSG);
    n = queue_entry_put_record(buf, QUEUE_KIND_SYSLOG, 0, "x", 1);
    CHECK_INT(queue_entry_parse(buf, n, &e), -EBADMSG); /* sequence 0 */
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_agent_queue.XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    strcat(dir, "/state"); /* the queue makes its own directory */
    test_entry_roundtrip();
    test_commit_read_reopen();
    test_torn_tail();
    test_trim_positions();
    test_full_block();
    test_full_drop_oldest();
    test_fsync_and_positions();
    dir[strlen(dir) - strlen("/state")] = 0;
    rm_rf(dir);
    return check_status();
}
