/*
 * report: aureport's summary and item tables (see report.h). report_add is
 * aureport-scan.c's do_summary_total (and per_event_summary for the tables)
 * over the items search/query gathered for the event; the text is
 * aureport-output.c's layout, so `logward report --summary` and
 * `aureport --summary` can be compared line by line
 * (tests/integration/report_equivalence.py). Names for auids come from the
 * records (ENRICHED), or this machine's accounts with local_names.
 */
#include "search/report.h"

#include "base/json.h"

#include <errno.h>
#include <libaudit.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[REPORT_KINDS] = {"summary",    "login", "key",
                                                     "executable", "file",  "user"};
static const char *const count_names[REPORT_N_COUNTS] = {"changes",
                                                         "account_changes",
                                                         "logins",
                                                         "failed_logins",
                                                         "authentications",
                                                         "failed_authentications",
                                                         "avcs",
                                                         "mac_events",
                                                         "failed_syscalls",
                                                         "anomalies",
                                                         "anomaly_responses",
                                                         "crypto_events",
                                                         "integrity_events",
                                                         "virt_events",
                                                         "events"};
static const char *const set_names[REPORT_S_SETS] = {
    "users", "terminals", "host_names", "executables", "commands", "files", "keys", "pids"};

const char *report_kind_name(enum report_kind k)
{
    return k < REPORT_KINDS ? kind_names[k] : "?";
}
const char *report_count_name(enum report_count c)
{
    return c < REPORT_N_COUNTS ? count_names[c] : "?";
}
const char *report_set_name(enum report_set s)
{
    return s < REPORT_S_SETS ? set_names[s] : "?";
}

static void part_init(struct report_part *p, const char *host)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
    for (int i = 0; i < REPORT_S_SETS; i++)
        tally_init(&p->sets[i]);
    tally_init(&p->table);
    tally_init(&p->login_failed);
}

static void part_free(struct report_part *p)
{
    for (int i = 0; i < REPORT_S_SETS; i++)
        tally_free(&p->sets[i]);
    tally_free(&p->table);
    tally_free(&p->login_failed);
}

void report_init(struct report *r, enum report_kind kind, enum report_only only)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->only = only;
    part_init(&r->total, "");
}

void report_free(struct report *r)
{
    part_free(&r->total);
    for (size_t i = 0; i < r->nhosts; i++)
        part_free(&r->hosts[i]);
    free(r->hosts);
}

static struct report_part *host_part(struct report *r, const char *host)
{
    host = host ? host : "";
    for (size_t i = r->nhosts; i-- > 0;) /* the newest first: hosts come one after another */
        if (!strncmp(r->hosts[i].host, host, REPORT_HOST_MAX - 1))
            return &r->hosts[i];
    if (r->nhosts == r->caphosts) {
        size_t cap = r->caphosts ? r->caphosts * 2 : 16;
        struct report_part *h = realloc(r->hosts, cap * sizeof(*h));
        if (!h)
            return NULL;
        r->hosts = h, r->caphosts = cap;
    }
    part_init(&r->hosts[r->nhosts], host);
    return &r->hosts[r->nhosts++];
}

static bool before(struct report_stamp a, struct report_stamp b)
{
    return a.sec < b.sec || (a.sec == b.sec && a.msec < b.msec);
}

/* The earliest and the latest event (aureport: the first and last it
 * collated, which for a log in time order are the same). */
static void saw(struct report_part *p, const struct audit_event *ev)
{
    struct report_stamp s = {ev->sec, ev->msec};
    if (!p->seen_any || before(s, p->first))
        p->first = s;
    if (!p->seen_any || before(p->last, s))
        p->last = s;
    p->seen_any = true;
}

int report_saw(struct report *r, const char *host, const struct audit_event *ev)
{
    struct report_part *h = host_part(r, host);
    if (!h)
        return -ENOMEM;
    saw(&r->total, ev);
    saw(h, ev);
    return 0;
}

static bool has(const struct audit_event *ev, int type)
{
    for (uint32_t i = 0; i < ev->nrecords; i++)
        if (ev->records[i].type == type)
            return true;
    return false;
}

