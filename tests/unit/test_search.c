/*
 * Unit tests for src/search: ausearch's time words and dates under a pinned
 * clock (TZ=UTC, LC_ALL=C), option parsing (names, values, errors that name
 * the bad word), and matching of hand-made events, one option at a time.
 */
#include "audit/collate.h"
#include "check.h"
#include "search/query.h"
#include "search/timewords.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fri 2024-11-22 10:20:30 UTC */
#define NOW  ((time_t)1732270830)
#define NOON ((time_t)1732233600) /* 2024-11-22 00:00:00 */
#define DAY  86400

static time_t tw(const char *date, const char *tod, enum timewords_edge e)
{
    char err[256];
    time_t t = -1;
    int r = timewords_parse(date, tod, e, NOW, &t, err, sizeof(err));
    if (r < 0)
        fprintf(stderr, "timewords_parse(%s, %s): %s\n", date ? date : "-", tod ? tod : "-", err);
    return r < 0 ? -1 : t;
}

static void test_timewords(void)
{
    CHECK_INT(tw("now", NULL, TIMEWORDS_START), NOW);
    CHECK_INT(tw("recent", NULL, TIMEWORDS_START), NOW - 600);
    CHECK_INT(tw("recent", "01:00:00", TIMEWORDS_END), NOW - 600); /* time ignored */
    CHECK_INT(tw("today", NULL, TIMEWORDS_START), NOON);
    CHECK_INT(tw("today", NULL, TIMEWORDS_END), NOW);
    CHECK_INT(tw("today", "08:00:00", TIMEWORDS_START), NOON + 8 * 3600);
    CHECK_INT(tw("yesterday", NULL, TIMEWORDS_START), NOON - DAY);
    CHECK_INT(tw("yesterday", NULL, TIMEWORDS_END), NOON - DAY + 10 * 3600 + 20 * 60 + 30);
    CHECK_INT(tw("this-week", NULL, TIMEWORDS_START), NOON - 5 * DAY); /* Sunday 17th */
    CHECK_INT(tw("week-ago", NULL, TIMEWORDS_START), NOON - 7 * DAY);
    CHECK_INT(tw("this-month", NULL, TIMEWORDS_START), NOON - 21 * DAY);
    CHECK_INT(tw("this-year", NULL, TIMEWORDS_START), (time_t)1704067200);
    CHECK_INT(tw("11/21/24", "10:00:00", TIMEWORDS_START), NOON - DAY + 36000);
    CHECK_INT(tw("11/21/24", NULL, TIMEWORDS_START), NOON - DAY);
    CHECK_INT(tw(NULL, "10:00", TIMEWORDS_START), NOON + 36000);
    CHECK_INT(tw("11/21/24", NULL, TIMEWORDS_END), NOON - DAY + 10 * 3600 + 20 * 60 + 30);
    char err[256];
    time_t t;
    CHECK_INT(timewords_parse("tomorrow", NULL, TIMEWORDS_START, NOW, &t, err, sizeof(err)),
              -EINVAL);
    CHECK(strstr(err, "'tomorrow'") && strstr(err, "this-week") && strstr(err, "12/31/26"));
    CHECK_INT(timewords_parse("11/21/2024", NULL, TIMEWORDS_START, NOW, &t, err, sizeof(err)),
              -EINVAL); /* LC_ALL=C's %x has a 2-digit year, as ausearch takes it */
    CHECK_INT(timewords_parse(NULL, "25:00:00", TIMEWORDS_START, NOW, &t, err, sizeof(err)),
              -EINVAL);
    CHECK(strstr(err, "'25:00:00'") != NULL);
    CHECK_INT(timewords_parse("01/01/99", NULL, TIMEWORDS_START, NOW, &t, err, sizeof(err)),
              -EINVAL); /* before 2004 */
    CHECK(timewords_is_keyword("week-ago") && !timewords_is_keyword("weekago"));
}

static int parse(struct search_options *o, const char *line, char *err)
{
    char buf[1024], *argv[64];
    int argc = 0;
    snprintf(buf, sizeof(buf), "search %s", line);
    for (char *p = strtok(buf, " "); p && argc < 63; p = strtok(NULL, " "))
        argv[argc++] = p;
    static char keep[64][64]; /* values are borrowed: keep them alive */
    for (int i = 0; i < argc; i++) {
        snprintf(keep[i], sizeof(keep[i]), "%s", argv[i]);
        argv[i] = keep[i];
    }
    return search_options_parse(o, argc, argv, NOW, err);
}

