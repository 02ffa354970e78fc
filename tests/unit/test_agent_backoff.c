/*
 * test_agent_backoff: the sender's reconnection delays (src/agent/backoff.c)
 * and collector URLs (src/agent/collector_url.c). Delays grow from 100 ms by
 * doubling up to the cap and never pass it; full jitter spreads them over
 * [0, ceiling] (the draw's extremes reach both ends, and many draws cover
 * the range's quarters); URLs keep host and port and refuse what lwap/1
 * does not serve.
 */
#include "agent/backoff.h"
#include "agent/collector_url.h"
#include "check.h"

#include <errno.h>
#include <stdint.h>

static void test_ceiling(void)
{
    CHECK_INT(backoff_ceiling(0, 100, 30000), 100);
    CHECK_INT(backoff_ceiling(1, 100, 30000), 200);
    CHECK_INT(backoff_ceiling(5, 100, 30000), 3200);
    CHECK_INT(backoff_ceiling(8, 100, 30000), 25600);
    CHECK_INT(backoff_ceiling(9, 100, 30000), 30000);
    CHECK_INT(backoff_ceiling(64, 100, 30000), 30000); /* no overflow far out */
    CHECK_INT(backoff_ceiling(3, 100, 200), 200);      /* --backoff-max 200, as tests use */
}

static void test_jitter(void)
{
    CHECK_INT(backoff_delay(4, 100, 30000, 0), 0);
    CHECK_INT(backoff_delay(4, 100, 30000, 1600), 1600);
    CHECK_INT(backoff_delay(4, 100, 30000, 1601), 0);
    unsigned quarters[4] = {0};
    uint64_t x = 88172645463325252ULL, max = 0;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        uint64_t d = backoff_delay(20, 100, 30000, x);
        if (d > max)
            max = d;
        quarters[d * 4 / 30001]++;
    }
    CHECK(max <= 30000);
    for (int q = 0; q < 4; q++)
        CHECK(quarters[q] > 2000); /* about 2500 each */
}

static void test_urls(void)
{
    struct collector_url u;
    const char *why = NULL;
    CHECK_INT(collector_url_parse("agent://127.0.0.1:6000", &u, &why), 0);
    CHECK(!u.tls);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_STR(u.port, "6000");
    CHECK_INT(collector_url_parse("agent+tls://collector.example", &u, &why), 0);
    CHECK(u.tls);
    CHECK_STR(u.host, "collector.example");
    CHECK_STR(u.port, "6515");
    CHECK_INT(collector_url_parse("agent+tls://[::1]:7", &u, &why), 0);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.port, "7");
    CHECK_STR(u.text, "agent+tls://[::1]:7");
    const char *bad[] = {"tcp://h:1",   "agent://",       "agent://h:0",  "agent://h:65536",
                         "agent://h:x", "agent://h/path", "agent://[::1", "agent://h o"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        int r = collector_url_parse(bad[i], &u, &why);
        if (r != -EINVAL || !why)
            fprintf(stderr, "accepted %s\n", bad[i]);
        CHECK_INT(r, -EINVAL);
    }
}

int main(void)
{
    test_ceiling();
    test_jitter();
    test_urls();
    return check_status();
}
