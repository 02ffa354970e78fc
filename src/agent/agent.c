/*
 * agent: the loop that ties the inputs, the queue and the sender together
 * (agent.h). Inputs read into the queue (input_run commits as it goes);
 * each commit kicks the sender, whose ACKs trim the queue. Nothing here
 * buffers records: what an input read is on disk before it is sent.
 *
 * Never silent: the queue says when it is full or drops, the sender when a
 * collector is unreachable (once per outage) and why (OpenSSL's reason for
 * certificates), this file when an input fails, is gone or ends.
 */
#include "agent/agent.h"
#include "agent/input.h"
#include "agent/notify.h"
#include "agent/queue.h"
#include "agent/sender.h"
#include "agent/status.h"
#include "net/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct input_slot {
    struct input *in;
    int fd;
    int last_err;
    uint64_t last_gone;
    bool ready; /* its fd fired, or it read a full budget: run it again soon */
};

struct agent {
    struct agent_config cfg;
    char *state;
    agent_reload_fn reload;
    void *reload_arg;
    struct loop *loop;
    struct queue *q;
    struct sender *snd;
    struct input_slot inputs[AGENT_INPUTS_MAX];
    size_t ninputs;
    int blocked; /* the input whose commit met a full queue (block), or -1 */
    int sigfd;
    bool stopping;
    int64_t stop_by_ms, next_poll_ms, next_status_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "logward-agent: %s\n", line);
}

__attribute__((format(printf, 2, 3))) static void say(struct agent *a, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_line(a, line);
}

static void write_status(struct agent *a, bool running)
{
    struct queue_stats qs;
    queue_get_stats(a->q, &qs);
    struct input *ins[AGENT_INPUTS_MAX];
    for (size_t i = 0; i < a->ninputs; i++)
        ins[i] = a->inputs[i].in;
    struct status_view v = {.name = a->cfg.name,
                            .stream = queue_stream(a->q),
                            .running = running,
                            .queue = &qs,
                            .sender = sender_stats(a->snd),
                            .ninputs = a->ninputs,
                            .inputs = ins};
    int r = status_write(a->state, &v);
    static bool said;
    if (r < 0 && !said)
        say(a, "%s/" STATUS_FILE ": %s", a->state, strerror(-r));
    said = r < 0;
}

/* ---- inputs ---- */

static void on_input_fd(struct loop *l, int fd, uint32_t events, void *arg);

static void close_inputs(struct agent *a)
{
    /* A batch the full queue kept for a blocked input: a file input reads
     * it again from its committed position once reopened, so it goes; stdin
     * cannot be read again, so its batch stays for the next commit. */
    if (a->blocked >= 0 && strcmp(input_spec(a->inputs[a->blocked].in), "audit:-"))
        queue_abort(a->q);
    for (size_t i = 0; i < a->ninputs; i++) {
        if (a->inputs[i].fd >= 0)
            loop_del(a->loop, a->inputs[i].fd);
        input_free(a->inputs[i].in);
    }
    a->ninputs = 0;
    a->blocked = -1;
}

/* Opens cfg's inputs. At start a failure is fatal (-errno); at a reload
 * the input is left out and said. */
static int open_inputs(struct agent *a, bool fatal)
{
    for (size_t i = 0; i < a->cfg.ninputs; i++) {
        char err[512] = "";
        struct input_slot *s = &a->inputs[a->ninputs];
        int r = input_open(a->cfg.inputs[i], a->q, &s->in, err, sizeof(err));
        if (r < 0) {
            say(a, "input %s: %s%s", a->cfg.inputs[i], err[0] ? err : strerror(-r),
                fatal ? "" : " (left out until the next reload)");
            if (fatal)
                return r;
            continue;
        }
        s->fd = input_fd(s->in);
        s->last_err = 0;
        s->last_gone = input_stats(s->in)->gone;
        s->ready = true;
        if (s->fd >= 0 && (r = loop_add(a->loop, s->fd, EPOLLIN, on_input_fd, a)) < 0) {
            say(a, "input %s: poll: %s (read every %d ms instead)", a->cfg.inputs[i], strerror(-r),
                INPUT_POLL_MS);
            s->fd = -1;
        }
        a->ninputs++;
    }
    return 0;
}

