/*
 * test_agent_stdin: audit:-, the auditd plugin mode. Records come on stdin
 * (here a pipe dup'ed onto fd 0) as text lines; complete lines only, no
 * position, an over-long line skipped, -EPIPE at the end after the last
 * unterminated line is committed.
 */
#include "agent/input.h"
#include "agent_queue_fake.h"
#include "check.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            exit(2);
        s += w, n -= (size_t)w;
    }
}

int main(void)
{
    int p[2];
    if (pipe(p) != 0 || dup2(p[0], STDIN_FILENO) < 0)
        return 2;
    close(p[0]);
    struct queue *q = fake_queue_new();
    struct input *in = NULL;
    char err[256];
    CHECK_INT(input_open("audit:-", q, &in, err, sizeof err), 0);
    if (!in) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    CHECK_INT(input_run(in, 10), 0);
    const char *recs = "type=SYSCALL msg=audit(1.000:1): a=1\ntype=EOE msg=audit(1.000:1): \npart";
    say(p[1], recs, strlen(recs));
    struct pollfd pf = {.fd = input_fd(in), .events = POLLIN};
    CHECK_INT(poll(&pf, 1, 2000), 1);
    CHECK_INT(input_run(in, 10), 2);
    CHECK_INT(q->ncommitted, 2);
    CHECK_STR(fake_record(q, 0), "type=SYSCALL msg=audit(1.000:1): a=1");
    CHECK_INT(q->ncommitted ? q->committed[0].kind : 0, QUEUE_KIND_AUDIT);
    CHECK_INT(q->pos_len[0], 0); /* no position */
    size_t n = INPUT_LINE_MAX + 100;
    char *big = malloc(n);
    memset(big, 'y', n);
    say(p[1], "ial\n", 4);
    CHECK_INT(input_run(in, 10), 1);
    CHECK_STR(fake_record(q, 2), "partial");
    /* budget: 3 lines, 2 per run; the fd stays ready for the third */
    say(p[1], "b1\nb2\nb3\n", 9);
    CHECK_INT(input_run(in, 2), 2);
    CHECK_INT(poll(&pf, 1, 0), 1);
    CHECK_INT(input_run(in, 2), 1);
    /* a reload (input closed and opened again) keeps what was read: a line
     * past the budget and one being written */
    say(p[1], "c1\nc2\nc", 7);
    CHECK_INT(input_run(in, 1), 1);
    input_free(in);
    in = NULL;
    CHECK_INT(input_open("audit:-", q, &in, err, sizeof err), 0);
    if (!in)
        return 1;
    pf.fd = input_fd(in);
    CHECK_INT(poll(&pf, 1, 0), 1); /* c2 is waiting, nothing new in the pipe */
    say(p[1], "3\n", 2);
    CHECK_INT(input_run(in, 10), 2);
    CHECK_STR(fake_record(q, 7), "c2");
    CHECK_STR(fake_record(q, 8), "c3");
    /* over-long line, written by a child so the pipe never blocks us */
    pid_t c = fork();
    if (c == 0) {
        say(p[1], big, n);
        say(p[1], "\nafter\nlast", 11);
        _exit(0);
    }
    close(p[1]);
    int r = 0, got = 0;
    for (int tries = 0; tries < 1000; tries++) {
        poll(&pf, 1, 100);
        if ((r = input_run(in, 100)) == -EPIPE)
            break;
        CHECK(r >= 0);
        got += r > 0 ? r : 0;
    }
    CHECK_INT(r, -EPIPE);
    CHECK_INT(got, 2); /* after, last */
    CHECK_INT(input_stats(in)->bad, 1);
    CHECK_INT(q->ncommitted, 11);
    CHECK_STR(fake_record(q, 9), "after");
    CHECK_STR(fake_record(q, 10), "last");
    CHECK_INT(input_stats(in)->read, 4); /* this input's: c2, c3, after, last */
    free(big);
    input_free(in);
    fake_queue_free(q);
    return check_status();
}
