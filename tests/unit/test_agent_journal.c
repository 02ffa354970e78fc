/*
 * test_agent_journal: the journal:PATH input against real journal files,
 * made without a running journald by systemd-journal-remote reading the
 * journal export format on stdin (package systemd-journal-remote; skipped
 * with 77 when it is absent). Checks the RFC 5424 rendering (PRI from
 * SYSLOG_FACILITY and PRIORITY, UTC time with microseconds, HOST, APP from
 * SYSLOG_IDENTIFIER or _COMM, PROCID, the structured data and its escapes,
 * LF and a non-UTF-8 byte in MESSAGE as #ooo), a restart from the committed
 * cursor in the middle (no repeat, no loss), entries appended while open
 * (woken by input_fd), and a journal directory.
 */
#include "agent/input.h"
#include "agent_queue_fake.h"
#include "check.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOOT " _BOOT_ID=\"0123456789abcdef0123456789abcdef\""

static char dir[64];
static const char *remote;

static void field(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s=%s\n", name, value);
}

/* A binary field: NAME LF le64 length, the bytes, LF. */
static void binary(FILE *f, const char *name, const char *v, size_t n)
{
    fprintf(f, "%s\n", name);
    for (int i = 0; i < 8; i++)
        fputc((int)((n >> (8 * i)) & 0xff), f);
    fwrite(v, 1, n, f);
    fputc('\n', f);
}

static void common(FILE *f, unsigned long long usec)
{
    fprintf(f, "__REALTIME_TIMESTAMP=%llu\n__MONOTONIC_TIMESTAMP=%llu\n", usec, usec / 1000);
    field(f, "_BOOT_ID", "0123456789abcdef0123456789abcdef");
    field(f, "_HOSTNAME", "hostA");
}