static void drop_input(struct agent *a, size_t i)
{
    if (a->inputs[i].fd >= 0)
        loop_del(a->loop, a->inputs[i].fd);
    input_free(a->inputs[i].in);
    memmove(&a->inputs[i], &a->inputs[i + 1], (a->ninputs - i - 1) * sizeof(a->inputs[0]));
    a->ninputs--;
    a->blocked = -1;
}

/* Runs input i once. Returns the records read, or a negative code. */
static int run_input(struct agent *a, size_t i)
{
    struct input_slot *s = &a->inputs[i];
    int r = input_run(s->in, AGENT_INPUT_BUDGET);
    s->ready = r == AGENT_INPUT_BUDGET;
    const struct input_stats *st = input_stats(s->in);
    if (st->gone > s->last_gone)
        say(a, "input %s: the source is gone (%llu times so far); waiting for it",
            input_spec(s->in), (unsigned long long)st->gone);
    s->last_gone = st->gone;
    if (r == -ENOSPC) {
        a->blocked = (int)i;
        return r;
    }
    if ((int)i == a->blocked)
        a->blocked = -1;
    if (r == -EPIPE) {
        say(a, "input %s: reached its end (auditd stopped the plugin?)", input_spec(s->in));
        drop_input(a, i);
        if (!a->ninputs && !a->stopping) {
            say(a, "no input left: stopping");
            a->stopping = true;
            a->stop_by_ms = mono_ms() + AGENT_SHUTDOWN_MS;
        }
        return r;
    }
    if (r < 0 && r != s->last_err)
        say(a, "input %s: %s (retried)", input_spec(s->in), strerror(-r));
    s->last_err = r < 0 ? r : 0;
    return r;
}

/* Runs the inputs that are due. A full queue (block) lets only the input
 * that met it go on, so that its kept batch is committed with its own
 * position, never with another input's. */
static void run_inputs(struct agent *a, bool all)
{
    if (a->stopping)
        return;
    int got = 0;
    if (a->blocked >= 0) {
        int r = run_input(a, (size_t)a->blocked);
        if (r < 0)
            return;
        got += r;
    }
    for (size_t i = 0; i < a->ninputs && a->blocked < 0; i++)
        if (all || a->inputs[i].ready) {
            int r = run_input(a, i);
            if (r == -EPIPE)
                i--;
            else if (r > 0)
                got += r;
        }
    if (got > 0)
        sender_kick(a->snd);
}

static void on_input_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
    (void)l;
    (void)events;
    struct agent *a = arg;
    for (size_t i = 0; i < a->ninputs; i++)
        if (a->inputs[i].fd == fd)
            a->inputs[i].ready = true;
    run_inputs(a, false);
}

/* ---- signals, reload ---- */

static void reload_config(struct agent *a);

static void reload(struct agent *a)
{
    notify_systemd("RELOADING=1");
    reload_config(a);
    notify_systemd("READY=1");
}

static void reload_config(struct agent *a)
{
    struct agent_config cfg;
    char err[AGENT_CONFIG_ERROR_MAX] = "";
    int r = a->reload ? a->reload(a->reload_arg, &cfg, err, sizeof(err)) : -ENOTSUP;
    if (r == 0 && (r = agent_config_check(&cfg, err, sizeof(err))) < 0)
        agent_config_free(&cfg);
    if (r < 0) {
        say(a, "SIGHUP: configuration not reloaded: %s", err[0] ? err : strerror(-r));
        return;
    }
    if (strcmp(cfg.state, a->state))
        say(a, "SIGHUP: the state directory stays %s until a restart", a->state);
    if ((r = sender_configure(a->snd, &cfg, err, sizeof(err))) < 0) {
        say(a, "SIGHUP: configuration not reloaded: %s", err);
        agent_config_free(&cfg);
        return;
    }
    queue_configure(a->q, cfg.queue_max, cfg.queue_full, cfg.queue_fsync, cfg.queue_fsync_ms);
    close_inputs(a);
    agent_config_free(&a->cfg);
    a->cfg = cfg;
    open_inputs(a, false);
    say(a, "SIGHUP: configuration reloaded (%zu inputs, %zu collectors)", a->ninputs,
        a->cfg.ncollectors);
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
    (void)l;
    (void)events;
    struct agent *a = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload(a);
        } else if (!a->stopping) {
            a->stopping = true;
            a->stop_by_ms = mono_ms() + AGENT_SHUTDOWN_MS;
        }
    }
}

