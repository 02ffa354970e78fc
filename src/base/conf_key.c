/*
 * conf_key: the table-driven setter of the configuration files' keys (see
 * conf_key.h). It parses and checks one value by its row's kind and stores
 * it at the row's offset; it knows no key itself and reads no file
 * (conf_file does; conf_key_load joins the two). Errors are the row's
 * static texts, so the caller adds FILE:LINE or the option's name around
 * them.
 */
#include "base/conf_key.h"
#include "base/conf_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int conf_key_number(const char *v, uint64_t min, uint64_t max, uint64_t *out, const char **why)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    /* strtoull alone would take blanks, a sign and wrap "-1" */
    if (*v < '0' || *v > '9' || *end || errno || n < min || n > max) {
        *why = CONF_KEY_WHY_RANGE;
        return -EINVAL;
    }
    *out = n;
    return 0;
}

/* The largest value an unsigned field of size bytes holds (0: no such field). */
static uint64_t field_max(size_t size)
{
    switch (size) {
    case 1:
        return UINT8_MAX;
    case 2:
        return UINT16_MAX;
    case 4:
        return UINT32_MAX;
    case 8:
        return UINT64_MAX;
    }
    return 0;
}

/* v into an unsigned field of size bytes (1, 2, 4 or 8: conf_key_table_check). */
static void put_uint(void *field, size_t size, uint64_t v)
{
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(field, &u8, 1);
        break;
    case 2:
        memcpy(field, &u16, 2);
        break;
    case 4:
        memcpy(field, &u32, 4);
        break;
    default:
        memcpy(field, &v, 8);
    }
}

static int set_number(const struct conf_key *k, void *field, const char *v, const char **why)
{
    uint64_t n;
    if (conf_key_number(v, k->min, k->max, &n, why) < 0) {
        if (k->why)
            *why = k->why;
        return -EINVAL;
    }
    put_uint(field, k->size, n * (k->unit ? k->unit : 1));
    return 0;
}

/* BYTES with an optional K, M or G (powers of 1024). */
static int set_bytes(const struct conf_key *k, void *field, const char *v, const char **why)
{
    char num[CONF_KEY_DIGITS_MAX];
    size_t n = strlen(v);
    unsigned shift = 0;
    if (n && strchr("kKmMgG", v[n - 1])) {
        char u = v[n - 1];
        shift = (u == 'k' || u == 'K') ? 10 : (u == 'm' || u == 'M') ? 20 : 30;
        n--;
    }
    if (n == 0 || n >= sizeof(num)) {
        *why = "expected a size in bytes (suffix K, M or G allowed)";
        return -EINVAL;
    }
    memcpy(num, v, n);
    num[n] = 0;
    uint64_t x;
    if (conf_key_number(num, 0, k->max >> shift, &x, why) < 0)
        return -EINVAL;
    x <<= shift;
    if (x < k->min) {
        *why = k->why ? k->why : "too small";
        return -EINVAL;
    }
    put_uint(field, k->size, x);
    return 0;
}

static const struct conf_key_word on_off[] = {{"on", 1}, {"off", 0}, {NULL, 0}};

static int set_choice(const struct conf_key *k, void *field, const char *v, const char **why)
{
    const struct conf_key_word *w = k->kind == CONF_KEY_BOOL ? on_off : k->words;
    for (; w->word; w++)
        if (!strcmp(w->word, v))
            break;
    if (!w->word) {
        *why = k->why ? k->why : "expected on or off";
        return -EINVAL;
    }
    if (k->kind == CONF_KEY_BOOL) {
        bool b = w->value;
        memcpy(field, &b, sizeof(b));
    } else {
        put_uint(field, k->size, (uint64_t)(int64_t)w->value);
    }
    return 0;
}

/* STRING (the pointer kept) and TEXT (copied): length and bytes checked. */
static int set_string(const struct conf_key *k, void *field, const char *v, const char **why)
{
    size_t n = strlen(v);
    bool too_long = k->max ? n > k->max : k->kind == CONF_KEY_TEXT && n >= k->size;
    if (n < k->min || too_long || (k->accept && strspn(v, k->accept) != n) ||
        (k->reject && strpbrk(v, k->reject))) {
        *why = k->why;
        return -EINVAL;
    }
    if (k->kind == CONF_KEY_TEXT) {
        memcpy(field, v, n + 1);
        return 0;
    }
    const char *p = !n && (k->flags & CONF_KEY_EMPTY_NULL) ? NULL : v;
    memcpy(field, &p, sizeof(p));
    return 0;
}

