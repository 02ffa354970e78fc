/*
 * normalize: event -> JSON line (or a text line). Fields of every record are
 * parsed once into one array; the ones with a place in the schema (fields.def)
 * are remembered (first occurrence wins, PATH and EXECVE records are handled
 * by their own code), then each section of the object is written. Values are
 * decoded on the way out, straight into the output buffer where possible.
 * It reads nothing but the event (and, only when asked, this machine's
 * account database).
 */
#include "audit/normalize.h"

#include "audit/audit_tables.h"
#include "audit/execve.h"
#include "audit/sockaddr.h"
#include "base/bytes.h"
#include "base/hex.h"
#include "base/json.h"

#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <grp.h>
#include <libaudit.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum how { NUM, STR, ESC, HEX };

enum field_id {
#define FIELD(id, name, how) F_##id,
#include "audit/fields.def"
#undef FIELD
    F_COUNT
};

/* Names live in arrays of 17 (no name is longer than 16; the compiler
 * refuses one that is) so that 16 bytes can be loaded from any of them. */
static const struct {
    char name[17];
    uint8_t len;
    uint8_t how;
} field_info[F_COUNT] = {
#define FIELD(id, name, how) [F_##id] = {name, sizeof(name) - 1, how},
#include "audit/fields.def"
#undef FIELD
};

_Static_assert(F_COUNT <= 127, "field ids are kept in int8_t and uint8_t");

#define FIELD_HASH_SIZE 256
static uint8_t field_hash[FIELD_HASH_SIZE]; /* id + 1; 0 empty */
static pthread_once_t field_hash_once = PTHREAD_ONCE_INIT;

/* Cheap on purpose: first byte, last byte and length separate the names of
 * fields.def well enough; collisions are resolved by probing. */
static uint32_t name_hash(const char *p, size_t n)
{
    return ((unsigned char)p[0] * 31u + (unsigned char)p[n - 1] * 17u + (uint32_t)n * 7u) &
           (FIELD_HASH_SIZE - 1);
}

static void build_field_hash(void)
{
    for (int id = 0; id < F_COUNT; id++) {
        uint32_t i = name_hash(field_info[id].name, field_info[id].len);
        while (field_hash[i])
            i = (i + 1) & (FIELD_HASH_SIZE - 1);
        field_hash[i] = (uint8_t)(id + 1);
    }
}

/* p[0..n) is the name of field id. When 16 bytes can be read at p (most
 * names have more of their record after them), one masked 16-byte compare
 * replaces a loop whose trip count, varying from name to name, the branch
 * predictor cannot learn. */
static inline bool is_field_name(int id, const char *p, size_t n, size_t readable)
{
    (void)readable; /* only the 16-byte compare needs it */
    if (field_info[id].len != n)
        return false;
#ifdef __SSE2__
    if (readable >= 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)field_info[id].name);
        unsigned want = (1u << n) - 1; /* n <= 16: the length matched a name */
        return ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) & want) == want;
    }
#endif
    return memcmp(field_info[id].name, p, n) == 0;
}

/* The id of the field named p[0..n), or -1; readable: bytes that may be read
 * at p. */
static int field_lookup(const char *p, size_t n, size_t readable)
{
    for (uint32_t i = name_hash(p, n); field_hash[i]; i = (i + 1) & (FIELD_HASH_SIZE - 1)) {
        int id = field_hash[i] - 1;
        if (is_field_name(id, p, n, readable))
            return id;
    }
    return -1;
}

struct fval {
    const char *p;
    uint32_t len;
    uint8_t kind;
    uint8_t set;
};

struct rec_span {
    const char *line;
    uint32_t first, count;
};

/* The ids of the fields of the last record of each type (direct-mapped by
 * type), in record order: the kernel writes a type's fields in the same
 * order every time, so the k-th name is checked against the k-th id of the
 * last such record with one 16-byte compare instead of a hash probe. Every
 * use is verified against the name; a miss looks the name up and
 * replaces the entry. */
#define ID_CACHE_TYPES  16
#define ID_CACHE_FIELDS 32
struct id_cache_entry {
    char name[16]; /* zero-padded */
    uint16_t want; /* (1 << len) - 1: the bytes of name compared */
    uint8_t len;   /* 0: empty */
    int8_t id;     /* -1: not in fields.def */
};
struct id_cache {
    int type;
    struct id_cache_entry f[ID_CACHE_FIELDS];
};

#define NAME_CACHE_SIZE 64

struct name_cache_entry {
    uint32_t id;
    bool valid;
    char name[64];
};

struct audit_normalizer {
    struct audit_normalize_options opt;
    struct audit_field *fields;
    size_t nfields, fields_cap;
    struct rec_span *spans;
    size_t spans_cap;
    struct fval v[F_COUNT];
    uint8_t set_ids[F_COUNT]; /* the ids of v that are set, nset of them */
    uint32_t nset;
    struct audit_argv argv;
    struct buf scratch;
    int64_t when_sec;
    char when[48];
    size_t when_len;
    struct name_cache_entry users[NAME_CACHE_SIZE], groups[NAME_CACHE_SIZE];
    struct id_cache ids[ID_CACHE_TYPES];
};

struct audit_normalizer *audit_normalizer_new(const struct audit_normalize_options *opt)
{
    pthread_once(&field_hash_once, build_field_hash);
    audit_tables_init();
    struct audit_normalizer *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    if (opt)
        n->opt = *opt;
    audit_argv_init(&n->argv);
    buf_init(&n->scratch, 0);
    n->when_sec = INT64_MIN;
    return n;
}

void audit_normalizer_free(struct audit_normalizer *n)
{
    if (!n)
        return;
    free(n->fields);
    free(n->spans);
    audit_argv_free(&n->argv);
    buf_free(&n->scratch);
    free(n);
}

/* ---- gathering fields ---- */

static int reserve_fields(struct audit_normalizer *n, size_t more)
{
    if (n->nfields + more <= n->fields_cap)
        return 0;
    size_t cap = n->fields_cap ? n->fields_cap : 256;
    while (cap < n->nfields + more)
        cap *= 2;
    struct audit_field *f = realloc(n->fields, cap * sizeof(*f));
    if (!f)
        return -ENOMEM;
    n->fields = f;
    n->fields_cap = cap;
    return 0;
}

/* Kernels before 2.6.25 wrote LOGIN as "login pid=1 uid=0 old auid=4294967295
 * new auid=0 old ses=4294967295 new ses=1": a bare word "old" before a field
 * makes it the old-NAME field (and never NAME itself). */
