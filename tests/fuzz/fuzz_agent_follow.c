/*
 * fuzz_agent_follow: the agent's file input as a whole. The input's bytes
 * (after a 2-byte header: split point, audit or file kind) are written to a
 * file in two parts with a restart of the input between them (position
 * committed to the fake queue, a new input restored from it). Invariant:
 * the committed records are exactly the reference split of the whole file
 * into LF-terminated, non-empty lines of at most INPUT_LINE_MAX bytes (the
 * unterminated last line waits), in order, each once, "<13>" before a file
 * line without a PRI. Also: any 30 bytes follow_pos_get accepts encode back
 * to themselves, and input_check_spec never accepts an unknown kind.
 */
#include "agent/follow.h"
#include "agent/input.h"
#include "agent_queue_fake.h"
#include "require.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void append(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "ab");
    REQUIRE(f);
    REQUIRE(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static void drain(const char *spec, struct queue *q)
{
    char err[256];
    struct input *in = NULL;
    REQUIRE(input_open(spec, q, &in, err, sizeof err) == 0);
    int r;
    while ((r = input_run(in, 7)) > 0)
        ;
    REQUIRE(r == 0);
    input_free(in);
}

static bool has_pri(const uint8_t *p, size_t n)
{
    size_t i = 1;
    if (n < 3 || p[0] != '<')
        return false;
    while (i < n && i <= 3 && p[i] >= '0' && p[i] <= '9')
        i++;
    return i > 1 && i < n && p[i] == '>';
}

static void check_records(const struct queue *q, const uint8_t *p, size_t n, bool audit)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        size_t len = i - start;
        const uint8_t *line = p + start;
        start = i + 1;
        if (len == 0 || len > INPUT_LINE_MAX)
            continue;
        REQUIRE(k < q->ncommitted);
        const struct fake_record *r = &q->committed[k++];
        bool prefix = !audit && !has_pri(line, len);
        REQUIRE(r->kind == (audit ? QUEUE_KIND_AUDIT : QUEUE_KIND_SYSLOG));
        REQUIRE(r->len == len + (prefix ? 4 : 0));
        REQUIRE(!prefix || memcmp(r->data, "<13>", 4) == 0);
        REQUIRE(memcmp(r->data + (prefix ? 4 : 0), line, len) == 0);
    }
    REQUIRE(k == q->ncommitted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= FOLLOW_POS_BYTES) {
        struct follow_pos p;
        unsigned char again[FOLLOW_POS_BYTES];
        if (follow_pos_get(data, &p) == 0) {
            follow_pos_put(&p, again);
            REQUIRE(memcmp(again, data, FOLLOW_POS_BYTES) == 0);
        }
    }
    char spec[300], err[256];
    size_t sl = size < sizeof spec - 1 ? size : sizeof spec - 1;
    memcpy(spec, data, sl);
    spec[sl] = '\0';
    if (input_check_spec(spec, err, sizeof err) == 0)
        REQUIRE(!strncmp(spec, "audit:", 6) || !strncmp(spec, "file:/", 6) ||
                !strncmp(spec, "journal", 7));
    if (size < 2)
        return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/lw-fuzz-follow-XXXXXX");
        REQUIRE(mkdtemp(dir));
    }
    bool audit = data[1] & 1;
    const uint8_t *p = data + 2;
    size_t n = size - 2, split = n ? data[0] % (n + 1) : 0;
    char path[128];
    snprintf(path, sizeof path, "%s/log", dir);
    unlink(path);
    snprintf(spec, sizeof spec, "%s:%s", audit ? "audit" : "file", path);
    struct queue *q = fake_queue_new();
    append(path, p, split);
    drain(spec, q);
    append(path, p + split, n - split);
    drain(spec, q);
    check_records(q, p, n, audit);
    fake_queue_free(q);
    unlink(path);
    return 0;
}
