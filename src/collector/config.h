/*
 * config: logwardd's settings, from a configuration file and from the
 * command line, through one table, so both are validated alike. The file
 * is auditd.conf-like: `key = value` lines, `#` comments, `listen` repeated
 * (docs/configuration.md). Command-line options override the file; a
 * `--listen` on the command line replaces the file's listeners.
 */
#ifndef LW_COLLECTOR_CONFIG_H
#define LW_COLLECTOR_CONFIG_H

#include "base/conf_key.h"
#include "collector/collector.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_ERROR_MAX 512

/* Defaults: no listener, no store root (both required), auditd's rotation
 * (8 MB, 5 files), fsync batch, 1024 connections, hosts by address. */
void config_init(struct collector_config *cfg);

/*
 * Sets one setting by its key (the long option's name with '_' for '-').
 * value is borrowed for strings: it must outlive cfg. Returns 0, or -EINVAL
 * / -ENOENT (unknown key) with *why set to a static explanation.
 */
int config_set(struct collector_config *cfg, const char *key, const char *value, const char **why);

/* True if key names a setting (for getopt's table). */
bool config_has_key(const char *key);

/*
 * Reads a configuration file into cfg; the text is kept (cfg->text owns
 * it). On error returns a negative code with "FILE:LINE: why" in err.
 */
int config_load(struct collector_config *cfg, const char *path, char *err, size_t cap);

/* The checks across settings (required ones, TLS files for tls://...).
 * Returns 0 or -EINVAL with the reason in err. */
int config_check(const struct collector_config *cfg, char *err, size_t cap);

/* Frees what config_load allocated; the struct itself is the caller's. */
void config_free(struct collector_config *cfg);

/* The man-page-style list of settings, for --help and docs. */
void config_print_keys(FILE *f);

/* getopt_long's table: fixed, then every setting as --key-name (val).
 * Returns 0 or -ENOSPC (conf_key_options_build). */
int config_options(struct conf_key_options *o, const struct option *fixed, int val);

#endif
