/*
 * format: ausearch's interpreted and CSV layouts (see format.h). Fields are
 * parsed per record into a fixed array (AUDIT_RECORD_MAX_FIELDS, allocated
 * once per thread); values are decoded into the output buffer directly.
 * Used by cli/cmd_search.c only.
 */
#include "search/format.h"

#include "audit/audit_tables.h"
#include "base/hex.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Dates are the locale's "%x", as ausearch prints them. */
#pragma GCC diagnostic ignored "-Wformat-y2k"

static _Thread_local struct audit_field *fields;

void search_format_thread_end(void)
{
    free(fields);
    fields = NULL;
}

static int parse(const struct audit_event *ev, uint32_t i)
{
    if (!fields && !(fields = calloc(AUDIT_RECORD_MAX_FIELDS, sizeof(*fields))))
        return -ENOMEM;
    const struct audit_record_ref *r = &ev->records[i];
    int n =
        audit_fields_parse(audit_event_line(ev, i), r->len, &r->h, fields, AUDIT_RECORD_MAX_FIELDS);
    return n < 0 ? AUDIT_RECORD_MAX_FIELDS : n;
}

static bool name_is(const char *line, const struct audit_field *f, const char *s)
{
    return f->name_len == strlen(s) && !memcmp(line + f->name_off, s, f->name_len);
}
#define NAME_IS(line, f, lit)                                                                      \
    ((f)->name_len == sizeof(lit) - 1 && !memcmp((line) + (f)->name_off, lit, sizeof(lit) - 1))

/* name_is over a table, the lengths compared first. */
struct name {
    const char *s;
    size_t n;
};
#define NAME(lit)                                                                                  \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
static bool name_in(const char *line, const struct audit_field *f, const struct name *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (f->name_len == v[i].n && !memcmp(line + f->name_off, v[i].s, v[i].n))
            return true;
    return false;
}

#define AUDIT_EXECVE_TYPE  1309
#define AUDIT_SYSCALL_TYPE 1300

/* a0, a1, ... */
static bool is_arg(const char *line, const struct audit_field *f)
{
    return f->name_len >= 2 && line[f->name_off] == 'a' &&
           strspn(line + f->name_off + 1, "0123456789") == (size_t)f->name_len - 1;
}

/* Fields whose unquoted values are hex-encoded strings. */
static bool is_encoded_string(const char *line, const struct audit_field *f, int type)
{
    static const struct name names[] = {NAME("proctitle"), NAME("exe"),  NAME("comm"), NAME("cwd"),
                                        NAME("name"),      NAME("acct"), NAME("cmd"),  NAME("key"),
                                        NAME("data"),      NAME("path"), NAME("old"),  NAME("new")};
    if (name_in(line, f, names, sizeof(names) / sizeof(names[0])))
        return true;
    return type == AUDIT_EXECVE_TYPE && is_arg(line, f); /* EXECVE's a0..: SYSCALL's are numbers */
}

/* The ENRICHED value for field f ("uid" -> UID="root"), or NULL. */
static const struct audit_field *enriched_of(const char *line, const struct audit_field *f,
                                             int first, int n)
{
    for (int k = first; k < n; k++) {
        const struct audit_field *e = &fields[k];
        if (e->part != AUDIT_PART_ENRICHED || e->name_len != f->name_len)
            continue;
        size_t j = 0;
        while (j < f->name_len && line[e->name_off + j] == (char)(line[f->name_off + j] & ~0x20))
            j++;
        if (j == f->name_len)
            return e;
    }
    return NULL;
}

static int put_value(struct buf *b, const char *line, const struct audit_field *f, uint32_t arch,
                     int type)
{
    const char *v = line + f->value_off;
    size_t n = f->value_len;
    if (type == AUDIT_SYSCALL_TYPE && f->kind == AUDIT_VALUE_PLAIN && is_arg(line, f)) {
        int r = buf_append(b, "0x", 2); /* as ausearch -i: syscall arguments in hex */
        return r ? r : buf_append(b, v, n);
    }
    if (f->kind == AUDIT_VALUE_PLAIN && is_encoded_string(line, f, type) && hex_is_encoded(v, n)) {
        int r = buf_reserve(b, n / 2);
        if (r < 0)
            return r;
        unsigned char *d = (unsigned char *)b->data + b->len;
        hex_decode(v, n, d);
        for (size_t i = 0; i < n / 2; i++)
            if (d[i] == 0)
                d[i] = ' ';
        b->len += n / 2;
        return 0;
    }
    if (NAME_IS(line, f, "arch") && audit_tables_arch_name(arch))
        return buf_append_str(b, audit_tables_arch_name(arch));
    if (NAME_IS(line, f, "syscall")) {
        const char *s = audit_tables_syscall_name(arch, atoi(v));
        if (s)
            return buf_append_str(b, s);
    }
    return buf_append(b, v, n);
}