static bool has_range(const struct audit_event *ev, int lo, int hi)
{
    for (uint32_t i = 0; i < ev->nrecords; i++)
        if (ev->records[i].type >= lo && ev->records[i].type <= hi)
            return true;
    return false;
}

/* aureport's config, account, crypto, MAC... counts: each is one test of the
 * event's record types, as in do_summary_total. */
static void count_types(uint64_t *c, const struct audit_event *ev)
{
    static const int changes[] = {AUDIT_CONFIG_CHANGE,  AUDIT_DAEMON_CONFIG,
                                  AUDIT_USYS_CONFIG,    AUDIT_NETFILTER_CFG,
                                  AUDIT_FEATURE_CHANGE, AUDIT_USER_MAC_CONFIG_CHANGE};
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
        c[REPORT_N_CHANGES] += has(ev, changes[i]);
    c[REPORT_N_CHANGES] += has_range(ev, AUDIT_MAC_POLICY_LOAD, AUDIT_MAC_UNLBL_STCDEL);
    c[REPORT_N_ACCT_CHANGES] += has(ev, AUDIT_USER_CHAUTHTOK) +
                                has_range(ev, AUDIT_ADD_USER, AUDIT_DEL_GROUP) +
                                has(ev, AUDIT_USER_MGMT) + has(ev, AUDIT_GRP_MGMT) +
                                has_range(ev, AUDIT_ROLE_ASSIGN, AUDIT_ROLE_REMOVE);
    c[REPORT_N_CRYPTO] += has_range(ev, AUDIT_FIRST_KERN_CRYPTO_MSG, AUDIT_LAST_KERN_CRYPTO_MSG) +
                          has_range(ev, AUDIT_FIRST_CRYPTO_MSG, AUDIT_LAST_CRYPTO_MSG);
    c[REPORT_N_AVCS] += has(ev, AUDIT_AVC) || has(ev, AUDIT_USER_AVC);
    c[REPORT_N_MAC] += has_range(ev, AUDIT_MAC_POLICY_LOAD, AUDIT_MAC_UNLBL_STCDEL) +
                       has_range(ev, AUDIT_FIRST_USER_LSPP_MSG, AUDIT_LAST_USER_LSPP_MSG);
    c[REPORT_N_VIRT] += has_range(ev, AUDIT_FIRST_VIRT_MSG, AUDIT_LAST_VIRT_MSG);
    c[REPORT_N_INTEGRITY] += has_range(ev, AUDIT_INTEGRITY_FIRST_MSG, AUDIT_INTEGRITY_LAST_MSG);
    c[REPORT_N_ANOMALIES] += has_range(ev, AUDIT_FIRST_ANOM_MSG, AUDIT_LAST_ANOM_MSG) +
                             has_range(ev, AUDIT_FIRST_KERN_ANOM_MSG, AUDIT_LAST_KERN_ANOM_MSG);
    c[REPORT_N_RESPONSES] += has_range(ev, AUDIT_FIRST_ANOM_RESP, AUDIT_LAST_ANOM_RESP);
}

static void count_success(uint64_t *c, const struct audit_event *ev, const struct search_items *it)
{
    if (has(ev, AUDIT_USER_LOGIN)) {
        c[REPORT_N_LOGINS] += it->success == 1;
        c[REPORT_N_FAILED_LOGINS] += it->success == 0;
    }
    if (has(ev, AUDIT_USER_AUTH) || (!has(ev, AUDIT_USER_MGMT) && has(ev, AUDIT_GRP_AUTH))) {
        c[REPORT_N_AUTHS] += it->success == 1;
        c[REPORT_N_FAILED_AUTHS] += it->success == 0;
    } else if (has(ev, AUDIT_USER_MGMT)) {
        c[REPORT_N_FAILED_AUTHS] += it->success == 0; /* only the failures, as aureport */
    }
    c[REPORT_N_FAILED_SYSCALLS] += it->success == 0 && it->syscall > 0;
}

static int add_span(struct tally *t, struct search_span s)
{
    return s.p ? tally_add(t, s.p, s.n) : 0;
}

static int add_number(struct tally *t, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", v);
    return tally_add(t, tmp, (size_t)n);
}