static int field_id(const char *line, size_t line_len, const struct audit_field *f)
{
    const char *name = line + f->name_off;
    bool old = f->name_off >= 5 && name[-1] == ' ' && name[-2] == 'd' && name[-3] == 'l' &&
               name[-4] == 'o' && name[-5] == ' ';
    if (!old)
        return field_lookup(name, f->name_len, line_len - f->name_off);
    char tmp[32];
    if (f->name_len > sizeof(tmp) - 4)
        return -1;
    memcpy(tmp, "old-", 4);
    memcpy(tmp + 4, name, f->name_len);
    return field_lookup(tmp, f->name_len + 4u, 0);
}

/* " old " ends just before name (see field_id); 5 bytes are readable
 * before it when name_off >= 5. */
static inline bool after_old(const char *line, const struct audit_field *f)
{
    if (f->name_off < 5)
        return false;
    uint32_t w;
    memcpy(&w, line + f->name_off - 5, 4);
    return memcmp(&w, " old", 4) == 0 && line[f->name_off - 1] == ' ';
}

/* field_id through the record type's cache; k: the field's place in its
 * record. The line lies in an event's text, so 16 bytes can be read at any
 * name: a hit is one 16-byte compare against the name the entry keeps. */
static int cached_field_id(struct id_cache *c, uint32_t k, const char *line, size_t line_len,
                           const struct audit_field *f)
{
    const char *name = line + f->name_off;
    size_t n = f->name_len;
    if (k >= ID_CACHE_FIELDS || n == 0 || n > 16 || after_old(line, f))
        return field_id(line, line_len, f);
    struct id_cache_entry *e = &c->f[k];
#ifdef __SSE2__
    if (e->len == n) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)name);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)e->name);
        if (((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) & e->want) == e->want)
            return e->id;
    }
#else
    if (e->len == n && memcmp(e->name, name, n) == 0)
        return e->id;
#endif
    int id = field_lookup(name, n, line_len - f->name_off);
    memset(e->name, 0, sizeof(e->name));
    memcpy(e->name, name, n);
    e->want = (uint16_t)((1u << n) - 1);
    e->len = (uint8_t)n;
    e->id = (int8_t)id;
    return id;
}

/* The first occurrence of field id is kept; the ids set are listed so that
 * the next event clears only those. */
static inline void remember_id(struct audit_normalizer *n, int id, const char *line,
                               const struct audit_field *f)
{
    if (id < 0 || n->v[id].set)
        return;
    n->v[id] = (struct fval){line + f->value_off, f->value_len, f->kind, 1};
    n->set_ids[n->nset++] = (uint8_t)id;
}

static int gather(struct audit_normalizer *n, const struct audit_event *ev)
{
    for (uint32_t i = 0; i < n->nset; i++)
        n->v[n->set_ids[i]].set = 0;
    n->nset = 0;
    audit_argv_reset(&n->argv);
    n->nfields = 0;
    if (ev->nrecords > n->spans_cap) {
        struct rec_span *s = realloc(n->spans, ev->nrecords * sizeof(*s));
        if (!s)
            return -ENOMEM;
        n->spans = s;
        n->spans_cap = ev->nrecords;
    }
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        const struct audit_record_ref *rec = &ev->records[i];
        const char *line = audit_event_line(ev, i);
        int r = reserve_fields(n, rec->len / 2 + 2); /* a field takes >= 2 bytes */
        if (r < 0)
            return r;
        const struct audit_field *fs = n->fields + n->nfields;
        int count = audit_fields_parse(line, rec->len, &rec->h, n->fields + n->nfields,
                                       n->fields_cap - n->nfields);
        if (count < 0)
            return count;
        n->spans[i] = (struct rec_span){line, (uint32_t)n->nfields, (uint32_t)count};
        n->nfields += (size_t)count;
        if (rec->type == AUDIT_PATH)
            continue; /* put_path_item reads its fields */
        if (rec->type == AUDIT_EXECVE) {
            for (int k = 0; k < count; k++) {
                /* Arguments go to argv; of the rest only argc has a place. */
                const struct audit_field *f = &fs[k];
                if ((r = audit_argv_add(&n->argv, line, f)) < 0)
                    return r;
                if (line[f->name_off] == 'a' && f->name_len > 1 && line[f->name_off + 1] != 'r')
                    continue;
                remember_id(n, field_id(line, rec->len, f), line, f);
            }
        } else if (rec->type > 0) {
            struct id_cache *c = &n->ids[rec->type % ID_CACHE_TYPES];
            if (c->type != rec->type) {
                memset(c, 0, sizeof(*c));
                c->type = rec->type;
            }
            for (int k = 0; k < count; k++)
                remember_id(n, cached_field_id(c, (uint32_t)k, line, rec->len, &fs[k]), line,
                            &fs[k]);
        } else {
            for (int k = 0; k < count; k++)
                remember_id(n, field_id(line, rec->len, &fs[k]), line, &fs[k]);
        }
    }
    return 0;
}

/* ---- value helpers ---- */

/* Every byte of w is a decimal digit: its high nibble is 3, and adding 6
 * keeps it 3 (no byte can carry into the next once the nibbles are 3). */
static inline bool word_is_digits(uint64_t w, uint64_t ones)
{
    uint64_t high = ones * 0xf0, threes = ones * 0x30;
    return (w & high) == threes && ((w + ones * 6) & high) == threes;
}

/* p[0..n) are all digits, n <= 24: numbers are short, so a few overlapping
 * word loads beat a loop per byte. */
static inline __attribute__((unused)) bool all_digits(const char *p, size_t n)
{
    const uint64_t ones8 = 0x0101010101010101ull;
    if (n >= 8) {
        uint64_t a, m, z;
        memcpy(&a, p, 8), memcpy(&m, p + (n > 16 ? 8 : 0), 8), memcpy(&z, p + n - 8, 8);
        return word_is_digits(a, ones8) && word_is_digits(m, ones8) && word_is_digits(z, ones8);
    }
    if (n >= 4) {
        uint32_t a, z;
        memcpy(&a, p, 4), memcpy(&z, p + n - 4, 4);
        return word_is_digits((uint64_t)a | (uint64_t)z << 32, ones8);
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* A value is a JSON number as written: an optional '-', then 1..19 digits
 * without a leading zero. Values lie in an event's text, so 16 bytes can be
 * read at p (and at p + n - 16 for longer ones): one vector test, masked to
 * the length, instead of tests that branch on it. */
static inline bool is_json_number(const char *p, size_t n)
{
    size_t i = n && p[0] == '-';
    if (i == n || n - i > 19)
        return false;
    if (p[i] == '0' && n - i > 1)
        return false;
#ifdef __SSE2__
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), zero);
    unsigned digits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d));
    if (n <= 16) {
        unsigned want = ((1u << n) - 1) & ~(unsigned)i; /* bit 0 is the sign when there is one */
        return (digits & want) == want;
    }
    __m128i e = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), zero);
    unsigned tail = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(e, nine), e));
    return (digits | i) == 0xffff && tail == 0xffff;
