/* Unit tests of the syslog message parser. The "real" vectors are bytes
 * captured from the programs named (util-linux logger 2.38.1, rsyslog 8.2302
 * omfwd templates, syslog-ng 3.38 loggen) sending to a socket on this
 * machine; the rest are RFC examples, edge cases and damaged messages. */
#include "base/err.h"
#include "check.h"
#include "wire/syslog_msg.h"

static const char *cur; /* the message last parsed, for FIELD() */

#define FIELD(m, name, want) CHECK_MEM(cur + (m).name##_off, (m).name##_len, want)

static int parse_n(const char *s, size_t n, struct syslog_msg *m, size_t *err_off)
{
    cur = s;
    return syslog_msg_parse(s, n, m, err_off);
}

static int parse(const char *s, struct syslog_msg *m)
{
    size_t off;
    int r = parse_n(s, strlen(s), m, &off);
    if (r >= 0)
        CHECK_INT(r, strlen(s));
    return r;
}

/* Expects an error `code` at offset `at`. */
static void bad(const char *s, int code, size_t at)
{
    struct syslog_msg m;
    size_t off = 9999;
    int r = parse_n(s, strlen(s), &m, &off);
    if (r != code || off != at)
        fprintf(stderr, "  input: \"%s\"\n", s);
    CHECK_INT(r, code);
    CHECK_INT(off, at);
}

static void test_logger_rfc3164(void)
{
    struct syslog_msg m;
    /* logger --rfc3164 -d -n 127.0.0.1 -P PORT -t myprog -i 'hello 3164 udp' */
    CHECK_INT(parse("<13>Nov 22 22:49:19 vm myprog[2510]: hello 3164 udp", &m), 51);
    CHECK_INT(m.facility, 1);
    CHECK_INT(m.severity, 5);
    CHECK_INT(m.flags, SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_HOST | SYSLOG_MSG_TAG_COLON);
    CHECK_INT(m.month, 11);
    CHECK_INT(m.day, 22);
    CHECK_INT(m.hour, 22);
    CHECK_INT(m.minute, 49);
    CHECK_INT(m.second, 19);
    CHECK_INT(m.year, 0);
    FIELD(m, time, "Nov 22 22:49:19");
    FIELD(m, host, "vm");
    FIELD(m, tag, "myprog[2510]");
    FIELD(m, app, "myprog");
    FIELD(m, procid, "2510");
    FIELD(m, msg, "hello 3164 udp");
    /* logger --rfc3164 -T -p local3.err (TCP, LF-framed: the LF is not MSG) */
    parse("<155>Nov 22 22:49:26 vm root: hello 3164 tcp\n", &m);
    CHECK_INT(m.facility, 19);
    CHECK_INT(m.severity, 3);
    FIELD(m, app, "root");
    CHECK_INT(m.procid_len, 0);
    FIELD(m, msg, "hello 3164 tcp");
}

static void test_logger_local_socket_no_hostname(void)
{
    struct syslog_msg m;
    /* logger -u SOCKET 'local socket default': no hostname at all */
    parse("<13>Nov 22 22:49:26 root: local socket default", &m);
    CHECK(!(m.flags & SYSLOG_MSG_HAS_HOST));
    CHECK_INT(m.host_len, 0);
    FIELD(m, tag, "root");
    FIELD(m, msg, "local socket default");
    /* logger -u SOCKET --rfc3164 -i: with hostname */
    parse("<13>Nov 22 22:49:26 vm root[2698]: local socket 3164", &m);
    FIELD(m, host, "vm");
    FIELD(m, app, "root");
    FIELD(m, procid, "2698");
    /* a tag with a pid and no hostname */
    parse("<13>Nov 22 22:49:26 sshd[42]: x", &m);
    CHECK_INT(m.host_len, 0);
    FIELD(m, app, "sshd");
    FIELD(m, procid, "42");
}

