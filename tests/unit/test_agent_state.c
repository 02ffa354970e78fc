/*
 * Unit test of src/collector/agent_state.c with src/store/append_at.c: the
 * per-stream state of the agent protocol across simulated crashes. Each
 * case writes runs through store_append_direct with the intent recorded
 * first, "crashes" (everything closed without a commit, as a kill leaves
 * the page cache), runs the start-up recovery and reads the stream back:
 * committed only; intent written but no byte; the run landed; a torn run
 * (cut back); a torn run with other lines after it (left alone); the run's
 * file rotated after the write; another boot (back to acked); a torn
 * newer state slot (the older one read); and the record format itself.
 */
#include "collector/agent_state.h"
#include "store/seal.h"
#include "store/verify.h"

#include "check.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define STREAM "00112233445566778899aabbccddeeff"

struct env {
    char root[256];
    struct store *s;
    struct agent_states *as;
    struct agent_stream *st;
};

static void env_open(struct env *e, const char *boot, uint64_t max_file)
{
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.root = e->root;
    cfg.max_file_bytes = max_file;
    cfg.num_logs = 4;
    CHECK_INT(store_open(&cfg, &e->s), 0);
    CHECK_INT(agent_states_open(e->root, boot, true, &e->as), 0);
    CHECK_INT(agent_stream_get(e->as, "h1", 2, STREAM, 32, &e->st), 0);
}

static void env_new(struct env *e, uint64_t max_file)
{
    snprintf(e->root, sizeof(e->root), "/tmp/lw-agent-state-XXXXXX");
    CHECK(mkdtemp(e->root) != NULL);
    env_open(e, "boot-A", max_file);
}

/* A crash: nothing more is written; the kernel keeps what was. */
static void env_crash(struct env *e)
{
    agent_states_free(e->as);
    store_close(e->s);
    e->as = NULL;
    e->s = NULL;
}

/* Recovery as logwardd does at start, then the stream read back. */
static uint64_t env_recover(struct env *e, const char *boot, struct agent_recovery *rec)
{
    CHECK_INT(agent_states_recover(e->root, boot, true, rec), 0);
    env_open(e, boot, 0);
    return e->st->last;
}

static void env_free(struct env *e)
{
    if (e->as)
        env_crash(e);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->root);
    CHECK_INT(system(cmd), 0);
}

struct ctx {
    struct env *e;
    uint64_t first, last;
    bool die_after_intent;
    struct store_place at;
};

static int before(void *arg, const struct store_place *at)
{
    struct ctx *x = arg;
    x->at = *at;
    int r = agent_stream_intent(x->e->as, x->e->st, x->first, x->last, at);
    return r < 0 ? r : x->die_after_intent ? -ECANCELED : 0;
}

/* Writes "line-SEQ" for first..last to h1/PROG.log as one run. */
static int run(struct env *e, const char *prog, uint64_t first, uint64_t last, bool die,
               struct store_place *at)
{
    char lines[4096];
    size_t n = 0;
    for (uint64_t q = first; q <= last; q++)
        n += (size_t)snprintf(lines + n, sizeof(lines) - n, "line-%llu padding padding\n",
                              (unsigned long long)q);
    struct ctx x = {e, first, last, die, {0}};
    int r = store_append_direct(e->s, "h1", 2, prog, strlen(prog), lines, n, before, &x);
    if (r == 0)
        agent_stream_landed(e->as, e->st, last);
    if (at)
        *at = x.at;
    return r;
}

static void commit(struct env *e)
{
    CHECK_INT(store_flush(e->s), 0);
    CHECK_INT(agent_states_commit(e->as), 0);
    CHECK_INT(e->st->acked, e->st->last);
}

static off_t file_size(const struct env *e, const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", e->root, rel);
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static void test_committed_and_landed(void)
{
    struct env e;
    struct agent_recovery rec;
    env_new(&e, 0);
    CHECK_INT(e.st->last, 0);
    CHECK_INT(run(&e, "app", 1, 3, false, NULL), 0);
    commit(&e);
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 3);
    CHECK_INT(e.st->acked, 3);
    CHECK_INT(rec.landed + rec.not_landed, 0);
    /* the run landed, no commit: recovery finds its bytes */
    CHECK_INT(run(&e, "app", 4, 6, false, NULL), 0);
    CHECK_INT(e.st->acked, 3);
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 6);
    CHECK_INT(rec.landed, 1);
    CHECK_INT(e.st->acked, 6); /* made durable by the recovery before any WELCOME */
    /* two runs, the second to another file, landed: the newest intent wins */
    CHECK_INT(run(&e, "app", 7, 8, false, NULL), 0);
    CHECK_INT(run(&e, "audit", 9, 12, false, NULL), 0);
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 12);
    env_free(&e);
}

