/*
 * Fuzz target: the stored-syslog-line parsers of `logward search --program`
 * (src/search/lines.c): the RFC 3339 time stamp at the start of a line and
 * the PROGRAM field. Each input line is parsed; a program found must lie
 * inside the line, be non-empty and hold no '[', ':' or space; a time found
 * must have a fraction below one second, and re-parsing the same bytes must
 * give the same answer (no state).
 */
#include "require.h"
#include "search/lines.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    const char *p;
    size_t n;
    if (search_lines_program(line, size, &p, &n)) {
        REQUIRE(p >= line && p + n <= line + size && n > 0);
        REQUIRE(!memchr(p, '[', n) && !memchr(p, ':', n) && !memchr(p, ' ', n));
    }
    int64_t sec, sec2;
    uint32_t usec, usec2;
    bool a = search_lines_time(line, size, &sec, &usec);
    bool b = search_lines_time(line, size, &sec2, &usec2);
    REQUIRE(a == b);
    if (a)
        REQUIRE(usec < 1000000 && sec == sec2 && usec == usec2);
    return 0;
}
