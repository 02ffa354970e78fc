/*
 * Fuzz target: the syslog message parser. Checks invariants, not only
 * crashes: the result is len or a named error with an offset inside the
 * message; every field lies inside the message, in header order, before
 * MSG; numbers are in range; RFC 5424 header fields are printable ASCII
 * within their bounds; a final LF changes nothing; and an RFC 5424 message
 * rebuilt from its parsed parts parses to the same parts.
 */
#include "base/err.h"
#include "wire/syslog_msg.h"

#include "require.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in(uint32_t off, uint32_t len, size_t size)
{
    return (size_t)off + len <= size;
}

static void check_printable(const char *p, uint32_t off, uint32_t len, uint32_t max)
{
    REQUIRE(len <= max);
    for (uint32_t k = 0; k < len; k++)
        REQUIRE(p[off + k] > ' ' && p[off + k] < 127);
}

static void check_time(const struct syslog_msg *m)
{
    if (!(m->flags & SYSLOG_MSG_HAS_TIME)) {
        REQUIRE(m->time_len == 0 && m->year == 0 && m->month == 0 && m->nanosecond == 0);
        REQUIRE(!(m->flags & (SYSLOG_MSG_HAS_YEAR | SYSLOG_MSG_HAS_TZ | SYSLOG_MSG_HAS_FRAC)));
        return;
    }
    REQUIRE(m->time_len > 0);
    REQUIRE(m->month >= 1 && m->month <= 12 && m->day >= 1 && m->day <= 31);
    REQUIRE(m->hour <= 23 && m->minute <= 59 && m->second <= 60);
    REQUIRE(m->nanosecond < 1000000000u && m->frac_digits <= 9);
    REQUIRE((m->frac_digits > 0) == !!(m->flags & SYSLOG_MSG_HAS_FRAC));
    REQUIRE(m->tz_minutes >= -1439 && m->tz_minutes <= 1439);
    REQUIRE((m->flags & SYSLOG_MSG_HAS_TZ) || m->tz_minutes == 0);
    REQUIRE((m->flags & SYSLOG_MSG_HAS_YEAR) || m->year == 0);
}

static void check_fields(const char *p, size_t size, const struct syslog_msg *m)
{
    REQUIRE(m->facility <= 23 && m->severity <= 7);
    REQUIRE(in(m->time_off, m->time_len, size) && in(m->host_off, m->host_len, size));
    REQUIRE(in(m->app_off, m->app_len, size) && in(m->procid_off, m->procid_len, size));
    REQUIRE(in(m->msgid_off, m->msgid_len, size) && in(m->sd_off, m->sd_len, size));
    REQUIRE(in(m->tag_off, m->tag_len, size) && in(m->msg_off, m->msg_len, size));
    REQUIRE(!!(m->flags & SYSLOG_MSG_HAS_HOST) == (m->host_len > 0));
    REQUIRE(!(m->flags & SYSLOG_MSG_NO_PRI) || size == 0 || p[0] != '<');
    /* header fields come in order, all before MSG */
    uint32_t end = 0;
    const uint32_t offs[] = {m->time_off,   m->host_off,  m->app_off,
                             m->procid_off, m->msgid_off, m->sd_off};
    const uint32_t lens[] = {m->time_len,   m->host_len,  m->app_len,
                             m->procid_len, m->msgid_len, m->sd_len};
    for (int k = 0; k < 6; k++) {
        if (lens[k] == 0 || (k == 3 && !(m->flags & SYSLOG_MSG_RFC5424)))
            continue;
        REQUIRE(offs[k] >= end);
        end = offs[k] + lens[k];
    }
    REQUIRE(m->msg_off >= end && m->msg_off >= m->tag_off + m->tag_len);
    if (m->flags & SYSLOG_MSG_BOM)
        REQUIRE(m->msg_off >= 3 && memcmp(p + m->msg_off - 3, "\xEF\xBB\xBF", 3) == 0);
    check_time(m);
}

static void check_5424(const char *p, const struct syslog_msg *m)
{
    check_printable(p, m->host_off, m->host_len, SYSLOG_HOSTNAME_MAX);
    check_printable(p, m->app_off, m->app_len, SYSLOG_APPNAME_MAX);
    check_printable(p, m->procid_off, m->procid_len, SYSLOG_PROCID_MAX);
    check_printable(p, m->msgid_off, m->msgid_len, SYSLOG_MSGID_MAX);
    REQUIRE(m->tag_len == 0);
    if (m->sd_len)
        REQUIRE(p[m->sd_off] == '[' && p[m->sd_off + m->sd_len - 1] == ']');
}

