/*
 * test_seal: the sealing module (src/store/seal.c, seal_store.c) and the
 * verifier (verify.c): record and key formats round-trip and parse
 * strictly; a store written with sealing on (rotations, evictions, a
 * reopen) verifies clean; an edited byte, a deleted line, a swapped pair
 * of rotated files and a wrong key are each found in the right file; a
 * tail written after the last round is an unsealed tail, not tampering.
 * Rounds run on the store's sync thread (seal_sync.c), which hashes the
 * files' new lines itself: rounds of few files (fdatasync each) and of
 * many (syncfs), with flushes between, and a file left with a torn last
 * line (no '\n') that later appends complete, all verify clean; a
 * sidecar that cannot be written holds back its own file only; a
 * rotation while a round is out takes its file's seal back or waits for
 * that seal alone. A crash right after a rotation (the new active file
 * empty or absent) followed by a run where that host is quiet still
 * verifies clean: the start's walk keeps the rotated file's promise.
 * With LW_SEAL_BENCH=1 it prints appends/s with sealing off and on.
 */
#include "check.h"
#include "search/index.h"
#include "store/seal.h"
#include "store/store.h"
#include "store/verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct seal_key k0 = {0, {1, 2, 3, 4, 5, 6, 7, 8, 9}};

static void test_record(void)
{
    struct seal_record r = {.kind = SEAL_REC_SEAL,
                            .seq = 3,
                            .epoch = 7,
                            .time = 1700000000,
                            .idle = 320,
                            .lines = 10,
                            .bytes = 400};
    strcpy(r.file, "web 1/sshd%.log");
    r.file_len = strlen(r.file);
    memset(r.head, 0xab, sizeof(r.head));
    struct seal_key k;
    seal_key_derive(&k0, 7, &k);
    char line[SEAL_LINE_MAX];
    int n = seal_record_format(&r, &k, line, sizeof(line));
    CHECK(n > 0 && line[n - 1] == '\n');
    CHECK(strstr(line, "file=web%201/sshd%25.log seq=3 epoch=7 ") != NULL);
    struct seal_record p;
    CHECK_INT(seal_record_parse(line, (size_t)n - 1, &p), 0);
    CHECK_STR(p.file, "web 1/sshd%.log");
    CHECK_INT(p.lines, 10);
    CHECK(seal_record_check(&p, line, &k));
    struct seal_key k8;
    seal_key_derive(&k0, 8, &k8);
    CHECK(!seal_record_check(&p, line, &k8));
    char bad[SEAL_LINE_MAX];
    memcpy(bad, line, (size_t)n);
    char *q = strstr(bad, "seq=3");
    q[4] = '4'; /* the tag no longer matches */
    CHECK_INT(seal_record_parse(bad, (size_t)n - 1, &p), 0);
    CHECK(!seal_record_check(&p, bad, &k));
    const char *refused[] = {
        "seal v1 file=a seq=03 epoch=1 time=1 idle=0 lines=0 bytes=0 head=",
        "seal v1 file=a%41 seq=3 epoch=1 time=1 idle=0 lines=0 bytes=0 head=",
        "seal v2 file=a seq=3",
    };
    for (size_t i = 0; i < 3; i++)
        CHECK(seal_record_parse(refused[i], strlen(refused[i]), &p) < 0);
    /* upper-case hex in the tag */
    memcpy(bad, line, (size_t)n);
    char *t = strstr(bad, "tag=") + 4;
    for (int i = 0; i < 64; i++)
        if (t[i] >= 'a')
            t[i] = (char)(t[i] - 32);
    CHECK(seal_record_parse(bad, (size_t)n - 1, &p) < 0 || !strpbrk(t, "ABCDEF"));
}