#else
    return all_digits(p + i, n - i);
#endif
}

static bool parse_i64(const struct fval *v, int64_t *out)
{
    if (!v->set || v->kind != AUDIT_VALUE_PLAIN || !is_json_number(v->p, v->len))
        return false;
    bool neg = v->p[0] == '-';
    uint64_t x = 0;
    for (uint32_t i = neg; i < v->len; i++) /* <= 19 digits: checked above */
        x = x * 10 + (uint64_t)(v->p[i] - '0');
    *out = neg ? -(int64_t)x : (int64_t)x;
    return true;
}

/* Decoded bytes of a value: hex-decoded into scratch when it is encoded.
 * Either way 16 bytes can be read at what it returns (the event's slack, or
 * scratch's), as json_put_string_padded needs. */
static const char *decoded(struct audit_normalizer *n, const struct fval *v, enum how how,
                           size_t *len)
{
    if ((how == ESC || how == HEX) && v->kind == AUDIT_VALUE_PLAIN &&
        hex_is_encoded(v->p, v->len)) {
        buf_reset(&n->scratch);
        if (buf_reserve(&n->scratch, v->len / 2 + 16) < 0) { /* 16: for padded reads */
            *len = v->len;
            return v->p;
        }
        hex_decode(v->p, v->len, (unsigned char *)n->scratch.data);
        *len = v->len / 2;
        return n->scratch.data;
    }
    *len = v->len;
    return v->p;
}

struct obj {
    struct buf *b;
    bool first;
};

/* A key of the output as it is stored, `,"key":` zero-padded, with the
 * key's length: the tables of keys walked for every event hold it so, and it
 * goes out with two fixed 16-byte moves (a copy whose length changes from
 * key to key costs a mispredicted branch per key). Keys have at most 28
 * bytes (KEY refuses longer ones). */
#define KEY_TEXT  40
#define KEY_STORE 32 /* bytes stored for a key, whatever its length */
struct key {
    char text[KEY_TEXT];
    uint8_t len;
};
#define KEY(s)                                                                                     \
    {                                                                                              \
        ",\"" s "\":", sizeof(s) - 1 + 0 * sizeof(char[sizeof(s) <= 29 ? 1 : -1])                  \
    }

/* Stores [,]"key": at the end of o's buffer, which has room for len + 4
 * more bytes; returns where the value goes. The comma is stored always and
 * kept only after the first key (no branch on it). */
static inline char *obj_key_put(struct obj *o, const char *key, size_t len)
{
    char *d = o->b->data + o->b->len;
    d[0] = ',';
    d += !o->first;
    o->first = false;
    d[0] = '"';
    buf_copy(d + 1, key, len);
    d[len + 1] = '"';
    d[len + 2] = ':';
    return d + len + 3;
}

/* The same for a table key; the buffer has room for KEY_STORE more bytes. */
static inline char *obj_key_put_fixed(struct obj *o, const struct key *k)
{
    char *d = o->b->data + o->b->len;
    size_t skip = o->first; /* the comma */
    memcpy(d, k->text + skip, KEY_STORE);
    o->first = false;
    return d + k->len + 4 - skip;
}

/* The comma and `"key":` under one room check. */
static inline int obj_key_len(struct obj *o, const char *key, size_t len)
{
    int r = buf_reserve(o->b, len + 4);
    if (r < 0)
        return r;
    o->b->len = (size_t)(obj_key_put(o, key, len) - o->b->data);
    return 0;
}

static inline int obj_key_fixed(struct obj *o, const struct key *k)
{
    int r = buf_reserve(o->b, KEY_STORE);
    if (r < 0)
        return r;
    o->b->len = (size_t)(obj_key_put_fixed(o, k) - o->b->data);
    return 0;
}

/* For literal keys, whose strlen the compiler does. */
static inline int obj_key(struct obj *o, const char *key)
{
    return obj_key_len(o, key, strlen(key));
}

static int put_value(struct audit_normalizer *n, struct buf *b, const struct fval *v, enum how how)
{
    if (v->kind == AUDIT_VALUE_NULL || v->kind == AUDIT_VALUE_UNSET)
        return json_put_raw(b, "null");
    if (how == NUM && v->kind == AUDIT_VALUE_PLAIN && is_json_number(v->p, v->len))
        return buf_append(b, v->p, v->len);
    size_t len;
    const char *p = decoded(n, v, (enum how)how, &len);
    return json_put_string_padded(b, p, len);
}

/* "key":value; a number that is already JSON goes with its key under one
 * room check and without a call (most values written are numbers). Its
 * digits lie in an event's text, which has AUDIT_EVENT_SLACK readable bytes
 * after every line, so 16 bytes are moved whatever its length (<= 20). */
static inline int put_key_value(struct audit_normalizer *n, struct obj *o, const struct key *k,
                                const struct fval *v, enum how how)
{
    int r;
    if (how == NUM && v->kind == AUDIT_VALUE_PLAIN && is_json_number(v->p, v->len)) {
        if ((r = buf_reserve(o->b, KEY_STORE + 32)) < 0)
            return r;
        char *d = obj_key_put_fixed(o, k);
        memcpy(d, v->p, 16);
        if (v->len > 16)
            memcpy(d + 16, v->p + 16, 16);
        o->b->len = (size_t)(d + v->len - o->b->data);
        return 0;
    }
    r = obj_key_fixed(o, k);
    return r < 0 ? r : put_value(n, o->b, v, how);
}

static inline int put_field_key(struct audit_normalizer *n, struct obj *o, const struct key *k,
                                int id)
{
    const struct fval *v = &n->v[id];
    if (!v->set)
        return 0;
    return put_key_value(n, o, k, v, (enum how)field_info[id].how);
}

/* put_field_key for a literal key. */
#define put_field(n, o, name, id)                                                                  \
    __extension__({                                                                                \
        static const struct key key_ = KEY(name);                                                  \
        put_field_key(n, o, &key_, id);                                                            \
    })

static inline int put_string_key(struct obj *o, const struct key *k, const char *s, size_t len)
{
    int r = obj_key_fixed(o, k);
    return r < 0 ? r : json_put_string(o->b, s, len);
}

static inline int put_string_kv(struct obj *o, const char *key, const char *s, size_t len)
{
    int r = obj_key(o, key);
    return r < 0 ? r : json_put_string(o->b, s, len);
}