/* This machine's name for a uid, or NULL: getpwuid_r (reports are counted on
 * several threads), remembered per thread in REPORT_NAME_SLOTS slots
 * (direct-mapped; a miss is remembered too). */
#define REPORT_NAME_SLOTS 64
#define REPORT_NAME_MAX   64 /* bytes of a remembered name; longer ones are looked up each time */
static const char *local_user(uint32_t id)
{
    static _Thread_local struct {
        bool used, found;
        uint32_t id;
        char name[REPORT_NAME_MAX];
    } cache[REPORT_NAME_SLOTS];
    static _Thread_local char longer[1024];
    unsigned h = (id * 2654435761u) >> 26; /* 6 bits: REPORT_NAME_SLOTS */
    if (cache[h].used && cache[h].id == id)
        return cache[h].found ? cache[h].name : NULL;
    char tmp[1024];
    struct passwd pw, *res = NULL;
    if (getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res) != 0)
        res = NULL;
    size_t n = res ? strlen(res->pw_name) : 0;
    if (res && n >= REPORT_NAME_MAX) { /* not remembered */
        snprintf(longer, sizeof(longer), "%s", res->pw_name);
        return longer;
    }
    cache[h].used = true, cache[h].id = id, cache[h].found = res != NULL;
    if (res)
        memcpy(cache[h].name, res->pw_name, n + 1);
    return res ? cache[h].name : NULL;
}

/* An auid as aureport prints it: the number (as a signed int: unset is -1),
 * or with names: unset, the record's name, this machine's, or the number. */
static int add_auid_name(const struct report *r, struct tally *t, const struct search_items *it)
{
    char tmp[24];
    int32_t id = (int32_t)(uint32_t)it->auid;
    if (r->names && id == -1)
        return tally_add(t, "unset", 5);
    if (r->names && it->auid_name.p)
        return add_span(t, it->auid_name);
    const char *name = r->names ? local_user((uint32_t)it->auid) : NULL;
    if (name)
        return tally_add(t, name, strlen(name));
    int n = snprintf(tmp, sizeof(tmp), "%d", id);
    return tally_add(t, tmp, (size_t)n);
}

static int count_sets(struct report_part *p, const struct search_items *it)
{
    int r = 0;
    if (it->auid != SEARCH_UNSET)
        r = add_number(&p->sets[REPORT_S_USERS], (int32_t)(uint32_t)it->auid);
    if (r == 0)
        r = add_span(&p->sets[REPORT_S_TERMINALS], it->terminal);
    if (r == 0)
        r = add_span(&p->sets[REPORT_S_HOSTS], it->host);
    if (r == 0)
        r = add_span(&p->sets[REPORT_S_EXES], it->exe);
    if (r == 0)
        r = add_span(&p->sets[REPORT_S_COMMS], it->comm);
    for (unsigned i = 0; r == 0 && i < it->nfiles; i++)
        r = add_span(&p->sets[REPORT_S_FILES], it->files[i]);
    for (unsigned i = 0; r == 0 && i < it->nkeys; i++)
        if (!(it->keys[i].n == 6 && !memcmp(it->keys[i].p, "(null)", 6)))
            r = add_span(&p->sets[REPORT_S_KEYS], it->keys[i]);
    if (r == 0 && it->pid != SEARCH_UNSET && it->pid != -1)
        r = add_number(&p->sets[REPORT_S_PIDS], (int32_t)it->pid);
    return r;
}

static int count_table(const struct report *r, struct report_part *p, const struct audit_event *ev,
                       const struct search_items *it)
{
    int rc = 0;
    switch (r->kind) {
    case REPORT_SUMMARY:
        break;
    case REPORT_LOGIN:
        if (has(ev, AUDIT_USER_LOGIN)) {
            rc = add_auid_name(r, &p->table, it);
            if (rc == 0 && it->success == 0)
                rc = add_auid_name(r, &p->login_failed, it);
        }
        break;
    case REPORT_KEY:
        for (unsigned i = 0; rc == 0 && i < it->nkeys; i++)
            if (!(it->keys[i].n == 6 && !memcmp(it->keys[i].p, "(null)", 6)))
                rc = add_span(&p->table, it->keys[i]);
        break;
    case REPORT_EXE:
        rc = add_span(&p->table, it->exe);
        break;
    case REPORT_FILE:
        for (unsigned i = 0; rc == 0 && i < it->nfiles; i++)
            rc = add_span(&p->table, it->files[i]);
        break;
    case REPORT_USER:
        if (it->auid != SEARCH_UNSET)
            rc = add_auid_name(r, &p->table, it);
        break;
    case REPORT_KINDS:
        break;
    }
    return rc;
}

