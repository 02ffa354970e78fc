/*
 * relp_in: RELP listeners over librelp, on one thread of their own, with
 * acknowledgements only for durable messages.
 *
 * Facts about librelp 1.11 this file relies on (its source: scsyslog.c,
 * relp.c, sendq.c, tcp.c; and tests/integration/collector_relp.py):
 *  - The "syslog" command handler calls our callback, ignores what it
 *    returns, and then queues and at once sends "rsp 200 OK". Returning an
 *    error does NOT withhold the ack. So on a store error the callback
 *    shuts the peer's sockets down (shutdown(2)) before it returns: the ack's
 *    send fails, librelp marks the session broken and tears it down, and
 *    the sender resends its unacknowledged window on a new session.
 *  - Callbacks run one at a time on the thread in relpEngineRun(), which
 *    waits in epoll_wait(-1): relpEngineSetStop() alone is only noticed at
 *    the next event, so relp_in_stop() also connects to a listener to wake it.
 *  - relpEngineListnerConstructFinalize() binds and listens at once (so
 *    binding happens before privileges drop), but the API has no way to read
 *    a listener's socket or port back. We find librelp's listening sockets
 *    as the ones that appeared during the call (one thread runs then), which
 *    gives port 0 too.
 *  - The receive callback gets the peer's IP and host name, not the TLS
 *    peer's certificate: relp+tls:// authenticates clients (auth mode
 *    "certvalid" when --tls-ca is given: SSL_VERIFY_PEER and
 *    FAIL_IF_NO_PEER_CERT) but cannot say who they are, so RELP messages
 *    are filed by peer address and carry no identity.
 *  - With the openssl TLS library, librelp reads the certificate and key
 *    files at each accepted connection, i.e. after privileges dropped.
 */
#include "collector/relp_in.h"

#include "base/err.h"
#include "collector/handoff.h"
#include "collector/ingest.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <librelp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FD_SCAN_MAX 65536 /* descriptors looked at when finding librelp's sockets */
#define BREAK_MAX   1024  /* RELP sessions looked at when breaking a peer's */

struct relp_listener {
    struct relp_in *r;
    struct listen_url url;
    const char *transport; /* "relp" or "relp+tls", as stored on each line */
    int socks[RELP_IN_MAX_SOCKS];
    size_t nsocks;
    struct relp_in_stats stats;   /* loop thread only */
    atomic_ulong sessions_broken; /* RELP thread writes */
};

struct relp_in {
    relpEngine_t *engine;
    struct handoff *handoff;
    struct relp_listener l[RELP_IN_MAX_LISTENERS];
    size_t nl;
    pthread_t thread;
    bool running;
};

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("logwardd: relp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* librelp reports every broken session; a flapping peer must not flood the
 * log (nor block the RELP thread on a full stderr pipe). */
static void log_limited(const char *what, const char *obj, const char *msg, int code)
{
    static time_t second;
    static unsigned in_second, suppressed;
    time_t now = time(NULL);
    if (now != second) {
        if (suppressed)
            log_msg("%u librelp messages suppressed", suppressed);
        second = now;
        in_second = suppressed = 0;
    }
    if (++in_second > RELP_IN_LOG_PER_SEC) {
        suppressed++;
        return;
    }
    log_msg("%s%s%s: %s (librelp %d)", what, obj ? " " : "", obj ? obj : "", msg ? msg : "?", code);
}

static void on_err(void *usr, char *obj, char *msg, relpRetVal code)
{
    (void)usr;
    log_limited("error", obj, msg, code);
}

static void on_generic_err(char *obj, char *msg, relpRetVal code)
{
    log_limited("error", obj, msg, code);
}

static void on_auth_err(void *usr, char *authinfo, char *msg, relpRetVal code)
{
    (void)usr;
    log_limited("client refused:", authinfo, msg, code);
}

bool relp_in_serves(enum listen_scheme s)
{
    return s == LISTEN_RELP || s == LISTEN_RELP_TLS;
}

/* ---- finding librelp's sockets ---- */

static bool is_stream_socket(int fd, bool *listening)
{
    int type = 0, acc = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return false;
    len = sizeof(acc);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0)
        return false;
    *listening = acc != 0;
    return true;
}

