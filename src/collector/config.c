/*
 * config: the table of logwardd's settings and the file reader. Every
 * setting is one row of a conf_key table (base/conf_key.h: kind, field,
 * bounds, the reason for a refusal), the few special ones with a setter of
 * their own; the command line (main.c) and the file both go through
 * config_set, so an option means the same in both and is refused for the
 * same reasons. Values keep no copies: strings point into the file's text
 * (kept in cfg->text) or into argv.
 */
#include "base/conf_key.h"
#include "collector/config.h"
#include "collector/regroup.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MB            ((uint64_t)1 << 20)
#define FIELD(member) CONF_KEY_FIELD(struct collector_config, member)

static int set_listen(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
    if (cfg->nlisten == COLLECTOR_MAX_LISTENERS) {
        *why = "too many listeners (32 at most)";
        return -EINVAL;
    }
    int r = listen_url_parse(v, &cfg->listen[cfg->nlisten], why);
    if (r == 0)
        cfg->nlisten++;
    return r;
}

static int set_group(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
    struct group *g = getgrnam(v);
    if (!g) {
        *why = "no such group";
        return -EINVAL;
    }
    cfg->store.group = g->gr_gid;
    return 0;
}

static int set_fsync(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
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

/* auditd's form: megabytes, or a percentage of the file system with '%'. */
static int space(const char *v, uint64_t *bytes, unsigned *percent, const char **why)
{
    size_t n = strlen(v);
    char num[CONF_KEY_DIGITS_MAX];
    bool pct = n && v[n - 1] == '%';
    if (n - pct >= sizeof(num)) {
        *why = "expected MB or N%";
        return -EINVAL;
    }
    memcpy(num, v, n - pct);
    num[n - pct] = 0;
    uint64_t x;
    int r = conf_key_number(num, 0, pct ? 99 : 1ULL << 30, &x, why);
    if (r < 0)
        return r;
    *bytes = pct ? 0 : x * MB;
    *percent = pct ? (unsigned)x : 0;
    return 0;
}

static int set_space_left(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
    return space(v, &cfg->store.space_left_bytes, &cfg->store.space_left_percent, why);
}

static int set_admin_space_left(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
    return space(v, &cfg->store.admin_space_left_bytes, &cfg->store.admin_space_left_percent, why);
}

static int set_compress(void *arg, const char *v, const char **why)
{
    struct collector_config *cfg = arg;
    uint64_t level = 3; /* zstd's own default: 86 MB/s, 7x on syslog here */
    if (!strcmp(v, "none")) {
        cfg->store.compress_level = 0;
        return 0;
    }
    if (strncmp(v, "zstd", 4) || (v[4] && v[4] != ':') ||
        (v[4] == ':' && conf_key_number(v + 5, 1, 19, &level, why) < 0)) {
        *why = "expected none, zstd or zstd:LEVEL (1..19)";
        return -EINVAL;
    }
    cfg->store.compress_level = (int)level;
    return 0;
}

static const struct conf_key_word host_from_words[] = {
    {"peer", HOST_FROM_PEER}, {"claimed", HOST_FROM_CLAIMED}, {NULL, 0}};

static const struct conf_key settings[] = {
    {"store", CONF_KEY_STRING, FIELD(store.root), .min = 1, .why = "empty path", .arg = "DIR",
     .help = "store root (created 0750 if absent); required"},
    {"listen", CONF_KEY_CUSTOM, .custom = set_listen, .arg = "URL",
     .help = "a listener (repeat): udp:// tcp:// tls:// relp:// relp+tls:// audit://"},
    {"user", CONF_KEY_STRING, FIELD(user), .flags = CONF_KEY_EMPTY_NULL, .arg = "NAME",
     .help = "drop to this user after binding (recommended when run as root)"},
    {"group", CONF_KEY_CUSTOM, .custom = set_group, .arg = "NAME",
     .help = "group of every directory and file created (e.g. adm)"},
    {"host_from", CONF_KEY_CHOICE, FIELD(host_from), .words = host_from_words,
     .why = "expected peer or claimed", .arg = "peer|claimed",
     .help = "file messages under the peer's address (default) or the name they claim "
             "(spoofable)"},
    {"max_conns", CONF_KEY_NUMBER, FIELD(max_conns), .min = 1, .max = 60000, .arg = "N",
     .help = "most stream connections at once (default 1024)"},
    {"fsync", CONF_KEY_CUSTOM, .custom = set_fsync, .arg = "ack|batch|every|none",
     .help = "ack (default): fdatasync before each acknowledgement, covering all written; batch: "
             "at every 200 ms flush too; every: each line; none: never"},
    {"audit_regroup", CONF_KEY_BOOL, FIELD(audit_regroup), .arg = "on|off",
     .help = "audit:// records written to audit.log event by event, through a spool (default "
             "on)"},
    {"audit_idle_ms", CONF_KEY_NUMBER, FIELD(audit_idle_ms), .min = REGROUP_IDLE_MS_MIN,
     .max = REGROUP_IDLE_MS_MAX, .arg = "MS",
     .help = "an open audit event with no record for this long is closed, within twice it "
             "(default 1000; 100..60000)"},
    {"max_log_file", CONF_KEY_NUMBER, FIELD(store.max_file_bytes), .max = 1 << 20, .unit = MB,
     .arg = "MB",
     .help = "rotate a file before it passes this size, as auditd (default 8; 0 never)"},
    {"num_logs", CONF_KEY_NUMBER, FIELD(store.num_logs), .min = 1, .max = STORE_NUM_LOGS_MAX,
     .arg = "N", .help = "files kept per name including the active one, as auditd (default 5)"},
    {"path_template", CONF_KEY_STRING, FIELD(store.path_template), .max = STORE_TEMPLATE_MAX - 1,
     .why = "template too long", .arg = "TEMPLATE",
     .help = "file below the root: %h host, %p program (default %h/%p.log)"},
    {"max_age", CONF_KEY_NUMBER, FIELD(store.max_age_seconds), .max = 36600, .unit = 86400,
     .arg = "DAYS", .help = "delete rotated files older than this (default 0: keep)"},
    {"max_total_size", CONF_KEY_NUMBER, FIELD(store.max_total_bytes), .max = 1 << 30, .unit = MB,
     .arg = "MB",
     .help = "delete the oldest rotated files while the store is larger (0: no bound)"},
    {"space_left", CONF_KEY_CUSTOM, .custom = set_space_left, .arg = "MB|N%",
     .help = "below this free space: warn once, DISKLOW to audisp-remote"},
    {"admin_space_left", CONF_KEY_CUSTOM, .custom = set_admin_space_left, .arg = "MB|N%",
     .help = "below this: refuse (not acked, DISKFULL), resume when freed"},
    {"compress", CONF_KEY_CUSTOM, .custom = set_compress, .arg = "none|zstd[:N]",
     .help = "compress rotated files with zstd (level N, default 3)"},
    {"seal", CONF_KEY_BOOL, FIELD(store.seal), .arg = "on|off",
     .help = "seal every stored file (hash chain, forward-secure key in <store>/.logward-key from "
             "'logward keygen'); default off"},
    {"append_only", CONF_KEY_BOOL, FIELD(store.append_only), .arg = "on|off",
     .help = "chattr +a on active files, cleared only to rotate (keeps CAP_LINUX_IMMUTABLE); "
             "default off"},
    {"seal_interval", CONF_KEY_NUMBER, FIELD(store.seal_interval), .min = 1, .max = 3600,
     .arg = "SECONDS",
     .help = "seconds between seal rounds: records may stay unsealed this long (default 10)"},
    {"seal_records", CONF_KEY_NUMBER, FIELD(store.seal_records), .min = 1, .max = 1ULL << 40,
     .arg = "N", .help = "or a round after N stored lines (default 10000)"},
    {"seal_idle", CONF_KEY_NUMBER, FIELD(store.seal_idle), .min = 1, .max = 86400, .arg = "SECONDS",
     .help = "an idle open file is sealed again this often, so a cut tail shows (default 300)"},
    {"max_open_files", CONF_KEY_NUMBER, FIELD(store.max_open_files), .min = 16,
     .max = STORE_OPEN_FILES_MAX, .arg = "N",
     .help = "store files kept open at once (default 1024)"},
    {"tls_cert", CONF_KEY_STRING, FIELD(tls_cert), .flags = CONF_KEY_EMPTY_NULL, .arg = "FILE",
     .help = "the server's certificate chain, PEM (tls://, relp+tls://)"},
    {"tls_key", CONF_KEY_STRING, FIELD(tls_key), .flags = CONF_KEY_EMPTY_NULL, .arg = "FILE",
     .help = "the server's private key, PEM"},
    {"tls_ca", CONF_KEY_STRING, FIELD(tls_ca), .flags = CONF_KEY_EMPTY_NULL, .arg = "FILE",
     .help = "CA that signs clients: given, a client certificate is required"},
    {"ready_file", CONF_KEY_STRING, FIELD(ready_file), .flags = CONF_KEY_EMPTY_NULL, .arg = "FILE",
     .help = "write \"SCHEME PORT\" lines there once listening"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void config_init(struct collector_config *cfg)
{
    const char *bad = NULL;
    assert(conf_key_table_check(settings, NSETTINGS, &bad) == 0);
    (void)bad;
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

bool config_has_key(const char *key)
{
    return conf_key_find(settings, NSETTINGS, key) != NULL;
}

int config_set(struct collector_config *cfg, const char *key, const char *value, const char **why)
{
    return conf_key_set(settings, NSETTINGS, cfg, key, value, why);
}

int config_load(struct collector_config *cfg, const char *path, char *err, size_t cap)
{
    cfg->config_path = path;
    return conf_key_load(settings, NSETTINGS, cfg, path, &cfg->text, err, cap);
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

void config_print_keys(FILE *f)
{
    conf_key_print(f, settings, NSETTINGS);
}

int config_options(struct conf_key_options *o, const struct option *fixed, int val)
{
    return conf_key_options_build(o, fixed, settings, NSETTINGS, val);
}
