/*
 * config: the table of logward-agent's settings and the file reader
 * (config.h). Every setting has one setter that checks its value; the
 * command line (main.c) and the file both go through agent_config_set, so
 * an option means the same in both and is refused for the same reasons.
 * Strings point into the file's text (cfg->text) or into argv; nothing
 * here opens the state directory or connects (that is the loop's).
 */
#include "agent/config.h"
#include "base/conf_file.h"
#include "agent/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct setting {
    const char *key;
    int (*set)(struct agent_config *cfg, const char *v, const char **why);
    const char *arg, *help;
};

static int number(const char *v, unsigned long long min, unsigned long long max,
                  unsigned long long *out, const char **why)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno || n < min || n > max) {
        *why = "not a number in the allowed range";
        return -EINVAL;
    }
    *out = n;
    return 0;
}

/* BYTES with an optional K, M or G (powers of 1024). */
static int bytes(const char *v, unsigned long long min, unsigned long long *out, const char **why)
{
    char num[32];
    size_t n = strlen(v);
    unsigned shift = 0;
    if (n && strchr("kKmMgG", v[n - 1])) {
        char u = v[n - 1];
        shift = (u == 'k' || u == 'K') ? 10 : (u == 'm' || u == 'M') ? 20 : 30;
        n--;
    }
    if (n == 0 || n >= sizeof(num)) {
        *why = "expected a size in bytes (suffix K, M or G allowed)";
        return -EINVAL;
    }
    memcpy(num, v, n);
    num[n] = 0;
    unsigned long long x;
    if (number(num, 0, (1ULL << 50) >> shift, &x, why) < 0)
        return -EINVAL;
    x <<= shift;
    if (x < min) {
        *why = "too small";
        return -EINVAL;
    }
    *out = x;
    return 0;
}

static int set_state(struct agent_config *cfg, const char *v, const char **why)
{
    if (!*v) {
        *why = "empty path";
        return -EINVAL;
    }
    cfg->state = v;
    return 0;
}

static int set_input(struct agent_config *cfg, const char *v, const char **why)
{
    if (cfg->ninputs == AGENT_INPUTS_MAX) {
        *why = "too many inputs (32 at most)";
        return -EINVAL;
    }
    static char err[256];
    if (input_check_spec(v, err, sizeof(err)) < 0) {
        *why = err;
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg->ninputs; i++)
        if (!strcmp(cfg->inputs[i], v)) {
            *why = "the same input twice";
            return -EINVAL;
        }
    cfg->inputs[cfg->ninputs++] = v;
    return 0;
}

static int set_collector(struct agent_config *cfg, const char *v, const char **why)
{
    if (cfg->ncollectors == AGENT_COLLECTORS_MAX) {
        *why = "too many collectors (8 at most)";
        return -EINVAL;
    }
    int r = collector_url_parse(v, &cfg->collectors[cfg->ncollectors], why);
    if (r == 0)
        cfg->ncollectors++;
    return r;
}

static int set_path(const char **slot, const char *v, const char **why)
{
    if (!*v) {
        *why = "empty path";
        return -EINVAL;
    }
    *slot = v;
    return 0;
}

static int set_tls_cert(struct agent_config *cfg, const char *v, const char **why)
{
    return set_path(&cfg->tls_cert, v, why);
}

static int set_tls_key(struct agent_config *cfg, const char *v, const char **why)
{
    return set_path(&cfg->tls_key, v, why);
}

static int set_tls_ca(struct agent_config *cfg, const char *v, const char **why)
{
    return set_path(&cfg->tls_ca, v, why);
}

static int set_collector_name(struct agent_config *cfg, const char *v, const char **why)
{
    if (!*v || strlen(v) > COLLECTOR_HOST_MAX || strpbrk(v, " \t/")) {
        *why = "expected a DNS name";
        return -EINVAL;
    }
    cfg->collector_name = v;
    return 0;
}

static int set_queue_max(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = bytes(v, 2 * (unsigned long long)QUEUE_SEGMENT_MIN, &n, why);
    if (r == 0)
        cfg->queue_max = n;
    else if (!strcmp(*why, "too small"))
        *why = "too small (at least 2 segments' worth: 2 MiB + 8 KiB)";
    return r;
}