static int count(const struct report *r, struct report_part *p, const struct audit_event *ev,
                 const struct search_items *it)
{
    p->counts[REPORT_N_EVENTS]++;
    count_types(p->counts, ev);
    count_success(p->counts, ev, it);
    int rc = count_sets(p, it);
    return rc < 0 ? rc : count_table(r, p, ev, it);
}

int report_add(struct report *r, const char *host, const struct audit_event *ev,
               const struct search_items *it)
{
    if ((r->only == REPORT_FAILED && it->success != 0) ||
        (r->only == REPORT_SUCCESS && it->success != 1))
        return 0;
    struct report_part *h = host_part(r, host);
    if (!h)
        return -ENOMEM;
    int rc = count(r, &r->total, ev, it);
    if (rc == 0)
        rc = count(r, h, ev, it);
    return rc < 0 ? rc : 1;
}

static int part_merge(struct report_part *to, const struct report_part *from)
{
    if (from->seen_any) {
        if (!to->seen_any || before(from->first, to->first))
            to->first = from->first;
        if (!to->seen_any || before(to->last, from->last))
            to->last = from->last;
        to->seen_any = true;
    }
    for (int i = 0; i < REPORT_N_COUNTS; i++)
        to->counts[i] += from->counts[i];
    int rc = 0;
    for (int i = 0; rc == 0 && i < REPORT_S_SETS; i++)
        rc = tally_merge_seen(&to->sets[i], &from->sets[i]);
    if (rc == 0)
        rc = tally_merge_seen(&to->table, &from->table);
    return rc ? rc : tally_merge_seen(&to->login_failed, &from->login_failed);
}

