/*
 * input: parses `--input SPEC`, builds the input of that kind and runs it
 * for the agent's loop. What is common to all kinds lives here: the
 * readiness fd (an epoll set of the kind's fds plus an eventfd that stays
 * set while an input stopped at its budget with more to read, so a loop
 * that waits for readiness never strands records, and a timer that
 * coalesces records written one by one into batches), the retry of a commit
 * the queue refused as full, and counting records too long for the queue.
 * The kinds themselves are input_files.c (audit:PATH, file:PATTERN),
 * input_stdin.c (audit:-) and input_journal.c (journal[:PATH]).
 */
#include "agent/input_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char input_kinds[] = "audit:PATH, audit:-, file:PATTERN, journal or journal:PATH";

/* The part after "kind:" when spec starts with it, else NULL. */
static const char *input_arg(const char *spec, const char *kind)
{
    size_t n = strlen(kind);
    return !strncmp(spec, kind, n) && spec[n] == ':' ? spec + n + 1 : NULL;
}

int input_check_spec(const char *spec, char *err, size_t errcap)
{
    size_t n = strnlen(spec, INPUT_SPEC_MAX);
    if (n == 0 || n >= QUEUE_INPUT_ID_MAX) {
        snprintf(err, errcap, "input '%.64s%s': %s", spec, n > 64 ? "..." : "",
                 n ? "longer than 255 bytes"
                   : "empty (want audit:PATH, audit:-, file:PATTERN, journal or journal:PATH)");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f) {
            snprintf(err, errcap, "input '%s': control character at byte %zu", spec, i);
            return -EINVAL;
        }
    const char *a;
    if (!strcmp(spec, "journal"))
        a = NULL;
    else if ((a = input_arg(spec, "audit")) || (a = input_arg(spec, "file")) ||
             (a = input_arg(spec, "journal"))) {
        bool dash_ok = !strncmp(spec, "audit:", 6);
        if (*a == '\0' || (*a != '/' && !(dash_ok && !strcmp(a, "-")))) {
            snprintf(err, errcap, "input '%s': want an absolute path after '%.*s:'%s", spec,
                     (int)(a - spec - 1), spec, dash_ok ? " (or '-' for stdin)" : "");
            return -EINVAL;
        }
    } else {
        snprintf(err, errcap, "input '%s': unknown kind (want %s)", spec, input_kinds);
        return -EINVAL;
    }
    if (!strncmp(spec, "journal", 7) && !input_journal_available()) {
        snprintf(err, errcap, "input '%s': this logward-agent was built without libsystemd", spec);
        return -EINVAL;
    }
    return 0;
}