static int set_queue_segment(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = bytes(v, QUEUE_SEGMENT_MIN, &n, why);
    if (r == 0)
        cfg->queue_segment = n;
    else if (!strcmp(*why, "too small"))
        *why = "too small (at least 1 MiB + 4 KiB: a record's bound)";
    return r;
}

static int set_queue_full(struct agent_config *cfg, const char *v, const char **why)
{
    if (!strcmp(v, "block"))
        cfg->queue_full = QUEUE_FULL_BLOCK;
    else if (!strcmp(v, "drop-oldest"))
        cfg->queue_full = QUEUE_FULL_DROP_OLDEST;
    else {
        *why = "expected block or drop-oldest";
        return -EINVAL;
    }
    return 0;
}

static int set_queue_fsync(struct agent_config *cfg, const char *v, const char **why)
{
    if (!strcmp(v, "none"))
        cfg->queue_fsync = QUEUE_FSYNC_NONE;
    else if (!strcmp(v, "interval"))
        cfg->queue_fsync = QUEUE_FSYNC_INTERVAL;
    else if (!strcmp(v, "every"))
        cfg->queue_fsync = QUEUE_FSYNC_EVERY;
    else {
        *why = "expected interval, every or none";
        return -EINVAL;
    }
    return 0;
}

static int set_queue_fsync_ms(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = number(v, 1, 3600000, &n, why);
    if (r == 0)
        cfg->queue_fsync_ms = (unsigned)n;
    return r;
}

static int set_backoff_max(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = number(v, AGENT_BACKOFF_BASE_MS, 3600000, &n, why);
    if (r == 0)
        cfg->backoff_max_ms = (unsigned)n;
    return r;
}

static int set_failback(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = number(v, 100, 86400000, &n, why);
    if (r == 0)
        cfg->failback_ms = (unsigned)n;
    return r;
}

static int set_status_ms(struct agent_config *cfg, const char *v, const char **why)
{
    unsigned long long n;
    int r = number(v, 100, 3600000, &n, why);
    if (r == 0)
        cfg->status_ms = (unsigned)n;
    return r;
}

static int set_name(struct agent_config *cfg, const char *v, const char **why)
{
    size_t n = strlen(v);
    if (n == 0 || n > AGENT_NAME_LEN_MAX ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
        *why = "expected 1 to 64 of A-Z a-z 0-9 . _ -";
        return -EINVAL;
    }
    memcpy(cfg->name, v, n + 1);
    return 0;
}

