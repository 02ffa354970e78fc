/*
 * logwardd: the collector's command line. Reads the configuration file (if
 * any), applies the command-line options over it through the same setting
 * table (config.c), validates, then hands over to collector_run.
 */
#include "collector/collector.h"
#include "collector/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_TROUBLE = 2 };
#define DEFAULT_CONFIG "/etc/logward/logwardd.conf"

static void usage(FILE *f)
{
    fputs("usage: logwardd [--config FILE] [--store DIR] [--listen URL]... [OPTIONS]\n"
          "       logwardd --status --store DIR\n"
          "\n"
          "The logward collector: receives syslog (rsyslog, syslog-ng, logger...) and audit\n"
          "records (auditd's audisp-remote) and files them under DIR/HOST/PROGRAM.log and\n"
          "DIR/HOST/audit.log (docs/formats.md). Runs in the foreground (systemd\n"
          "supervises it).\n"
          "\n"
          "listeners (repeat --listen; HOST is an IP address, [IPv6], '*' or localhost;\n"
          "port 0 picks a free port, see --ready-file):\n"
          "  udp://HOST:PORT       syslog over UDP (RFC 5426), default port 514\n"
          "  tcp://HOST:PORT       syslog over TCP, octet-counted or LF-framed per frame\n"
          "                        (RFC 6587), default port 514\n"
          "  tls://HOST:PORT       syslog over TLS (RFC 5425), default port 6514; with\n"
          "                        --tls-ca a client certificate is required and the host\n"
          "                        is filed under its DNS name (SAN, else CN)\n"
          "  relp://HOST:PORT      RELP (rsyslog's omrelp), default port 2514\n"
          "  relp+tls://HOST:PORT  RELP over TLS\n"
          "  audit://HOST:PORT     auditd's audisp-remote, format managed or ascii,\n"
          "                        default port 60\n"
          "  agent://HOST:PORT     logward-agent (lwap/1, records stored exactly once),\n"
          "                        default port 6515; plain TCP for tests and loopback\n"
          "  agent+tls://HOST:PORT the same over TLS; needs --tls-ca: agents present\n"
          "                        client certificates, filed under their DNS name\n"
          "  Acknowledged protocols (RELP, audisp-remote managed, agents) are answered\n"
          "  only once the data is durable per --fsync.\n"
          "\n"
          "settings (command line --NAME VALUE with '-' for '_', or NAME = VALUE lines in\n"
          "the configuration file; the command line wins, and a --listen there replaces\n"
          "the file's listeners):\n",
          f);
    config_print_keys(f);
    fputs("\n"
          "options:\n"
          "  -c, --config FILE      read settings from FILE (default " DEFAULT_CONFIG " when\n"
          "                         it exists and no --store or --listen is given)\n"
          "      --check-config     validate everything and exit (0 valid, 2 not)\n"
          "      --status           print the running collector's counters (JSON, from\n"
          "                         DIR/.logwardd-status.json) and exit\n"
          "  -f, --foreground       accepted for compatibility: always in the foreground\n"
          "  -h, --help             this text\n"
          "  short forms: -s --store, -l --listen, -u --user\n"
          "\n"
          "signals: SIGTERM/SIGINT answer what was received, flush and exit; SIGHUP\n"
          "re-reads the configuration file and reopens the store's files.\n"
          "exit status: 0 clean exit, 2 usage, configuration or I/O error\n",
          f);
}

static int print_status(const char *store)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.logwardd-status.json", store);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "logwardd: %s: %s (is a collector running on this store?)\n", path,
                strerror(errno));
        return EXIT_TROUBLE;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return EXIT_OK;
}

enum { OPT_SETTING = 256, OPT_CHECK, OPT_STATUS };

/* The program's own options; every setting is added as --key-name by
 * config's table (conf_key_options), so none can be left out. */
