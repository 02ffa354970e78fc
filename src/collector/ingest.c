/*
 * ingest: syslog message -> stored line. Uses the pure parser
 * (wire/syslog_msg) and the store; knows nothing of sockets or framing.
 * The line format is described in ingest.h and docs/formats.md.
 */
#include "collector/ingest.h"

#include "base/bytes.h"
#include "collector/hosts_seen.h"
#include "collector/regroup.h"
#include "store/store.h"
#include "wire/audit_record.h"
#include "wire/syslog_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define INGEST_LINE_MAX     (SYSLOG_MSG_MAX * 4 + 1024) /* every byte may become #ooo */
#define INGEST_TAIL_VIA_MAX 31  /* longer transport names: the tail is not kept */
#define INGEST_TAIL_ID_MAX  255 /* longer identities: the tail is not kept */
#define INGEST_TAIL_MAX     (64 + INET6_ADDRSTRLEN + INGEST_TAIL_VIA_MAX + 4 * INGEST_TAIL_ID_MAX)

/* "YYYY-MM-DDThh:mm:ss" and "+hh:mm " as last written, and what they say:
 * messages come many to the second, so most stamps repeat these. */
struct stamp_text {
    bool valid, zone_valid;
    int year, mon, mday, hour, min, sec;
    long off;
    char date[19], zone[7];
};

struct ingest {
    struct store *store;
    enum host_source host_from;
    struct buf line;
    struct ingest_stats stats;
    struct hosts_seen *hosts;
    struct regroup *regroup; /* audit:// events regrouped (NULL: stored as they come) */
    time_t clock_sec;        /* the second clock_tm describes */
    bool clock_valid;
    struct tm clock_tm;
    struct stamp_text stamp; /* the last time stamp written, to copy while it holds */
    struct {
        bool valid;
        sa_family_t family;
        unsigned char addr[16]; /* 4 bytes used for AF_INET */
        size_t len;
        uint64_t gen; /* changes with text */
        char text[INET6_ADDRSTRLEN + 8];
    } peer; /* the text of the last peer address */
    struct {
        bool valid;
        const char *peer; /* peer.text (at peer_gen) or a constant */
        uint64_t peer_gen;
        bool has_id;
        size_t via_len, id_len;
        char via[INGEST_TAIL_VIA_MAX], id[INGEST_TAIL_ID_MAX];
    } tail_of;       /* what `tail` was made of */
    struct buf tail; /* "\tpeer=ADDR via=TRANSPORT id=IDENTITY" of the last line */
};

struct ingest *ingest_new(struct store *store, enum host_source host_from)
{
    struct ingest *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->store = store;
    in->host_from = host_from;
    if (!(in->hosts = hosts_seen_new())) {
        free(in);
        return NULL;
    }
    buf_init(&in->line, INGEST_LINE_MAX);
    buf_init(&in->tail, INGEST_LINE_MAX);
    return in;
}

void ingest_set_host_from(struct ingest *in, enum host_source host_from)
{
    in->host_from = host_from;
}

void ingest_set_regroup(struct ingest *in, struct regroup *rg)
{
    in->regroup = rg;
}

int ingest_audit_write(void *arg, const char *host, size_t host_len, const char *line, size_t len)
{
    struct ingest *in = arg;
    int r = store_append(in->store, host, host_len, INGEST_AUDIT_PROGRAM,
                         strlen(INGEST_AUDIT_PROGRAM), line, len);
    if (r < 0) {
        in->stats.store_errors++;
        in->stats.refused_full += r == -ENOSPC;
        return r;
    }
    in->stats.stored++;
    return 0;
}

enum host_source ingest_host_from(const struct ingest *in)
{
    return in->host_from;
}

void ingest_free(struct ingest *in)
{
    if (!in)
        return;
    buf_free(&in->line);
    buf_free(&in->tail);
    hosts_seen_free(in->hosts);
    free(in);
}

const struct ingest_stats *ingest_stats(const struct ingest *in)
{
    return &in->stats;
}

const struct hosts_seen *ingest_hosts(const struct ingest *in)
{
    return in->hosts;
}

size_t ingest_peer_text(const struct sockaddr *sa, char *out, size_t cap)
{
    out[0] = 0;
    if (!sa)
        return (size_t)snprintf(out, cap, "local");
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
    return strlen(out);
}

