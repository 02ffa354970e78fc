/*
 * Fuzz target: the audit spool's read-back (src/collector/spool.c), the
 * only parser of a file logwardd wrote itself but must read after any
 * crash. The input is written as an old spool file; the replay must not
 * crash or overread, and every record it hands out must lie inside the
 * input: HOST within SPOOL_KEY_MAX, LINE without LF, and never more records
 * handed out than read. Files are in a private temporary directory.
 */
#include "collector/spool.h"

#include "require.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    const uint8_t *data;
    size_t size, n;
    unsigned sum;
};

static int on_record(void *arg, uint64_t gen, const char *host, size_t host_len, const char *line,
                     size_t len)
{
    struct seen *s = arg;
    REQUIRE(gen == 1);
    REQUIRE(host_len <= SPOOL_KEY_MAX);
    REQUIRE(!memchr(line, '\n', len));
    unsigned sum = 0; /* every byte handed out is read: ASan sees an overread */
    for (size_t i = 0; i < host_len; i++)
        sum += (unsigned char)host[i];
    s->sum += sum;
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_spool.XXXXXX");
        REQUIRE(mkdtemp(dir));
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/audit.1", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, data, size) == (ssize_t)size);
    close(fd);
    struct spool *sp;
    REQUIRE(spool_open(dir, false, &sp) == 0);
    struct seen s = {data, size, 0, 0};
    struct spool_replay_stats st;
    spool_replay(sp, on_record, &s, &st);
    REQUIRE(s.n == st.replayed && st.replayed <= st.records);
    spool_free(sp);
    unlink(path);
    snprintf(path, sizeof(path), "%s/audit.2", dir);
    unlink(path);
    return 0;
}