static void on_tick(struct loop *l, void *arg)
{
    struct agent *a = arg;
    int64_t now = mono_ms();
    bool poll = now >= a->next_poll_ms;
    if (poll)
        a->next_poll_ms = now + INPUT_POLL_MS;
    run_inputs(a, poll);
    sender_tick(a->snd, now);
    queue_tick(a->q, now);
    if (now >= a->next_status_ms) {
        write_status(a, true);
        a->next_status_ms = now + a->cfg.status_ms;
    }
    if (a->stopping && (sender_idle(a->snd) || now >= a->stop_by_ms))
        loop_stop(l);
}

static int setup_signals(struct agent *a)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (a->sigfd < 0)
        return -errno;
    return loop_add(a->loop, a->sigfd, EPOLLIN, on_signal, a);
}

/* ---- start, stop ---- */

static int start(struct agent *a)
{
    char err[AGENT_CONFIG_ERROR_MAX] = "";
    struct queue_config qc = {.dir = a->state,
                              .max_bytes = a->cfg.queue_max,
                              .segment_bytes = a->cfg.queue_segment,
                              .full = a->cfg.queue_full,
                              .fsync = a->cfg.queue_fsync,
                              .fsync_ms = a->cfg.queue_fsync_ms,
                              .log = log_line,
                              .log_arg = a};
    int r = queue_open(&qc, &a->q, err, sizeof(err));
    if (r < 0) {
        say(a, "queue: %s", err);
        return r;
    }
    if ((r = sender_new(a->loop, a->q, &a->cfg, log_line, a, &a->snd, err, sizeof(err))) < 0) {
        say(a, "TLS: %s", err);
        return r;
    }
    if ((r = setup_signals(a)) < 0) {
        say(a, "signals: %s", strerror(-r));
        return r;
    }
    if ((r = open_inputs(a, true)) < 0)
        return r;
    struct queue_stats qs;
    queue_get_stats(a->q, &qs);
    say(a, "started: %s, stream %s, %zu inputs, %llu records waiting, collector %s", a->cfg.name,
        queue_stream(a->q), a->ninputs, (unsigned long long)qs.pending, a->cfg.collectors[0].text);
    notify_systemd("READY=1");
    return 0;
}

int agent_run(struct agent_config *cfg, agent_reload_fn reload_fn, void *reload_arg)
{
    struct agent *a = calloc(1, sizeof(*a));
    if (!a) {
        agent_config_free(cfg);
        return 2;
    }
    a->cfg = *cfg;
    a->state = strdup(cfg->state);
    a->reload = reload_fn;
    a->reload_arg = reload_arg;
    a->blocked = -1;
    a->sigfd = -1;
    a->loop = loop_new();
    int rc = 2;
    if (a->state && a->loop && start(a) == 0) {
        loop_run(a->loop, AGENT_TICK_MS, on_tick, a);
        notify_systemd("STOPPING=1");
        rc = 0;
        struct queue_stats qs;
        queue_get_stats(a->q, &qs);
        say(a, "stopping: %llu records waiting in the queue for the next start",
            (unsigned long long)qs.pending);
        write_status(a, false);
    }
    close_inputs(a);
    sender_free(a->snd);
    queue_close(a->q);
    if (a->sigfd >= 0)
        close(a->sigfd);
    loop_free(a->loop);
    agent_config_free(&a->cfg);
    free(a->state);
    free(a);
    return rc;
}
