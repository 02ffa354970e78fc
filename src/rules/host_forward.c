/*
 * host_forward: reads rsyslog's files (rsyslog.conf, then rsyslog.d/ in
 * order), journal-upload.conf, audisp-remote's plugin and configuration,
 * and logward-agent's file. For rsyslog it recognises legacy selector
 * actions ("*.* @@host:port", "@host" for UDP) with the legacy TLS
 * directives ($DefaultNetstreamDriver, $ActionSendStreamDriverMode) and
 * RainerScript action(type="omfwd"/"omrelp") blocks with their StreamDriver,
 * StreamDriverMode and tls parameters. It does not evaluate rsyslog's
 * filters, rulesets or includes outside rsyslog.d.
 */
#include "rules/host_forward.h"

#include "rules/conf_kv.h"
#include "rules/host_fs.h"
#include "rules/host_service.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VALUE_MAX 256

/* rsyslog state that applies to the legacy actions after it. */
struct rsyslog_state {
    bool tls_driver; /* DefaultNetstreamDriver gtls or ossl */
    bool tls_mode;   /* $ActionSendStreamDriverMode 1 */
};

static void add(struct host_forwards *out, const char *via, const char *where, const char *target,
                size_t target_len, enum host_forward_crypto crypto)
{
    if (out->n == HOST_FORWARD_MAX)
        return;
    struct host_forward *f = &out->f[out->n++];
    f->via = via;
    snprintf(f->where, sizeof(f->where), "%s", where);
    snprintf(f->target, sizeof(f->target), "%.*s", (int)target_len, target);
    f->crypto = crypto;
}

/* The quoted value of name="..." within [p, end), case-insensitively; NULL if absent. */
static const char *param(const char *p, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *q = p; q + nl + 2 < end; q++) {
        if (strncasecmp(q, name, nl) || (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_')))
            continue;
        const char *v = q + nl;
        while (v < end && *v == ' ')
            v++;
        if (v >= end || *v != '=')
            continue;
        v++;
        while (v < end && *v == ' ')
            v++;
        if (v >= end || *v != '"')
            continue;
        const char *close = memchr(v + 1, '"', (size_t)(end - v - 1));
        if (!close)
            return NULL;
        *len = (size_t)(close - v - 1);
        return v + 1;
    }
    return NULL;
}

static bool param_is(const char *p, const char *end, const char *name, const char *want)
{
    size_t len;
    const char *v = param(p, end, name, &len);
    return v && len == strlen(want) && !strncasecmp(v, want, len);
}

static bool tls_driver_param(const char *p, const char *end, const char *name)
{
    return param_is(p, end, name, "gtls") || param_is(p, end, name, "ossl");
}

/* action(type="omfwd"|"omrelp" ...): its block up to the closing parenthesis. */
static const char *action_block(const char *p, const char *end, struct host_forwards *out,
                                const char *where, const struct rsyslog_state *st)
{
    const char *close = memchr(p, ')', (size_t)(end - p));
    const char *stop = close ? close : end;
    size_t tl = 0;
    const char *target = param(p, stop, "target", &tl);
    if (param_is(p, stop, "type", "omfwd")) {
        bool tls = param_is(p, stop, "StreamDriverMode", "1") &&
                   (tls_driver_param(p, stop, "StreamDriver") || st->tls_driver);
        add(out, "rsyslog", where, target ? target : "?", target ? tl : 1,
            tls ? HOST_FORWARD_TLS : HOST_FORWARD_PLAIN);
    } else if (param_is(p, stop, "type", "omrelp")) {
        add(out, "rsyslog", where, target ? target : "?", target ? tl : 1,
            param_is(p, stop, "tls", "on") ? HOST_FORWARD_TLS : HOST_FORWARD_PLAIN);
    }
    return stop;
}

/* A legacy line: "selector  @host" (UDP) or "selector  @@host" (TCP). */
static void legacy_line(const char *p, const char *le, struct host_forwards *out, const char *where,
                        const struct rsyslog_state *st)
{
    const char *at = p;
    while (at < le && !isspace((unsigned char)*at))
        at++; /* the selector */
    while (at < le && isspace((unsigned char)*at))
        at++;
    if (at == p || at >= le || *at != '@' || *p == '$')
        return;
    bool tcp = at + 1 < le && at[1] == '@';
    const char *t = at + (tcp ? 2 : 1);
    if (t < le && *t == '(') /* @@(o)host: options */
        t = memchr(t, ')', (size_t)(le - t)) ? (const char *)memchr(t, ')', (size_t)(le - t)) + 1
                                             : le;
    size_t tl = strcspn(t, " \t;\n");
    if (t + tl > le)
        tl = (size_t)(le - t);
    add(out, "rsyslog", where, t, tl,
        tcp && st->tls_driver && st->tls_mode ? HOST_FORWARD_TLS : HOST_FORWARD_PLAIN);
}

static void legacy_directive(const char *p, const char *le, struct rsyslog_state *st)
{
    if (!strncasecmp(p, "$DefaultNetstreamDriver ", 24))
        st->tls_driver = !strncasecmp(p + 24, "gtls", 4) || !strncasecmp(p + 24, "ossl", 4);
    if (!strncasecmp(p, "$ActionSendStreamDriverMode ", 28))
        st->tls_mode = p + 28 < le && p[28] == '1';
}

/* text must be NUL-terminated at len (the string functions below rely on it). */
static void scan_rsyslog_text(const char *text, size_t len, const char *where,
                              struct host_forwards *out, struct rsyslog_state *st)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            break;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (*p != '#') {
            if (!strncasecmp(p, "global(", 7) && tls_driver_param(p, le, "DefaultNetstreamDriver"))
                st->tls_driver = true;
            legacy_directive(p, le, st);
            const char *act = strcasestr(p, "action(");
            if (act && act < le) {
                le = action_block(act, end, out, where, st);
            } else {
                legacy_line(p, le, out, where, st);
            }
        }
        p = le < end ? le + 1 : end;
    }
}

