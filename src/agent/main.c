/*
 * logward-agent: the per-host shipper's command line. Reads the
 * configuration file (if any), applies the command-line options over it
 * through the same setting table (config.c), validates, then hands over to
 * agent_run. The same steps build the new configuration at SIGHUP.
 */
#include "agent/agent.h"
#include "agent/config.h"
#include "agent/status.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_TROUBLE = 2 };
#define DEFAULT_CONFIG "/etc/logward/logward-agent.conf"
#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fputs("usage: logward-agent [--config FILE] [--foreground] --state DIR --input SPEC...\n"
          "                     --collector URL... [OPTIONS]\n"
          "       logward-agent --status --state DIR\n"
          "       logward-agent --check-config [--config FILE] [OPTIONS]\n"
          "\n"
          "The logward agent: follows auditd's log, the journal and log files, keeps what\n"
          "it read in a crash-safe queue under DIR, and ships it to logwardd over lwap/1\n"
          "(agent+tls://), each record stored exactly once (docs/agent.md). Runs in the\n"
          "foreground (systemd supervises it).\n"
          "\n"
          "settings (command line --NAME VALUE with '-' for '_', or NAME = VALUE lines in\n"
          "the configuration file; the command line wins, and an --input or --collector\n"
          "there replaces the file's list):\n",
          f);
    agent_config_print_keys(f);
    fputs("\n"
          "options:\n"
          "  -c, --config FILE      read settings from FILE (default " DEFAULT_CONFIG "\n"
          "                         when it exists and neither --state nor --collector is given)\n"
          "      --check-config     validate everything and exit (0 valid, 2 not)\n"
          "      --status           print the agent's counters (JSON, from DIR/status.json)\n"
          "  -f, --foreground       accepted: the agent always runs in the foreground\n"
          "  -h, --help             this text\n"
          "  -V, --version          the version\n"
          "\n"
          "signals: SIGTERM/SIGINT stop reading, wait up to 2 s for ACKs in flight and exit\n"
          "(what is queued stays for the next start); SIGHUP re-reads the configuration\n"
          "(collectors, TLS files, backoff, queue bound and policies; inputs are reopened at\n"
          "their positions).\n"
          "exit status: 0 clean exit, 2 usage, configuration or I/O error\n",
          f);
}

enum { OPT_SETTING = 256, OPT_CHECK, OPT_STATUS };

/* The program's own options; every setting is added as --key-name by
 * config's table (conf_key_options), so none can be left out. */
static const struct option fixed_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"state", required_argument, NULL, OPT_SETTING},
    {"collector", required_argument, NULL, OPT_SETTING},
    {"foreground", no_argument, NULL, 'f'},
    {"check-config", no_argument, NULL, OPT_CHECK},
    {"status", no_argument, NULL, OPT_STATUS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};
static struct conf_key_options built_options;
static const struct option *const options = built_options.opts;
#define SHORT_OPTIONS "c:fhV"

struct cli {
    int argc;
    char **argv;
    const char *config;
    bool explicit, check_only, status;
};

/* First pass: --config, --help, --version, and whether the command line
 * names a state directory or collectors itself (then the default file is
 * not read). Returns 1 when the program is done. */
static int first_pass(struct cli *c)
{
    int opt, index = -1;
    opterr = 0;
    while ((opt = getopt_long(c->argc, c->argv, SHORT_OPTIONS, options, &index)) != -1) {
        if (opt == 'c')
            c->config = optarg;
        else if (opt == OPT_SETTING && (!strcmp(options[index].name, "state") ||
                                        !strcmp(options[index].name, "collector")))
            c->explicit = true;
        else if (opt == 'h') {
            usage(stdout);
            return 1;
        } else if (opt == 'V') {
            printf("logward-agent %s\n", LW_VERSION);
            return 1;
        }
        index = -1;
    }
    opterr = 1;
    optind = 0; /* glibc: restart scanning */
    return 0;
}

