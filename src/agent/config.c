/*
 * config: the table of logward-agent's settings and the file reader
 * (config.h). Every setting is one row of a conf_key table (base/conf_key.h:
 * kind, field, bounds, the reason for a refusal), the repeated ones with a
 * setter of their own; the command line (main.c) and the file both go
 * through agent_config_set, so an option means the same in both and is
 * refused for the same reasons. Strings point into the file's text
 * (cfg->text) or into argv; nothing here opens the state directory or
 * connects (that is the loop's).
 */
#include "agent/config.h"
#include "base/conf_key.h"
#include "agent/input.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIELD(member)   CONF_KEY_FIELD(struct agent_config, member)
#define QUEUE_BYTES_MAX (1ULL << 50) /* queue_max, queue_segment */

static int set_input(void *arg, const char *v, const char **why)
{
    struct agent_config *cfg = arg;
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

static int set_collector(void *arg, const char *v, const char **why)
{
    struct agent_config *cfg = arg;
    if (cfg->ncollectors == AGENT_COLLECTORS_MAX) {
        *why = "too many collectors (8 at most)";
        return -EINVAL;
    }
    int r = collector_url_parse(v, &cfg->collectors[cfg->ncollectors], why);
    if (r == 0)
        cfg->ncollectors++;
    return r;
}

static const struct conf_key_word queue_full_words[] = {
    {"block", QUEUE_FULL_BLOCK}, {"drop-oldest", QUEUE_FULL_DROP_OLDEST}, {NULL, 0}};

static const struct conf_key_word queue_fsync_words[] = {{"none", QUEUE_FSYNC_NONE},
                                                         {"interval", QUEUE_FSYNC_INTERVAL},
                                                         {"every", QUEUE_FSYNC_EVERY},
                                                         {NULL, 0}};

static const struct conf_key settings[] = {
    {"state", CONF_KEY_STRING, FIELD(state), .min = 1, .why = "empty path", .arg = "DIR",
     .help = "the agent's state directory: queue, positions, stream id, status.json (required; "
             "/var/lib/logward-agent under systemd)"},
    {"input", CONF_KEY_CUSTOM, .custom = set_input, .arg = "SPEC",
     .help = "a source, repeated: audit:PATH (auditd's log), audit:- (auditd plugin, stdin), "
             "file:PATTERN (syslog-format files), journal, journal:PATH"},
    {"collector", CONF_KEY_CUSTOM, .custom = set_collector, .arg = "URL",
     .help = "a collector, repeated, tried in order (failover): agent+tls://HOST[:PORT] or "
             "agent:// (plain TCP); default port 6515"},
    {"tls_cert", CONF_KEY_STRING, FIELD(tls_cert), .min = 1, .why = "empty path", .arg = "FILE",
     .help = "the agent's client certificate (PEM) for agent+tls://"},
    {"tls_key", CONF_KEY_STRING, FIELD(tls_key), .min = 1, .why = "empty path", .arg = "FILE",
     .help = "its private key (PEM)"},
    {"tls_ca", CONF_KEY_STRING, FIELD(tls_ca), .min = 1, .why = "empty path", .arg = "FILE",
     .help = "the CA that signs collectors' certificates (default: the system's CAs)"},
    {"collector_name", CONF_KEY_STRING, FIELD(collector_name), .min = 1, .max = COLLECTOR_HOST_MAX,
     .reject = " \t/", .why = "expected a DNS name", .arg = "NAME",
     .help = "the name the collector's certificate must carry (default: each URL's host)"},
    {"queue_max", CONF_KEY_BYTES, FIELD(queue_max), .min = 2 * (uint64_t)QUEUE_SEGMENT_MIN,
     .max = QUEUE_BYTES_MAX, .why = "too small (at least 2 segments' worth: 2 MiB + 8 KiB)",
     .arg = "BYTES", .help = "bound of the disk queue (default 256M)"},
    {"queue_full", CONF_KEY_CHOICE, FIELD(queue_full), .words = queue_full_words,
     .why = "expected block or drop-oldest", .arg = "block|drop-oldest",
     .help = "when the queue is full: inputs wait (default), or the oldest records are deleted "
             "(counted as dropped and logged)"},
    {"queue_fsync", CONF_KEY_CHOICE, FIELD(queue_fsync), .words = queue_fsync_words,
     .why = "expected interval, every or none", .arg = "interval|every|none",
     .help = "interval (default): fdatasync of the queue at most every queue_fsync_ms; every: at "
             "each commit; none: page cache only (survives the agent's crash, not the host's)"},
    {"queue_fsync_ms", CONF_KEY_NUMBER, FIELD(queue_fsync_ms), .min = 1, .max = 3600000,
     .arg = "MS", .help = "the interval's length (default 1000)"},
    {"queue_segment", CONF_KEY_BYTES, FIELD(queue_segment), .min = QUEUE_SEGMENT_MIN,
     .max = QUEUE_BYTES_MAX, .why = "too small (at least 1 MiB + 4 KiB: a record's bound)",
     .arg = "BYTES", .help = "size of one queue file (default 8M)"},
    {"backoff_max", CONF_KEY_NUMBER, FIELD(backoff_max_ms), .min = AGENT_BACKOFF_BASE_MS,
     .max = 3600000, .arg = "MS",
     .help = "cap of the reconnection backoff (exponential from 100 ms, full jitter; default "
             "30000)"},
    {"failback", CONF_KEY_NUMBER, FIELD(failback_ms), .min = 100, .max = 86400000, .arg = "MS",
     .help = "after this long on a later collector, with nothing in flight, the first is tried "
             "again (default 60000)"},
    {"name", CONF_KEY_TEXT, FIELD(name), .min = 1, .max = AGENT_NAME_LEN_MAX,
     .accept = "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
     .why = "expected 1 to 64 of A-Z a-z 0-9 . _ -", .arg = "AGENT",
     .help = "the agent's name sent to the collector (default: host name)"},
    {"status_interval", CONF_KEY_NUMBER, FIELD(status_ms), .min = 100, .max = 3600000, .arg = "MS",
     .help = "how often DIR/status.json is written (default 1000)"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void agent_config_init(struct agent_config *cfg)
{
    const char *bad = NULL;
    assert(conf_key_table_check(settings, NSETTINGS, &bad) == 0);
    (void)bad;
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
    if (agent_config_set(cfg, "name", host, &why) < 0)
        memcpy(cfg->name, "localhost", sizeof("localhost"));
}

int agent_config_set(struct agent_config *cfg, const char *key, const char *value, const char **why)
{
    return conf_key_set(settings, NSETTINGS, cfg, key, value, why);
}

void agent_config_clear(struct agent_config *cfg, const char *key)
{
    if (!strcmp(key, "input"))
        cfg->ninputs = 0;
    else if (!strcmp(key, "collector"))
        cfg->ncollectors = 0;
}

int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t cap)
{
    cfg->config_path = path;
    return conf_key_load(settings, NSETTINGS, cfg, path, &cfg->text, err, cap);
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
    conf_key_print(f, settings, NSETTINGS);
}

int agent_config_options(struct conf_key_options *o, const struct option *fixed, int val)
{
    return conf_key_options_build(o, fixed, settings, NSETTINGS, val);
}