/* ingest_peer_text, kept for the last address: a connection sends many
 * messages in a row, and inet_ntop costs as much as the rest of a line. */
static const char *peer_text(struct ingest *in, const struct sockaddr *sa, size_t *len)
{
    const void *addr = NULL;
    size_t n = 0;
    if (sa && sa->sa_family == AF_INET) {
        addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        n = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        n = 16;
    }
    if (!addr) { /* as ingest_peer_text: "local", or nothing for another family */
        *len = sa ? 0 : 5;
        return sa ? "" : "local";
    }
    if (!in->peer.valid || in->peer.family != sa->sa_family ||
        (n == 4 ? memcmp(in->peer.addr, addr, 4) : memcmp(in->peer.addr, addr, 16))) {
        in->peer.len = ingest_peer_text(sa, in->peer.text, sizeof(in->peer.text));
        in->peer.family = sa->sa_family;
        memcpy(in->peer.addr, addr, n);
        in->peer.valid = true;
        in->peer.gen++;
    }
    *len = in->peer.len;
    return in->peer.text;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* "#ooo" (rsyslog's escape) at o; returns the end. */
static char *put_control(char *o, unsigned char c)
{
    o[0] = '#';
    o[1] = (char)('0' + (c >> 6));
    o[2] = (char)('0' + ((c >> 3) & 7));
    o[3] = (char)('0' + (c & 7));
    return o + 4;
}

/* Nonzero if a byte of w is below 0x20 or is 0x7f (exact for "any"). */
static uint64_t word_has_control(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t del = w ^ (0x7f * ones);
    return (((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & highs;
}

/* Copies p[0..n), 4 <= n < 16, to o if no byte needs an escape: two
 * overlapping words instead of a loop per byte (names, short fields). */
static inline __attribute__((always_inline)) bool put_plain_short(char *o, const char *p, size_t n)
{
    if (n >= 8) {
        uint64_t a, z;
        memcpy(&a, p, 8);
        memcpy(&z, p + n - 8, 8);
        if (word_has_control(a) || word_has_control(z))
            return false;
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &z, 8);
        return true;
    }
    uint32_t a, z;
    memcpy(&a, p, 4);
    memcpy(&z, p + n - 4, 4);
    if (word_has_control((uint64_t)a | (uint64_t)z << 32))
        return false;
    memcpy(o, &a, 4);
    memcpy(o + n - 4, &z, 4);
    return true;
}

#ifdef __SSE2__
/* Byte i all ones: byte i of v is below 0x20 or is 0x7f. */
static __m128i control_bytes(__m128i v)
{
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    return _mm_or_si128(low, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
}

/* Bit i set: byte i of the 16 at p is below 0x20 or is 0x7f. */
static unsigned control_mask(const char *p)
{
    return (unsigned)_mm_movemask_epi8(
        control_bytes(_mm_loadu_si128((const __m128i *)(const void *)p)));
}

/* Copies the 64 bytes at p to o if none needs an escape. */
static bool put_plain_64(char *o, const char *p)
{
    const __m128i *in = (const __m128i *)(const void *)p;
    __m128i a = _mm_loadu_si128(in), b = _mm_loadu_si128(in + 1);
    __m128i c = _mm_loadu_si128(in + 2), d = _mm_loadu_si128(in + 3);
    __m128i any = _mm_or_si128(_mm_or_si128(control_bytes(a), control_bytes(b)),
                               _mm_or_si128(control_bytes(c), control_bytes(d)));
    if (_mm_movemask_epi8(any))
        return false;
    __m128i *out = (__m128i *)(void *)o;
    _mm_storeu_si128(out, a);
    _mm_storeu_si128(out + 1, b);
    _mm_storeu_si128(out + 2, c);
    _mm_storeu_si128(out + 3, d);
    return true;
}
#endif

/*
 * Appends p[0..n) with control bytes as #ooo. The caller reserved 4 bytes
 * of room per input byte, so while 16 or more input bytes are left a whole
 * block is stored before it is checked: the text between escapes is copied
 * 64 or 16 bytes at a time, not byte by byte.
 */
static void put_escaped(struct buf *b, const char *p, size_t n)
{
    char *o = b->data + b->len;
    const char *end = p + n;
#ifdef __SSE2__
    while (end - p >= 16) {
        if (end - p >= 64 && put_plain_64(o, p)) { /* most text: 64 bytes at a time */
            p += 64, o += 64;
            continue;
        }
        _mm_storeu_si128((__m128i *)(void *)o, _mm_loadu_si128((const __m128i *)(const void *)p));
        unsigned mask = control_mask(p);
        unsigned k = mask ? (unsigned)__builtin_ctz(mask) : 16;
        p += k, o += k;
        if (mask)
            o = put_control(o, (unsigned char)*p++);
    }
    size_t tail = (size_t)(end - p);
    if (tail && n >= 16 && !(control_mask(end - 16) >> (16 - tail))) {
        memcpy(o, p, tail); /* the last 16 input bytes were checked at once */
        o += tail, p = end;
    }
#endif
    if (end - p >= 4 && end - p < 16 && put_plain_short(o, p, (size_t)(end - p)))
        o += end - p, p = end;
    for (; p < end; p++)
        if (is_control((unsigned char)*p))
            o = put_control(o, (unsigned char)*p);
        else
            *o++ = *p;
    b->len = (size_t)(o - b->data);
}

/* The local time of receipt. localtime_r costs more than the rest of a
 * line's formatting, so its result is kept for the second it describes. */
static const struct tm *clock_now(struct ingest *in, unsigned *usec)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    if (now.tv_sec != in->clock_sec || !in->clock_valid) {
        localtime_r(&now.tv_sec, &in->clock_tm);
        in->clock_sec = now.tv_sec;
        in->clock_valid = true;
    }
    *usec = (unsigned)now.tv_usec;
    return &in->clock_tm;
}

/* The fields of a stored time stamp; frac_digits is 6 or 0. */
struct stamp {
    int year, mon, mday, hour, min, sec; /* mon 1..12 */
    unsigned usec;
    int frac_digits;
    long off; /* minutes east of UTC */
};

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Writes v as exactly n decimal digits (v < 10^n) and returns the end. */
static char *put_digits(char *p, unsigned v, int n)
{
    int i = n;
    for (; i >= 2; i -= 2, v /= 100)
        memcpy(p + i - 2, digit_pairs + 2 * (v % 100), 2);
    if (i)
        p[0] = (char)('0' + v % 10);
    return p + n;
}

/* "%04d-%02d-%02dT%02d:%02d:%02d[.%06u]%c%02ld:%02ld ", by hand: snprintf
 * took more instructions than everything else done for a line. The date
 * and time to the second and the zone are copied from the last stamp when
 * they are the same (`last`). Values the fixed widths cannot hold go
 * through snprintf, as before. */
static void put_stamp(struct buf *b, const struct stamp *t, struct stamp_text *last)
{
    long a = t->off < 0 ? -t->off : t->off;
    char sign = t->off < 0 ? '-' : '+';
    if (t->year < 0 || t->year > 9999 || a / 60 > 99) {
        char tmp[96];
        int n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d", t->year, t->mon,
                         t->mday, t->hour, t->min, t->sec);
        if (t->frac_digits)
            n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%06u", t->usec);
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%c%02ld:%02ld ", sign, a / 60, a % 60);
        buf_put(b, tmp, (size_t)n);
        return;
    }
    char *p = b->data + b->len, *start = p;
    if (!last->valid || last->sec != t->sec || last->min != t->min || last->hour != t->hour ||
        last->mday != t->mday || last->mon != t->mon || last->year != t->year) {
        char *d = last->date;
        d = put_digits(d, (unsigned)t->year, 4);
        *d++ = '-';
        d = put_digits(d, (unsigned)t->mon, 2);
        *d++ = '-';
        d = put_digits(d, (unsigned)t->mday, 2);
        *d++ = 'T';
        d = put_digits(d, (unsigned)t->hour, 2);
        *d++ = ':';
        d = put_digits(d, (unsigned)t->min, 2);
        *d++ = ':';
        put_digits(d, (unsigned)t->sec, 2);
        last->year = t->year, last->mon = t->mon, last->mday = t->mday;
        last->hour = t->hour, last->min = t->min, last->sec = t->sec;
        last->valid = true;
    }
    if (!last->zone_valid || last->off != t->off) {
        char *z = last->zone;
        *z++ = sign;
        z = put_digits(z, (unsigned)(a / 60), 2);
        *z++ = ':';
        z = put_digits(z, (unsigned)(a % 60), 2);
        *z = ' ';
        last->off = t->off;
        last->zone_valid = true;
    }
    memcpy(p, last->date, sizeof(last->date));
    p += sizeof(last->date);
    if (t->frac_digits) {
        *p++ = '.';
        p = put_digits(p, t->usec, 6);
    }
    memcpy(p, last->zone, sizeof(last->zone));
    p += sizeof(last->zone);
    b->len += (size_t)(p - start);
}

#define SYSLOG_MSG_FULL_TIME (SYSLOG_MSG_HAS_TIME | SYSLOG_MSG_HAS_YEAR | SYSLOG_MSG_HAS_TZ)

/* RFC 3339 time: the sender's when complete, else completed or replaced by
 * the time of receipt (year and zone from this host, as rsyslog does). The
 * clock is only read when something of it is used. */
static void put_time(struct ingest *in, struct buf *b, const struct syslog_msg *m, bool parsed)
{
    unsigned flags = parsed ? m->flags : 0;
    if ((flags & SYSLOG_MSG_FULL_TIME) == SYSLOG_MSG_FULL_TIME) {
        struct stamp t = {m->year,
                          m->month,
                          m->day,
                          m->hour,
                          m->minute,
                          m->second,
                          m->nanosecond / 1000,
                          (flags & SYSLOG_MSG_HAS_FRAC) ? 6 : 0,
                          m->tz_minutes};
        put_stamp(b, &t, &in->stamp);
        return;
    }
    unsigned usec;
    const struct tm *tm = clock_now(in, &usec);
    struct stamp t = {tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour,
                      tm->tm_min,         tm->tm_sec,     usec,        6,
                      tm->tm_gmtoff / 60};
    if (flags & SYSLOG_MSG_HAS_TIME) {
        if (flags & SYSLOG_MSG_HAS_YEAR)
            t.year = m->year;
        else if (m->month > tm->tm_mon + 2)
            t.year--; /* December's message read in January */
        t.mon = m->month;
        t.mday = m->day;
        t.hour = m->hour;
        t.min = m->minute;
        t.sec = m->second;
        if (flags & SYSLOG_MSG_HAS_TZ)
            t.off = m->tz_minutes;
        t.usec = m->nanosecond / 1000;
        t.frac_digits = (flags & SYSLOG_MSG_HAS_FRAC) ? 6 : 0;
    }
    put_stamp(b, &t, &in->stamp);
}

/* Where a message is filed: the proven identity first, then the peer
 * address or (if so configured, and the sender named itself) the claimed
 * name. */
static void filed_host(const struct ingest *in, const struct ingest_origin *o, const char *peer,
                       size_t peer_len, const char *claimed, size_t claimed_len, const char **host,
                       size_t *host_len)
{
    *host = peer;
    *host_len = peer_len;
    if (o->host) {
        *host = o->host;
        *host_len = o->host_len;
    } else if (o->identity) {
        *host = o->identity;
        *host_len = strlen(o->identity);
    } else if (in->host_from == HOST_FROM_CLAIMED && claimed && claimed_len) {
        *host = claimed;
        *host_len = claimed_len;
    }
}

/* The fields of a syslog line as sent; they are escaped when written. */
struct line_parts {
    const char *claimed, *prog, *pid, *body;
    size_t claimed_len, prog_len, pid_len, body_len;
};

static void line_parts(const char *msg, size_t len, const struct syslog_msg *m, bool parsed,
                       struct line_parts *lp)
{
    *lp = (struct line_parts){"-", "unparsed", NULL, msg, 1, 8, 0, len};
    if (!parsed)
        return;
    if (m->host_len)
        lp->claimed = msg + m->host_off, lp->claimed_len = m->host_len;
    lp->prog = m->app_len ? msg + m->app_off : "syslog";
    lp->prog_len = m->app_len ? m->app_len : 6;
    if (m->procid_len)
        lp->pid = msg + m->procid_off, lp->pid_len = m->procid_len;
    lp->body = msg + m->msg_off;
    lp->body_len = m->msg_len;
    if (m->sd_len) { /* RFC 5424 structured data stays in front of MSG, as sent */
        lp->body = msg + m->sd_off;
        lp->body_len = m->msg_len ? m->msg_off + m->msg_len - m->sd_off : m->sd_len;
    }
}

/* in->tail for this origin: "\tpeer=ADDR via=TRANSPORT id=IDENTITY". The
 * same for every line of a connection, so it is made again only when the
 * peer text, the transport or the identity changes (compared by content:
 * a caller's buffer may hold another name at the same address). */
static int line_tail(struct ingest *in, const struct ingest_origin *o, const char *peer,
                     size_t peer_len)
{
    size_t id_len = o->identity ? strlen(o->identity) : 0, via_len = strlen(o->transport);
    bool keep = id_len <= INGEST_TAIL_ID_MAX && via_len <= INGEST_TAIL_VIA_MAX;
    if (keep && in->tail_of.valid && in->tail_of.peer == peer &&
        in->tail_of.peer_gen == in->peer.gen && in->tail_of.has_id == (o->identity != NULL) &&
        in->tail_of.via_len == via_len && in->tail_of.id_len == id_len &&
        bytes_equal(in->tail_of.via, o->transport, via_len) &&
        (!id_len || bytes_equal(in->tail_of.id, o->identity, id_len)))
        return 0;
    in->tail_of.valid = false;
    struct buf *t = &in->tail;
    buf_reset(t);
    /* Every escaped byte may take 4; put_escaped relies on that room. */
    int r = buf_reserve(t, 16 + peer_len + via_len + 4 * id_len + 1);
    if (r < 0)
        return r;
    buf_put(t, "\tpeer=", 6);
    buf_put(t, peer, peer_len);
    buf_put(t, " via=", 5);
    buf_put(t, o->transport, via_len);
    buf_put(t, " id=", 4);
    if (o->identity)
        put_escaped(t, o->identity, id_len);
    else
        buf_putc(t, '-');
    if (keep) {
        in->tail_of.peer = peer;
        in->tail_of.peer_gen = in->peer.gen;
        in->tail_of.has_id = o->identity != NULL;
        in->tail_of.via_len = via_len;
        in->tail_of.id_len = id_len;
        memcpy(in->tail_of.via, o->transport, via_len);
        if (id_len)
            memcpy(in->tail_of.id, o->identity, id_len);
        in->tail_of.valid = true;
    }
    return 0;
}

/* put_escaped of a short field (names, pid): most are 4 to 15 plain bytes. */
static void put_field(struct buf *b, const char *p, size_t n)
{
    if (n >= 4 && n < 16 && put_plain_short(b->data + b->len, p, n))
        b->len += n;
    else
        put_escaped(b, p, n);
}

/* The line into in->line: time, names, message, metadata. */
static int format_line(struct ingest *in, const struct ingest_origin *o, const struct syslog_msg *m,
                       bool parsed, const struct line_parts *lp, const char *peer, size_t peer_len)
{
    struct buf *b = &in->line;
    int r = line_tail(in, o, peer, peer_len);
    if (r < 0)
        return r;
    buf_reset(b);
    /* Every escaped byte may take 4; put_escaped relies on that room. */
    r = buf_reserve(b, 64 + 4 * (lp->claimed_len + lp->prog_len + lp->pid_len + lp->body_len) +
                           in->tail.len + 256);
    if (r < 0)
        return r;
    put_time(in, b, m, parsed);
    put_field(b, lp->claimed, lp->claimed_len);
    buf_putc(b, ' ');
    put_field(b, lp->prog, lp->prog_len);
    if (lp->pid) {
        buf_putc(b, '[');
        put_field(b, lp->pid, lp->pid_len);
        buf_putc(b, ']');
    }
    buf_put(b, ": ", 2);
    put_escaped(b, lp->body, lp->body_len);
    buf_put(b, in->tail.data, in->tail.len);
    return 0;
}

/* in->line into <host>/<prog>, counted. */
static int store_line(struct ingest *in, const struct ingest_origin *o, const char *host,
                      size_t host_len, const char *prog, size_t prog_len)
{
    int r =
        o->sink
            ? o->sink(o->sink_arg, host, host_len, prog, prog_len, in->line.data, in->line.len)
            : store_append(in->store, host, host_len, prog, prog_len, in->line.data, in->line.len);
    if (r < 0) {
        in->stats.store_errors++;
        in->stats.refused_full += r == -ENOSPC;
        return r;
    }
    in->stats.stored++;
    return 0;
}

int ingest_syslog(struct ingest *in, const struct ingest_origin *o, const char *msg, size_t len)
{
    in->stats.received++;
    struct syslog_msg m;
    size_t err_off;
    bool parsed = syslog_msg_parse(msg, len, &m, &err_off) >= 0;
    in->stats.unparsed += !parsed;
    struct line_parts lp;
    line_parts(msg, len, &m, parsed, &lp);
    size_t peer_len;
    const char *peer = peer_text(in, o->peer, &peer_len);
    int r = format_line(in, o, &m, parsed, &lp, peer, peer_len);
    if (r < 0) {
        in->stats.store_errors++;
        return r;
    }
    const char *file_prog = lp.prog; /* the line keeps the name as sent */
    size_t file_prog_len = lp.prog_len;
    if (lp.prog_len == strlen(INGEST_AUDIT_PROGRAM) &&
        !memcmp(lp.prog, INGEST_AUDIT_PROGRAM, lp.prog_len)) {
        file_prog = INGEST_AUDIT_PROGRAM_SYSLOG;
        file_prog_len = strlen(file_prog);
    }
    const char *host;
    size_t host_len;
    filed_host(in, o, peer, peer_len, parsed && m.host_len ? lp.claimed : NULL, lp.claimed_len,
               &host, &host_len);
    hosts_seen_note(in->hosts, host, host_len, time(NULL));
    return store_line(in, o, host, host_len, file_prog, file_prog_len);
}

/* Legitimate records never hold control bytes (the kernel hex-encodes
 * untrusted strings); the ENRICHED separator is the one exception. */
static bool audit_bytes_clean(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != AUDIT_ENRICHED_SEPARATOR) || c == 0x7f)
            return false;
    }
    return true;
}

