/*
 * collector: listeners -> framing -> ingest -> store, on one thread (see
 * docs/CONCURRENCY.md). UDP is read in batches with recvmmsg; each TCP
 * connection has a bounded buffer and is framed per RFC 6587, frame by
 * frame. Bad frames are counted and skipped without harming other clients.
 * The store is flushed every COLLECTOR_FLUSH_MS and at exit.
 */
#include "collector/collector.h"

#include "base/err.h"
#include "net/listener.h"
#include "net/loop.h"
#include "store/store.h"
#include "wire/syslog_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONN_BUF_START (16 * 1024)
#define CONN_BUF_MAX   (SYSLOG_FRAME_MAX_CONSUMED + 1)

struct listener_stats {
    uint64_t received, rejected, bad_frames, connections;
};

struct listener {
    struct collector *c;
    int fd;
    struct listen_url url;
    struct listener_stats stats;
};

struct conn {
    struct listener *l;
    int fd;
    struct sockaddr_storage peer;
    struct buf in;
    uint64_t skip;
    bool discard_line;
};

struct collector {
    const struct collector_config *cfg;
    struct loop *loop;
    struct store *store;
    struct ingest *ingest;
    struct listener listeners[COLLECTOR_MAX_LISTENERS];
    size_t nlisteners;
    size_t nconns;
    struct conn **conns; /* by fd */
    char *udp_bufs;
    char status_path[4096];
};

static volatile sig_atomic_t got_term, got_hup;

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
        struct ingest_origin o = {(struct sockaddr *)&peers[i], "udp", NULL};
        ingest_syslog(l->c->ingest, &o, iov[i].iov_base, msgs[i].msg_len);
    }
}

/* ---- TCP ---- */

static void conn_close(struct collector *c, struct conn *cn)
{
    loop_del(c->loop, cn->fd);
    close(cn->fd);
    c->conns[cn->fd] = NULL;
    buf_free(&cn->in);
    free(cn);
    c->nconns--;
}

static void deliver(struct conn *cn, const char *msg, size_t len)
{
    struct ingest_origin o = {(struct sockaddr *)&cn->peer, listen_scheme_name(cn->l->url.scheme),
                              NULL};
    cn->l->stats.received++;
    ingest_syslog(cn->l->c->ingest, &o, msg, len);
}

/* Frames what is buffered; keeps a partial frame. At EOF, a final frame
 * without its LF is delivered as it is (as rsyslog does). */
static void conn_drain(struct conn *cn, bool eof)
{
    char *p = cn->in.data;
    size_t len = cn->in.len, pos = 0;
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
                deliver(cn, p + pos + f.msg_off, f.msg_len);
            pos += (size_t)r;
        } else if (r == 0) {
            if (eof) {
                deliver(cn, p + pos, len - pos);
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

static void on_conn(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct conn *cn = arg;
    struct collector *c = cn->l->c;
    (void)lp;
    (void)events;
    /* After a drain at most one partial frame (< CONN_BUF_MAX) is kept. */
    size_t want =
        CONN_BUF_MAX - cn->in.len < CONN_BUF_START ? CONN_BUF_MAX - cn->in.len : CONN_BUF_START;
    if (want == 0 || buf_reserve(&cn->in, want) < 0) {
        conn_close(c, cn);
        return;
    }
    size_t room = cn->in.cap - cn->in.len;
    ssize_t n = read(fd, cn->in.data + cn->in.len, room);
    if (n > 0) {
        cn->in.len += (size_t)n;
        conn_drain(cn, false);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    conn_drain(cn, true);
    conn_close(c, cn);
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
        if (c->nconns >= c->cfg->max_conns || cfd >= LOOP_MAX_FDS ||
            !(cn = calloc(1, sizeof(*cn)))) {
            l->stats.rejected++;
            close(cfd);
            continue;
        }
        cn->l = l;
        cn->fd = cfd;
        cn->peer = peer;
        buf_init(&cn->in, CONN_BUF_MAX);
        if (loop_add(lp, cfd, EPOLLIN, on_conn, cn) < 0) {
            l->stats.rejected++;
            close(cfd);
            free(cn);
            continue;
        }
        c->conns[cfd] = cn;
        c->nconns++;
        l->stats.connections++;
    }
}

/* ---- status, privileges, main loop ---- */

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
            "\"stored\":%llu,\"unparsed\":%llu,\"store_errors\":%llu,\"listeners\":[",
            (long long)time(NULL), (int)getpid(), c->nconns, (unsigned long long)is->received,
            (unsigned long long)is->stored, (unsigned long long)is->unparsed,
            (unsigned long long)is->store_errors);
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct listener *l = &c->listeners[i];
        fprintf(f,
                "%s{\"scheme\":\"%s\",\"port\":%d,\"received\":%llu,\"rejected\":%llu,"
                "\"bad_frames\":%llu,\"connections\":%llu}",
                i ? "," : "", listen_scheme_name(l->url.scheme), listener_port(l->fd),
                (unsigned long long)l->stats.received, (unsigned long long)l->stats.rejected,
                (unsigned long long)l->stats.bad_frames, (unsigned long long)l->stats.connections);
    }
    fputs("]}\n", f);
    if (fclose(f) == 0)
        rename(tmp, c->status_path);
}

