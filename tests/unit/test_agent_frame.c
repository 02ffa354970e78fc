/*
 * Unit test of src/wire/agent_frame.c (lwap/1): the framer on whole,
 * partial and broken heads; every verb parsed with its fields and refused
 * when a field breaks the contract; the writers' frames parsed back.
 */
#include "wire/agent_frame.h"

#include "check.h"
#include <errno.h>
#include <stdlib.h>

static int next(const char *s, const char **body, size_t *blen)
{
    return agent_frame_next(s, strlen(s), body, blen);
}

static void test_framer(void)
{
    const char *body;
    size_t blen;
    CHECK_INT(next("6 PING 1", &body, &blen), 8);
    CHECK_MEM(body, blen, "PING 1");
    CHECK_INT(next("6 PING 12rest", &body, &blen), 8);
    CHECK_MEM(body, blen, "PING 1");
    CHECK_INT(next("7 PING 12", &body, &blen), 9);
    CHECK_MEM(body, blen, "PING 12");
    CHECK_INT(next("", &body, &blen), 0);
    CHECK_INT(next("1", &body, &blen), 0);
    CHECK_INT(next("12", &body, &blen), 0);
    CHECK_INT(next("12 ", &body, &blen), 0);
    CHECK_INT(next("12 PING", &body, &blen), 0);
    CHECK_INT(next("0 ", &body, &blen), -EBADMSG);
    CHECK_INT(next("05 PING 1", &body, &blen), -EBADMSG);
    CHECK_INT(next(" 5 PING 1", &body, &blen), -EBADMSG);
    CHECK_INT(next("5x", &body, &blen), -EBADMSG);
    CHECK_INT(next("-5 ", &body, &blen), -EBADMSG);
    CHECK_INT(next("1048576 ", &body, &blen), 0);
    CHECK_INT(next("1048577 ", &body, &blen), -EMSGSIZE);
    CHECK_INT(next("10485760", &body, &blen), -EBADMSG);
    CHECK_INT(next("99999999", &body, &blen), -EMSGSIZE);
    CHECK_INT(next("0000000", &body, &blen), -EBADMSG);
    CHECK_INT(next("1000000", &body, &blen), 0);
    CHECK_INT(next("1000000x", &body, &blen), -EBADMSG);
}

static int parse(const char *s, struct agent_msg *m)
{
    return agent_msg_parse(s, strlen(s), m);
}

#define STREAM "0123456789abcdef0123456789abcdef"

