/*
 * syslog_msg: parses one syslog message, RFC 5424 or RFC 3164, into offsets
 * and numbers. Pure: no allocation, no globals, no clock, never reads past
 * len. RFC 5424 is parsed strictly (a damaged header is an error); RFC 3164
 * is parsed the lenient way rsyslog's pmrfc3164 does, since it has no real
 * grammar: whatever follows PRI is accepted, only split as well as it can.
 * It does not validate UTF-8, complete a year or zone, unescape SD values,
 * or decide which host a message is filed under: callers do.
 * Data flow: listener -> syslog_frame (TCP/TLS) -> syslog_msg_parse -> store.
 */
#include "wire/syslog_msg.h"

#include "base/err.h"

#include <stdbool.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The part of the message being parsed: [p, p + end), offsets from p. */
struct span {
    const char *p;
    size_t end;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_printusascii(char c)
{
    return c >= 33 && c <= 126;
}

/* The value of two digits at p, or a value above 99 if either is not one. */
static unsigned two_digits(const char *p)
{
    unsigned a = (unsigned char)p[0] - (unsigned)'0', b = (unsigned char)p[1] - (unsigned)'0';
    return a > 9 || b > 9 ? 1000 : a * 10 + b;
}

/* Reads exactly n digits at *i; advances *i. */
static bool fixed_digits(const struct span *s, size_t *i, int n, unsigned *v)
{
    if (s->end - *i < (size_t)n)
        return false;
    unsigned x = 0;
    for (int k = 0; k < n; k++) {
        char c = s->p[*i + (size_t)k];
        if (!is_digit(c))
            return false;
        x = x * 10 + (unsigned)(c - '0');
    }
    *i += (size_t)n;
    *v = x;
    return true;
}

static bool expect(const struct span *s, size_t *i, char c)
{
    if (*i >= s->end || s->p[*i] != c)
        return false;
    (*i)++;
    return true;
}

static unsigned days_in_month(unsigned year, unsigned month, bool year_known)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month != 2)
        return days[month - 1];
    bool leap = !year_known || (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));
    return leap ? 29 : 28;
}

static bool set_time_of_day(struct syslog_msg *m, unsigned h, unsigned mi, unsigned sec)
{
    if (h > 23 || mi > 59 || sec > 60)
        return false;
    m->hour = (uint8_t)h;
    m->minute = (uint8_t)mi;
    m->second = (uint8_t)sec;
    return true;
}

/* ".123456": 1..9 digits, scaled to nanoseconds. */
static bool parse_fraction(const struct span *s, size_t *i, struct syslog_msg *m)
{
    if (*i >= s->end || s->p[*i] != '.')
        return true;
    size_t k = *i + 1;
    uint32_t ns = 0;
    int n = 0;
    while (k < s->end && is_digit(s->p[k])) {
        if (++n > 9)
            return false;
        ns = ns * 10 + (uint32_t)(s->p[k++] - '0');
    }
    if (n == 0)
        return false;
    for (int d = n; d < 9; d++)
        ns *= 10;
    m->nanosecond = ns;
    m->frac_digits = (uint8_t)n;
    m->flags |= SYSLOG_MSG_HAS_FRAC;
    *i = k;
    return true;
}

/* "Z" or "+hh:mm" / "-hh:mm"; absent is fine unless need_tz. */
static bool parse_zone(const struct span *s, size_t *i, struct syslog_msg *m, bool need_tz)
{
    if (*i < s->end && (s->p[*i] == 'Z' || s->p[*i] == 'z')) {
        (*i)++;
        m->flags |= SYSLOG_MSG_HAS_TZ;
        return true;
    }
    if (*i >= s->end || (s->p[*i] != '+' && s->p[*i] != '-'))
        return !need_tz;
    int sign = s->p[(*i)++] == '-' ? -1 : 1;
    unsigned h, mi;
    if (s->end - *i >= 5 && s->p[*i + 2] == ':' && (h = two_digits(s->p + *i)) <= 23 &&
        (mi = two_digits(s->p + *i + 3)) <= 59) { /* the usual "hh:mm" at once */
        *i += 5;
        m->tz_minutes = (int16_t)(sign * (int)(h * 60 + mi));
        m->flags |= SYSLOG_MSG_HAS_TZ;
        return true;
    }
    if (!fixed_digits(s, i, 2, &h) || !expect(s, i, ':') || !fixed_digits(s, i, 2, &mi) || h > 23 ||
        mi > 59)
        return false;
    m->tz_minutes = (int16_t)(sign * (int)(h * 60 + mi));
    m->flags |= SYSLOG_MSG_HAS_TZ;
    return true;
}

