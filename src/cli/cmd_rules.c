/*
 * logward rules: prints the site guideline's audit rules for
 * /etc/audit/rules.d (profile, arches, UID_MIN, immutable), or with --check
 * lints an existing rules file or `auditctl -l` output. It reads
 * /etc/login.defs (below --root) and the rules given; it never loads rules
 * into the kernel.
 */
#include "base/buf.h"
#include "cli/cli.h"
#include "rules/login_defs.h"
#include "rules/rule_arch.h"
#include "rules/rule_gen.h"
#include "rules/rule_lint.h"
#include "rules/host_fs.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_OUTPUT_MAX (1u << 20)
#define CHECK_INPUT_MAX  (16u << 20)

struct rules_args {
    enum rule_profile profile;
    const char *arch_list;
    const char *machine_name;
    const char *root;
    const char *check;
    long auid_min; /* -1: from login.defs */
    bool immutable;
};

struct lint_out {
    const char *name;
    unsigned counts[3];
};

static void usage(FILE *f)
{
    fputs("usage: logward rules [--profile main|full] [--arch b64,b32] [--auid-min N]\n"
          "                     [--immutable|--no-immutable] [--root DIR] [--machine NAME]\n"
          "       logward rules --check FILE|- [--arch b64,b32] [--auid-min N] [--root DIR]\n"
          "\n"
          "Prints a complete audit rules file for /etc/audit/rules.d that records every\n"
          "category of the site logging guideline, under the keys the guideline names:\n"
          "command_log, actions, delete, user_modify, logins, audit_time_rules,\n"
          "audit_network_modifications, perm_mod, session, access, modules.\n"
          "Syscall rules are written once per arch and list only the syscalls that\n"
          "libaudit knows for that arch (stime exists on b32 only, for example).\n"
          "Install the output as /etc/audit/rules.d/99-logward.rules and run\n"
          "'augenrules --load'. See docs/rules.md for what each rule records and why.\n"
          "\n"
          "With --check, reads a rules file (or, with '-', `auditctl -l` output on\n"
          "standard input) and reports, one line per finding (FILE:LINE:COL: severity:\n"
          "text [id]): syntax errors as auditctl would see them, placeholders such as\n"
          "arch=ARCH, a -k on a line of its own, syscall rules without an arch, syscalls\n"
          "the arch does not have, rules after -e 2, auid thresholds below UID_MIN, and\n"
          "each guideline category the rules do not fully cover, judged from the\n"
          "syscalls, paths and permissions they audit rather than from their keys.\n"
          "\n"
          "options:\n"
          "  -p, --profile main|full  main: the guideline's rules, corrected (default);\n"
          "                           full: adds execveat, renameat2, openat2,\n"
          "                           clock_adjtime, kexec, setuid-root execution and\n"
          "                           more configuration paths\n"
          "  -a, --arch LIST          ABIs to write or require, comma-separated: b64, b32\n"
          "                           or machine names (default: both on 64-bit machines)\n"
          "  -u, --auid-min N         first user id of people (default: UID_MIN from\n"
          "                           /etc/login.defs, else 1000)\n"
          "      --immutable          end with -e 2 (default): no rule changes until reboot\n"
          "      --no-immutable       leave -e 2 out\n"
          "  -c, --check FILE|-       lint FILE, or `auditctl -l` output on standard input\n"
          "  -r, --root DIR           read etc/login.defs and optional paths below DIR\n"
          "  -m, --machine NAME       the hosts' machine (x86_64, aarch64...) for b64/b32\n"
          "                           (default: this machine)\n"
          "  -h, --help               this text\n"
          "\n"
          "exit status: 0 rules printed or no problem found, 1 problems found (--check),\n"
          "2 usage or I/O error\n",
          f);
}