static void test_intent_without_bytes(void)
{
    struct env e;
    struct agent_recovery rec;
    env_new(&e, 0);
    CHECK_INT(run(&e, "app", 1, 2, false, NULL), 0);
    commit(&e);
    off_t before_size = file_size(&e, "h1/app.log");
    CHECK_INT(run(&e, "app", 3, 5, true, NULL), -ECANCELED); /* died after the intent */
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 2);
    CHECK_INT(rec.not_landed, 1);
    CHECK_INT(rec.cut, 0);
    CHECK_INT(file_size(&e, "h1/app.log"), before_size);
    env_free(&e);
}

static void test_torn_run(void)
{
    struct env e;
    struct agent_recovery rec;
    struct store_place at;
    env_new(&e, 0);
    CHECK_INT(run(&e, "app", 1, 2, false, NULL), 0);
    commit(&e);
    CHECK_INT(run(&e, "app", 3, 6, false, &at), 0);
    env_crash(&e);
    char p[512];
    snprintf(p, sizeof(p), "%s/h1/app.log", e.root);
    CHECK_INT(truncate(p, (off_t)(at.offset + at.len / 2)), 0); /* died inside the write */
    CHECK_INT(env_recover(&e, "boot-A", &rec), 2);
    CHECK_INT(rec.not_landed, 1);
    CHECK_INT(rec.cut, 1);
    CHECK_INT(file_size(&e, "h1/app.log"), at.offset);
    /* the resend then lands once */
    CHECK_INT(run(&e, "app", 3, 6, false, NULL), 0);
    CHECK_INT(file_size(&e, "h1/app.log"), at.offset + at.len);
    env_free(&e);
}

static void test_torn_run_then_others(void)
{
    struct env e;
    struct agent_recovery rec;
    struct store_place at;
    env_new(&e, 0);
    CHECK_INT(run(&e, "app", 1, 4, false, &at), 0);
    env_crash(&e);
    char p[512];
    snprintf(p, sizeof(p), "%s/h1/app.log", e.root);
    CHECK_INT(truncate(p, (off_t)(at.offset + 5)), 0);
    int fd = open(p, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    static const char other[] = "\nsomeone else's line, much longer than the run was, "
                                "so that the file ends well past where the run would have "
                                "ended had it landed whole\n";
    CHECK_INT(write(fd, other, sizeof(other) - 1), (ssize_t)sizeof(other) - 1);
    close(fd);
    off_t size = file_size(&e, "h1/app.log");
    CHECK(size >= (off_t)(at.offset + at.len));
    CHECK_INT(env_recover(&e, "boot-A", &rec), 0);
    CHECK_INT(rec.not_landed, 1);
    CHECK_INT(rec.cut, 0);
    CHECK_INT(file_size(&e, "h1/app.log"), size); /* others' lines are never cut */
    env_free(&e);
}

static void test_rotated_after_write(void)
{
    struct env e;
    struct agent_recovery rec;
    env_new(&e, 300);
    CHECK_INT(run(&e, "app", 1, 4, false, NULL), 0); /* ~100 bytes */
    commit(&e);
    CHECK_INT(run(&e, "app", 5, 8, false, NULL), 0);
    /* more lines rotate the file holding the run away to .1 */
    char line[200];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    CHECK_INT(store_append(e.s, "h1", 2, "app", 3, line, strlen(line)), 0);
    CHECK_INT(store_append(e.s, "h1", 2, "app", 3, line, strlen(line)), 0);
    CHECK(file_size(&e, "h1/app.log.1") > 0);
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 8);
    CHECK_INT(rec.landed, 1);
    env_free(&e);
}

/* A write that fails half way (RLIMIT_FSIZE stands in for a full disk):
 * the store cuts what landed, the intent is voided, nothing is stored. */
