/*
 * Unit tests for src/search/tally and src/search/report: distinct strings
 * with hits (growth, sort by hits, merge, merge in first-seen order), and aureport's summary
 * counts, tables and text over hand-made events (a failed login, a deleting rm with a relative path
 * and a key, a failed exec with hex exe and two keys, a CONFIG_CHANGE), in total and per host, with
 * the --failed filter.
 */
#include "audit/collate.h"
#include "check.h"
#include "search/query.h"
#include "search/report.h"
#include "search/tally.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_tally(void)
{
    struct tally t, u;
    tally_init(&t);
    tally_init(&u);
    char word[32];
    for (int i = 0; i < 1000; i++) { /* grows past its first table */
        int n = snprintf(word, sizeof(word), "w%d", i % 300);
        CHECK_INT(tally_add(&t, word, (size_t)n), 0);
    }
    CHECK_INT(t.count, 300);
    CHECK_INT(tally_add(&u, "w5", 2), 0);
    CHECK_INT(tally_add(&u, "new", 3), 0);
    CHECK_INT(tally_merge(&t, &u), 0);
    CHECK_INT(t.count, 301);
    const struct tally_entry **v;
    CHECK_INT(tally_sorted(&t, &v), 0);
    CHECK_STR(v[0]->s, "w5"); /* 4 hits; w0..w99 have 4 too but w5 has 5 */
    CHECK_INT(v[0]->hits, 5);
    CHECK_STR(v[1]->s, "w0"); /* first seen first among equals */
    CHECK_STR(v[300]->s, "new");
    free(v);
    tally_free(&t);
    tally_free(&u);

    /* merging parts in stream order keeps the whole stream's first-seen
     * ranks (by hits, part 1 would rank z before b) */
    struct tally whole, p1, p2, merged;
    tally_init(&whole), tally_init(&p1), tally_init(&p2), tally_init(&merged);
    const char *stream[] = {"b", "z", "z", "y", "y", "y", "a", "z"}; /* p1: 4, p2: 4 */
    for (int i = 0; i < 8; i++) {
        CHECK_INT(tally_add(&whole, stream[i], 1), 0);
        CHECK_INT(tally_add(i < 4 ? &p1 : &p2, stream[i], 1), 0);
    }
    CHECK_INT(tally_merge_seen(&merged, &p1), 0);
    CHECK_INT(tally_merge_seen(&merged, &p2), 0);
    const struct tally_entry **w, **m;
    CHECK_INT(tally_sorted(&whole, &w), 0);
    CHECK_INT(tally_sorted(&merged, &m), 0);
    CHECK_INT(merged.count, whole.count);
    for (size_t i = 0; i < whole.count; i++) {
        CHECK_STR(m[i]->s, w[i]->s);
        CHECK_INT(m[i]->hits, w[i]->hits);
        CHECK_INT(m[i]->order, w[i]->order);
    }
    CHECK_STR(m[2]->s, "b");
    free(w), free(m);
    tally_free(&whole), tally_free(&p1), tally_free(&p2), tally_free(&merged);
}

static const char *const lines[] = {
    "node=h1 type=SYSCALL msg=audit(1732270800.002:10): arch=c000003e syscall=263 success=yes "
    "exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=99 pid=100 auid=1000 uid=0 gid=0 euid=0 suid=0 "
    "fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"delete\"",
    "node=h1 type=CWD msg=audit(1732270800.002:10): cwd=\"/var/tmp\"",
    "node=h1 type=PATH msg=audit(1732270800.002:10): item=1 name=\"./report.tmp\" nametype=DELETE",
    "node=h1 type=EOE msg=audit(1732270800.002:10): ",
    "node=h2 type=USER_LOGIN msg=audit(1732270900.000:11): pid=200 uid=0 auid=1001 ses=4 "
    "msg='op=login id=1001 exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.7 terminal=ssh "
    "res=failed'",
    "node=h2 type=SYSCALL msg=audit(1732271000.000:12): arch=c000003e syscall=59 success=no "
    "exit=-2 a0=1 a1=2 a2=3 a3=0 items=0 ppid=1 pid=300 auid=4294967295 uid=33 gid=33 euid=33 "
    "suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm=\"sh\" "
    "exe=2F62696E2F7368 key=636D640164656C657465",
    "node=h2 type=EOE msg=audit(1732271000.000:12): ",
    ("node=h1 type=CONFIG_CHANGE msg=audit(1732271100.500:13): auid=1000 ses=3 op=add_rule "
     "key=(null) list=4 res=1"),
};

struct run {
    struct report rep;
    struct search_matcher *m;
};

static int on_event(const struct audit_event *ev, void *arg)
{
    struct run *r = arg;
    char host[8];
    snprintf(host, sizeof(host), "%.*s", (int)ev->node_len, ev->node);
    CHECK_INT(report_saw(&r->rep, host, ev), 0);
    const struct search_items *it = search_matcher_items(r->m, ev);
    CHECK(it != NULL);
    return report_add(&r->rep, host, ev, it) < 0 ? -1 : 0;
}

