/*
 * audit_record: parses one audit record line into a header and a field list
 * of offsets. Pure: no allocation, no globals, no clock. It does not decode
 * values (hex, names, numbers beyond the header); see audit/normalize.c.
 * Data flow: reader -> audit_header_parse -> collate -> audit_fields_parse
 * -> normalize.
 */
#include "wire/audit_record.h"

#include "base/err.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

static bool starts_with(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#ifdef __SSE2__
/* Bit i set: byte i of the 16 at p is a or b. */
static inline unsigned match2(const char *p, char a, char b)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b))));
}
#endif

/*
 * The first byte in [p, end) that is a or b, else end. Fields are short, so
 * a byte loop paid per byte; this tests 16 at a time (SSE2). A last partial
 * block is read as the 16 bytes that end at `end` when the line is that
 * long, so no byte outside [line, end) is ever read.
 */
static inline const char *find2(const char *line, const char *p, const char *end, char a, char b)
{
    (void)line; /* only the 16-byte search reads before p */
#ifdef __SSE2__
    for (; end - p >= 16; p += 16) {
        unsigned hit = match2(p, a, b);
        if (hit)
            return p + __builtin_ctz(hit);
    }
    if (p < end && end - line >= 16) {
        unsigned hit = match2(end - 16, a, b) >> (16 - (end - p)); /* drop bytes before p */
        return hit ? p + __builtin_ctz(hit) : end;
    }
#endif
    while (p < end && *p != a && *p != b)
        p++;
    return p;
}

/* The value of 8 decimal digits, one per byte of w (0..9, the first digit in
 * the lowest byte): three multiplies instead of eight dependent ones
 * (Lemire's parse_eight_digits_unrolled). */
static inline uint64_t eight_digits(uint64_t w)
{
    w = w * 10 + (w >> 8);
    return (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
           32;
}

/* The value of the first n digits at p, 0 < n <= 8, 8 bytes readable: the
 * digits shifted to the top of the word, below them zeros as leading digits
 * (bytes after the digits may borrow, but only into bytes shifted out). */
static inline uint64_t short_digits(const char *p, size_t n)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return eight_digits((w - 0x3030303030303030ull) << (8 * (8 - n)));
}

/* Reads at most max_digits decimal digits; returns the count read (0: none). */
static size_t read_number(const char *p, const char *end, size_t max_digits, uint64_t *out)
{
#ifdef __SSE2__
    /* Stamps are 10, 3 and a few digits: one 16-byte test finds the run and
     * the value comes by words, not a multiply chain per digit. */
    if (end - p >= 16) {
        __m128i d =
            _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8('0'));
        unsigned digit =
            (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
        size_t n = (size_t)__builtin_ctz(~digit); /* digit < 1 << 16 */
        if (n > max_digits)
            n = max_digits;
        if (n == 0) {
            *out = 0;
            return 0;
        }
        if (n <= 8) {
            *out = short_digits(p, n);
            return n;
        }
        if (n < 16) {
            *out = short_digits(p, n - 8) * 100000000u + short_digits(p + n - 8, 8);
            return n;
        }
    }
#endif
    uint64_t v = 0;
    size_t n = 0;
    while (p + n < end && is_digit(p[n]) && n < max_digits) {
        v = v * 10 + (uint64_t)(p[n] - '0');
        n++;
    }
    *out = v;
    return n;
}

static int parse_type(const char *line, const char *p, const char *end, struct audit_header *h,
                      const char **next)
{
    const char *t = p;
    p = find2(line, p, end, ' ', ' ');
    if (p == t)
        return -ERR_BAD_TYPE;
    h->type_off = (uint32_t)(t - line);
    h->type_len = (uint32_t)(p - t);
    h->type_number = 0;
    uint64_t v;
    size_t n = h->type_len;
    if (read_number(t, p, 9, &v) == n)
        h->type_number = (int)v;
    else if (n > 9 && memcmp(t, "UNKNOWN[", 8) == 0 && t[n - 1] == ']' &&
             read_number(t + 8, p - 1, 9, &v) == n - 9 && v > 0)
        h->type_number = (int)v;
    *next = p;
    return 0;
}

static int parse_stamp(const char *p, const char *end, struct audit_header *h, const char **next)
{
    uint64_t sec, msec, serial;
    size_t n = read_number(p, end, 18, &sec);
    if (n == 0 || p + n >= end || p[n] != '.')
        return -ERR_BAD_STAMP;
    p += n + 1;
    n = read_number(p, end, 3, &msec);
    if (n == 0 || p + n >= end || p[n] != ':')
        return -ERR_BAD_STAMP;
    p += n + 1;
    n = read_number(p, end, 10, &serial);
    if (n == 0 || serial > UINT32_MAX || p + n >= end || p[n] != ')')
        return -ERR_BAD_STAMP;
    p += n + 1;
    h->sec = (int64_t)sec;
    h->msec = (uint32_t)msec;
    h->serial = (uint32_t)serial;
    *next = p;
    return 0;
}

