/*
 * config: the table of logwardd's settings and the file reader. Every
 * setting has one setter that checks its value; the command line (main.c)
 * and the file both go through config_set, so an option means the same in
 * both and is refused for the same reasons. Values keep no copies: strings
 * point into the file's text (kept in cfg->text) or into argv.
 */
#include "base/conf_file.h"
#include "collector/config.h"
#include "collector/regroup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MB ((uint64_t)1 << 20)

struct setting {
    const char *key;
    int (*set)(struct collector_config *cfg, const char *v, const char **why);
    const char *arg, *help;
};

static int number(const char *v, long long min, long long max, long long *out, const char **why)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        *why = "not a number in the allowed range";
        return -EINVAL;
    }
    *out = n;
    return 0;
}

static int set_store(struct collector_config *cfg, const char *v, const char **why)
{
    if (!*v) {
        *why = "empty path";
        return -EINVAL;
    }
    cfg->store.root = v;
    return 0;
}

static int set_listen(struct collector_config *cfg, const char *v, const char **why)
{
    if (cfg->nlisten == COLLECTOR_MAX_LISTENERS) {
        *why = "too many listeners (32 at most)";
        return -EINVAL;
    }
    int r = listen_url_parse(v, &cfg->listen[cfg->nlisten], why);
    if (r == 0)
        cfg->nlisten++;
    return r;
}

static int set_user(struct collector_config *cfg, const char *v, const char **why)
{
    (void)why;
    cfg->user = *v ? v : NULL;
    return 0;
}

static int set_group(struct collector_config *cfg, const char *v, const char **why)
{
    struct group *g = getgrnam(v);
    if (!g) {
        *why = "no such group";
        return -EINVAL;
    }
    cfg->store.group = g->gr_gid;
    return 0;
}

static int set_host_from(struct collector_config *cfg, const char *v, const char **why)
{
    if (!strcmp(v, "peer"))
        cfg->host_from = HOST_FROM_PEER;
    else if (!strcmp(v, "claimed"))
        cfg->host_from = HOST_FROM_CLAIMED;
    else {
        *why = "expected peer or claimed";
        return -EINVAL;
    }
    return 0;
}

static int set_max_conns(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 1, 60000, &n, why);
    if (r == 0)
        cfg->max_conns = (size_t)n;
    return r;
}

static int set_fsync(struct collector_config *cfg, const char *v, const char **why)
{
    cfg->sync_acked_only = false;
    if (!strcmp(v, "none"))
        cfg->store.fsync = STORE_FSYNC_NONE;
    else if (!strcmp(v, "ack")) {
        cfg->store.fsync = STORE_FSYNC_BATCH;
        cfg->sync_acked_only = true;
    } else if (!strcmp(v, "batch"))
        cfg->store.fsync = STORE_FSYNC_BATCH;
    else if (!strcmp(v, "every"))
        cfg->store.fsync = STORE_FSYNC_EVERY;
    else {
        *why = "expected ack, batch, every or none";
        return -EINVAL;
    }
    return 0;
}

static int set_audit_regroup(struct collector_config *cfg, const char *v, const char **why)
{
    if (strcmp(v, "on") && strcmp(v, "off")) {
        *why = "expected on or off";
        return -EINVAL;
    }
    cfg->audit_regroup = !strcmp(v, "on");
    return 0;
}

static int set_audit_idle_ms(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, REGROUP_IDLE_MS_MIN, REGROUP_IDLE_MS_MAX, &n, why);
    if (r == 0)
        cfg->audit_idle_ms = (unsigned)n;
    return r;
}

static int set_max_log_file(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 0, 1 << 20, &n, why);
    if (r == 0)
        cfg->store.max_file_bytes = (uint64_t)n * MB;
    return r;
}

static int set_num_logs(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 1, STORE_NUM_LOGS_MAX, &n, why);
    if (r == 0)
        cfg->store.num_logs = (unsigned)n;
    return r;
}

