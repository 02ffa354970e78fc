/*
 * logwardd: the collector's command line. Parses and validates options,
 * then hands over to collector_run. Everything else lives in the libraries.
 */
#include "collector/collector.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_TROUBLE = 2 };

static void usage(FILE *f)
{
    fputs("usage: logwardd --store DIR --listen URL [--listen URL]... [OPTIONS]\n"
          "       logwardd --status --store DIR\n"
          "\n"
          "Receives syslog from rsyslog, syslog-ng, logger and other clients and files\n"
          "each message under DIR/HOST/PROGRAM.log (see docs/formats.md).\n"
          "\n"
          "listeners (repeat --listen; HOST is an IP address, [IPv6], '*' or localhost;\n"
          "port 0 picks a free port):\n"
          "  udp://HOST:PORT     syslog over UDP (RFC 5426), default port 514\n"
          "  tcp://HOST:PORT     syslog over TCP, octet-counted or LF-framed per frame\n"
          "                      (RFC 6587), default port 514\n"
          "  audit://HOST:PORT   auditd's audisp-remote, format managed (each record\n"
          "                      acknowledged once durable) or ascii; default port 60\n"
          "  relp://HOST:PORT    RELP (rsyslog's omrelp), each message acknowledged once\n"
          "                      durable; default port 2514\n"
          "  relp+tls://HOST:PORT  RELP over TLS (needs --tls-cert, --tls-key; with\n"
          "                      --tls-ca, clients must present a certificate it signed)\n"
          "  tls://HOST:PORT     syslog over TLS (RFC 5425, octet-counted or LF-framed);\n"
          "                      default port 6514; needs --tls-cert and --tls-key; with\n"
          "                      --tls-ca a client certificate is required and the host\n"
          "                      is filed under its DNS name (SAN, else CN)\n"
          "  agent://            not served by this version:\n"
          "                      logwardd refuses to start rather than ignore them\n"
          "\n"
          "options:\n"
          "  -s, --store DIR        store root (created 0750 if absent)\n"
          "  -l, --listen URL       a listener, as above\n"
          "  -u, --user NAME        drop to this user after binding (recommended as root)\n"
          "      --host-from peer|claimed\n"
          "                         file messages under the peer's address (default) or\n"
          "                         the host name they claim (spoofable: use only on a\n"
          "                         trusted network); the claimed name is kept in the line\n"
          "      --max-conns N      most TCP connections at once (default 1024)\n"
          "      --fsync none|batch|every\n"
          "                         when written data is fsynced (default batch: every\n"
          "                         flush, 200 ms)\n"
          "      --ready-file FILE  write the bound ports there once listening\n"
          "      --tls-cert FILE, --tls-key FILE\n"
          "                         the server's certificate (chain) and key, PEM\n"
          "      --tls-ca FILE      CA certificate(s) that sign the clients' certificates;\n"
          "                         given, a client certificate is required\n"
          "  -f, --foreground       accepted for compatibility: logwardd always runs in\n"
          "                         the foreground (systemd supervises it)\n"
          "      --check-config     validate the options and exit\n"
          "      --status           print the running collector's counters\n"
          "                         (DIR/.logwardd-status.json) and exit\n"
          "  -h, --help             this text\n"
          "\n"
          "signals: SIGTERM/SIGINT drain connections, flush and exit; SIGHUP reopens files.\n"
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

enum { OPT_HOST_FROM = 256, OPT_MAX_CONNS, OPT_FSYNC, OPT_READY, OPT_CHECK, OPT_STATUS };
enum { OPT_TLS_CERT = 300, OPT_TLS_KEY, OPT_TLS_CA };

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"store", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"user", required_argument, NULL, 'u'},
        {"host-from", required_argument, NULL, OPT_HOST_FROM},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"fsync", required_argument, NULL, OPT_FSYNC},
        {"ready-file", required_argument, NULL, OPT_READY},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"tls-ca", required_argument, NULL, OPT_TLS_CA},
        {"foreground", no_argument, NULL, 'f'},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"status", no_argument, NULL, OPT_STATUS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct collector_config cfg = {.max_conns = COLLECTOR_DEFAULT_MAX_CONNS,
                                   .fsync_policy = STORE_FSYNC_BATCH,
                                   .host_from = HOST_FROM_PEER};
    bool check_only = false, status = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "s:l:u:fh", options, NULL)) != -1) {
        const char *why = NULL;
        switch (opt) {
        case 's':
            cfg.store_root = optarg;
            break;
        case 'u':
            cfg.user = optarg;
            break;
        case 'f':
            break;
        case OPT_READY:
            cfg.ready_file = optarg;
            break;
        case OPT_TLS_CERT:
            cfg.tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg.tls_key = optarg;
            break;
        case OPT_TLS_CA:
            cfg.tls_ca = optarg;
            break;
        case OPT_CHECK:
            check_only = true;
            break;
        case OPT_STATUS:
            status = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'l':
            if (cfg.nlisten == COLLECTOR_MAX_LISTENERS)
                why = "too many listeners";
            else if (listen_url_parse(optarg, &cfg.listen[cfg.nlisten], &why) == 0)
                cfg.nlisten++;
            break;
        case OPT_HOST_FROM:
            if (!strcmp(optarg, "peer"))
                cfg.host_from = HOST_FROM_PEER;
            else if (!strcmp(optarg, "claimed"))
                cfg.host_from = HOST_FROM_CLAIMED;
            else
                why = "expected peer or claimed";
            break;
        case OPT_MAX_CONNS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 60000)
                why = "expected a number from 1 to 60000";
            cfg.max_conns = (size_t)v;
            break;
        }
        case OPT_FSYNC:
            if (!strcmp(optarg, "none"))
                cfg.fsync_policy = STORE_FSYNC_NONE;
            else if (!strcmp(optarg, "batch"))
                cfg.fsync_policy = STORE_FSYNC_BATCH;
            else if (!strcmp(optarg, "every"))
                cfg.fsync_policy = STORE_FSYNC_EVERY;
            else
                why = "expected none, batch or every";
            break;
        default:
            usage(stderr);
            return EXIT_TROUBLE;
        }
        if (why) {
            fprintf(stderr, "logwardd: %s: %s\n", optarg, why);
            return EXIT_TROUBLE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "logwardd: unexpected argument '%s'\n", argv[optind]);
        return EXIT_TROUBLE;
    }
    if (!cfg.store_root) {
        fputs("logwardd: --store DIR is required\n", stderr);
        return EXIT_TROUBLE;
    }
    if (status)
        return print_status(cfg.store_root);
    if (cfg.nlisten == 0) {
        fputs("logwardd: at least one --listen URL is required\n", stderr);
        return EXIT_TROUBLE;
    }
    for (size_t i = 0; i < cfg.nlisten; i++)
        if (cfg.listen[i].scheme != LISTEN_UDP && cfg.listen[i].scheme != LISTEN_TCP &&
            cfg.listen[i].scheme != LISTEN_AUDIT && cfg.listen[i].scheme != LISTEN_TLS &&
            cfg.listen[i].scheme != LISTEN_RELP && cfg.listen[i].scheme != LISTEN_RELP_TLS) {
            fprintf(stderr, "logwardd: %s:// is not served by this version yet\n",
                    listen_scheme_name(cfg.listen[i].scheme));
            return EXIT_TROUBLE;
        }
    for (size_t i = 0; i < cfg.nlisten; i++)
        if ((cfg.listen[i].scheme == LISTEN_RELP_TLS || cfg.listen[i].scheme == LISTEN_TLS) &&
            (!cfg.tls_cert || !cfg.tls_key)) {
            fprintf(stderr, "logwardd: %s:// needs --tls-cert and --tls-key\n",
                    listen_scheme_name(cfg.listen[i].scheme));
            return EXIT_TROUBLE;
        }
    if (check_only) {
        printf("logwardd: configuration OK (%zu listeners, store %s)\n", cfg.nlisten,
               cfg.store_root);
        return EXIT_OK;
    }
    return collector_run(&cfg) < 0 ? EXIT_TROUBLE : EXIT_OK;
}