static const struct option fixed_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"store", required_argument, NULL, 's'},
    {"listen", required_argument, NULL, 'l'},
    {"user", required_argument, NULL, 'u'},
    {"foreground", no_argument, NULL, 'f'},
    {"check-config", no_argument, NULL, OPT_CHECK},
    {"status", no_argument, NULL, OPT_STATUS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
static struct conf_key_options built_options;
static const struct option *const options = built_options.opts;
#define SHORT_OPTIONS "c:s:l:u:fh"

/* First pass: only --config, --help and whether the command line names a
 * store or listeners itself (then the default file is not read). */
static int first_pass(int argc, char **argv, const char **config, bool *explicit)
{
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL)) != -1) {
        if (opt == 'c')
            *config = optarg;
        else if (opt == 's' || opt == 'l')
            *explicit = true;
        else if (opt == 'h') {
            usage(stdout);
            return 1;
        }
    }
    opterr = 1;
    optind = 0; /* glibc: restart scanning */
    return 0;
}

static int apply_options(int argc, char **argv, struct collector_config *cfg, bool *check_only,
                         bool *status)
{
    bool cli_listen = false;
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, SHORT_OPTIONS, options, &index)) != -1) {
        const char *why = NULL;
        char key[32] = "";
        int r = 0;
        switch (opt) {
        case 'c':
        case 'f':
            break;
        case 'l':
            if (!cli_listen)
                cfg->nlisten = 0; /* the command line's listeners replace the file's */
            cli_listen = true;
            r = config_set(cfg, "listen", optarg, &why);
            break;
        case 's':
            r = config_set(cfg, "store", optarg, &why);
            break;
        case 'u':
            r = config_set(cfg, "user", optarg, &why);
            break;
        case OPT_SETTING:
            for (size_t i = 0; options[index].name[i] && i + 1 < sizeof(key); i++)
                key[i] = options[index].name[i] == '-' ? '_' : options[index].name[i];
            r = config_set(cfg, key, optarg, &why);
            break;
        case OPT_CHECK:
            *check_only = true;
            break;
        case OPT_STATUS:
            *status = true;
            break;
        default:
            usage(stderr);
            return -EINVAL;
        }
        if (r < 0) {
            fprintf(stderr, "logwardd: %s: %s\n", optarg, why);
            return r;
        }
        index = -1;
    }
    if (optind < argc) {
        fprintf(stderr, "logwardd: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (config_options(&built_options, fixed_options, OPT_SETTING) < 0) {
        fputs("logwardd: the settings do not fit the option table (CONF_KEY_OPTIONS_MAX)\n",
              stderr);
        return EXIT_TROUBLE;
    }
    const char *config = NULL;
    bool explicit = false, check_only = false, status = false;
    if (first_pass(argc, argv, &config, &explicit))
        return EXIT_OK;
    struct collector_config cfg;
    config_init(&cfg);
    char err[CONFIG_ERROR_MAX];
    if (!config && !explicit && access(DEFAULT_CONFIG, F_OK) == 0)
        config = DEFAULT_CONFIG;
    int rc = EXIT_TROUBLE;
    if (config && config_load(&cfg, config, err, sizeof(err)) < 0) {
        fprintf(stderr, "logwardd: %s\n", err);
        goto out;
    }
    if (apply_options(argc, argv, &cfg, &check_only, &status) < 0)
        goto out;
    if (status) {
        if (!cfg.store.root) {
            fputs("logwardd: --status needs the store (--store DIR or --config)\n", stderr);
            goto out;
        }
        rc = print_status(cfg.store.root);
        goto out;
    }
    if (config_check(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "logwardd: %s\n", err);
        goto out;
    }
    if (check_only) {
        printf("logwardd: configuration OK (%zu listeners, store %s%s%s)\n", cfg.nlisten,
               cfg.store.root, config ? ", file " : "", config ? config : "");
        rc = EXIT_OK;
        goto out;
    }
    rc = collector_run(&cfg) < 0 ? EXIT_TROUBLE : EXIT_OK;
out:
    config_free(&cfg);
    return rc;
}