static inline int put_i64_kv(struct obj *o, const char *key, int64_t v)
{
    int r = obj_key(o, key);
    return r < 0 ? r : json_put_i64(o->b, v);
}

/* ---- names of ids ---- */

static const char *local_name(struct name_cache_entry *cache, uint32_t id, bool group)
{
    struct name_cache_entry *e = &cache[id % NAME_CACHE_SIZE];
    if (e->valid && e->id == id)
        return e->name[0] ? e->name : NULL;
    char tmp[4096];
    e->valid = true;
    e->id = id;
    e->name[0] = 0;
    if (group) {
        struct group gr, *res = NULL;
        if (getgrgid_r(id, &gr, tmp, sizeof(tmp), &res) == 0 && res)
            snprintf(e->name, sizeof(e->name), "%s", gr.gr_name);
    } else {
        struct passwd pw, *res = NULL;
        if (getpwuid_r(id, &pw, tmp, sizeof(tmp), &res) == 0 && res)
            snprintf(e->name, sizeof(e->name), "%s", pw.pw_name);
    }
    return e->name[0] ? e->name : NULL;
}

struct id_field {
    struct key key, name_key;
    int id, enriched;
    bool group;
};

/* Writes "key":id and "key_name":name; the name from ENRICHED, else local. */
static int put_id(struct audit_normalizer *n, struct obj *o, const struct id_field *f)
{
    const struct fval *v = &n->v[f->id];
    bool group = f->group;
    if (!v->set)
        return 0;
    int r = put_field_key(n, o, &f->key, f->id);
    if (r < 0)
        return r;
    if (f->enriched >= 0 && n->v[f->enriched].set)
        return put_field_key(n, o, &f->name_key, f->enriched);
    if (!n->opt.local_names) {
        /* Only "unset" is written: a JSON number equal to 4294967295 or -1
         * has one spelling each, so two compares replace a parse. */
        if (v->kind == AUDIT_VALUE_PLAIN && (v->len == 10 || v->len == 2) &&
            (v->len == 10 ? bytes_equal(v->p, "4294967295", 10) : bytes_equal(v->p, "-1", 2)))
            return put_string_key(o, &f->name_key, "unset", 5);
        return 0;
    }
    int64_t num;
    if (!parse_i64(v, &num))
        return 0;
    if (num == 4294967295LL || num == -1)
        return put_string_key(o, &f->name_key, "unset", 5);
    const char *name = n->opt.local_names && num >= 0 && num < 4294967295LL
                           ? local_name(group ? n->groups : n->users, (uint32_t)num, group)
                           : NULL;
    return name ? put_string_key(o, &f->name_key, name, strlen(name)) : 0;
}

/* ---- sections ---- */

static int put_when(struct audit_normalizer *n, struct obj *o, const struct audit_event *ev)
{
    if (ev->sec != n->when_sec) {
        time_t t = (time_t)ev->sec;
        struct tm tm;
        if (n->opt.utc ? !gmtime_r(&t, &tm) : !localtime_r(&t, &tm))
            return put_i64_kv(o, "when", ev->sec);
        /* "YYYY-MM-DDTHH:MM:SS" then room for ".mmm", then the zone. */
        long off = n->opt.utc ? 0 : tm.tm_gmtoff;
        char sign = off < 0 ? '-' : '+';
        off = off < 0 ? -off : off;
        int year = tm.tm_year + 1900;
        if (year >= 1000 && year <= 9999 && off / 3600 < 100) {
            /* What strftime and snprintf below write, by hand: they cost
             * more than the rest of an event. */
            const int parts[6] = {year,       tm.tm_mon + 1, tm.tm_mday,
                                  tm.tm_hour, tm.tm_min,     tm.tm_sec};
            const long hours = off / 3600, minutes = off / 60 % 60;
            char *w = n->when;
            w[0] = (char)('0' + year / 1000), w[1] = (char)('0' + year / 100 % 10);
            w[2] = (char)('0' + year / 10 % 10), w[3] = (char)('0' + year % 10);
            w += 4;
            for (int i = 1; i < 6; i++) { /* -MM-DDTHH:MM:SS, each 0..99 */
                *w++ = "--T::"[i - 1];
                *w++ = (char)('0' + parts[i] / 10 % 10);
                *w++ = (char)('0' + parts[i] % 10);
            }
            w += 4; /* ".mmm" */
            *w++ = sign;
            *w++ = (char)('0' + hours / 10), *w++ = (char)('0' + hours % 10);
            *w++ = ':';
            *w++ = (char)('0' + minutes / 10), *w++ = (char)('0' + minutes % 10);
            n->when[19] = '.';
            n->when_len = (size_t)(w - n->when);
        } else {
            size_t len = strftime(n->when, sizeof(n->when), "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(n->when + len + 4, sizeof(n->when) - len - 4, "%c%02ld:%02ld", sign,
                     off / 3600, off / 60 % 60);
            n->when[len] = '.';
            n->when_len = len + 4 + strlen(n->when + len + 4);
        }
        n->when_sec = ev->sec;
    }
    unsigned ms = ev->msec % 1000;
    char *frac = n->when + n->when_len - 10; /* ".mmm+HH:MM" */
    frac[1] = (char)('0' + ms / 100);
    frac[2] = (char)('0' + ms / 10 % 10);
    frac[3] = (char)('0' + ms % 10);
    return put_string_kv(o, "when", n->when, n->when_len);
}

static const char *record_type_name(const struct audit_event *ev, uint32_t i, size_t *len)
{
    const struct audit_record_ref *rec = &ev->records[i];
    const char *name = rec->h.type_number ? audit_tables_type_name(rec->type) : NULL;
    if (name) {
        *len = strlen(name);
        return name;
    }
    *len = rec->h.type_len;
    return audit_event_line(ev, i) + rec->h.type_off;
}

static int put_types(struct obj *o, const struct audit_event *ev)
{
    int r = obj_key(o, "types");
    r = r < 0 ? r : buf_append(o->b, "[", 1);
    for (uint32_t i = 0; i < ev->nrecords && r == 0; i++) {
        size_t len;
        const char *name = record_type_name(ev, i, &len);
        if (i)
            r = buf_append(o->b, ",", 1);
        if (r == 0) /* a name from the line has the event's slack after it */
            r = ev->records[i].h.type_number ? json_put_string(o->b, name, len)
                                             : json_put_string_padded(o->b, name, len);
    }
    return r < 0 ? r : buf_append(o->b, "]", 1);
}

