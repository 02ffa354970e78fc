/* Unit tests of the audisp-remote managed framer: frames as audisp-remote
 * 3.0.9 sends them (little-endian header, sequence ids from 2, a record
 * with its LF), partial input, heartbeats, bad magic and header version,
 * oversize lengths, and replies that parse back to what was built. */
#include "check.h"
#include "wire/audisp_frame.h"

#include <errno.h>
#include <string.h>

static size_t make(unsigned char *out, uint32_t type, uint32_t seq, const char *payload)
{
    size_t n = payload ? strlen(payload) : 0;
    int r = audisp_reply_build(type, seq, NULL, 0, out, 16); /* header only */
    CHECK_INT(r, 16);
    out[10] = (unsigned char)n;
    out[11] = (unsigned char)(n >> 8);
    if (n)
        memcpy(out + 16, payload, n);
    return 16 + n;
}

static void test_record_frame(void)
{
    /* Bytes of a MESSAGE as captured from audisp-remote: fe 00 00 ff, versions 0,
     * type 0, length, sequence 2. */
    const char *rec = "type=USER_CMD msg=audit(1700000000.001:11): pid=1 uid=0\n";
    unsigned char b[256];
    size_t n = make(b, AUDISP_MESSAGE, 2, rec);
    CHECK_INT(b[0], 0xfe);
    CHECK_INT(b[3], 0xff);
    CHECK_INT(b[12], 2);
    CHECK(audisp_is_managed(b, n));
    struct audisp_frame f;
    CHECK_INT(audisp_frame_next(b, n, &f), (int)n);
    CHECK_INT(f.type, AUDISP_MESSAGE);
    CHECK_INT(f.sequence, 2);
    CHECK_INT(f.length, strlen(rec));
    for (size_t k = 0; k < n; k++) /* every prefix needs more */
        CHECK_INT(audisp_frame_next(b, k, &f), 0);
    /* two frames back to back: the first one's length only */
    size_t m = make(b + n, AUDISP_HEARTBEAT, 3, NULL);
    CHECK_INT(audisp_frame_next(b, n + m, &f), (int)n);
    CHECK_INT(audisp_frame_next(b + n, m, &f), 16);
    CHECK_INT(f.type, AUDISP_HEARTBEAT);
    CHECK_INT(f.sequence, 3);
}

static void test_bad_headers(void)
{
    unsigned char b[64];
    struct audisp_frame f;
    memcpy(b, "type=SYSCALL msg=audit(1.2:3): a=b\n", 35);
    CHECK(!audisp_is_managed(b, 35));
    CHECK_INT(audisp_frame_next(b, 35, &f), -EBADMSG);
    CHECK_INT(audisp_frame_next(b, 4, &f), -EBADMSG); /* decided on the magic alone */
    CHECK(!audisp_is_managed(b, 3));
    make(b, AUDISP_MESSAGE, 5, NULL);
    b[4] = 1; /* header version */
    CHECK_INT(audisp_frame_next(b, 16, &f), -EBADMSG);
    make(b, AUDISP_MESSAGE, 5, NULL);
    b[10] = (AUDISP_MAX_PAYLOAD + 1) & 0xff;
    b[11] = (AUDISP_MAX_PAYLOAD + 1) >> 8;
    CHECK_INT(audisp_frame_next(b, 16, &f), -EMSGSIZE);
    b[10] = AUDISP_MAX_PAYLOAD & 0xff;
    b[11] = AUDISP_MAX_PAYLOAD >> 8;
    CHECK_INT(audisp_frame_next(b, 16, &f), 0); /* the largest is allowed: needs more */
}

static void test_replies(void)
{
    unsigned char b[128];
    struct audisp_frame f;
    int n = audisp_reply_build(AUDISP_ACK, 0x01020304, "", 0, b, sizeof(b));
    CHECK_INT(n, 16);
    CHECK_INT(audisp_frame_next(b, (size_t)n, &f), 16);
    CHECK_INT(f.type, AUDISP_ACK);
    CHECK_INT(f.sequence, 0x01020304);
    CHECK_INT(b[6], 0x00);
    CHECK_INT(b[9], 0x40); /* 0x40000000, least significant byte first */
    n = audisp_reply_build(AUDISP_DISKERROR, 7, "write error", 11, b, sizeof(b));
    CHECK_INT(n, 27);
    CHECK_INT(audisp_frame_next(b, (size_t)n, &f), 27);
    CHECK_INT(f.type, AUDISP_DISKERROR);
    CHECK_INT(f.length, 11);
    CHECK_MEM(b + 16, 11, "write error");
    CHECK_INT(audisp_reply_build(AUDISP_ACK, 1, "x", 1, b, 16), -EMSGSIZE);
    char big[AUDISP_MAX_REPLY + 1] = {0};
    CHECK_INT(audisp_reply_build(AUDISP_ACK, 1, big, sizeof(big), b, sizeof(b)), -EMSGSIZE);
}

int main(void)
{
    test_record_frame();
    test_bad_headers();
    test_replies();
    return check_status();
}
