/*
 * conf_key: a table of settings, each key described once (its name, its
 * kind of value, the field it sets, the bounds, the reason given when a
 * value is refused, the help text), and the one setter that applies a
 * `key = value` pair through it. logwardd's and logward-agent's settings
 * (src/collector/config.c, src/agent/config.c) are such tables: the common
 * shapes (a bounded number, one of a few words, on/off, a bounded string)
 * are rows; the few truly special keys (listeners, groups, ...) are rows
 * that name their own function. conf_file splits the file; this sets.
 */
#ifndef LW_BASE_CONF_KEY_H
#define LW_BASE_CONF_KEY_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_KEY_DIGITS_MAX 32 /* bytes of a number with a unit (BYTES, custom forms) */
#define CONF_KEY_WHY_RANGE  "not a number in the allowed range"

enum conf_key_kind {
    CONF_KEY_NUMBER, /* decimal digits only, in [min, max]; the field (unsigned, 1 to 8 bytes)
                        gets the number times unit */
    CONF_KEY_BYTES,  /* digits with an optional K, M or G (powers of 1024): at most max bytes
                        (else the range text), at least min (else why, or "too small") */
    CONF_KEY_CHOICE, /* one of words (exactly), whose value goes to the field (an enum or int) */
    CONF_KEY_BOOL,   /* on or off, into a bool */
    CONF_KEY_STRING, /* the field (const char *) points at the value: borrowed, not copied */
    CONF_KEY_TEXT,   /* the value copied into the field (a char array, NUL-terminated) */
    CONF_KEY_CUSTOM, /* the row's own function sets it */
};

struct conf_key_word {
    const char *word;
    int value;
};

/* A custom setter: cfg is the whole configuration struct. Returns 0, or a
 * negative code with *why set (static text, or text that outlives the call). */
typedef int conf_key_custom_fn(void *cfg, const char *value, const char **why);

#define CONF_KEY_EMPTY_NULL 1u /* STRING: an empty value stores NULL (unset) */

struct conf_key {
    const char *key;
    enum conf_key_kind kind;
    size_t offset, size; /* the field in the configuration struct: CONF_KEY_FIELD */
    uint64_t min, max;   /* NUMBER, BYTES: the value's bounds; STRING, TEXT: its length's
                            (max 0: no bound beyond a TEXT field's size) */
    uint64_t unit;       /* NUMBER: the field gets value * unit (0 means 1) */
    const struct conf_key_word *words; /* CHOICE: ended by {NULL, 0} */
    const char *accept;                /* STRING, TEXT: the only bytes allowed (NULL: any) */
    const char *reject;                /* STRING, TEXT: bytes refused (NULL: none) */
    unsigned flags;                    /* CONF_KEY_EMPTY_NULL */
    conf_key_custom_fn *custom;        /* CUSTOM */
    const char *why;        /* static text for a refused value; NULL: NUMBER's and BOOL's own */
    const char *arg, *help; /* for --help: "key ARG" and what it means */
};

/* .offset and .size of a member (nested members too: store.num_logs). */
#define CONF_KEY_FIELD(type, member)                                                               \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* The row named key, or NULL. */
const struct conf_key *conf_key_find(const struct conf_key *keys, size_t n, const char *key);

/*
 * Sets key to value in cfg through keys[0..n). value is borrowed (STRING
 * rows keep it: it must outlive cfg). Returns 0, -ENOENT for a key not in
 * the table ("unknown setting"), or -EINVAL (or the custom setter's code)
 * with *why set. A refused value leaves the field as it was.
 */
int conf_key_set(const struct conf_key *keys, size_t n, void *cfg, const char *key,
                 const char *value, const char **why);

/*
 * Reads the configuration file at path (conf_file_read) and sets each of
 * its pairs through keys[0..n) into cfg, in order. On a file that was read,
 * *text (freed first) takes its text, which STRING rows point into; on one
 * that was not, nothing changes. Returns 0 or a negative code with "PATH:
 * why" or "PATH:LINE: key = value: why" in err.
 */
int conf_key_load(const struct conf_key *keys, size_t n, void *cfg, const char *path, char **text,
                  char *err, size_t cap);

/* Decimal digits only (no sign, no blank), in [min, max], for custom
 * setters. Returns 0 or -EINVAL with *why = CONF_KEY_WHY_RANGE. */
int conf_key_number(const char *v, uint64_t min, uint64_t max, uint64_t *out, const char **why);

/* Checks the table itself (programmer errors, for an assert): unique keys,
 * fields of a size the kind can store, bounds that fit, texts present.
 * Returns 0, or -EINVAL naming the first bad row in *bad. */
int conf_key_table_check(const struct conf_key *keys, size_t n, const char **bad);

/* "  key ARG", then the help wrapped under it, for every row: --help. */
void conf_key_print(FILE *f, const struct conf_key *keys, size_t n);

#define CONF_KEY_OPTIONS_MAX     96 /* entries of a program's getopt_long table */
#define CONF_KEY_OPTION_NAME_MAX 32 /* bytes of a key's option name, NUL included */

/* getopt_long's table for a program whose settings are a conf_key table,
 * so that every key is an option and none can be forgotten. */
struct conf_key_options {
    struct option opts[CONF_KEY_OPTIONS_MAX + 1]; /* ended by a zeroed entry */
    char names[CONF_KEY_OPTIONS_MAX][CONF_KEY_OPTION_NAME_MAX];
};

/*
 * Fills o->opts: first the program's own entries `fixed` (up to its zeroed
 * end, kept as they are: options with short forms, --help...), then one
 * per row of keys[0..n) whose option is not already among them, spelled
 * as the key with '-' for '_', taking an argument, with val. Returns 0, or
 * -ENOSPC (more than CONF_KEY_OPTIONS_MAX entries, or a key too long).
 */
int conf_key_options_build(struct conf_key_options *o, const struct option *fixed,
                           const struct conf_key *keys, size_t n, int val);

#endif