static int put_keys(struct audit_normalizer *n, struct obj *o)
{
    int r = obj_key(o, "key");
    r = r < 0 ? r : buf_append(o->b, "[", 1);
    const struct fval *v = &n->v[F_KEY];
    if (r == 0 && v->set && v->kind != AUDIT_VALUE_NULL && v->kind != AUDIT_VALUE_UNSET) {
        size_t len;
        const char *p = decoded(n, v, ESC, &len), *end = p + len;
        bool first = true;
        while (r == 0 && p <= end) {
            const char *sep = memchr(p, '\x01', (size_t)(end - p));
            const char *stop = sep ? sep : end;
            if (!first)
                r = buf_append(o->b, ",", 1);
            if (r == 0)
                r = json_put_string_padded(o->b, p, (size_t)(stop - p));
            first = false;
            p = stop + 1;
        }
    }
    return r < 0 ? r : buf_append(o->b, "]", 1);
}

/* v is s, ignoring ASCII case (strncasecmp in the C locale), inline: s is
 * a literal, so the loop unrolls into a few compares. */
static inline bool value_is(const struct fval *v, const char *s)
{
    size_t n = strlen(s);
    if (!v->set || v->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)v->p[i], b = (unsigned char)s[i];
        a = a >= 'A' && a <= 'Z' ? (unsigned char)(a | 0x20) : a;
        b = b >= 'A' && b <= 'Z' ? (unsigned char)(b | 0x20) : b;
        if (a != b)
            return false;
    }
    return true;
}

/* SELinux "avc:  denied  { read write } for": result word and permissions. */
static bool find_avc(const struct audit_event *ev, const char **word, size_t *word_len,
                     const char **perms, size_t *perms_len)
{
    for (uint32_t i = 0; i < ev->nrecords; i++) {
        const struct audit_record_ref *rec = &ev->records[i];
        if (rec->type != AUDIT_AVC && rec->type != AUDIT_USER_AVC)
            continue;
        const char *line = audit_event_line(ev, i);
        const char *end = line + rec->h.enriched_off;
        const char *p =
            memmem(line + rec->h.body_off, (size_t)(end - line - rec->h.body_off), "avc:", 4);
        if (!p)
            continue;
        for (p += 4; p < end && *p == ' '; p++)
            ;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        const char *open = memchr(p, '{', (size_t)(end - p));
        const char *close = open ? memchr(open, '}', (size_t)(end - open)) : NULL;
        if (!close)
            continue;
        *word = w;
        *word_len = (size_t)(p - w);
        for (open++; open < close && *open == ' '; open++)
            ;
        while (close > open && close[-1] == ' ')
            close--;
        *perms = open;
        *perms_len = (size_t)(close - open);
        return true;
    }
    return false;
}

static const char *event_result(struct audit_normalizer *n, const struct audit_event *ev)
{
    const struct fval *v;
    if ((v = &n->v[F_SUCCESS])->set)
        return value_is(v, "yes") ? "success" : value_is(v, "no") ? "failure" : NULL;
    v = n->v[F_RES].set ? &n->v[F_RES] : &n->v[F_RESULT];
    if (v->set) {
        if (value_is(v, "success") || value_is(v, "1"))
            return "success";
        if (value_is(v, "failed") || value_is(v, "fail") || value_is(v, "0"))
            return "failure";
    }
    if ((v = &n->v[F_APPARMOR])->set)
        return value_is(v, "DENIED") ? "failure" : "success";
    const char *w, *p;
    size_t wl, pl;
    if (find_avc(ev, &w, &wl, &p, &pl))
        return wl == 6 && memcmp(w, "denied", 6) == 0 ? "failure" : "success";
    return NULL;
}

static int put_who(struct audit_normalizer *n, struct obj *parent)
{
    int r = obj_key(parent, "who");
    if (r < 0 || (r = buf_append(parent->b, "{", 1)) < 0)
        return r;
    struct obj o = {parent->b, true};
    static const struct id_field ids[] = {
        {KEY("auid"), KEY("auid_name"), F_AUID, F_E_AUID, false},
        {KEY("uid"), KEY("uid_name"), F_UID, F_E_UID, false},
        {KEY("euid"), KEY("euid_name"), F_EUID, F_E_EUID, false},
        {KEY("suid"), KEY("suid_name"), F_SUID, F_E_SUID, false},
        {KEY("fsuid"), KEY("fsuid_name"), F_FSUID, F_E_FSUID, false},
        {KEY("gid"), KEY("gid_name"), F_GID, F_E_GID, true},
        {KEY("egid"), KEY("egid_name"), F_EGID, F_E_EGID, true},
        {KEY("sgid"), KEY("sgid_name"), F_SGID, F_E_SGID, true},
        {KEY("fsgid"), KEY("fsgid_name"), F_FSGID, F_E_FSGID, true},
        {KEY("id"), KEY("id_name"), F_ID, F_E_ID, false},
        {KEY("old_auid"), KEY("old_auid_name"), F_OLD_AUID, F_E_OLD_AUID, false},
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]) && r == 0; i++)
        r = put_id(n, &o, &ids[i]);
    if (r == 0)
        r = put_field(n, &o, "session", F_SES);
    if (r == 0)
        r = put_field(n, &o, "old_session", F_OLD_SES);
    if (r == 0)
        r = put_field(n, &o, "tty", F_TTY);
    if (r == 0)
        r = put_field(n, &o, "acct", F_ACCT);
    if (r == 0)
        r = put_field(n, &o, "subj", F_SUBJ);
    return r < 0 ? r : buf_append(parent->b, "}", 1);
}

