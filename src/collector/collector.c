/*
 * collector: listeners -> framing -> ingest -> store, on one thread (see
 * docs/CONCURRENCY.md). UDP is read in batches with recvmmsg; each TCP
 * connection has a bounded buffer and is framed per RFC 6587, frame by
 * frame. Bad frames are counted and skipped without harming other clients.
 * The store is flushed every COLLECTOR_FLUSH_MS and at exit.
 */
#include "collector/collector_int.h"
#include "collector/regroup.h"

#include "base/err.h"
#include "collector/agent_state.h"
#include "base/json.h"
#include "collector/config.h"
#include "collector/hosts_seen.h"
#include "collector/relp_in.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/tls.h"
#include "store/store.h"
#include "wire/agent_frame.h"
#include "wire/audisp_frame.h"
#include "wire/audit_record.h"
#include "wire/syslog_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A syslog connection keeps at most one partial frame; an audit one at
 * most one record line or managed frame. */
#define CONN_IN_MAX_SYSLOG (SYSLOG_FRAME_MAX_CONSUMED + 1)
#define CONN_IN_MAX_AUDIT  (AUDIT_RECORD_MAX_LINE + AUDISP_HEADER_SIZE)
/* An agent connection keeps at most one partial lwap/1 frame. */
#define CONN_IN_MAX_AGENT (AGENT_FRAME_MAX + AGENT_FRAME_HEAD_MAX)

static bool is_agent(enum listen_scheme s)
{
    return s == LISTEN_AGENT || s == LISTEN_AGENT_TLS;
}

static volatile sig_atomic_t got_term, got_hup;
/* relp:// and relp+tls://: librelp on a thread of its own (relp_in.h). */
static struct relp_in *relp;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
}

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("logwardd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- UDP ---- */

static void on_udp(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct listener *l = arg;
    (void)lp;
    (void)events;
    struct mmsghdr msgs[COLLECTOR_UDP_BATCH];
    struct iovec iov[COLLECTOR_UDP_BATCH];
    struct sockaddr_storage peers[COLLECTOR_UDP_BATCH];
    for (int i = 0; i < COLLECTOR_UDP_BATCH; i++) {
        iov[i] = (struct iovec){l->c->udp_bufs + (size_t)i * COLLECTOR_UDP_MAX, COLLECTOR_UDP_MAX};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i],
                                          .msg_namelen = sizeof(peers[i]),
                                          .msg_iov = &iov[i],
                                          .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, msgs, COLLECTOR_UDP_BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        l->stats.received++;
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
            l->stats.bad_frames++; /* kept: the first COLLECTOR_UDP_MAX bytes */
        struct ingest_origin o = {.peer = (struct sockaddr *)&peers[i], .transport = "udp"};
        ingest_syslog(l->c->ingest, &o, iov[i].iov_base, msgs[i].msg_len);
    }
}

/* ---- TCP ---- */

void conn_close(struct collector *c, struct conn *cn)
{
    if (cn->nacks) /* unacked records stay unacked: the client resends them */
        for (struct conn **pp = &c->ack_list; *pp; pp = &(*pp)->next_ack)
            if (*pp == cn) {
                *pp = cn->next_ack;
                break;
            }
    conn_agent_free(c, cn); /* stores what it buffered, lets go of its stream */
    pace_forget(c, cn);
    loop_del(c->loop, cn->fd);
    tls_conn_free(cn->tls);
    close(cn->fd);
    c->conns[cn->fd] = NULL;
    buf_free(&cn->in);
    buf_free(&cn->out);
    free(cn);
    c->nconns--;
}

/* One write to the socket or, for TLS, through it; as write(2). */
static ssize_t conn_write(struct conn *cn)
{
    if (!cn->tls)
        return write(cn->fd, cn->out.data, cn->out.len);
    bool want_read;
    ssize_t n = tls_conn_write(cn->tls, cn->out.data, cn->out.len, &want_read);
    if (n < 0)
        errno = n == -EAGAIN ? EAGAIN : EPIPE;
    return n < 0 ? -1 : n;
}

