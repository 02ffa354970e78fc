/*
 * Fuzz target: logward search's option parser and time words
 * (src/search/query.c, timewords.c). The input is split at NUL or newline
 * bytes into argv words. Checks that parsing ends, that an error always has
 * a message, that borrowed values point into the words, that counts stay
 * within their bounds, and that a parsed query matches without crashing.
 */
#include "require.h"
#include "search/query.h"
#include "search/timewords.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const char *p, const char *base, size_t n)
{
    return !p || (p >= base && p < base + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct search_options o;
    char *copy = malloc(size + 1), *argv[MAX_WORDS + 1];
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = 0;
    int argc = 0;
    argv[argc++] = "search";
    for (size_t i = 0, start = 0; i <= size && argc < MAX_WORDS; i++) {
        if (i == size || copy[i] == 0 || copy[i] == '\n') {
            copy[i] = 0;
            argv[argc++] = copy + start;
            start = i + 1;
        }
    }
    char err[SEARCH_ERR_MAX];
    int r = search_options_parse(&o, argc, argv, (time_t)1732270830, err);
    if (r < 0) {
        REQUIRE(err[0] != 0 && memchr(err, 0, sizeof(err)));
    } else {
        REQUIRE(o.q.ntypes <= SEARCH_MAX_TYPES && o.q.nnodes <= SEARCH_MAX_NODES);
        REQUIRE(o.npaths <= SEARCH_MAX_PATHS);
        REQUIRE(inside(o.q.key, copy, size + 1) && inside(o.q.file, copy, size + 1));
        REQUIRE(inside(o.q.exe, copy, size + 1) && inside(o.q.host, copy, size + 1));
        for (unsigned i = 0; i < o.npaths; i++)
            REQUIRE(inside(o.paths[i], copy, size + 1));
        REQUIRE(!(o.q.has_start && o.q.has_end) || o.q.start <= o.q.end);
    }
    /* the time words alone, both edges, the first two words as date and time */
    time_t t;
    char msg[256];
    if (argc > 1) {
        r = timewords_parse(argv[1], argc > 2 ? argv[2] : NULL, TIMEWORDS_END, 1732270830, &t, msg,
                            sizeof(msg));
        REQUIRE(r == 0 || (r == -EINVAL && msg[0]));
    }
    free(copy);
    return 0;
}
