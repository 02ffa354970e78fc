/*
 * cli: the subcommands of `logward`, one file each, and the exit-code
 * convention every command keeps: 0 success, 1 a negative answer (nothing
 * matched, tampering found, a check failed), 2 usage, configuration or I/O
 * errors.
 */
#ifndef LW_CLI_H
#define LW_CLI_H

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_TROUBLE = 2 };

int cmd_events(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_index(int argc, char **argv);

/* Prints "logward: <text>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