static void test_manifest(void)
{
    unsigned char tag[SEAL_HASH_BYTES];
    memset(tag, 0x5a, sizeof(tag));
    char line[SEAL_LINE_MAX];
    int n = seal_fam_format("web 1/a.log", 11, 4, tag, line, sizeof(line));
    CHECK(n > 0 && strstr(line, "fam v1 file=web%201/a.log seq=4 tag=5a5a") == line);
    struct seal_record f;
    CHECK_INT(seal_fam_parse(line, (size_t)n - 1, &f), 0);
    CHECK_STR(f.file, "web 1/a.log");
    CHECK(f.seq == 4 && !memcmp(f.tag, tag, sizeof(tag)));
    CHECK(seal_fam_parse("fam v1 file=a seq=01 tag=00", 27, &f) < 0);
    struct seal_key k;
    seal_key_derive(&k0, 9, &k);
    struct seal_manifest m = {.epoch = 9, .time = 1700000000, .families = 1}, p;
    n = seal_manifest_format(&m, &k, line, sizeof(line));
    CHECK(n > 0 && line[n - 1] == '\n');
    CHECK_INT(seal_manifest_parse(line, (size_t)n - 1, &p), 0);
    CHECK(p.epoch == 9 && p.families == 1 && seal_manifest_check(&p, line, &k));
    line[20] ^= 1; /* the epoch or time digits: the tag no longer matches */
    CHECK(seal_manifest_parse(line, (size_t)n - 1, &p) < 0 || !seal_manifest_check(&p, line, &k));
}

static void test_key(void)
{
    char text[256];
    struct seal_key k = k0, p;
    seal_key_evolve(&k);
    int n = seal_key_format(&k, SEAL_KEY_MAGIC, text, sizeof(text));
    CHECK_INT(n, SEAL_KEYFILE_LEN);
    CHECK_INT(seal_key_parse(text, (size_t)n, SEAL_KEY_MAGIC, &p), 0);
    CHECK_INT(p.epoch, 1);
    CHECK(!memcmp(p.k, k.k, 32));
    CHECK(seal_key_parse(text, (size_t)n, SEAL_VERIFY_MAGIC, &p) < 0);
    text[40] ^= 1; /* a torn key */
    CHECK(seal_key_parse(text, (size_t)n, SEAL_KEY_MAGIC, &p) < 0);
    struct seal_keyring kr;
    seal_keyring_init(&kr, &k0);
    struct seal_key a, b;
    CHECK_INT(seal_keyring_get(&kr, 5000, &a), 0);
    CHECK_INT(seal_keyring_get(&kr, 1, &b), 0);
    CHECK(!memcmp(b.k, k.k, 32));
    seal_key_derive(&k0, 5000, &b);
    CHECK(!memcmp(a.k, b.k, 32));
    seal_keyring_free(&kr);
}

static void put_key(const char *root)
{
    char path[512], text[256];
    mkdir(root, 0750);
    snprintf(path, sizeof(path), "%s/.logward-key", root);
    int n = seal_key_format(&k0, SEAL_KEY_MAGIC, text, sizeof(text));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, text, (size_t)n) == n);
    close(fd);
}

/* The tests' store: 6,000-byte files, 4 kept, no syncs, 1 s rounds. */
static void sealed_config(struct store_config *c, const char *root, bool seal)
{
    store_config_init(c);
    c->root = root;
    c->max_file_bytes = 6000;
    c->num_logs = 4;
    c->fsync = STORE_FSYNC_NONE;
    c->seal = seal;
    c->seal_interval = 1;
}

static struct store *open_sealed(const char *root, bool seal, unsigned max_open)
{
    struct store_config c;
    sealed_config(&c, root, seal);
    c.max_open_files = max_open;
    struct store *s = NULL;
    CHECK_INT(store_open(&c, &s), 0);
    return s;
}

/* open_sealed's settings (default fd bound), with zstd of rotated files
 * and retention by total size; for a child too (no CHECK). */
static int open_retained(const char *root, int compress_level, uint64_t max_total, struct store **s)
{
    struct store_config c;
    sealed_config(&c, root, true);
    c.compress_level = compress_level;
    c.max_total_bytes = max_total;
    *s = NULL;
    return store_open(&c, s);
}

/* counts[status]; *first_bad gets the first tampered file's result */
static void verify_counts(const char *path, const struct seal_key *k, unsigned counts[4],
                          char *first_bad, size_t cap, uint64_t *bad_line)
{
    struct verify_opts o = {.k0 = k};
    struct verify_run *v;
    memset(counts, 0, 4 * sizeof(counts[0]));
    CHECK_INT(verify_run_new(&o, &v), 0);
    verify_path(v, path);
    verify_finish(v);
    if (first_bad)
        first_bad[0] = '\0';
    for (size_t i = 0; i < verify_count(v); i++) {
        const struct verify_result *r = verify_get(v, i);
        counts[r->status]++;
        if (r->status >= VERIFY_TAMPERED && first_bad && !first_bad[0]) {
            snprintf(first_bad, cap, "%s", r->file);
            if (bad_line)
                *bad_line = r->line;
        }
        if (getenv("LW_SEAL_VERBOSE"))
            fprintf(stderr, "  %s %s %llu %s\n", r->file, verify_status_name(r->status),
                    (unsigned long long)r->line, r->what);
    }
    verify_run_free(v);
}