static void test_options(void)
{
    static struct search_options o;
    char err[SEARCH_ERR_MAX];
    CHECK_INT(parse(&o, "-k delete -m SYSCALL,1112 -m USER_LOGIN -ua 0 --raw a.log b", err), 0);
    CHECK_STR(o.q.key, "delete");
    CHECK_INT(o.q.ntypes, 3);
    CHECK_INT(o.q.types[0], 1300);
    CHECK_INT(o.q.types[1], 1112);
    CHECK(o.q.uid_all && o.q.uid == 0 && o.q.euid == 0 && o.q.auid == 0);
    CHECK_INT(o.format, SEARCH_FORMAT_RAW);
    CHECK_INT(o.npaths, 2);
    CHECK_INT(parse(&o, "-ts today 08:00:00 -te 10:00 -if x.log", err), 0);
    CHECK_INT(o.q.start, NOON + 8 * 3600);
    CHECK_INT(o.q.end, NOON + 10 * 3600);
    CHECK_INT(o.npaths, 1);
    CHECK_INT(parse(&o, "-ts 08:00:00 11/21/24 /var/log/audit", err), 0); /* time first */
    CHECK_INT(o.q.start, NOON - DAY + 8 * 3600);
    CHECK_INT(o.npaths, 1);
    CHECK_INT(parse(&o, "-te yesterday", err), 0); /* a word alone: its midnight */
    CHECK_INT(o.q.end, NOON - DAY);
    CHECK_INT(parse(&o, "-sc 59 -ul -1 --session 3 -sv no --format json", err), 0);
    CHECK(o.q.syscall == 59 && o.q.auid == 4294967295LL && o.q.session == 3 && o.q.success == 0);
    CHECK_INT(o.format, SEARCH_FORMAT_JSON);
    CHECK_INT(parse(&o, "-sc unlinkat", err), 0);
    CHECK_INT(o.q.syscall, 263); /* x86_64, the machine these tests run on */
    CHECK_INT(parse(&o, "--key=x -n a -n b", err), 0);
    CHECK(!strcmp(o.q.key, "x") && o.q.nnodes == 2);
    CHECK_INT(parse(&o, "-ts soon", err), -EINVAL);
    CHECK(strstr(err, "-ts") && strstr(err, "'soon'") && strstr(err, "recent"));
    CHECK_INT(parse(&o, "-sv maybe", err), -EINVAL);
    CHECK(strstr(err, "yes or no") != NULL);
    CHECK_INT(parse(&o, "-m NOSUCHTYPE", err), -EINVAL);
    CHECK(strstr(err, "NOSUCHTYPE") != NULL);
    CHECK_INT(parse(&o, "-x", err), -EINVAL);
    CHECK(strstr(err, "needs a value") != NULL);
    CHECK_INT(parse(&o, "-i -r", err), -EINVAL);
    CHECK_INT(parse(&o, "--frobnicate", err), -EINVAL);
    CHECK(strstr(err, "--frobnicate") != NULL);
    CHECK_INT(parse(&o, "-p abc", err), -EINVAL);
    CHECK_INT(parse(&o, "-ui no-such-user-here", err), -EINVAL);
    CHECK_INT(parse(&o, "-ts today -te yesterday", err), -EINVAL); /* start after end */
}

/* Collates lines into events and counts those the query matches. */
struct count {
    struct search_matcher *m;
    int matched, events;
};

static int on_event(const struct audit_event *ev, void *arg)
{
    struct count *c = arg;
    c->events++;
    c->matched += search_matcher_match(c->m, ev) == 1;
    return 0;
}

