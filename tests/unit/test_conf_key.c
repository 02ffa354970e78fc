/*
 * test_conf_key: the table-driven setter (src/base/conf_key.c) on a table
 * of its own, one row per kind: numbers in and out of range, not numbers,
 * trailing garbage, signs and blanks, units and every field width; sizes
 * with K/M/G; words and on/off; borrowed and copied strings with their
 * bounds; a custom row; unknown keys; the table's own check; a file
 * loaded through the table; --help text; getopt's table made from it.
 * Every refusal must leave the field as it was.
 */
#include "base/conf_key.h"
#include "check.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum colour { RED = 0, GREEN = 1, BLUE = 7 };

struct t_cfg {
    uint8_t u8;
    uint16_t u16;
    unsigned u32;
    uint64_t u64, mb, bytes, bytes_plain;
    size_t sz;
    enum colour colour;
    bool flag;
    const char *path, *opt, *host;
    char name[9];
    int custom_calls;
    const char *custom_value;
};

#define FIELD(m) CONF_KEY_FIELD(struct t_cfg, m)

static int set_custom(void *arg, const char *v, const char **why)
{
    struct t_cfg *c = arg;
    c->custom_calls++;
    if (!strcmp(v, "bad")) {
        *why = "custom says no";
        return -EDOM;
    }
    c->custom_value = v;
    return 0;
}

static const struct conf_key_word colours[] = {
    {"red", RED}, {"green", GREEN}, {"blue", BLUE}, {NULL, 0}};