/* Calls fn for each open descriptor (from /proc/self/fd, without the
 * directory's own). Returns 0 or -errno. */
static int each_fd(void (*fn)(int fd, void *arg), void *arg)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -errno;
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd == self || fd < 0 || fd >= FD_SCAN_MAX)
            continue;
        fn((int)fd, arg);
    }
    closedir(d);
    return 0;
}

struct listen_scan {
    unsigned char *seen; /* FD_SCAN_MAX bits: listening before the call */
    struct relp_listener *l;
    bool after;
};

static void scan_listening(int fd, void *arg)
{
    struct listen_scan *s = arg;
    bool listening;
    if (!is_stream_socket(fd, &listening) || !listening)
        return;
    bool before = s->seen[fd / 8] & (1u << (fd % 8));
    if (!s->after)
        s->seen[fd / 8] |= (unsigned char)(1u << (fd % 8));
    else if (!before && s->l->nsocks < RELP_IN_MAX_SOCKS)
        s->l->socks[s->l->nsocks++] = fd;
}

static int sock_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* ---- breaking sessions so that no ack goes out ---- */

struct break_scan {
    struct relp_in *r;
    const char *peer_ip; /* as librelp wrote it (numeric) */
    int fds[BREAK_MAX];
    size_t nfds, nmatch;
    bool by_ip[BREAK_MAX];
};

static bool is_relp_port(const struct relp_in *r, int port)
{
    for (size_t i = 0; i < r->nl; i++)
        for (size_t k = 0; k < r->l[i].nsocks; k++)
            if (sock_port(r->l[i].socks[k]) == port)
                return true;
    return false;
}

