/*
 * Fuzz target: the RFC 6587 framer, driven as a connection would drive it.
 * Checks invariants, not only crashes: every frame lies inside the bytes
 * given and inside what it consumed, within SYSLOG_FRAME_MAX; every call
 * makes progress or asks for more; an error says how to resync; and the
 * stream gives the same frames and errors whether it arrives in one piece,
 * byte by byte (each call on an exact-size copy, so ASan sees overreads)
 * or in uneven chunks. Each frame is also run through syslog_msg_parse.
 * Each input is run with and without SYSLOG_FRAME_NUL_ENDS.
 */
#include "base/err.h"
#include "wire/syslog_frame.h"
#include "wire/syslog_msg.h"

#include "require.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
    int code;         /* > 0: a frame (bytes consumed); < 0: an error */
    size_t at;        /* stream offset of the frame or error */
    uint32_t msg_len; /* frame only */
};

struct run {
    struct event *ev;
    size_t n, cap;
    size_t leftover; /* bytes still undecided at the end */
};

static void record(struct run *r, int code, size_t at, uint32_t msg_len)
{
    REQUIRE(r->n < r->cap);
    r->ev[r->n++] = (struct event){code, at, msg_len};
}

/* One call on the window; checks its answer. */
static int frame_at(const char *w, size_t len, unsigned opt, bool copy, struct syslog_frame *f)
{
    char *c = NULL;
    if (copy) {
        c = malloc(len ? len : 1);
        memcpy(c, w, len);
        w = c;
    }
    int r = syslog_frame_next(w, len, opt, f);
    if (r > 0) {
        REQUIRE((size_t)r <= len && (size_t)r <= SYSLOG_FRAME_MAX_CONSUMED);
        REQUIRE(f->msg_len <= SYSLOG_FRAME_MAX && (size_t)f->msg_off + f->msg_len <= (size_t)r);
        REQUIRE(f->kind == SYSLOG_FRAME_OCTET_COUNTED || f->kind == SYSLOG_FRAME_LF);
        struct syslog_msg m;
        size_t off;
        int pr = syslog_msg_parse(w + f->msg_off, f->msg_len, &m, &off);
        REQUIRE(pr == (int)f->msg_len || (pr < 0 && off <= f->msg_len));
    } else if (r == 0) {
        REQUIRE(len < SYSLOG_FRAME_MAX_CONSUMED || (len > 0 && w[0] >= '1' && w[0] <= '9'));
    } else {
        REQUIRE(r == -ERR_FRAME_TOO_LONG || r == -ERR_FRAME_BAD_LENGTH);
        if (r == -ERR_FRAME_BAD_LENGTH) /* progress: through the next LF */
            REQUIRE(f->skip == 0 && f->discard_line);
        else /* progress: past the oversize frame, perhaps more than len */
            REQUIRE(f->skip > SYSLOG_FRAME_MAX);
    }
    free(c);
    return r;
}

/* Feeds s[0..n) in chunks (sizes from `seed`; 0 = one piece, 1 = bytes). */
static void drive(const char *s, size_t n, unsigned opt, unsigned seed, struct run *out)
{
    size_t start = 0, have = 0;
    uint64_t skip = 0;
    bool to_lf = false;
    unsigned rng = seed;
    out->n = 0;
    while (have < n) {
        rng = rng * 1103515245u + 12345u;
        size_t chunk = seed == 0 ? n : seed == 1 ? 1 : 1 + (rng >> 8) % 97;
        have = have + chunk < n ? have + chunk : n;
        for (;;) {
            if (skip > 0) {
                size_t k = have - start < skip ? have - start : (size_t)skip;
                start += k;
                skip -= k;
                if (skip > 0)
                    break;
            }
            if (to_lf) {
                const char *lf = memchr(s + start, '\n', have - start);
                start = lf ? (size_t)(lf - s) + 1 : have;
                if (!lf)
                    break;
                to_lf = false;
            }
            struct syslog_frame f;
            int r = frame_at(s + start, have - start, opt, seed == 1, &f);
            if (r == 0)
                break;
            record(out, r, start, r > 0 ? f.msg_len : 0);
            if (r > 0) {
                start += (size_t)r;
            } else {
                skip = f.skip;
                to_lf = f.discard_line;
            }
        }
    }
    out->leftover = n - start;
}

static bool same(const struct run *a, const struct run *b)
{
    if (a->n != b->n || a->leftover != b->leftover)
        return false;
    for (size_t k = 0; k < a->n; k++) /* field by field: padding differs */
        if (a->ev[k].code != b->ev[k].code || a->ev[k].at != b->ev[k].at ||
            a->ev[k].msg_len != b->ev[k].msg_len)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t cap = size + 2;
    struct run whole = {calloc(cap, sizeof(struct event)), 0, cap, 0};
    struct run other = {calloc(cap, sizeof(struct event)), 0, cap, 0};
    for (unsigned opt = 0; opt <= SYSLOG_FRAME_NUL_ENDS; opt += SYSLOG_FRAME_NUL_ENDS) {
        drive(s, size, opt, 0, &whole);
        if (size <= 512) {
            drive(s, size, opt, 1, &other);
            REQUIRE(same(&whole, &other));
        }
        drive(s, size, opt, (unsigned)size | 2u, &other);
        REQUIRE(same(&whole, &other));
    }
    free(whole.ev);
    free(other.ev);
    return 0;
}
