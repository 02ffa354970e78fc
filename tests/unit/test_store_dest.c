/* Unit tests of the store's memory of destinations (src/store/dest.c):
 * pairs of names that share bytes but not their split ("ab"+"c" and
 * "a"+"bc"), that differ only past the first words, that are too long to
 * be remembered, that sanitize to escapes, and more pairs than the memory
 * holds (it starts over) interleaved with an LRU of few open files: every
 * line lands in the file of its own pair, whatever was remembered before. */
#include "store/store.h"
#include "check.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64], root[96];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static struct store *open_store(unsigned max_open)
{
    snprintf(base, sizeof(base), "/tmp/lw-dest-XXXXXX");
    if (!mkdtemp(base))
        abort();
    snprintf(root, sizeof(root), "%s/store", base);
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.root = root;
    cfg.fsync = STORE_FSYNC_NONE;
    cfg.max_open_files = max_open;
    cfg.batch_bytes = 256;
    struct store *s = NULL;
    CHECK_INT(store_open(&cfg, &s), 0);
    if (!s)
        abort();
    return s;
}

static void close_store(struct store *s)
{
    store_close(s);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Lines in root/rel that are exactly want; -1 if another line is there. */
static long count_lines(const char *rel, const char *want)
{
    char path[512], line[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, want)) {
            fprintf(stderr, "%s: unexpected line \"%s\" (want \"%s\")\n", rel, line, want);
            n = -1;
            break;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* count_lines of the file the store names for (host, "prog") */
static long lines_of(const char *host, size_t hl, const char *prog, const char *want)
{
    char name[STORE_NAME_MAX + 1], rel[2 * STORE_NAME_MAX + 8];
    if (store_name_sanitize(host, hl, name, sizeof(name)) < 0)
        return -2;
    snprintf(rel, sizeof(rel), "%s/%s.log", name, prog);
    return count_lines(rel, want);
}

static int put(struct store *s, const char *h, size_t hl, const char *p, size_t pl,
               const char *line)
{
    return store_append(s, h, hl, p, pl, line, strlen(line));
}

static void test_splits_and_lengths(void)
{
    struct store *s = open_store(4);
    char longhost[300];
    memset(longhost, 'h', sizeof(longhost)); /* past what is remembered (255) */
    for (int round = 0; round < 3; round++) {
        CHECK_INT(put(s, "ab", 2, "c", 1, "ab+c"), 0);
        CHECK_INT(put(s, "a", 1, "bc", 2, "a+bc"), 0);
        CHECK_INT(put(s, "web01.example.org", 17, "app", 3, "web01"), 0);
        CHECK_INT(put(s, "web01.example.orh", 17, "app", 3, "orh"), 0); /* last byte differs */
        CHECK_INT(put(s, "web01.example.org", 17, "ap", 2, "ap"), 0);
        CHECK_INT(put(s, "web01.example.org", 17, "apq", 3, "apq"), 0); /* right after */
        CHECK_INT(put(s, "web01.example.org", 17, "ap", 2, "ap"), 0);
        CHECK_INT(put(s, "../etc", 6, "x", 1, "dots"), 0);
        CHECK_INT(put(s, "a\0b", 3, "x", 1, "nul"), 0); /* an escape in the name */
        CHECK_INT(put(s, "a", 1, "x", 1, "plain-a"), 0);
        CHECK_INT(put(s, longhost, 150, "x", 1, "h150"), 0);
        CHECK_INT(put(s, longhost, 200, "x", 1, "h200"), 0);              /* a hashed name */
        CHECK_INT(put(s, longhost, sizeof(longhost), "x", 1, "h300"), 0); /* not remembered */
        CHECK_INT(put(s, longhost, sizeof(longhost) - 1, "x", 1, "h299"), 0);
        CHECK_INT(put(s, "", 0, "x", 1, "empty"), 0); /* no name: "_" */
    }
    CHECK_INT(store_flush(s), 0);
    CHECK_INT(count_lines("ab/c.log", "ab+c"), 3);
    CHECK_INT(count_lines("a/bc.log", "a+bc"), 3);
    CHECK_INT(count_lines("web01.example.org/app.log", "web01"), 3);
    CHECK_INT(count_lines("web01.example.orh/app.log", "orh"), 3);
    CHECK_INT(count_lines("web01.example.org/ap.log", "ap"), 6);
    CHECK_INT(count_lines("web01.example.org/apq.log", "apq"), 3);
    CHECK_INT(count_lines("a/x.log", "plain-a"), 3);
    CHECK_INT(lines_of("../etc", 6, "x", "dots"), 3);
    CHECK_INT(lines_of("a\0b", 3, "x", "nul"), 3);
    CHECK_INT(lines_of("", 0, "x", "empty"), 3);
    CHECK_INT(lines_of(longhost, 150, "x", "h150"), 3);
    CHECK_INT(lines_of(longhost, 200, "x", "h200"), 3);
    CHECK_INT(lines_of(longhost, 300, "x", "h300"), 3);
    CHECK_INT(lines_of(longhost, 299, "x", "h299"), 3);
    close_store(s);
}

/* More pairs than dest.c keeps (4096), in two interleaved passes, with
 * 16 open files: the memory starts over and entries are evicted often. */
static void test_many_pairs(void)
{
    struct store *s = open_store(16);
    enum { HOSTS = 100, PROGS = 60 };
    char h[32], p[32], line[64];
    int bad = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < HOSTS * PROGS; i++) {
            int k = (i * 7919) % (HOSTS * PROGS); /* not in order */
            snprintf(h, sizeof(h), "host%03d.example", k % HOSTS);
            snprintf(p, sizeof(p), "prog%02d", k / HOSTS);
            snprintf(line, sizeof(line), "%s %s", h, p);
            bad += put(s, h, strlen(h), p, strlen(p), line) != 0;
        }
    CHECK_INT(bad, 0);
    CHECK_INT(store_flush(s), 0);
    int wrong = 0;
    for (int k = 0; k < HOSTS * PROGS; k++) {
        char rel[80];
        snprintf(h, sizeof(h), "host%03d.example", k % HOSTS);
        snprintf(p, sizeof(p), "prog%02d", k / HOSTS);
        snprintf(line, sizeof(line), "%s %s", h, p);
        snprintf(rel, sizeof(rel), "%s/%s.log", h, p);
        wrong += count_lines(rel, line) != 2;
    }
    CHECK_INT(wrong, 0);
    close_store(s);
}

int main(void)
{
    test_splits_and_lengths();
    test_many_pairs();
    return check_status();
}
