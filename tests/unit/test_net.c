/* Unit tests of the network layer: listener URLs (every scheme, IPv4, IPv6,
 * wildcard, defaults, and clear refusals), and a loopback listener bound on
 * port 0 driven through the event loop. */
#include "check.h"
#include "net/listen_url.h"
#include "net/listener.h"
#include "net/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

static void test_urls(void)
{
    struct listen_url u;
    const char *why;
    CHECK_INT(listen_url_parse("udp://127.0.0.1:5514", &u, &why), 0);
    CHECK_INT(u.scheme, LISTEN_UDP);
    CHECK_INT(u.port, 5514);
    CHECK_INT(u.addr.ss_family, AF_INET);
    CHECK_INT(listen_url_parse("tcp://[::1]:6000", &u, &why), 0);
    CHECK_INT(u.addr.ss_family, AF_INET6);
    CHECK_INT(ntohs(((struct sockaddr_in6 *)&u.addr)->sin6_port), 6000);
    CHECK_INT(listen_url_parse("relp+tls://*", &u, &why), 0);
    CHECK_INT(u.scheme, LISTEN_RELP_TLS);
    CHECK_INT(u.port, 2514);
    CHECK_INT(listen_url_parse("audit://localhost:0", &u, &why), 0);
    CHECK_INT(u.port, 0);
    CHECK_INT(listen_url_parse("tls://0.0.0.0", &u, &why), 0);
    CHECK_INT(u.port, 6514);
    CHECK_INT(listen_url_parse("smtp://1.2.3.4:25", &u, &why), -EINVAL);
    CHECK(why && strstr(why, "unknown scheme"));
    CHECK_INT(listen_url_parse("tcp://example.org:514", &u, &why), -EINVAL);
    CHECK(why && strstr(why, "no DNS"));
    CHECK_INT(listen_url_parse("tcp://1.2.3.4:99999", &u, &why), -EINVAL);
    CHECK_INT(listen_url_parse("tcp://[::1:514", &u, &why), -EINVAL);
    CHECK_INT(listen_url_parse("127.0.0.1:514", &u, &why), -EINVAL);
}

struct got {
    int calls;
    char data[64];
    ssize_t len;
};

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct got *g = arg;
    (void)events;
    g->len = recv(fd, g->data, sizeof(g->data), 0);
    g->calls++;
    loop_stop(l);
}

static void test_udp_loop(void)
{
    struct listen_url u;
    const char *why;
    CHECK_INT(listen_url_parse("udp://127.0.0.1:0", &u, &why), 0);
    int fd = listener_open(&u);
    CHECK(fd >= 0);
    int port = listener_port(fd);
    CHECK(port > 0);
    int out = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    CHECK_INT(sendto(out, "<13>hello", 9, 0, (struct sockaddr *)&to, sizeof(to)), 9);
    struct loop *l = loop_new();
    struct got g = {0};
    CHECK_INT(loop_add(l, fd, EPOLLIN, on_readable, &g), 0);
    CHECK_INT(loop_run(l, 1000, NULL, NULL), 0);
    CHECK_INT(g.calls, 1);
    CHECK_MEM(g.data, g.len, "<13>hello");
    CHECK_INT(loop_add(l, LOOP_MAX_FDS, EPOLLIN, on_readable, &g), -EMFILE);
    loop_free(l);
    close(out);
    close(fd);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct polls {
    int calls;
    int64_t armed_us, shortest_us;
};

static void on_poll(struct loop *l, void *arg)
{
    struct polls *p = arg;
    int64_t waited = mono_us() - p->armed_us;
    if (!p->calls || waited < p->shortest_us)
        p->shortest_us = waited;
    if (++p->calls == 3) {
        loop_stop(l);
        return;
    }
    p->armed_us = mono_us();
    loop_poll_in(l, 3); /* once per call: asked again for the next */
}

static void stop_at_tick(struct loop *l, void *arg)
{
    (void)arg;
    loop_stop(l); /* the bound should the poll never run */
}

/* The poll timer runs once per loop_poll_in, never before its time, and
 * does not wait for the (here 2 s) tick. */
static void test_poll_timer(void)
{
    struct loop *l = loop_new();
    struct polls p = {0};
    loop_set_poll(l, on_poll, &p);
    int64_t start = mono_us();
    p.armed_us = start;
    loop_poll_in(l, 3);
    CHECK_INT(loop_run(l, 2000, stop_at_tick, NULL), 0);
    int64_t took = mono_us() - start;
    CHECK_INT(p.calls, 3);
    CHECK(p.shortest_us >= 3000);
    CHECK(took < 1500000); /* three polls, not the tick */
    loop_free(l);
}

int main(void)
{
    test_urls();
    test_udp_loop();
    test_poll_timer();
    return check_status();
}