/* Verifies root: nothing tampered, no error, no unsealed tail (what names
 * the case when not); returns the number of files OK. */
static unsigned expect_clean(const char *root, const char *what)
{
    char bad[4096];
    unsigned c[4];
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    if (c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL])
        fprintf(stderr, "%s: first bad %s\n", what, bad);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);
    return c[VERIFY_OK];
}

/* store_maintain until it has nothing left to do (at most 1000 steps):
 * its last answer. */
static int maintain_done(struct store *s, time_t now)
{
    int r = 1;
    for (int k = 0; k < 1000 && r > 0; k++)
        r = store_maintain(s, now);
    return r;
}

static void fill(struct store *s, int lines, time_t *t)
{
    char line[200];
    for (int i = 0; i < lines; i++) {
        int n = snprintf(line, sizeof(line), "line %d of host a, some text to fill", i);
        CHECK_INT(store_append(s, "a", 1, "p", 1, line, (size_t)n), 0);
        n = snprintf(line, sizeof(line), "other %d", i);
        CHECK_INT(store_append(s, "b", 1, i % 2 ? "q" : "r", 1, line, (size_t)n), 0);
        if (i % 25 == 0)
            CHECK(store_seal_tick(s, ++*t) >= 0);
    }
}

static void sh(const char *script, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd %s && %s", dir, script);
    CHECK_INT(system(cmd), 0);
}

static void test_store(const char *tmp)
{
    char root[512], copy[600], bad[4096];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/store", tmp);
    put_key(root);
    time_t t = time(NULL);
    struct store *s = open_sealed(root, true, 2); /* 3 files, 2 open: evictions */
    fill(s, 400, &t);
    CHECK_INT(store_reopen(s), 0);
    fill(s, 100, &t);
    struct store_stats st;
    store_get_stats(s, &st);
    CHECK(st.rotations >= 3);
    CHECK(st.seals >= st.rotations); /* a final seal each, and the rounds' */
    CHECK_INT(st.seal_errors, 0);
    store_close(s);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR], 0);
    CHECK_INT(c[VERIFY_TAIL], 0); /* closed: everything sealed */
    CHECK(c[VERIFY_OK] >= 6);
    struct seal_key wrong = k0;
    wrong.k[0] ^= 1;
    verify_counts(root, &wrong, c, NULL, 0, NULL);
    CHECK(c[VERIFY_TAMPERED] > 0);

    /* a tail after the last round: unsealed, not tampered */
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cp %s/.logward-manifest %s/manifest.old", root, tmp);
    CHECK_INT(system(cmd), 0);
    s = open_sealed(root, true, 16);
    CHECK_INT(store_append(s, "a", 1, "p", 1, "late", 4), 0);
    CHECK_INT(store_flush(s), 0);
    snprintf(copy, sizeof(copy), "%s/tail", tmp);
    snprintf(cmd, sizeof(cmd), "cp -a %s %s", root, copy);
    CHECK_INT(system(cmd), 0);
    store_close(s);
    verify_counts(copy, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_TAMPERED], 0);
    CHECK_INT(c[VERIFY_TAIL], 1);

    /* tampering, each on a fresh copy */
    struct {
        const char *what, *cmd, *file;
    } cases[] = {
        {"byte", "printf X | dd of=a/p.log.1 bs=1 seek=30 conv=notrunc 2>/dev/null", "a/p.log.1"},
        {"delete line", "sed -i 3d a/p.log.2", "a/p.log.2"},
        {"swap files", "mv a/p.log.1 x && mv a/p.log.2 a/p.log.1 && mv x a/p.log.2", "a/p.log"},
        {"remove rotated", "rm a/p.log.2 a/.p.log.2.seal", "a/p.log.1"},
        {"other host", "cp b/q.log a/p.log && cp b/.q.log.seal a/.p.log.seal", "a/p.log"},
        /* the store manifest's cases: a family gone with its sidecars, a
         * tail and its sidecar cut back to the closing seal of a run */
        {"host deleted", "rm -r b", "/b/"},
        {"rolled back",
         "b=$(sed -n 1p a/.p.log.seal | tr ' ' '\\n' | sed -n 's/^bytes=//p') && "
         "head -c $b a/p.log > x && cat x > a/p.log && sed -i 1q a/.p.log.seal && rm x",
         "a/p.log"},
        {"manifest rolled back", "cp ../manifest.old .logward-manifest", ".logward-manifest"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", copy, root, copy);
        CHECK_INT(system(cmd), 0);
        sh(cases[i].cmd, copy);
        verify_counts(copy, &k0, c, bad, sizeof(bad), NULL);
        if (c[VERIFY_TAMPERED] == 0 || !strstr(bad, cases[i].file))
            fprintf(stderr, "case %s: tampered %u, first %s\n", cases[i].what, c[VERIFY_TAMPERED],
                    bad);
        CHECK(c[VERIFY_TAMPERED] > 0);
    }

    /* a search index: its own is fine, a doctored one (a bloom bit: a
     * search would skip the block) is tampering */
    snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", copy, root, copy);
    CHECK_INT(system(cmd), 0);
    char file[700], ipath[800];
    snprintf(file, sizeof(file), "%s/a/p.log.1", copy);
    CHECK_INT(search_index_write_for(file), 0);
    verify_counts(copy, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR], 0);
    struct search_index ix;
    uint8_t *enc = NULL;
    size_t elen = 0;
    CHECK_INT(search_index_load(file, &ix), 0);
    CHECK(ix.nblocks > 0);
    if (ix.nblocks > 0) {
        ix.blocks[0].bloom[7] ^= 0x10;
        CHECK_INT(search_index_encode(&ix, &enc, &elen), 0);
        CHECK_INT(search_index_path(file, ipath, sizeof(ipath)), 0);
        FILE *f = fopen(ipath, "wb");
        CHECK(f && fwrite(enc, 1, elen, f) == elen);
        if (f)
            fclose(f);
    }
    free(enc);
    search_index_free(&ix);
    verify_counts(copy, &k0, c, bad, sizeof(bad), NULL);
    CHECK(c[VERIFY_TAMPERED] > 0 && strstr(bad, "a/p.log.1"));
}