static void scan_session(int fd, void *arg)
{
    struct break_scan *s = arg;
    bool listening;
    if (s->nfds == BREAK_MAX || !is_stream_socket(fd, &listening) || listening ||
        !is_relp_port(s->r, sock_port(fd)))
        return;
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    char host[NI_MAXHOST] = "";
    if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
        getnameinfo((struct sockaddr *)&peer, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
    s->by_ip[s->nfds] = s->peer_ip && !strcmp(host, s->peer_ip);
    s->nmatch += s->by_ip[s->nfds];
    s->fds[s->nfds++] = fd;
}

/*
 * Runs on the RELP thread, inside the callback, so librelp is not using
 * its session list meanwhile, and only this thread accepts on RELP ports
 * (the loop thread's sockets have other local ports). Shuts down the
 * sessions from the failing message's peer; if none can be told apart,
 * every RELP session: what they had acknowledged is durable, the rest is
 * resent.
 */
static void break_sessions(struct relp_listener *l, const char *peer_ip)
{
    struct break_scan *s = calloc(1, sizeof(*s));
    if (!s)
        return; /* nothing better to do: see the report in relp_in_dispatch */
    s->r = l->r;
    s->peer_ip = peer_ip;
    each_fd(scan_session, s);
    for (size_t i = 0; i < s->nfds; i++)
        if (!s->nmatch || s->by_ip[i]) {
            shutdown(s->fds[i], SHUT_RDWR);
            atomic_fetch_add(&l->sessions_broken, 1);
        }
    free(s);
}

/* ---- the RELP thread ---- */

static void peer_from_text(const char *ip, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (ip && inet_pton(AF_INET, ip, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (ip && inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
}

static relpRetVal on_syslog(void *usr, unsigned char *hostname, unsigned char *ip,
                            unsigned char *msg, size_t len)
{
    struct relp_listener *l = usr;
    (void)hostname; /* DNS lookups are off: it is the address again */
    struct handoff_item it = {.msg = (const char *)msg, .len = len, .tag = l};
    peer_from_text((const char *)ip, &it.peer);
    snprintf(it.transport, sizeof(it.transport), "%s", l->transport);
    if (handoff_submit(l->r->handoff, &it) == 0)
        return RELP_RET_OK;
    /* librelp acks whatever we return: make the ack impossible instead. */
    break_sessions(l, (const char *)ip);
    return RELP_RET_IO_ERR;
}

static void *relp_thread(void *arg)
{
    struct relp_in *r = arg;
    relpEngineRun(r->engine);
    return NULL;
}

/* ---- setup ---- */

static int relp_err(relpRetVal rv, const char *what, const struct relp_listener *l)
{
    if (rv == RELP_RET_OK)
        return 0;
    log_msg("%s://, port %u: %s failed (librelp %d)", l->transport, l->url.port, what, rv);
    return rv == RELP_RET_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

static bool addr_is_any(const struct listen_url *u)
{
    if (u->addr.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&u->addr)->sin6_addr);
    return ((const struct sockaddr_in *)&u->addr)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static int set_tls(relpSrv_t *srv, const struct relp_in_config *cfg, struct relp_listener *l)
{
    int r;
    if (!cfg->tls_cert || !cfg->tls_key) {
        log_msg("relp+tls:// needs --tls-cert and --tls-key");
        return -EINVAL;
    }
    if ((r = relp_err(relpSrvEnableTLS2(srv), "enabling TLS", l)) < 0 ||
        (r = relp_err(relpSrvSetOwnCert(srv, (char *)cfg->tls_cert), "--tls-cert", l)) < 0 ||
        (r = relp_err(relpSrvSetPrivKey(srv, (char *)cfg->tls_key), "--tls-key", l)) < 0)
        return r;
    if (!cfg->tls_ca)
        return 0; /* server authentication only */
    if ((r = relp_err(relpSrvSetCACert(srv, (char *)cfg->tls_ca), "--tls-ca", l)) < 0 ||
        (r = relp_err(relpSrvSetAuthMode(srv, (char *)"certvalid"), "requiring client certs", l)) <
            0)
        return r;
    return 0;
}

/* Files that librelp would only find missing at the first connection. */
static int check_readable(const char *opt, const char *path)
{
    if (path && access(path, R_OK) < 0) {
        int e = errno;
        log_msg("%s %s: %s", opt, path, strerror(e));
        return -e;
    }
    return 0;
}

static int add_listener(struct relp_in *r, const struct relp_in_config *cfg,
                        const struct listen_url *u, unsigned char *seen)
{
    struct relp_listener *l = &r->l[r->nl++];
    l->r = r;
    l->url = *u;
    l->transport = u->scheme == LISTEN_RELP_TLS ? "relp+tls" : "relp";
    relpSrv_t *srv;
    int rc = relp_err(relpEngineListnerConstruct(r->engine, &srv), "creating the listener", l);
    if (rc < 0)
        return rc;
    char port[8], addr[INET6_ADDRSTRLEN] = "";
    snprintf(port, sizeof(port), "%u", u->port);
    const void *a = u->addr.ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)&u->addr)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)&u->addr)->sin_addr;
    inet_ntop(u->addr.ss_family, a, addr, sizeof(addr));
    relpSrvSetUsrPtr(srv, l);
    if ((rc = relp_err(relpSrvSetLstnPort(srv, (unsigned char *)port), "port", l)) < 0 ||
        (!addr_is_any(u) &&
         (rc = relp_err(relpSrvSetLstnAddr(srv, (unsigned char *)addr), "address", l)) < 0) ||
        (rc = relp_err(relpSrvSetMaxDataSize(srv, RELP_IN_MAX_MSG), "max size", l)) < 0 ||
        (rc = relp_err(relpSrvSetOversizeMode(srv, RELP_OVERSIZE_TRUNCATE), "oversize", l)) < 0 ||
        (u->scheme == LISTEN_RELP_TLS && (rc = set_tls(srv, cfg, l)) < 0))
        return rc;
    struct listen_scan scan = {.seen = seen, .l = l};
    if ((rc = each_fd(scan_listening, &scan)) < 0)
        return rc;
    /* librelp keeps srv from here on, also when binding fails. */
    relpRetVal rv = relpEngineListnerConstructFinalize(r->engine, srv);
    scan.after = true;
    each_fd(scan_listening, &scan);
    if (rv != RELP_RET_OK || l->nsocks == 0) {
        log_msg("listening on %s://%s:%u failed (librelp %d)", l->transport,
                addr_is_any(u) ? "*" : addr, u->port, rv);
        return -EADDRNOTAVAIL;
    }
    return 0;
}

static int engine_new(struct relp_in *r, const struct relp_in_config *cfg)
{
    bool tls = false;
    for (size_t i = 0; i < cfg->nlisten; i++)
        tls |= cfg->listen[i].scheme == LISTEN_RELP_TLS;
    if (relpEngineConstruct(&r->engine) != RELP_RET_OK)
        return -ENOMEM;
    relpEngineSetDbgprint(r->engine, NULL);
    relpEngineSetOnErr(r->engine, on_err);
    relpEngineSetOnGenericErr(r->engine, on_generic_err);
    relpEngineSetOnAuthErr(r->engine, on_auth_err);
    relpEngineSetDnsLookupMode(r->engine, 0); /* the RELP thread must not wait on DNS */
    relpEngineSetEnableCmd(r->engine, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineSetSyslogRcv2(r->engine, on_syslog);
    if (tls && relpEngineSetTLSLibByName(r->engine, "openssl") != RELP_RET_OK) {
        log_msg("librelp has no openssl TLS library");
        return -ENOTSUP;
    }
    int rc;
    if (tls && ((rc = check_readable("--tls-cert", cfg->tls_cert)) < 0 ||
                (rc = check_readable("--tls-key", cfg->tls_key)) < 0 ||
                (rc = check_readable("--tls-ca", cfg->tls_ca)) < 0))
        return rc;
    return 0;
}

int relp_in_open(const struct relp_in_config *cfg, struct relp_in **out)
{
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < cfg->nlisten; i++)
        n += relp_in_serves(cfg->listen[i].scheme);
    if (n == 0)
        return 0;
    if (n > RELP_IN_MAX_LISTENERS)
        return -E2BIG;
    struct relp_in *r = calloc(1, sizeof(*r));
    unsigned char *seen = calloc(FD_SCAN_MAX / 8, 1);
    int rc = -ENOMEM;
    if (!r || !seen || !(r->handoff = handoff_new()))
        goto fail;
    if ((rc = engine_new(r, cfg)) < 0)
        goto fail;
    for (size_t i = 0; i < cfg->nlisten && rc == 0; i++)
        if (relp_in_serves(cfg->listen[i].scheme))
            rc = add_listener(r, cfg, &cfg->listen[i], seen);
    if (rc < 0)
        goto fail;
    free(seen);
    *out = r;
    return 0;
fail:
    free(seen);
    relp_in_free(r);
    return rc;
}

int relp_in_start(struct relp_in *r)
{
    /* Signals are for the loop's thread: it sets its flags and wakes. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&r->thread, NULL, relp_thread, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        log_msg("starting the RELP thread: %s", strerror(e));
        return -e;
    }
    r->running = true;
    return 0;
}

int relp_in_fd(const struct relp_in *r)
{
    return handoff_fd(r->handoff);
}

/* ---- the loop's side ---- */

void relp_in_dispatch(struct relp_in *r, struct ingest *in, struct store *st)
{
    struct handoff_item *items[RELP_IN_BATCH];
    int res[RELP_IN_BATCH];
    size_t n = handoff_take(r->handoff, items, RELP_IN_BATCH);
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct handoff_item *it = items[i];
        struct relp_listener *l = it->tag;
        l->stats.received++;
        struct ingest_origin o = {
            .peer = it->peer.ss_family == AF_UNSPEC ? NULL : (struct sockaddr *)&it->peer,
            .transport = it->transport,
            .identity = it->identity[0] ? it->identity : NULL,
        };
        res[i] = ingest_syslog(in, &o, it->msg, it->len);
    }
    /* The waiters hold their senders' windows: commit now, not at the tick. */
    int fr = store_flush(st), failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct relp_listener *l = items[i]->tag;
        int result = res[i] < 0 ? res[i] : fr;
        if (result == 0) {
            l->stats.acked++;
        } else {
            l->stats.refused++;
            failed = failed ? failed : result;
        }
        handoff_complete(r->handoff, items[i], result);
    }
    if (failed)
        log_msg("store error (%s): %zu message(s) not acknowledged, their sessions broken so "
                "that the senders resend",
                err_str(failed), n);
}