static void test_parse(void)
{
    struct agent_msg m;
    CHECK_INT(parse("HELLO lwap/1 agent=web-1.x_y stream=" STREAM " host=web1.example", &m), 0);
    CHECK_INT(m.verb, AGENT_HELLO);
    CHECK_MEM(m.agent, m.agent_len, "web-1.x_y");
    CHECK_MEM(m.stream, m.stream_len, STREAM);
    CHECK_MEM(m.host, m.host_len, "web1.example");
    CHECK_INT(parse("HELLO lwap/1 host=h stream=" STREAM " x=1 agent=a", &m), 0);
    CHECK_MEM(m.host, m.host_len, "h");
    CHECK_INT(parse("HELLO lwap/2 agent=a stream=" STREAM " host=h", &m), -EPROTONOSUPPORT);
    CHECK_INT(parse("HELLO lwap/1 agent=a stream=" STREAM, &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a agent=b stream=" STREAM " host=h", &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a/b stream=" STREAM " host=h", &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent= stream=" STREAM " host=h", &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a stream=0123456789ABCDEF0123456789abcdef host=h", &m),
              -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a stream=0123 host=h", &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a stream=" STREAM " host=", &m), -EBADMSG);
    CHECK_INT(parse("HELLO lwap/1 agent=a stream=" STREAM "  host=h", &m), -EBADMSG);
    CHECK_INT(parse("HELLO", &m), -EBADMSG);
    CHECK_INT(parse("HELLO ", &m), -EBADMSG);

    CHECK_INT(parse("REC 7 audit type=USER_LOGIN msg=audit(1.2:3): x", &m), 0);
    CHECK_INT(m.verb, AGENT_REC);
    CHECK_INT(m.seq, 7);
    CHECK_INT(m.kind, AGENT_KIND_AUDIT);
    CHECK_MEM(m.data, m.data_len, "type=USER_LOGIN msg=audit(1.2:3): x");
    CHECK_INT(parse("REC 9223372036854775807 syslog <13>a  b ", &m), 0);
    CHECK_INT(m.seq, INT64_MAX);
    CHECK_INT(m.kind, AGENT_KIND_SYSLOG);
    CHECK_MEM(m.data, m.data_len, "<13>a  b ");
    CHECK_INT(parse("REC 1 audit ", &m), 0);
    CHECK_INT(m.data_len, 0);
    CHECK_INT(parse("REC 1 audit", &m), 0);
    CHECK_INT(m.data_len, 0);
    CHECK_INT(parse("REC 9223372036854775808 audit x", &m), -EBADMSG);
    CHECK_INT(parse("REC 0 audit x", &m), -EBADMSG);
    CHECK_INT(parse("REC 01 audit x", &m), -EBADMSG);
    CHECK_INT(parse("REC +1 audit x", &m), -EBADMSG);
    CHECK_INT(parse("REC 1 journal x", &m), -EBADMSG);
    CHECK_INT(parse("REC 1", &m), -EBADMSG);
    CHECK_INT(parse("REC 1 audit a\nb", &m), -EBADMSG);
    CHECK_INT(parse("REC", &m), -EBADMSG);

    CHECK_INT(parse("ACK 42", &m), 0);
    CHECK_INT(m.verb, AGENT_ACK);
    CHECK_INT(m.seq, 42);
    CHECK_INT(parse("ACK 0", &m), -EBADMSG);
    CHECK_INT(parse("ACK 4 2", &m), -EBADMSG);
    CHECK_INT(parse("ACK ", &m), -EBADMSG);
    CHECK_INT(parse("WELCOME lwap/1 last=0", &m), 0);
    CHECK_INT(m.verb, AGENT_WELCOME);
    CHECK_INT(m.last, 0);
    CHECK_INT(parse("WELCOME lwap/1 last=123", &m), 0);
    CHECK_INT(m.last, 123);
    CHECK_INT(parse("WELCOME lwap/1 last=", &m), -EBADMSG);
    CHECK_INT(parse("WELCOME lwap/1 last=1 x", &m), -EBADMSG);
    CHECK_INT(parse("WELCOME lwap/9 last=1", &m), -EPROTONOSUPPORT);
    CHECK_INT(parse("PING 0", &m), 0);
    CHECK_INT(m.verb, AGENT_PING);
    CHECK_INT(parse("PONG 5", &m), 0);
    CHECK_INT(m.verb, AGENT_PONG);
    CHECK_INT(m.n, 5);
    CHECK_INT(parse("PING", &m), -EBADMSG);
    CHECK_INT(parse("ERROR store: disk full", &m), 0);
    CHECK_INT(m.verb, AGENT_ERROR);
    CHECK_MEM(m.text, m.text_len, "store: disk full");
    CHECK_INT(parse("ERROR", &m), 0);
    CHECK_INT(m.text_len, 0);
    CHECK_INT(parse("NOPE 1", &m), -EBADMSG);
    CHECK_INT(parse("rec 1 audit x", &m), -EBADMSG);
    CHECK_INT(parse("", &m), -EBADMSG);
}

/* The frame in b parses back to the expected body. */
static void check_frame(struct buf *b, const char *want_body)
{
    const char *body;
    size_t blen;
    int r = agent_frame_next(b->data, b->len, &body, &blen);
    CHECK_INT(r, (int)b->len);
    if (r > 0)
        CHECK_MEM(body, blen, want_body);
    buf_reset(b);
}