static void collate(struct run *r, enum report_kind kind, enum report_only only)
{
    static struct search_query q; /* no selection: items only */
    memset(&q, 0, sizeof(q));
    q.event_id = q.uid = q.euid = q.auid = q.pid = q.ppid = q.session = q.syscall = SEARCH_UNSET;
    q.success = -1;
    report_init(&r->rep, kind, only);
    r->m = search_matcher_new(&q);
    struct audit_collate *c = audit_collate_new(NULL, on_event, r);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct audit_header h;
        size_t off;
        if (audit_header_parse(lines[i], strlen(lines[i]), &h, &off) == 0)
            CHECK_INT(audit_collate_add(c, lines[i], strlen(lines[i]), &h), 0);
    }
    CHECK_INT(audit_collate_flush(c), 0);
    audit_collate_free(c);
    search_matcher_free(r->m);
}

static void test_summary(void)
{
    struct run r;
    collate(&r, REPORT_SUMMARY, REPORT_ALL);
    const struct report_part *t = &r.rep.total;
    CHECK_INT(t->counts[REPORT_N_EVENTS], 4);
    CHECK_INT(t->counts[REPORT_N_CHANGES], 1);
    CHECK_INT(t->counts[REPORT_N_LOGINS], 0);
    CHECK_INT(t->counts[REPORT_N_FAILED_LOGINS], 1);
    CHECK_INT(t->counts[REPORT_N_FAILED_SYSCALLS], 1);
    CHECK_INT(t->sets[REPORT_S_USERS].count, 3); /* 1000, 1001, -1 */
    CHECK_INT(t->sets[REPORT_S_KEYS].count, 2);  /* delete, cmd; (null) is none */
    CHECK_INT(t->sets[REPORT_S_EXES].count, 3);  /* rm, sshd, /bin/sh decoded */
    CHECK_INT(t->sets[REPORT_S_COMMS].count, 2);
    CHECK_INT(t->sets[REPORT_S_FILES].count, 1); /* ./report.tmp joined to the cwd */
    CHECK_INT(t->sets[REPORT_S_HOSTS].count, 1); /* addr= for hostname=? */
    CHECK_INT(t->sets[REPORT_S_PIDS].count, 3);
    CHECK_INT(r.rep.nhosts, 2);
    CHECK_STR(r.rep.hosts[0].host, "h1");
    CHECK_INT(r.rep.hosts[0].counts[REPORT_N_EVENTS], 2);
    CHECK_INT(r.rep.hosts[1].counts[REPORT_N_EVENTS], 2);
    struct report_window w = {0};
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(report_format_text(&r.rep, t, &w, &b), 0);
    CHECK_INT(buf_append(&b, "", 1), 0);
    CHECK(strstr(b.data, "\nSummary Report\n======================\n") == b.data);
    CHECK(strstr(b.data, "Range of time in logs: 11/22/24 10:20:00.002 - 11/22/24 10:25:00.500\n"));
    CHECK(strstr(b.data, "Number of failed logins: 1\nNumber of authentications: 0\n"));
    CHECK(strstr(b.data, "Number of keys: 2\nNumber of process IDs: 3\nNumber of events: 4\n\n"));
    buf_reset(&b);
    CHECK_INT(report_format_json(&r.rep, &w, true, &b), 0);
    CHECK_INT(buf_append(&b, "", 1), 0);
    CHECK(strstr(b.data, "\"failed_logins\":1") && strstr(b.data, "\"hosts\":[{\"host\":\"h1\""));
    buf_free(&b);
    report_free(&r.rep);
}

static void test_tables(void)
{
    struct run r;
    collate(&r, REPORT_KEY, REPORT_ALL);
    CHECK_INT(r.rep.total.table.count, 2);
    report_free(&r.rep);
    collate(&r, REPORT_FILE, REPORT_ALL);
    const struct tally_entry **v;
    CHECK_INT(tally_sorted(&r.rep.total.table, &v), 0);
    CHECK_STR(v[0]->s, "/var/tmp/./report.tmp");
    free(v);
    report_free(&r.rep);
    collate(&r, REPORT_USER, REPORT_FAILED); /* the failed login and the failed exec */
    CHECK_INT(r.rep.total.counts[REPORT_N_EVENTS], 2);
    CHECK_INT(r.rep.total.table.count, 2);
    struct buf b;
    buf_init(&b, 0);
    struct report_window w = {0};
    CHECK_INT(report_format_text(&r.rep, &r.rep.total, &w, &b), 0);
    CHECK_INT(buf_append(&b, "", 1), 0);
    CHECK(strstr(b.data, "\nFailed User Summary Report\n") == b.data);
    CHECK(strstr(b.data, "total  auid\n===========================\n1  1001\n1  -1\n"));
    buf_free(&b);
    report_free(&r.rep);
    collate(&r, REPORT_LOGIN, REPORT_SUCCESS);
    CHECK_INT(r.rep.total.table.count, 0);
    report_free(&r.rep);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    setenv("LC_ALL", "C", 1);
    tzset();
    setlocale(LC_ALL, "C");
    test_tally();
    test_summary();
    test_tables();
    return check_status();
}