/* A rotation, then a crash before the new active file got its first line
 * (empty: created, not written; absent: not even created), then a run in
 * which that host stays quiet while others seal on: the rotated file's
 * final seal promised the family's next seal, so the start's walk must
 * keep that promise (a closing seal of the empty active file, made first
 * when absent) or verify calls the clean store tampered (missing seals). */
static void test_quiet_rotation(const char *tmp, bool absent)
{
    char root[512], path[700], bad[4096];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/quiet%d", tmp, absent);
    put_key(root);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) { /* the run that crashes right after its rotation */
        struct store *s = open_sealed(root, true, 16);
        struct store_stats st = {0};
        char line[100];
        time_t t = time(NULL);
        for (int i = 0; i < 100000 && st.rotations == 0; i++) {
            int n = snprintf(line, sizeof(line), "line %d of host a, some text to fill", i);
            if (store_append(s, "a", 1, "p", 1, line, (size_t)n) < 0 ||
                store_append(s, "b", 1, "q", 1, line, 6) < 0) /* b: far from rotating */
                _exit(3);
            if (i % 25 == 0 && store_seal_tick(s, ++t) < 0)
                _exit(3);
            store_get_stats(s, &st);
        }
        snprintf(path, sizeof(path), "%s/a/p.log", root);
        int fd = -1;
        if (st.rotations != 1 || access(path, F_OK) == 0 ||
            (!absent && (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640)) < 0))
            _exit(4);
        _exit(0); /* kill -9: no flush, no closing seals */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    snprintf(path, sizeof(path), "%s/a/p.log.1", root);
    CHECK(access(path, F_OK) == 0);
    bool root_run = geteuid() == 0; /* files of the collector's user, the walk run as root */
    if (root_run)
        CHECK_INT(chown(path, 4242, (gid_t)-1), 0);

    /* the next run: host a says nothing, host b is sealed much later */
    struct store *s = open_sealed(root, true, 16);
    CHECK_INT(store_append(s, "b", 1, "q", 1, "later", 5), 0);
    CHECK(store_seal_tick(s, time(NULL) + 1000) >= 0);
    store_close(s);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    if (c[VERIFY_TAMPERED] + c[VERIFY_ERROR])
        fprintf(stderr, "quiet rotation (%s active file): first bad %s\n",
                absent ? "no" : "an empty", bad);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);
    snprintf(path, sizeof(path), "%s/a/p.log", root);
    CHECK(access(path, F_OK) == 0);
    struct stat made;
    if (root_run && absent) /* made by the walk: the user's, so it can write it */
        CHECK(stat(path, &made) == 0 && made.st_uid == 4242);

    /* host a comes back: its chain goes on from that seal */
    s = open_sealed(root, true, 16);
    CHECK_INT(store_append(s, "a", 1, "p", 1, "back", 4), 0);
    CHECK(store_seal_tick(s, time(NULL) + 2000) >= 0);
    store_close(s);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);

    /* the walk heals nothing it should not: the active file and its
     * sidecar deleted on a stopped store are still found */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "rm %s/a/p.log %s/a/.p.log.seal", root, root);
    CHECK_INT(system(cmd), 0);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK(c[VERIFY_TAMPERED] > 0);
}

