/*
 * test_spool: the audit spool (src/collector/spool.c) and the regrouping on
 * top of it (regroup.c), without sockets: records of interleaved events go
 * in, a writer stands in for the store; then the spool files are read back
 * as after a crash, and the replay must hand out exactly the records whose
 * events were not written (done marks), in order; files are dropped or cut
 * once no open event needs them.
 */
#include "check.h"
#include "collector/regroup.h"
#include "collector/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int count_files(void)
{
    int n = 0;
    for (int g = 1; g < 100; g++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/audit.%d", dir, g);
        n += access(p, F_OK) == 0;
    }
    return n;
}

static off_t file_size(int gen)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/audit.%d", dir, gen);
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static char *rec(char *out, const char *type, int ms, int serial, const char *rest)
{
    sprintf(out, "node=h type=%s msg=audit(1700000000.%03d:%d): %s", type, ms, serial, rest);
    return out;
}

/* strlen inside: an argument list does not order rec() before strlen(). */
static int spool_rec(struct spool *sp, const char *host, size_t host_len, const char *line)
{
    return spool_put_record(sp, host, host_len, line, strlen(line));
}

static int rg_add(struct regroup *rg, const char *line)
{
    return regroup_add(rg, "peer", 4, line, strlen(line));
}

struct got {
    char text[1 << 16];
    size_t len;
    int lines;
};

static int collect(void *arg, uint64_t gen, const char *host, size_t host_len, const char *line,
                   size_t len)
{
    struct got *g = arg;
    (void)gen;
    g->len += (size_t)snprintf(g->text + g->len, sizeof(g->text) - g->len, "%.*s|%.*s\n",
                               (int)host_len, host, (int)len, line);
    g->lines++;
    return 0;
}

static int writer(void *arg, const char *host, size_t host_len, const char *line, size_t len)
{
    return collect(arg, 0, host, host_len, line, len);
}

/* Spool alone: records, a done mark covering only what precedes it, torn tail. */
static void test_spool_replay(void)
{
    struct spool *sp;
    CHECK_INT(spool_open(dir, true, &sp), 0);
    CHECK_INT(spool_current(sp), 1);
    char a[256], b[256], key[SPOOL_KEY_MAX];
    CHECK_INT(spool_rec(sp, "h", 1, rec(a, "SYSCALL", 1, 10, "x=1")), 0);
    CHECK_INT(spool_rec(sp, "h", 1, rec(b, "SYSCALL", 2, 11, "x=2")), 0);
    size_t kl = spool_key(key, "h", 1, 1700000000, 1, 10);
    CHECK_MEM(key, kl, "h 1700000000.001:10");
    CHECK_INT(spool_put_done(sp, key, kl), 0);
    /* the same key again after its done mark: a later part, still owed */
    CHECK_INT(spool_rec(sp, "h h", 3, rec(a, "PATH", 1, 10, "item=0")), 0);
    CHECK_INT(spool_sync(sp), 0);
    spool_free(sp);
    /* a torn last line (never acked) */
    char p[512];
    snprintf(p, sizeof(p), "%s/audit.1", dir);
    int fd = open(p, O_WRONLY | O_APPEND);
    CHECK(write(fd, "R 1 h node=h type=CWD msg=audit(17", 34) == 34);
    close(fd);

    CHECK_INT(spool_open(dir, true, &sp), 0);
    CHECK_INT(spool_current(sp), 2);
    struct got g = {.len = 0};
    struct spool_replay_stats st;
    CHECK_INT(spool_replay(sp, collect, &g, &st), 0);
    CHECK_INT(st.files, 1);
    CHECK_INT(st.records, 3);
    CHECK_INT(st.done, 1);
    CHECK_INT(st.replayed, 2);
    CHECK_INT(st.torn, 1);
    CHECK_MEM(g.text, g.len,
              "h|node=h type=SYSCALL msg=audit(1700000000.002:11): x=2\n"
              "h h|node=h type=PATH msg=audit(1700000000.001:10): item=0\n");
    /* drop and truncate */
    CHECK_INT(spool_drop(sp, 1), 0);
    CHECK_INT(spool_drop(sp, 2), -ENOENT); /* the current one is never dropped */
    CHECK_INT(count_files(), 1);
    CHECK_INT(spool_put_done(sp, key, kl), 0);
    CHECK_INT(spool_sync(sp), 0);
    CHECK(file_size(2) > (off_t)strlen(SPOOL_MAGIC) + 1);
    CHECK_INT(spool_truncate(sp), 0);
    CHECK_INT(file_size(2), strlen(SPOOL_MAGIC) + 1);
    spool_free(sp);
    unlink(p);
    snprintf(p, sizeof(p), "%s/audit.2", dir);
    unlink(p);
}