static int conn_flush_out(struct collector *c, struct conn *cn)
{
    while (cn->out.len) {
        ssize_t n = conn_write(cn);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            conn_close(c, cn);
            return -1;
        }
        memmove(cn->out.data, cn->out.data + n, cn->out.len - (size_t)n);
        cn->out.len -= (size_t)n;
    }
    uint32_t ev = (cn->paused ? 0 : EPOLLIN) | (cn->out.len ? EPOLLOUT : 0);
    loop_mod(c->loop, cn->fd, ev);
    return 0;
}

int conn_send(struct collector *c, struct conn *cn, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (buf_append(&cn->out, p, n) < 0) { /* the client does not read its replies */
        cn->l->stats.closed_bad++;
        conn_close(c, cn);
        return -1;
    }
    return conn_flush_out(c, cn);
}

/* Where the frames of one drain come from: the same for all of them. */
static struct ingest_origin conn_origin(const struct conn *cn)
{
    const char *id = cn->tls ? tls_conn_identity(cn->tls) : "";
    return (struct ingest_origin){.peer = (const struct sockaddr *)&cn->peer,
                                  .transport = listen_scheme_name(cn->l->url.scheme),
                                  .identity = *id ? id : NULL};
}

static void deliver(struct conn *cn, const struct ingest_origin *o, const char *msg, size_t len)
{
    cn->l->stats.received++;
    ingest_syslog(cn->l->c->ingest, o, msg, len);
}

/* Frames what is buffered; keeps a partial frame. At EOF, a final frame
 * without its LF is delivered as it is (as rsyslog does). */
static void conn_drain(struct conn *cn, bool eof)
{
    char *p = cn->in.data;
    size_t len = cn->in.len, pos = 0;
    struct ingest_origin o = conn_origin(cn);
    while (pos < len) {
        if (cn->skip) {
            size_t k = cn->skip < len - pos ? (size_t)cn->skip : len - pos;
            pos += k;
            cn->skip -= k;
            continue;
        }
        if (cn->discard_line) {
            char *nl = memchr(p + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - p) + 1 : len;
            cn->discard_line = nl == NULL;
            continue;
        }
        struct syslog_frame f;
        int r = syslog_frame_next(p + pos, len - pos, 0, &f);
        if (r == -ERR_FRAME_BAD_LENGTH) /* not octet-counted after all: take the line */
            r = syslog_frame_next(p + pos, len - pos, SYSLOG_FRAME_LF_ONLY, &f);
        if (r > 0) {
            if (f.msg_len)
                deliver(cn, &o, p + pos + f.msg_off, f.msg_len);
            pos += (size_t)r;
        } else if (r == 0) {
            if (eof) {
                deliver(cn, &o, p + pos, len - pos);
                pos = len;
            }
            break;
        } else {
            cn->l->stats.bad_frames++;
            cn->skip = f.skip;
            cn->discard_line = f.discard_line;
        }
    }
    memmove(p, p + pos, len - pos);
    cn->in.len = len - pos;
}

static void drain(struct collector *c, struct conn *cn, bool eof)
{
    if (cn->l->url.scheme == LISTEN_AUDIT)
        conn_audit_drain(c, cn, eof);
    else if (cn->agent)
        conn_agent_drain(c, cn, eof);
    else
        conn_drain(cn, eof);
}

/* One read from the socket or, for tls://, from the TLS layer. Returns
 * > 0 bytes, 0 at the end, -EAGAIN for nothing now, or another error. */