/* A run killed inside a long write leaves its active file ending in part
 * of a line; the next run's walk cuts it and seals the file, so a host
 * that then stays quiet verifies OK (not an unsealed tail for good, the
 * integration_store_verify flake), and the host's next line starts
 * whole. */
static void test_torn_tail(const char *tmp)
{
    char root[512], path[700], bad[4096];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/torn", tmp);
    put_key(root);
    struct store *s = open_sealed(root, true, 16);
    CHECK_INT(store_append(s, "a", 1, "p", 1, "whole line", 10), 0);
    CHECK_INT(store_append(s, "b", 1, "q", 1, "other", 5), 0);
    store_close(s);
    snprintf(path, sizeof(path), "%s/a/p.log", root);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "half a li", 9) == 9); /* the kill inside the write */
    if (fd >= 0)
        close(fd);

    s = open_sealed(root, true, 16); /* host a stays quiet; b goes on, sealed later */
    struct store_stats st;
    store_get_stats(s, &st);
    CHECK_INT(st.torn_tails, 1);
    CHECK_INT(store_append(s, "b", 1, "q", 1, "later", 5), 0);
    CHECK(store_seal_tick(s, time(NULL) + 1000) >= 0);
    store_close(s);
    expect_clean(root, "torn tail");

    s = open_sealed(root, true, 16); /* host a comes back: a line of its own */
    store_get_stats(s, &st);
    CHECK_INT(st.torn_tails, 0);
    CHECK_INT(store_append(s, "a", 1, "p", 1, "back", 4), 0);
    store_close(s);
    char text[256] = {0};
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && read(fd, text, sizeof(text) - 1) > 0);
    if (fd >= 0)
        close(fd);
    CHECK(strstr(text, "whole line\nback\n") != NULL && !strstr(text, "half"));
    CHECK(strlen(text) > 5 && !strcmp(text + strlen(text) - 5, "back\n"));
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);

    /* a hard link planted as an active file: the walk (root, at start)
     * must not write into the file it points to */
    char outside[600], linked[700];
    snprintf(root, sizeof(root), "%s/torn-link", tmp);
    put_key(root);
    snprintf(outside, sizeof(outside), "%s/torn-outside", tmp);
    snprintf(linked, sizeof(linked), "%s/c", root);
    CHECK_INT(mkdir(linked, 0750), 0);
    snprintf(linked, sizeof(linked), "%s/c/x.log", root);
    fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "secret", 6) == 6);
    if (fd >= 0)
        close(fd);
    CHECK_INT(link(outside, linked), 0);
    s = open_sealed(root, true, 16);
    store_close(s);
    struct stat ost;
    CHECK(stat(outside, &ost) == 0 && ost.st_size == 6);
}

/* Sealed rotated files compressed by store_maintain verify through zstd:
 * whole, they are OK (verify once called every .zst an error: at the
 * stream's end the decoder asks for a next frame's header); cut short or
 * emptied, they are tampered, not a read error. */