/*
 * The common case at once: "YYYY-MM-DDThh:mm:ss" whole, every field in
 * range. Anything else (too short, a field out of range, another byte)
 * answers false and the field-by-field parse below decides, as before.
 */
static bool rfc3339_fixed(const struct span *s, size_t i, unsigned v[6])
{
    if (s->end - i < 19)
        return false;
    const char *p = s->p + i;
    unsigned hi = two_digits(p), lo = two_digits(p + 2);
    v[1] = two_digits(p + 5);
    v[2] = two_digits(p + 8);
    v[3] = two_digits(p + 11);
    v[4] = two_digits(p + 14);
    v[5] = two_digits(p + 17);
    if (hi > 99 || lo > 99 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't') ||
        p[13] != ':' || p[16] != ':')
        return false;
    v[0] = hi * 100 + lo;
    return v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[2] <= days_in_month(v[0], v[1], true) &&
           v[3] <= 23 && v[4] <= 59 && v[5] <= 60;
}

/* RFC 3339: YYYY-MM-DDThh:mm:ss[.frac][zone]. Fills m only as far as valid;
 * the caller discards m's time fields on failure, when *i is where it
 * stopped (the start of a field out of range). */
static bool parse_rfc3339(const struct span *s, size_t *i, struct syslog_msg *m, bool need_tz)
{
    unsigned y, mo, d, h, mi, sec;
    unsigned v[6];
    if (rfc3339_fixed(s, *i, v)) {
        set_time_of_day(m, v[3], v[4], v[5]);
        *i += 19;
        if (!parse_fraction(s, i, m) || !parse_zone(s, i, m, need_tz))
            return false;
        m->year = (uint16_t)v[0];
        m->month = (uint8_t)v[1];
        m->day = (uint8_t)v[2];
        m->flags |= SYSLOG_MSG_HAS_YEAR;
        return true;
    }
    size_t at = *i;
    if (!fixed_digits(s, i, 4, &y) || !expect(s, i, '-'))
        return false;
    at = *i;
    if (!fixed_digits(s, i, 2, &mo) || mo < 1 || mo > 12 || !expect(s, i, '-'))
        goto bad;
    at = *i;
    if (!fixed_digits(s, i, 2, &d) || d < 1 || d > days_in_month(y, mo, true))
        goto bad;
    if (*i >= s->end || (s->p[*i] != 'T' && s->p[*i] != 't'))
        return false;
    (*i)++;
    at = *i;
    if (!fixed_digits(s, i, 2, &h) || !expect(s, i, ':') || !fixed_digits(s, i, 2, &mi) ||
        !expect(s, i, ':') || !fixed_digits(s, i, 2, &sec) || !set_time_of_day(m, h, mi, sec))
        goto bad;
    if (!parse_fraction(s, i, m) || !parse_zone(s, i, m, need_tz))
        return false;
    m->year = (uint16_t)y;
    m->month = (uint8_t)mo;
    m->day = (uint8_t)d;
    m->flags |= SYSLOG_MSG_HAS_YEAR;
    return true;
bad: /* *i at the start of the field that is out of range */
    *i = at;
    return false;
}

static unsigned month_from_name(const char *p)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char lower[3];
    for (int k = 0; k < 3; k++)
        lower[k] = (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
    for (unsigned mo = 0; mo < 12; mo++)
        if (memcmp(names + 3 * mo, lower, 3) == 0)
            return mo + 1;
    return 0;
}

/* RFC 3164: "Mmm dd hh:mm:ss", day also " d" or "d", optionally with a
 * year before the time as Cisco devices send ("Mmm dd yyyy hh:mm:ss"). */
static bool parse_bsd_time(const struct span *s, size_t *i, struct syslog_msg *m)
{
    unsigned mo, d, y = 0, h, mi, sec;
    if (s->end - *i < 3 || (mo = month_from_name(s->p + *i)) == 0)
        return false;
    *i += 3;
    if (!expect(s, i, ' '))
        return false;
    if (*i < s->end && s->p[*i] == ' ')
        (*i)++;
    if (!fixed_digits(s, i, 2, &d) && !fixed_digits(s, i, 1, &d))
        return false;
    if (!expect(s, i, ' '))
        return false;
    size_t k = *i;
    if (fixed_digits(s, &k, 4, &y) && expect(s, &k, ' ')) {
        *i = k;
        m->flags |= SYSLOG_MSG_HAS_YEAR;
    }
    if (!fixed_digits(s, i, 2, &h) || !expect(s, i, ':') || !fixed_digits(s, i, 2, &mi) ||
        !expect(s, i, ':') || !fixed_digits(s, i, 2, &sec))
        return false;
    bool year_known = (m->flags & SYSLOG_MSG_HAS_YEAR) != 0;
    if (d < 1 || d > days_in_month(y, mo, year_known) || !set_time_of_day(m, h, mi, sec))
        return false;
    m->year = (uint16_t)y;
    m->month = (uint8_t)mo;
    m->day = (uint8_t)d;
    return true;
}