static int apply_options(struct cli *c, struct agent_config *cfg)
{
    bool cli_inputs = false, cli_collectors = false;
    int opt, index = -1;
    optind = 0;
    while ((opt = getopt_long(c->argc, c->argv, SHORT_OPTIONS, options, &index)) != -1) {
        const char *why = NULL;
        char key[32] = "";
        int r = 0;
        switch (opt) {
        case 'c':
        case 'f':
            break;
        case OPT_SETTING:
            for (size_t i = 0; options[index].name[i] && i + 1 < sizeof(key); i++)
                key[i] = options[index].name[i] == '-' ? '_' : options[index].name[i];
            if (!strcmp(key, "input") && !cli_inputs) {
                agent_config_clear(cfg, key); /* the command line's list replaces the file's */
                cli_inputs = true;
            }
            if (!strcmp(key, "collector") && !cli_collectors) {
                agent_config_clear(cfg, key);
                cli_collectors = true;
            }
            r = agent_config_set(cfg, key, optarg, &why);
            break;
        case OPT_CHECK:
            c->check_only = true;
            break;
        case OPT_STATUS:
            c->status = true;
            break;
        default:
            usage(stderr);
            return -EINVAL;
        }
        if (r < 0) {
            fprintf(stderr, "logward-agent: --%s %s: %s\n", options[index].name, optarg, why);
            return r;
        }
        index = -1;
    }
    if (optind < c->argc) {
        fprintf(stderr, "logward-agent: unexpected argument '%s'\n", c->argv[optind]);
        return -EINVAL;
    }
    return 0;
}

/* The file, then the command line, into a fresh cfg. */
static int build(struct cli *c, struct agent_config *cfg, char *err, size_t cap)
{
    agent_config_init(cfg);
    int r = 0;
    if (c->config && (r = agent_config_load(cfg, c->config, err, cap)) < 0) {
        agent_config_free(cfg);
        return r;
    }
    if ((r = apply_options(c, cfg)) < 0) {
        err[0] = 0; /* apply_options said why */
        agent_config_free(cfg);
    }
    return r;
}

static int rebuild(void *arg, struct agent_config *out, char *err, size_t cap)
{
    return build(arg, out, err, cap);
}

int main(int argc, char **argv)
{
    if (agent_config_options(&built_options, fixed_options, OPT_SETTING) < 0) {
        fputs("logward-agent: the settings do not fit the option table (CONF_KEY_OPTIONS_MAX)\n",
              stderr);
        return EXIT_TROUBLE;
    }
    struct cli c = {.argc = argc, .argv = argv};
    if (first_pass(&c))
        return EXIT_OK;
    if (!c.config && !c.explicit && access(DEFAULT_CONFIG, F_OK) == 0)
        c.config = DEFAULT_CONFIG;
    struct agent_config cfg;
    char err[AGENT_CONFIG_ERROR_MAX] = "";
    if (build(&c, &cfg, err, sizeof(err)) < 0) {
        if (err[0])
            fprintf(stderr, "logward-agent: %s\n", err);
        return EXIT_TROUBLE;
    }
    if (c.status) {
        int rc = EXIT_TROUBLE;
        if (!cfg.state)
            fputs("logward-agent: --status needs the state (--state DIR or --config)\n", stderr);
        else
            rc = status_print(cfg.state);
        agent_config_free(&cfg);
        return rc;
    }
    if (agent_config_check(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "logward-agent: %s%s%s\n", c.config ? c.config : "", c.config ? ": " : "",
                err);
        agent_config_free(&cfg);
        return EXIT_TROUBLE;
    }
    if (c.check_only) {
        printf("logward-agent: configuration valid (%zu inputs, %zu collectors)\n", cfg.ninputs,
               cfg.ncollectors);
        agent_config_free(&cfg);
        return EXIT_OK;
    }
    (void)EXIT_NEGATIVE;
    return agent_run(&cfg, rebuild, &c);
}
