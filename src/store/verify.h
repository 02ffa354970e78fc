/*
 * verify: checks stored files against their seals (docs/formats.md,
 * "Sealing", the verification algorithm): per file OK, an unsealed tail
 * (records after the last seal: a crash, or not sealed yet) or tampered,
 * with the first bad position. The writer's own code (seal.c) computes
 * every hash and tag, so the two cannot disagree. Used by `logward verify`.
 */
#ifndef LW_STORE_VERIFY_H
#define LW_STORE_VERIFY_H

#include "store/seal.h"

#include <stddef.h>
#include <stdint.h>

enum verify_status { VERIFY_OK, VERIFY_TAIL, VERIFY_TAMPERED, VERIFY_ERROR };

#define VERIFY_NAME_MAX 4096
#define VERIFY_WHAT_MAX 400

struct verify_result {
    char file[VERIFY_NAME_MAX]; /* the path as given, joined with the names below it */
    enum verify_status status;
    uint64_t line, offset;        /* first bad or first unsealed line (1-based) and its byte offset;
                                     line 0: the whole file */
    uint64_t lines, bytes, seals; /* read from the file, and seals checked */
    char what[VERIFY_WHAT_MAX];
};

struct verify_opts {
    const struct seal_key *k0; /* the verification key; NULL: chains only, tags unchecked */
    void (*progress)(void *arg, uint64_t files, uint64_t bytes); /* may be NULL */
    void *progress_arg;
};

struct verify_run;

int verify_run_new(const struct verify_opts *o, struct verify_run **out);
/* A file, a host directory or a whole store. Returns 0, or a negative
 * errno when the path cannot be read at all (a result says so too). */
int verify_path(struct verify_run *v, const char *path);
/* The checks across files: a chain whose last seal promised another by a
 * time the store's newest seal is past. Call once, after every path. */
void verify_finish(struct verify_run *v);
size_t verify_count(const struct verify_run *v);
const struct verify_result *verify_get(const struct verify_run *v, size_t i);
void verify_run_free(struct verify_run *v);

const char *verify_status_name(enum verify_status s);

#endif
