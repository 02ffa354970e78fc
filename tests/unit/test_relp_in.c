/*
 * test_relp_in: the RELP listener with a real librelp engine, a real store
 * and a RELP client written here byte by byte (so the test sees exactly
 * which "rsp" frames come back):
 *  - port 0 is read back; messages are stored, then acknowledged "200 OK";
 *  - a store error (the peer's host directory cannot be created) gets no
 *    acknowledgement: the session is closed instead, and another peer's
 *    session goes on working;
 *  - stop joins the RELP thread.
 * The test's main thread plays the collector's loop (poll + dispatch).
 */
#include "check.h"
#include "collector/ingest.h"
#include "collector/relp_in.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int relp_port;
static atomic_int client_done;

/* ---- a minimal RELP client ---- */

struct client {
    int fd;
    char buf[4096];
    size_t len;
};

static int client_open(struct client *c, const char *from)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &a.sin_addr);
    if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -errno;
    a.sin_port = htons((uint16_t)relp_port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -errno;
    return 0;
}

static void client_send(struct client *c, int txnr, const char *cmd, const char *data)
{
    char frame[1024];
    int n = snprintf(frame, sizeof(frame), "%d %s %zu%s%s\n", txnr, cmd, strlen(data),
                     *data ? " " : "", data);
    if (send(c->fd, frame, (size_t)n, MSG_NOSIGNAL) != n)
        fprintf(stderr, "client: send failed: %s\n", strerror(errno));
}

/* Reads one response frame; writes its data into out. Returns its txnr,
 * or -1 when the server closed the session or timed out first. Hint
 * frames ("serverclose") count as closed. */
static int client_rsp(struct client *c, char *out, size_t cap)
{
    for (;;) {
        int txnr;
        size_t dlen;
        char cmd[32];
        int hdr = 0;
        c->buf[c->len < sizeof(c->buf) ? c->len : sizeof(c->buf) - 1] = 0;
        if (sscanf(c->buf, "%d %31s %zu%n", &txnr, cmd, &dlen, &hdr) == 3) {
            size_t start = (size_t)hdr + (dlen ? 1 : 0);
            if (c->len >= start + dlen + 1) {
                if (strcmp(cmd, "rsp") != 0)
                    return -1;
                snprintf(out, cap, "%.*s", (int)dlen, c->buf + start);
                memmove(c->buf, c->buf + start + dlen + 1, c->len - start - dlen - 1);
                c->len -= start + dlen + 1;
                return txnr;
            }
        }
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

static const char *OFFER = "relp_version=0\nrelp_software=test_relp_in\ncommands=syslog";

struct scenario {
    int opened, acked_good, acked_bad, bad_closed, acked_after;
};

static void *client_main(void *arg)
{
    struct scenario *s = arg;
    struct client good, bad;
    char rsp[512];
    /* a healthy peer: three messages, each acknowledged */
    if (client_open(&good, "127.0.0.1") == 0) {
        client_send(&good, 1, "open", OFFER);
        s->opened += client_rsp(&good, rsp, sizeof(rsp)) == 1 && !strncmp(rsp, "200 OK", 6);
        for (int i = 0; i < 3; i++) {
            char msg[128];
            snprintf(msg, sizeof(msg), "<13>1 2024-11-22T10:00:00Z h relptest - - - good-%d", i);
            client_send(&good, 2 + i, "syslog", msg);
            s->acked_good += client_rsp(&good, rsp, sizeof(rsp)) == 2 + i && !strcmp(rsp, "200 OK");
        }
    }
    /* a peer whose host directory cannot be created: no ack, session closed */
    if (client_open(&bad, "127.0.0.2") == 0) {
        client_send(&bad, 1, "open", OFFER);
        s->opened += client_rsp(&bad, rsp, sizeof(rsp)) == 1;
        client_send(&bad, 2, "syslog", "<13>1 2024-11-22T10:00:00Z h relptest - - - bad-0");
        int t = client_rsp(&bad, rsp, sizeof(rsp));
        s->acked_bad += t == 2;
        s->bad_closed += t == -1;
        close(bad.fd);
    }
    /* the healthy session is unharmed */
    client_send(&good, 5, "syslog", "<13>1 2024-11-22T10:00:00Z h relptest - - - good-after");
    s->acked_after += client_rsp(&good, rsp, sizeof(rsp)) == 5 && !strcmp(rsp, "200 OK");
    client_send(&good, 6, "close", "");
    client_rsp(&good, rsp, sizeof(rsp));
    close(good.fd);
    atomic_store(&client_done, 1);
    return NULL;
}

static int count_in(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as logwardd: the failed ack send must not kill us */
    char root[] = "/tmp/lw-test-relp-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    struct store_config scfg;
    store_config_init(&scfg);
    scfg.root = root;
    struct store *st;
    CHECK_INT(store_open(&scfg, &st), 0);
    struct ingest *in = ingest_new(st, HOST_FROM_PEER);
    char blocker[256];
    snprintf(blocker, sizeof(blocker), "%s/127.0.0.2", root);
    int bfd = open(blocker, O_CREAT | O_WRONLY, 0600); /* a file where a directory must go */
    close(bfd);

    struct listen_url u;
    const char *why;
    CHECK_INT(listen_url_parse("relp://127.0.0.1:0", &u, &why), 0);
    struct relp_in_config rc = {.listen = &u, .nlisten = 1};
    struct relp_in *r;
    CHECK_INT(relp_in_open(&rc, &r), 0);
    CHECK(r != NULL);
    char ready[64] = "";
    FILE *mf = fmemopen(ready, sizeof(ready), "w");
    relp_in_write_ready(r, mf);
    fclose(mf);
    CHECK(sscanf(ready, "relp %d", &relp_port) == 1 && relp_port > 0);
    CHECK_INT(relp_in_start(r), 0);

    struct scenario s = {0};
    pthread_t t;
    pthread_create(&t, NULL, client_main, &s);
    for (int i = 0; i < 3000 && !atomic_load(&client_done); i++) {
        struct pollfd pfd = {.fd = relp_in_fd(r), .events = POLLIN};
        if (poll(&pfd, 1, 10) == 1)
            relp_in_dispatch(r, in, st);
    }
    pthread_join(t, NULL);
    CHECK_INT(s.opened, 2);
    CHECK_INT(s.acked_good, 3);
    CHECK_INT(s.acked_bad, 0);
    CHECK_INT(s.bad_closed, 1);
    CHECK_INT(s.acked_after, 1);
    struct relp_in_stats rs;
    relp_in_get_stats(r, &rs);
    CHECK_INT(rs.received, 5);
    CHECK_INT(rs.acked, 4);
    CHECK_INT(rs.refused, 1);

    char path[512];
    snprintf(path, sizeof(path), "%s/127.0.0.1/relptest.log", root);
    CHECK_INT(count_in(path, "good-"), 4); /* durable before acked: already on disk */
    CHECK_INT(count_in(path, "\tpeer=127.0.0.1 via=relp id=-"), 4);

    relp_in_stop(r, in, st);
    relp_in_free(r);
    relp_in_free(NULL);
    ingest_free(in);
    store_close(st);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return check_status();
}
