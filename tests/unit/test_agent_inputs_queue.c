/*
 * test_agent_inputs_queue: the audit:PATH input against the real disk
 * queue (queue.c): records and the position committed together, read back
 * in order; the queue closed and opened again (the agent restarted) and
 * the input restored from the position the queue recovered, with a
 * rotation in between: nothing lost, nothing repeated.
 */
#include "agent/input.h"
#include "agent/queue.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], log_path[128], spec[160];

static void put(const char *path, const char *s, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f)
        exit(2);
    fputs(s, f);
    fclose(f);
}

static struct queue *open_queue(void)
{
    struct queue_config cfg = {.dir = dir, .fsync = QUEUE_FSYNC_NONE};
    struct queue *q = NULL;
    char err[256];
    if (queue_open(&cfg, &q, err, sizeof err) < 0) {
        fprintf(stderr, "queue_open: %s\n", err);
        exit(1);
    }
    return q;
}

static int drain(struct queue *q)
{
    struct input *in = NULL;
    char err[256];
    if (input_open(spec, q, &in, err, sizeof err) < 0) {
        fprintf(stderr, "input_open: %s\n", err);
        exit(1);
    }
    int total = 0, r;
    while ((r = input_run(in, 3)) > 0)
        total += r;
    input_free(in);
    return r < 0 ? r : total;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lw-agent-inq-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(log_path, sizeof log_path, "%s/audit.log", dir);
    snprintf(spec, sizeof spec, "audit:%s", log_path);
    put(log_path, "type=A msg=audit(1.000:1): x\ntype=A msg=audit(1.000:2): x\n", "w");
    struct queue *q = open_queue();
    CHECK_INT(drain(q), 2);
    queue_close(q);
    put(log_path, "type=A msg=audit(1.000:3): x\n", "a");
    char rotated[160];
    snprintf(rotated, sizeof rotated, "%s.1", log_path);
    rename(log_path, rotated);
    put(log_path, "type=A msg=audit(1.000:4): x\n", "w");
    q = open_queue();
    CHECK_INT(drain(q), 2);
    CHECK_INT(drain(q), 0); /* the position moved with the records */
    queue_rewind(q, 0);
    struct queue_record rec;
    int n = 0;
    while (queue_read(q, &rec) == 1) {
        char want[64];
        snprintf(want, sizeof want, "type=A msg=audit(1.000:%d): x", n + 1);
        CHECK_MEM(rec.data, rec.len, want);
        CHECK_INT(rec.kind, QUEUE_KIND_AUDIT);
        CHECK_INT(rec.seq, n + 1);
        n++;
    }
    CHECK_INT(n, 4);
    queue_close(q);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 2;
    return check_status();
}
