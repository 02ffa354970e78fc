/*
 * Fuzz target: the auditctl rule parser (src/rules/rule_parse.c), one line
 * at a time. Checks that every span it returns lies inside the line, counts
 * stay within their bounds, error offsets are inside the line, and walking
 * the syscall names ends.
 */
#include "require.h"
#include "rules/rule_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void span_ok(struct rule_span s, const char *p, size_t len)
{
    if (s.len == 0)
        return;
    REQUIRE(s.p >= p && s.p + s.len <= p + len);
}

static void check_line(const char *p, size_t len)
{
    struct rule r;
    memset(&r, 0xa5, sizeof(r)); /* the parser must set what it reports */
    int rc = rule_parse_line(p, len, &r);
    if (rc < 0) {
        REQUIRE(r.error_offset <= len);
        REQUIRE(rule_parse_strerror(rc) != NULL);
        return;
    }
    REQUIRE(r.n_syscalls <= RULE_MAX_SYSCALL_ARGS && r.n_fields <= RULE_MAX_FIELDS);
    REQUIRE(r.n_keys <= RULE_MAX_KEYS && r.n_controls <= RULE_MAX_CONTROLS);
    for (unsigned i = 0; i < r.n_syscalls; i++)
        span_ok(r.syscalls[i], p, len);
    for (unsigned i = 0; i < r.n_fields; i++) {
        span_ok(r.fields[i].name, p, len);
        span_ok(r.fields[i].value, p, len);
    }
    for (unsigned i = 0; i < r.n_keys; i++)
        span_ok(r.keys[i], p, len);
    for (unsigned i = 0; i < r.n_controls; i++) {
        span_ok(r.controls[i].option, p, len);
        span_ok(r.controls[i].value, p, len);
    }
    if (r.kind == RULE_WATCH)
        span_ok(r.path, p, len);
    size_t pos = 0, steps = 0;
    struct rule_span name;
    while (rule_next_syscall(&r, &pos, &name)) {
        span_ok(name, p, len);
        REQUIRE(++steps <= len + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        check_line(p, len);
        p += len + 1;
    }
    return 0;
}
