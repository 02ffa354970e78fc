/*
 * conn_audit: the audisp-remote protocol on an audit:// connection. The
 * first bytes decide the format for the connection's life: the managed
 * magic (0xff0000fe) means 16-byte framed records each acknowledged,
 * anything else is `format = ascii`, LF-terminated records without
 * replies. A managed record is acknowledged only after the store made it
 * durable: records are stored as they arrive (or, regrouped, spooled
 * while their event is open: regroup.h) and their replies wait in the
 * connection until the loop's end-of-batch commit (one store_flush and one
 * spool sync for every waiting client). A bad managed header cannot be resynced (the
 * protocol has no frame marker): the connection is closed and counted;
 * the client reconnects and resends what was not acked.
 */
#include "collector/collector_int.h"
#include "collector/regroup.h"

#include "net/loop.h"
#include "store/store.h"
#include "wire/audisp_frame.h"
#include "wire/audit_record.h"

#include <errno.h>
#include <string.h>

static int deliver(struct collector *c, struct conn *cn, const char *rec, size_t len)
{
    struct ingest_origin o = {.peer = (struct sockaddr *)&cn->peer, .transport = "audit"};
    cn->l->stats.received++;
    return ingest_audit(c->ingest, &o, rec, len);
}

static void queue_ack(struct collector *c, struct conn *cn, uint32_t type, uint32_t seq)
{
    if (cn->nacks == 0) {
        cn->next_ack = c->ack_list;
        c->ack_list = cn;
    }
    cn->acks[cn->nacks++] = (struct pending_ack){type, seq};
}

/* Returns the bytes consumed; stops early when the ack window is full. */
static size_t drain_managed(struct collector *c, struct conn *cn, const unsigned char *p,
                            size_t len, bool *bad)
{
    size_t pos = 0;
    while (pos < len && cn->nacks < CONN_ACKS_MAX) {
        struct audisp_frame f;
        int r = audisp_frame_next(p + pos, len - pos, &f);
        if (r == 0)
            break;
        if (r < 0) {
            *bad = true;
            break;
        }
        const char *payload = (const char *)p + pos + AUDISP_HEADER_SIZE;
        size_t plen = f.length;
        if (f.type == AUDISP_MESSAGE) {
            if (plen && payload[plen - 1] == '\n')
                plen--;
            int stored = deliver(c, cn, payload, plen);
            uint32_t reply = stored == -ENOSPC                                ? AUDISP_DISKFULL
                             : stored < 0                                     ? AUDISP_DISKERROR
                             : store_space_state(c->store) == STORE_SPACE_LOW ? AUDISP_DISKLOW
                                                                              : AUDISP_ACK;
            queue_ack(c, cn, reply, f.sequence);
        } else if (f.type == AUDISP_HEARTBEAT) {
            queue_ack(c, cn, AUDISP_ACK, f.sequence);
        } else {
            cn->l->stats.bad_frames++; /* a reply type from a client: ignored */
        }
        pos += (size_t)r;
    }
    return pos;
}

static size_t drain_ascii(struct collector *c, struct conn *cn, const char *p, size_t len, bool eof)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        if (cn->discard_line) {
            pos = nl ? (size_t)(nl - p) + 1 : len;
            cn->discard_line = nl == NULL;
            continue;
        }
        size_t n = nl ? (size_t)(nl - p) - pos : len - pos;
        if (!nl && n >= AUDIT_RECORD_MAX_LINE) {
            cn->l->stats.bad_frames++; /* over-long line: dropped, counted */
            cn->discard_line = true;
            pos = len;
            break;
        }
        if (!nl && !eof)
            break;
        if (n)
            deliver(c, cn, p + pos, n);
        pos += n + (nl != NULL);
    }
    return pos;
}

void conn_audit_drain(struct collector *c, struct conn *cn, bool eof)
{
    const unsigned char *p = (const unsigned char *)cn->in.data;
    size_t len = cn->in.len, used = 0;
    if (cn->audit_mode == AUDIT_MODE_UNKNOWN && len >= 4)
        cn->audit_mode = audisp_is_managed(p, len) ? AUDIT_MODE_MANAGED : AUDIT_MODE_ASCII;
    if (cn->audit_mode == AUDIT_MODE_UNKNOWN && eof)
        cn->audit_mode = AUDIT_MODE_ASCII;
    bool bad = false;
    if (cn->audit_mode == AUDIT_MODE_MANAGED)
        used = drain_managed(c, cn, p, len, &bad);
    else if (cn->audit_mode == AUDIT_MODE_ASCII)
        used = drain_ascii(c, cn, (const char *)p, len, eof);
    memmove(cn->in.data, cn->in.data + used, len - used);
    cn->in.len = len - used;
    if (bad) {
        cn->l->stats.bad_frames++;
        cn->l->stats.closed_bad++;
        cn->closing = true; /* after the acks already owed are sent */
        cn->in.len = 0;
    }
    bool full = cn->nacks == CONN_ACKS_MAX || cn->in.len == cn->in_max;
    if (full && !cn->paused && loop_mod(c->loop, cn->fd, 0) == 0)
        cn->paused = true;
}

/* The short texts auditd's own server sends with these replies. */
static const char *reply_text(uint32_t type)
{
    switch (type) {
    case AUDISP_DISKLOW:
        return "disk low";
    case AUDISP_DISKFULL:
        return "disk full";
    case AUDISP_DISKERROR:
        return "disk error";
    default:
        return "";
    }
}

static void answer(struct collector *c, struct conn *cn, bool durable)
{
    unsigned char out[AUDISP_HEADER_SIZE * CONN_ACKS_MAX];
    size_t n = 0;
    for (unsigned i = 0; i < cn->nacks; i++) {
        uint32_t type = durable ? cn->acks[i].type : AUDISP_DISKERROR;
        const char *text = reply_text(type);
        unsigned char one[AUDISP_HEADER_SIZE + AUDISP_MAX_REPLY];
        int r =
            audisp_reply_build(type, cn->acks[i].sequence, text, strlen(text), one, sizeof(one));
        if (n + (size_t)r > sizeof(out)) {
            if (conn_send(c, cn, out, n) < 0)
                return;
            n = 0;
        }
        memcpy(out + n, one, (size_t)r);
        n += (size_t)r;
    }
    cn->nacks = 0;
    if (conn_send(c, cn, out, n) < 0)
        return;
    if (cn->closing && cn->out.len == 0) {
        conn_close(c, cn);
        return;
    }
    if (cn->paused && !cn->closing && loop_mod(c->loop, cn->fd, EPOLLIN) == 0) {
        cn->paused = false;
        conn_audit_drain(c, cn, false); /* frames that waited for room */
    }
}

void conn_audit_commit(struct collector *c)
{
    while (c->ack_list) {
        int r = store_flush(c->store);
        if (r >= 0 && c->regroup)
            r = regroup_commit(c->regroup); /* spooled records of open events */
        c->commits++;
        if (r < 0)
            c->commit_errors++;
        struct conn *list = c->ack_list;
        c->ack_list = NULL;
        while (list) {
            struct conn *cn = list;
            list = cn->next_ack;
            cn->next_ack = NULL;
            answer(c, cn, r >= 0); /* may queue again (resumed drain) */
        }
    }
}

void conn_audit_ending(struct collector *c, struct conn *cn)
{
    if (cn->audit_mode != AUDIT_MODE_MANAGED)
        return;
    unsigned char out[AUDISP_HEADER_SIZE];
    int r = audisp_reply_build(AUDISP_ENDING, 0, NULL, 0, out, sizeof(out));
    conn_send(c, cn, out, (size_t)r);
}