static void wake_engine(const struct relp_in *r)
{
    for (size_t i = 0; i < r->nl; i++)
        for (size_t k = 0; k < r->l[i].nsocks; k++) {
            struct sockaddr_storage ss;
            socklen_t len = sizeof(ss);
            if (getsockname(r->l[i].socks[k], (struct sockaddr *)&ss, &len) < 0)
                continue;
            if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_addr.s_addr == 0)
                ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            else if (ss.ss_family == AF_INET6 &&
                     IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
                ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
            int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0)
                continue;
            int ok = connect(fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS;
            close(fd);
            if (ok)
                return;
        }
}

static void stop_thread(struct relp_in *r)
{
    if (!r->running)
        return;
    handoff_close(r->handoff); /* a callback now waiting or to come: refused, no ack */
    relpEngineSetStop(r->engine);
    for (int waited = 0; waited < RELP_IN_STOP_WAIT_MS; waited += 100) {
        wake_engine(r);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(r->thread, NULL, &ts) == 0) {
            r->running = false;
            return;
        }
    }
    /* Leave the engine to the exiting process rather than free it under the thread. */
    log_msg("the RELP thread did not stop within %d ms", RELP_IN_STOP_WAIT_MS);
    r->engine = NULL;
    r->running = false;
}

void relp_in_stop(struct relp_in *r, struct ingest *in, struct store *st)
{
    if (!r)
        return;
    if (in && st)
        relp_in_dispatch(r, in, st);
    stop_thread(r);
}