int report_merge_host(struct report *r, struct report_part *from)
{
    int rc = part_merge(&r->total, from);
    for (size_t i = 0; rc == 0 && i < r->nhosts; i++)
        if (!strncmp(r->hosts[i].host, from->host, REPORT_HOST_MAX - 1))
            return part_merge(&r->hosts[i], from); /* a host seen before: added to */
    if (rc < 0)
        return rc;
    if (r->nhosts == r->caphosts) {
        size_t cap = r->caphosts ? r->caphosts * 2 : 16;
        struct report_part *h = realloc(r->hosts, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        r->hosts = h, r->caphosts = cap;
    }
    r->hosts[r->nhosts++] = *from;                 /* a new host: its part moves, not copied */
    part_init(from, r->hosts[r->nhosts - 1].host); /* emptied, its name kept */
    return 0;
}

/* ---------------------------------------------------------------- output */

/* "%x %T" as aureport prints it: the locale's date (two-digit year in C). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k"
#endif
static void when(char *out, size_t n, int64_t sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, n, "%x %T", &tm))
        snprintf(out, n, "?");
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static int put_summary(const struct report_part *p, const struct report_window *w, struct buf *b)
{
    char a[64], z[64];
    when(a, sizeof(a), p->first.sec);
    when(z, sizeof(z), p->last.sec);
    int r = buf_printf(b, "Range of time in logs: %s.%03u - %s.%03u\n", a, p->first.msec, z,
                       p->last.msec);
    when(a, sizeof(a), w->has_start ? (int64_t)w->start : p->first.sec);
    when(z, sizeof(z), w->has_end ? (int64_t)w->end : p->last.sec);
    if (r == 0 && w->has_end)
        r = buf_printf(b, "Selected time for report: %s - %s\n", a, z);
    else if (r == 0)
        r = buf_printf(b, "Selected time for report: %s - %s.%03u\n", a, z, p->last.msec);
    const uint64_t *c = p->counts;
    const struct tally *s = p->sets;
    if (r == 0)
        r = buf_printf(
            b,
            "Number of changes in configuration: %llu\n"
            "Number of changes to accounts, groups, or roles: %llu\n"
            "Number of logins: %llu\n"
            "Number of failed logins: %llu\n"
            "Number of authentications: %llu\n"
            "Number of failed authentications: %llu\n",
            (unsigned long long)c[REPORT_N_CHANGES], (unsigned long long)c[REPORT_N_ACCT_CHANGES],
            (unsigned long long)c[REPORT_N_LOGINS], (unsigned long long)c[REPORT_N_FAILED_LOGINS],
            (unsigned long long)c[REPORT_N_AUTHS], (unsigned long long)c[REPORT_N_FAILED_AUTHS]);
    if (r == 0)
        r = buf_printf(b,
                       "Number of users: %zu\nNumber of terminals: %zu\nNumber of host names: "
                       "%zu\nNumber of executables: %zu\nNumber of commands: %zu\nNumber of "
                       "files: %zu\n",
                       s[REPORT_S_USERS].count, s[REPORT_S_TERMINALS].count,
                       s[REPORT_S_HOSTS].count, s[REPORT_S_EXES].count, s[REPORT_S_COMMS].count,
                       s[REPORT_S_FILES].count);
    if (r == 0)
        r = buf_printf(
            b,
            "Number of AVC's: %llu\nNumber of MAC events: %llu\nNumber of failed "
            "syscalls: %llu\nNumber of anomaly events: %llu\nNumber of responses to "
            "anomaly events: %llu\nNumber of crypto events: %llu\nNumber of integrity "
            "events: %llu\nNumber of virt events: %llu\n",
            (unsigned long long)c[REPORT_N_AVCS], (unsigned long long)c[REPORT_N_MAC],
            (unsigned long long)c[REPORT_N_FAILED_SYSCALLS],
            (unsigned long long)c[REPORT_N_ANOMALIES], (unsigned long long)c[REPORT_N_RESPONSES],
            (unsigned long long)c[REPORT_N_CRYPTO], (unsigned long long)c[REPORT_N_INTEGRITY],
            (unsigned long long)c[REPORT_N_VIRT]);
    if (r == 0)
        r = buf_printf(
            b, "Number of keys: %zu\nNumber of process IDs: %zu\nNumber of events: %llu\n\n",
            s[REPORT_S_KEYS].count, s[REPORT_S_PIDS].count, (unsigned long long)c[REPORT_N_EVENTS]);
    return r;
}

static const struct {
    const char *title, *rule, *column;
} titles[REPORT_KINDS] = {
    [REPORT_SUMMARY] = {"Summary Report", "======================", NULL},
    [REPORT_LOGIN] = {"Login Summary Report", "============================", "auid"},
    [REPORT_KEY] = {"Key Summary Report", "===========================", "key"},
    [REPORT_EXE] = {"Executable Summary Report", "=================================", "file"},
    [REPORT_FILE] = {"File Summary Report", "===========================", "file"},
    [REPORT_USER] = {"User Summary Report", "===========================", "auid"},
};

static int put_table(const struct tally *t, struct buf *b)
{
    if (t->count == 0)
        return buf_append_str(b, "<no events of interest were found>\n\n");
    const struct tally_entry **v;
    int r = tally_sorted(t, &v);
    for (size_t i = 0; r == 0 && i < t->count; i++)
        r = buf_printf(b, "%llu  %s\n", (unsigned long long)v[i]->hits, v[i]->s);
    free(v);
    return r;
}

int report_format_text(const struct report *r, const struct report_part *p,
                       const struct report_window *w, struct buf *out)
{
    const char *only = r->only == REPORT_FAILED    ? "Failed "
                       : r->only == REPORT_SUCCESS ? "Success "
                                                   : "";
    int rc = buf_printf(out, "\n%s%s\n%s\n", only, titles[r->kind].title, titles[r->kind].rule);
    if (rc < 0)
        return rc;
    if (r->kind == REPORT_SUMMARY)
        return put_summary(p, w, out);
    rc = buf_printf(out, "total  %s\n%s\n", titles[r->kind].column, titles[r->kind].rule);
    return rc < 0 ? rc : put_table(&p->table, out);
}

/* ------------------------------------------------------------------ json */

static int put_stamp(struct buf *b, const char *key, int64_t sec, int msec)
{
    int r = json_put_key(b, key);
    if (r == 0 && msec < 0)
        r = json_put_i64(b, sec);
    else if (r == 0)
        r = buf_printf(b, "%lld.%03d", (long long)sec, msec);
    return r;
}

static int put_json_table(struct buf *b, const char *key, const struct tally *t)
{
    const struct tally_entry **v;
    int r = json_put_key(b, key);
    if (r == 0)
        r = json_put_raw(b, "[");
    if (r == 0)
        r = tally_sorted(t, &v);
    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i < t->count; i++) {
        r = json_put_raw(b, i ? ",{\"value\":" : "{\"value\":");
        if (r == 0)
            r = json_put_string(b, v[i]->s, v[i]->n);
        if (r == 0)
            r = buf_printf(b, ",\"hits\":%llu}", (unsigned long long)v[i]->hits);
    }
    free(v);
    return r ? r : json_put_raw(b, "]");
}

