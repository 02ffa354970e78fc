/*
 * Fuzz target: the whole reading path, bytes -> lines -> records ->
 * collated events -> normalized JSON, with small windows so every closing
 * rule runs. Checks that each event's records are lines of the input, that
 * every record read lands in exactly one event (none lost, none doubled),
 * and that the JSON is valid UTF-8 with balanced structure.
 */
#include "audit/collate.h"
#include "audit/normalize.h"
#include "audit/reader.h"
#include "base/utf8.h"

#include "require.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    struct audit_normalizer *norm;
    struct buf out;
    const uint8_t *input;
    size_t size;
    uint64_t records_out;
};

static void check_utf8(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            REQUIRE(s[i] >= 0x20 || s[i] == '\n'); /* controls are escaped */
            i++;
            continue;
        }
        size_t k = utf8_sequence_len(s + i, n - i);
        REQUIRE(k > 0);
        i += k;
    }
}

static int on_event(const struct audit_event *ev, void *arg)
{
    struct state *st = arg;
    REQUIRE(ev->nrecords > 0);
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        const char *line = audit_event_line(ev, i);
        size_t len = ev->records[i].len;
        REQUIRE(len <= st->size);
        REQUIRE(memmem(st->input, st->size, line, len) != NULL);
    }
    st->records_out += ev->nrecords;
    buf_reset(&st->out);
    int r = audit_normalize_event(st->norm, ev, &st->out);
    REQUIRE(r == 0);
    REQUIRE(st->out.len > 2 && st->out.data[0] == '{' && st->out.data[st->out.len - 1] == '\n');
    check_utf8(st->out.data, st->out.len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = {.input = data, .size = size};
    st.norm = audit_normalizer_new(NULL);
    buf_init(&st.out, 0);
    struct audit_collate_config cfg = {
        .event_window = 8, .settle_window = 2, .time_window = 3, .max_open = 16};
    struct audit_collate *c = audit_collate_new(&cfg, on_event, &st);
    struct audit_reader *r = audit_reader_new(c, NULL, NULL);
    /* Feed in two pieces so partial lines across reads are exercised. */
    size_t half = size / 2;
    REQUIRE(audit_reader_feed(r, (const char *)data, half) == 0);
    REQUIRE(audit_reader_feed(r, (const char *)data + half, size - half) == 0);
    REQUIRE(audit_reader_finish(r) == 0);
    REQUIRE(audit_collate_flush(c) == 0);
    const struct audit_collate_stats *cs = audit_collate_stats(c);
    REQUIRE(audit_collate_open_count(c) == 0);
    REQUIRE(st.records_out + cs->stray_eoe == audit_reader_stats(r)->records);
    audit_reader_free(r);
    audit_collate_free(c);
    audit_normalizer_free(st.norm);
    buf_free(&st.out);
    return 0;
}