static void clear_time(struct syslog_msg *m)
{
    m->year = 0;
    m->month = m->day = m->hour = m->minute = m->second = 0;
    m->frac_digits = 0;
    m->nanosecond = 0;
    m->tz_minutes = 0;
    m->flags &= (uint16_t) ~(SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_YEAR | SYSLOG_MSG_HAS_TZ |
                             SYSLOG_MSG_HAS_FRAC);
}

/* "<N>" with 1..3 digits, N <= 191 (leading zeros accepted, as rsyslog does).
 * No '<' at all: the RFC 3164 default, flagged. */
static int parse_pri(const struct span *s, size_t *i, struct syslog_msg *m)
{
    unsigned pri = 0;
    int n = 0;
    if (s->end == 0 || s->p[0] != '<') {
        pri = SYSLOG_DEFAULT_PRI;
        m->flags |= SYSLOG_MSG_NO_PRI;
    } else {
        *i = 1;
        while (*i < s->end && is_digit(s->p[*i]) && n < 3) {
            pri = pri * 10 + (unsigned)(s->p[(*i)++] - '0');
            n++;
        }
        if (n == 0 || pri > 191 || !expect(s, i, '>'))
            return -ERR_SYSLOG_BAD_PRI;
    }
    m->facility = (uint8_t)(pri >> 3);
    m->severity = (uint8_t)(pri & 7);
    return 0;
}

/* MSG from i to the end: a UTF-8 BOM is reported and skipped. */
static void set_msg(const struct span *s, size_t i, struct syslog_msg *m)
{
    if (s->end - i >= 3 && s->p[i] == '\xEF' && s->p[i + 1] == '\xBB' && s->p[i + 2] == '\xBF') {
        m->flags |= SYSLOG_MSG_BOM;
        i += 3;
    }
    m->msg_off = (uint32_t)i;
    m->msg_len = (uint32_t)(s->end - i);
}

/* ---- RFC 5424 ---------------------------------------------------------- */

/* Advances *i over at most max PRINTUSASCII bytes, 16 at a time while
 * that many are inside both the bound and the message. */
static void skip_printusascii(const struct span *s, size_t *i, size_t max)
{
    size_t lim = s->end - *i < max ? s->end : *i + max;
#ifdef __SSE2__
    const __m128i below = _mm_set1_epi8(33), above = _mm_set1_epi8(126);
    while (lim - *i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s->p + *i));
        /* signed compares: bytes 0x80..0xff are negative, below 33 */
        __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, below), _mm_cmpgt_epi8(v, above));
        unsigned mask = (unsigned)_mm_movemask_epi8(bad);
        if (mask) {
            *i += (size_t)__builtin_ctz(mask);
            return;
        }
        *i += 16;
    }
#endif
    while (*i < lim && is_printusascii(s->p[*i]))
        (*i)++;
}

/* One header field: 1..max PRINTUSASCII then SP; "-" is absent (length 0). */
static int header_field(const struct span *s, size_t *i, size_t max, uint32_t *off, uint32_t *len)
{
    size_t start = *i;
    skip_printusascii(s, i, max);
    size_t n = *i - start;
    if (n == 0 || !expect(s, i, ' '))
        return -ERR_SYSLOG_BAD_HEADER;
    bool nil = n == 1 && s->p[start] == '-';
    *off = (uint32_t)start;
    *len = nil ? 0 : (uint32_t)n;
    return 0;
}

static bool is_sd_name_char(char c)
{
    return is_printusascii(c) && c != '=' && c != ']' && c != '"';
}

static bool sd_name(const struct span *s, size_t *i)
{
    size_t start = *i;
    while (*i < s->end && is_sd_name_char(s->p[*i]) && *i - start < SYSLOG_SDNAME_MAX)
        (*i)++;
    return *i > start;
}

/* PARAM-VALUE after the opening quote, through the closing one. A backslash
 * always takes the next byte with it (\" \\ \] are the escapes; any other
 * pair stands for itself). An unescaped ']' is accepted. */