/* Appends entries "msg FIRST" .. "msg LAST-1" to the journal file. */
static int write_journal(const char *out, bool specials, int first, int last)
{
    char exp[128], cmd[512];
    snprintf(exp, sizeof exp, "%s/in.export", dir);
    FILE *f = fopen(exp, "w");
    if (!f)
        return -1;
    if (specials) {
        common(f, 1764583200123456ull);
        field(f, "SYSLOG_IDENTIFIER", "sshd");
        field(f, "_PID", "42");
        field(f, "PRIORITY", "4");
        field(f, "SYSLOG_FACILITY", "10");
        field(f, "_SYSTEMD_UNIT", "ssh.service");
        field(f, "_UID", "0");
        field(f, "_COMM", "sshd");
        field(f, "_EXE", "/usr/sbin/sshd");
        field(f, "_TRANSPORT", "syslog");
        field(f, "MESSAGE", "Accepted publickey for \"root\" from 10.0.0.1");
        fputc('\n', f);
        common(f, 1764583201000001ull);
        field(f, "_COMM", "cron");
        field(f, "_CMDLINE", "/usr/sbin/cron -f [x] \\y \"z\"");
        binary(f, "MESSAGE", "two\nlines \xff\xc3\xa9", 13);
        fputc('\n', f);
        common(f, 1764583202000000ull);
        field(f, "_TRANSPORT", "kernel");
        field(f, "PRIORITY", "3");
        field(f, "MESSAGE", "kernel says");
        fputc('\n', f);
    }
    for (int i = first; i < last; i++) {
        common(f, 1764583300000000ull + (unsigned long long)i * 1000);
        field(f, "SYSLOG_IDENTIFIER", "app");
        fprintf(f, "MESSAGE=msg %d\n\n", i);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s --output=%s - < %s 2>/dev/null", remote, out, exp);
    return system(cmd);
}

static int drain(struct input *in, size_t budget)
{
    int total = 0, r;
    while ((r = input_run(in, budget)) > 0)
        total += r;
    return r < 0 ? r : total;
}

/* Records from `from` on are "... msg FIRST" .. "msg LAST-1", in order. */
static void expect_msgs(const struct queue *q, size_t from, int first, int last)
{
    CHECK_INT(q->ncommitted - from, last - first);
    for (int i = first; i < last && from + (size_t)(i - first) < q->ncommitted; i++) {
        char want[32];
        snprintf(want, sizeof want, " msg %d", i);
        const char *r = fake_record(q, from + (size_t)(i - first));
        size_t rl = strlen(r), wl = strlen(want);
        if (rl < wl || strcmp(r + rl - wl, want)) {
            fprintf(stderr, "record %zu: \"%s\" does not end in \"%s\"\n",
                    from + (size_t)(i - first), r, want);
            check_failures++;
        }
    }
}

static struct input *open_input(const char *spec, struct queue *q)
{
    char err[256];
    struct input *in = NULL;
    if (input_open(spec, q, &in, err, sizeof err) < 0) {
        fprintf(stderr, "input_open(%s): %s\n", spec, err);
        exit(1);
    }
    return in;
}

static void test_file(void)
{
    char file[128], spec[160];
    snprintf(file, sizeof file, "%s/a.journal", dir);
    snprintf(spec, sizeof spec, "journal:%s", file);
    CHECK_INT(write_journal(file, true, 0, 40), 0);
    struct queue *q = fake_queue_new();
    struct input *in = open_input(spec, q);
    CHECK_INT(input_run(in, 13), 13);
    CHECK_INT(q->ncommitted, 13);
    CHECK_STR(fake_record(q, 0),
              "<84>1 2025-12-01T10:00:00.123456Z hostA sshd 42 - [journal@32473 "
              "_SYSTEMD_UNIT=\"ssh.service\" _UID=\"0\" _COMM=\"sshd\" _EXE=\"/usr/sbin/sshd\" "
              "_TRANSPORT=\"syslog\"" BOOT "] Accepted publickey for \"root\" from 10.0.0.1");
    CHECK_STR(fake_record(q, 1),
              "<14>1 2025-12-01T10:00:01.000001Z hostA cron - - [journal@32473 _COMM=\"cron\" "
              "_CMDLINE=\"/usr/sbin/cron -f [x\\] \\\\y \\\"z\\\"\"" BOOT
              "] two#012lines #377\xc3\xa9");
    CHECK_STR(fake_record(q, 2), "<3>1 2025-12-01T10:00:02.000000Z hostA - - - "
                                 "[journal@32473 _TRANSPORT=\"kernel\"" BOOT "] kernel says");
    CHECK_STR(fake_record(q, 3),
              "<14>1 2025-12-01T10:01:40.000000Z hostA app - - [journal@32473" BOOT "] msg 0");
    CHECK_INT(q->ncommitted ? q->committed[0].kind : 0, QUEUE_KIND_SYSLOG);
    CHECK(q->pos_len[0] > 0 && memcmp(q->pos[0], "s=", 2) == 0); /* a cursor */
    input_free(in); /* restart from the committed cursor */
    in = open_input(spec, q);
    CHECK_INT(drain(in, 7), 30);
    expect_msgs(q, 3, 0, 40);
    /* appended while open: input_fd wakes, the new entries follow */
    CHECK_INT(write_journal(file, false, 40, 45), 0);
    struct pollfd p = {.fd = input_fd(in), .events = POLLIN};
    int got = 0;
    for (int i = 0; i < 50 && got < 5; i++) {
        poll(&p, 1, 100);
        int r = drain(in, 100);
        CHECK(r >= 0);
        got += r > 0 ? r : 0;
    }
    CHECK_INT(got, 5);
    expect_msgs(q, 3, 0, 45);
    CHECK_INT(input_stats(in)->read, 35);
    input_free(in);
    fake_queue_free(q);
    unlink(file);
}

static void test_directory(void)
{
    char sub[128], file[160], spec[160];
    snprintf(sub, sizeof sub, "%s/dir", dir);
    mkdir(sub, 0700);
    snprintf(file, sizeof file, "%s/remote.journal", sub);
    snprintf(spec, sizeof spec, "journal:%s", sub);
    CHECK_INT(write_journal(file, false, 0, 20), 0);
    struct queue *q = fake_queue_new();
    struct input *in = open_input(spec, q);
    CHECK_INT(drain(in, 8), 20);
    expect_msgs(q, 0, 0, 20);
    input_free(in);
    in = open_input(spec, q);
    CHECK_INT(drain(in, 8), 0); /* nothing repeats */
    input_free(in);
    fake_queue_free(q);
    unlink(file);
    rmdir(sub);
}

static void test_missing(void)
{
    struct queue *q = fake_queue_new();
    struct input *in = open_input("journal:/nonexistent/x.journal", q);
    CHECK_INT(input_run(in, 10), 0);
    CHECK_INT(input_stats(in)->gone, 1);
    input_free(in);
    fake_queue_free(q);
}

int main(void)
{
    static const char *const where[] = {"/lib/systemd/systemd-journal-remote",
                                        "/usr/lib/systemd/systemd-journal-remote"};
    for (size_t i = 0; i < 2 && !remote; i++)
        if (access(where[i], X_OK) == 0)
            remote = where[i];
    char err[128];
    if (input_check_spec("journal", err, sizeof err) < 0) {
        printf("SKIP: %s\n", err);
        return 77;
    }
    if (!remote) {
        printf("SKIP: systemd-journal-remote not installed (package systemd-journal-remote)\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/lw-agent-journal-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    test_file();
    test_directory();
    test_missing();
    char p[128];
    snprintf(p, sizeof p, "%s/in.export", dir);
    unlink(p);
    rmdir(dir);
    return check_status();
}
