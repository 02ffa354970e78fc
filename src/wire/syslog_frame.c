/*
 * syslog_frame: splits a syslog TCP/TLS byte stream into frames per RFC 6587
 * (octet counting or LF termination, decided per frame). Pure and
 * stateless: no allocation, no globals; the caller owns the buffer and any
 * "dropping until resync" state. It does not parse the message inside
 * (syslog_msg does) and does not buffer: a frame is returned only whole.
 * Data flow: connection read -> syslog_frame_next -> syslog_msg_parse.
 */
#include "wire/syslog_frame.h"

#include "base/err.h"
#include "wire/syslog_msg.h"

#include <string.h>

_Static_assert(SYSLOG_FRAME_MAX <= SYSLOG_MSG_MAX, "a frame's message must fit the parser");

static int fail(struct syslog_frame *f, int code, uint64_t skip, bool discard_line)
{
    f->skip = skip;
    f->discard_line = discard_line;
    return code;
}

/* "LEN SP MSG", LEN = NONZERO-DIGIT *DIGIT. */
static int octet_counted(const char *p, size_t len, struct syslog_frame *f)
{
    if (p[0] == '0')
        return fail(f, -ERR_FRAME_BAD_LENGTH, 0, true);
    uint64_t n = 0;
    size_t i = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9') {
        if (i == SYSLOG_FRAME_LEN_DIGITS)
            return fail(f, -ERR_FRAME_BAD_LENGTH, 0, true);
        n = n * 10 + (uint64_t)(p[i++] - '0');
    }
    if (i == len)
        return 0;
    if (p[i] != ' ')
        return fail(f, -ERR_FRAME_BAD_LENGTH, 0, true);
    i++;
    if (n > SYSLOG_FRAME_MAX)
        return fail(f, -ERR_FRAME_TOO_LONG, i + n, false);
    if (len - i < n)
        return 0;
    f->kind = SYSLOG_FRAME_OCTET_COUNTED;
    f->msg_off = (uint32_t)i;
    f->msg_len = (uint32_t)n;
    return (int)(i + n);
}

/* MSG [CR] LF, or MSG NUL with SYSLOG_FRAME_NUL_ENDS. */
static int lf_terminated(const char *p, size_t len, unsigned options, struct syslog_frame *f)
{
    size_t lim = len < SYSLOG_FRAME_MAX_CONSUMED ? len : SYSLOG_FRAME_MAX_CONSUMED;
    const char *end = memchr(p, '\n', lim);
    if (options & SYSLOG_FRAME_NUL_ENDS) {
        const char *nul = memchr(p, '\0', end ? (size_t)(end - p) : lim);
        if (nul)
            end = nul;
    }
    if (!end) {
        if (len < SYSLOG_FRAME_MAX_CONSUMED)
            return 0;
        return fail(f, -ERR_FRAME_TOO_LONG, SYSLOG_FRAME_MAX_CONSUMED, true);
    }
    size_t k = (size_t)(end - p), n = k;
    if (*end == '\n' && n > 0 && p[n - 1] == '\r')
        n--;
    if (n > SYSLOG_FRAME_MAX)
        return fail(f, -ERR_FRAME_TOO_LONG, k + 1, false);
    f->kind = SYSLOG_FRAME_LF;
    f->msg_off = 0;
    f->msg_len = (uint32_t)n;
    return (int)(k + 1);
}

int syslog_frame_next(const char *p, size_t len, unsigned options, struct syslog_frame *f)
{
    memset(f, 0, sizeof(*f));
    if (len == 0)
        return 0;
    if (p[0] >= '0' && p[0] <= '9' && !(options & SYSLOG_FRAME_LF_ONLY))
        return octet_counted(p, len, f);
    return lf_terminated(p, len, options, f);
}