static bool sd_value(const struct span *s, size_t *i)
{
    while (*i < s->end) {
        char c = s->p[(*i)++];
        if (c == '"')
            return true;
        if (c == '\\' && *i < s->end)
            (*i)++;
    }
    return false;
}

/* One or more "[SD-ID *(SP PARAM-NAME="VALUE")]". */
static int parse_sd(const struct span *s, size_t *i, struct syslog_msg *m)
{
    size_t start = *i;
    while (*i < s->end && s->p[*i] == '[') {
        (*i)++;
        if (!sd_name(s, i))
            return -ERR_SYSLOG_BAD_SD;
        while (*i < s->end && s->p[*i] == ' ') {
            (*i)++;
            if (!sd_name(s, i) || !expect(s, i, '=') || !expect(s, i, '"') || !sd_value(s, i))
                return -ERR_SYSLOG_BAD_SD;
        }
        if (!expect(s, i, ']'))
            return -ERR_SYSLOG_BAD_SD;
    }
    if (*i == start)
        return -ERR_SYSLOG_BAD_SD;
    m->sd_off = (uint32_t)start;
    m->sd_len = (uint32_t)(*i - start);
    return 0;
}

static int parse_5424_time(const struct span *s, size_t *i, struct syslog_msg *m)
{
    size_t start = *i;
    if (*i < s->end && s->p[*i] == '-') {
        (*i)++;
    } else {
        if (!parse_rfc3339(s, i, m, true))
            return -ERR_SYSLOG_BAD_TIME;
        m->flags |= SYSLOG_MSG_HAS_TIME;
        m->time_off = (uint32_t)start;
        m->time_len = (uint32_t)(*i - start);
    }
    if (!expect(s, i, ' '))
        return -ERR_SYSLOG_BAD_TIME;
    return 0;
}

/* From VERSION ("1 ", checked by the caller) to MSG. */
static int parse_5424(const struct span *s, size_t *i, struct syslog_msg *m)
{
    int r;
    m->flags |= SYSLOG_MSG_RFC5424;
    *i += 2;
    if ((r = parse_5424_time(s, i, m)) < 0 ||
        (r = header_field(s, i, SYSLOG_HOSTNAME_MAX, &m->host_off, &m->host_len)) < 0 ||
        (r = header_field(s, i, SYSLOG_APPNAME_MAX, &m->app_off, &m->app_len)) < 0 ||
        (r = header_field(s, i, SYSLOG_PROCID_MAX, &m->procid_off, &m->procid_len)) < 0 ||
        (r = header_field(s, i, SYSLOG_MSGID_MAX, &m->msgid_off, &m->msgid_len)) < 0)
        return r;
    if (m->host_len)
        m->flags |= SYSLOG_MSG_HAS_HOST;
    if (*i < s->end && s->p[*i] == '-')
        (*i)++;
    else if ((r = parse_sd(s, i, m)) < 0)
        return r;
    if (*i < s->end && !expect(s, i, ' '))
        return -ERR_SYSLOG_BAD_SD;
    set_msg(s, *i, m);
    return 0;
}

/* ---- RFC 3164 ---------------------------------------------------------- */

/* A time stamp (RFC 3339 as rsyslog and syslog-ng templates send, or BSD)
 * at start, followed by SP or the end; *next is set past the SP. */
static bool time_at(const struct span *s, size_t start, size_t *next, struct syslog_msg *m)
{
    size_t k = start;
    bool ok = parse_rfc3339(s, &k, m, false);
    if (!ok) {
        clear_time(m);
        k = start;
        ok = parse_bsd_time(s, &k, m);
    }
    if (!ok || (k < s->end && s->p[k] != ' ')) {
        clear_time(m);
        return false;
    }
    m->flags |= SYSLOG_MSG_HAS_TIME;
    m->time_off = (uint32_t)start;
    m->time_len = (uint32_t)(k - start);
    *next = k < s->end ? k + 1 : k;
    return true;
}

/* One stray SP before the time stamp is accepted (as rsyslog, for HP). */
static bool parse_3164_time(const struct span *s, size_t *i, struct syslog_msg *m)
{
    if (time_at(s, *i, i, m))
        return true;
    return *i < s->end && s->p[*i] == ' ' && time_at(s, *i + 1, i, m);
}