static ssize_t conn_read(struct collector *c, struct conn *cn, size_t room)
{
    char *at = cn->in.data + cn->in.len;
    if (!cn->tls) {
        ssize_t n = read(cn->fd, at, room);
        return n >= 0 ? n : (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
    }
    bool want_write;
    ssize_t n = tls_conn_read(cn->tls, at, room, &want_write);
    if (n == -EAGAIN)
        loop_mod(c->loop, cn->fd, EPOLLIN | (want_write ? EPOLLOUT : 0));
    if (n == -EPROTO) {
        cn->l->stats.tls_failures++;
        char peer[64];
        ingest_peer_text((struct sockaddr *)&cn->peer, peer, sizeof(peer));
        log_msg("tls from %s: %s; connection closed", peer, tls_conn_error(cn->tls));
    }
    return n;
}

static void on_conn(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct conn *cn = arg;
    struct collector *c = cn->l->c;
    (void)lp;
    if ((events & EPOLLOUT) && (!cn->tls || cn->out.len) && conn_flush_out(c, cn) < 0)
        return;
    if (cn->closing && !cn->out.len && !cn->nacks && !conn_agent_owes(cn)) {
        conn_close(c, cn); /* everything owed was answered */
        return;
    }
    if (cn->paused || cn->closing)
        return;
    /* TLS may hold decrypted bytes the socket no longer signals: read until
     * it says "nothing now", a bounded number of times per event. */
    for (int round = 0;; round++) {
        /* After a drain at most one partial frame (< in_max) is kept. */
        size_t want =
            cn->in_max - cn->in.len < CONN_BUF_START ? cn->in_max - cn->in.len : CONN_BUF_START;
        if (want == 0 || buf_reserve(&cn->in, want) < 0) {
            conn_close(c, cn);
            return;
        }
        ssize_t n = conn_read(c, cn, cn->in.cap - cn->in.len);
        if (n > 0) {
            cn->in.len += (size_t)n;
            if (pace_applies(cn))
                pace_read(c, cn, (size_t)n);
            drain(c, cn, false);
            if (c->conns[fd] != cn)
                return; /* closed while answering (an agent's reply that failed) */
            if (!cn->tls || cn->paused || cn->closing)
                return;
            if (round >= 64 && !tls_conn_pending(cn->tls))
                return; /* fair to others: the socket signals the rest */
            continue;
        }
        if (n == -EAGAIN)
            return;
        break;
    }
    drain(c, cn, true);
    if (c->conns[fd] != cn)
        return; /* closed while answering */
    if (cn->nacks || cn->out.len || conn_agent_owes(cn))
        cn->closing = true; /* answer what was stored, then close */
    else
        conn_close(c, cn);
}

bool conn_read_now(struct collector *c, struct conn *cn)
{
    int fd = cn->fd;
    on_conn(c->loop, fd, EPOLLIN, cn);
    return c->conns[fd] == cn;
}

static void on_accept(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct listener *l = arg;
    struct collector *c = l->c;
    (void)events;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        struct conn *cn = NULL;
        if (c->nconns >= c->max_conns || cfd >= LOOP_MAX_FDS || !(cn = calloc(1, sizeof(*cn)))) {
            l->stats.rejected++;
            close(cfd);
            continue;
        }
        cn->l = l;
        cn->fd = cfd;
        cn->peer = peer;
        cn->in_max = l->url.scheme == LISTEN_AUDIT ? CONN_IN_MAX_AUDIT
                     : is_agent(l->url.scheme)     ? CONN_IN_MAX_AGENT
                                                   : CONN_IN_MAX_SYSLOG;
        buf_init(&cn->in, cn->in_max);
        buf_init(&cn->out, CONN_OUT_MAX);
        bool tls = l->url.scheme == LISTEN_TLS || l->url.scheme == LISTEN_AGENT_TLS;
        if ((tls && tls_conn_new(c->tls, cfd, &cn->tls) < 0) ||
            (is_agent(l->url.scheme) && conn_agent_new(c, cn) < 0)) {
            l->stats.rejected++;
            tls_conn_free(cn->tls);
            free(cn->agent);
            close(cfd);
            free(cn);
            continue;
        }
        int one = 1; /* as audisp-remote sets on its side */
        setsockopt(cfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (loop_add(lp, cfd, EPOLLIN, on_conn, cn) < 0) {
            l->stats.rejected++;
            tls_conn_free(cn->tls);
            free(cn->agent);
            close(cfd);
            free(cn);
            continue;
        }
        c->conns[cfd] = cn;
        c->nconns++;
        l->stats.connections++;
    }
}

/* ---- RELP: messages the RELP thread waits on; commit them now ---- */

static void on_relp(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct collector *c = arg;
    (void)lp;
    (void)fd;
    (void)events;
    relp_in_dispatch(relp, c->ingest, c->store);
}

/* ---- status, privileges, main loop ---- */

struct host_json {
    FILE *f;
    bool first;
};

/* "NAME":{"last":T,"messages":N}; the name as JSON whatever its bytes. */
static void put_host(const char *host, time_t last, uint64_t messages, void *arg)
{
    struct host_json *hj = arg;
    struct buf b;
    buf_init(&b, 4096);
    if (json_put_string(&b, host, strlen(host)) == 0)
        fprintf(hj->f, "%s%.*s:{\"last\":%lld,\"messages\":%llu}", hj->first ? "" : ",", (int)b.len,
                b.data, (long long)last, (unsigned long long)messages);
    hj->first = false;
    buf_free(&b);
}

/* ,"agents":{...}: commits, recovery at start and the streams (bounded). */
struct stream_json {
    FILE *f;
    size_t n;
};

static void put_stream(const struct agent_stream *st, void *arg)
{
    struct stream_json *sj = arg;
    if (sj->n++ >= COLLECTOR_STATUS_STREAMS)
        return;
    struct buf b;
    buf_init(&b, 4096);
    if (json_put_string(&b, st->host, strlen(st->host)) == 0)
        fprintf(sj->f,
                "%s{\"host\":%.*s,\"stream\":\"%s\",\"last\":%llu,\"acked\":%llu,"
                "\"online\":%s,\"sessions\":%llu,\"records\":%llu,\"duplicates\":%llu,"
                "\"gaps\":%llu}",
                sj->n > 1 ? "," : "", (int)b.len, b.data, st->id, (unsigned long long)st->last,
                (unsigned long long)st->acked, st->owner ? "true" : "false",
                (unsigned long long)st->stats.sessions, (unsigned long long)st->stats.records,
                (unsigned long long)st->stats.duplicates, (unsigned long long)st->stats.gaps);
    buf_free(&b);
}

static void write_agents(struct collector *c, FILE *f)
{
    if (!c->agents)
        return;
    const struct agent_recovery *r = &c->agent_recovery;
    fprintf(f,
            ",\"agents\":{\"commits\":%llu,\"commit_errors\":%llu,\"streams_count\":%zu,"
            "\"recovered\":{\"streams\":%llu,\"landed\":%llu,\"not_landed\":%llu,"
            "\"cut\":%llu,\"rebooted\":%llu,\"errors\":%llu},\"streams\":[",
            (unsigned long long)c->agent_commits, (unsigned long long)c->agent_commit_errors,
            agent_states_count(c->agents), (unsigned long long)r->streams,
            (unsigned long long)r->landed, (unsigned long long)r->not_landed,
            (unsigned long long)r->cut, (unsigned long long)r->rebooted,
            (unsigned long long)r->errors);
    struct stream_json sj = {f, 0};
    agent_states_foreach(c->agents, put_stream, &sj);
    fputs("]}", f);
}

static void write_status(struct collector *c)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->status_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    const struct ingest_stats *is = ingest_stats(c->ingest);
    fprintf(f,
            "{\"time\":%lld,\"pid\":%d,\"connections\":%zu,\"received\":%llu,"
            "\"stored\":%llu,\"unparsed\":%llu,\"store_errors\":%llu,\"paced_connections\":%zu,"
            "\"listeners\":[",
            (long long)time(NULL), (int)getpid(), c->nconns, (unsigned long long)is->received,
            (unsigned long long)is->stored, (unsigned long long)is->unparsed,
            (unsigned long long)is->store_errors, pace_count(c));
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct listener *l = &c->listeners[i];
        fprintf(
            f,
            "%s{\"scheme\":\"%s\",\"port\":%d,\"received\":%llu,\"rejected\":%llu,"
            "\"bad_frames\":%llu,\"connections\":%llu,\"closed_bad\":%llu,\"tls_failures\":%llu,"
            "\"paced\":%llu",
            i ? "," : "", listen_scheme_name(l->url.scheme), listener_port(l->fd),
            (unsigned long long)l->stats.received, (unsigned long long)l->stats.rejected,
            (unsigned long long)l->stats.bad_frames, (unsigned long long)l->stats.connections,
            (unsigned long long)l->stats.closed_bad, (unsigned long long)l->stats.tls_failures,
            (unsigned long long)l->stats.paced);
        if (is_agent(l->url.scheme))
            fprintf(f,
                    ",\"sessions\":%llu,\"records\":%llu,\"duplicates\":%llu,\"gaps\":%llu,"
                    "\"errors\":%llu,\"truncated\":%llu",
                    (unsigned long long)l->stats.sessions, (unsigned long long)l->stats.records,
                    (unsigned long long)l->stats.duplicates, (unsigned long long)l->stats.gaps,
                    (unsigned long long)l->stats.agent_errors,
                    (unsigned long long)l->stats.truncated);
        fputc('}', f);
    }
    relp_in_write_status(relp, f, c->nlisteners == 0);
    fprintf(f,
            "],\"refused_full\":%llu,\"audit_records\":%llu,\"audit_unparsed\":%llu,"
            "\"commits\":%llu,"
            "\"commit_errors\":%llu,\"hosts_untracked\":%llu,\"hosts\":{",
            (unsigned long long)is->refused_full, (unsigned long long)is->audit_records,
            (unsigned long long)is->audit_unparsed, (unsigned long long)c->commits,
            (unsigned long long)c->commit_errors,
            (unsigned long long)hosts_seen_untracked(ingest_hosts(c->ingest)));
    struct host_json hj = {f, true};
    hosts_seen_foreach(ingest_hosts(c->ingest), put_host, &hj);
    fputc('}', f);
    if (c->regroup) {
        const struct regroup_stats *rs = regroup_stats(c->regroup);
        fprintf(f,
                ",\"audit_regroup\":{\"records\":%llu,\"events\":%llu,\"open_events\":%zu,"
                "\"spooled\":%llu,\"spool_bytes\":%llu,\"write_errors\":%llu,"
                "\"not_regrouped\":%llu,\"replayed\":%llu}",
                (unsigned long long)rs->records, (unsigned long long)rs->events,
                regroup_open_events(c->regroup), (unsigned long long)rs->spooled,
                (unsigned long long)regroup_spool_bytes(c->regroup),
                (unsigned long long)rs->write_errors, (unsigned long long)is->audit_not_regrouped,
                (unsigned long long)rs->replay.replayed);
    }
    write_agents(c, f);
    fputs("}\n", f);
    if (fclose(f) == 0)
        rename(tmp, c->status_path);
}