static void test_compressed(const char *tmp)
{
    char root[512], path[700], bad[4096];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/zst", tmp);
    put_key(root);
    struct store *s;
    CHECK_INT(open_retained(root, 1, 0, &s), 0);
    if (!s)
        return;
    char line[100];
    time_t t = time(NULL);
    for (int i = 0; i < 600; i++) { /* 3 rotations */
        int n = snprintf(line, sizeof(line), "line %d of host a, some text to fill it", i);
        CHECK_INT(store_append(s, "a", 1, "p", 1, line, (size_t)n), 0);
        if (i % 50 == 0)
            CHECK(store_seal_tick(s, ++t) >= 0);
    }
    struct store_stats st;
    CHECK_INT(maintain_done(s, t), 0);
    store_get_stats(s, &st);
    CHECK_INT(st.compressed, 3);
    store_close(s);
    CHECK_INT(expect_clean(root, "compressed"), 4);

    snprintf(path, sizeof(path), "%s/a/p.log.1.zst", root);
    struct stat zs;
    CHECK(stat(path, &zs) == 0 && zs.st_size > 20);
    CHECK_INT(chmod(path, 0640), 0);
    CHECK_INT(truncate(path, zs.st_size - 10), 0);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_ERROR], 0);
    CHECK(c[VERIFY_TAMPERED] == 1 && strstr(bad, "a/p.log.1.zst"));
    CHECK_INT(truncate(path, 0), 0);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    CHECK_INT(c[VERIFY_ERROR], 0);
    CHECK(c[VERIFY_TAMPERED] == 1 && strstr(bad, "a/p.log.1.zst"));
}

/* A round seals file .0 (the manifest names that seal), the file
 * rotates, retention by total size deletes it at once (its expiry record
 * carries only its final seal), and the collector is killed before the
 * new active file's first seal: verify must see the expired file, not a
 * rolled-back sidecar (the manifest's seal went with the file). */
static void test_expired_before_next_seal(const char *tmp)
{
    char root[512], bad[4096];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/expired-next", tmp);
    put_key(root);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store *s; /* max_total 1: every rotated file goes at the next maintain */
        if (open_retained(root, 0, 1, &s) < 0)
            _exit(3);
        char line[100];
        int i = 0;
        for (; i < 90; i++) { /* about 4,700 bytes: no rotation yet */
            int n = snprintf(line, sizeof(line), "line %05d of host a, some text to fill", i);
            if (store_append(s, "a", 1, "p", 1, line, (size_t)n) < 0)
                _exit(3);
        }
        struct store_stats st;
        store_get_stats(s, &st);
        uint64_t rounds = st.seal_rounds;
        time_t t = time(NULL);
        for (int w = 0; w < 10000 && st.seal_rounds < rounds + 2; w++) { /* sealed, collected */
            if (store_seal_tick(s, ++t) < 0)
                _exit(3);
            store_get_stats(s, &st);
            usleep(1000);
        }
        for (; st.rotations == 0 && i < 1000; i++) {
            int n = snprintf(line, sizeof(line), "line %05d of host a, some text to fill", i);
            if (store_append(s, "a", 1, "p", 1, line, (size_t)n) < 0)
                _exit(3);
            store_get_stats(s, &st);
        }
        int r = maintain_done(s, t);
        store_get_stats(s, &st);
        if (st.seal_rounds < rounds + 2 || st.rotations != 1 || st.expired_size != 1 || r < 0)
            _exit(4);
        if (store_flush(s) < 0)
            _exit(3);
        _exit(0); /* kill -9 before the new active file's first seal */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    verify_counts(root, &k0, c, bad, sizeof(bad), NULL);
    if (c[VERIFY_TAMPERED] + c[VERIFY_ERROR])
        fprintf(stderr, "expired before the next seal: first bad %s\n", bad);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR], 0);
    CHECK_INT(c[VERIFY_TAIL], 1); /* the new active file, not sealed yet */

    /* the next run goes on: its walk seals the new file, which rotates and
     * expires in turn; the family's chain and expiry records stay whole */
    struct store *s;
    CHECK_INT(open_retained(root, 0, 1, &s), 0);
    if (!s)
        return;
    char line[100];
    struct store_stats st;
    time_t t = time(NULL);
    store_get_stats(s, &st);
    for (int i = 0; st.rotations < 2 && i < 2000; i++) {
        int n = snprintf(line, sizeof(line), "line %05d of the next run, text to fill", i);
        CHECK_INT(store_append(s, "a", 1, "p", 1, line, (size_t)n), 0);
        if (i % 40 == 0)
            CHECK(store_seal_tick(s, ++t) >= 0);
        store_get_stats(s, &st);
    }
    CHECK_INT(maintain_done(s, t), 0);
    store_get_stats(s, &st);
    CHECK_INT(st.expired_size, 2);
    store_close(s);
    expect_clean(root, "expired before the next seal, next run");
}

