/*
 * conf_file: the `key = value` configuration files of logwardd and
 * logward-agent, in auditd.conf's shape: one setting per line, '#' starts a
 * comment, blank lines are skipped, spaces and tabs around the key and the
 * value (and a CR at the end) are ignored. Each pair goes to the caller's
 * setter, which alone knows the keys; a refusal stops the read with
 * FILE:LINE: key = value: why.
 */
#ifndef LW_BASE_CONF_FILE_H
#define LW_BASE_CONF_FILE_H

#include <stddef.h>

#define CONF_FILE_MAX (1 << 20) /* bytes of a configuration file */

/* Sets one pair. Returns 0, or a negative code with *why set (static text). */
typedef int conf_file_set_fn(void *arg, const char *key, const char *value, const char **why);

/* Reads path whole into a NUL-terminated buffer the caller frees (*text).
 * Refuses a file over CONF_FILE_MAX (-EFBIG) or holding a NUL byte
 * (-EINVAL). Returns 0 or a negative errno, with why in err ("PATH: ..."). */
int conf_file_read(const char *path, char **text, char *err, size_t cap);

/* Parses text (from conf_file_read; cut in place: keys and values point
 * into it, so it must outlive what the setter keeps) and calls set for each
 * pair in order. Returns 0, or -EINVAL at the first line that is not a pair
 * or that set refused, with "PATH:LINE: ..." in err. */
int conf_file_parse(char *text, const char *path, conf_file_set_fn *set, void *arg, char *err,
                    size_t cap);

#endif