static void on_batch(struct loop *lp, void *arg)
{
    (void)lp;
    conn_audit_commit(arg);
    conn_agent_commit(arg);
}

static void on_poll(struct loop *lp, void *arg)
{
    (void)lp;
    pace_poll(arg);
}

/* SIGHUP: the file is read and checked again; what can change while
 * running changes, the rest is named as needing a restart. A file that no
 * longer validates changes nothing. */
static void reload(struct collector *c)
{
    if (!c->cfg->config_path)
        return;
    struct collector_config next;
    config_init(&next);
    char err[CONFIG_ERROR_MAX];
    if (config_load(&next, c->cfg->config_path, err, sizeof(err)) < 0 ||
        config_check(&next, err, sizeof(err)) < 0) {
        log_msg("SIGHUP: %s; configuration unchanged", err);
        config_free(&next);
        return;
    }
    ingest_set_host_from(c->ingest, next.host_from);
    c->max_conns = next.max_conns;
    bool same_listeners =
        next.nlisten == c->cfg->nlisten &&
        !memcmp(next.listen, c->cfg->listen, next.nlisten * sizeof(next.listen[0]));
    log_msg("SIGHUP: %s re-read: host_from and max_conns applied%s", c->cfg->config_path,
            same_listeners ? "" : "; listener changes take effect at restart");
    config_free(&next);
}

