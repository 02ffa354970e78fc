/* Unit tests of the collator: interleaving, EOE, one-record types, the
 * settle/event/time windows, capacity eviction, nodes, serial rollover;
 * and the reader stopping at a callback's error. */
#include "audit/collate.h"
#include "audit/reader.h"
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct seen {
    int count;
    uint32_t serial[64];
    uint32_t nrecords[64];
    uint8_t why[64];
    char node[64][16];
};

static int on_event(const struct audit_event *ev, void *arg)
{
    struct seen *s = arg;
    if (s->count < 64) {
        s->serial[s->count] = ev->serial;
        s->nrecords[s->count] = ev->nrecords;
        s->why[s->count] = ev->closed_by;
        snprintf(s->node[s->count], 16, "%.*s", (int)ev->node_len, ev->node ? ev->node : "");
    }
    s->count++;
    return 0;
}

static void add(struct audit_collate *c, const char *line)
{
    struct audit_header h;
    size_t off;
    int r = audit_header_parse(line, strlen(line), &h, &off);
    CHECK_INT(r, 0);
    if (r == 0)
        CHECK_INT(audit_collate_add(c, line, strlen(line), &h), 0);
}

static void test_interleaved_and_eoe(void)
{
    struct seen s = {0};
    struct audit_collate *c = audit_collate_new(NULL, on_event, &s);
    add(c, "type=SYSCALL msg=audit(10.000:1): a=1");
    add(c, "type=SYSCALL msg=audit(10.000:2): a=1");
    add(c, "type=CWD msg=audit(10.000:1): cwd=\"/\"");
    add(c, "type=PATH msg=audit(10.000:2): item=0");
    add(c, "type=EOE msg=audit(10.000:1): ");
    CHECK_INT(s.count, 1);
    CHECK_INT(s.serial[0], 1);
    CHECK_INT(s.nrecords[0], 3);
    CHECK_INT(s.why[0], AUDIT_CLOSE_EOE);
    add(c, "type=USER_LOGIN msg=audit(11.000:3): pid=1 msg='res=success'");
    CHECK_INT(s.count, 2);
    CHECK_INT(s.why[1], AUDIT_CLOSE_SINGLE);
    CHECK_INT(audit_collate_open_count(c), 1);
    audit_collate_flush(c);
    CHECK_INT(s.count, 3);
    CHECK_INT(s.serial[2], 2);
    CHECK_INT(s.nrecords[2], 2);
    CHECK_INT(s.why[2], AUDIT_CLOSE_END);
    audit_collate_free(c);
}

static void test_windows(void)
{
    struct seen s = {0};
    struct audit_collate_config cfg = {.event_window = 3, .settle_window = 1, .time_window = 5};
    struct audit_collate *c = audit_collate_new(&cfg, on_event, &s);
    add(c, "type=SYSCALL msg=audit(10.000:1): a=1");
    add(c, "type=PROCTITLE msg=audit(10.000:1): proctitle=6C73");
    CHECK_INT(s.count, 0); /* settled, but no newer event yet */
    add(c, "type=SYSCALL msg=audit(10.000:2): a=1");
    CHECK_INT(s.count, 1); /* settle window 1: one newer event closes it */
    CHECK_INT(s.why[0], AUDIT_CLOSE_SETTLED);
    add(c, "type=SYSCALL msg=audit(10.000:3): a=1");
    CHECK_INT(s.count, 1);
    add(c, "type=SYSCALL msg=audit(10.000:4): a=1");
    add(c, "type=SYSCALL msg=audit(10.000:5): a=1");
    CHECK_INT(s.count, 2); /* event 2 saw 3 newer events open: closed */
    CHECK_INT(s.serial[1], 2);
    CHECK_INT(s.why[1], AUDIT_CLOSE_WINDOW);
    add(c, "type=SYSCALL msg=audit(16.000:6): a=1"); /* time moved 6 s > 5 */
    CHECK_INT(s.count, 5);
    CHECK_INT(s.why[2], AUDIT_CLOSE_WINDOW);
    CHECK_INT(s.why[3], AUDIT_CLOSE_TIME);
    /* A record for an event already closed is counted as late (split). */
    add(c, "type=PATH msg=audit(10.000:2): item=0");
    CHECK_INT(audit_collate_stats(c)->late_records, 1);
    audit_collate_free(c);
}

static void test_capacity_nodes_rollover(void)
{
    struct seen s = {0};
    struct audit_collate_config cfg = {.max_open = 2};
    struct audit_collate *c = audit_collate_new(&cfg, on_event, &s);
    add(c, "node=a type=SYSCALL msg=audit(10.000:4294967295): a=1");
    add(c, "node=b type=SYSCALL msg=audit(10.000:4294967295): a=1");
    add(c, "node=a type=CWD msg=audit(10.000:4294967295): cwd=\"/\"");
    CHECK_INT(s.count, 0);
    add(c, "node=a type=SYSCALL msg=audit(10.001:0): a=1"); /* rollover: a new event */
    CHECK_INT(s.count, 1);
    CHECK_INT(s.why[0], AUDIT_CLOSE_CAPACITY);
    CHECK_STR(s.node[0], "a");
    CHECK_INT(s.nrecords[0], 2);
    audit_collate_flush(c);
    CHECK_INT(s.count, 3);
    CHECK_STR(s.node[1], "b");
    CHECK_INT(s.serial[2], 0);
    audit_collate_free(c);
}

static void test_expire(void)
{
    struct seen s = {0};
    struct audit_collate *c = audit_collate_new(NULL, on_event, &s);
    add(c, "type=SYSCALL msg=audit(10.000:1): a=1");
    audit_collate_expire(c); /* got a record since the last call: stays */
    CHECK_INT(s.count, 0);
    audit_collate_expire(c);
    CHECK_INT(s.count, 1);
    CHECK_INT(s.why[0], AUDIT_CLOSE_IDLE);
    audit_collate_free(c);
}

static int refuse(const struct audit_event *ev, void *arg)
{
    (void)ev;
    ++*(int *)arg;
    return -ECANCELED;
}

static void count_bad(void *arg, const char *source, uint64_t line_no, uint64_t offset, int code)
{
    (void)source, (void)line_no, (void)offset, (void)code;
    ++*(int *)arg;
}

/* A callback's error stops the reader at its line, and the complete lines
 * left after it (more than AUDIT_RECORD_MAX_LINE of them) are not called a
 * line too long: a failed search once said so of its input. */
static void test_reader_stops_at_callback_error(void)
{
    int events = 0, bad = 0;
    struct audit_collate *c = audit_collate_new(NULL, refuse, &events);
    struct audit_reader *r = audit_reader_new(c, count_bad, &bad);
    size_t cap = 200000, len = 0;
    char *text = malloc(cap);
    for (int i = 1; len + 100 < cap; i++)
        len +=
            (size_t)snprintf(text + len, cap - len,
                             "type=USER_LOGIN msg=audit(11.000:%d): pid=1 msg='res=success'\n", i);
    CHECK(len > 2 * 65536);
    audit_reader_begin(r, "test");
    CHECK_INT(audit_reader_feed(r, text, len), -ECANCELED);
    CHECK_INT(events, 1);
    CHECK_INT(bad, 0);
    CHECK_INT(audit_reader_stats(r)->malformed, 0);
    audit_reader_free(r);
    audit_collate_free(c);
    free(text);
}

int main(void)
{
    test_interleaved_and_eoe();
    test_windows();
    test_capacity_nodes_rollover();
    test_expire();
    test_reader_stops_at_callback_error();
    return check_status();
}
