/*
 * normalize: one collated audit event -> one JSON object (schema in
 * docs/event-schema.md) or one readable text line. Decodes hex, reassembles
 * the command line, names syscalls and errnos from libaudit's tables, decodes
 * socket addresses, splits rule keys. Names of users come from the records
 * themselves (ENRICHED); this machine's accounts are consulted only when
 * asked (the collector's accounts are not the sender's).
 */
#ifndef LW_AUDIT_NORMALIZE_H
#define LW_AUDIT_NORMALIZE_H

#include "audit/event.h"
#include "base/buf.h"

#include <stdbool.h>

#define AUDIT_EVENT_SCHEMA_VERSION 1

enum audit_output_format { AUDIT_OUTPUT_JSON, AUDIT_OUTPUT_TEXT };

struct audit_normalize_options {
    enum audit_output_format format;
    bool local_names; /* fall back to getpwuid/getgrgid for ids without names */
    bool utc;         /* times in UTC ("Z") rather than the local zone */
};

struct audit_normalizer;

struct audit_normalizer *audit_normalizer_new(const struct audit_normalize_options *opt);
void audit_normalizer_free(struct audit_normalizer *n);

/* Appends the event, ending with '\n', to out. Returns 0, -ENOMEM or -E2BIG. */
int audit_normalize_event(struct audit_normalizer *n, const struct audit_event *ev,
                          struct buf *out);

#endif