static void log_store(void *arg, const char *msg)
{
    (void)arg;
    log_msg("store: %s", msg);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Idle events close; spooled records nobody acks (ascii) are written out;
 * once a second at most, a store flush lets spool files be dropped when
 * no commit of a managed client did it. */
static void tick_regroup(struct collector *c)
{
    uint64_t now = now_ms();
    int r = regroup_tick(c->regroup, now);
    if (r < 0)
        log_msg("audit regrouping: %s", err_str(r));
    if (r == 1 && now - c->regroup_settled_ms >= 1000) {
        c->regroup_settled_ms = now;
        if ((r = store_flush(c->store)) == 0)
            r = regroup_commit(c->regroup);
    } else if (r >= 0) {
        r = regroup_write_out(c->regroup); /* after the store's write-out: done marks follow it */
    }
    if (r < 0)
        log_msg("audit spool: %s", err_str(r));
}

static void on_tick(struct loop *lp, void *arg)
{
    struct collector *c = arg;
    static time_t last_status;
    /* Unacknowledged streams only need to leave our buffers; what is
     * acknowledged was synced by its commit (on_batch, RELP). */
    int r = c->cfg->sync_acked_only ? store_write_out(c->store) : store_flush(c->store);
    if (r < 0)
        log_msg("flushing the store: %s", err_str(r));
    if (c->regroup)
        tick_regroup(c);
    if (got_hup) {
        got_hup = 0;
        reload(c);
        store_reopen(c->store);
        log_msg("SIGHUP: store files reopened");
    }
    r = store_maintain(c->store, time(NULL)); /* retention, compression: bounded steps */
    if (r < 0)
        log_msg("store housekeeping: %s", err_str(r));
    if ((r = store_seal_tick(c->store, time(NULL))) < 0) /* sealing round when due */
        log_msg("store sealing: %s", err_str(r));
    /* Once a second; every 10 s for a large fleet (the host table is big). */
    time_t every = hosts_seen_count(ingest_hosts(c->ingest)) > 1000 ? 10 : 1;
    if (time(NULL) >= last_status + every) {
        write_status(c);
        last_status = time(NULL);
    }
    if (got_term)
        loop_stop(lp);
}

/* Privileges only go down: after binding, hand the store root to the user
 * (so it can create host directories) and become that user for good. */
static int drop_privileges(const struct collector_config *cfg)
{
    if (!cfg->user)
        return 0;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        log_msg("--user %s: no such user", cfg->user);
        return -EINVAL;
    }
    /* append_only: keep CAP_LINUX_IMMUTABLE alone across setuid (chattr
     * +a/-a on the store's files; src/store/append_only.c) */
    bool keep = cfg->store.append_only;
    if ((keep && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) ||
        chown(cfg->store.root, pw->pw_uid, pw->pw_gid) < 0 || setgroups(0, NULL) < 0 ||
        setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        int e = errno;
        log_msg("dropping privileges to %s: %s", cfg->user, strerror(e));
        return -e;
    }
    if (keep) {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}};
        d[CAP_TO_INDEX(CAP_LINUX_IMMUTABLE)].permitted = CAP_TO_MASK(CAP_LINUX_IMMUTABLE);
        d[CAP_TO_INDEX(CAP_LINUX_IMMUTABLE)].effective = CAP_TO_MASK(CAP_LINUX_IMMUTABLE);
        if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0) {
            int e = errno; /* flags already set could not be cleared to rotate: refuse */
            log_msg("append_only: keeping CAP_LINUX_IMMUTABLE as %s: %s", cfg->user, strerror(e));
            return -e;
        }
    }
    if (setuid(0) == 0) { /* must be impossible now */
        log_msg("privileges could be regained; refusing to run");
        return -EPERM;
    }
    return 0;
}