static const struct setting settings[] = {
    {"state", set_state, "DIR",
     "the agent's state directory: queue, positions, stream id, status.json (required; "
     "/var/lib/logward-agent under systemd)"},
    {"input", set_input, "SPEC",
     "a source, repeated: audit:PATH (auditd's log), audit:- (auditd plugin, stdin), "
     "file:PATTERN (syslog-format files), journal, journal:PATH"},
    {"collector", set_collector, "URL",
     "a collector, repeated, tried in order (failover): agent+tls://HOST[:PORT] or agent:// "
     "(plain TCP); default port 6515"},
    {"tls_cert", set_tls_cert, "FILE", "the agent's client certificate (PEM) for agent+tls://"},
    {"tls_key", set_tls_key, "FILE", "its private key (PEM)"},
    {"tls_ca", set_tls_ca, "FILE",
     "the CA that signs collectors' certificates (default: the system's CAs)"},
    {"collector_name", set_collector_name, "NAME",
     "the name the collector's certificate must carry (default: each URL's host)"},
    {"queue_max", set_queue_max, "BYTES", "bound of the disk queue (default 256M)"},
    {"queue_full", set_queue_full, "block|drop-oldest",
     "when the queue is full: inputs wait (default), or the oldest records are deleted "
     "(counted as dropped and logged)"},
    {"queue_fsync", set_queue_fsync, "interval|every|none",
     "interval (default): fdatasync of the queue at most every queue_fsync_ms; every: at "
     "each commit; none: page cache only (survives the agent's crash, not the host's)"},
    {"queue_fsync_ms", set_queue_fsync_ms, "MS", "the interval's length (default 1000)"},
    {"queue_segment", set_queue_segment, "BYTES", "size of one queue file (default 8M)"},
    {"backoff_max", set_backoff_max, "MS",
     "cap of the reconnection backoff (exponential from 100 ms, full jitter; default 30000)"},
    {"failback", set_failback, "MS",
     "after this long on a later collector, with nothing in flight, the first is tried again "
     "(default 60000)"},
    {"name", set_name, "AGENT", "the agent's name sent to the collector (default: host name)"},
    {"status_interval", set_status_ms, "MS", "how often DIR/status.json is written (default 1000)"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void agent_config_init(struct agent_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->queue_max = QUEUE_MAX_DEFAULT;
    cfg->queue_segment = QUEUE_SEGMENT_BYTES;
    cfg->queue_full = QUEUE_FULL_BLOCK;
    cfg->queue_fsync = QUEUE_FSYNC_INTERVAL;
    cfg->queue_fsync_ms = QUEUE_FSYNC_MS;
    cfg->backoff_max_ms = AGENT_BACKOFF_MAX_MS;
    cfg->failback_ms = AGENT_FAILBACK_MS;
    cfg->status_ms = 1000;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    const char *why;
    if (set_name(cfg, host, &why) < 0)
        memcpy(cfg->name, "localhost", sizeof("localhost"));
}

static const struct setting *find(const char *key)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!strcmp(settings[i].key, key))
            return &settings[i];
    return NULL;
}

int agent_config_set(struct agent_config *cfg, const char *key, const char *value, const char **why)
{
    const struct setting *s = find(key);
    if (!s) {
        *why = "unknown setting";
        return -ENOENT;
    }
    return s->set(cfg, value, why);
}

void agent_config_clear(struct agent_config *cfg, const char *key)
{
    if (!strcmp(key, "input"))
        cfg->ninputs = 0;
    else if (!strcmp(key, "collector"))
        cfg->ncollectors = 0;
}

static int set_pair(void *cfg, const char *key, const char *value, const char **why)
{
    return agent_config_set(cfg, key, value, why);
}

int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t cap)
{
    char *text = NULL;
    int r = conf_file_read(path, &text, err, cap);
    if (r < 0)
        return r;
    free(cfg->text);
    cfg->text = text;
    cfg->config_path = path;
    return conf_file_parse(text, path, set_pair, cfg, err, cap);
}

int agent_config_check(const struct agent_config *cfg, char *err, size_t cap)
{
    if (!cfg->state) {
        snprintf(err, cap, "no state directory: set 'state' (or --state DIR)");
        return -EINVAL;
    }
    if (!cfg->ncollectors) {
        snprintf(err, cap, "no collector: set 'collector' (or --collector URL) at least once");
        return -EINVAL;
    }
    if (!cfg->ninputs) {
        snprintf(err, cap, "no input: set 'input' (or --input SPEC) at least once");
        return -EINVAL;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, cap, "tls_cert and tls_key go together (--tls-cert, --tls-key)");
        return -EINVAL;
    }
    const char *files[] = {cfg->tls_cert, cfg->tls_key, cfg->tls_ca};
    for (size_t i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) < 0) {
            snprintf(err, cap, "%s: %s", files[i], strerror(errno));
            return -EINVAL;
        }
    return 0;
}

void agent_config_free(struct agent_config *cfg)
{
    free(cfg->text);
    cfg->text = NULL;
}

void agent_config_print_keys(FILE *f)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        fprintf(f, "  %s %s\n", settings[i].key, settings[i].arg);
        const char *p = settings[i].help;
        while (*p) {
            size_t n = strlen(p);
            if (n > 70) {
                n = 70;
                while (n > 0 && p[n] != ' ')
                    n--;
                if (n == 0)
                    n = 70;
            }
            fprintf(f, "        %.*s\n", (int)n, p);
            p += n;
            while (*p == ' ')
                p++;
        }
    }
}