static int set_template(struct collector_config *cfg, const char *v, const char **why)
{
    if (strlen(v) >= STORE_TEMPLATE_MAX) {
        *why = "template too long";
        return -EINVAL;
    }
    cfg->store.path_template = v;
    return 0;
}

static int set_max_open_files(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 16, STORE_OPEN_FILES_MAX, &n, why);
    if (r == 0)
        cfg->store.max_open_files = (unsigned)n;
    return r;
}

static int set_max_age(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 0, 36600, &n, why);
    if (r == 0)
        cfg->store.max_age_seconds = (uint64_t)n * 86400;
    return r;
}

static int set_max_total(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 0, 1LL << 30, &n, why);
    if (r == 0)
        cfg->store.max_total_bytes = (uint64_t)n * MB;
    return r;
}

/* auditd's form: megabytes, or a percentage of the file system with '%'. */
static int space(const char *v, uint64_t *bytes, unsigned *percent, const char **why)
{
    size_t n = strlen(v);
    char num[32];
    bool pct = n && v[n - 1] == '%';
    if (n - pct >= sizeof(num)) {
        *why = "expected MB or N%";
        return -EINVAL;
    }
    memcpy(num, v, n - pct);
    num[n - pct] = 0;
    long long x;
    int r = number(num, 0, pct ? 99 : 1LL << 30, &x, why);
    if (r < 0)
        return r;
    *bytes = pct ? 0 : (uint64_t)x * MB;
    *percent = pct ? (unsigned)x : 0;
    return 0;
}

static int set_space_left(struct collector_config *cfg, const char *v, const char **why)
{
    return space(v, &cfg->store.space_left_bytes, &cfg->store.space_left_percent, why);
}

static int set_admin_space_left(struct collector_config *cfg, const char *v, const char **why)
{
    return space(v, &cfg->store.admin_space_left_bytes, &cfg->store.admin_space_left_percent, why);
}

static int set_compress(struct collector_config *cfg, const char *v, const char **why)
{
    long long level = 3; /* zstd's own default: 86 MB/s, 7x on syslog here */
    if (!strcmp(v, "none")) {
        cfg->store.compress_level = 0;
        return 0;
    }
    if (strncmp(v, "zstd", 4) || (v[4] && v[4] != ':') ||
        (v[4] == ':' && number(v + 5, 1, 19, &level, why) < 0)) {
        *why = "expected none, zstd or zstd:LEVEL (1..19)";
        return -EINVAL;
    }
    cfg->store.compress_level = (int)level;
    return 0;
}

static int set_seal(struct collector_config *cfg, const char *v, const char **why)
{
    if (strcmp(v, "on") && strcmp(v, "off")) {
        *why = "expected on or off";
        return -EINVAL;
    }
    cfg->store.seal = v[1] == 'n';
    return 0;
}

static int set_append_only(struct collector_config *cfg, const char *v, const char **why)
{
    if (strcmp(v, "on") && strcmp(v, "off")) {
        *why = "expected on or off";
        return -EINVAL;
    }
    cfg->store.append_only = v[1] == 'n';
    return 0;
}

static int set_seal_interval(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 1, 3600, &n, why);
    if (r == 0)
        cfg->store.seal_interval = (unsigned)n;
    return r;
}

static int set_seal_records(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 1, 1LL << 40, &n, why);
    if (r == 0)
        cfg->store.seal_records = (uint64_t)n;
    return r;
}

static int set_seal_idle(struct collector_config *cfg, const char *v, const char **why)
{
    long long n;
    int r = number(v, 1, 86400, &n, why);
    if (r == 0)
        cfg->store.seal_idle = (unsigned)n;
    return r;
}

#define STRING_SETTER(field)                                                                       \
    static int set_##field(struct collector_config *cfg, const char *v, const char **why)          \
    {                                                                                              \
        (void)why;                                                                                 \
        cfg->field = *v ? v : NULL;                                                                \
        return 0;                                                                                  \
    }