static void check_3164(const char *p, const struct syslog_msg *m)
{
    REQUIRE(m->msgid_len == 0 && m->sd_len == 0 && m->tag_len <= SYSLOG_TAG_MAX);
    for (uint32_t k = 0; k < m->tag_len; k++)
        REQUIRE((unsigned char)p[m->tag_off + k] > ' ' && p[m->tag_off + k] != ':');
    REQUIRE(m->app_off == m->tag_off && m->app_len <= m->tag_len);
    if (m->procid_len)
        REQUIRE(m->procid_off > m->app_off &&
                m->procid_off + m->procid_len < m->tag_off + m->tag_len);
}

static size_t put(char *b, size_t n, const char *p, uint32_t off, uint32_t len, bool nil)
{
    if (len == 0 && nil) {
        b[n++] = '-';
    } else {
        memcpy(b + n, p + off, len);
        n += len;
    }
    return n;
}

#define SAME(a, b, f)                                                                              \
    REQUIRE((a)->f##_len == (b)->f##_len &&                                                        \
            memcmp(pa + (a)->f##_off, pb + (b)->f##_off, (a)->f##_len) == 0)

static void check_round_trip_5424(const char *pa, const struct syslog_msg *a)
{
    static char pb[SYSLOG_MSG_MAX + 64];
    size_t n = (size_t)snprintf(pb, 16, "<%u>1 ", a->facility * 8u + a->severity);
    n = put(pb, n, pa, a->time_off, a->time_len, true);
    pb[n++] = ' ';
    n = put(pb, n, pa, a->host_off, a->host_len, true);
    pb[n++] = ' ';
    n = put(pb, n, pa, a->app_off, a->app_len, true);
    pb[n++] = ' ';
    n = put(pb, n, pa, a->procid_off, a->procid_len, true);
    pb[n++] = ' ';
    n = put(pb, n, pa, a->msgid_off, a->msgid_len, true);
    pb[n++] = ' ';
    n = put(pb, n, pa, a->sd_off, a->sd_len, true);
    pb[n++] = ' ';
    if (a->flags & SYSLOG_MSG_BOM)
        n = put(pb, n, "\xEF\xBB\xBF", 0, 3, false);
    n = put(pb, n, pa, a->msg_off, a->msg_len, false);
    if (a->msg_len > 0 && pa[a->msg_off + a->msg_len - 1] == '\n')
        pb[n++] = '\n'; /* MSG kept an LF: only the last one is dropped */
    if (n > SYSLOG_MSG_MAX)
        return;
    struct syslog_msg b;
    size_t off;
    REQUIRE(syslog_msg_parse(pb, n, &b, &off) == (int)n);
    REQUIRE(a->flags == b.flags && a->facility == b.facility && a->severity == b.severity);
    REQUIRE(a->year == b.year && a->month == b.month && a->day == b.day);
    REQUIRE(a->nanosecond == b.nanosecond && a->tz_minutes == b.tz_minutes);
    SAME(a, &b, time);
    SAME(a, &b, host);
    SAME(a, &b, app);
    SAME(a, &b, procid);
    SAME(a, &b, msgid);
    SAME(a, &b, sd);
    SAME(a, &b, msg);
}

/* The same message with an LF appended parses the same. */
static void check_final_lf(const uint8_t *data, size_t size, const struct syslog_msg *a, int r)
{
    if (size == 0 || size >= SYSLOG_MSG_MAX || data[size - 1] == '\n' || data[size - 1] == '\r')
        return;
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\n';
    struct syslog_msg b;
    size_t off;
    int r2 = syslog_msg_parse(copy, size + 1, &b, &off);
    REQUIRE(r < 0 ? r2 == r : r2 == (int)size + 1);
    if (r >= 0)
        REQUIRE(memcmp(a, &b, sizeof(b)) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct syslog_msg m;
    size_t err_off = (size_t)-1;
    int r = syslog_msg_parse(p, size, &m, &err_off);
    check_final_lf(data, size, &m, r);
    if (r < 0) {
        REQUIRE(r == -ERR_SYSLOG_BAD_PRI || r == -ERR_SYSLOG_BAD_TIME ||
                r == -ERR_SYSLOG_BAD_HEADER || r == -ERR_SYSLOG_BAD_SD || r == -ERR_LINE_TOO_LONG);
        REQUIRE(err_off <= size || (r == -ERR_LINE_TOO_LONG && err_off == SYSLOG_MSG_MAX));
        REQUIRE(r != -ERR_LINE_TOO_LONG || size > SYSLOG_MSG_MAX);
        return 0;
    }
    REQUIRE(r == (int)size);
    check_fields(p, size, &m);
    if (m.flags & SYSLOG_MSG_RFC5424) {
        check_5424(p, &m);
        check_round_trip_5424(p, &m);
    } else {
        check_3164(p, &m);
    }
    return 0;
}