/* The key is read before privileges are dropped, so it can stay 0600 root. */
static int open_tls(struct collector *c)
{
    bool wanted = false;
    for (size_t i = 0; i < c->cfg->nlisten; i++)
        wanted |=
            c->cfg->listen[i].scheme == LISTEN_TLS || c->cfg->listen[i].scheme == LISTEN_AGENT_TLS;
    if (!wanted)
        return 0;
    if (!c->cfg->tls_cert || !c->cfg->tls_key) {
        log_msg("tls:// needs --tls-cert and --tls-key");
        return -EINVAL;
    }
    char err[512];
    int r = tls_server_new(c->cfg->tls_cert, c->cfg->tls_key, c->cfg->tls_ca, &c->tls, err,
                           sizeof(err));
    if (r < 0)
        log_msg("%s", err);
    else if (!c->cfg->tls_ca)
        log_msg("tls:// without --tls-ca: clients are not authenticated and are filed by "
                "address");
    return r;
}

/* Before store_open (its seal walk must see the files as they stay): the
 * intents a crash left are settled, whether or not agents are served this
 * time (nothing to do without <store>/.agents). */
static int open_agents(struct collector *c)
{
    bool sync = c->cfg->store.fsync != STORE_FSYNC_NONE;
    struct agent_recovery *rec = &c->agent_recovery;
    int r = agent_states_recover(c->cfg->store.root, NULL, sync, rec);
    if (r < 0)
        log_msg("agent states under %s/%s: %s (%llu unreadable, left as they are)",
                c->cfg->store.root, AGENT_STATE_DIR, err_str(r), (unsigned long long)rec->errors);
    if (rec->streams)
        log_msg("agent streams recovered: %llu read, %llu runs in flight had landed, %llu had "
                "not (%llu torn tails cut), %llu from before a reboot (back to their last ack)",
                (unsigned long long)rec->streams, (unsigned long long)rec->landed,
                (unsigned long long)rec->not_landed, (unsigned long long)rec->cut,
                (unsigned long long)rec->rebooted);
    /* the root exists once the store is opened; open the table after */
    return 0;
}

