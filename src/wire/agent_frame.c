/*
 * agent_frame: the lwap/1 framer, verb parser and writers. The framer only
 * reads `LEN SP`; the parser checks every field against the contract in
 * docs/formats.md; the writers check the same rules before writing, so
 * what one side writes the other side always parses. What a verb means
 * (sequences, duplicates, acks) is the business of the sender
 * (src/agent) and of src/collector/conn_agent.c, not of this file.
 */
#include "wire/agent_frame.h"

#include <errno.h>
#include <string.h>

int agent_frame_next(const char *p, size_t len, const char **body, size_t *blen)
{
    size_t n = 0, i = 0;
    for (; i < len; i++) {
        char c = p[i];
        if (c == ' ')
            break;
        if (c < '0' || c > '9' || (i == 0 && c == '0') || i == AGENT_FRAME_HEAD_MAX - 1)
            return -EBADMSG;
        n = n * 10 + (size_t)(c - '0');
        if (n > AGENT_FRAME_MAX)
            return -EMSGSIZE;
    }
    if (i == len)
        return 0;
    if (i == 0)
        return -EBADMSG;
    if (len - i - 1 < n)
        return 0;
    *body = p + i + 1;
    *blen = n;
    return (int)(i + 1 + n);
}

/* Decimal 0..AGENT_SEQ_MAX, no sign, no leading zero. */
static int parse_u63(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19 || (p[0] == '0' && n > 1))
        return -EBADMSG;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EBADMSG;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (AGENT_SEQ_MAX - d) / 10)
            return -EBADMSG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int valid_agent(const char *p, size_t n)
{
    if (n == 0 || n > AGENT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int valid_stream(const char *p, size_t n)
{
    if (n != AGENT_STREAM_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

static int valid_host(const char *p, size_t n)
{
    if (n == 0 || n > AGENT_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
            return 0;
    return 1;
}

static int valid_text(const char *p, size_t n)
{
    return n == 0 || memchr(p, '\n', n) == NULL;
}

/* Cuts the next space-separated word off [*p, end); returns its length. */
static size_t word(const char **p, const char *end, const char **w)
{
    const char *s = *p;
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    const char *e = sp ? sp : end;
    *w = s;
    *p = sp ? sp + 1 : end;
    return (size_t)(e - s);
}

static int verb_is(const char *w, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(w, name, n) == 0;
}

static int parse_hello(const char *p, const char *end, struct agent_msg *m)
{
    const char *w;
    size_t n = word(&p, end, &w);
    if (n == 0 || (n > 0 && memchr(w, '=', n)))
        return -EBADMSG;
    if (!verb_is(w, n, AGENT_PROTO))
        return -EPROTONOSUPPORT;
    while (p < end) {
        n = word(&p, end, &w);
        const char *eq = memchr(w, '=', n);
        if (!eq || eq == w)
            return -EBADMSG;
        size_t kl = (size_t)(eq - w), vl = n - kl - 1;
        const char *v = eq + 1;
        const char **dst = NULL;
        size_t *dlen = NULL;
        if (verb_is(w, kl, "agent"))
            dst = &m->agent, dlen = &m->agent_len;
        else if (verb_is(w, kl, "stream"))
            dst = &m->stream, dlen = &m->stream_len;
        else if (verb_is(w, kl, "host"))
            dst = &m->host, dlen = &m->host_len;
        if (!dst)
            continue;
        if (*dst)
            return -EBADMSG;
        *dst = v;
        *dlen = vl;
    }
    if (!m->agent || !valid_agent(m->agent, m->agent_len) || !m->stream ||
        !valid_stream(m->stream, m->stream_len) || !m->host || !valid_host(m->host, m->host_len))
        return -EBADMSG;
    return 0;
}

static int parse_rec(const char *p, const char *end, struct agent_msg *m)
{
    const char *w;
    size_t n = word(&p, end, &w);
    if (parse_u63(w, n, &m->seq) < 0 || m->seq == 0 || p == end)
        return -EBADMSG;
    /* KIND, then DATA is the rest (the space after KIND may be the last byte) */
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    const char *ke = sp ? sp : end;
    if (verb_is(p, (size_t)(ke - p), "audit"))
        m->kind = AGENT_KIND_AUDIT;
    else if (verb_is(p, (size_t)(ke - p), "syslog"))
        m->kind = AGENT_KIND_SYSLOG;
    else
        return -EBADMSG;
    m->data = sp ? sp + 1 : end;
    m->data_len = (size_t)(end - m->data);
    return valid_text(m->data, m->data_len) ? 0 : -EBADMSG;
}

static int parse_number(const char *p, const char *end, uint64_t *out, int allow_zero)
{
    if (memchr(p, ' ', (size_t)(end - p)))
        return -EBADMSG;
    if (parse_u63(p, (size_t)(end - p), out) < 0 || (!allow_zero && *out == 0))
        return -EBADMSG;
    return 0;
}

static int parse_welcome(const char *p, const char *end, struct agent_msg *m)
{
    const char *w;
    size_t n = word(&p, end, &w);
    if (n == 0 || memchr(w, '=', n))
        return -EBADMSG;
    if (!verb_is(w, n, AGENT_PROTO))
        return -EPROTONOSUPPORT;
    n = word(&p, end, &w);
    if (n < 5 || memcmp(w, "last=", 5) != 0 || p != end)
        return -EBADMSG;
    return parse_number(w + 5, w + n, &m->last, 1);
}

int agent_msg_parse(const char *body, size_t blen, struct agent_msg *m)
{
    memset(m, 0, sizeof(*m));
    const char *p = body, *end = body + blen, *w;
    if (blen == 0)
        return -EBADMSG;
    size_t n = word(&p, end, &w);
    int has_args = p > w + n; /* a space followed the verb */
    if (verb_is(w, n, "REC"))
        return (m->verb = AGENT_REC), has_args ? parse_rec(p, end, m) : -EBADMSG;
    if (verb_is(w, n, "ACK"))
        return (m->verb = AGENT_ACK), has_args ? parse_number(p, end, &m->seq, 0) : -EBADMSG;
    if (verb_is(w, n, "HELLO"))
        return (m->verb = AGENT_HELLO), has_args ? parse_hello(p, end, m) : -EBADMSG;
    if (verb_is(w, n, "WELCOME"))
        return (m->verb = AGENT_WELCOME), has_args ? parse_welcome(p, end, m) : -EBADMSG;
    if (verb_is(w, n, "PING"))
        return (m->verb = AGENT_PING), has_args ? parse_number(p, end, &m->n, 1) : -EBADMSG;
    if (verb_is(w, n, "PONG"))
        return (m->verb = AGENT_PONG), has_args ? parse_number(p, end, &m->n, 1) : -EBADMSG;
    if (verb_is(w, n, "ERROR")) {
        m->verb = AGENT_ERROR;
        m->text = p;
        m->text_len = (size_t)(end - p);
        return valid_text(m->text, m->text_len) ? 0 : -EBADMSG;
    }
    m->verb = 0;
    return -EBADMSG;
}

const char *agent_frame_strerror(int code)
{
    switch (code) {
    case -EMSGSIZE:
        return "frame too long";
    case -EPROTONOSUPPORT:
        return "unsupported protocol (want " AGENT_PROTO ")";
    case -EBADMSG:
        return "bad frame";
    default:
        return "frame error";
    }
}

const char *agent_kind_name(enum agent_kind kind)
{
    return kind == AGENT_KIND_AUDIT ? "audit" : kind == AGENT_KIND_SYSLOG ? "syslog" : "?";
}

/* Appends the decimal of v to d; returns the digits written (at most 20). */
static size_t put_u64(char *d, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        d[i] = tmp[n - 1 - i];
    return n;
}

/* One frame: head, then the pieces of the body in order. */
struct piece {
    const char *p;
    size_t n;
};

static int frame_put(struct buf *b, const struct piece *pc, size_t count)
{
    size_t body = 0;
    for (size_t i = 0; i < count; i++)
        body += pc[i].n;
    if (body == 0 || body > AGENT_FRAME_MAX)
        return -EINVAL;
    int r = buf_reserve(b, AGENT_FRAME_HEAD_MAX + body);
    if (r < 0)
        return r;
    b->len += put_u64(b->data + b->len, body);
    buf_putc(b, ' ');
    for (size_t i = 0; i < count; i++)
        buf_put(b, pc[i].p, pc[i].n);
    return 0;
}

static int verb_number(struct buf *b, const char *verb, uint64_t v)
{
    char num[20];
    if (v > AGENT_SEQ_MAX)
        return -EINVAL;
    struct piece pc[] = {{verb, strlen(verb)}, {num, put_u64(num, v)}};
    return frame_put(b, pc, 2);
}

static int hello_n(struct buf *b, const char *agent, size_t al, const char *stream, size_t sl,
                   const char *host, size_t hl)
{
    if (!valid_agent(agent, al) || !valid_stream(stream, sl) || !valid_host(host, hl))
        return -EINVAL;
    struct piece pc[] = {
        {"HELLO " AGENT_PROTO " agent=", strlen("HELLO " AGENT_PROTO " agent=")},
        {agent, al},
        {" stream=", 8},
        {stream, sl},
        {" host=", 6},
        {host, hl},
    };
    return frame_put(b, pc, 6);
}

int agent_frame_hello(struct buf *b, const char *agent, const char *stream, const char *host)
{
    if (!agent || !stream || !host)
        return -EINVAL;
    return hello_n(b, agent, strlen(agent), stream, strlen(stream), host, strlen(host));
}

int agent_frame_rec(struct buf *b, uint64_t seq, enum agent_kind kind, const char *data, size_t len)
{
    char num[20];
    if (seq == 0 || seq > AGENT_SEQ_MAX ||
        (kind != AGENT_KIND_AUDIT && kind != AGENT_KIND_SYSLOG) || (len && !data) ||
        !valid_text(data, len))
        return -EINVAL;
    const char *k = agent_kind_name(kind);
    struct piece pc[] = {{"REC ", 4}, {num, put_u64(num, seq)}, {" ", 1}, {k, strlen(k)}, {" ", 1},
                         {data, len}};
    return frame_put(b, pc, 6);
}

int agent_frame_ping(struct buf *b, uint64_t n)
{
    return verb_number(b, "PING ", n);
}

int agent_frame_pong(struct buf *b, uint64_t n)
{
    return verb_number(b, "PONG ", n);
}

int agent_frame_ack(struct buf *b, uint64_t seq)
{
    return seq == 0 ? -EINVAL : verb_number(b, "ACK ", seq);
}

int agent_frame_welcome(struct buf *b, uint64_t last)
{
    return verb_number(b, "WELCOME " AGENT_PROTO " last=", last);
}

int agent_frame_error(struct buf *b, const char *text, size_t len)
{
    if ((len && !text) || !valid_text(text, len))
        return -EINVAL;
    struct piece pc[] = {{"ERROR ", 6}, {text, len}};
    return frame_put(b, pc, 2);
}

int agent_msg_write(struct buf *b, const struct agent_msg *m)
{
    switch (m->verb) {
    case AGENT_HELLO:
        return hello_n(b, m->agent, m->agent_len, m->stream, m->stream_len, m->host, m->host_len);
    case AGENT_REC:
        return agent_frame_rec(b, m->seq, m->kind, m->data, m->data_len);
    case AGENT_PING:
        return agent_frame_ping(b, m->n);
    case AGENT_WELCOME:
        return agent_frame_welcome(b, m->last);
    case AGENT_ACK:
        return agent_frame_ack(b, m->seq);
    case AGENT_PONG:
        return agent_frame_pong(b, m->n);
    case AGENT_ERROR:
        return agent_frame_error(b, m->text, m->text_len);
    }
    return -EINVAL;
}