static void scan_rsyslog(const char *root, struct host_forwards *out)
{
    struct rsyslog_state st = {0};
    struct buf names, text;
    buf_init(&names, 0);
    buf_init(&text, HOST_FS_FILE_MAX);
    if (host_fs_read(root, "/etc/rsyslog.conf", &text) == 0 && buf_append(&text, "", 1) == 0)
        scan_rsyslog_text(text.data, text.len - 1, "/etc/rsyslog.conf", out, &st);
    int n = host_fs_list(root, "/etc/rsyslog.d", ".conf", &names);
    for (const char *s = names.data; n > 0; n--, s += strlen(s) + 1) {
        char rel[HOST_FS_PATH_MAX];
        snprintf(rel, sizeof(rel), "/etc/rsyslog.d/%s", s);
        buf_reset(&text);
        if (host_fs_read(root, rel, &text) == 0 && buf_append(&text, "", 1) == 0)
            scan_rsyslog_text(text.data, text.len - 1, rel, out, &st);
    }
    buf_free(&names);
    buf_free(&text);
}

/* Reads one key of a key=value file below root; returns its length or < 0. */
static int conf_value(const char *root, const char *path, const char *key, char *val, size_t cap)
{
    struct buf b;
    buf_init(&b, HOST_FS_FILE_MAX);
    int rc = host_fs_read(root, path, &b);
    if (rc >= 0)
        rc = conf_kv_get(b.data ? b.data : "", b.len, key, val, cap);
    buf_free(&b);
    return rc;
}

static void scan_journal_upload(const char *root, struct host_forwards *out)
{
    char url[VALUE_MAX], where[HOST_FS_PATH_MAX];
    const char *conf = "/etc/systemd/journal-upload.conf";
    if (conf_value(root, conf, "URL", url, sizeof(url)) <= 0)
        return;
    if (host_service_state(root, "systemd-journal-upload", where, sizeof(where)) !=
        HOST_SERVICE_ENABLED)
        return;
    add(out, "journal-upload", conf, url, strlen(url),
        !strncasecmp(url, "https://", 8) ? HOST_FORWARD_TLS : HOST_FORWARD_PLAIN);
}

static void scan_audisp_remote(const char *root, struct host_forwards *out)
{
    char active[VALUE_MAX], server[VALUE_MAX], transport[VALUE_MAX];
    const char *plugin = "/etc/audit/plugins.d/au-remote.conf";
    const char *conf = "/etc/audit/audisp-remote.conf";
    if (conf_value(root, plugin, "active", active, sizeof(active)) <= 0 ||
        strcasecmp(active, "yes"))
        return;
    if (conf_value(root, conf, "remote_server", server, sizeof(server)) <= 0)
        return;
    bool krb5 = conf_value(root, conf, "transport", transport, sizeof(transport)) > 0 &&
                !strcasecmp(transport, "KRB5");
    add(out, "audisp-remote", conf, server, strlen(server),
        krb5 ? HOST_FORWARD_TLS : HOST_FORWARD_PLAIN);
}

int host_forward_scan(const char *root, struct host_forwards *out)
{
    out->n = 0;
    scan_rsyslog(root, out);
    scan_journal_upload(root, out);
    scan_audisp_remote(root, out);
    if (host_fs_exists(root, "/etc/logward/agent.conf"))
        add(out, "logward-agent", "/etc/logward/agent.conf", "(see file)", 10,
            HOST_FORWARD_NOT_KNOWN);
    return (int)out->n;
}