static uint32_t arch_of(const char *line, int n)
{
    for (int k = 0; k < n; k++)
        if (fields[k].part != AUDIT_PART_ENRICHED && NAME_IS(line, &fields[k], "arch"))
            return (uint32_t)strtoul(line + fields[k].value_off, NULL, 16);
    return 0;
}

/* Fields holding a user or group id, as ausearch -i names them. */
static int id_kind(const char *line, const struct audit_field *f)
{
    static const struct name uids[] = {
        NAME("uid"),      NAME("auid"),     NAME("euid"),  NAME("suid"),     NAME("fsuid"),
        NAME("ouid"),     NAME("iuid"),     NAME("sauid"), NAME("loginuid"), NAME("old-auid"),
        NAME("old-ouid"), NAME("new-auid"), NAME("id")};
    static const struct name gids[] = {NAME("gid"),  NAME("egid"), NAME("sgid"),   NAME("fsgid"),
                                       NAME("ogid"), NAME("igid"), NAME("new-gid")};
    /* every id name ends in "id", and but "id" itself in "uid" or "gid": most
     * fields (pid and ppid too) are out at a compare or two */
    const char *end = line + f->name_off + f->name_len;
    if (f->name_len < 2 || memcmp(end - 2, "id", 2))
        return 0;
    if (f->name_len == 2 || end[-3] == 'u')
        return name_in(line, f, uids, sizeof(uids) / sizeof(uids[0])) ? 'u' : 0;
    return end[-3] == 'g' && name_in(line, f, gids, sizeof(gids) / sizeof(gids[0])) ? 'g' : 0;
}

/* This machine's name for an id (getpwuid_r/getgrgid_r, which go through
 * NSS on every call), or "unknown(ID)" as ausearch -i writes an id it cannot
 * name; remembered either way, per thread, in an open-addressed table of
 * FORMAT_NAME_SLOTS (emptied when FORMAT_NAME_FILL are taken, so a log with
 * ever more ids costs look-ups, never memory). */
#define FORMAT_NAME_SLOTS 256
#define FORMAT_NAME_FILL  192
#define FORMAT_NAME_MAX   64 /* bytes of a remembered name; longer ones are cut */

struct local_name {
    uint32_t id;
    uint8_t kind, len; /* kind 0: an empty slot */
    char name[FORMAT_NAME_MAX];
};

static const struct local_name *local_name(int kind, unsigned long id)
{
    static _Thread_local struct local_name cache[FORMAT_NAME_SLOTS];
    static _Thread_local unsigned filled;
    static const struct local_name unset = {4294967295u, 'u', 5, "unset"};
    if (id == 4294967295ul)
        return &unset;
    unsigned h = (unsigned)((id * 2654435761u) >> 8 ^ (unsigned)kind) % FORMAT_NAME_SLOTS;
    for (;; h = (h + 1) % FORMAT_NAME_SLOTS) {
        struct local_name *c = &cache[h];
        if (c->kind == 0)
            break;
        if (c->kind == kind && c->id == id)
            return c;
    }
    if (filled == FORMAT_NAME_FILL) {
        memset(cache, 0, sizeof(cache));
        filled = 0;
        h = (unsigned)((id * 2654435761u) >> 8 ^ (unsigned)kind) % FORMAT_NAME_SLOTS;
    }
    filled++;
    struct local_name *c = &cache[h];
    const char *n = NULL;
    char tmp[1024]; /* reentrant look-ups: search reads hosts on several threads */
    if (kind == 'u') {
        struct passwd pw, *res = NULL;
        if (getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res) == 0 && res)
            n = res->pw_name;
    } else {
        struct group gr, *res = NULL;
        if (getgrgid_r((gid_t)id, &gr, tmp, sizeof(tmp), &res) == 0 && res)
            n = res->gr_name;
    }
    int len = n ? snprintf(c->name, sizeof(c->name), "%s", n)
                : snprintf(c->name, sizeof(c->name), "unknown(%lu)", id);
    c->kind = (uint8_t)kind, c->id = (uint32_t)id;
    c->len = (uint8_t)(len < 0 ? 0 : len >= FORMAT_NAME_MAX ? FORMAT_NAME_MAX - 1 : len);
    return c;
}

