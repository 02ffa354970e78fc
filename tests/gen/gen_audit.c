/*
 * gen_audit: a deterministic generator of audit logs that are hard to
 * collate, and of the truth about them. Used by tests (10-20 MB) and by
 * bench/ (200 MB). Same seed and options, same bytes.
 *
 * It keeps `--open` events in progress at once and writes their records in
 * round-robin with a little random reordering, so records of thousands of
 * events interleave and one event's records lie seconds apart in stream
 * time (ausearch's 2-second rule splits them). No EOE is written (as in
 * auditd's own logs) unless --eoe (EOE then directly follows the event's
 * last record, as the kernel writes it). Serials start near 2^32 so they roll over
 * (--rollover), records may be lost (--lost PERMILLE), several nodes may
 * share the file (--nodes).
 *
 * The truth file has one line per event as written:
 *   NODE SEC.MSEC:SERIAL NRECORDS HASH
 * NODE is "-" for none; HASH is the CRC-32 (zlib's) of the event's lines,
 * each with its newline, in the order written. A header line "# max_open N" gives the
 * most events that were open at once.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECORDS    12
#define LINE_MAX_BYTES 4096

struct opts {
    uint64_t events;
    uint32_t open;
    uint64_t seed;
    unsigned lost_permille;
    unsigned nodes;
    bool eoe;
    bool rollover;
    const char *truth;
};

struct event {
    char node[16];
    int64_t sec;
    unsigned msec;
    uint32_t serial;
    unsigned nrec, next, written;
    char *lines[MAX_RECORDS];
    uint32_t hash;
    bool active;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* CRC-32 as zlib computes it (reflected, polynomial 0xEDB88320). */
static uint32_t crc32_update(uint32_t crc, const char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void hexify(char *out, const char *s, size_t n)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[(unsigned char)s[i] >> 4];
        out[2 * i + 1] = d[(unsigned char)s[i] & 15];
    }
    out[2 * n] = 0;
}

static const char *const users[] = {"root", "alice", "bob", "carol", "dave", "www-data"};
static const unsigned uids[] = {0, 1001, 1002, 1003, 1004, 33};
static const char *const programs[][3] = {
    {"/usr/bin/ls", "ls", "-la"},         {"/usr/bin/cat", "cat", "/etc/hosts"},
    {"/usr/bin/sudo", "sudo", "id"},      {"/usr/bin/grep", "grep", "root /etc/passwd"},
    {"/usr/bin/ssh", "ssh", "build-02"},  {"/usr/bin/python3", "python3", "job.py"},
    {"/usr/bin/vim", "vim", "notes.txt"}, {"/usr/bin/curl", "curl", "https://example.org/x"},
};

struct emit {
    struct event *ev;
    char prefix[96];
};

static void add_line(struct event *ev, const char *fmt_prefix, const char *body)
{
    char line[LINE_MAX_BYTES];
    int n = snprintf(line, sizeof(line), "%s%s", fmt_prefix, body);
    if (n < 0 || (size_t)n >= sizeof(line) || ev->nrec >= MAX_RECORDS)
        abort();
    ev->lines[ev->nrec++] = strdup(line);
}

static void prefix_for(const struct event *ev, const char *type, char *out, size_t n)
{
    if (ev->node[0])
        snprintf(out, n, "node=%s type=%s msg=audit(%" PRId64 ".%03u:%u): ", ev->node, type,
                 ev->sec, ev->msec, ev->serial);
    else
        snprintf(out, n, "type=%s msg=audit(%" PRId64 ".%03u:%u): ", type, ev->sec, ev->msec,
                 ev->serial);
}

static void syscall_record(struct event *ev, int nr, bool ok, int exit_code, unsigned items,
                           unsigned u, const char *comm, const char *exe, const char *key)
{
    char p[128], body[1024], keyv[64];
    if (key)
        snprintf(keyv, sizeof(keyv), "\"%s\"", key);
    else
        snprintf(keyv, sizeof(keyv), "(null)");
    unsigned pid = 1000 + pick(60000);
    snprintf(body, sizeof(body),
             "arch=c000003e syscall=%d success=%s exit=%d a0=%x a1=%x a2=%x a3=0 items=%u "
             "ppid=%u pid=%u auid=%u uid=%u gid=%u euid=%u suid=%u fsuid=%u egid=%u sgid=%u "
             "fsgid=%u tty=pts%u ses=%u comm=\"%s\" exe=\"%s\" subj=unconfined key=%s",
             nr, ok ? "yes" : "no", exit_code, pick(0xffffff), pick(0xffffff), pick(0xffff), items,
             pid - 1, pid, uids[u], uids[u], uids[u], uids[u], uids[u], uids[u], uids[u], uids[u],
             uids[u], pick(8), 1 + u, comm, exe, keyv);
    prefix_for(ev, "SYSCALL", p, sizeof(p));
    add_line(ev, p, body);
}