void relp_in_free(struct relp_in *r)
{
    if (!r)
        return;
    stop_thread(r);
    if (r->engine)
        relpEngineDestruct(&r->engine); /* closes sessions (with "serverclose") and listeners */
    handoff_free(r->handoff);
    free(r);
}

/* ---- reports ---- */

void relp_in_write_ready(const struct relp_in *r, FILE *f)
{
    for (size_t i = 0; r && i < r->nl; i++)
        for (size_t k = 0; k < r->l[i].nsocks; k++)
            fprintf(f, "%s %d\n", r->l[i].transport, sock_port(r->l[i].socks[k]));
}

void relp_in_write_status(const struct relp_in *r, FILE *f, bool first)
{
    for (size_t i = 0; r && i < r->nl; i++) {
        const struct relp_listener *l = &r->l[i];
        fprintf(f,
                "%s{\"scheme\":\"%s\",\"port\":%d,\"received\":%llu,\"acked\":%llu,"
                "\"refused\":%llu,\"sessions_broken\":%lu}",
                first && i == 0 ? "" : ",", l->transport, l->nsocks ? sock_port(l->socks[0]) : -1,
                (unsigned long long)l->stats.received, (unsigned long long)l->stats.acked,
                (unsigned long long)l->stats.refused, atomic_load(&l->sessions_broken));
    }
}

void relp_in_get_stats(const struct relp_in *r, struct relp_in_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; r && i < r->nl; i++) {
        out->received += r->l[i].stats.received;
        out->acked += r->l[i].stats.acked;
        out->refused += r->l[i].stats.refused;
    }
}
