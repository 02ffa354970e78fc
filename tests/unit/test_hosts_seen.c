/* Unit tests of hosts_seen: last time and count per host, growth past the
 * first table size, names with any bytes, over-long names cut, and the
 * bound on distinct hosts. */
#include "check.h"
#include "collector/hosts_seen.h"

#include <errno.h>
#include <stdio.h>

struct seen {
    int hosts;
    uint64_t messages;
    time_t last_h7;
};

static void count(const char *host, time_t last, uint64_t messages, void *arg)
{
    struct seen *s = arg;
    s->hosts++;
    s->messages += messages;
    if (!strcmp(host, "h7"))
        s->last_h7 = last;
}

static void test_notes(void)
{
    struct hosts_seen *hs = hosts_seen_new();
    CHECK(hs != NULL);
    char name[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            int n = snprintf(name, sizeof(name), "h%d", i);
            CHECK_INT(hosts_seen_note(hs, name, (size_t)n, 100 + round), 0);
        }
    CHECK_INT(hosts_seen_note(hs, "h7", 2, 500), 0);
    CHECK_INT(hosts_seen_note(hs, "a\0b", 3, 1), 0); /* bytes, not C strings */
    CHECK_INT(hosts_seen_count(hs), 1001);
    struct seen s = {0};
    hosts_seen_foreach(hs, count, &s);
    CHECK_INT(s.hosts, 1001);
    CHECK_INT(s.messages, 3001 + 1);
    CHECK_INT(s.last_h7, 500);
    char longname[HOSTS_SEEN_NAME_MAX + 50];
    memset(longname, 'x', sizeof(longname));
    CHECK_INT(hosts_seen_note(hs, longname, sizeof(longname), 1), 0);
    CHECK_INT(hosts_seen_note(hs, longname, HOSTS_SEEN_NAME_MAX + 1, 2), 0); /* same, cut */
    CHECK_INT(hosts_seen_count(hs), 1002);
    hosts_seen_free(hs);
    hosts_seen_free(NULL);
}

static void test_bound(void)
{
    struct hosts_seen *hs = hosts_seen_new();
    char name[32];
    for (int i = 0; i < HOSTS_SEEN_MAX; i++) {
        int n = snprintf(name, sizeof(name), "%d", i);
        if (hosts_seen_note(hs, name, (size_t)n, 1) != 0)
            CHECK(0);
    }
    CHECK_INT(hosts_seen_note(hs, "one-more", 8, 1), -ENOSPC);
    CHECK_INT(hosts_seen_note(hs, "0", 1, 9), 0); /* known hosts still noted */
    CHECK_INT(hosts_seen_untracked(hs), 1);
    CHECK_INT(hosts_seen_count(hs), HOSTS_SEEN_MAX);
    hosts_seen_free(hs);
}

int main(void)
{
    test_notes();
    test_bound();
    return check_status();
}
