/*
 * Fuzz target: the audisp-remote managed framer, driven as a connection
 * drives it. Invariants: a frame never claims more bytes than given and is
 * header + payload within AUDISP_MAX_PAYLOAD; the answer for a prefix is
 * "need more" or the same answer (so partial reads are safe); the stream
 * gives the same frames whole or byte by byte (each call on an exact-size
 * copy, so ASan sees overreads); and every frame's reply (ACK with its
 * sequence, a short text for errors) parses back to what was built.
 */
#include "wire/audisp_frame.h"
#include "wire/audit_record.h"

#include "require.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int next_exact(const uint8_t *p, size_t n, struct audisp_frame *f)
{
    uint8_t *copy = malloc(n ? n : 1);
    REQUIRE(copy);
    memcpy(copy, p, n);
    int r = audisp_frame_next(copy, n, f);
    free(copy);
    return r;
}

static void check_reply(const struct audisp_frame *f)
{
    uint8_t out[AUDISP_HEADER_SIZE + AUDISP_MAX_REPLY];
    const char *text = f->type == AUDISP_MESSAGE ? "" : "write error";
    int n = audisp_reply_build(f->type ? AUDISP_DISKERROR : AUDISP_ACK, f->sequence, text,
                               strlen(text), out, sizeof(out));
    REQUIRE(n == (int)(AUDISP_HEADER_SIZE + strlen(text)));
    struct audisp_frame back;
    REQUIRE(audisp_frame_next(out, (size_t)n, &back) == n);
    REQUIRE(back.sequence == f->sequence && back.length == strlen(text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        struct audisp_frame f;
        int r = audisp_frame_next(data + pos, size - pos, &f);
        if (r <= 0) {
            /* byte by byte until the end gives the same final answer */
            for (size_t k = 0; k + 1 < size - pos; k++) {
                int rk = next_exact(data + pos, k, &f);
                REQUIRE(rk == 0 || rk == r);
            }
            break;
        }
        REQUIRE((size_t)r <= size - pos);
        REQUIRE((size_t)r == AUDISP_HEADER_SIZE + f.length && f.length <= AUDISP_MAX_PAYLOAD);
        for (size_t k = 0; k < (size_t)r; k++) {
            struct audisp_frame g;
            REQUIRE(next_exact(data + pos, k, &g) == 0 || k < 4);
        }
        struct audisp_frame g;
        REQUIRE(next_exact(data + pos, (size_t)r, &g) == r && g.sequence == f.sequence);
        check_reply(&f);
        /* the payload is what ingest hands to the record parser */
        struct audit_header h;
        size_t err_off;
        if (audit_header_parse((const char *)data + pos + AUDISP_HEADER_SIZE, f.length, &h,
                               &err_off) < 0)
            REQUIRE(err_off <= f.length);
        pos += (size_t)r;
    }
    return 0;
}
