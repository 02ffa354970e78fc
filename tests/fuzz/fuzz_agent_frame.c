/*
 * Fuzz target: the lwap/1 framer and verb parser (src/wire/agent_frame.c),
 * driven as conn_agent.c drives them. Invariants: a frame never claims more
 * bytes than given and its body is within AGENT_FRAME_MAX; every shorter
 * prefix of a frame is "need more" (so partial reads are safe); each call
 * runs on an exact-size copy so ASan sees overreads; every parsed body is
 * written back by agent_msg_write, and that frame parses to the same
 * message (round trip), with DATA/TEXT never holding LF.
 */
#include "wire/agent_frame.h"

#include "require.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int next_exact(const uint8_t *p, size_t n, size_t *blen)
{
    char *copy = malloc(n ? n : 1);
    REQUIRE(copy);
    memcpy(copy, p, n);
    const char *body;
    int r = agent_frame_next(copy, n, &body, blen);
    free(copy);
    return r;
}

static int same_field(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void round_trip(const char *body, size_t blen)
{
    char *copy = malloc(blen ? blen : 1);
    REQUIRE(copy);
    memcpy(copy, body, blen);
    struct agent_msg m;
    int r = agent_msg_parse(copy, blen, &m);
    if (r < 0) {
        REQUIRE(r == -EBADMSG || r == -EPROTONOSUPPORT);
        free(copy);
        return;
    }
    REQUIRE(!m.data_len || !memchr(m.data, '\n', m.data_len));
    REQUIRE(!m.text_len || !memchr(m.text, '\n', m.text_len));
    struct buf b;
    buf_init(&b, 0);
    REQUIRE(agent_msg_write(&b, &m) == 0);
    const char *body2;
    size_t blen2;
    REQUIRE(agent_frame_next(b.data, b.len, &body2, &blen2) == (int)b.len);
    struct agent_msg m2;
    REQUIRE(agent_msg_parse(body2, blen2, &m2) == 0);
    REQUIRE(m2.verb == m.verb && m2.seq == m.seq && m2.kind == m.kind && m2.last == m.last &&
            m2.n == m.n);
    REQUIRE(same_field(m.data, m.data_len, m2.data, m2.data_len));
    REQUIRE(same_field(m.text, m.text_len, m2.text, m2.text_len));
    REQUIRE(same_field(m.agent, m.agent_len, m2.agent, m2.agent_len));
    REQUIRE(same_field(m.stream, m.stream_len, m2.stream, m2.stream_len));
    REQUIRE(same_field(m.host, m.host_len, m2.host, m2.host_len));
    buf_free(&b);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        const char *body;
        size_t blen;
        int r = agent_frame_next((const char *)data + pos, size - pos, &body, &blen);
        if (r <= 0) {
            REQUIRE(r == 0 || r == -EBADMSG || r == -EMSGSIZE);
            break;
        }
        REQUIRE((size_t)r <= size - pos && blen >= 1 && blen <= AGENT_FRAME_MAX);
        REQUIRE(body + blen == (const char *)data + pos + r);
        for (size_t k = 0; k < (size_t)r; k += 1 + k / 8) {
            size_t bl;
            REQUIRE(next_exact(data + pos, k, &bl) == 0);
        }
        size_t bl;
        REQUIRE(next_exact(data + pos, (size_t)r, &bl) == r && bl == blen);
        round_trip(body, blen);
        pos += (size_t)r;
    }
    /* the whole input as one body, as if framed by someone else */
    if (size && size <= AGENT_FRAME_MAX)
        round_trip((const char *)data, size);
    return 0;
}
