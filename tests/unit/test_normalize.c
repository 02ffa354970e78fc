/* Unit tests of normalization: argv reassembly (chunks, hex), sockaddr of
 * each family and byte order, keys joined by 0x01, errno and syscall names,
 * ENRICHED names, the lossless escape of bytes that are not UTF-8. */
#include "audit/collate.h"
#include "audit/normalize.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

static struct buf out;
static struct audit_normalizer *norm;

static int on_event(const struct audit_event *ev, void *arg)
{
    (void)arg;
    return audit_normalize_event(norm, ev, &out);
}

/* Collates the given lines (one event) and returns the JSON line. */
static const char *normalize(const char *const *lines)
{
    buf_reset(&out);
    struct audit_collate *c = audit_collate_new(NULL, on_event, NULL);
    for (; *lines; lines++) {
        struct audit_header h;
        size_t off;
        CHECK_INT(audit_header_parse(*lines, strlen(*lines), &h, &off), 0);
        audit_collate_add(c, *lines, strlen(*lines), &h);
    }
    audit_collate_flush(c);
    audit_collate_free(c);
    buf_append(&out, "", 1);
    return out.data;
}

#define CONTAINS(hay, needle)                                                                      \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: missing %s\n in %s\n", __FILE__, __LINE__, (needle), (hay));   \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

static void test_execve(void)
{
    const char *lines[] = {
        "type=SYSCALL msg=audit(1600000000.001:5): arch=c000003e syscall=59 success=yes exit=0 "
        "ppid=1 pid=2 auid=1000 uid=0 key=657865630136346269740174",
        "type=EXECVE msg=audit(1600000000.001:5): argc=4 a0=\"sh\" a1=2D63 a2_len=8 "
        "a2[0]=6563686F a2[1]=2061FF",
        "type=EXECVE msg=audit(1600000000.001:5): a2[2]=62 a3=\"last\"",
        "type=PROCTITLE msg=audit(1600000000.001:5): proctitle=7368002D6300", NULL};
    const char *j = normalize(lines);
    CONTAINS(j, "\"argv\":[\"sh\",\"-c\",\"echo a\\udcffb\",\"last\"]");
    CONTAINS(j, "\"key\":[\"exec\",\"64bit\",\"t\"]");
    CONTAINS(j, "\"syscall\":\"execve\",\"syscall_nr\":59");
    CONTAINS(j, "\"arch\":\"x86_64\"");
    CONTAINS(j, "\"proctitle\":\"sh -c\"");
    CONTAINS(j, "\"auid\":1000");
    CONTAINS(j, "\"result\":\"success\"");
    CONTAINS(j, "\"when\":\"2020-09-13T12:26:40.001+00:00\"");
}

static void test_failure_and_sockaddr(void)
{
    const char *inet[] = {
        "type=SYSCALL msg=audit(1.000:6): arch=c000003e syscall=42 success=no exit=-111",
        "type=SOCKADDR msg=audit(1.000:6): saddr=0200007BC0000207000000000000000000", NULL};
    const char *j = normalize(inet);
    CONTAINS(j, "\"errno\":\"ECONNREFUSED\"");
    CONTAINS(j, "\"syscall\":\"connect\"");
    CONTAINS(j, "\"network\":{\"family\":\"inet\",\"addr\":\"192.0.2.7\",\"port\":123}");
    CONTAINS(j, "\"result\":\"failure\"");
    /* s390x (big-endian): the family comes first in network order. */
    const char *be[] = {
        "type=SYSCALL msg=audit(1.000:7): arch=80000016 syscall=362 success=yes exit=0",
        "type=SOCKADDR msg=audit(1.000:7): saddr=000A00160000000020010DB8000000000000000000000001"
        "00000000",
        NULL};
    j = normalize(be);
    CONTAINS(j, "\"family\":\"inet6\",\"addr\":\"2001:db8::1\",\"port\":22");
    const char *unix_sock[] = {
        "type=SYSCALL msg=audit(1.000:8): arch=c000003e syscall=42 success=yes exit=0",
        "type=SOCKADDR msg=audit(1.000:8): saddr=01002F72756E2F6E7363642F736F636B657400", NULL};
    j = normalize(unix_sock);
    CONTAINS(j, "\"family\":\"local\",\"path\":\"/run/nscd/socket\"");
}