static void test_failed_write(void)
{
    struct env e;
    struct agent_recovery rec;
    struct store_place at;
    env_new(&e, 0);
    /* past the state file's 4096 bytes, so that only the data write hits the limit */
    char line[200];
    memset(line, 'y', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    for (int i = 0; i < 30; i++)
        CHECK_INT(store_append(e.s, "h1", 2, "app", 3, line, strlen(line)), 0);
    CHECK_INT(run(&e, "app", 1, 2, false, &at), 0);
    commit(&e);
    off_t size = file_size(&e, "h1/app.log");
    CHECK(size > 2 * AGENT_STATE_SLOT);
    struct rlimit old, lim;
    CHECK_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 30; /* the run is about 92 bytes */
    signal(SIGXFSZ, SIG_IGN);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int r = run(&e, "app", 3, 6, false, &at);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
    CHECK(r < 0);
    CHECK_INT(at.offset, size); /* the intent was written: the data write failed */
    CHECK_INT(file_size(&e, "h1/app.log"), size); /* the 30 bytes that landed were cut */
    CHECK_INT(agent_stream_cancel(e.as, e.st), 0);
    CHECK_INT(e.st->last, 2);
    /* the resend lands once, right after the committed lines */
    CHECK_INT(run(&e, "app", 3, 6, false, &at), 0);
    CHECK_INT(at.offset, size);
    env_crash(&e);
    CHECK_INT(env_recover(&e, "boot-A", &rec), 6);
    env_free(&e);
}

/* Sealing on: a torn run is cut back before the store opens, so its seal
 * walk never chains the torn bytes, and the store verifies clean. */
static void test_sealed_torn_run(void)
{
    static const struct seal_key k0 = {0, {7, 7, 7}};
    struct env e;
    struct agent_recovery rec;
    snprintf(e.root, sizeof(e.root), "/tmp/lw-agent-state-XXXXXX");
    CHECK(mkdtemp(e.root) != NULL);
    char p[512], text[256];
    snprintf(p, sizeof(p), "%s/.logward-key", e.root);
    int n = seal_key_format(&k0, SEAL_KEY_MAGIC, text, sizeof(text));
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, text, (size_t)n) == n);
    close(fd);
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.root = e.root;
    cfg.seal = true;
    CHECK_INT(store_open(&cfg, &e.s), 0);
    CHECK_INT(agent_states_open(e.root, "boot-A", true, &e.as), 0);
    CHECK_INT(agent_stream_get(e.as, "h1", 2, STREAM, 32, &e.st), 0);
    CHECK_INT(run(&e, "app", 1, 3, false, NULL), 0);
    commit(&e);
    store_close(e.s); /* its closing seals cover lines 1..3 */
    e.s = NULL;
    /* then a run's intent, and the process dies half way through its write */
    static const char run_bytes[] = "line-4 padding padding\nline-5 padding padding\n";
    size_t len = sizeof(run_bytes) - 1;
    snprintf(p, sizeof(p), "%s/h1/app.log", e.root);
    struct stat st;
    CHECK_INT(stat(p, &st), 0);
    struct store_place at = {.dev = (uint64_t)st.st_dev,
                             .ino = (uint64_t)st.st_ino,
                             .offset = (uint64_t)st.st_size,
                             .len = len,
                             .sum = store_bytes_sum(run_bytes, len),
                             .path_len = 10};
    memcpy(at.path, "h1/app.log", 11);
    CHECK_INT(agent_stream_intent(e.as, e.st, 4, 5, &at), 0);
    fd = open(p, O_WRONLY | O_APPEND);
    CHECK_INT(write(fd, run_bytes, len / 2), (ssize_t)(len / 2));
    close(fd);
    agent_states_free(e.as);
    e.as = NULL;
    CHECK_INT(agent_states_recover(e.root, "boot-A", true, &rec), 0);
    CHECK_INT(rec.cut, 1);
    CHECK_INT(st.st_size, file_size(&e, "h1/app.log"));
    CHECK_INT(store_open(&cfg, &e.s), 0); /* the start-up seal walk */
    store_close(e.s);
    e.s = NULL;
    struct verify_opts o = {.k0 = &k0};
    struct verify_run *v;
    CHECK_INT(verify_run_new(&o, &v), 0);
    verify_path(v, e.root);
    verify_finish(v);
    CHECK(verify_count(v) > 0);
    for (size_t i = 0; i < verify_count(v); i++) {
        const struct verify_result *r = verify_get(v, i);
        if (r->status != VERIFY_OK)
            fprintf(stderr, "%s: %s %s\n", r->file, verify_status_name(r->status), r->what);
        CHECK_INT(r->status, VERIFY_OK);
    }
    verify_run_free(v);
    env_free(&e);
}