/* An id's value: its digits, or strtoul's reading of anything else. */
static unsigned long id_value(const char *p, size_t n)
{
    unsigned long v = 0;
    size_t i = 0;
    for (; i < n && i < 10 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (unsigned long)(p[i] - '0');
    return i == n && n > 0 ? v : strtoul(p, NULL, 10);
}

/* The event's local date "MM/DD/YY HH:MM:SS", formatted once per second. */
static const char *date_of(int64_t sec, size_t *len)
{
    static _Thread_local int64_t last = INT64_MIN;
    static _Thread_local char when[64];
    static _Thread_local size_t when_len;
    if (sec != last) {
        time_t t = (time_t)sec;
        struct tm tm;
        localtime_r(&t, &tm);
        when_len = strftime(when, sizeof(when), "%x %H:%M:%S", &tm);
        last = sec;
    }
    *len = when_len;
    return when;
}

/* Writes v's digits at b's reserved end (room for 20). */
static void put_number(struct buf *b, uint64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* A bit per (name length, first letter): of the record's ENRICHED fields,
 * so that most fields need not look for theirs, and of the names whose
 * values put_value may change. */
#define NAME_BIT(len, c) (1ull << (((len)*5u + ((unsigned)(c) | 0x20u)) & 63))
static uint64_t enriched_bit(const char *line, const struct audit_field *f)
{
    return NAME_BIT(f->name_len, (unsigned char)line[f->name_off]);
}

/* Whether put_value may print f otherwise than as written: a hex string
 * (is_encoded_string's names), an arch or syscall to name, a SYSCALL or
 * EXECVE argument (aN). False means it prints the value as written. */
static bool may_change(const char *line, const struct audit_field *f, int type)
{
    static const uint64_t names = NAME_BIT(9, 'p') | NAME_BIT(3, 'e') | NAME_BIT(4, 'c') |
                                  NAME_BIT(3, 'c') | NAME_BIT(4, 'n') | NAME_BIT(4, 'a') |
                                  NAME_BIT(3, 'k') | NAME_BIT(4, 'd') | NAME_BIT(4, 'p') |
                                  NAME_BIT(3, 'o') | NAME_BIT(3, 'n') | NAME_BIT(7, 's');
    if (names & enriched_bit(line, f))
        return true;
    return line[f->name_off] == 'a' && (type == AUDIT_SYSCALL_TYPE || type == AUDIT_EXECVE_TYPE);
}

#define FORMAT_FIELD_ROOM                                                                          \
    80 /* a field's bytes beyond its name and value: separators, "0x",                             \
          a remembered local name (FORMAT_NAME_MAX) */

int search_format_interpret(struct buf *b, const struct audit_event *ev, uint32_t i,
                            bool local_names)
{
    const char *line = audit_event_line(ev, i);
    const struct audit_record_ref *r = &ev->records[i];
    int n = parse(ev, i);
    if (n < 0)
        return n;
    const char *tname = audit_tables_type_name(r->type);
    size_t tlen = tname ? strlen(tname) : r->h.type_len, dlen;
    const char *date = date_of(ev->sec, &dlen);
    int rc = buf_reserve(b, ev->node_len + tlen + dlen + 64);
    if (rc < 0)
        return rc;
    if (ev->node_len) {
        buf_put(b, "node=", 5);
        buf_put(b, ev->node, ev->node_len);
        buf_putc(b, ' ');
    }
    buf_put(b, "type=", 5);
    buf_put(b, tname ? tname : line + r->h.type_off, tlen);
    buf_put(b, " msg=audit(", 11);
    buf_put(b, date, dlen);
    char ms[5] = {'.', (char)('0' + ev->msec / 100 % 10), (char)('0' + ev->msec / 10 % 10),
                  (char)('0' + ev->msec % 10), ':'};
    buf_put(b, ms, sizeof(ms));
    put_number(b, ev->serial);
    buf_put(b, ") :", 3);
    uint32_t arch = arch_of(line, n);
    bool in_msg = false;
    int first_enriched = 0; /* the ENRICHED fields come last */
    while (first_enriched < n && fields[first_enriched].part != AUDIT_PART_ENRICHED)
        first_enriched++;
    uint64_t enriched = 0;
    for (int k = first_enriched; k < n; k++)
        enriched |= enriched_bit(line, &fields[k]);
    /* Fields printed as written, one space apart in the record, are copied as
     * one span of the line: [span, span_end) starts at the space before. */
    uint32_t span = 0, span_end = 0;
    for (int k = 0; rc == 0 && k < first_enriched; k++) {
        const struct audit_field *f = &fields[k];
        const struct audit_field *e =
            enriched & enriched_bit(line, f) ? enriched_of(line, f, first_enriched, n) : NULL;
        bool msg = f->part == AUDIT_PART_MSG;
        int kind = !e && local_names && f->kind == AUDIT_VALUE_PLAIN ? id_kind(line, f) : 0;
        if (!e && !kind && f->kind == AUDIT_VALUE_PLAIN && msg == in_msg && f->name_off > 0 &&
            line[f->name_off - 1] == ' ' && f->value_off == f->name_off + f->name_len + 1u &&
            !may_change(line, f, r->type)) {
            if (span_end == 0 || f->name_off != span_end + 1) {
                if (span_end)
                    rc = buf_append(b, line + span, span_end - span);
                span = f->name_off - 1;
            }
            span_end = f->value_off + f->value_len;
            continue;
        }
        if (span_end) {
            rc = buf_append(b, line + span, span_end - span);
            span_end = 0;
        }
        rc = rc ? rc
                : buf_reserve(b,
                              f->name_len + (e ? e->value_len : f->value_len) + FORMAT_FIELD_ROOM);
        if (rc < 0)
            break;
        if (msg && !in_msg)
            buf_put(b, " msg='", 6);
        else
            buf_putc(b, ' ');
        in_msg = msg;
        buf_put(b, line + f->name_off, f->name_len);
        buf_putc(b, '=');
        if (e) {
            buf_put(b, line + e->value_off, e->value_len);
            continue;
        }
        if (kind) {
            const struct local_name *c =
                local_name(kind, id_value(line + f->value_off, f->value_len));
            buf_put(b, c->name, c->len);
            continue;
        }
        rc = put_value(b, line, f, arch, r->type);
    }
    if (rc == 0 && span_end)
        rc = buf_append(b, line + span, span_end - span);
    if (rc == 0)
        rc = buf_append(b, in_msg ? "' \n" : " \n", in_msg ? 3 : 2);
    return rc;
}

/* ----------------------------------------------------------------- csv */

struct csv_cols {
    const char *ses, *auid, *uid, *action, *result, *obj, *obj_sec, *how;
    size_t ses_n, auid_n, uid_n, action_n, result_n, obj_n, obj_sec_n, how_n;
};

static void take(const char *line, const struct audit_field *f, const char *name, const char **p,
                 size_t *len)
{
    if (!*p && name_is(line, f, name))
        *p = line + f->value_off, *len = f->value_len;
}

static int put_csv(struct buf *b, const char *p, size_t n, bool last)
{
    bool quote = p && (memchr(p, ',', n) || memchr(p, '"', n));
    int r = quote ? buf_append(b, "\"", 1) : 0;
    for (size_t i = 0; r == 0 && p && i < n; i++)
        r = p[i] == '"' ? buf_append(b, "\"\"", 2) : buf_append(b, p + i, 1);
    if (r == 0 && quote)
        r = buf_append(b, "\"", 1);
    return r ? r : buf_append(b, last ? "\n" : ",", 1);
}

int search_format_csv(struct buf *b, const struct audit_event *ev)
{
    struct csv_cols c = {0};
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        const char *line = audit_event_line(ev, i);
        int n = parse(ev, i);
        if (n < 0)
            return n;
        for (int k = 0; k < n; k++) {
            const struct audit_field *f = &fields[k];
            bool enr = f->part == AUDIT_PART_ENRICHED;
            take(line, f, "ses", &c.ses, &c.ses_n);
            take(line, f, enr ? "AUID" : "auid", &c.auid, &c.auid_n);
            take(line, f, enr ? "UID" : "uid", &c.uid, &c.uid_n);
            take(line, f, enr ? "SYSCALL" : "op", &c.action, &c.action_n);
            take(line, f, "success", &c.result, &c.result_n);
            take(line, f, "res", &c.result, &c.result_n);
            take(line, f, "name", &c.obj, &c.obj_n);
            take(line, f, "inode", &c.obj_sec, &c.obj_sec_n);
            take(line, f, "exe", &c.how, &c.how_n);
        }
    }
    char date[32], tod[32], serial[16];
    time_t t = (time_t)ev->sec;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%x", &tm);
    strftime(tod, sizeof(tod), "%H:%M:%S", &tm);
    snprintf(serial, sizeof(serial), "%u", ev->serial);
    const char *tname = ev->nrecords ? audit_tables_type_name(ev->records[0].type) : NULL;
    for (uint32_t i = 0; i < ev->nrecords; i++)
        if (ev->records[i].type == 1300 /* SYSCALL: the event's main record */)
            tname = "SYSCALL";
    const char *cols[] = {ev->node, tname, date,     tod,      serial, NULL,      c.ses, c.auid,
                          c.uid,    NULL,  c.action, c.result, c.obj,  c.obj_sec, NULL,  c.how};
    size_t lens[] = {ev->node_len,
                     tname ? strlen(tname) : 0,
                     strlen(date),
                     strlen(tod),
                     strlen(serial),
                     0,
                     c.ses_n,
                     c.auid_n,
                     c.uid_n,
                     0,
                     c.action_n,
                     c.result_n,
                     c.obj_n,
                     c.obj_sec_n,
                     0,
                     c.how_n};
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof(cols) / sizeof(cols[0]); i++)
        r = put_csv(b, cols[i], cols[i] ? lens[i] : 0, i + 1 == sizeof(cols) / sizeof(cols[0]));
    return r;
}