static void path_record(struct event *ev, unsigned item, const char *name, const char *type)
{
    char p[128], body[1024];
    snprintf(body, sizeof(body),
             "item=%u name=\"%s\" inode=%u dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 "
             "nametype=%s cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0",
             item, name, 1000 + pick(1000000), type);
    prefix_for(ev, "PATH", p, sizeof(p));
    add_line(ev, p, body);
}

static void simple_record(struct event *ev, const char *type, const char *body)
{
    char p[128];
    prefix_for(ev, type, p, sizeof(p));
    add_line(ev, p, body);
}

static void build_execve(struct event *ev, unsigned u)
{
    const char *const *prog = programs[pick(sizeof(programs) / sizeof(programs[0]))];
    char body[2048], hex[512], title[256];
    syscall_record(ev, 59, true, 0, 2, u, prog[1], prog[0], "command_log");
    /* An argument with a space is hex-encoded, as the kernel does. */
    if (strchr(prog[2], ' ')) {
        hexify(hex, prog[2], strlen(prog[2]));
        snprintf(body, sizeof(body), "argc=2 a0=\"%s\" a1=%s", prog[1], hex);
    } else {
        snprintf(body, sizeof(body), "argc=2 a0=\"%s\" a1=\"%s\"", prog[1], prog[2]);
    }
    simple_record(ev, "EXECVE", body);
    snprintf(body, sizeof(body), "cwd=\"/home/%s\"", users[u]);
    simple_record(ev, "CWD", body);
    path_record(ev, 0, prog[0], "NORMAL");
    path_record(ev, 1, "/lib64/ld-linux-x86-64.so.2", "NORMAL");
    int n = snprintf(title, sizeof(title), "%s%c%s", prog[1], 0, prog[2]);
    hexify(hex, title, (size_t)n);
    snprintf(body, sizeof(body), "proctitle=%s", hex);
    simple_record(ev, "PROCTITLE", body);
}

static void build_delete(struct event *ev, unsigned u)
{
    char name[64];
    snprintf(name, sizeof(name), "report-%u.tmp", pick(100000));
    syscall_record(ev, 263, true, 0, 2, u, "rm", "/usr/bin/rm", "delete");
    simple_record(ev, "CWD", "cwd=\"/var/tmp\"");
    path_record(ev, 0, "/var/tmp/", "PARENT");
    path_record(ev, 1, name, "DELETE");
    simple_record(ev, "PROCTITLE", "proctitle=726D002D66");
}

static void build_denied(struct event *ev, unsigned u)
{
    syscall_record(ev, 257, false, -13, 1, u, "cat", "/usr/bin/cat", "access");
    simple_record(ev, "CWD", "cwd=\"/root\"");
    path_record(ev, 0, "/etc/shadow", "NORMAL");
    simple_record(ev, "PROCTITLE", "proctitle=636174002F6574632F736861646F77");
}

static void build_connect(struct event *ev, unsigned u)
{
    char body[256];
    syscall_record(ev, 42, pick(4) != 0, 0, 0, u, "curl", "/usr/bin/curl", NULL);
    snprintf(body, sizeof(body), "saddr=020001BBC00002%02X0000000000000000", pick(250));
    simple_record(ev, "SOCKADDR", body);
    simple_record(ev, "PROCTITLE", "proctitle=6375726C");
}

static void build_user(struct event *ev, unsigned u)
{
    static const char *const types[] = {"USER_LOGIN", "USER_AUTH", "USER_CMD", "USER_START"};
    const char *type = types[pick(4)];
    char body[512];
    bool ok = pick(5) != 0;
    snprintf(body, sizeof(body),
             "pid=%u uid=0 auid=%u ses=%u subj=unconfined msg='op=login acct=\"%s\" "
             "exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.%u terminal=ssh res=%s'",
             1000 + pick(60000), uids[u], 1 + u, users[u], pick(250), ok ? "success" : "failed");
    simple_record(ev, type, body);
}

static void start_event(struct event *ev, const struct opts *o, uint32_t *serials, int64_t ms)
{
    unsigned node = o->nodes ? pick(o->nodes) : 0;
    memset(ev, 0, sizeof(*ev));
    if (o->nodes)
        snprintf(ev->node, sizeof(ev->node), "host%02u", node);
    ev->serial = serials[node]++;
    ev->sec = ms / 1000;
    ev->msec = (unsigned)(ms % 1000);
    ev->hash = 0;
    ev->active = true;
    unsigned u = pick(6), kind = pick(100);
    if (kind < 40)
        build_execve(ev, u);
    else if (kind < 55)
        build_delete(ev, u);
    else if (kind < 65)
        build_denied(ev, u);
    else if (kind < 80)
        build_connect(ev, u);
    else
        build_user(ev, u);
    if (o->eoe && ev->nrec > 1) /* the kernel ends multi-record events only */
        simple_record(ev, "EOE", "");
}