static void test_logger_rfc5424(void)
{
    struct syslog_msg m;
    /* logger --rfc5424 -d -t myprog 'hello 5424 udp' */
    const char *s = "<13>1 2026-11-22T22:49:19.820488+00:00 vm myprog - - [timeQuality "
                    "tzKnown=\"1\" isSynced=\"0\"] hello 5424 udp";
    parse(s, &m);
    CHECK_INT(m.flags, SYSLOG_MSG_RFC5424 | SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_YEAR |
                           SYSLOG_MSG_HAS_TZ | SYSLOG_MSG_HAS_FRAC | SYSLOG_MSG_HAS_HOST);
    CHECK_INT(m.year, 2026);
    CHECK_INT(m.month, 11);
    CHECK_INT(m.day, 22);
    CHECK_INT(m.nanosecond, 820488000);
    CHECK_INT(m.frac_digits, 6);
    CHECK_INT(m.tz_minutes, 0);
    FIELD(m, time, "2026-11-22T22:49:19.820488+00:00");
    FIELD(m, host, "vm");
    FIELD(m, app, "myprog");
    CHECK_INT(m.procid_len, 0);
    CHECK_INT(m.msgid_len, 0);
    FIELD(m, sd, "[timeQuality tzKnown=\"1\" isSynced=\"0\"]");
    FIELD(m, msg, "hello 5424 udp");
    /* logger --rfc5424 --octet-count --msgid ID47 --sd-id ... (frame body) */
    s = "<38>1 2026-11-22T22:49:26.488161+00:00 vm root - ID47 [timeQuality tzKnown=\"1\" "
        "isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"li\\]c\\\\\"] hello "
        "5424 tcp";
    parse(s, &m);
    CHECK_INT(m.facility, 4);
    CHECK_INT(m.severity, 6);
    FIELD(m, msgid, "ID47");
    FIELD(m, sd,
          "[timeQuality tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" "
          "eventSource=\"App\\\"li\\]c\\\\\"]");
    FIELD(m, msg, "hello 5424 tcp");
    /* logger --rfc5424=notq,notime,nohost: every optional field nil */
    parse("<13>1 - - root - - - bare 5424", &m);
    CHECK_INT(m.flags, SYSLOG_MSG_RFC5424);
    CHECK_INT(m.time_len + m.host_len + m.sd_len + m.year, 0);
    FIELD(m, app, "root");
    FIELD(m, msg, "bare 5424");
}

static void test_rsyslog_templates(void)
{
    struct syslog_msg m;
    /* omfwd template RSYSLOG_ForwardFormat, from a 3164 and a 5424 input */
    parse("<13>2026-11-22T22:52:41+00:00 vm sshd[7545]: Accepted publickey for alice\n", &m);
    CHECK_INT(m.flags, SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_YEAR | SYSLOG_MSG_HAS_TZ |
                           SYSLOG_MSG_HAS_HOST | SYSLOG_MSG_TAG_COLON);
    CHECK_INT(m.year, 2026);
    CHECK_INT(m.second, 41);
    FIELD(m, host, "vm");
    FIELD(m, app, "sshd");
    FIELD(m, procid, "7545");
    FIELD(m, msg, "Accepted publickey for alice");
    parse("<13>2026-11-22T22:52:41.218210+00:00 vm app hello 5424", &m);
    CHECK_INT(m.nanosecond, 218210000);
    FIELD(m, app, "app");
    CHECK(!(m.flags & SYSLOG_MSG_TAG_COLON));
    FIELD(m, msg, "hello 5424");
    /* RSYSLOG_SyslogProtocol23Format: MSG of a 3164 input keeps its leading SP */
    parse("<13>1 2026-11-22T22:52:45+00:00 vm sshd 7565 - -  Accepted publickey for alice\n", &m);
    FIELD(m, app, "sshd");
    FIELD(m, procid, "7565");
    CHECK_INT(m.sd_len, 0);
    FIELD(m, msg, " Accepted publickey for alice");
    parse("<13>1 2026-11-22T22:52:45.763842+00:00 vm app - M1 [timeQuality tzKnown=\"1\" "
          "isSynced=\"0\"][x@1 k=\"v\"] hello 5424",
          &m);
    FIELD(m, msgid, "M1");
    FIELD(m, sd, "[timeQuality tzKnown=\"1\" isSynced=\"0\"][x@1 k=\"v\"]");
}

