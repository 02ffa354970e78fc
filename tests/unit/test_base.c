/* Unit tests of base: the lossless JSON string escape, hex, UTF-8. */
#include "base/hex.h"
#include "base/json.h"
#include "base/utf8.h"
#include "check.h"

#include <errno.h>

static void test_json_escape(void)
{
    struct buf b;
    buf_init(&b, 0);
    const char in[] = "a\"b\\c\n\x01\x7f"
                      "\xc3\xa9"
                      "\xff"
                      "\xe2\x82"
                      "z";
    CHECK_INT(json_put_string(&b, in, sizeof(in) - 1), 0);
    CHECK_MEM(b.data, b.len, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\\udcff\\udce2\\udc82z\"");
    buf_reset(&b);
    json_put_i64(&b, -42);
    json_put_u64(&b, 18446744073709551615ull);
    CHECK_MEM(b.data, b.len, "-4218446744073709551615");
    buf_free(&b);
}

static void test_hex_and_utf8(void)
{
    unsigned char out[4];
    CHECK(hex_is_encoded("2F746D70", 8));
    CHECK(!hex_is_encoded("2F7", 3));
    CHECK(!hex_is_encoded("2G", 2));
    CHECK(!hex_is_encoded("", 0));
    hex_decode("2F746d70", 8, out);
    CHECK_MEM(out, 4, "/tmp");
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xc0\x80", 2), 0);     /* overlong */
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    CHECK_INT(utf8_sequence_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
}

static void test_buf_bound(void)
{
    struct buf b;
    buf_init(&b, 16);
    CHECK_INT(buf_append(&b, "0123456789", 10), 0);
    CHECK_INT(buf_append(&b, "0123456789", 10), -E2BIG);
    CHECK_INT(b.len, 10);
    buf_free(&b);
}

int main(void)
{
    test_json_escape();
    test_hex_and_utf8();
    test_buf_bound();
    return check_status();
}
