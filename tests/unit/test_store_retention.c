/* Unit tests of the store's housekeeping: retention by age and by total
 * size, the disk-space thresholds (through the test probe and through the
 * real fstatvfs), zstd of rotated files with its crash safety (temp files,
 * plain and .zst side by side, a job cut short, renumbering and deletion
 * while a job runs), the group and modes of rotated and compressed files,
 * and the new config checks. Each test works in its own temp dir. */
#include "store/store.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

static char base[64], root[96];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(base, sizeof(base), "/tmp/lw-storer-XXXXXX");
    if (!mkdtemp(base))
        abort();
    snprintf(root, sizeof(root), "%s/store", base);
}

static void teardown(void)
{
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct store *open_store(struct store_config *cfg)
{
    cfg->root = root;
    struct store *s = NULL;
    CHECK_INT(store_open(cfg, &s), 0);
    if (!s)
        abort();
    return s;
}

static int put(struct store *s, const char *host, const char *prog, const char *line)
{
    return store_append(s, host, strlen(host), prog, strlen(prog), line, strlen(line));
}

static const char *at(const char *rel)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof(path[k]), "%s/%s", root, rel);
    return path[k];
}

static long size_of(const char *rel)
{
    struct stat st;
    return lstat(at(rel), &st) == 0 ? (long)st.st_size : -1;
}