static uint32_t event_arch(struct audit_normalizer *n)
{
    const struct fval *v = &n->v[F_ARCH];
    if (!v->set || v->len > 8 || !v->len || !hex_is_encoded(v->p, v->len & ~1u))
        return 0;
    if (v->len == 8) { /* as the kernel writes it: c000003e */
        unsigned char b[4];
        hex_decode(v->p, 8, b);
        return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    uint32_t x = 0;
    for (uint32_t i = 0; i < v->len; i++) {
        char c = v->p[i];
        unsigned d = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
        if (d > 15)
            return 0;
        x = x << 4 | d;
    }
    return x;
}

/* "key":x for x = parse_i64(v): v's own digits when they are what
 * json_put_i64 writes for x (parse_i64 took a JSON number; up to 18 digits
 * it cannot wrap; "-0" is written 0), without formatting x again. */
static inline int put_number_as_written(struct audit_normalizer *n, struct obj *o,
                                        const struct key *k, const struct fval *v, int64_t x)
{
    size_t digits = v->len - (v->p[0] == '-');
    if (digits <= 18 && !(x == 0 && v->len == 2))
        return put_key_value(n, o, k, v, NUM);
    int r = obj_key_fixed(o, k);
    return r < 0 ? r : json_put_i64(o->b, x);
}

static const struct key syscall_nr_key = KEY("syscall_nr"), exit_key = KEY("exit");

static int put_syscall(struct audit_normalizer *n, struct obj *o)
{
    uint32_t arch = event_arch(n);
    int r = 0;
    const char *arch_name = arch ? audit_tables_arch_name(arch) : NULL;
    if (n->v[F_E_ARCH].set)
        r = put_field(n, o, "arch", F_E_ARCH);
    else if (arch_name)
        r = put_string_kv(o, "arch", arch_name, strlen(arch_name));
    else if (n->v[F_ARCH].set)
        r = put_field(n, o, "arch", F_ARCH);
    int64_t nr;
    if (r == 0 && parse_i64(&n->v[F_SYSCALL], &nr)) {
        const char *name = audit_tables_syscall_name(arch, (int)nr);
        if (n->v[F_E_SYSCALL].set)
            r = put_field(n, o, "syscall", F_E_SYSCALL);
        else if (name)
            r = put_string_kv(o, "syscall", name, strlen(name));
        if (r == 0)
            r = put_number_as_written(n, o, &syscall_nr_key, &n->v[F_SYSCALL], nr);
    }
    if (r == 0 && n->v[F_SUCCESS].set) {
        r = obj_key(o, "success");
        if (r == 0)
            r = json_put_raw(o->b, value_is(&n->v[F_SUCCESS], "yes") ? "true" : "false");
    }
    int64_t ex;
    if (r == 0 && parse_i64(&n->v[F_EXIT], &ex)) {
        r = put_number_as_written(n, o, &exit_key, &n->v[F_EXIT], ex);
        const char *err = ex < 0 && ex > -4096 ? audit_tables_errno_name((int)-ex) : NULL;
        if (r == 0 && err && !value_is(&n->v[F_SUCCESS], "yes"))
            r = put_string_kv(o, "errno", err, strlen(err));
    }
    return r;
}

static int put_argv(struct audit_normalizer *n, struct obj *o)
{
    if (n->argv.count == 0)
        return 0;
    int r = obj_key(o, "argv");
    r = r < 0 ? r : buf_append(o->b, "[", 1);
    for (uint32_t i = 0; i < n->argv.count && r == 0; i++) {
        size_t len;
        const char *a = audit_argv_arg(&n->argv, i, &len);
        if (i)
            r = buf_append(o->b, ",", 1);
        if (r == 0)
            r = json_put_string(o->b, a, len);
    }
    return r < 0 ? r : buf_append(o->b, "]", 1);
}

/* proctitle is argv joined by NUL bytes; shown with spaces, as ausearch does. */
static int put_proctitle(struct audit_normalizer *n, struct obj *o)
{
    const struct fval *v = &n->v[F_PROCTITLE];
    if (!v->set)
        return 0;
    size_t len;
    const char *p = decoded(n, v, ESC, &len);
    if (p == n->scratch.data)
        for (size_t i = 0; i < len; i++)
            if (n->scratch.data[i] == 0)
                n->scratch.data[i] = ' ';
    while (len && p[len - 1] == ' ' && p == n->scratch.data)
        len--;
    int r = obj_key(o, "proctitle");
    return r < 0 ? r : json_put_string_padded(o->b, p, len);
}

static int put_avc(const struct audit_event *ev, struct obj *o)
{
    const char *w, *p;
    size_t wl, pl;
    if (!find_avc(ev, &w, &wl, &p, &pl))
        return 0;
    int r = obj_key(o, "avc");
    r = r < 0 ? r : buf_append(o->b, "{", 1);
    struct obj a = {o->b, true};
    if (r == 0)
        r = put_string_kv(&a, "result", w, wl);
    if (r == 0)
        r = obj_key(&a, "perms");
    r = r < 0 ? r : buf_append(o->b, "[", 1);
    for (const char *end = p + pl; r == 0 && p < end;) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *stop = sp ? sp : end;
        if (stop > p) {
            if (o->b->data[o->b->len - 1] != '[')
                r = buf_append(o->b, ",", 1);
            if (r == 0)
                r = json_put_string(o->b, p, (size_t)(stop - p));
        }
        p = stop + 1;
    }
    return r < 0 ? r : buf_append(o->b, "]}", 2);
}

static int put_what(struct audit_normalizer *n, struct obj *parent, const struct audit_event *ev)
{
    int r = obj_key(parent, "what");
    if (r < 0 || (r = buf_append(parent->b, "{", 1)) < 0)
        return r;
    struct obj o = {parent->b, true};
    r = put_syscall(n, &o);
    static const struct {
        struct key key;
        int id;
    } plain[] = {
        {KEY("exe"), F_EXE},
        {KEY("comm"), F_COMM},
        {KEY("pid"), F_PID},
        {KEY("ppid"), F_PPID},
        {KEY("argc"), F_ARGC},
        {KEY("op"), F_OP},
        {KEY("res"), F_RES},
        {KEY("cmd"), F_CMD},
        {KEY("grantors"), F_GRANTORS},
        {KEY("apparmor"), F_APPARMOR},
        {KEY("operation"), F_OPERATION},
        {KEY("profile"), F_PROFILE},
        {KEY("requested_mask"), F_REQUESTED_MASK},
        {KEY("denied_mask"), F_DENIED_MASK},
        {KEY("scontext"), F_SCONTEXT},
        {KEY("tcontext"), F_TCONTEXT},
        {KEY("tclass"), F_TCLASS},
        {KEY("permissive"), F_PERMISSIVE},
        {KEY("sig"), F_SIG},
        {KEY("data"), F_DATA},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && r == 0; i++)
        r = put_field_key(n, &o, &plain[i].key, plain[i].id);
    if (r == 0)
        r = put_argv(n, &o);
    if (r == 0)
        r = put_proctitle(n, &o);
    if (r == 0)
        r = put_avc(ev, &o);
    return r < 0 ? r : buf_append(parent->b, "}", 1);
}

/* PATH fields in schema order; each field of the record is placed once. */
/* A name of 3 to 8 bytes (is_path_key compares no other), else an array of
 * negative size stops the build. */
#define PATH_KEY_LEN(name)                                                                         \
    (sizeof(name) - 1 + 0 * sizeof(char[sizeof(name) >= 4 && sizeof(name) <= 9 ? 1 : -1]))
#define PATH_KEY(name, key, how)                                                                   \
    {                                                                                              \
        name, PATH_KEY_LEN(name), KEY(key), how                                                    \
    }
