/*
 * logward: the command-line tool. A thin dispatcher: each subcommand lives
 * in its own cmd_*.c over the static libraries.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"events", cmd_events, "collate audit records into events; print JSON or text"},
    {"rules", cmd_rules, "print the guideline's audit rules, or lint a rules file (--check)"},
    {"search", cmd_search, "find audit events with ausearch's options (-k, -m, -ua, -ts...)"},
    {"report", cmd_report, "aureport's summary and tables (logins, keys, executables...)"},
    {"index", cmd_index, "build (or --check) the search index of audit logs"},
    {"check", cmd_check, "inspect this host against the guideline, read-only"},
    {"keygen", cmd_keygen, "make the store's sealing key and its verification key"},
    {"verify", cmd_verify, "check stored files against their seals (tampering, unsealed tail)"},
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("logward: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fputs("usage: logward COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'logward COMMAND --help' describes a command.\n"
          "exit status: 0 success, 1 nothing matched or a check failed, 2 usage or I/O error\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("logward %s\n", LW_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", name);
    usage(stderr);
    return EXIT_TROUBLE;
}