/* A done mark in a newer file covers records of an older one. */
static void test_spool_across_files(void)
{
    struct spool *sp;
    char a[256], key[SPOOL_KEY_MAX];
    CHECK_INT(spool_open(dir, false, &sp), 0);
    CHECK_INT(spool_rec(sp, "h", 1, rec(a, "SYSCALL", 5, 50, "y=1")), 0);
    CHECK_INT(spool_rotate(sp), 0);
    size_t kl = spool_key(key, "h", 1, 1700000000, 5, 50);
    CHECK_INT(spool_put_done(sp, key, kl), 0);
    CHECK_INT(spool_sync(sp), 0);
    spool_free(sp);
    CHECK_INT(spool_open(dir, false, &sp), 0);
    size_t n;
    spool_gens(sp, &n);
    CHECK_INT(n, 3);
    struct got g = {.len = 0};
    struct spool_replay_stats st;
    CHECK_INT(spool_replay(sp, collect, &g, &st), 0);
    CHECK_INT(st.records, 1);
    CHECK_INT(st.replayed, 0);
    CHECK_INT(spool_drop(sp, 1), 0);
    CHECK_INT(spool_drop(sp, 2), 0);
    spool_free(sp);
    char p[512];
    snprintf(p, sizeof(p), "%s/audit.3", dir);
    unlink(p);
}

/* regroup: interleaved events come out whole; a "crash" (free without
 * finishing) then a replay writes the open ones once; the spool empties. */
static void test_regroup(void)
{
    struct got w = {.len = 0};
    struct regroup_config cfg = {dir, true, 1000, 0, NULL};
    struct regroup *rg;
    CHECK_INT(regroup_open(&cfg, writer, &w, &rg), 0);
    char l[256];
    const char *types[3] = {"SYSCALL", "CWD", "PROCTITLE"};
    for (int t = 0; t < 3; t++)
        for (int e = 0; e < 4; e++)
            CHECK_INT(rg_add(rg, rec(l, types[t], e, 100 + e, "a=1")), 0);
    /* a one-record event is written at once and never spooled */
    CHECK_INT(rg_add(rg, rec(l, "USER_CMD", 9, 200, "cmd=6C73")), 0);
    CHECK_INT(w.lines, 1);
    CHECK_INT(regroup_stats(rg)->spooled, 12);
    CHECK_INT(regroup_open_events(rg), 4);
    /* events 0 and 1 close at once (idle: two ticks without their records) */
    CHECK_INT(rg_add(rg, rec(l, "SYSCALL", 2, 102, "late=1")), 0);
    CHECK_INT(rg_add(rg, rec(l, "SYSCALL", 3, 103, "late=1")), 0);
    CHECK_INT(regroup_tick(rg, 1000), 0);
    CHECK_INT(rg_add(rg, rec(l, "SYSCALL", 2, 102, "late=2")), 0);
    CHECK_INT(rg_add(rg, rec(l, "SYSCALL", 3, 103, "late=2")), 0);
    CHECK_INT(regroup_tick(rg, 2000), 0);
    CHECK_INT(regroup_open_events(rg), 2);
    CHECK_INT(w.lines, 7);
    CHECK_MEM(w.text, w.len,
              "peer|node=h type=USER_CMD msg=audit(1700000000.009:200): cmd=6C73\n"
              "peer|node=h type=SYSCALL msg=audit(1700000000.000:100): a=1\n"
              "peer|node=h type=CWD msg=audit(1700000000.000:100): a=1\n"
              "peer|node=h type=PROCTITLE msg=audit(1700000000.000:100): a=1\n"
              "peer|node=h type=SYSCALL msg=audit(1700000000.001:101): a=1\n"
              "peer|node=h type=CWD msg=audit(1700000000.001:101): a=1\n"
              "peer|node=h type=PROCTITLE msg=audit(1700000000.001:101): a=1\n");
    CHECK_INT(regroup_commit(rg), 0);
    regroup_free(rg); /* kill -9: events 2 and 3 are open, their records spooled */

    struct got w2 = {.len = 0};
    CHECK_INT(regroup_open(&cfg, writer, &w2, &rg), 0);
    CHECK_INT(regroup_replay(rg), 0);
    CHECK_INT(regroup_stats(rg)->replay.replayed, 10);
    CHECK_INT(regroup_open_events(rg), 2);
    CHECK_INT(w2.lines, 0);
    CHECK_INT(regroup_commit(rg), 0);
    CHECK_INT(count_files(), 2); /* the old file holds records of open events */
    CHECK_INT(regroup_finish(rg), 0);
    CHECK_INT(w2.lines, 10);
    const char *first = "peer|node=h type=SYSCALL msg=audit(1700000000.002:102): a=1\n"
                        "peer|node=h type=CWD msg=audit(1700000000.002:102): a=1\n"
                        "peer|node=h type=PROCTITLE msg=audit(1700000000.002:102): a=1\n"
                        "peer|node=h type=SYSCALL msg=audit(1700000000.002:102): late=1\n";
    CHECK(w2.len > strlen(first) && !strncmp(w2.text, first, strlen(first)));
    CHECK_INT(regroup_tick(rg, 5000), 1); /* files wait for a store flush */
    CHECK_INT(regroup_commit(rg), 0);
    CHECK_INT(count_files(), 1);
    CHECK_INT(file_size(2), strlen(SPOOL_MAGIC) + 1);
    regroup_free(rg);

    /* and nothing is owed any more */
    struct got w3 = {.len = 0};
    CHECK_INT(regroup_open(&cfg, writer, &w3, &rg), 0);
    CHECK_INT(regroup_replay(rg), 0);
    CHECK_INT(regroup_stats(rg)->replay.replayed, 0);
    CHECK_INT(regroup_commit(rg), 0);
    CHECK_INT(count_files(), 1);
    regroup_free(rg);
}