/* After the drop of privileges (the spool belongs to the store's user):
 * the spool a previous run left is replayed, whether or not regrouping is
 * on this time (off: its events are written out and it is emptied). */
static int open_regroup(struct collector *c)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/%s", c->cfg->store.root, REGROUP_DIR);
    bool audit = false;
    for (size_t i = 0; i < c->nlisteners; i++)
        audit |= c->listeners[i].url.scheme == LISTEN_AUDIT;
    bool want = audit && c->cfg->audit_regroup;
    if (!want && access(dir, F_OK) < 0)
        return 0;
    struct regroup_config rc = {dir, c->cfg->store.fsync != STORE_FSYNC_NONE, c->cfg->audit_idle_ms,
                                0, NULL};
    if (!c->cfg->store.path_template || !strcmp(c->cfg->store.path_template, "%h/%p.log"))
        rc.store_root = c->cfg->store.root; /* audit.log is where replay can look */
    int r = regroup_open(&rc, ingest_audit_write, c->ingest, &c->regroup);
    if (r < 0) {
        log_msg("audit spool %s: %s", dir, err_str(r));
        return r;
    }
    r = regroup_replay(c->regroup);
    const struct regroup_stats *st = regroup_stats(c->regroup);
    if (r < 0)
        log_msg("audit spool %s: replay: %s", dir, err_str(r));
    else if (st->replay.records)
        log_msg("audit spool: %llu records read back from %llu files, %llu already stored "
                "(%llu of them found at the end of audit.log without their done mark), "
                "%llu events open again (%llu torn lines)",
                (unsigned long long)st->replay.records, (unsigned long long)st->replay.files,
                (unsigned long long)(st->replay.records - st->replay.replayed + st->replay_stored),
                (unsigned long long)st->replay_stored, (unsigned long long)st->replay_events,
                (unsigned long long)st->replay.torn);
    if (r == 0 && !want)
        r = regroup_finish(c->regroup);
    if (r == 0 && (r = store_flush(c->store)) == 0)
        r = regroup_commit(c->regroup);
    if (r < 0)
        return r;
    if (!want) {
        regroup_free(c->regroup);
        c->regroup = NULL;
        return 0;
    }
    ingest_set_regroup(c->ingest, c->regroup);
    return 0;
}

static int open_listeners(struct collector *c)
{
    for (size_t i = 0; i < c->cfg->nlisten; i++) {
        const struct listen_url *u = &c->cfg->listen[i];
        if (relp_in_serves(u->scheme))
            continue; /* bound by relp_in_open */
        if (u->scheme != LISTEN_UDP && u->scheme != LISTEN_TCP && u->scheme != LISTEN_AUDIT &&
            u->scheme != LISTEN_TLS && !is_agent(u->scheme)) {
            log_msg("%s:// is not served by this version yet", listen_scheme_name(u->scheme));
            return -ENOTSUP;
        }
        int fd = listener_open(u);
        if (fd < 0) {
            log_msg("listening on %s port %u: %s", listen_scheme_name(u->scheme), u->port,
                    strerror(-fd));
            return fd;
        }
        struct listener *l = &c->listeners[c->nlisteners++];
        *l = (struct listener){.c = c, .fd = fd, .url = *u};
        int r = loop_add(c->loop, fd, EPOLLIN, u->scheme == LISTEN_UDP ? on_udp : on_accept, l);
        if (r < 0)
            return r;
    }
    return 0;
}

static void write_ready_file(struct collector *c)
{
    if (!c->cfg->ready_file)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->cfg->ready_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    for (size_t i = 0; i < c->nlisteners; i++)
        fprintf(f, "%s %d\n", listen_scheme_name(c->listeners[i].url.scheme),
                listener_port(c->listeners[i].fd));
    relp_in_write_ready(relp, f);
    if (fclose(f) == 0)
        rename(tmp, c->cfg->ready_file);
}