static void test_write(void)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(agent_frame_hello(&b, "a1", STREAM, "h.example"), 0);
    CHECK_MEM(b.data, b.len, "76 HELLO lwap/1 agent=a1 stream=" STREAM " host=h.example");
    check_frame(&b, "HELLO lwap/1 agent=a1 stream=" STREAM " host=h.example");
    CHECK_INT(agent_frame_rec(&b, 12, AGENT_KIND_SYSLOG, "<13>hi", 6), 0);
    check_frame(&b, "REC 12 syslog <13>hi");
    CHECK_INT(agent_frame_rec(&b, 1, AGENT_KIND_AUDIT, NULL, 0), 0);
    check_frame(&b, "REC 1 audit ");
    CHECK_INT(agent_frame_welcome(&b, 0), 0);
    check_frame(&b, "WELCOME lwap/1 last=0");
    CHECK_INT(agent_frame_ack(&b, 9223372036854775807ULL), 0);
    check_frame(&b, "ACK 9223372036854775807");
    CHECK_INT(agent_frame_ping(&b, 3), 0);
    check_frame(&b, "PING 3");
    CHECK_INT(agent_frame_pong(&b, 3), 0);
    check_frame(&b, "PONG 3");
    CHECK_INT(agent_frame_error(&b, "busy", 4), 0);
    check_frame(&b, "ERROR busy");

    CHECK_INT(agent_frame_hello(&b, "a b", STREAM, "h"), -EINVAL);
    CHECK_INT(agent_frame_hello(&b, "a", "xyz", "h"), -EINVAL);
    CHECK_INT(agent_frame_hello(&b, "a", STREAM, "h h"), -EINVAL);
    CHECK_INT(agent_frame_rec(&b, 0, AGENT_KIND_AUDIT, "x", 1), -EINVAL);
    CHECK_INT(agent_frame_rec(&b, 1, AGENT_KIND_AUDIT, "x\ny", 3), -EINVAL);
    CHECK_INT(agent_frame_rec(&b, 1, 7, "x", 1), -EINVAL);
    CHECK_INT(agent_frame_ack(&b, 0), -EINVAL);
    CHECK_INT(agent_frame_welcome(&b, (uint64_t)INT64_MAX + 1), -EINVAL);
    CHECK_INT(b.len, 0);

    /* the largest body fits, one more byte is refused */
    size_t big = AGENT_FRAME_MAX - strlen("REC 1 audit ");
    char *data = malloc(big + 1);
    memset(data, 'x', big + 1);
    CHECK_INT(agent_frame_rec(&b, 1, AGENT_KIND_AUDIT, data, big), 0);
    const char *body;
    size_t blen;
    CHECK_INT(agent_frame_next(b.data, b.len, &body, &blen), (int)b.len);
    CHECK_INT(blen, AGENT_FRAME_MAX);
    buf_reset(&b);
    CHECK_INT(agent_frame_rec(&b, 1, AGENT_KIND_AUDIT, data, big + 1), -EINVAL);
    free(data);

    /* a stream of frames split anywhere gives the same frames */
    agent_frame_hello(&b, "a", STREAM, "h");
    agent_frame_rec(&b, 1, AGENT_KIND_AUDIT, "one", 3);
    agent_frame_rec(&b, 2, AGENT_KIND_SYSLOG, "two", 3);
    int frames = 0;
    size_t pos = 0;
    while (pos < b.len) {
        for (size_t k = 0; k < b.len - pos; k++) {
            int rk = agent_frame_next(b.data + pos, k, &body, &blen);
            if (rk != 0 && (size_t)rk > k)
                CHECK(0);
        }
        int r = agent_frame_next(b.data + pos, b.len - pos, &body, &blen);
        CHECK(r > 0);
        if (r <= 0)
            break;
        struct agent_msg m;
        CHECK_INT(agent_msg_parse(body, blen, &m), 0);
        pos += (size_t)r;
        frames++;
    }
    CHECK_INT(frames, 3);
    buf_free(&b);
}

int main(void)
{
    test_framer();
    test_parse();
    test_write();
    return check_status();
}