/* Crash between an event's write to audit.log and its done mark: the
 * replay finds its lines at the end of audit.log and does not take them. */
static void test_replay_written(void)
{
    char root[300], hostdir[320], log[340], l[256];
    snprintf(root, sizeof(root), "%.*s", (int)(strlen(dir) - 6), dir); /* beside the spool */
    snprintf(hostdir, sizeof(hostdir), "%s/h", root);
    snprintf(log, sizeof(log), "%s/audit.log", hostdir);
    CHECK_INT(mkdir(hostdir, 0700), 0);
    struct spool *sp;
    CHECK_INT(spool_open(dir, true, &sp), 0);
    FILE *f = fopen(log, "w");
    fprintf(f, "%s\n", rec(l, "USER_CMD", 0, 1, "first"));
    for (int i = 0; i < 2; i++) { /* event 7 written, no done mark */
        rec(l, i ? "CWD" : "SYSCALL", 7, 70, "w=1");
        CHECK_INT(spool_put_record(sp, "h", 1, l, strlen(l)), 0);
        fprintf(f, "%s\n", l);
    }
    /* event 8: spooled, not written; its line is a prefix of a stored one */
    CHECK_INT(spool_rec(sp, "h", 1, rec(l, "SYSCALL", 8, 80, "w")), 0);
    fprintf(f, "%s\n", rec(l, "SYSCALL", 8, 80, "w=2"));
    fclose(f);
    CHECK_INT(spool_sync(sp), 0);
    spool_free(sp);

    struct got w = {.len = 0};
    struct regroup_config cfg = {dir, true, 1000, 0, root};
    struct regroup *rg;
    CHECK_INT(regroup_open(&cfg, writer, &w, &rg), 0);
    CHECK_INT(regroup_replay(rg), 0);
    CHECK_INT(regroup_stats(rg)->replay.replayed, 3);
    CHECK_INT(regroup_stats(rg)->replay_stored, 2);
    CHECK_INT(regroup_open_events(rg), 1);
    CHECK_INT(regroup_finish(rg), 0);
    CHECK_MEM(w.text, w.len, "h|node=h type=SYSCALL msg=audit(1700000000.008:80): w\n");
    CHECK_INT(regroup_commit(rg), 0);
    CHECK_INT(regroup_commit(rg), 0);
    CHECK_INT(count_files(), 1);
    regroup_free(rg);
    unlink(log);
    rmdir(hostdir);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_spool.XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    strcat(dir, "/spool"); /* created by spool_open */
    test_spool_replay();
    test_spool_across_files();
    test_regroup();
    test_replay_written();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 6), dir);
    if (system(cmd) != 0)
        check_failures++;
    return check_status();
}
