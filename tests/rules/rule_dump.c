/*
 * rule_dump: prints what src/rules/rule_parse makes of each line of the
 * files given (or standard input), one JSON object per line, for the test
 * scripts: {"line":N,"kind":...,"error":...,"arch":...,"syscalls":[...],
 * "keys":[...],"path":...,"perms":N,"fields":[[name,op,value]...],
 * "controls":[[option,value]...]}. Blank and comment lines are skipped.
 */
#include "base/buf.h"
#include "base/json.h"
#include "rules/rule_parse.h"

#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"blank", "syscall", "watch", "control"};
static const char *const ops[] = {"=", "!=", "<", ">", "<=", ">=", "&", "&="};

static void put_span(struct buf *b, struct rule_span s)
{
    json_put_string(b, s.p ? s.p : "", s.len); /* unset spans are {NULL, 0} */
}

static void dump(struct buf *b, unsigned no, const char *text, size_t len)
{
    struct rule r;
    int rc = rule_parse_line(text, len, &r);
    if (rc == 0 && r.kind == RULE_BLANK)
        return;
    buf_printf(b, "{\"line\":%u,\"kind\":\"%s\",\"error\":", no, kinds[r.kind]);
    if (rc)
        json_put_string(b, rule_parse_strerror(rc), strlen(rule_parse_strerror(rc)));
    else
        json_put_raw(b, "null");
    buf_printf(b, ",\"always\":%s,\"verb\":%d,\"list\":%d,\"syscalls\":[",
               r.always ? "true" : "false", (int)r.verb, (int)r.list);
    size_t pos = 0;
    struct rule_span s;
    for (int i = 0; rule_next_syscall(&r, &pos, &s); i++) {
        if (i)
            json_put_raw(b, ",");
        put_span(b, s);
    }
    json_put_raw(b, "],\"keys\":[");
    for (unsigned i = 0; i < r.n_keys; i++) {
        if (i)
            json_put_raw(b, ",");
        put_span(b, r.keys[i]);
    }
    json_put_raw(b, "],\"path\":");
    put_span(b, r.path);
    buf_printf(b, ",\"perms\":%u,\"fields\":[", r.perms);
    for (unsigned i = 0; i < r.n_fields; i++) {
        buf_printf(b, "%s[", i ? "," : "");
        put_span(b, r.fields[i].name);
        buf_printf(b, ",\"%s%s\",", r.fields[i].compare ? "C" : "", ops[r.fields[i].op]);
        put_span(b, r.fields[i].value);
        json_put_raw(b, "]");
    }
    json_put_raw(b, "],\"controls\":[");
    for (unsigned i = 0; i < r.n_controls; i++) {
        buf_printf(b, "%s[", i ? "," : "");
        put_span(b, r.controls[i].option);
        json_put_raw(b, ",");
        put_span(b, r.controls[i].value);
        json_put_raw(b, "]");
    }
    json_put_raw(b, "]}\n");
}

static int dump_file(FILE *f)
{
    static char line[RULE_LINE_MAX + 64];
    unsigned no = 0;
    struct buf b;
    buf_init(&b, 0);
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        dump(&b, ++no, line, len);
        fwrite(b.data, 1, b.len, stdout);
        buf_reset(&b);
    }
    buf_free(&b);
    return ferror(f) ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return dump_file(stdin);
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        int rc = dump_file(f);
        fclose(f);
        if (rc)
            return rc;
    }
    return 0;
}