STRING_SETTER(tls_cert)
STRING_SETTER(tls_key)
STRING_SETTER(tls_ca)
STRING_SETTER(ready_file)

static const struct setting settings[] = {
    {"store", set_store, "DIR", "store root (created 0750 if absent); required"},
    {"listen", set_listen, "URL",
     "a listener (repeat): udp:// tcp:// tls:// relp:// relp+tls:// audit://"},
    {"user", set_user, "NAME", "drop to this user after binding (recommended when run as root)"},
    {"group", set_group, "NAME", "group of every directory and file created (e.g. adm)"},
    {"host_from", set_host_from, "peer|claimed",
     "file messages under the peer's address (default) or the name they claim (spoofable)"},
    {"max_conns", set_max_conns, "N", "most stream connections at once (default 1024)"},
    {"fsync", set_fsync, "ack|batch|every|none",
     "ack (default): fdatasync before each acknowledgement, covering all written; batch: at every "
     "200 ms flush too; every: each line; none: never"},
    {"audit_regroup", set_audit_regroup, "on|off",
     "audit:// records written to audit.log event by event, through a spool (default on)"},
    {"audit_idle_ms", set_audit_idle_ms, "MS",
     "an open audit event with no record for this long is closed, within twice it (default 1000; "
     "100..60000)"},
    {"max_log_file", set_max_log_file, "MB",
     "rotate a file before it passes this size, as auditd (default 8; 0 never)"},
    {"num_logs", set_num_logs, "N",
     "files kept per name including the active one, as auditd (default 5)"},
    {"path_template", set_template, "TEMPLATE",
     "file below the root: %h host, %p program (default %h/%p.log)"},
    {"max_age", set_max_age, "DAYS", "delete rotated files older than this (default 0: keep)"},
    {"max_total_size", set_max_total, "MB",
     "delete the oldest rotated files while the store is larger (0: no bound)"},
    {"space_left", set_space_left, "MB|N%",
     "below this free space: warn once, DISKLOW to audisp-remote"},
    {"admin_space_left", set_admin_space_left, "MB|N%",
     "below this: refuse (not acked, DISKFULL), resume when freed"},
    {"compress", set_compress, "none|zstd[:N]",
     "compress rotated files with zstd (level N, default 3)"},
    {"seal", set_seal, "on|off",
     "seal every stored file (hash chain, forward-secure key in <store>/.logward-key from "
     "'logward keygen'); default off"},
    {"append_only", set_append_only, "on|off",
     "chattr +a on active files, cleared only to rotate (keeps CAP_LINUX_IMMUTABLE); default off"},
    {"seal_interval", set_seal_interval, "SECONDS",
     "seconds between seal rounds: records may stay unsealed this long (default 10)"},
    {"seal_records", set_seal_records, "N", "or a round after N stored lines (default 10000)"},
    {"seal_idle", set_seal_idle, "SECONDS",
     "an idle open file is sealed again this often, so a cut tail shows (default 300)"},
    {"max_open_files", set_max_open_files, "N", "store files kept open at once (default 1024)"},
    {"tls_cert", set_tls_cert, "FILE", "the server's certificate chain, PEM (tls://, relp+tls://)"},
    {"tls_key", set_tls_key, "FILE", "the server's private key, PEM"},
    {"tls_ca", set_tls_ca, "FILE",
     "CA that signs clients: given, a client certificate is required"},
    {"ready_file", set_ready_file, "FILE", "write \"SCHEME PORT\" lines there once listening"},
};

void config_init(struct collector_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    store_config_init(&cfg->store);
    cfg->store.max_file_bytes = 8 * MB; /* auditd's max_log_file default */
    cfg->store.num_logs = 5;
    cfg->max_conns = COLLECTOR_DEFAULT_MAX_CONNS;
    cfg->host_from = HOST_FROM_PEER;
    cfg->sync_acked_only = true; /* fsync = ack */
    cfg->audit_regroup = true;
    cfg->audit_idle_ms = REGROUP_IDLE_MS_DEFAULT;
}

