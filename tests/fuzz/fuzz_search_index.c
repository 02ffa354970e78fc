/*
 * Fuzz target: the search index reader (src/search/index.c,
 * search_index_parse). The input is taken as an index file twice: as it is
 * (almost always refused by its trailing hash), and with the trailer set to
 * the hash of the rest, so that mutations reach the header and block checks.
 * A parsed index must be within its bounds (blocks contiguous, reach and
 * lists inside), encode back to the same bytes, and answer may-match for a
 * few queries without crashing.
 */
#include "require.h"
#include "search/index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct search_index *ix)
{
    static struct search_query q[3];
    for (int k = 0; k < 3; k++) {
        memset(&q[k], 0, sizeof(q[k]));
        q[k].event_id = q[k].uid = q[k].euid = q[k].auid = SEARCH_UNSET;
        q[k].pid = q[k].ppid = q[k].session = q[k].syscall = SEARCH_UNSET;
        q[k].success = -1;
    }
    q[0].key = "delete";
    q[1].has_start = true, q[1].start = 1732270805, q[1].uid = 0, q[1].exact = true;
    q[1].file = "/etc/shadow";
    q[2].ntypes = 1, q[2].types[0] = 1112, q[2].exe = "sshd", q[2].uid_all = true;
    q[2].uid = q[2].euid = q[2].auid = 1000, q[2].uid_name = "root";
    uint64_t end = 0;
    for (uint32_t i = 0; i < ix->nblocks; i++) {
        const struct search_index_block *b = &ix->blocks[i];
        REQUIRE(b->off == end && b->back <= i && b->fwd >= i && b->fwd < ix->nblocks);
        REQUIRE(b->keys_len <= SEARCH_INDEX_LIST && b->exes_len <= SEARCH_INDEX_LIST);
        REQUIRE(b->ncarry <= SEARCH_INDEX_CARRY);
        end = b->off + b->len;
        for (int k = 0; k < 3; k++)
            (void)search_index_block_may_match(b, &q[k]);
    }
    REQUIRE(end == ix->covered);
}

static void one(const uint8_t *p, size_t n)
{
    struct search_index ix;
    if (search_index_parse(p, n, &ix) < 0)
        return;
    exercise(&ix);
    uint8_t *out;
    size_t len;
    if (search_index_encode(&ix, &out, &len) == 0) {
        REQUIRE(len == n && !memcmp(out, p, n)); /* a round trip */
        free(out);
    }
    search_index_free(&ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size < 16)
        return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    uint64_t h = search_index_hash(fixed, size - 8);
    for (int i = 0; i < 8; i++)
        fixed[size - 8 + i] = (uint8_t)(h >> (8 * i));
    one(fixed, size);
    free(fixed);
    return 0;
}