/* Appends `lines` lines to each of n files (host h<i>, program p), with a
 * tick (a round when one is due, collected at a later tick) every 7. */
static bool ticks_may_fail; /* a sidecar made unwritable: its round says so */

static void fill_many(struct store *s, int n, int lines, time_t *t)
{
    char host[16], line[128];
    for (int k = 0; k < lines; k++) {
        for (int i = 0; i < n; i++) {
            int hl = snprintf(host, sizeof(host), "h%d", i);
            int m = snprintf(line, sizeof(line), "round line %d of file %d, padded a bit", k, i);
            CHECK_INT(store_append(s, host, (size_t)hl, "p", 1, line, (size_t)m), 0);
        }
        if (k % 7 == 0)
            CHECK(store_seal_tick(s, ++*t) >= 0 || ticks_may_fail);
        if (k % 11 == 0)
            CHECK_INT(store_flush(s), 0); /* as acks do, a round in flight or not */
        if (k % 20 == 19) { /* and a round collected (ticks 1 ms apart, at most 10 s) */
            struct store_stats a, b;
            store_get_stats(s, &a);
            b = a;
            for (int w = 0; w < 10000 && b.seal_rounds < a.seal_rounds + 2; w++) {
                CHECK(store_seal_tick(s, ++*t) >= 0 || ticks_may_fail);
                store_get_stats(s, &b);
                usleep(1000);
            }
            CHECK(b.seal_rounds >= a.seal_rounds + 2);
        }
    }
}

/* bytes= of the last record in DIR/.LEAF.seal (0 if none) */
static uint64_t last_seal_bytes(const char *root, const char *dir, const char *leaf)
{
    char path[700], buf[8192];
    snprintf(path, sizeof(path), "%s/%s/.%s.seal", root, dir, leaf);
    FILE *f = fopen(path, "r");
    struct seal_record rec = {0};
    while (f && fgets(buf, sizeof(buf), f))
        if (seal_record_parse(buf, strcspn(buf, "\n"), &rec) < 0)
            rec.bytes = 0;
    if (f)
        fclose(f);
    return rec.bytes;
}

/* The epoch in <root>/.logward-key. */
static uint64_t key_epoch(const char *root)
{
    char path[600], text[SEAL_KEYFILE_LEN + 1];
    snprintf(path, sizeof(path), "%s/.logward-key", root);
    struct seal_key k = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text));
    if (fd >= 0)
        close(fd);
    CHECK(n > 0 && seal_key_parse(text, (size_t)n, SEAL_KEY_MAGIC, &k) == 0);
    return k.epoch;
}

