/*
 * config: logward-agent's settings, from a configuration file and from the
 * command line, through one table, so both are validated alike. The file
 * is auditd.conf-like (as logwardd's): `key = value` lines, `#` comments,
 * `input` and `collector` repeated (docs/agent.md). Command-line options
 * (--key-name, '-' for '_') override the file; an --input or --collector
 * there replaces the file's list.
 */
#ifndef LW_AGENT_CONFIG_H
#define LW_AGENT_CONFIG_H

#include "base/conf_key.h"
#include "agent/collector_url.h"
#include "agent/queue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AGENT_CONFIG_ERROR_MAX 1024
#define AGENT_INPUTS_MAX       32
#define AGENT_COLLECTORS_MAX   8
#define AGENT_NAME_LEN_MAX     64 /* lwap/1's agent= bound */
#define AGENT_BACKOFF_BASE_MS  100
#define AGENT_BACKOFF_MAX_MS   30000
#define AGENT_FAILBACK_MS      60000

struct agent_config {
    const char *state;
    const char *inputs[AGENT_INPUTS_MAX];
    size_t ninputs;
    struct collector_url collectors[AGENT_COLLECTORS_MAX];
    size_t ncollectors;
    const char *tls_cert, *tls_key, *tls_ca, *collector_name;
    uint64_t queue_max, queue_segment;
    enum queue_full_policy queue_full;
    enum queue_fsync_policy queue_fsync;
    unsigned queue_fsync_ms;
    unsigned backoff_max_ms;
    unsigned failback_ms;              /* on a later collector this long: back to the first */
    char name[AGENT_NAME_LEN_MAX + 1]; /* default: the host name */
    unsigned status_ms;                /* how often DIR/status.json is written */
    const char *config_path;
    char *text; /* the file's text, which the strings above point into */
};

/* Defaults: 256 MiB queue, block when full, fsync at most every second,
 * backoff up to 30 s, the host name as the agent's name. */
void agent_config_init(struct agent_config *cfg);

/* Sets one setting by its key. value is borrowed: it must outlive cfg.
 * Returns 0, or -EINVAL / -ENOENT (unknown key) with *why set. */
int agent_config_set(struct agent_config *cfg, const char *key, const char *value,
                     const char **why);

/* Empties a repeated setting ("input", "collector") before the command
 * line's own list replaces it. */
void agent_config_clear(struct agent_config *cfg, const char *key);

/* Reads a configuration file into cfg (cfg->text owns its text). On error
 * returns a negative code with "FILE:LINE: why" in err. */
int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t cap);

/* The checks across settings: a state directory, at least one collector
 * and one input, every input's syntax (input_check_spec), TLS files
 * readable, a key with a certificate. Returns 0 or -EINVAL with err. */
int agent_config_check(const struct agent_config *cfg, char *err, size_t cap);

void agent_config_free(struct agent_config *cfg);

/* The list of settings with their help, for --help and docs. */
void agent_config_print_keys(FILE *f);

/* getopt_long's table: fixed, then every setting as --key-name (val).
 * Returns 0 or -ENOSPC (conf_key_options_build). */
int agent_config_options(struct conf_key_options *o, const struct option *fixed, int val);

#endif