static void test_loggen(void)
{
    struct syslog_msg m;
    /* loggen -P (one octet-counted frame's body, padding shortened) */
    parse("<38>1 2026-11-22T22:55:08+00:00 localhost prg00000 1234 - - \xEF\xBB\xBF"
          "seq: 0000000000, thread: 0000, runid: 1795388108, stamp: 2026-11-22T22:55:08 PADD\n",
          &m);
    CHECK(m.flags & SYSLOG_MSG_BOM);
    FIELD(m, host, "localhost");
    FIELD(m, app, "prg00000");
    FIELD(m, procid, "1234");
    FIELD(m, msg,
          "seq: 0000000000, thread: 0000, runid: 1795388108, stamp: 2026-11-22T22:55:08 PADD");
    /* loggen default: RFC 3339 time stamp without a zone */
    parse("<38>2026-11-22T22:52:59 localhost prg00000[1234]: seq: 0000000000", &m);
    CHECK_INT(m.flags, SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_YEAR | SYSLOG_MSG_HAS_HOST |
                           SYSLOG_MSG_TAG_COLON);
    FIELD(m, time, "2026-11-22T22:52:59");
    FIELD(m, app, "prg00000");
}

static void test_rfc_examples(void)
{
    struct syslog_msg m;
    parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
          "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
          &m);
    CHECK_INT(m.facility, 4);
    CHECK_INT(m.severity, 2);
    CHECK_INT(m.nanosecond, 3000000);
    CHECK_INT(m.frac_digits, 3);
    CHECK(m.flags & SYSLOG_MSG_BOM);
    FIELD(m, msg, "'su root' failed for lonvick on /dev/pts/8");
    parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time", &m);
    CHECK_INT(m.facility, 20);
    CHECK_INT(m.tz_minutes, -420);
    CHECK_INT(m.nanosecond, 3000);
    FIELD(m, host, "192.0.2.1");
    FIELD(m, procid, "8710");
    CHECK(!(m.flags & SYSLOG_MSG_BOM));
    /* structured data and no MSG at all */
    parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
          "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
          "[examplePriority@32473 class=\"high\"]",
          &m);
    FIELD(m, sd,
          "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
          "[examplePriority@32473 class=\"high\"]");
    CHECK_INT(m.msg_len, 0);
    CHECK_INT(m.msg_off, strlen(cur));
    /* RFC 3164 section 5.4 */
    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", &m);
    FIELD(m, host, "mymachine");
    FIELD(m, app, "su");
    FIELD(m, msg, "'su root' failed for lonvick on /dev/pts/8");
}

