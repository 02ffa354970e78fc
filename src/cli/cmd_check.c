/*
 * logward check: inspects the host it runs on (or a tree given with
 * --root) against the site guideline and prints one row per point with
 * pass, fail or unknown and the command that fixes it, as a table or as
 * JSON for fleet use. It only reads: files, /proc and, on the running host,
 * `auditctl -l` and `auditctl -s`.
 */
#include "base/buf.h"
#include "base/json.h"
#include "cli/cli.h"
#include "rules/host_check.h"
#include "rules/rule_arch.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_OUTPUT_MAX (1u << 20)

struct check_args {
    const char *root;
    const char *arch_list;
    const char *machine_name;
    bool json;
    bool strict;
};

static void usage(FILE *f)
{
    fputs("usage: logward check [--root DIR] [--format text|json] [--strict]\n"
          "                     [--arch b64,b32] [--machine NAME]\n"
          "\n"
          "Inspects this host, read-only, against the site logging guideline and prints\n"
          "one row per point: pass, fail or unknown, what was found, and the command\n"
          "that fixes it. The points:\n"
          "  auditd installed, enabled at boot and running;\n"
          "  audit rules covering each guideline category (command_log, actions, delete,\n"
          "    user_modify, logins, audit_time_rules, audit_network_modifications,\n"
          "    perm_mod, session, access, modules), judged from the syscalls, paths and\n"
          "    permissions the rules audit on each arch, not from their keys: the rules\n"
          "    loaded in the kernel (auditctl -l) when this runs as root on the host,\n"
          "    else /etc/audit/rules.d (else audit.rules); and -e 2 (immutable);\n"
          "  auditd.conf: log_file under /var/log, max_log_file with a rotating action,\n"
          "    num_logs, space_left_action not IGNORE, log_format ENRICHED and\n"
          "    name_format other than NONE (so records stay readable off the host);\n"
          "  journald or rsyslog running; logs forwarded (rsyslog, journal-upload,\n"
          "    audisp-remote or logward-agent) and encrypted (TLS);\n"
          "  time synchronised (chronyd, systemd-timesyncd or ntpd running);\n"
          "  /var/log owned by root and not world-writable, /var/log/audit closed to\n"
          "    others, no world-writable log file;\n"
          "  append-only attribute (chattr +a) on the main logs: advisory, it does not\n"
          "    change the exit status.\n"
          "See docs/rules.md for each verdict rule.\n"
          "\n"
          "options:\n"
          "  -r, --root DIR          inspect the tree below DIR instead of this host (its\n"
          "                          etc/, var/log/ and proc/); never runs auditctl\n"
          "  -F, --format text|json  output format (default text)\n"
          "      --strict            count unknown verdicts as failures\n"
          "  -a, --arch LIST         ABIs the rules must cover (default: both on 64-bit)\n"
          "  -m, --machine NAME      the host's machine for b64/b32 (default: this one)\n"
          "  -h, --help              this text\n"
          "\n"
          "exit status: 0 every required point passes, 1 some point fails,\n"
          "2 usage or I/O error\n",
          f);
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
    enum { OPT_STRICT = 256 };
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'F'},
        {"arch", required_argument, NULL, 'a'},
        {"machine", required_argument, NULL, 'm'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "r:F:a:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            a->root = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
                cli_error("check: --format is text or json, not '%s'", optarg);
                return -EINVAL;
            }
            a->json = optarg[0] == 'j';
            break;
        case 'a':
            a->arch_list = optarg;
            break;
        case 'm':
            a->machine_name = optarg;
            break;
        case OPT_STRICT:
            a->strict = true;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        cli_error("check: unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static int put_item_json(struct buf *b, const struct host_check_item *it, bool first)
{
    int r = json_put_raw(b, first ? "{" : ",{");
    if (r >= 0 && (r = json_put_key(b, "id")) >= 0)
        r = json_put_string(b, it->id, strlen(it->id));
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "title")) >= 0)
        r = json_put_string(b, it->title, strlen(it->title));
    const char *v = host_check_verdict_name(it->verdict);
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "verdict")) >= 0)
        r = json_put_string(b, v, strlen(v));
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "required")) >= 0)
        r = json_put_raw(b, it->advisory ? "false" : "true");
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "detail")) >= 0)
        r = json_put_string(b, it->detail, strlen(it->detail));
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "fix")) >= 0)
        r = json_put_string(b, it->fix, strlen(it->fix));
    return r >= 0 ? json_put_raw(b, "}") : r;
}

