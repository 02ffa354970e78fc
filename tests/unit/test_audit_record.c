/* Unit tests of the audit record parser: every header form auditd and the
 * kernel write, every value form, nested msg='', ENRICHED, and bad lines. */
#include "base/err.h"
#include "check.h"
#include "wire/audit_record.h"

static struct audit_field fields[256];

static int parse(const char *line, struct audit_header *h)
{
    size_t off;
    return audit_header_parse(line, strlen(line), h, &off);
}

/* Finds field `name` in part `part`; returns its index or -1. */
static int find(const char *line, int n, const char *name, int part)
{
    for (int i = 0; i < n; i++)
        if (fields[i].part == part && fields[i].name_len == strlen(name) &&
            !memcmp(line + fields[i].name_off, name, fields[i].name_len))
            return i;
    return -1;
}

static void test_plain_header(void)
{
    const char *l = "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 "
                    "comm=\"cat\" exe=2F62696E key=(null) tty=?";
    struct audit_header h;
    CHECK_INT(parse(l, &h), 0);
    CHECK_INT(h.node_len, 0);
    CHECK_MEM(l + h.type_off, h.type_len, "SYSCALL");
    CHECK_INT(h.type_number, 0);
    CHECK_INT(h.sec, 1364481363);
    CHECK_INT(h.msec, 243);
    CHECK_INT(h.serial, 24287);
    CHECK_MEM(l + h.body_off, 5, "arch=");
    int n = audit_fields_parse(l, strlen(l), &h, fields, 256);
    CHECK_INT(n, 6);
    int i = find(l, n, "comm", AUDIT_PART_BODY);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_DQUOTED);
    if (i >= 0)
        CHECK_MEM(l + fields[i].value_off, fields[i].value_len, "cat");
    i = find(l, n, "exe", AUDIT_PART_BODY);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_PLAIN);
    i = find(l, n, "key", AUDIT_PART_BODY);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_NULL);
    i = find(l, n, "tty", AUDIT_PART_BODY);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_UNSET);
}

static void test_node_unknown_and_numeric_types(void)
{
    const char *l = "node=host-1.example type=UNKNOWN[1420] msg=audit(1.005:7): a=b";
    struct audit_header h;
    CHECK_INT(parse(l, &h), 0);
    CHECK_MEM(l + h.node_off, h.node_len, "host-1.example");
    CHECK_INT(h.type_number, 1420);
    CHECK_INT(h.sec, 1);
    CHECK_INT(h.msec, 5);
    CHECK_INT(h.serial, 7);
    const char *k = "Sep  6 11:23:47 host kernel: [   31.0] audit: type=1400 "
                    "audit(1725617027.123:456): apparmor=\"DENIED\" operation=\"open\"";
    CHECK_INT(parse(k, &h), 0);
    CHECK(h.syslog_form);
    CHECK_INT(h.type_number, 1400);
    CHECK_INT(h.serial, 456);
    int n = audit_fields_parse(k, strlen(k), &h, fields, 256);
    CHECK_INT(n, 2);
}

static void test_user_msg_and_enriched(void)
{
    const char *l = "type=USER_LOGIN msg=audit(1.000:9): pid=1 uid=0 auid=4294967295 "
                    "msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? "
                    "addr=10.0.0.1 terminal=ssh res=failed'\x1d"
                    "UID=\"root\" AUID=\"unset\" SADDR={ saddr_fam=inet laddr=1.2.3.4 lport=22 }";
    struct audit_header h;
    CHECK_INT(parse(l, &h), 0);
    CHECK(h.enriched_off < strlen(l));
    int n = audit_fields_parse(l, strlen(l), &h, fields, 256);
    CHECK_INT(n, 3 + 7 + 3);
    int i = find(l, n, "acct", AUDIT_PART_MSG);
    CHECK(i >= 0);
    if (i >= 0)
        CHECK_MEM(l + fields[i].value_off, fields[i].value_len, "root");
    i = find(l, n, "res", AUDIT_PART_MSG);
    if (i >= 0)
        CHECK_MEM(l + fields[i].value_off, fields[i].value_len, "failed");
    CHECK(i >= 0);
    i = find(l, n, "AUID", AUDIT_PART_ENRICHED);
    CHECK(i >= 0);
    i = find(l, n, "SADDR", AUDIT_PART_ENRICHED);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_BRACED);
    if (i >= 0)
        CHECK_MEM(l + fields[i].value_off, fields[i].value_len,
                  " saddr_fam=inet laddr=1.2.3.4 lport=22 ");
    CHECK(find(l, n, "msg", AUDIT_PART_BODY) < 0);
}

static void test_old_pam_and_avc(void)
{
    const char *l = "type=USER_START msg=audit(1.000:2): user pid=5 uid=0 auid=0 "
                    "msg='PAM: session open acct=root : exe=\"/bin/su\" (hostname=?, addr=?, "
                    "terminal=pts/0 res=success)'";
    struct audit_header h;
    CHECK_INT(parse(l, &h), 0);
    int n = audit_fields_parse(l, strlen(l), &h, fields, 256);
    int i = find(l, n, "hostname", AUDIT_PART_MSG);
    CHECK(i >= 0 && fields[i].kind == AUDIT_VALUE_UNSET);
    i = find(l, n, "res", AUDIT_PART_MSG);
    CHECK(i >= 0);
    if (i >= 0)
        CHECK_MEM(l + fields[i].value_off, fields[i].value_len, "success");
    const char *a = "type=AVC msg=audit(1.000:3): avc:  denied  { read write } for  pid=1 "
                    "comm=\"x\" tclass=file permissive=0";
    CHECK_INT(parse(a, &h), 0);
    n = audit_fields_parse(a, strlen(a), &h, fields, 256);
    CHECK_INT(n, 4);
}