static void test_3164_variants(void)
{
    struct syslog_msg m;
    /* no PRI (a line of a syslog file): the RFC 3164 default, flagged */
    parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure;", &m);
    CHECK(m.flags & SYSLOG_MSG_NO_PRI);
    CHECK_INT(m.facility, 1);
    CHECK_INT(m.severity, 5);
    FIELD(m, host, "combo");
    FIELD(m, app, "sshd(pam_unix)");
    FIELD(m, procid, "19939");
    /* Cisco: year after the day; day space-padded; tag with '%' */
    parse("<189>Jan  5 2024 10:00:00 router1 %SYS-5-CONFIG_I: Configured", &m);
    CHECK(m.flags & SYSLOG_MSG_HAS_YEAR);
    CHECK_INT(m.year, 2024);
    CHECK_INT(m.day, 5);
    FIELD(m, host, "router1");
    FIELD(m, tag, "%SYS-5-CONFIG_I");
    /* single-digit day, lower-case month, a stray SP before the stamp */
    parse("<13> jan 5 10:00:00 h p: x", &m);
    CHECK(m.flags & SYSLOG_MSG_HAS_TIME);
    CHECK_INT(m.month, 1);
    FIELD(m, time, "jan 5 10:00:00");
    FIELD(m, host, "h");
    /* IP hosts */
    parse("<13>Jan  5 10:00:00 fe80::1 prog: x", &m);
    FIELD(m, host, "fe80::1");
    FIELD(m, app, "prog");
    parse("<13>Jan  5 10:00:00 [::1] prog: x", &m);
    FIELD(m, host, "[::1]");
    /* not hostnames: ends in '-', or one ':' */
    parse("<13>Jan  5 10:00:00 host- prog: x", &m);
    CHECK_INT(m.host_len, 0);
    FIELD(m, tag, "host-");
    /* no time stamp: no hostname either (rsyslog), the first word is TAG */
    parse("<13>myhost sshd: x", &m);
    CHECK_INT(m.flags & (SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_HOST), 0);
    FIELD(m, tag, "myhost");
    FIELD(m, msg, "sshd: x");
    /* an impossible date is not a time stamp: all of it is content */
    parse("<13>Feb 30 10:00:00 h p: x", &m);
    CHECK(!(m.flags & SYSLOG_MSG_HAS_TIME));
    FIELD(m, tag, "Feb");
    FIELD(m, msg, "30 10:00:00 h p: x");
    parse("<13>Feb 29 10:00:00 h p: x", &m); /* possible in a leap year */
    CHECK(m.flags & SYSLOG_MSG_HAS_TIME);
    /* time stamp, hostname, then nothing */
    parse("<13>Jan  5 10:00:00 h", &m);
    FIELD(m, host, "h");
    CHECK_INT(m.tag_len + m.msg_len, 0);
    /* CR LF ends the message; a lone CR stays */
    parse("<13>Jan  5 10:00:00 h p: x\r\n", &m);
    FIELD(m, msg, "x");
    parse("<13>Jan  5 10:00:00 h p: x\r", &m);
    FIELD(m, msg, "x\r");
    /* RFC 3339 with a zone in 3164 form, other offsets */
    parse("<13>2024-02-29T23:59:60.5+05:30 h p: x", &m);
    CHECK_INT(m.tz_minutes, 330);
    CHECK_INT(m.nanosecond, 500000000);
    CHECK_INT(m.second, 60);
}

static void test_garbage_and_control_bytes(void)
{
    struct syslog_msg m;
    parse("hello world", &m);
    CHECK(m.flags & SYSLOG_MSG_NO_PRI);
    FIELD(m, tag, "hello");
    FIELD(m, msg, "world");
    CHECK_INT(parse("", &m), 0);
    CHECK_INT(m.msg_len, 0);
    /* a control byte ends TAG; NUL inside MSG is kept (lengths, not strings) */
    parse("<13>Jan  5 10:00:00 h pro\x01g: x", &m);
    FIELD(m, tag, "pro");
    FIELD(m, msg, "\x01g: x");
    static const char nul[] = "<13>Jan  5 10:00:00 h p: a\0b";
    size_t off;
    CHECK_INT(parse_n(nul, sizeof(nul) - 1, &m, &off), sizeof(nul) - 1);
    CHECK_INT(m.msg_len, 3);
    CHECK(memcmp(nul + m.msg_off, "a\0b", 3) == 0);
    /* "1 " without PRI is not RFC 5424 */
    parse("1 2003-10-11T22:14:15Z h a p m - x", &m);
    CHECK(!(m.flags & SYSLOG_MSG_RFC5424));
    /* a TAG is cut at SYSLOG_TAG_MAX */
    static char longtag[SYSLOG_TAG_MAX + 20];
    memset(longtag, 'a', sizeof(longtag) - 1);
    parse(longtag, &m);
    CHECK_INT(m.tag_len, SYSLOG_TAG_MAX);
    CHECK_INT(m.msg_off, SYSLOG_TAG_MAX);
}