static const struct {
    const char *name;
    size_t len;
    struct key key;
    enum how how;
} path_keys[] = {
    PATH_KEY("item", "item", NUM),         PATH_KEY("name", "name", ESC),
    PATH_KEY("inode", "inode", NUM),       PATH_KEY("dev", "dev", STR),
    PATH_KEY("mode", "mode", STR),         PATH_KEY("ouid", "ouid", NUM),
    PATH_KEY("ogid", "ogid", NUM),         PATH_KEY("rdev", "rdev", STR),
    PATH_KEY("nametype", "nametype", STR), PATH_KEY("objtype", "nametype", STR),
    PATH_KEY("obj", "obj", STR),           PATH_KEY("OUID", "ouid_name", STR),
    PATH_KEY("OGID", "ogid_name", STR),
};
#define PATH_KEYS (sizeof(path_keys) / sizeof(path_keys[0]))

/* The PATH keys have 3 to 8 bytes (PATH_KEY refuses others): two
 * overlapping 4-byte compares, or three bytes, instead of a memcmp call for
 * every field of every PATH record. */
static inline bool is_path_key(size_t k, const char *p, size_t n)
{
    const char *name = path_keys[k].name;
    if (path_keys[k].len != n)
        return false;
    if (n >= 4) {
        uint32_t a, b, c, d;
        memcpy(&a, p, 4), memcpy(&b, p + n - 4, 4);
        memcpy(&c, name, 4), memcpy(&d, name + n - 4, 4);
        return ((a ^ c) | (b ^ d)) == 0;
    }
    return p[0] == name[0] && p[1] == name[1] && p[2] == name[2];
}

/* The kernel writes PATH fields in schema order, so the key after the last
 * one found is tried first: a search that stops in a different place for
 * every field costs a mispredicted branch each time. */
static int path_key_index(const char *p, size_t n, size_t hint)
{
    if (hint < PATH_KEYS && is_path_key(hint, p, n))
        return (int)hint;
    for (size_t k = 0; k < PATH_KEYS; k++)
        if (is_path_key(k, p, n))
            return (int)k;
    return -1;
}

static int put_path_item(struct audit_normalizer *n, struct buf *b, const struct rec_span *s)
{
    struct fval slot[PATH_KEYS];
    memset(slot, 0, sizeof(slot));
    size_t hint = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        const struct audit_field *f = &n->fields[s->first + i];
        int k = path_key_index(s->line + f->name_off, f->name_len, hint);
        if (k < 0)
            continue;
        hint = (size_t)k + 1;
        if (!slot[k].set)
            slot[k] = (struct fval){s->line + f->value_off, f->value_len, f->kind, 1};
    }
    struct obj o = {b, true};
    int r = buf_append(b, "{", 1);
    for (size_t k = 0; k < PATH_KEYS && r == 0; k++) {
        if (!slot[k].set || (k == 9 && slot[8].set)) /* objtype only when no nametype */
            continue;
        r = put_key_value(n, &o, &path_keys[k].key, &slot[k], path_keys[k].how);
    }
    return r < 0 ? r : buf_append(b, "}", 1);
}

static int put_object(struct audit_normalizer *n, struct obj *parent, const struct audit_event *ev)
{
    int r = obj_key(parent, "object");
    if (r < 0 || (r = buf_append(parent->b, "{", 1)) < 0)
        return r;
    struct obj o = {parent->b, true};
    r = put_field(n, &o, "cwd", F_CWD);
    if (r == 0)
        r = put_field(n, &o, "name", F_NAME);
    if (r == 0)
        r = put_field(n, &o, "path", F_PATHNAME);
    bool any = false;
    for (uint32_t i = 0; i < ev->nrecords && r == 0; i++) {
        if (ev->records[i].type != AUDIT_PATH)
            continue;
        if (!any)
            r = obj_key(&o, "paths");
        if (r == 0)
            r = buf_append(o.b, any ? "," : "[", 1);
        any = true;
        if (r == 0)
            r = put_path_item(n, o.b, &n->spans[i]);
    }
    if (any && r == 0)
        r = buf_append(o.b, "]", 1);
    return r < 0 ? r : buf_append(parent->b, "}", 1);
}

static int put_sockaddr(struct audit_normalizer *n, struct obj *o)
{
    const struct fval *v = &n->v[F_SADDR];
    if (!v->set || v->kind != AUDIT_VALUE_PLAIN || !hex_is_encoded(v->p, v->len))
        return 0;
    unsigned char bytes[256];
    size_t len = v->len / 2 < sizeof(bytes) ? v->len / 2 : sizeof(bytes);
    hex_decode(v->p, len * 2, bytes);
    uint32_t arch = event_arch(n);
    bool le = arch ? audit_tables_arch_is_le(arch) : bytes[0] != 0 || len < 2 || bytes[1] == 0;
    struct audit_sockaddr sa;
    int r = 0;
    if (audit_sockaddr_decode(bytes, len, le, &sa) < 0 && !sa.family_name)
        return 0;
    if (sa.family_name)
        r = put_string_kv(o, "family", sa.family_name, strlen(sa.family_name));
    else
        r = put_i64_kv(o, "family", sa.family);
    if (r == 0 && sa.addr[0])
        r = put_string_kv(o, "addr", sa.addr, strlen(sa.addr));
    if (r == 0 && sa.port >= 0)
        r = put_i64_kv(o, "port", sa.port);
    if (r == 0 && sa.path) {
        r = put_string_kv(o, "path", (const char *)sa.path, sa.path_len);
        if (r == 0 && sa.abstract)
            r = obj_key(o, "abstract"), r = r < 0 ? r : json_put_raw(o->b, "true");
    }
    if (r == 0 && sa.has_netlink_pid)
        r = put_i64_kv(o, "netlink_pid", sa.netlink_pid);
    return r;
}

static int put_network(struct audit_normalizer *n, struct obj *parent)
{
    int r = obj_key(parent, "network");
    if (r < 0 || (r = buf_append(parent->b, "{", 1)) < 0)
        return r;
    struct obj o = {parent->b, true};
    r = put_sockaddr(n, &o);
    /* User-space records: where the user came from. */
    if (r == 0 && !n->v[F_SADDR].set)
        r = put_field(n, &o, "addr", F_ADDR);
    if (r == 0)
        r = put_field(n, &o, "hostname", F_HOSTNAME);
    if (r == 0)
        r = put_field(n, &o, "terminal", F_TERMINAL);
    if (r == 0 && n->v[F_LADDR].set)
        r = put_field(n, &o, "local_addr", F_LADDR);
    if (r == 0)
        r = put_field(n, &o, "local_port", F_LPORT);
    return r < 0 ? r : buf_append(parent->b, "}", 1);
}