static void test_rounds(const char *tmp)
{
    char root[512], path[600];
    unsigned c[4];
    snprintf(root, sizeof(root), "%s/rounds", tmp);
    put_key(root);
    time_t t = time(NULL);
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.root = root;
    cfg.fsync = STORE_FSYNC_BATCH;
    cfg.seal = true;
    cfg.seal_interval = 1;
    struct store *s = NULL;
    CHECK_INT(store_open(&cfg, &s), 0);
    if (!s)
        return;
    fill_many(s, 3, 60, &t);  /* rounds of 3 files: their data fdatasynced */
    fill_many(s, 12, 60, &t); /* of 12: one syncfs */
    struct store_stats st;
    store_get_stats(s, &st);
    CHECK(st.seal_rounds >= 12);
    CHECK(st.seals >= 3 * 6 + 12 * 6);
    CHECK_INT(st.seal_errors, 0);
    store_close(s);
    verify_counts(root, &k0, c, NULL, 0, NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);
    CHECK_INT(c[VERIFY_OK], 12);

    /* a torn last line (a crash mid-write): the start's walk cuts it and
     * seals the file whole; everything verifies */
    snprintf(path, sizeof(path), "%s/h1/p.log", root);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "a line a crash left\ntorn start", 30) == 30);
    if (fd >= 0)
        close(fd);
    CHECK_INT(store_open(&cfg, &s), 0);
    if (!s)
        return;
    struct stat fst;
    CHECK_INT(stat(path, &fst), 0);
    CHECK_INT(last_seal_bytes(root, "h1", "p.log"), (uint64_t)fst.st_size);
    char tail[12] = {0};
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, tail, 11, fst.st_size - 11) == 11);
    if (fd >= 0)
        close(fd);
    CHECK_STR(tail, "crash left\n");
    fill_many(s, 3, 30, &t);
    store_get_stats(s, &st);
    CHECK_INT(st.seal_errors, 0);
    store_close(s);
    verify_counts(root, &k0, c, NULL, 0, NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);
    CHECK_INT(c[VERIFY_OK], 12);
    /* a sidecar that cannot be written (a symlink in its place: O_NOFOLLOW)
     * fails its file's seals only: the other files are sealed, the manifest
     * written and the key advanced all the same; once it is back, the next
     * seal follows the last good one and everything verifies. Swapped by
     * rename only, so that a round in flight never finds the name free */
    char side[700], saved[720], lnk[720];
    snprintf(side, sizeof(side), "%s/h2/.p.log.seal", root);
    snprintf(saved, sizeof(saved), "%s.saved", side);
    snprintf(lnk, sizeof(lnk), "%s.lnk", side);
    CHECK_INT(store_open(&cfg, &s), 0);
    if (!s)
        return;
    fill_many(s, 3, 1, &t); /* the chains recovered from the sidecars first */
    uint64_t e0 = key_epoch(root);
    CHECK_INT(link(side, saved), 0);
    CHECK_INT(symlink("p.log", lnk), 0);
    CHECK_INT(rename(lnk, side), 0);
    ticks_may_fail = true;
    fill_many(s, 3, 40, &t);
    ticks_may_fail = false;
    store_get_stats(s, &st);
    CHECK(st.seal_errors >= 2); /* a seal of h2 in each round */
    CHECK(key_epoch(root) >= e0 + 2);
    CHECK_INT(rename(saved, side), 0);
    store_close(s);
    verify_counts(root, &k0, c, NULL, 0, NULL);
    CHECK_INT(c[VERIFY_TAMPERED] + c[VERIFY_ERROR] + c[VERIFY_TAIL], 0);
    CHECK_INT(c[VERIFY_OK], 12);

    /* and one edited byte of a line sealed by a round off the loop shows */
    snprintf(path, sizeof(path), "%s/h7/p.log", root);
    fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "X", 1, 100) == 1);
    if (fd >= 0)
        close(fd);
    verify_counts(root, &k0, c, NULL, 0, NULL);
    CHECK_INT(c[VERIFY_TAMPERED], 1);
}

static double bench(const char *root, bool seal, int every)
{
    put_key(root);
    struct store_config c;
    store_config_init(&c);
    c.root = root;
    c.fsync = STORE_FSYNC_NONE;
    c.seal = seal;
    c.max_file_bytes = 64 << 20;
    struct store *s = NULL;
    CHECK_INT(store_open(&c, &s), 0);
    char line[300];
    memset(line, 'x', sizeof(line));
    struct timespec a, b;
    int n = 400000;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a); /* CPU time: the 2 cores are shared */
    for (int i = 0; i < n; i++) {
        char host[8];
        snprintf(host, sizeof(host), "h%d", i % 20);
        store_append(s, host, strlen(host), "sshd", 4, line, sizeof(line));
        if (i % every == every - 1)
            store_seal_tick(s, time(NULL) + i); /* a round (with its syncs) per `every` lines */
    }
    store_close(s);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return n / ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

int main(void)
{
    char tmp[] = "/tmp/test_seal.XXXXXX";
    if (!mkdtemp(tmp))
        return 2;
    test_record();
    test_manifest();
    test_key();
    test_store(tmp);
    test_rounds(tmp);
    test_quiet_rotation(tmp, false);
    test_quiet_rotation(tmp, true);
    test_torn_tail(tmp);
    test_compressed(tmp);
    test_expired_before_next_seal(tmp);
    if (getenv("LW_SEAL_BENCH")) {
        char r1[600], r2[600], r3[600];
        snprintf(r1, sizeof(r1), "%s/b1", tmp);
        snprintf(r2, sizeof(r2), "%s/b2", tmp);
        snprintf(r3, sizeof(r3), "%s/b3", tmp);
        double off = bench(r1, false, 1 << 30), chain = bench(r2, true, 1 << 30),
               rounds = bench(r3, true, 10000);
        printf("appends per CPU second of 300-byte lines, 20 files, fsync none: off %.0f; sealing "
               "on, chain "
               "only %.0f (-%.1f%%); with a round per 10,000 lines %.0f (-%.1f%%)\n",
               off, chain, 100.0 * (off - chain) / off, rounds, 100.0 * (off - rounds) / off);
    }
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        return 2;
    return check_status();
}