static void finish_event(struct event *ev, FILE *truth)
{
    if (ev->written && truth)
        fprintf(truth, "%s %" PRId64 ".%03u:%u %u %08" PRIx32 "\n", ev->node[0] ? ev->node : "-",
                ev->sec, ev->msec, ev->serial, ev->written, ev->hash);
    for (unsigned i = 0; i < ev->nrec; i++)
        free(ev->lines[i]);
    ev->active = false;
}

/* Writes the next record of ev, or loses it (--lost). */
static void write_record(struct event *ev, const struct opts *o, FILE *out)
{
    const char *line = ev->lines[ev->next++];
    bool lose = o->lost_permille && pick(1000) < o->lost_permille;
    if (!lose) {
        fputs(line, out);
        fputc('\n', out);
        ev->hash = crc32_update(ev->hash, line, strlen(line));
        ev->hash = crc32_update(ev->hash, "\n", 1);
        ev->written++;
    }
}

/* Writes ev's next record; returns true when ev is done. EOE follows the
 * event's last record at once: the kernel writes them back to back in
 * audit_log_exit, whatever else interleaves between records. */
static bool write_next(struct event *ev, const struct opts *o, FILE *out)
{
    write_record(ev, o, out);
    if (o->eoe && ev->nrec > 1 && ev->next + 1 == ev->nrec)
        write_record(ev, o, out);
    return ev->next == ev->nrec;
}

static int usage(void)
{
    fputs("usage: gen_audit [--events N] [--open K] [--seed S] [--lost PERMILLE] [--nodes N]\n"
          "                 [--eoe] [--rollover] [--truth FILE] > audit.log\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.events = 100000, .open = 16, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--eoe"))
            o.eoe = true;
        else if (!strcmp(a, "--rollover"))
            o.rollover = true;
        else if (v && !strcmp(a, "--events"))
            o.events = strtoull(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--open"))
            o.open = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--seed"))
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--lost"))
            o.lost_permille = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--nodes"))
            o.nodes = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--truth"))
            o.truth = argv[++i];
        else
            return usage();
    }
    if (o.open == 0 || o.nodes > 99)
        return usage();
    rng_state = o.seed * 0x9e3779b97f4a7c15ull + 1;
    FILE *truth = o.truth ? fopen(o.truth, "w") : NULL;
    if (o.truth && !truth) {
        perror(o.truth);
        return 2;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    struct event *slots = calloc(o.open, sizeof(*slots));
    uint32_t serials[100];
    for (int i = 0; i < 100; i++)
        serials[i] =
            o.rollover ? UINT32_MAX - (uint32_t)(o.events / 2 / (o.nodes ? o.nodes : 1)) : 1000;
    int64_t ms = 1732270800000LL; /* 2024-11-22T10:20:00Z */
    /* active: started here; open: a record written and the event not done,
     * which is what a reader sees open at once. */
    uint64_t started = 0, active = 0, open_now = 0, max_open = 0;
    for (uint32_t i = 0; i < o.open && started < o.events; i++, started++, active++) {
        start_event(&slots[i], &o, serials, ms);
        ms += 1 + pick(2);
    }
    /* Round-robin over the slots, each step swapping with a near neighbour so
     * the order is not fixed; a finished event's slot starts a new one. */
    uint32_t cursor = 0;
    while (active) {
        uint32_t i = cursor;
        uint32_t j = (cursor + pick(4)) % o.open;
        if (slots[j].active && slots[i].active) {
            struct event t = slots[i];
            slots[i] = slots[j];
            slots[j] = t;
        }
        cursor = (cursor + 1) % o.open;
        if (!slots[i].active)
            continue;
        bool first = slots[i].written == 0;
        bool done = write_next(&slots[i], &o, stdout);
        if (first && slots[i].written)
            open_now++;
        if (done) {
            if (slots[i].written)
                open_now--;
            finish_event(&slots[i], truth);
            active--;
            if (started < o.events) {
                start_event(&slots[i], &o, serials, ms);
                ms += 1 + pick(2);
                started++;
                active++;
            }
        }
        if (open_now > max_open)
            max_open = open_now;
    }
    if (truth) {
        fprintf(truth, "# max_open %" PRIu64 "\n", max_open);
        fclose(truth);
    }
    free(slots);
    return fflush(stdout) == 0 ? 0 : 2;
}