static int put_records(struct obj *o, const struct audit_event *ev)
{
    int r = obj_key(o, "records");
    r = r < 0 ? r : buf_append(o->b, "[", 1);
    for (uint32_t i = 0; i < ev->nrecords && r == 0; i++) {
        if (i)
            r = buf_append(o->b, ",", 1);
        if (r == 0)
            r = json_put_string_padded(o->b, audit_event_line(ev, i), ev->records[i].len);
    }
    return r < 0 ? r : buf_append(o->b, "]", 1);
}

#define TEXT_OF(x)          #x
#define TEXT_OF_VALUE(x)    TEXT_OF(x)
#define SCHEMA_VERSION_TEXT TEXT_OF_VALUE(AUDIT_EVENT_SCHEMA_VERSION)

static int write_json(struct audit_normalizer *n, const struct audit_event *ev, struct buf *out)
{
    struct obj o = {out, false};
    int r =
        buf_append(out, "{\"v\":" SCHEMA_VERSION_TEXT, sizeof("{\"v\":" SCHEMA_VERSION_TEXT) - 1);
    if (r == 0)
        r = put_when(n, &o, ev);
    if (r == 0 && ev->node_len)
        r = put_string_kv(&o, "node", ev->node, ev->node_len);
    if (r == 0)
        r = put_i64_kv(&o, "serial", ev->serial);
    if (r == 0)
        r = put_types(&o, ev);
    const char *result = event_result(n, ev);
    if (r == 0 && result)
        r = put_string_kv(&o, "result", result, strlen(result));
    if (r == 0)
        r = put_keys(n, &o);
    if (r == 0)
        r = put_who(n, &o);
    if (r == 0)
        r = put_what(n, &o, ev);
    if (r == 0)
        r = put_object(n, &o, ev);
    if (r == 0)
        r = put_network(n, &o);
    if (r == 0)
        r = put_records(&o, ev);
    return r < 0 ? r : buf_append(out, "}\n", 2);
}

/* ---- text: one readable line per event, values quoted and escaped as JSON strings ---- */

/* Appends pre, s[0..n) up to a NUL (as "%.*s" prints it) and post: the
 * pieces of a text line without a trip through printf's formatting, which
 * cost more than everything else in the line. */
static int text_put(struct buf *b, const char *pre, const char *s, size_t n, const char *post)
{
    size_t pre_len = strlen(pre), post_len = strlen(post);
    n = s ? strnlen(s, n) : 0;
    int r = buf_reserve(b, pre_len + n + post_len);
    if (r < 0)
        return r;
    buf_put(b, pre, pre_len);
    buf_put(b, s, n);
    buf_put(b, post, post_len);
    return 0;
}

static int text_value(struct audit_normalizer *n, struct buf *b, const char *label, int id,
                      int name_id)
{
    const struct fval *v = &n->v[id];
    if (!v->set || v->kind == AUDIT_VALUE_NULL || v->kind == AUDIT_VALUE_UNSET)
        return 0;
    int r = text_put(b, " ", label, strlen(label), "=");
    size_t len;
    const char *p = decoded(n, v, (enum how)field_info[id].how, &len);
    if (r == 0)
        r = field_info[id].how == NUM ? buf_append(b, p, len) : json_put_string(b, p, len);
    const char *name = NULL;
    size_t name_len = 0;
    int64_t nr;
    if (name_id >= 0 && n->v[name_id].set) {
        name = n->v[name_id].p;
        name_len = n->v[name_id].len;
    } else if (id == F_SYSCALL && parse_i64(v, &nr) &&
               (name = audit_tables_syscall_name(event_arch(n), (int)nr))) {
        name_len = strlen(name);
    }
    if (r == 0 && name)
        r = text_put(b, "(", name, name_len, ")");
    return r;
}

static int write_text(struct audit_normalizer *n, const struct audit_event *ev, struct buf *out)
{
    buf_reset(&n->scratch); /* holds nothing else yet */
    struct obj o = {&n->scratch, true};
    int r = put_when(n, &o, ev); /* "when":"..." */
    if (r == 0)
        r = buf_append(out, n->scratch.data + 8, n->scratch.len - 9);
    if (r == 0 && ev->node_len)
        r = text_put(out, " node=", ev->node, ev->node_len, "");
    if (r == 0)
        r = text_put(out, " serial=", NULL, 0, "");
    if (r == 0)
        r = json_put_u64(out, ev->serial);
    if (r == 0)
        r = buf_append(out, " ", 1);
    for (uint32_t i = 0; i < ev->nrecords && r == 0; i++) {
        size_t len;
        const char *name = record_type_name(ev, i, &len);
        r = buf_append(out, name, len);
        if (r == 0 && i + 1 < ev->nrecords)
            r = buf_append(out, ",", 1);
    }
    const char *result = event_result(n, ev);
    if (r == 0 && result)
        r = text_put(out, " ", result, strlen(result), "");
    static const struct {
        const char *label;
        int id, name_id;
    } items[] = {
        {"auid", F_AUID, F_E_AUID},   {"uid", F_UID, F_E_UID},
        {"euid", F_EUID, F_E_EUID},   {"ses", F_SES, -1},
        {"tty", F_TTY, -1},           {"syscall", F_SYSCALL, F_E_SYSCALL},
        {"exit", F_EXIT, -1},         {"op", F_OP, -1},
        {"acct", F_ACCT, -1},         {"exe", F_EXE, -1},
        {"cmd", F_CMD, -1},           {"cwd", F_CWD, -1},
        {"name", F_NAME, -1},         {"hostname", F_HOSTNAME, -1},
        {"addr", F_ADDR, -1},         {"res", F_RES, -1},
        {"apparmor", F_APPARMOR, -1}, {"key", F_KEY, -1},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]) && r == 0; i++)
        r = text_value(n, out, items[i].label, items[i].id, items[i].name_id);
    if (r == 0 && n->argv.count) {
        r = buf_append(out, " argv=", 6);
        for (uint32_t i = 0; i < n->argv.count && r == 0; i++) {
            size_t len;
            const char *a = audit_argv_arg(&n->argv, i, &len);
            if (i)
                r = buf_append(out, " ", 1);
            if (r == 0)
                r = json_put_string(out, a, len);
        }
    }
    return r < 0 ? r : buf_append(out, "\n", 1);
}

int audit_normalize_event(struct audit_normalizer *n, const struct audit_event *ev, struct buf *out)
{
    size_t mark = out->len;
    int r = gather(n, ev);
    if (r == 0)
        r = n->opt.format == AUDIT_OUTPUT_TEXT ? write_text(n, ev, out) : write_json(n, ev, out);
    if (r < 0)
        out->len = mark; /* never leave half an object behind */
    return r;
}