static void test_errors(void)
{
    bad("<192>Jan  5 10:00:00 h p: x", -ERR_SYSLOG_BAD_PRI, 4);
    bad("<1a>x", -ERR_SYSLOG_BAD_PRI, 2);
    bad("<>x", -ERR_SYSLOG_BAD_PRI, 1);
    bad("<1234>x", -ERR_SYSLOG_BAD_PRI, 4);
    bad("<13", -ERR_SYSLOG_BAD_PRI, 3);
    bad("<", -ERR_SYSLOG_BAD_PRI, 1);
    /* RFC 5424 time stamps: range, leap years, zone required, fraction bound */
    bad("<13>1 2003-13-11T22:14:15Z h a p m - x", -ERR_SYSLOG_BAD_TIME, 11);
    bad("<13>1 2023-02-29T22:14:15Z h a p m - x", -ERR_SYSLOG_BAD_TIME, 14);
    bad("<13>1 2003-10-11T22:14:15 h a p m - x", -ERR_SYSLOG_BAD_TIME, 25);
    bad("<13>1 2003-10-11T24:14:15Z h a p m - x", -ERR_SYSLOG_BAD_TIME, 17);
    bad("<13>1 2003-10-11T22:14:15.1234567890Z h a p m - x", -ERR_SYSLOG_BAD_TIME, 25);
    bad("<13>1 2003-10-11T22:14:15+24:00 h a p m - x", -ERR_SYSLOG_BAD_TIME, 31);
    bad("<13>1 Oct 11 22:14:15 h a p m - x", -ERR_SYSLOG_BAD_TIME, 6);
    bad("<13>1 -- h a p m - x", -ERR_SYSLOG_BAD_TIME, 7);
    /* header fields: missing, too long, not printable */
    bad("<13>1 - h a p m", -ERR_SYSLOG_BAD_HEADER, 15);
    bad("<13>1 - h", -ERR_SYSLOG_BAD_HEADER, 9);
    bad("<13>1 - h  p m - x", -ERR_SYSLOG_BAD_HEADER, 10);
    bad("<13>1 - h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa p m - x",
        -ERR_SYSLOG_BAD_HEADER, 58);
    bad("<13>1 - h\x01 a p m - x", -ERR_SYSLOG_BAD_HEADER, 9);
    /* structured data */
    bad("<13>1 - h a p m", -ERR_SYSLOG_BAD_HEADER, 15);
    bad("<13>1 - h a p m ", -ERR_SYSLOG_BAD_SD, 16);
    bad("<13>1 - h a p m x", -ERR_SYSLOG_BAD_SD, 16);
    bad("<13>1 - h a p m [a b=\"c", -ERR_SYSLOG_BAD_SD, 23);
    bad("<13>1 - h a p m [a b=c]", -ERR_SYSLOG_BAD_SD, 21);
    bad("<13>1 - h a p m []", -ERR_SYSLOG_BAD_SD, 17);
    bad("<13>1 - h a p m [a]x", -ERR_SYSLOG_BAD_SD, 19);
    bad("<13>1 - h a p m -x", -ERR_SYSLOG_BAD_SD, 17);
    bad("<13>1 - h a p m [a b=\"\\\"]", -ERR_SYSLOG_BAD_SD, 25);
    bad("<13>1 - h a p m [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]", -ERR_SYSLOG_BAD_SD, 49);
    bad("<13>1 - h a p m [a b=\"c\"", -ERR_SYSLOG_BAD_SD, 24);
    static char big[SYSLOG_MSG_MAX + 1];
    struct syslog_msg m;
    size_t off;
    CHECK_INT(parse_n(big, sizeof(big), &m, &off), -ERR_LINE_TOO_LONG);
    CHECK_INT(off, SYSLOG_MSG_MAX);
    CHECK(strcmp(err_str(-ERR_SYSLOG_BAD_SD), "malformed syslog structured data") == 0);
}

static void test_sd_accepted_forms(void)
{
    struct syslog_msg m;
    /* no params; escaped quote, backslash and ']'; a raw ']' in a value */
    parse("<13>1 - h a p m [a][b@1 x=\"\\\"\\\\\\]\" y=\"]\"] msg", &m);
    FIELD(m, sd, "[a][b@1 x=\"\\\"\\\\\\]\" y=\"]\"]");
    FIELD(m, msg, "msg");
    /* SD then LF only */
    parse("<13>1 - h a p m [a]\n", &m);
    FIELD(m, sd, "[a]");
    CHECK_INT(m.msg_len, 0);
}

int main(void)
{
    test_logger_rfc3164();
    test_logger_local_socket_no_hostname();
    test_logger_rfc5424();
    test_rsyslog_templates();
    test_loggen();
    test_rfc_examples();
    test_3164_variants();
    test_garbage_and_control_bytes();
    test_errors();
    test_sd_accepted_forms();
    return check_status();
}
