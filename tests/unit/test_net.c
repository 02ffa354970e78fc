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

int main(void)
{
    test_urls();
    test_udp_loop();
    return check_status();
}