int ingest_audit(struct ingest *in, const struct ingest_origin *o, const char *rec, size_t len)
{
    in->stats.received++;
    in->stats.audit_records++;
    if (len && rec[len - 1] == '\r')
        len--;
    struct audit_header h;
    size_t err_off;
    bool ok = audit_header_parse(rec, len, &h, &err_off) == 0 && !h.syslog_form &&
              audit_bytes_clean(rec, len);
    size_t peer_len;
    const char *peer = peer_text(in, o->peer, &peer_len);
    const char *host;
    size_t host_len;
    filed_host(in, o, peer, peer_len, ok && h.node_len ? rec + h.node_off : NULL,
               ok ? h.node_len : 0, &host, &host_len);
    hosts_seen_note(in->hosts, host, host_len, time(NULL));
    struct buf *b = &in->line;
    buf_reset(b);
    int r = buf_reserve(b, 4 * len + STORE_NAME_MAX + 64);
    if (r < 0) {
        in->stats.store_errors++;
        return r;
    }
    if (!ok) { /* kept, escaped, beside the audit trail: never inside it */
        in->stats.audit_unparsed++;
        put_escaped(b, rec, len);
        return store_line(in, o, host, host_len, INGEST_AUDIT_UNPARSED,
                          strlen(INGEST_AUDIT_UNPARSED));
    }
    char node[STORE_NAME_MAX + 1];
    int nl = store_name_sanitize(host, host_len, node, sizeof(node));
    if (nl < 0)
        return nl;
    size_t type_begin = h.type_off - 5; /* "type=" */
    buf_put(b, "node=", 5);
    buf_put(b, node, (size_t)nl);
    buf_putc(b, ' ');
    buf_put(b, rec + type_begin, h.enriched_off - type_begin);
    if (h.node_len && (h.node_len != (uint32_t)nl || memcmp(rec + h.node_off, node, h.node_len))) {
        buf_put(b, " claimed_node=", 14);
        buf_put(b, rec + h.node_off, h.node_len);
    }
    buf_put(b, rec + h.enriched_off, len - h.enriched_off);
    if (in->regroup && !o->sink) {
        if (store_space_state(in->store) == STORE_SPACE_FULL) {
            in->stats.store_errors++; /* as store_append would: not taken, not acked */
            in->stats.refused_full++;
            return -ENOSPC;
        }
        if (regroup_add(in->regroup, host, host_len, b->data, b->len) == 0)
            return 0;
        in->stats.audit_not_regrouped++; /* stored at once rather than not at all */
    }
    return store_line(in, o, host, host_len, INGEST_AUDIT_PROGRAM, strlen(INGEST_AUDIT_PROGRAM));
}