static void on_tick(struct loop *lp, void *arg)
{
    struct collector *c = arg;
    static time_t last_status;
    int r = store_flush(c->store);
    if (r < 0)
        log_msg("flushing the store: %s", err_str(r));
    if (got_hup) {
        got_hup = 0;
        store_reopen(c->store);
        log_msg("SIGHUP: store files reopened");
    }
    if (time(NULL) != last_status) {
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
    if (chown(cfg->store_root, pw->pw_uid, pw->pw_gid) < 0 || setgroups(0, NULL) < 0 ||
        setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        int e = errno;
        log_msg("dropping privileges to %s: %s", cfg->user, strerror(e));
        return -e;
    }
    if (setuid(0) == 0) { /* must be impossible now */
        log_msg("privileges could be regained; refusing to run");
        return -EPERM;
    }
    return 0;
}

static int open_listeners(struct collector *c)
{
    for (size_t i = 0; i < c->cfg->nlisten; i++) {
        const struct listen_url *u = &c->cfg->listen[i];
        if (u->scheme != LISTEN_UDP && u->scheme != LISTEN_TCP) {
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
    if (fclose(f) == 0)
        rename(tmp, c->cfg->ready_file);
}

static void collector_free(struct collector *c)
{
    for (int fd = 0; c->conns && fd < LOOP_MAX_FDS; fd++)
        if (c->conns[fd])
            conn_close(c, c->conns[fd]);
    for (size_t i = 0; i < c->nlisteners; i++)
        close(c->listeners[i].fd);
    ingest_free(c->ingest);
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
    if ((r = open_listeners(&c)) < 0)
        goto out;
    struct store_config scfg = {
        .root = cfg->store_root,
        .path_template = "%h/%p.log",
        .num_logs = 5,
        .file_mode = 0640,
        .dir_mode = 0750,
        .group = (gid_t)-1,
        .fsync = (enum store_fsync)cfg->fsync_policy,
        .max_open_files = 1024,
        .batch_bytes = 64 * 1024,
    };
    if ((r = store_open(&scfg, &c.store)) < 0) {
        log_msg("opening the store %s: %s", cfg->store_root, err_str(r));
        goto out;
    }
    if ((r = drop_privileges(cfg)) < 0)
        goto out;
    c.ingest = ingest_new(c.store, cfg->host_from);
    if (!c.ingest) {
        r = -ENOMEM;
        goto out;
    }
    snprintf(c.status_path, sizeof(c.status_path), "%s/.logwardd-status.json", cfg->store_root);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    write_ready_file(&c);
    r = loop_run(c.loop, COLLECTOR_FLUSH_MS, on_tick, &c);
    /* SIGTERM: read what is already queued on connections, then flush. */
    for (int fd = 0; fd < LOOP_MAX_FDS; fd++)
        if (c.conns[fd])
            conn_drain(c.conns[fd], true);
    int fr = store_flush(c.store);
    if (r == 0)
        r = fr;
    write_status(&c);
out:
    collector_free(&c);
    return r;
}