static bool is_hex_digit(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * The hostname heuristic (rsyslog's): the first word is HOSTNAME only if it
 * is made of letters, digits, '.', '_', '-' and ends in a letter or digit,
 * or is bracketed ("[10.0.0.1]", "[::1]") or an unbracketed IPv6 address
 * (hex digits, '.', at least two ':', not ending in ':'), and is
 * followed by SP or the end. A word with any other byte (':' or '[' as in
 * "sshd[42]:" or "root:") is the TAG of a sender that wrote no hostname.
 * Returns the hostname's length, 0 if the word is not one.
 */
static size_t hostname_len(const struct span *s, size_t i)
{
    size_t n = 0, colons = 0;
    bool bracket = i < s->end && s->p[i] == '[', ip_only = true;
    if (bracket)
        n = 1;
    while (i + n < s->end && n <= SYSLOG_HOSTNAME_MAX) {
        char c = s->p[i + n];
        if (!(is_alnum(c) || c == '.' || c == '_' || c == '-' || c == ':'))
            break;
        colons += c == ':';
        ip_only &= is_hex_digit(c) || c == ':' || c == '.';
        n++;
    }
    if (bracket) {
        if (n < 2 || i + n >= s->end || s->p[i + n] != ']')
            return 0;
        n++;
    } else if (n == 0 || (colons == 0 && !is_alnum(s->p[i + n - 1])) ||
               (colons > 0 && (colons < 2 || !ip_only || s->p[i + n - 1] == ':'))) {
        return 0;
    }
    if (n > SYSLOG_HOSTNAME_MAX || (i + n < s->end && s->p[i + n] != ' '))
        return 0;
    return n;
}

/* "program[pid]" -> program and pid, when the TAG ends in "[digits...]". */
static void split_tag(const struct span *s, struct syslog_msg *m)
{
    m->app_off = m->tag_off;
    m->app_len = m->tag_len;
    if (m->tag_len < 3 || s->p[m->tag_off + m->tag_len - 1] != ']')
        return;
    const char *t = s->p + m->tag_off;
    const char *open = memchr(t, '[', m->tag_len - 1);
    if (!open || open == t || (size_t)(open - t) + 2 >= m->tag_len)
        return;
    m->app_len = (uint32_t)(open - t);
    m->procid_off = m->tag_off + m->app_len + 1;
    m->procid_len = m->tag_len - m->app_len - 2;
}

/* TAG: up to ':' (which ends it), SP, a control byte, or SYSLOG_TAG_MAX. */
static void parse_tag(const struct span *s, size_t *i, struct syslog_msg *m)
{
    size_t start = *i;
    while (*i < s->end && *i - start < SYSLOG_TAG_MAX) {
        unsigned char c = (unsigned char)s->p[*i];
        if (c == ':' || c <= ' ' || c == 0x7f)
            break;
        (*i)++;
    }
    m->tag_off = (uint32_t)start;
    m->tag_len = (uint32_t)(*i - start);
    if (*i < s->end && s->p[*i] == ':') {
        (*i)++;
        m->flags |= SYSLOG_MSG_TAG_COLON;
    }
    split_tag(s, m);
    if (*i < s->end && s->p[*i] == ' ')
        (*i)++;
}

static void parse_3164(const struct span *s, size_t *i, struct syslog_msg *m)
{
    /* As rsyslog: without a time stamp there is no hostname either. */
    if (parse_3164_time(s, i, m)) {
        size_t n = hostname_len(s, *i);
        if (n > 0) {
            m->host_off = (uint32_t)*i;
            m->host_len = (uint32_t)n;
            m->flags |= SYSLOG_MSG_HAS_HOST;
            *i += n < s->end - *i ? n + 1 : n;
        }
    }
    parse_tag(s, i, m);
    set_msg(s, *i, m);
}

int syslog_msg_parse(const char *p, size_t len, struct syslog_msg *m, size_t *err_off)
{
    memset(m, 0, sizeof(*m));
    *err_off = 0;
    if (len > SYSLOG_MSG_MAX) {
        *err_off = SYSLOG_MSG_MAX;
        return -ERR_LINE_TOO_LONG;
    }
    struct span s = {p, len};
    if (s.end > 0 && p[s.end - 1] == '\n') {
        s.end--;
        if (s.end > 0 && p[s.end - 1] == '\r')
            s.end--;
    }
    size_t i = 0;
    int r = parse_pri(&s, &i, m);
    if (r == 0) {
        bool is_5424 =
            !(m->flags & SYSLOG_MSG_NO_PRI) && s.end - i >= 2 && p[i] == '1' && p[i + 1] == ' ';
        if (is_5424)
            r = parse_5424(&s, &i, m);
        else
            parse_3164(&s, &i, m);
    }
    if (r < 0) {
        *err_off = i;
        return r;
    }
    return (int)len;
}