static const struct conf_key keys[] = {
    {"u8", CONF_KEY_NUMBER, FIELD(u8), .min = 1, .max = 255, .arg = "N", .help = "a byte"},
    {"u16", CONF_KEY_NUMBER, FIELD(u16), .max = 65535, .arg = "N", .help = "two"},
    {"u32", CONF_KEY_NUMBER, FIELD(u32), .min = 100, .max = 60000, .arg = "MS", .help = "four"},
    {"u64", CONF_KEY_NUMBER, FIELD(u64), .min = 1, .max = 1ULL << 40, .arg = "N", .help = "eight"},
    {"mb", CONF_KEY_NUMBER, FIELD(mb), .max = 1 << 20, .unit = 1 << 20, .arg = "MB",
     .help = "megabytes"},
    {"sz", CONF_KEY_NUMBER, FIELD(sz), .min = 1, .max = 9, .why = "one digit", .arg = "N",
     .help = "with its own reason"},
    {"bytes", CONF_KEY_BYTES, FIELD(bytes), .min = 2048, .max = 1ULL << 50,
     .why = "too small (2 KiB at least)", .arg = "BYTES", .help = "a size"},
    {"bytes_plain", CONF_KEY_BYTES, FIELD(bytes_plain), .min = 10, .max = 4096, .arg = "BYTES",
     .help = "a size with the default reason"},
    {"colour", CONF_KEY_CHOICE, FIELD(colour), .words = colours,
     .why = "expected red, green or blue", .arg = "red|green|blue", .help = "a word"},
    {"flag", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off", .help = "a switch"},
    {"path", CONF_KEY_STRING, FIELD(path), .min = 1, .why = "empty path", .arg = "FILE",
     .help = "a path"},
    {"opt", CONF_KEY_STRING, FIELD(opt), .flags = CONF_KEY_EMPTY_NULL, .arg = "FILE",
     .help = "empty unsets"},
    {"host", CONF_KEY_STRING, FIELD(host), .min = 1, .max = 10, .reject = " /",
     .why = "expected a host", .arg = "NAME", .help = "bounded, some bytes refused"},
    {"name", CONF_KEY_TEXT, FIELD(name), .min = 1, .accept = "abcdefghijklmnopqrstuvwxyz-",
     .why = "expected 1 to 8 of a-z -", .arg = "NAME", .help = "copied"},
    {"custom", CONF_KEY_CUSTOM, .custom = set_custom, .arg = "X", .help = "its own function"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Known values everywhere, padding included, so memcmp sees any change. */
static void cfg0(struct t_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->u8 = c->u16 = 42;
    c->u32 = 4242;
    c->u64 = c->mb = c->bytes_plain = 42;
    c->bytes = 4242;
    c->sz = 4;
    c->colour = GREEN;
    c->flag = true;
    c->path = "/old";
    c->opt = c->host = "old";
    memcpy(c->name, "old", 4);
}

/* Sets key = v on a fresh config; returns the code, with *out and *why. */
static int set(const char *key, const char *v, struct t_cfg *out, const char **why)
{
    cfg0(out);
    *why = NULL;
    return conf_key_set(keys, NKEYS, out, key, v, why);
}

/* A refused value: the code, the reason, and nothing changed. */
static void refused(const char *key, const char *v, const char *want_why)
{
    struct t_cfg c, orig;
    const char *why;
    cfg0(&orig);
    int r = set(key, v, &c, &why);
    if (r != -EINVAL || !why || strcmp(why, want_why))
        fprintf(stderr, "%s = \"%s\": got %d \"%s\", want -EINVAL \"%s\"\n", key, v, r,
                why ? why : "(null)", want_why);
    CHECK_INT(r, -EINVAL);
    CHECK(why && !strcmp(why, want_why));
    CHECK(!memcmp(&c, &orig, sizeof(c)));
}

/* offsetof and sizeof of a member, written out again rather than taken
 * from the table, so a wrong row shows */
#define AT(m) offsetof(struct t_cfg, m), sizeof(((struct t_cfg *)0)->m)

static uint64_t get(const struct t_cfg *c, size_t off, size_t size)
{
    const unsigned char *p = (const unsigned char *)c + off;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (size) {
    case 1:
        memcpy(&u8, p, 1);
        return u8;
    case 2:
        memcpy(&u16, p, 2);
        return u16;
    case 4:
        memcpy(&u32, p, 4);
        return u32;
    }
    memcpy(&u64, p, 8);
    return u64;
}

/* Accepted values of the number, size, word and on/off rows: the field
 * gets want, and every other byte of the struct stays as it was. */
static void test_accepted(void)
{
    struct {
        const char *key, *v;
        size_t off, size;
        uint64_t want;
    } ok[] = {
        {"u8", "1", AT(u8), 1},
        {"u8", "255", AT(u8), 255},
        {"u16", "65535", AT(u16), 65535},
        {"u16", "0", AT(u16), 0},
        {"u32", "60000", AT(u32), 60000},
        {"u32", "0100", AT(u32), 100},
        {"u64", "1099511627776", AT(u64), 1ULL << 40},
        {"mb", "3", AT(mb), 3ULL << 20},
        {"mb", "1048576", AT(mb), 1ULL << 40},
        {"sz", "9", AT(sz), 9},
        {"bytes", "2048", AT(bytes), 2048},
        {"bytes", "2K", AT(bytes), 2048},
        {"bytes", "3m", AT(bytes), 3ULL << 20},
        {"bytes", "2G", AT(bytes), 2ULL << 30},
        {"bytes", "1048576G", AT(bytes), 1ULL << 50},
        {"bytes_plain", "4K", AT(bytes_plain), 4096},
        {"colour", "red", AT(colour), RED},
        {"colour", "blue", AT(colour), BLUE},
        {"flag", "off", AT(flag), 0},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct t_cfg c, orig;
        const char *why;
        cfg0(&orig);
        int r = set(ok[i].key, ok[i].v, &c, &why);
        uint64_t got = get(&c, ok[i].off, ok[i].size);
        if (r != 0 || got != ok[i].want)
            fprintf(stderr, "%s = %s: got %d and %llu, want 0 and %llu\n", ok[i].key, ok[i].v, r,
                    (unsigned long long)got, (unsigned long long)ok[i].want);
        CHECK_INT(r, 0);
        CHECK(got == ok[i].want);
        memcpy((char *)&c + ok[i].off, (char *)&orig + ok[i].off, ok[i].size);
        CHECK(!memcmp(&c, &orig, sizeof(c)));
    }
    struct t_cfg c;
    const char *why;
    cfg0(&c);
    c.flag = false;
    CHECK_INT(conf_key_set(keys, NKEYS, &c, "flag", "on", &why), 0);
    CHECK_INT(c.flag, true);
}

static void test_numbers(void)
{
    const char *why;
    const char *range = CONF_KEY_WHY_RANGE;
    const char *bad[] = {"0",  "256", "",   "abc",  "5x",  "5 ", " 5",
                         "+5", "-1",  "-0", "0x10", "1e3", "1.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused("u8", bad[i], range);
    refused("u64", "18446744073709551617", range); /* past strtoull: ERANGE */
    refused("u64", "99999999999999999999999", range);
    refused("u16", "65536", range);
    refused("u32", "99", range);
    refused("u32", "007", range);
    refused("u32", "60001", range);
    refused("u64", "0", range);
    refused("u64", "1099511627777", range);
    refused("mb", "1048577", range);
    refused("sz", "10", "one digit");
    refused("sz", "x", "one digit");

    uint64_t n = 0;
    CHECK_INT(conf_key_number("18446744073709551615", 0, UINT64_MAX, &n, &why), 0);
    CHECK(n == UINT64_MAX);
    CHECK_INT(conf_key_number("18446744073709551616", 0, UINT64_MAX, &n, &why), -EINVAL);
    CHECK_INT(conf_key_number("12", 0, 11, &n, &why), -EINVAL);
    CHECK_STR(why, range);
}

static void test_bytes(void)
{
    const char *fmt = "expected a size in bytes (suffix K, M or G allowed)";
    refused("bytes", "", fmt);
    refused("bytes", "K", fmt);
    refused("bytes", "123456789012345678901234567890123K", fmt);
    refused("bytes", "1K", "too small (2 KiB at least)");
    refused("bytes", "2047", "too small (2 KiB at least)");
    refused("bytes_plain", "9", "too small");
    refused("bytes", "1048577G", CONF_KEY_WHY_RANGE);
    refused("bytes_plain", "5K", CONF_KEY_WHY_RANGE);
    refused("bytes", "1.5M", CONF_KEY_WHY_RANGE);
    refused("bytes", "4KB", CONF_KEY_WHY_RANGE);
    refused("bytes", "-4K", CONF_KEY_WHY_RANGE);
    refused("bytes", "4T", CONF_KEY_WHY_RANGE);
}

static void test_words(void)
{
    const char *bad[] = {"", "Red", "re", "redd", "blue ", "7"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused("colour", bad[i], "expected red, green or blue");
    const char *bools[] = {"", "On", "OFF", "yes", "no", "true", "false", "1", "0", "o"};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
        refused("flag", bools[i], "expected on or off");
}

static void test_strings(void)
{
    struct t_cfg c;
    const char *why;
    static const char value[] = "/etc/x.conf";
    CHECK_INT(set("path", value, &c, &why), 0);
    CHECK(c.path == value); /* borrowed, not copied */
    refused("path", "", "empty path");
    CHECK_INT(set("opt", "", &c, &why), 0);
    CHECK(c.opt == NULL);
    CHECK_INT(set("opt", "x", &c, &why), 0);
    CHECK_STR(c.opt, "x");
    CHECK_INT(set("host", "0123456789", &c, &why), 0); /* 10: the bound */
    CHECK_STR(c.host, "0123456789");
    refused("host", "0123456789a", "expected a host");
    refused("host", "", "expected a host");
    refused("host", "a b", "expected a host");
    refused("host", "a/b", "expected a host");

    static char text[] = "ab-cd";
    CHECK_INT(set("name", text, &c, &why), 0);
    CHECK_STR(c.name, "ab-cd");
    CHECK(c.name != text); /* copied */
    text[0] = 'z';
    CHECK_STR(c.name, "ab-cd");
    CHECK_INT(set("name", "abcdefgh", &c, &why), 0); /* 8: what char[9] holds */
    CHECK_STR(c.name, "abcdefgh");
    refused("name", "abcdefghi", "expected 1 to 8 of a-z -");
    refused("name", "", "expected 1 to 8 of a-z -");
    refused("name", "Ab", "expected 1 to 8 of a-z -");
    refused("name", "a.b", "expected 1 to 8 of a-z -");
}

static void test_custom_and_unknown(void)
{
    struct t_cfg c;
    const char *why;
    CHECK_INT(set("custom", "good", &c, &why), 0);
    CHECK_INT(c.custom_calls, 1);
    CHECK_STR(c.custom_value, "good");
    CHECK_INT(set("custom", "bad", &c, &why), -EDOM);
    CHECK_STR(why, "custom says no");

    struct t_cfg orig;
    cfg0(&orig);
    const char *unknown[] = {"bogus", "", "U8", "u8 ", "colou", "colours"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        CHECK_INT(set(unknown[i], "1", &c, &why), -ENOENT);
        CHECK(why && !strcmp(why, "unknown setting"));
        CHECK(!memcmp(&c, &orig, sizeof(c)));
    }
    CHECK(conf_key_find(keys, NKEYS, "name") == &keys[13]);
    CHECK(conf_key_find(keys, NKEYS, "nam") == NULL);
}

static void test_table_check(void)
{
    const char *bad = NULL;
    CHECK_INT(conf_key_table_check(keys, NKEYS, &bad), 0);
    struct {
        struct conf_key row;
        const char *name;
    } rows[] = {
        {{"wide", CONF_KEY_NUMBER, FIELD(u8), .max = 256, .arg = "N", .help = "h"}, "wide"},
        {{"unit", CONF_KEY_NUMBER, FIELD(u32), .max = 5000, .unit = 1 << 20, .arg = "N",
          .help = "h"},
         "unit"},
        {{"minmax", CONF_KEY_NUMBER, FIELD(u32), .min = 5, .max = 4, .arg = "N", .help = "h"},
         "minmax"},
        {{"odd", CONF_KEY_NUMBER, .offset = 0, .size = 3, .max = 1, .arg = "N", .help = "h"},
         "odd"},
        {{"nowhy", CONF_KEY_CHOICE, FIELD(colour), .words = colours, .arg = "W", .help = "h"},
         "nowhy"},
        {{"nowords", CONF_KEY_CHOICE, FIELD(colour), .why = "w", .arg = "W", .help = "h"},
         "nowords"},
        {{"notbool", CONF_KEY_BOOL, FIELD(u32), .arg = "on|off", .help = "h"}, "notbool"},
        {{"notptr", CONF_KEY_STRING, FIELD(name), .arg = "S", .help = "h"}, "notptr"},
        {{"strwhy", CONF_KEY_STRING, FIELD(path), .min = 1, .arg = "S", .help = "h"}, "strwhy"},
        {{"long", CONF_KEY_TEXT, FIELD(name), .max = 9, .why = "w", .arg = "S", .help = "h"},
         "long"},
        {{"nofn", CONF_KEY_CUSTOM, .arg = "X", .help = "h"}, "nofn"},
        {{"nohelp", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off"}, "nohelp"},
        {{"u8", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off", .help = "h"}, "u8"}, /* twice */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct conf_key table[2] = {keys[0], rows[i].row};
        bad = NULL;
        CHECK_INT(conf_key_table_check(table, 2, &bad), -EINVAL);
        if (!bad || strcmp(bad, rows[i].name))
            fprintf(stderr, "table row %zu: bad = %s, want %s\n", i, bad ? bad : "(null)",
                    rows[i].name);
        CHECK(bad && !strcmp(bad, rows[i].name));
    }
}

static void test_load(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/test_conf_key.%d", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("# a file\nu8 = 7\npath = /srv/x   # kept\ncolour = blue\n", f);
    fclose(f);
    struct t_cfg c;
    cfg0(&c);
    char *text = malloc(1), err[256] = "";
    CHECK_INT(conf_key_load(keys, NKEYS, &c, path, &text, err, sizeof(err)), 0);
    CHECK_INT(c.u8, 7);
    CHECK_INT(c.colour, BLUE);
    CHECK_STR(c.path, "/srv/x");
    CHECK(c.path >= text && c.path < text + 64); /* points into the kept text */

    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("u8 = 8\nu16 = 70000\nu32 = 200\n", f);
        fclose(f);
    }
    CHECK_INT(conf_key_load(keys, NKEYS, &c, path, &text, err, sizeof(err)), -EINVAL);
    CHECK_INT(c.u8, 8);     /* the lines before the bad one are set */
    CHECK_INT(c.u32, 4242); /* the ones after it are not */
    char want[128];
    snprintf(want, sizeof(want), "%s:2: u16 = 70000: %s", path, CONF_KEY_WHY_RANGE);
    CHECK_STR(err, want);

    char *kept = text;
    unlink(path);
    CHECK_INT(conf_key_load(keys, NKEYS, &c, path, &text, err, sizeof(err)), -ENOENT);
    CHECK(text == kept); /* nothing read, nothing replaced */
    CHECK(strstr(err, path) == err);
    free(text);
}

static void test_print(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(f != NULL);
    if (!f)
        return;
    struct conf_key rows[] = {
        {"short", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off", .help = "one line"},
        {"long", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off",
         .help = "a help text that is longer than seventy columns, so it is wrapped at the "
                 "last space before the seventieth"},
    };
    conf_key_print(f, rows, 2);
    fclose(f);
    CHECK_STR(out, "  short on|off\n"
                   "        one line\n"
                   "  long on|off\n"
                   "        a help text that is longer than seventy columns, so it is wrapped at\n"
                   "        the last space before the seventieth\n");
    free(out);
}

/* Every key becomes --key-name (with '-' for '_') after the fixed
 * options, a key the fixed ones already name is not added twice, and a
 * table past CONF_KEY_OPTIONS_MAX is refused, not cut. */
static void test_options(void)
{
    static struct conf_key_options o;
    const struct option fixed[] = {{"help", no_argument, NULL, 'h'},
                                   {"path", required_argument, NULL, 'p'},
                                   {NULL, 0, NULL, 0}};
    CHECK_INT(conf_key_options_build(&o, fixed, keys, NKEYS, 300), 0);
    size_t n = 0;
    while (o.opts[n].name)
        n++;
    CHECK_INT(n, NKEYS + 1); /* help, path, then every key but path */
    CHECK_STR(o.opts[0].name, "help");
    CHECK_INT(o.opts[1].val, 'p');
    bool plain = false;
    for (size_t i = 2; i < n; i++) {
        CHECK_INT(o.opts[i].has_arg, required_argument);
        CHECK_INT(o.opts[i].val, 300);
        CHECK(strcmp(o.opts[i].name, "path") != 0);
        CHECK(strchr(o.opts[i].name, '_') == NULL);
        plain |= !strcmp(o.opts[i].name, "bytes-plain");
    }
    CHECK(plain);
    static struct conf_key many[CONF_KEY_OPTIONS_MAX];
    static char names[CONF_KEY_OPTIONS_MAX][8];
    for (size_t i = 0; i < CONF_KEY_OPTIONS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "k%zu", i);
        many[i] = (struct conf_key){.key = names[i], .kind = CONF_KEY_BOOL};
    }
    CHECK_INT(conf_key_options_build(&o, fixed + 2, many, CONF_KEY_OPTIONS_MAX, 1), 0);
    CHECK_INT(conf_key_options_build(&o, fixed, many, CONF_KEY_OPTIONS_MAX, 1), -ENOSPC);
    struct conf_key long_key = {.key = "a_key_name_of_thirty_two_bytes__", .kind = CONF_KEY_BOOL};
    CHECK_INT(conf_key_options_build(&o, fixed, &long_key, 1, 1), -ENOSPC);
}

int main(void)
{
    test_accepted();
    test_numbers();
    test_bytes();
    test_words();
    test_strings();
    test_custom_and_unknown();
    test_table_check();
    test_load();
    test_print();
    test_options();
    return check_status();
}