static int input_epoll_add(struct input *in, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(in->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST ? -errno : 0;
}

static int input_new(const char *spec, struct queue *q, struct input **out)
{
    struct input *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    in->q = q;
    in->epfd = in->evfd = in->qtfd = -1;
    snprintf(in->spec, sizeof in->spec, "%s", spec);
    if ((in->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (in->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        input_epoll_add(in, in->evfd) < 0 ||
        (in->qtfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
        input_epoll_add(in, in->qtfd) < 0) {
        int e = -errno;
        input_free(in);
        return e;
    }
    *out = in;
    return 0;
}

int input_open(const char *spec, struct queue *q, struct input **out, char *err, size_t errcap)
{
    int r = input_check_spec(spec, err, errcap);
    if (r < 0)
        return r;
    struct input *in = NULL;
    if ((r = input_new(spec, q, &in)) < 0) {
        snprintf(err, errcap, "input '%s': %s", spec, strerror(-r));
        return r;
    }
    const char *a;
    if (!strcmp(spec, "audit:-"))
        r = input_stdin_open(in, STDIN_FILENO, err, errcap);
    else if ((a = input_arg(spec, "audit")))
        r = input_files_open(in, a, true, err, errcap);
    else if ((a = input_arg(spec, "file")))
        r = input_files_open(in, a, false, err, errcap);
    else
        r = input_journal_open(in, input_arg(spec, "journal"), err, errcap);
    if (r < 0) {
        input_free(in);
        return r;
    }
    *out = in;
    return 0;
}

void input_free(struct input *in)
{
    if (!in)
        return;
    if (in->ops)
        in->ops->free(in);
    if (in->epfd >= 0)
        close(in->epfd);
    if (in->evfd >= 0)
        close(in->evfd);
    if (in->qtfd >= 0)
        close(in->qtfd);
    free(in);
}

int input_fd(const struct input *in)
{
    return in->epfd;
}

int input_watch(struct input *in, int fd)
{
    if (in->nwatched == INPUT_WATCH_MAX)
        return -ENOSPC;
    int r = in->muted ? 0 : input_epoll_add(in, fd);
    if (r == 0)
        in->watched[in->nwatched++] = fd;
    return r;
}

void input_wake(struct input *in)
{
    uint64_t one = 1;
    if (write(in->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
        fprintf(stderr, "logward-agent: %s: eventfd: %s\n", in->spec, strerror(errno));
    in->ev_set = true;
}

/* The kind's fds leave the readiness set while the queue is full (the loop
 * retries the input itself; a pipe with data would wake it for nothing)
 * and while a run is being coalesced (quiet). */
static void input_mute(struct input *in, bool on)
{
    if (on == in->muted)
        return;
    in->muted = on;
    for (size_t i = 0; i < in->nwatched; i++)
        if (on)
            epoll_ctl(in->epfd, EPOLL_CTL_DEL, in->watched[i], NULL);
        else
            input_epoll_add(in, in->watched[i]);
}

/* Quiet for INPUT_COALESCE_MS (on), or no longer. */
static void input_quiet(struct input *in, bool on)
{
    struct itimerspec t = {{0, 0}, {0, 0}};
    if (on)
        t.it_value.tv_nsec = (long)INPUT_COALESCE_MS * 1000000L;
    if (on == in->quiet || timerfd_settime(in->qtfd, 0, &t, NULL) < 0)
        return;
    in->quiet = on;
}

int input_put(struct input *in, enum queue_kind kind, const char *data, size_t len)
{
    int r = queue_put(in->q, kind, data, len);
    if (r == -EMSGSIZE) {
        in->st.bad++;
        return 0;
    }
    return r < 0 ? r : 1;
}

int input_commit(struct input *in, size_t records, const void *pos, size_t pos_len)
{
    if (pos_len > sizeof in->pending_pos)
        return -ENOBUFS;
    int r = queue_commit(in->q, in->spec, pos, pos_len);
    if (r == 0) {
        in->st.read += records;
        in->st.blocked = false;
    } else if (r == -ENOSPC) {
        in->st.blocked = true;
        in->pending = true;
        in->pending_records = records;
        in->pending_len = pos_len;
        if (pos_len)
            memcpy(in->pending_pos, pos, pos_len);
    } else {
        queue_abort(in->q);
        in->commit_failed = true;
    }
    return r;
}

/* The commit the queue refused as full, again. */
static int input_retry(struct input *in)
{
    in->pending = false;
    return input_commit(in, in->pending_records, in->pending_pos, in->pending_len);
}

int input_run(struct input *in, size_t budget)
{
    uint64_t v;
    if (in->ev_set && read(in->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
        return -errno;
    in->ev_set = false;
    if (in->quiet) { /* the timer fired, or the loop runs us anyway */
        if (read(in->qtfd, &v, sizeof v) < 0 && errno != EAGAIN)
            return -errno;
        input_quiet(in, false);
    }
    int r = in->pending ? input_retry(in) : 0;
    if (r == 0)
        r = in->ops->run(in, budget);
    input_quiet(in, r > 0 && (size_t)r < budget && !in->pending);
    input_mute(in, in->pending || in->quiet);
    if (in->commit_failed) { /* aborted: back to what the queue holds */
        in->commit_failed = false;
        if (in->ops->rewind)
            in->ops->rewind(in);
        else
            fprintf(stderr, "logward-agent: %s: records of a failed commit are lost (%s)\n",
                    in->spec, strerror(-r));
    }
    if (budget && r >= 0 && (size_t)r >= budget) { /* more is waiting: stay readable */
        input_wake(in);
    }
    return r;
}

const char *input_spec(const struct input *in)
{
    return in->spec;
}

const struct input_stats *input_stats(const struct input *in)
{
    return &in->st;
}