const struct conf_key *conf_key_find(const struct conf_key *keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i].key, key))
            return &keys[i];
    return NULL;
}

int conf_key_set(const struct conf_key *keys, size_t n, void *cfg, const char *key,
                 const char *value, const char **why)
{
    const struct conf_key *k = conf_key_find(keys, n, key);
    if (!k) {
        *why = "unknown setting";
        return -ENOENT;
    }
    void *field = (char *)cfg + k->offset;
    switch (k->kind) {
    case CONF_KEY_NUMBER:
        return set_number(k, field, value, why);
    case CONF_KEY_BYTES:
        return set_bytes(k, field, value, why);
    case CONF_KEY_CHOICE:
    case CONF_KEY_BOOL:
        return set_choice(k, field, value, why);
    case CONF_KEY_STRING:
    case CONF_KEY_TEXT:
        return set_string(k, field, value, why);
    case CONF_KEY_CUSTOM:
        return k->custom(cfg, value, why);
    }
    *why = "unknown kind of setting";
    return -EINVAL;
}

struct load {
    const struct conf_key *keys;
    size_t n;
    void *cfg;
};

static int load_pair(void *arg, const char *key, const char *value, const char **why)
{
    struct load *l = arg;
    return conf_key_set(l->keys, l->n, l->cfg, key, value, why);
}

int conf_key_load(const struct conf_key *keys, size_t n, void *cfg, const char *path, char **text,
                  char *err, size_t cap)
{
    char *t = NULL;
    int r = conf_file_read(path, &t, err, cap);
    if (r < 0)
        return r;
    free(*text);
    *text = t;
    struct load l = {keys, n, cfg};
    return conf_file_parse(t, path, load_pair, &l, err, cap);
}

/* The checks of one row; returns false where it could not be set as told. */
static bool row_ok(const struct conf_key *k)
{
    uint64_t unit = k->unit ? k->unit : 1, fmax = field_max(k->size);
    switch (k->kind) {
    case CONF_KEY_NUMBER:
    case CONF_KEY_BYTES:
        return fmax && k->min <= k->max && k->max <= fmax / unit;
    case CONF_KEY_CHOICE:
        if (!fmax || !k->words || !k->why)
            return false;
        for (const struct conf_key_word *w = k->words; w->word; w++)
            if (w->value < 0 || (uint64_t)w->value > fmax)
                return false;
        return true;
    case CONF_KEY_BOOL:
        return k->size == sizeof(bool);
    case CONF_KEY_STRING:
        return k->size == sizeof(const char *) &&
               (k->why || (!k->min && !k->max && !k->accept && !k->reject));
    case CONF_KEY_TEXT:
        return k->size > 0 && k->max < k->size && k->why;
    case CONF_KEY_CUSTOM:
        return k->custom != NULL;
    }
    return false;
}

int conf_key_table_check(const struct conf_key *keys, size_t n, const char **bad)
{
    for (size_t i = 0; i < n; i++) {
        bool ok = keys[i].key && keys[i].arg && keys[i].help && row_ok(&keys[i]);
        for (size_t j = 0; ok && j < i; j++)
            ok = strcmp(keys[j].key, keys[i].key) != 0;
        if (!ok) {
            *bad = keys[i].key ? keys[i].key : "(a row without a key)";
            return -EINVAL;
        }
    }
    return 0;
}

/* "  key ARG", then the help wrapped at 78 columns under it. */
void conf_key_print(FILE *f, const struct conf_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  %s %s\n", keys[i].key, keys[i].arg);
        const char *p = keys[i].help;
        while (*p) {
            size_t len = strlen(p);
            if (len > 70) {
                len = 70;
                while (len > 0 && p[len] != ' ')
                    len--;
                if (len == 0)
                    len = 70;
            }
            fprintf(f, "        %.*s\n", (int)len, p);
            p += len;
            while (*p == ' ')
                p++;
        }
    }
}