int audit_header_parse(const char *line, size_t len, struct audit_header *h, size_t *err_off)
{
    const char *gs = memchr(line, AUDIT_ENRICHED_SEPARATOR, len);
    return audit_header_parse_gs(line, len, gs ? (size_t)(gs - line) : len, h, err_off);
}

int audit_header_parse_gs(const char *line, size_t len, size_t gs_off, struct audit_header *h,
                          size_t *err_off)
{
    const char *end = line + len, *p = line;
    int r;
    *err_off = 0;
    if (len > AUDIT_RECORD_MAX_LINE) {
        *err_off = AUDIT_RECORD_MAX_LINE;
        return -ERR_LINE_TOO_LONG;
    }
    h->node_off = h->node_len = 0;
    h->syslog_form = false;
    h->start_off = 0;
    if (starts_with(p, end, "node=", 5)) {
        const char *sp = memchr(p, ' ', len);
        if (!sp) {
            *err_off = len;
            return -ERR_BAD_TYPE;
        }
        h->node_off = 5;
        h->node_len = (uint32_t)(sp - p - 5);
        p = sp;
        while (p < end && *p == ' ')
            p++;
    }
    if (!starts_with(p, end, "type=", 5)) {
        if (h->node_len) {
            *err_off = (size_t)(p - line);
            return -ERR_BAD_TYPE;
        }
        const char *k = memmem(line, len, "audit: type=", 12);
        if (!k)
            return -ERR_NOT_AUDIT;
        p = k + 7;
        h->syslog_form = true;
        h->start_off = (uint32_t)(p - line);
    }
    if ((r = parse_type(line, p + 5, end, h, &p)) < 0)
        goto fail;
    while (p < end && *p == ' ')
        p++;
    if (starts_with(p, end, "msg=", 4))
        p += 4;
    r = -ERR_BAD_STAMP;
    if (!starts_with(p, end, "audit(", 6))
        goto fail;
    p += 6;
    if ((r = parse_stamp(p, end, h, &p)) < 0)
        goto fail;
    if (p < end && *p == ':')
        p++;
    while (p < end && *p == ' ')
        p++;
    h->body_off = (uint32_t)(p - line);
    if (gs_off > len)
        gs_off = len;
    if (gs_off < h->body_off) { /* a 0x1d in the header: the separator is the first after it */
        const char *gs = memchr(p, AUDIT_ENRICHED_SEPARATOR, (size_t)(end - p));
        gs_off = gs ? (size_t)(gs - line) : len;
    }
    h->enriched_off = (uint32_t)gs_off;
    return 0;
fail:
    *err_off = (size_t)(p - line);
    return r;
}

struct field_sink {
    struct audit_field *f;
    size_t cap, n;
    bool overflow;
};

static void sink_push(struct field_sink *s, const char *line, const char *name, size_t name_len,
                      const char *value, size_t value_len, enum audit_value_kind kind,
                      enum audit_field_part part)
{
    if (s->n == s->cap) {
        s->overflow = true;
        return;
    }
    struct audit_field *f = &s->f[s->n++];
    f->name_off = (uint32_t)(name - line);
    f->name_len = (uint16_t)(name_len > UINT16_MAX ? UINT16_MAX : name_len);
    f->value_off = (uint32_t)(value - line);
    f->value_len = (uint32_t)value_len;
    f->kind = (uint8_t)kind;
    f->part = (uint8_t)part;
}

/* Scans a value starting at p; sets [*vs, *ve) and the kind; returns where the next token may
 * start. */
static const char *scan_value(const char *line, const char *p, const char *end,
                              enum audit_field_part part, const char **vs, const char **ve,
                              enum audit_value_kind *kind)
{
    char close = 0;
    *kind = AUDIT_VALUE_PLAIN;
    if (p < end && (*p == '"' || *p == '\'' || *p == '{')) {
        close = *p == '{' ? '}' : *p;
        *kind = *p == '"' ? AUDIT_VALUE_DQUOTED
                          : (*p == '\'' ? AUDIT_VALUE_SQUOTED : AUDIT_VALUE_BRACED);
        const char *q = find2(line, p + 1, end, close, close);
        *vs = p + 1;
        *ve = q;
        return q < end ? q + 1 : end;
    }
    *vs = p;
    p = find2(line, p, end, ' ', ' ');
    *ve = p;
    /* Old PAM records: "(hostname=?, addr=?, terminal=pts/0 res=success)" */
    if (part == AUDIT_PART_MSG)
        while (*ve > *vs && ((*ve)[-1] == ',' || (*ve)[-1] == ')'))
            (*ve)--;
    size_t n = (size_t)(*ve - *vs);
    /* The rare first byte first: value lengths vary too much to branch on. */
    if (n == 0 || (**vs != '(' && **vs != '?'))
        return p;
    if (n == 6 && memcmp(*vs, "(null)", 6) == 0)
        *kind = AUDIT_VALUE_NULL;
    else if (n == 1 && **vs == '?')
        *kind = AUDIT_VALUE_UNSET;
    return p;
}