static void test_user_record_and_enriched(void)
{
    const char *lines[] = {
        "type=USER_LOGIN msg=audit(1.000:9): pid=1 uid=0 auid=4294967295 ses=4294967295 "
        "msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? "
        "addr=203.0.113.9 terminal=sshd res=failed'\x1dUID=\"root\" AUID=\"unset\"",
        NULL};
    const char *j = normalize(lines);
    CONTAINS(j, "\"acct\":\"(invalid user)\"");
    CONTAINS(j, "\"uid\":0,\"uid_name\":\"root\"");
    CONTAINS(j, "\"auid\":4294967295,\"auid_name\":\"unset\"");
    CONTAINS(j, "\"network\":{\"addr\":\"203.0.113.9\",\"hostname\":null,\"terminal\":\"sshd\"}");
    CONTAINS(j, "\"result\":\"failure\"");
    CONTAINS(j, "\"types\":[\"USER_LOGIN\"]");
    /* The raw record keeps the 0x1d separator, escaped. */
    CONTAINS(j, "res=failed'\\u001dUID=");
}

static void test_avc_and_paths(void)
{
    const char *lines[] = {
        "type=AVC msg=audit(1.000:10): avc:  denied  { read write } for  pid=3 comm=\"x\" "
        "name=\"shadow\" tclass=file permissive=0",
        "type=SYSCALL msg=audit(1.000:10): arch=c000003e syscall=257 success=no exit=-13",
        "type=PATH msg=audit(1.000:10): item=0 name=2F746D702F61206220 inode=5 dev=08:01 "
        "mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL",
        NULL};
    const char *j = normalize(lines);
    CONTAINS(j, "\"avc\":{\"result\":\"denied\",\"perms\":[\"read\",\"write\"]}");
    CONTAINS(j, "\"paths\":[{\"item\":0,\"name\":\"/tmp/a b \",\"inode\":5,\"dev\":\"08:01\","
                "\"mode\":\"0100644\"");
    CONTAINS(j, "\"errno\":\"EACCES\"");
    CONTAINS(j, "\"name\":\"shadow\"");
}

/* Old kernels: "old auid=X new auid=Y" (bare words); found by golden_compare. */
static void test_old_style_login(void)
{
    const char *lines[] = {
        "type=LOGIN msg=audit(1170021601.343:296): login pid=13015 uid=0 old auid=4294967295 "
        "new auid=0 old ses=4294967295 new ses=7",
        NULL};
    const char *j = normalize(lines);
    CONTAINS(j, "\"auid\":0,");
    CONTAINS(j, "\"old_auid\":4294967295,\"old_auid_name\":\"unset\"");
    CONTAINS(j, "\"session\":7,\"old_session\":4294967295");
}

/* A netlink sockaddr of the kernel (port id 0) still says so. */
static void test_netlink_pid_zero(void)
{
    const char *lines[] = {
        "type=SYSCALL msg=audit(1.000:11): arch=c000003e syscall=44 success=yes exit=40",
        "type=SOCKADDR msg=audit(1.000:11): saddr=100000000000000000000000", NULL};
    const char *j = normalize(lines);
    CONTAINS(j, "\"network\":{\"family\":\"netlink\",\"netlink_pid\":0}");
}

/* Records of one type whose fields change place, name or length from one
 * event to the next: each name is read afresh (the field-id cache by
 * record type never answers for a different name). */
static void test_fields_move(void)
{
    static const char *const events[][2] = {
        {"type=USER_LOGIN msg=audit(1.000:21): pid=1 uid=2 auid=3 ses=4 acct=\"a\" "
         "zzzzzzzzzzzzzzzz=1 zzzzzzzzzzzzzzzzzzz=2",
         "\"pid\":1"},
        {"type=USER_LOGIN msg=audit(1.000:22): uid=7 pid=8 auid=9 ses=4 acct=\"b\" "
         "zzzzzzzzzzzzzzzz=1 zzzzzzzzzzzzzzzzzzz=2",
         "\"auid\":9,\"uid\":7,\"session\":4,\"acct\":\"b\""},
        {"type=USER_LOGIN msg=audit(1.000:23): gid=5 xid=6 auid=1 sess=4 acct=\"c\" "
         "zzzzzzzzzzzzzzzz=1 zzzzzzzzzzzzzzzzzzz=2",
         "\"who\":{\"auid\":1,\"gid\":5,\"acct\":\"c\"}"},
        {"type=USER_LOGIN msg=audit(1.000:24): pid=3 uid=2 auid=3 ses=4 acct=\"d\" "
         "zzzzzzzzzzzzzzzy=1 zzzzzzzzzzzzzzzzzzz=2",
         "\"pid\":3"},
    };
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        const char *lines[] = {events[i][0], NULL};
        const char *j = normalize(lines);
        CONTAINS(j, events[i][1]);
    }
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    buf_init(&out, 0);
    norm = audit_normalizer_new(NULL);
    test_execve();
    test_failure_and_sockaddr();
    test_user_record_and_enriched();
    test_avc_and_paths();
    test_old_style_login();
    test_netlink_pid_zero();
    test_fields_move();
    audit_normalizer_free(norm);
    buf_free(&out);
    return check_status();
}