static int put_json_part(const struct report *r, const struct report_part *p, struct buf *b)
{
    int rc = json_put_raw(b, "{\"host\":");
    if (rc == 0)
        rc = json_put_string(b, p->host, strlen(p->host));
    if (rc == 0 && p->seen_any) {
        rc = json_put_raw(b, ",");
        if (rc == 0)
            rc = put_stamp(b, "first", p->first.sec, (int)p->first.msec);
        if (rc == 0)
            rc = json_put_raw(b, ",");
        if (rc == 0)
            rc = put_stamp(b, "last", p->last.sec, (int)p->last.msec);
    }
    if (rc == 0)
        rc = json_put_raw(b, ",\"counts\":{");
    for (int i = 0; rc == 0 && i < REPORT_N_COUNTS; i++)
        rc = buf_printf(b, "%s\"%s\":%llu", i ? "," : "", count_names[i],
                        (unsigned long long)p->counts[i]);
    if (rc == 0)
        rc = json_put_raw(b, "},\"distinct\":{");
    for (int i = 0; rc == 0 && i < REPORT_S_SETS; i++)
        rc = buf_printf(b, "%s\"%s\":%zu", i ? "," : "", set_names[i], p->sets[i].count);
    if (rc == 0)
        rc = json_put_raw(b, "}");
    if (rc == 0 && r->kind != REPORT_SUMMARY) {
        rc = json_put_raw(b, ",");
        if (rc == 0)
            rc = put_json_table(b, "table", &p->table);
        if (rc == 0 && r->kind == REPORT_LOGIN) {
            rc = json_put_raw(b, ",");
            if (rc == 0)
                rc = put_json_table(b, "failed", &p->login_failed);
        }
    }
    return rc ? rc : json_put_raw(b, "}");
}

int report_format_json(const struct report *r, const struct report_window *w, bool per_host,
                       struct buf *out)
{
    static const char *const only[] = {"all", "failed", "success"};
    int rc =
        buf_printf(out, "{\"report\":\"%s\",\"only\":\"%s\"", kind_names[r->kind], only[r->only]);
    if (rc == 0 && w->has_start) {
        rc = json_put_raw(out, ",");
        if (rc == 0)
            rc = put_stamp(out, "start", w->start, -1);
    }
    if (rc == 0 && w->has_end) {
        rc = json_put_raw(out, ",");
        if (rc == 0)
            rc = put_stamp(out, "end", w->end, -1);
    }
    if (rc == 0)
        rc = json_put_raw(out, ",\"total\":");
    if (rc == 0)
        rc = put_json_part(r, &r->total, out);
    if (rc == 0 && per_host) {
        rc = json_put_raw(out, ",\"hosts\":[");
        for (size_t i = 0; rc == 0 && i < r->nhosts; i++) {
            if (i)
                rc = json_put_raw(out, ",");
            if (rc == 0)
                rc = put_json_part(r, &r->hosts[i], out);
        }
        if (rc == 0)
            rc = json_put_raw(out, "]");
    }
    return rc ? rc : json_put_raw(out, "}\n");
}