static void test_reboot(void)
{
    struct env e;
    struct agent_recovery rec;
    env_new(&e, 0);
    CHECK_INT(run(&e, "app", 1, 3, false, NULL), 0);
    commit(&e);
    CHECK_INT(run(&e, "app", 4, 9, false, NULL), 0);
    CHECK_INT(run(&e, "app", 10, 11, false, NULL), 0);
    env_crash(&e);
    /* another boot: only what was synced and acked is trusted */
    CHECK_INT(env_recover(&e, "boot-B", &rec), 3);
    CHECK_INT(rec.rebooted, 1);
    CHECK_INT(e.st->acked, 3);
    env_free(&e);
}

static void test_torn_slot(void)
{
    struct env e;
    struct agent_recovery rec;
    env_new(&e, 0);
    CHECK_INT(run(&e, "app", 1, 3, false, NULL), 0);
    commit(&e);
    CHECK_INT(run(&e, "app", 4, 5, false, NULL), 0);
    commit(&e);
    uint64_t gen = e.st->gen;
    env_crash(&e);
    char p[512];
    snprintf(p, sizeof(p), "%s/%s/h1/%s", e.root, AGENT_STATE_DIR, STREAM);
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0);
    struct agent_state_record r;
    CHECK_INT(agent_state_read(fd, &r), 0);
    CHECK_INT(r.gen, gen);
    CHECK_INT(r.last, 5);
    /* a torn write of the newest slot: the previous record stands */
    CHECK_INT(pwrite(fd, "lwas/1 gen=99", 13, (off_t)((gen & 1) * AGENT_STATE_SLOT) + 20), 13);
    CHECK_INT(agent_state_read(fd, &r), 0);
    CHECK_INT(r.gen, gen - 1);
    close(fd);
    /* its record was the intent of 4..5, whose bytes are there */
    CHECK_INT(env_recover(&e, "boot-A", &rec), 5);
    CHECK_INT(rec.landed, 1);
    env_free(&e);
}

static void test_record_format(void)
{
    struct agent_state_record r;
    const char *ok = "lwas/1 gen=3 boot=b-1 acked=1 last=2\n";
    CHECK_INT(agent_state_record_parse(ok, strlen(ok), &r), -EBADMSG); /* no crc */
    CHECK_INT(agent_state_record_parse("", 0, &r), -EBADMSG);
    CHECK_INT(agent_state_record_parse("lwas/2 gen=1", 12, &r), -EBADMSG);
    /* a written record parses back, with its intent */
    struct env e;
    env_new(&e, 0);
    struct store_place at;
    CHECK_INT(run(&e, "app", 1, 2, true, &at), -ECANCELED);
    char p[512];
    snprintf(p, sizeof(p), "%s/%s/h1/%s", e.root, AGENT_STATE_DIR, STREAM);
    int fd = open(p, O_RDONLY);
    CHECK_INT(agent_state_read(fd, &r), 0);
    CHECK(r.pending);
    CHECK_INT(r.first, 1);
    CHECK_INT(r.end, 2);
    CHECK_INT(r.at.offset, at.offset);
    CHECK_INT(r.at.len, at.len);
    CHECK(r.at.sum == at.sum);
    CHECK_STR(r.at.path, "h1/app.log");
    CHECK_STR(r.boot, "boot-A");
    char slot[AGENT_STATE_SLOT];
    CHECK_INT(pread(fd, slot, sizeof(slot), (off_t)((r.gen & 1) * AGENT_STATE_SLOT)),
              (ssize_t)sizeof(slot));
    slot[strlen(slot) - 3] ^= 1; /* a flipped bit in the crc */
    CHECK_INT(agent_state_record_parse(slot, strlen(slot), &r), -EBADMSG);
    close(fd);
    env_free(&e);
}

int main(void)
{
    test_committed_and_landed();
    test_intent_without_bytes();
    test_torn_run();
    test_torn_run_then_others();
    test_rotated_after_write();
    test_failed_write();
    test_sealed_torn_run();
    test_reboot();
    test_torn_slot();
    test_record_format();
    return check_status();
}