static int put_json(struct buf *b, const char *root, const struct host_check_report *rep,
                    const unsigned counts[3])
{
    static const char *const names[3] = {"pass", "fail", "unknown"};
    int r = json_put_raw(b, "{");
    if (r >= 0 && (r = json_put_key(b, "root")) >= 0)
        r = json_put_string(b, root, strlen(root));
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "rules_source")) >= 0)
        r = json_put_string(b, rep->rules_source, strlen(rep->rules_source));
    if (r >= 0 && (r = json_put_raw(b, ",")) >= 0 && (r = json_put_key(b, "checks")) >= 0)
        r = json_put_raw(b, "[");
    for (size_t i = 0; r >= 0 && i < rep->n; i++)
        r = put_item_json(b, &rep->items[i], i == 0);
    if (r >= 0 && (r = json_put_raw(b, "],")) >= 0 && (r = json_put_key(b, "summary")) >= 0)
        r = json_put_raw(b, "{");
    for (int i = 0; r >= 0 && i < 3; i++) {
        if (i && (r = json_put_raw(b, ",")) < 0)
            break;
        if ((r = json_put_key(b, names[i])) >= 0)
            r = json_put_u64(b, counts[i]);
    }
    return r >= 0 ? json_put_raw(b, "}}\n") : r;
}

static int put_text(struct buf *b, const char *root, const struct host_check_report *rep,
                    const unsigned counts[3])
{
    int r = buf_printf(b, "logward check: root %s; rules from %s\n%-8s %-46s %s\n", root,
                       rep->rules_source, "VERDICT", "CHECK", "FOUND");
    for (size_t i = 0; r >= 0 && i < rep->n; i++) {
        const struct host_check_item *it = &rep->items[i];
        r = buf_printf(b, "%-8s %-46s %s%s\n", host_check_verdict_name(it->verdict), it->title,
                       it->detail, it->advisory ? " [advisory]" : "");
        if (r >= 0 && it->fix[0])
            r = buf_printf(b, "%-8s %-46s fix: %s\n", "", "", it->fix);
    }
    if (r >= 0)
        r = buf_printf(b, "summary: %u pass, %u fail, %u unknown\n", counts[HOST_PASS],
                       counts[HOST_FAIL], counts[HOST_UNKNOWN]);
    return r;
}

static int options_for(const struct check_args *a, struct host_check_options *o)
{
    char real[PATH_MAX];
    o->root = a->root;
    o->live = realpath(a->root, real) && !strcmp(real, "/");
    if (!realpath(a->root, real)) {
        cli_error("check: %s: %s", a->root, strerror(errno));
        return -EINVAL;
    }
    o->host = a->machine_name ? rule_arch_machine_from_name(a->machine_name) : rule_arch_host();
    if (o->host < 0) {
        cli_error("check: unknown machine '%s'", a->machine_name ? a->machine_name : "(this)");
        return -EINVAL;
    }
    o->n_machines = a->arch_list ? rule_arch_parse_list(a->arch_list, o->host, o->machines)
                                 : rule_arch_defaults(o->host, o->machines);
    if (o->n_machines < 0) {
        cli_error("check: --arch '%s' is not b64, b32 or a machine name", a->arch_list);
        return -EINVAL;
    }
    return 0;
}

int cmd_check(int argc, char **argv)
{
    struct check_args a = {.root = "/"};
    struct host_check_options o = {0};
    static struct host_check_report rep; /* large; one per run */
    unsigned counts[3] = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_TROUBLE;
    if (options_for(&a, &o) < 0)
        return EXIT_TROUBLE;
    if ((rc = host_check_run(&o, &rep)) < 0) {
        cli_error("check: %s", strerror(-rc));
        return EXIT_TROUBLE;
    }
    bool failed = false;
    for (size_t i = 0; i < rep.n; i++) {
        counts[rep.items[i].verdict]++;
        if (!rep.items[i].advisory && (rep.items[i].verdict == HOST_FAIL ||
                                       (a.strict && rep.items[i].verdict == HOST_UNKNOWN)))
            failed = true;
    }
    struct buf out;
    buf_init(&out, CHECK_OUTPUT_MAX);
    rc = a.json ? put_json(&out, a.root, &rep, counts) : put_text(&out, a.root, &rep, counts);
    if (rc >= 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = -EIO;
    buf_free(&out);
    if (rc < 0 || fflush(stdout) != 0) {
        cli_error("check: %s", strerror(rc < 0 ? -rc : EIO));
        return EXIT_TROUBLE;
    }
    return failed ? EXIT_NEGATIVE : EXIT_OK;
}