static const char *const log_lines[] = {
    "node=h1 type=SYSCALL msg=audit(1732270800.002:10): arch=c000003e syscall=263 success=yes "
    "exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=99 pid=100 auid=1000 uid=0 gid=0 euid=0 suid=0 "
    "fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"delete\"",
    "node=h1 type=CWD msg=audit(1732270800.002:10): cwd=\"/var/tmp\"",
    "node=h1 type=PATH msg=audit(1732270800.002:10): item=1 name=\"./report.tmp\" nametype=DELETE",
    "node=h1 type=EOE msg=audit(1732270800.002:10): ",
    "node=h2 type=USER_LOGIN msg=audit(1732270900.000:11): pid=200 uid=0 auid=1001 ses=4 "
    "msg='op=login id=1001 exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.7 terminal=ssh "
    "res=failed'",
    "type=SYSCALL msg=audit(1732271000.000:12): arch=c000003e syscall=59 success=no exit=-2 a0=1 "
    "a1=2 a2=3 a3=0 items=0 ppid=1 pid=300 auid=4294967295 uid=33 gid=33 euid=33 suid=33 "
    "fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm=\"sh\" "
    "exe=2F62696E2F7368 key=636D640164656C657465",
    "type=EOE msg=audit(1732271000.000:12): ",
};

static int count(const char *query)
{
    static struct search_options o;
    char err[SEARCH_ERR_MAX];
    if (parse(&o, query, err) < 0) {
        fprintf(stderr, "bad query %s: %s\n", query, err);
        return -1;
    }
    struct count c = {search_matcher_new(&o.q), 0, 0};
    struct audit_collate *col = audit_collate_new(NULL, on_event, &c);
    for (size_t i = 0; i < sizeof(log_lines) / sizeof(log_lines[0]); i++) {
        struct audit_header h;
        size_t off;
        const char *l = log_lines[i];
        if (audit_header_parse(l, strlen(l), &h, &off) == 0)
            audit_collate_add(col, l, strlen(l), &h);
    }
    audit_collate_flush(col);
    audit_collate_free(col);
    search_matcher_free(c.m);
    CHECK_INT(c.events, 3);
    return c.matched;
}

static void test_match(void)
{
    CHECK_INT(count(""), 3);
    CHECK_INT(count("-k delete"), 2); /* hex key cmd\x01delete split on 0x01 */
    CHECK_INT(count("-k del"), 2);    /* a part matches... */
    CHECK_INT(count("-w -k del"), 0); /* ...unless -w */
    CHECK_INT(count("-k cmd"), 1);
    CHECK_INT(count("-m USER_LOGIN"), 1);
    CHECK_INT(count("-m CWD,USER_LOGIN"), 2);
    CHECK_INT(count("-ua 1000"), 1);
    CHECK_INT(count("-ua 0"), 2); /* uid 0 in the SYSCALL and in the login */
    CHECK_INT(count("-ui 33"), 1);
    CHECK_INT(count("-ul 1001"), 1);
    CHECK_INT(count("-ul -1"), 1);
    CHECK_INT(count("-sc unlinkat"), 1);
    CHECK_INT(count("-sc 59"), 1);
    CHECK_INT(count("-f /var/tmp/./report"), 1); /* ./name joined to the cwd */
    CHECK_INT(count("-f /var/tmp"), 1);          /* the cwd itself */
    CHECK_INT(count("-x /bin/sh"), 1);           /* hex exe decoded */
    CHECK_INT(count("-x sshd"), 1);
    CHECK_INT(count("-p 100"), 1);
    CHECK_INT(count("-pp 99"), 1);
    CHECK_INT(count("--session 4"), 1);
    CHECK_INT(count("-tm pts1"), 1);
    CHECK_INT(count("-tm ssh"), 1);
    CHECK_INT(count("-sv yes"), 1);
    CHECK_INT(count("-sv no"), 2);
    CHECK_INT(count("-hn 198.51.100.7"), 1); /* hostname=? so addr= */
    CHECK_INT(count("-n h1"), 1);
    CHECK_INT(count("-n h1 -n h2"), 2);
    CHECK_INT(count("-ts 11/22/24 10:21:00"), 2);
    CHECK_INT(count("-te 11/22/24 10:21:00"), 1);
    CHECK_INT(count("-k delete -sv no"), 1);
    CHECK_INT(count("-a 11"), 1);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    setenv("LC_ALL", "C", 1);
    tzset();
    setlocale(LC_ALL, "C");
    test_timewords();
    test_options();
    test_match();
    return check_status();
}