static void collector_free(struct collector *c)
{
    relp_in_free(relp); /* first: its thread may wait on the store */
    relp = NULL;
    for (int fd = 0; c->conns && fd < LOOP_MAX_FDS; fd++)
        if (c->conns[fd])
            conn_close(c, c->conns[fd]);
    for (size_t i = 0; i < c->nlisteners; i++)
        close(c->listeners[i].fd);
    agent_states_free(c->agents);
    regroup_free(c->regroup);
    ingest_free(c->ingest);
    tls_server_free(c->tls);
    if (c->store)
        store_close(c->store);
    loop_free(c->loop);
    free(c->conns);
    free(c->udp_bufs);
}

int collector_run(const struct collector_config *cfg)
{
    struct collector c = {.cfg = cfg};
    int r = -ENOMEM;
    c.loop = loop_new();
    c.conns = calloc(LOOP_MAX_FDS, sizeof(*c.conns));
    c.udp_bufs = malloc((size_t)COLLECTOR_UDP_BATCH * COLLECTOR_UDP_MAX);
    if (!c.loop || !c.conns || !c.udp_bufs)
        goto out;
    if ((r = open_tls(&c)) < 0 || (r = open_listeners(&c)) < 0)
        goto out;
    struct relp_in_config rcfg = {cfg->listen, cfg->nlisten, cfg->tls_cert, cfg->tls_key,
                                  cfg->tls_ca};
    if ((r = relp_in_open(&rcfg, &relp)) < 0)
        goto out;
    struct store_config scfg = cfg->store;
    scfg.log = log_store;
    c.max_conns = cfg->max_conns;
    if ((r = open_agents(&c)) < 0)
        goto out;
    if ((r = store_open(&scfg, &c.store)) < 0) {
        log_msg("opening the store %s: %s", cfg->store.root, err_str(r));
        goto out;
    }
    /* Every socket is bound and listening (connections queue from now on);
     * written while still privileged, beside root-owned test files. */
    write_ready_file(&c);
    if ((r = drop_privileges(cfg)) < 0)
        goto out;
    c.ingest = ingest_new(c.store, cfg->host_from);
    if (!c.ingest) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = open_regroup(&c)) < 0)
        goto out;
    for (size_t i = 0; i < c.nlisteners && !c.agents; i++)
        if (is_agent(c.listeners[i].url.scheme) &&
            (r = agent_states_open(cfg->store.root, NULL, cfg->store.fsync != STORE_FSYNC_NONE,
                                   &c.agents)) < 0) {
            log_msg("agent states under %s: %s", cfg->store.root, err_str(r));
            goto out;
        }
    snprintf(c.status_path, sizeof(c.status_path), "%s/.logwardd-status.json", cfg->store.root);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (relp && ((r = loop_add(c.loop, relp_in_fd(relp), EPOLLIN, on_relp, &c)) < 0 ||
                 (r = relp_in_start(relp)) < 0))
        goto out;
    loop_on_batch(c.loop, on_batch, &c);
    loop_set_poll(c.loop, on_poll, &c);
    r = loop_run(c.loop, COLLECTOR_FLUSH_MS, on_tick, &c);
    relp_in_stop(relp, c.ingest, c.store); /* acks what waits, then joins the thread */
    /* SIGTERM: store what is already buffered on connections (and what
     * paced sockets hold below their mark), commit, answer, and tell
     * managed audit clients the server is ending. */
    pace_poll(&c);
    for (int fd = 0; fd < LOOP_MAX_FDS; fd++)
        if (c.conns[fd] && !c.conns[fd]->closing)
            drain(&c, c.conns[fd], c.conns[fd]->l->url.scheme != LISTEN_AUDIT);
    conn_audit_commit(&c);
    conn_agent_commit(&c);
    if (c.regroup && regroup_finish(c.regroup) < 0) /* every open event to audit.log */
        log_msg("audit regrouping: closing events failed; kept in the spool");
    int fr = store_flush(c.store);
    if (fr == 0 && c.regroup)
        fr = regroup_commit(c.regroup);
    if (r == 0)
        r = fr;
    for (int fd = 0; fd < LOOP_MAX_FDS; fd++)
        if (c.conns[fd] && c.conns[fd]->l->url.scheme == LISTEN_AUDIT)
            conn_audit_ending(&c, c.conns[fd]);
        else if (c.conns[fd] && c.conns[fd]->agent)
            conn_agent_ending(&c, c.conns[fd]);
    write_status(&c);
out:
    collector_free(&c);
    return r;
}