static int mode_of(const char *rel)
{
    struct stat st;
    return lstat(at(rel), &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void set_mtime(const char *rel, time_t t)
{
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    CHECK_INT(utimensat(AT_FDCWD, at(rel), ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Whole file (up to 16 MiB) into a static buffer; *n gets its length. */
static char *slurp(const char *rel, size_t *n)
{
    static char *data;
    if (!data)
        data = malloc(16 << 20);
    *n = 0;
    int fd = open(at(rel), O_RDONLY);
    if (fd < 0)
        return data;
    ssize_t r;
    while ((r = read(fd, data + *n, (16 << 20) - *n)) > 0)
        *n += (size_t)r;
    close(fd);
    return data;
}

/* The .zst decompressed by libzstd, compared with want. */
static void check_zst(const char *rel, const char *want, size_t want_len)
{
    size_t n;
    char *z = slurp(rel, &n);
    char *out = malloc(want_len + 1);
    size_t got = ZSTD_decompress(out, want_len + 1, z, n);
    CHECK(!ZSTD_isError(got));
    CHECK_INT(got, want_len);
    CHECK(!ZSTD_isError(got) && got == want_len && memcmp(out, want, want_len) == 0);
    free(out);
}

static struct store_stats stats(struct store *s)
{
    struct store_stats st;
    store_get_stats(s, &st);
    return st;
}

/* Runs store_maintain until it has nothing left; returns the calls made. */
static int maintain_all(struct store *s, time_t now)
{
    int calls = 0, r;
    while ((r = store_maintain(s, now)) > 0 && calls < 1000)
        calls++;
    CHECK_INT(r, 0);
    return calls + 1;
}

/* 20-byte lines (19 + '\n'), 5 per 100-byte file: `lines` of them. */
static void fill(struct store *s, const char *host, const char *prog, int from, int lines)
{
    char line[32];
    for (int i = from; i < from + lines; i++) {
        snprintf(line, sizeof(line), "line %014d", i);
        CHECK_INT(put(s, host, prog, line), 0);
    }
    CHECK_INT(store_flush(s), 0);
}

/* ---- config ---- */

static void test_config(void)
{
    setup();
    static const struct store_config bad[] = {
        {.space_left_bytes = 10, .space_left_percent = 5},
        {.admin_space_left_bytes = 10, .admin_space_left_percent = 5},
        {.space_left_percent = 100},
        {.space_left_bytes = 10, .admin_space_left_bytes = 11},
        {.space_left_percent = 10, .admin_space_left_percent = 11},
        {.compress_level = 20},
        {.compress_level = -1},
        {.max_age_seconds = STORE_AGE_MAX + 1},
        {.space_check_ms = STORE_SPACE_MS_MAX + 1},
        {.path_template = "%h/%p.zst"},
        {.path_template = "%h/%p.tmp"},
        {.path_template = "%h/%pt"},
        {.path_template = "%h/%pzst"},
        {.path_template = "%h/%p.log.zst"},
        {.path_template = "%h/x.zst"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store_config cfg = bad[i];
        cfg.root = root;
        cfg.group = (gid_t)-1;
        struct store *s = NULL;
        int r = store_open(&cfg, &s);
        if (r != -EINVAL)
            fprintf(stderr, "bad config %zu accepted\n", i);
        CHECK_INT(r, -EINVAL);
        CHECK(s == NULL);
    }
    /* Defaults: everything off, checks every second. */
    struct store_config cfg;
    store_config_init(&cfg);
    CHECK_INT(cfg.max_age_seconds + cfg.max_total_bytes + cfg.space_left_bytes, 0);
    CHECK_INT(cfg.compress_level, 0);
    CHECK_INT(cfg.space_check_ms, 1000);
    cfg.path_template = "%h/%p.txt"; /* ends in 't', but ".txt" cannot end in ".zst" */
    struct store *s = open_store(&cfg);
    CHECK_INT(store_space_state(s), STORE_SPACE_OK);
    CHECK_INT(store_maintain(s, time(NULL)), 0);
    store_close(s);
    teardown();
}

/* ---- retention ---- */

static void test_age(void)
{
    setup();
    time_t now = time(NULL);
    struct store_config cfg = {.group = (gid_t)-1, .max_file_bytes = 100, .num_logs = 10};
    struct store *s = open_store(&cfg);
    fill(s, "h", "p", 0, 28); /* p.log.1 .. p.log.5 and the active file */
    store_close(s);
    /* Found by the walk at open: ages set on disk. The active file is old
     * too, and stays. */
    set_mtime("h/p.log.5", now - 5000);
    set_mtime("h/p.log.4", now - 4000);
    set_mtime("h/p.log.3", now - 100);
    set_mtime("h/p.log", now - 9000);
    cfg.max_age_seconds = 1000;
    s = open_store(&cfg);
    CHECK_INT(stats(s).rotated_files, 5);
    CHECK_INT(stats(s).total_bytes, 28 * 20);
    CHECK_INT(store_maintain(s, now), 0);
    CHECK_INT(size_of("h/p.log.5"), -1);
    CHECK_INT(size_of("h/p.log.4"), -1);
    CHECK_INT(size_of("h/p.log.3"), 100);
    CHECK_INT(size_of("h/p.log"), 60);
    CHECK_INT(stats(s).expired_age, 2);
    CHECK_INT(stats(s).expired_bytes, 200);
    CHECK_INT(stats(s).total_bytes, 28 * 20 - 200);
    /* Files rotated in this run are in the index too; later, all rotated
     * files are past the age, and only the active one is left. */
    fill(s, "h", "p", 28, 5);
    CHECK_INT(stats(s).rotated_files, 4);
    CHECK_INT(store_maintain(s, now + 2000), 0);
    CHECK_INT(stats(s).rotated_files, 0);
    CHECK_INT(stats(s).expired_age, 6);
    CHECK_INT(size_of("h/p.log"), 60);
    CHECK_INT(stats(s).total_bytes, 60);
    store_close(s);
    teardown();
}

static void test_total_size(void)
{
    setup();
    time_t now = time(NULL);
    struct store_config cfg = {.group = (gid_t)-1, .max_file_bytes = 100, .num_logs = 6};
    struct store *s = open_store(&cfg);
    fill(s, "a", "p", 0, 21); /* a/p.log.1..4, 20 bytes active */
    fill(s, "b", "q", 0, 13); /* b/q.log.1..2, 60 bytes active */
    store_close(s);
    /* Interleaved ages: the oldest store-wide go first, whatever the host. */
    set_mtime("a/p.log.4", now - 800);
    set_mtime("b/q.log.2", now - 700);
    set_mtime("a/p.log.3", now - 600);
    set_mtime("a/p.log.2", now - 500);
    set_mtime("b/q.log.1", now - 400);
    set_mtime("a/p.log.1", now - 300);
    cfg.max_total_bytes = 480; /* total is 680: 2 files must go */
    s = open_store(&cfg);
    CHECK_INT(stats(s).total_bytes, 680);
    CHECK_INT(store_maintain(s, now), 0);
    CHECK_INT(stats(s).expired_size, 2);
    CHECK_INT(size_of("a/p.log.4"), -1);
    CHECK_INT(size_of("b/q.log.2"), -1);
    CHECK_INT(size_of("a/p.log.3"), 100);
    CHECK_INT(stats(s).total_bytes, 480);
    store_close(s);
    /* A bound below the active files: every rotated file goes, no active. */
    cfg.max_total_bytes = 10;
    s = open_store(&cfg);
    CHECK_INT(store_maintain(s, now), 0);
    CHECK_INT(stats(s).rotated_files, 0);
    CHECK_INT(size_of("a/p.log"), 20);
    CHECK_INT(size_of("b/q.log"), 60);
    store_close(s);
    teardown();
}

/* Bounded work: at most STORE_MAINTAIN_DELETES deletions a call. */
static void test_bounded(void)
{
    setup();
    time_t now = time(NULL);
    struct store_config cfg = {.group = (gid_t)-1, .max_file_bytes = 100, .num_logs = 3};
    struct store *s = open_store(&cfg);
    char host[16];
    for (int h = 0; h < 50; h++) {
        snprintf(host, sizeof(host), "h%d", h);
        fill(s, host, "p", 0, 15); /* 2 rotated each: 100 in all */
    }
    cfg.max_age_seconds = 60;
    store_close(s);
    s = open_store(&cfg);
    CHECK_INT(stats(s).rotated_files, 100);
    CHECK_INT(store_maintain(s, now + 3600), 1); /* 64 done, more left */
    CHECK_INT(stats(s).expired_age, 64);
    CHECK_INT(store_maintain(s, now + 3600), 0);
    CHECK_INT(stats(s).expired_age, 100);
    store_close(s);
    teardown();
}

/* ---- disk space ---- */

struct fake_disk {
    uint64_t avail, size;
    int calls;
};

static int fake_probe(void *arg, int root_fd, uint64_t *avail, uint64_t *size)
{
    struct fake_disk *d = arg;
    (void)root_fd;
    d->calls++;
    *avail = d->avail;
    *size = d->size;
    return 0;
}

static int said;
static void count_log(void *arg, const char *msg)
{
    (void)arg;
    said++;
    if (getenv("LW_TEST_VERBOSE"))
        fprintf(stderr, "log: %s\n", msg);
}

static void test_space_thresholds(void)
{
    setup();
    struct fake_disk d = {.avail = 2000000, .size = 100000000};
    struct store_config cfg = {.group = (gid_t)-1,
                               .space_left_bytes = 1000000,
                               .admin_space_left_bytes = 500000,
                               .space_probe = fake_probe,
                               .space_probe_arg = &d,
                               .log = count_log};
    said = 0;
    struct store *s = open_store(&cfg);
    CHECK_INT(d.calls, 1); /* checked at open */
    CHECK_INT(store_space_state(s), STORE_SPACE_OK);
    CHECK_INT(put(s, "h", "p", "ok"), 0);
    d.avail = 800000;
    CHECK_INT(store_maintain(s, time(NULL)), 0);
    CHECK_INT(store_space_state(s), STORE_SPACE_LOW);
    CHECK_INT(put(s, "h", "p", "low"), 0); /* still accepted */
    CHECK_INT(stats(s).space_low, 1);
    CHECK_INT(said, 1);
    store_maintain(s, time(NULL)); /* still low: said once per crossing */
    CHECK_INT(said, 1);
    d.avail = 400000;
    store_maintain(s, time(NULL));
    CHECK_INT(store_space_state(s), STORE_SPACE_FULL);
    CHECK_INT(put(s, "h", "p", "refused"), -ENOSPC);
    CHECK_INT(put(s, "h", "p", "refused"), -ENOSPC);
    CHECK_INT(stats(s).refused_full, 2);
    CHECK_INT(stats(s).space_full, 1);
    CHECK_INT(stats(s).write_errors, 0);
    CHECK_INT(store_flush(s), 0); /* what was accepted before is still written */
    size_t n;
    const char *text = slurp("h/p.log", &n);
    CHECK_MEM(text, n, "ok\nlow\n");
    d.avail = 3000000;
    store_maintain(s, time(NULL));
    CHECK_INT(store_space_state(s), STORE_SPACE_OK); /* resumed by itself */
    CHECK_INT(put(s, "h", "p", "again"), 0);
    CHECK_INT(said, 3);
    CHECK_INT(stats(s).space_low, 1);
    store_close(s);
    /* Percent of the file system's size. */
    cfg = (struct store_config){.group = (gid_t)-1,
                                .space_left_percent = 10,
                                .admin_space_left_percent = 5,
                                .space_probe = fake_probe,
                                .space_probe_arg = &d};
    d.avail = 7000000; /* 7% of 100 MB */
    s = open_store(&cfg);
    CHECK_INT(store_space_state(s), STORE_SPACE_LOW);
    d.avail = 4000000;
    store_maintain(s, 0);
    CHECK_INT(store_space_state(s), STORE_SPACE_FULL);
    store_close(s);
    teardown();
}

/* Appends check only when they would use the headroom seen at the last
 * check, or after space_check_ms. */
static void test_space_check_rate(void)
{
    setup();
    struct fake_disk d = {.avail = 500000 + 1000, .size = 100000000};
    struct store_config cfg = {.group = (gid_t)-1,
                               .admin_space_left_bytes = 500000,
                               .space_check_ms = 60000,
                               .space_probe = fake_probe,
                               .space_probe_arg = &d};
    struct store *s = open_store(&cfg);
    char line[100];
    memset(line, 'x', 99);
    line[99] = '\0';
    int before = d.calls;
    for (int i = 0; i < 10; i++) /* 10 x 100 bytes: the headroom exactly */
        CHECK_INT(put(s, "h", "p", line), 0);
    CHECK_INT(d.calls, before);
    d.avail = 500000 - 1;                       /* as if those bytes had reached the disk */
    CHECK_INT(put(s, "h", "p", line), -ENOSPC); /* checked before it was taken */
    CHECK_INT(d.calls, before + 1);
    for (int i = 0; i < 100; i++) /* FULL: refusals do not check each time */
        put(s, "h", "p", line);
    CHECK_INT(d.calls, before + 1);
    store_close(s);
    /* The time bound. */
    d.avail = 100000000;
    cfg.space_check_ms = 1;
    s = open_store(&cfg);
    before = d.calls;
    CHECK_INT(put(s, "h", "p", "a"), 0);
    struct timespec pause = {0, 30 * 1000000};
    nanosleep(&pause, NULL);
    CHECK_INT(put(s, "h", "p", "b"), 0);
    CHECK(d.calls > before);
    store_close(s);
    teardown();
}

/* The real fstatvfs: thresholds above any free space this file system has. */
static void test_space_real(void)
{
    setup();
    struct store_config cfg = {.group = (gid_t)-1, .admin_space_left_bytes = UINT64_MAX / 2};
    struct store *s = open_store(&cfg);
    CHECK_INT(store_space_state(s), STORE_SPACE_FULL);
    CHECK_INT(put(s, "h", "p", "x"), -ENOSPC);
    CHECK_INT(size_of("h/p.log"), -1);
    CHECK(stats(s).space_avail > 0);
    store_close(s);
    cfg = (struct store_config){
        .group = (gid_t)-1, .space_left_bytes = UINT64_MAX / 2, .admin_space_left_bytes = 1};
    s = open_store(&cfg);
    CHECK_INT(store_space_state(s), STORE_SPACE_LOW);
    CHECK_INT(put(s, "h", "p", "x"), 0);
    store_close(s);
    cfg = (struct store_config){.group = (gid_t)-1, .space_left_percent = 1};
    s = open_store(&cfg);
    CHECK_INT(store_space_state(s), STORE_SPACE_OK); /* unless this disk is 99% full */
    store_close(s);
    teardown();
}

/* ---- compression ---- */

static bool have(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static void test_compress(void)
{
    setup();
    struct store_config cfg = {
        .group = (gid_t)-1, .max_file_bytes = 100, .num_logs = 4, .compress_level = 3};
    struct store *s = open_store(&cfg);
    fill(s, "h", "p", 0, 12); /* p.log.2, p.log.1, 2 lines active */
    struct stat st1;
    CHECK_INT(stat(at("h/p.log.1"), &st1), 0);
    maintain_all(s, 0);
    CHECK_INT(size_of("h/p.log.1"), -1);
    CHECK_INT(size_of("h/p.log.2"), -1);
    CHECK_INT(mode_of("h/p.log.1.zst"), 0440);
    CHECK_INT(mode_of("h/p.log.2.zst"), 0440);
    CHECK_INT(mode_of("h/p.log"), 0640);
    CHECK_INT(stats(s).compressed, 2);
    CHECK_INT(stats(s).compress_in, 200);
    struct stat st;
    CHECK_INT(stat(at("h/p.log.1.zst"), &st), 0);
    CHECK_INT(st.st_mtim.tv_sec, st1.st_mtim.tv_sec); /* age kept for retention */
    check_zst("h/p.log.2.zst",
              "line 00000000000000\nline 00000000000001\nline 00000000000002\n"
              "line 00000000000003\nline 00000000000004\n",
              100);
    /* Later rotations shift the .zst names; num_logs drops the oldest. */
    fill(s, "h", "p", 12, 10);
    CHECK_INT(size_of("h/p.log.4.zst"), -1);
    CHECK(size_of("h/p.log.3.zst") > 0); /* was .1.zst, lines 5..9 */
    CHECK_INT(size_of("h/p.log.2"), 100);
    CHECK_INT(size_of("h/p.log.1"), 100);
    maintain_all(s, 0);
    check_zst("h/p.log.3.zst",
              "line 00000000000005\nline 00000000000006\nline 00000000000007\n"
              "line 00000000000008\nline 00000000000009\n",
              100);
    check_zst("h/p.log.2.zst",
              "line 00000000000010\nline 00000000000011\nline 00000000000012\n"
              "line 00000000000013\nline 00000000000014\n",
              100);
    check_zst("h/p.log.1.zst",
              "line 00000000000015\nline 00000000000016\nline 00000000000017\n"
              "line 00000000000018\nline 00000000000019\n",
              100);
    CHECK_INT(stats(s).total_bytes, size_of("h/p.log") + size_of("h/p.log.1.zst") +
                                        size_of("h/p.log.2.zst") + size_of("h/p.log.3.zst"));
    store_close(s);
    if (have("zstdcat") && have("zstdgrep")) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "zstdcat %s/h/p.log.3.zst | head -1 | grep -qx 'line 00000000000005' && "
                 "zstdgrep -q 'line 00000000000017' %s/h/p.log.1.zst && zstd -tq %s/h/*.zst",
                 root, root, root);
        CHECK_INT(system(cmd), 0);
    } else {
        fprintf(stderr, "skipped: zstdcat/zstdgrep not installed\n");
    }
    teardown();
}

/* A rotated file of `mb` MiB of numbered lines, made with compression off;
 * returns the active path's rotated file contents in *data. */
static void big_rotated(struct store_config *cfg, int mb, int files)
{
    cfg->max_file_bytes = (uint64_t)mb << 20;
    struct store *s = open_store(cfg);
    char line[64];
    int lines = (mb << 20) / 40 * files + 10;
    for (int i = 0; i < lines; i++) {
        snprintf(line, sizeof(line), "%08d pam_unix(sshd:session): opened", i);
        CHECK_INT(put(s, "h", "p", line), 0);
    }
    CHECK_INT(store_flush(s), 0);
    store_close(s);
}

/* The steps of one job, and a crash in the middle of one (a child killed
 * with the temp file half written): the next open cleans up and redoes it. */
static void test_compress_crash(void)
{
    setup();
    struct store_config cfg = {.group = (gid_t)-1, .num_logs = 5};
    big_rotated(&cfg, 5, 1);
    size_t n;
    char *want = slurp("h/p.log.1", &n);
    size_t plain_len = n;
    char *copy = malloc(n);
    memcpy(copy, want, n);
    cfg.compress_level = 3;
    pid_t pid = fork();
    if (pid == 0) {
        struct store *s = NULL;
        if (store_open(&cfg, &s) < 0 || store_maintain(s, 0) != 1)
            _exit(1);
        _exit(0); /* as a crash: no close, the job half done */
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(size_of("h/p.log.1.zst.tmp") > 0);
    CHECK_INT(size_of("h/p.log.1"), (long)plain_len);
    CHECK_INT(size_of("h/p.log.1.zst"), -1);
    struct store *s = open_store(&cfg);
    CHECK_INT(size_of("h/p.log.1.zst.tmp"), -1); /* the walk at open removed it */
    int calls = maintain_all(s, 0);
    CHECK(calls >= 3); /* 5 MiB in 2 MiB steps */
    CHECK_INT(size_of("h/p.log.1"), -1);
    check_zst("h/p.log.1.zst", copy, plain_len);
    store_close(s);
    /* Both forms present (crash between the rename and the unlink): the
     * .zst is complete by construction and kept; the plain one goes. */
    int fd = open(at("h/p.log.1"), O_WRONLY | O_CREAT | O_EXCL, 0440);
    CHECK(write(fd, copy, plain_len) == (ssize_t)plain_len);
    close(fd);
    s = open_store(&cfg);
    CHECK_INT(size_of("h/p.log.1"), -1);
    check_zst("h/p.log.1.zst", copy, plain_len);
    CHECK_INT(stats(s).rotated_files, 1);
    CHECK_INT(stats(s).total_bytes, size_of("h/p.log") + size_of("h/p.log.1.zst"));
    store_close(s);
    free(copy);
    teardown();
}

/* A job running while its file is renumbered, and while it is deleted. */
static void test_compress_meanwhile(void)
{
    setup();
    struct store_config cfg = {.group = (gid_t)-1, .num_logs = 3};
    big_rotated(&cfg, 5, 1);
    size_t n;
    char *p = slurp("h/p.log.1", &n);
    char *copy = malloc(n);
    size_t len = n;
    memcpy(copy, p, n);
    cfg.compress_level = 1;
    struct store *s = open_store(&cfg);
    CHECK_INT(store_maintain(s, 0), 1); /* job on p.log.1 started */
    char line[(5 << 20) / 4];
    memset(line, 'y', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int i = 0; i < 4; i++) /* passes max_file_bytes: p.log.1 -> p.log.2 */
        CHECK_INT(put(s, "h", "p", line), 0);
    CHECK_INT(store_flush(s), 0);
    CHECK_INT(stats(s).rotations, 1);
    maintain_all(s, 0);
    check_zst("h/p.log.2.zst", copy, len); /* under its number of now */
    CHECK_INT(size_of("h/p.log.2"), -1);
    CHECK(size_of("h/p.log.1.zst") > 0);
    store_close(s);
    /* num_logs 2: the next rotation deletes the file being compressed.
     * (p.log.2.zst is above num_logs - 1 now: left alone, as auditd.) */
    cfg.num_logs = 2;
    s = open_store(&cfg);
    CHECK_INT(store_maintain(s, 0), 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(put(s, "h", "p", line), 0);
    CHECK_INT(store_flush(s), 0); /* p.log.1 is plain, 5 MiB */
    CHECK_INT(store_maintain(s, 0), 1);
    CHECK(size_of("h/p.log.1.zst.tmp") > 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(put(s, "h", "p", line), 0);
    CHECK_INT(store_flush(s), 0);
    maintain_all(s, 0);
    CHECK_INT(size_of("h/p.log.1.zst.tmp"), -1);
    CHECK(size_of("h/p.log.1.zst") > 0);
    CHECK_INT(size_of("h/p.log.1"), -1);
    CHECK_INT(stats(s).compressed, 1); /* the first job was given up */
    CHECK_INT(stats(s).maintain_errors, 0);
    CHECK_INT(stats(s).rotated_files, 2);
    store_close(s);
    free(copy);
    teardown();
}

/* ---- group and modes ---- */

static void test_group(void)
{
    setup();
    struct store_config cfg = {
        .max_file_bytes = 100, .num_logs = 3, .compress_level = 3, .group = 4242};
    if (geteuid() != 0)
        cfg.group = getegid(); /* a group we are in: still shows it is set */
    struct store *s = open_store(&cfg);
    fill(s, "h", "p", 0, 12);
    CHECK_INT(store_maintain(s, 0), 1); /* .1 done (the newest first), .2 left */
    static const char *const names[] = {"", "h", "h/p.log", "h/p.log.2", "h/p.log.1.zst"};
    static const int modes[] = {0750, 0750, 0640, 0440, 0440};
    for (size_t i = 0; i < 5; i++) {
        struct stat st;
        CHECK_INT(lstat(at(names[i]), &st), 0);
        if (st.st_gid != cfg.group)
            fprintf(stderr, "%s: gid %u\n", names[i], (unsigned)st.st_gid);
        CHECK_INT(st.st_gid, cfg.group);
        CHECK_INT(st.st_mode & 07777, modes[i]);
    }
    store_close(s);
    teardown();
}

int main(void)
{
    umask(077);
    test_config();
    test_age();
    test_total_size();
    test_bounded();
    test_space_thresholds();
    test_space_check_rate();
    test_space_real();
    test_compress();
    test_compress_crash();
    test_compress_meanwhile();
    test_group();
    return check_status();
}