static void test_bad_lines(void)
{
    struct audit_header h;
    size_t off;
    CHECK_INT(audit_header_parse("hello world", 11, &h, &off), -ERR_NOT_AUDIT);
    CHECK_INT(audit_header_parse("type=SYSCALL msg=audit(12:3): a=1", 33, &h, &off),
              -ERR_BAD_STAMP);
    CHECK_INT(off, 23);
    CHECK_INT(audit_header_parse("type= msg=audit(1.2:3): ", 24, &h, &off), -ERR_BAD_TYPE);
    CHECK_INT(audit_header_parse("node=x", 6, &h, &off), -ERR_BAD_TYPE);
    CHECK_INT(audit_header_parse("type=X msg=audit(1.2:99999999999): ", 35, &h, &off),
              -ERR_BAD_STAMP);
    /* Unterminated quotes and braces are taken to the end, never past it. */
    const char *l = "type=X msg=audit(1.2:3): a=\"open b='x c={ d";
    CHECK_INT(parse(l, &h), 0);
    int n = audit_fields_parse(l, strlen(l), &h, fields, 256);
    CHECK_INT(n, 1);
    /* Too many fields: reported, the first ones kept. */
    CHECK_INT(parse("type=X msg=audit(1.2:3): a=1 b=2 c=3", &h), 0);
    CHECK_INT(audit_fields_parse("type=X msg=audit(1.2:3): a=1 b=2 c=3", 36, &h, fields, 2),
              -ERR_TOO_MANY_FIELDS);
}

/* Stamp numbers of every length, with the line long enough for the 16-byte
 * test and too short for it (the byte loop): the same values either way. */
static void test_stamp_numbers(void)
{
    const char digits[] = "98765432109876543210";
    for (int k = 1; k <= 19; k++) {
        for (int pad = 0; pad < 2; pad++) {
            char line[160];
            int len = snprintf(line, sizeof(line), "type=X msg=audit(%.*s.%.*s:%.*s):%s", k, digits,
                               k < 3 ? k : 3, digits + 5, k < 10 ? k : 10, digits + 8,
                               pad ? " a=1 b=22 c=333 d=4444" : "");
            struct audit_header h;
            size_t off;
            int r = audit_header_parse(line, (size_t)len, &h, &off);
            /* Over 18 digits of seconds, or a serial above 2^32 - 1: rejected. */
            long long serial = 0;
            for (int i = 0; i < (k < 10 ? k : 10); i++)
                serial = serial * 10 + (digits[8 + i] - '0');
            if (k > 18 || serial > 4294967295LL) {
                CHECK_INT(r, -ERR_BAD_STAMP);
                continue;
            }
            CHECK_INT(r, 0);
            long long sec = 0, msec = 0;
            for (int i = 0; i < k; i++)
                sec = sec * 10 + (digits[i] - '0');
            for (int i = 0; i < (k < 3 ? k : 3); i++)
                msec = msec * 10 + (digits[5 + i] - '0');
            CHECK_INT(h.sec, sec);
            CHECK_INT(h.msec, msec);
            CHECK_INT(h.serial, serial);
        }
    }
    struct audit_header h;
    CHECK_INT(parse("type=X msg=audit(1.2:4294967295): a=1 b=2 c=3 d=4", &h), 0);
    CHECK_INT(h.serial, 4294967295u);
    CHECK_INT(parse("type=X msg=audit(1.2:4294967296): a=1 b=2 c=3 d=4", &h), -ERR_BAD_STAMP);
    CHECK_INT(parse("type=X msg=audit(1.2345:6): a=1 b=2 c=3 d=4", &h), -ERR_BAD_STAMP);
}

/* audit_header_parse_gs, told where the first 0x1d is, gives what
 * audit_header_parse finds itself, also when a 0x1d sits in the header. */
static void test_header_gs(void)
{
    const char *lines[] = {
        "type=SYSCALL msg=audit(1.2:3): a=1 b=2\x1d"
        "AUID=\"root\"",
        "type=SYSCALL msg=audit(1.2:3): a=1 b=2",
        "node=a\x1d"
        "b type=SYSCALL msg=audit(1.2:3): a=1\x1d"
        "UID=\"x\"",
        "node=a\x1d"
        "b type=SYSCALL msg=audit(1.2:3): a=1",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const char *l = lines[i];
        size_t len = strlen(l), off1, off2;
        const char *gs = memchr(l, 0x1d, len);
        struct audit_header a, b;
        CHECK_INT(audit_header_parse(l, len, &a, &off1), 0);
        CHECK_INT(audit_header_parse_gs(l, len, gs ? (size_t)(gs - l) : len, &b, &off2), 0);
        CHECK_INT(a.enriched_off, b.enriched_off);
        CHECK_INT(a.body_off, b.body_off);
        CHECK_INT(a.node_len, b.node_len);
    }
    struct audit_header h;
    size_t off;
    CHECK_INT(audit_header_parse_gs(lines[0], strlen(lines[0]), strlen(lines[0]), &h, &off), 0);
    CHECK_INT(h.enriched_off, strlen(lines[0])); /* told none: none */
    CHECK_INT(audit_header_parse_gs(lines[1], strlen(lines[1]), 9999, &h, &off), 0);
    CHECK_INT(h.enriched_off, strlen(lines[1])); /* past the end: clamped */
}

int main(void)
{
    test_plain_header();
    test_node_unknown_and_numeric_types();
    test_user_msg_and_enriched();
    test_old_pam_and_avc();
    test_bad_lines();
    test_stamp_numbers();
    test_header_gs();
    return check_status();
}
