/*
 * execve: EXECVE fields -> argv. Arguments arrive in order; a chunked one
 * arrives as consecutive aN[i] fields. Unquoted values are hex (the kernel
 * quotes an argument only when it is safe to print as is).
 */
#include "audit/execve.h"

#include "base/hex.h"

#include <errno.h>
#include <stdlib.h>

#define ARGV_MAX_BYTES (16u << 20)

void audit_argv_init(struct audit_argv *a)
{
    buf_init(&a->bytes, ARGV_MAX_BYTES);
    a->ends = NULL;
    a->count = a->cap = 0;
    a->current = -1;
}

void audit_argv_free(struct audit_argv *a)
{
    buf_free(&a->bytes);
    free(a->ends);
}

void audit_argv_reset(struct audit_argv *a)
{
    buf_reset(&a->bytes);
    a->count = 0;
    a->current = -1;
}

/* Parses "aN", "aN[i]" (chunk) or "aN_len"; returns N or -1 if not an argument. */
static int64_t arg_index(const char *p, size_t n, int *is_chunk, int *is_len)
{
    *is_chunk = *is_len = 0;
    if (n < 2 || p[0] != 'a' || p[1] < '0' || p[1] > '9')
        return -1;
    int64_t v = 0;
    size_t i = 1;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i < 10)
        v = v * 10 + (p[i++] - '0');
    if (i == n)
        return v;
    if (p[i] == '[' && p[n - 1] == ']')
        *is_chunk = 1;
    else if (n - i == 4 && p[i] == '_' && p[i + 1] == 'l' && p[i + 2] == 'e' && p[i + 3] == 'n')
        *is_len = 1;
    else
        return -1;
    return v;
}

static int start_arg(struct audit_argv *a, int64_t index)
{
    if (a->count == a->cap) {
        uint32_t cap = a->cap ? a->cap * 2 : 16;
        uint32_t *e = realloc(a->ends, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        a->ends = e;
        a->cap = cap;
    }
    a->ends[a->count++] = (uint32_t)a->bytes.len;
    a->current = index;
    return 0;
}

int audit_argv_add(struct audit_argv *a, const char *line, const struct audit_field *f)
{
    int chunk, len_field;
    int64_t index = arg_index(line + f->name_off, f->name_len, &chunk, &len_field);
    if (index < 0 || len_field)
        return 0;
    int r;
    if ((index != a->current || !chunk) && (r = start_arg(a, index)) < 0)
        return r;
    const char *v = line + f->value_off;
    size_t n = f->value_len;
    bool hex = f->kind == AUDIT_VALUE_PLAIN && hex_is_encoded(v, n);
    if ((r = buf_reserve(&a->bytes, hex ? n / 2 : n)) < 0)
        return r;
    if (hex) {
        hex_decode(v, n, (unsigned char *)a->bytes.data + a->bytes.len);
        a->bytes.len += n / 2;
    } else {
        buf_put(&a->bytes, v, n);
    }
    a->ends[a->count - 1] = (uint32_t)a->bytes.len;
    return 0;
}