static const struct setting *find(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (strlen(settings[i].key) == len && !memcmp(settings[i].key, key, len))
            return &settings[i];
    return NULL;
}

bool config_has_key(const char *key)
{
    return find(key, strlen(key)) != NULL;
}

int config_set(struct collector_config *cfg, const char *key, const char *value, const char **why)
{
    const struct setting *s = find(key, strlen(key));
    if (!s) {
        *why = "unknown setting";
        return -ENOENT;
    }
    return s->set(cfg, value, why);
}

static int set_pair(void *cfg, const char *key, const char *value, const char **why)
{
    return config_set(cfg, key, value, why);
}

int config_load(struct collector_config *cfg, const char *path, char *err, size_t cap)
{
    char *text = NULL;
    int r = conf_file_read(path, &text, err, cap);
    if (r < 0)
        return r;
    free(cfg->text);
    cfg->text = text;
    cfg->config_path = path;
    return conf_file_parse(text, path, set_pair, cfg, err, cap);
}

int config_check(const struct collector_config *cfg, char *err, size_t cap)
{
    if (!cfg->store.root) {
        snprintf(err, cap, "no store: set 'store' (or --store DIR)");
        return -EINVAL;
    }
    if (cfg->nlisten == 0) {
        snprintf(err, cap, "no listener: set 'listen' (or --listen URL) at least once");
        return -EINVAL;
    }
    if (cfg->user && !getpwnam(cfg->user)) {
        snprintf(err, cap, "user %s: no such user", cfg->user);
        return -EINVAL;
    }
    const char *files[] = {cfg->tls_cert, cfg->tls_key, cfg->tls_ca};
    for (size_t i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) < 0) {
            snprintf(err, cap, "%s: %s", files[i], strerror(errno));
            return -EINVAL;
        }
    for (size_t i = 0; i < cfg->nlisten; i++) {
        enum listen_scheme sc = cfg->listen[i].scheme;
        if ((sc == LISTEN_TLS || sc == LISTEN_RELP_TLS || sc == LISTEN_AGENT_TLS) &&
            (!cfg->tls_cert || !cfg->tls_key)) {
            snprintf(err, cap, "%s:// needs tls_cert and tls_key (--tls-cert, --tls-key)",
                     listen_scheme_name(sc));
            return -EINVAL;
        }
        if (sc == LISTEN_AGENT_TLS && !cfg->tls_ca) {
            snprintf(err, cap,
                     "agent+tls:// needs tls_ca (--tls-ca): agents are authenticated "
                     "by their client certificates");
            return -EINVAL;
        }
        for (size_t j = 0; j < i && cfg->listen[i].port; j++)
            if (cfg->listen[j].addr_len == cfg->listen[i].addr_len &&
                !memcmp(&cfg->listen[j].addr, &cfg->listen[i].addr, cfg->listen[i].addr_len) &&
                (cfg->listen[j].scheme == LISTEN_UDP) == (sc == LISTEN_UDP)) {
                snprintf(err, cap, "two listeners on one address and port (%s:// and %s://)",
                         listen_scheme_name(cfg->listen[j].scheme), listen_scheme_name(sc));
                return -EINVAL;
            }
    }
    return 0;
}

void config_free(struct collector_config *cfg)
{
    free(cfg->text);
    cfg->text = NULL;
}

/* "  key ARG", then the help wrapped at 78 columns under it. */
void config_print_keys(FILE *f)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        fprintf(f, "  %s %s\n", settings[i].key, settings[i].arg);
        const char *p = settings[i].help;
        while (*p) {
            size_t n = strlen(p);
            if (n > 70) {
                n = 70;
                while (n > 0 && p[n] != ' ')
                    n--;
                if (n == 0)
                    n = 70;
            }
            fprintf(f, "        %.*s\n", (int)n, p);
            p += n;
            while (*p == ' ')
                p++;
        }
    }
}