#ifdef __SSE2__
/* Bytes that end the fast path of a value: quotes, braces and the first
 * bytes of "(null)" and "?" (the general path looks closer). */
static const unsigned char value_special[256] = {
    ['"'] = 1, ['\''] = 1, ['{'] = 1, ['('] = 1, ['?'] = 1,
};

/*
 * The common field, name=plain-value followed by a space, from one 16-byte
 * load at its name: the masks of spaces and '=' give the end of the name,
 * the end of the value and whether the next name follows a single space,
 * so each field waits on one load instead of a chain of a search, a byte
 * test, a second search and a byte loop. name="value" takes one more
 * search, for the closing quote. Returns false, having done nothing, for
 * anything else (fewer than 16 bytes left, a long field, a bare word, an
 * empty name, an unterminated or other quote, a brace, "(null)", "?"); the
 * general path then takes the field. Not for msg='...' contents (their own
 * trimming).
 */
static inline bool fast_field(const char *line, const char **pp, const char *end,
                              enum audit_field_part part, struct field_sink *s)
{
    const char *p = *pp;
    if (end - p < 16)
        return false;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
    unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('=')));
    unsigned hit = sp | eq;
    if (!hit)
        return false;
    unsigned k = (unsigned)__builtin_ctz(hit); /* the end of the name */
    if (k == 0 || k > 13 || !(eq >> k & 1))
        return false;
    if (p[k + 1] == '"') { /* comm="...", exe="...", key="...": the close from one more load */
        const char *val = p + k + 2, *q = find2(line, val, end, '"', '"');
        if (q == end)
            return false; /* unterminated: the general path takes it to the end */
        sink_push(s, line, p, k, val, (size_t)(q - val), AUDIT_VALUE_DQUOTED, part);
        *pp = q + 1;
        return true;
    }
    if (value_special[(unsigned char)p[k + 1]])
        return false;
    unsigned after = sp >> (k + 1); /* spaces after '=' */
    if (!after)
        return false;
    unsigned j = (unsigned)__builtin_ctz(after); /* the value's length */
    sink_push(s, line, p, k, p + k + 1, j, AUDIT_VALUE_PLAIN, part);
    unsigned next = k + j + 2; /* after the space that ends the value */
    *pp = next < 16 && !(sp >> next & 1) ? p + next : p + k + 1 + j;
    return true;
}
#endif

static void scan_fields(const char *line, const char *p, const char *end,
                        enum audit_field_part part, struct field_sink *s)
{
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
#ifdef __SSE2__
        if (part != AUDIT_PART_MSG && fast_field(line, &p, end, part, s))
            continue;
#endif
        const char *name = p;
        p = find2(line, p, end, '=', ' ');
        if (p == end || *p == ' ')
            continue; /* a bare word: kept in the raw line only */
        const char *name_end = p++;
        if (part == AUDIT_PART_MSG && *name == '(')
            name++;
        if (part == AUDIT_PART_BODY && *name == 'm' && name_end - name == 3 &&
            memcmp(name, "msg", 3) == 0 && p < end && *p == '\'') {
            const char *inner = p + 1;
            const char *q = memrchr(inner, '\'', (size_t)(end - inner));
            scan_fields(line, inner, q ? q : end, AUDIT_PART_MSG, s);
            p = q ? q + 1 : end;
            continue;
        }
        const char *vs, *ve;
        enum audit_value_kind kind;
        p = scan_value(line, p, end, part, &vs, &ve, &kind);
        if (name_end > name)
            sink_push(s, line, name, (size_t)(name_end - name), vs, (size_t)(ve - vs), kind, part);
    }
}

int audit_fields_parse(const char *line, size_t len, const struct audit_header *h,
                       struct audit_field *f, size_t cap)
{
    struct field_sink s = {.f = f, .cap = cap, .n = 0, .overflow = false};
    scan_fields(line, line + h->body_off, line + h->enriched_off, AUDIT_PART_BODY, &s);
    if (h->enriched_off < len)
        scan_fields(line, line + h->enriched_off + 1, line + len, AUDIT_PART_ENRICHED, &s);
    return s.overflow ? -ERR_TOO_MANY_FIELDS : (int)s.n;
}
