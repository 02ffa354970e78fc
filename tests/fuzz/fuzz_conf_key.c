/*
 * fuzz_conf_key: a configuration file (conf_file_parse) whose pairs go
 * through the table-driven setter (conf_key_set) on a table with a row of
 * every kind. Invariants: a refused value leaves the struct as it was and
 * says why; an accepted number is the value's digits (times the unit) and
 * within its bounds; a size is within its bounds; a word's value is one of
 * the words'; a borrowed string is the value itself (or NULL when empty
 * and allowed); a copied one is NUL-terminated inside its array, within its
 * length bound and of allowed bytes only; an error names the file.
 */
#include "base/conf_file.h"
#include "base/conf_key.h"
#include "require.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct f_cfg {
    uint8_t u8;
    unsigned u32;
    uint64_t mb, bytes;
    int choice;
    bool flag;
    const char *path, *opt;
    char name[17];
};

#define FIELD(m) CONF_KEY_FIELD(struct f_cfg, m)
#define NAME_OK  "abcdefghijklmnopqrstuvwxyz0123456789.-"

static const struct conf_key_word words[] = {{"a", 0}, {"bb", 1}, {"ccc", 5}, {NULL, 0}};

static const struct conf_key keys[] = {
    {"u8", CONF_KEY_NUMBER, FIELD(u8), .min = 1, .max = 200, .arg = "N", .help = "h"},
    {"u32", CONF_KEY_NUMBER, FIELD(u32), .max = 3600000, .arg = "N", .help = "h"},
    {"mb", CONF_KEY_NUMBER, FIELD(mb), .max = 1 << 30, .unit = 1 << 20, .arg = "MB", .help = "h"},
    {"bytes", CONF_KEY_BYTES, FIELD(bytes), .min = 4096, .max = 1ULL << 50, .arg = "B",
     .help = "h"},
    {"choice", CONF_KEY_CHOICE, FIELD(choice), .words = words, .why = "expected a, bb or ccc",
     .arg = "W", .help = "h"},
    {"flag", CONF_KEY_BOOL, FIELD(flag), .arg = "on|off", .help = "h"},
    {"path", CONF_KEY_STRING, FIELD(path), .min = 1, .max = 64, .reject = " /", .why = "bad path",
     .arg = "P", .help = "h"},
    {"opt", CONF_KEY_STRING, FIELD(opt), .flags = CONF_KEY_EMPTY_NULL, .arg = "P", .help = "h"},
    {"name", CONF_KEY_TEXT, FIELD(name), .min = 1, .accept = NAME_OK, .why = "bad name", .arg = "N",
     .help = "h"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The value's digits without leading zeros, as the stored number prints. */
static bool same_number(const char *v, uint64_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
    while (v[0] == '0' && v[1])
        v++;
    return !strcmp(v, buf);
}

/* The bytes a size means, worked out here again: digits, then K, M or G. */
static bool same_size(const char *v, uint64_t bytes)
{
    size_t n = strlen(v);
    unsigned shift = 0;
    const char *units = "kKmMgG", *u = n ? strchr(units, v[n - 1]) : NULL;
    if (u && *u) {
        shift = 10 * (unsigned)((u - units) / 2 + 1);
        n--;
    }
    char digits[32];
    if (n == 0 || n >= sizeof(digits) || strspn(v, "0123456789") != n)
        return false;
    memcpy(digits, v, n);
    digits[n] = 0;
    return same_number(digits, bytes >> shift) && (bytes >> shift) << shift == bytes;
}

static void check_accepted(const struct conf_key *k, const struct f_cfg *c, const char *v)
{
    const char *name = k->key;
    if (!strcmp(name, "u8"))
        REQUIRE(c->u8 >= 1 && c->u8 <= 200 && same_number(v, c->u8));
    else if (!strcmp(name, "u32"))
        REQUIRE(c->u32 <= 3600000 && same_number(v, c->u32));
    else if (!strcmp(name, "mb"))
        REQUIRE(c->mb % (1 << 20) == 0 && same_number(v, c->mb >> 20));
    else if (!strcmp(name, "bytes"))
        REQUIRE(c->bytes >= 4096 && c->bytes <= 1ULL << 50 && same_size(v, c->bytes));
    else if (!strcmp(name, "choice"))
        REQUIRE((c->choice == 0 && !strcmp(v, "a")) || (c->choice == 1 && !strcmp(v, "bb")) ||
                (c->choice == 5 && !strcmp(v, "ccc")));
    else if (!strcmp(name, "flag"))
        REQUIRE(c->flag == !strcmp(v, "on") && (!strcmp(v, "on") || !strcmp(v, "off")));
    else if (!strcmp(name, "path"))
        REQUIRE(c->path == v && *v && strlen(v) <= 64 && !strpbrk(v, " /"));
    else if (!strcmp(name, "opt"))
        REQUIRE(*v ? c->opt == v : c->opt == NULL);
    else if (!strcmp(name, "name")) {
        size_t n = strnlen(c->name, sizeof(c->name));
        REQUIRE(n >= 1 && n < sizeof(c->name) && strspn(c->name, NAME_OK) == n);
        REQUIRE(!strcmp(c->name, v));
    }
}

static int set_pair(void *arg, const char *key, const char *value, const char **why)
{
    struct f_cfg *c = arg, before;
    memcpy(&before, c, sizeof(before));
    *why = NULL;
    int r = conf_key_set(keys, NKEYS, c, key, value, why);
    const struct conf_key *k = conf_key_find(keys, NKEYS, key);
    REQUIRE(r == 0 || (*why && **why));
    REQUIRE(k || r == -ENOENT);
    if (r < 0)
        REQUIRE(!memcmp(&before, c, sizeof(before)));
    else
        check_accepted(k, c, value);
    return 0; /* go on through the whole file */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0; /* conf_file_read refuses a NUL: the text ends at the first */
    struct f_cfg c;
    memset(&c, 0, sizeof(c));
    char err[256] = "";
    int r = conf_file_parse(text, "fuzz.conf", set_pair, &c, err, sizeof(err));
    REQUIRE(r == 0 || (r == -EINVAL && !strncmp(err, "fuzz.conf:", 10)));
    free(text);
    return 0;
}