static int parse_args(int argc, char **argv, struct rules_args *a)
{
    enum { OPT_IMMUTABLE = 256, OPT_NO_IMMUTABLE };
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"arch", required_argument, NULL, 'a'},
        {"auid-min", required_argument, NULL, 'u'},
        {"check", required_argument, NULL, 'c'},
        {"root", required_argument, NULL, 'r'},
        {"machine", required_argument, NULL, 'm'},
        {"immutable", no_argument, NULL, OPT_IMMUTABLE},
        {"no-immutable", no_argument, NULL, OPT_NO_IMMUTABLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "p:a:u:c:r:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "main") && strcmp(optarg, "full")) {
                cli_error("rules: --profile is main or full, not '%s'", optarg);
                return -EINVAL;
            }
            a->profile = optarg[0] == 'f' ? RULE_PROFILE_FULL : RULE_PROFILE_MAIN;
            break;
        case 'a':
            a->arch_list = optarg;
            break;
        case 'u':
            errno = 0;
            a->auid_min = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || a->auid_min < 1 || a->auid_min > 0x7fffffff) {
                cli_error("rules: --auid-min needs a positive number, not '%s'", optarg);
                return -EINVAL;
            }
            break;
        case 'c':
            a->check = optarg;
            break;
        case 'r':
            a->root = optarg;
            break;
        case 'm':
            a->machine_name = optarg;
            break;
        case OPT_IMMUTABLE:
            a->immutable = true;
            break;
        case OPT_NO_IMMUTABLE:
            a->immutable = false;
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
        cli_error("rules: unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

/* Host machine, ABIs and UID_MIN, from the options or this host. */
static int resolve(const struct rules_args *a, int *host, int machines[RULE_ARCH_MAX],
                   unsigned *auid_min)
{
    *host = a->machine_name ? rule_arch_machine_from_name(a->machine_name) : rule_arch_host();
    if (*host < 0) {
        cli_error("rules: unknown machine '%s'", a->machine_name ? a->machine_name : "(this)");
        return -EINVAL;
    }
    int n = a->arch_list ? rule_arch_parse_list(a->arch_list, *host, machines)
                         : rule_arch_defaults(*host, machines);
    if (n < 0) {
        cli_error("rules: --arch '%s' is not b64, b32 or a machine of %s", a->arch_list,
                  rule_arch_machine_name(*host));
        return -EINVAL;
    }
    if (a->auid_min > 0) {
        *auid_min = (unsigned)a->auid_min;
    } else if (login_defs_uid_min(a->root, auid_min) < 0) {
        cli_error("rules: %s/etc/login.defs: bad or unreadable UID_MIN", a->root);
        return -EINVAL;
    }
    return n;
}

static int print_finding(const struct rule_finding *f, void *arg)
{
    struct lint_out *o = arg;
    o->counts[f->severity]++;
    if (f->line && f->column)
        printf("%s:%u:%zu: ", o->name, f->line, f->column);
    else if (f->line)
        printf("%s:%u: ", o->name, f->line);
    else
        printf("%s: ", o->name);
    printf("%s: %s [%s]\n", rule_lint_severity_name(f->severity), f->text, f->id);
    return 0;
}

static int read_input(const char *name, struct buf *b)
{
    if (strcmp(name, "-"))
        return host_fs_read(NULL, name, b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (buf_append(b, chunk, n) < 0)
            return -E2BIG;
    return ferror(stdin) ? -EIO : 0;
}

static int run_check(const struct rules_args *a, const struct rule_lint_options *lo)
{
    struct buf in;
    struct lint_out out = {.name = strcmp(a->check, "-") ? a->check : "<stdin>"};
    buf_init(&in, CHECK_INPUT_MAX);
    int rc = read_input(a->check, &in);
    if (rc < 0) {
        cli_error("rules: %s: %s", out.name, strerror(-rc));
        buf_free(&in);
        return EXIT_TROUBLE;
    }
    rc = rule_lint_text(in.data ? in.data : "", in.len, lo, print_finding, &out);
    buf_free(&in);
    if (rc < 0) {
        cli_error("rules: %s: %s", out.name, strerror(-rc));
        return EXIT_TROUBLE;
    }
    printf("%s: %u error(s), %u warning(s), %u note(s)\n", out.name, out.counts[RULE_SEV_ERROR],
           out.counts[RULE_SEV_WARNING], out.counts[RULE_SEV_NOTE]);
    return rc > 0 ? EXIT_NEGATIVE : EXIT_OK;
}

static int run_generate(const struct rule_gen_options *go)
{
    struct buf out;
    buf_init(&out, RULES_OUTPUT_MAX);
    int rc = rule_gen_write(go, &out);
    if (rc >= 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = -EIO;
    buf_free(&out);
    if (rc < 0 || fflush(stdout) != 0) {
        cli_error("rules: %s", strerror(rc < 0 ? -rc : EIO));
        return EXIT_TROUBLE;
    }
    return EXIT_OK;
}

int cmd_rules(int argc, char **argv)
{
    struct rules_args a = {
        .profile = RULE_PROFILE_MAIN, .root = "/", .auid_min = -1, .immutable = true};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_TROUBLE;
    int host, machines[RULE_ARCH_MAX];
    unsigned auid_min;
    int n = resolve(&a, &host, machines, &auid_min);
    if (n < 0)
        return EXIT_TROUBLE;
    if (a.check) {
        struct rule_lint_options lo = {.host = host, .n_machines = n, .auid_min = auid_min};
        memcpy(lo.machines, machines, sizeof(lo.machines));
        return run_check(&a, &lo);
    }
    struct rule_gen_options go = {.profile = a.profile,
                                  .n_machines = n,
                                  .auid_min = auid_min,
                                  .immutable = a.immutable,
                                  .root = a.root};
    memcpy(go.machines, machines, sizeof(go.machines));
    return run_generate(&go);
}
