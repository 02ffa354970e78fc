/*
 * host_check: the table behind `logward check`. Every point reads files
 * below the root (and, only when `live`, runs `auditctl -l` and
 * `auditctl -s`, which read the kernel's state); nothing is written,
 * started or changed. Fix commands are written for the host's package
 * manager, guessed from /etc/os-release.
 */
#include "rules/host_check.h"

#include "base/buf.h"
#include "rules/conf_kv.h"
#include "rules/host_forward.h"
#include "rules/host_fs.h"
#include "rules/host_proc.h"
#include "rules/host_service.h"
#include "rules/rule_cover.h"
#include "rules/rule_set.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define VALUE_MAX        256
#define AUDITCTL_OUT_MAX (16u << 20)

struct ctx {
    const struct host_check_options *o;
    struct host_check_report *r;
    const char *install; /* "apt-get install -y" or "dnf install -y" */
    const char *audit_pkg;
    struct buf auditd_conf;
    bool have_auditd_conf;
};

static struct host_check_item *item(struct ctx *c, const char *id, const char *title)
{
    if (c->r->n == HOST_CHECK_MAX)
        return NULL;
    struct host_check_item *it = &c->r->items[c->r->n++];
    memset(it, 0, sizeof(*it));
    snprintf(it->id, sizeof(it->id), "%s", id);
    snprintf(it->title, sizeof(it->title), "%s", title);
    return it;
}

static void verdict(struct host_check_item *it, enum host_verdict v, const char *fix,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void verdict(struct host_check_item *it, enum host_verdict v, const char *fix,
                    const char *fmt, ...)
{
    va_list ap;
    if (!it)
        return;
    it->verdict = v;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
    snprintf(it->fix, sizeof(it->fix), "%s", v == HOST_PASS || !fix ? "" : fix);
}

const char *host_check_verdict_name(enum host_verdict v)
{
    return v == HOST_PASS ? "pass" : v == HOST_FAIL ? "fail" : "unknown";
}

static void guess_distro(struct ctx *c)
{
    struct buf b;
    char id[VALUE_MAX] = "", like[VALUE_MAX] = "";
    buf_init(&b, HOST_FS_FILE_MAX);
    if (host_fs_read(c->o->root, "/etc/os-release", &b) == 0) {
        (void)conf_kv_get(b.data ? b.data : "", b.len, "ID", id, sizeof(id));
        (void)conf_kv_get(b.data ? b.data : "", b.len, "ID_LIKE", like, sizeof(like));
    }
    buf_free(&b);
    bool redhat = strstr(id, "rhel") || strstr(id, "fedora") || strstr(id, "centos") ||
                  strstr(like, "rhel") || strstr(like, "fedora");
    c->install = redhat ? "dnf install -y" : "apt-get install -y";
    c->audit_pkg = redhat ? "audit" : "auditd audispd-plugins";
}

/* ---- auditd: installed, enabled, running ---- */

static void check_auditd(struct ctx *c)
{
    static const char *const daemons[] = {"auditd", NULL};
    char fix[HOST_CHECK_TEXT], where[HOST_FS_PATH_MAX], found[32];
    struct host_check_item *it = item(c, "auditd.installed", "auditd installed");
    const char *bin = host_fs_exists(c->o->root, "/usr/sbin/auditd") ? "/usr/sbin/auditd"
                      : host_fs_exists(c->o->root, "/sbin/auditd")   ? "/sbin/auditd"
                                                                     : NULL;
    snprintf(fix, sizeof(fix), "%s %s", c->install, c->audit_pkg);
    verdict(it, bin ? HOST_PASS : HOST_FAIL, fix, "%s", bin ? bin : "no /usr/sbin/auditd");

    it = item(c, "auditd.enabled", "auditd enabled at boot");
    enum host_service_state s = host_service_state(c->o->root, "auditd", where, sizeof(where));
    verdict(it,
            s == HOST_SERVICE_ENABLED   ? HOST_PASS
            : s == HOST_SERVICE_UNKNOWN ? HOST_UNKNOWN
                                        : HOST_FAIL,
            s == HOST_SERVICE_MASKED ? "systemctl unmask auditd && systemctl enable auditd"
                                     : "systemctl enable auditd",
            "%s%s", s == HOST_SERVICE_MASKED ? "masked: " : "", where);

    it = item(c, "auditd.running", "auditd running");
    int rc = host_proc_find(c->o->root, daemons, found, sizeof(found));
    verdict(it,
            rc > 0    ? HOST_PASS
            : rc == 0 ? HOST_FAIL
                      : HOST_UNKNOWN,
            "systemctl start auditd", "%s",
            rc > 0    ? "auditd process found"
            : rc == 0 ? "no auditd process"
                      : "no /proc");
}

/* ---- audit rules: loaded (auditctl -l) or configured (rules files) ---- */

/* Runs auditctl with one option, capturing stdout. Returns 0 when it exits 0. */
static int run_auditctl(const char *option, struct buf *out)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(fds[1], STDOUT_FILENO);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execl("/sbin/auditctl", "auditctl", option, (char *)NULL);
        execl("/usr/sbin/auditctl", "auditctl", option, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char chunk[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (rc = buf_append(out, chunk, (size_t)n)) < 0)
            break;
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        return rc;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

/* The rules files augenrules would load: rules.d's .rules in order, else audit.rules. */
static int read_rules_files(struct ctx *c, struct buf *text)
{
    struct buf names;
    buf_init(&names, 0);
    int n = host_fs_list(c->o->root, "/etc/audit/rules.d", ".rules", &names);
    int files = 0;
    for (const char *s = names.data; n > 0; n--, s += strlen(s) + 1) {
        char rel[HOST_FS_PATH_MAX];
        snprintf(rel, sizeof(rel), "/etc/audit/rules.d/%s", s);
        if (host_fs_read(c->o->root, rel, text) == 0 && buf_append(text, "\n", 1) == 0)
            files++;
    }
    buf_free(&names);
    if (files) {
        snprintf(c->r->rules_source, sizeof(c->r->rules_source), "%d file(s) in /etc/audit/rules.d",
                 files);
        return 0;
    }
    if (host_fs_read(c->o->root, "/etc/audit/audit.rules", text) == 0) {
        snprintf(c->r->rules_source, sizeof(c->r->rules_source), "/etc/audit/audit.rules");
        return 0;
    }
    snprintf(c->r->rules_source, sizeof(c->r->rules_source), "no rules files");
    return -ENOENT;
}

static int load_rules(struct ctx *c, struct buf *text)
{
    if (c->o->live && run_auditctl("-l", text) == 0) {
        snprintf(c->r->rules_source, sizeof(c->r->rules_source), "auditctl -l");
        return 0;
    }
    buf_reset(text);
    return read_rules_files(c, text);
}

static bool rules_immutable(const struct rule_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct rule *r = &s->lines[i].rule;
        for (unsigned k = 0; !s->lines[i].error && k < r->n_controls; k++)
            if (rule_span_is(r->controls[k].option, "-e") &&
                rule_span_is(r->controls[k].value, "2"))
                return true;
    }
    return false;
}

static void check_immutable(struct ctx *c, const struct rule_set *s, bool from_kernel)
{
    struct host_check_item *it = item(c, "rules.immutable", "rules immutable (-e 2)");
    const char *fix = "end the rules with -e 2 (logward rules --immutable); reboot to apply";
    if (from_kernel) {
        struct buf st;
        buf_init(&st, AUDITCTL_OUT_MAX);
        if (run_auditctl("-s", &st) == 0) {
            char enabled[VALUE_MAX] = "";
            (void)conf_kv_get(st.data ? st.data : "", st.len, "enabled", enabled, sizeof(enabled));
            verdict(it, !strcmp(enabled, "2") ? HOST_PASS : HOST_FAIL, fix,
                    "auditctl -s: enabled %s", enabled[0] ? enabled : "?");
            buf_free(&st);
            return;
        }
        buf_free(&st);
    }
    bool set = rules_immutable(s);
    verdict(it, set ? HOST_PASS : HOST_FAIL, fix, "%s in %s", set ? "-e 2" : "no -e 2",
            c->r->rules_source);
}

static int check_rules(struct ctx *c)
{
    struct buf text;
    struct rule_set set = {0};
    struct rule_cover_result res[RULE_CATEGORY_COUNT];
    struct rule_cover_target t = {.host = c->o->host, .n_machines = c->o->n_machines};
    memcpy(t.machines, c->o->machines, sizeof(t.machines));
    buf_init(&text, AUDITCTL_OUT_MAX);
    int loaded = load_rules(c, &text);
    bool from_kernel = loaded == 0 && c->o->live && !strcmp(c->r->rules_source, "auditctl -l");
    int rc = rule_set_parse(&set, text.data ? text.data : "", text.len);
    bool judged = rc >= 0;
    if (judged)
        rc = rule_cover_judge(&set, &t, res);
    for (size_t i = 0; rc >= 0 && i < RULE_CATEGORY_COUNT; i++) {
        char id[48], title[96];
        const struct rule_category *cat = res[i].category;
        snprintf(id, sizeof(id), "rules.%s", cat->key);
        snprintf(title, sizeof(title), "rules: %s", cat->key);
        verdict(item(c, id, title), res[i].state == RULE_COVERED ? HOST_PASS : HOST_FAIL,
                "logward rules > /etc/audit/rules.d/99-logward.rules && augenrules --load",
                "%s in %s%s%.*s", rule_cover_state_name(res[i].state), c->r->rules_source,
                res[i].missing.len ? "; not audited: " : "", (int)res[i].missing.len,
                res[i].missing.data ? res[i].missing.data : "");
    }
    if (judged)
        rule_cover_results_free(res);
    if (rc >= 0)
        check_immutable(c, &set, from_kernel);
    rule_set_free(&set);
    buf_free(&text);
    return rc < 0 ? rc : 0;
}

/* ---- auditd.conf ---- */

#define AUDITD_CONF     "/etc/audit/auditd.conf"
#define AUDITD_CONF_FIX "set it in " AUDITD_CONF ", then: service auditd reload"

/* Looks a key up in auditd.conf; false (and a fail verdict) when it is not set. */
static bool auditd_value(struct ctx *c, struct host_check_item *it, const char *key, char *val,
                         size_t cap)
{
    if (!c->have_auditd_conf) {
        verdict(it, HOST_FAIL, "install auditd (" AUDITD_CONF " comes with it)", "no %s",
                AUDITD_CONF);
        return false;
    }
    if (conf_kv_get(c->auditd_conf.data ? c->auditd_conf.data : "", c->auditd_conf.len, key, val,
                    cap) <= 0) {
        verdict(it, HOST_FAIL, AUDITD_CONF_FIX, "%s is not set", key);
        return false;
    }
    return true;
}

static bool is_one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcasecmp(v, *set))
            return true;
    return false;
}

static void check_auditd_log(struct ctx *c)
{
    char v[VALUE_MAX], action[VALUE_MAX] = "";
    struct host_check_item *it = item(c, "auditd.log_file", "auditd.conf log_file");
    if (auditd_value(c, it, "log_file", v, sizeof(v)))
        verdict(it, !strncmp(v, "/var/log/", 9) ? HOST_PASS : HOST_FAIL,
                "set log_file = /var/log/audit/audit.log in " AUDITD_CONF, "log_file = %s", v);

    it = item(c, "auditd.max_log_file", "auditd.conf max_log_file and action");
    if (auditd_value(c, it, "max_log_file", v, sizeof(v))) {
        static const char *const keep[] = {"ROTATE", "KEEP_LOGS", NULL};
        (void)conf_kv_get(c->auditd_conf.data, c->auditd_conf.len, "max_log_file_action", action,
                          sizeof(action));
        bool ok = atoi(v) > 0 && is_one_of(action, keep);
        verdict(it, ok ? HOST_PASS : HOST_FAIL,
                "set max_log_file = 30 and max_log_file_action = ROTATE in " AUDITD_CONF,
                "max_log_file = %s MB, max_log_file_action = %s%s", v, action[0] ? action : "unset",
                ok ? "" : " (the log must be rotated or kept, not left to grow or stop)");
    }

    it = item(c, "auditd.num_logs", "auditd.conf num_logs");
    if (auditd_value(c, it, "num_logs", v, sizeof(v))) {
        bool rotate = !strcasecmp(action, "ROTATE");
        verdict(it, !rotate || atoi(v) >= 2 ? HOST_PASS : HOST_FAIL,
                "set num_logs = 5 in " AUDITD_CONF, "num_logs = %s%s", v,
                rotate && atoi(v) < 2 ? " (ROTATE keeps no old log below 2)" : "");
    }
}

static void check_auditd_policy(struct ctx *c)
{
    char v[VALUE_MAX];
    struct host_check_item *it =
        item(c, "auditd.space_left_action", "auditd.conf space_left_action");
    if (auditd_value(c, it, "space_left_action", v, sizeof(v)))
        verdict(it, strcasecmp(v, "IGNORE") ? HOST_PASS : HOST_FAIL,
                "set space_left_action = email (or syslog, exec) in " AUDITD_CONF,
                "space_left_action = %s%s", v,
                strcasecmp(v, "IGNORE") ? "" : " (nobody learns the disk is filling)");

    it = item(c, "auditd.log_format", "auditd.conf log_format for remote logging");
    if (auditd_value(c, it, "log_format", v, sizeof(v)))
        verdict(it, !strcasecmp(v, "ENRICHED") ? HOST_PASS : HOST_FAIL,
                "set log_format = ENRICHED in " AUDITD_CONF, "log_format = %s%s", v,
                strcasecmp(v, "ENRICHED")
                    ? " (ids stay numbers that only this host can resolve to names)"
                    : "");

    it = item(c, "auditd.name_format", "auditd.conf name_format for remote logging");
    if (auditd_value(c, it, "name_format", v, sizeof(v)))
        verdict(it, strcasecmp(v, "NONE") ? HOST_PASS : HOST_FAIL,
                "set name_format = HOSTNAME (or FQD) in " AUDITD_CONF, "name_format = %s%s", v,
                strcasecmp(v, "NONE") ? "" : " (records carry no node=: hosts blur remotely)");
}

/* ---- syslog daemon, forwarding, TLS ---- */

static void check_syslog(struct ctx *c)
{
    static const char *const daemons[] = {"rsyslogd", "systemd-journal", "syslog-ng", NULL};
    char found[32], fix[HOST_CHECK_TEXT];
    snprintf(fix, sizeof(fix), "%s rsyslog && systemctl enable --now rsyslog", c->install);
    int rc = host_proc_find(c->o->root, daemons, found, sizeof(found));
    verdict(item(c, "syslog.running", "journald or rsyslog running"),
            rc > 0    ? HOST_PASS
            : rc == 0 ? HOST_FAIL
                      : HOST_UNKNOWN,
            fix, "%s",
            rc > 0    ? found
            : rc == 0 ? "no rsyslogd, systemd-journald or syslog-ng"
                      : "no /proc");
}

static void check_forwarding(struct ctx *c)
{
    struct host_forwards fw;
    char list[HOST_CHECK_TEXT] = "", plain[HOST_CHECK_TEXT] = "";
    size_t tls = 0, unknown = 0;
    host_forward_scan(c->o->root, &fw);
    for (size_t i = 0; i < fw.n; i++) {
        const struct host_forward *f = &fw.f[i];
        size_t l = strlen(list), p = strlen(plain);
        snprintf(list + l, sizeof(list) - l, "%s%s to %s (%s)", l ? ", " : "", f->via, f->target,
                 f->where);
        if (f->crypto == HOST_FORWARD_TLS)
            tls++;
        else if (f->crypto == HOST_FORWARD_NOT_KNOWN)
            unknown++;
        else
            snprintf(plain + p, sizeof(plain) - p, "%s%s to %s", p ? ", " : "", f->via, f->target);
    }
    verdict(item(c, "forward.configured", "logs forwarded to a remote collector"),
            fw.n ? HOST_PASS : HOST_FAIL,
            "forward with rsyslog ('*.* @@collector:6514' with TLS, see docs/rules.md) or "
            "configure logward-agent",
            "%s",
            fw.n ? list
                 : "no rsyslog forwarding, journal-upload, audisp-remote or "
                   "logward-agent configuration");
    struct host_check_item *it = item(c, "forward.tls", "forwarding encrypted (TLS)");
    const char *fix = "rsyslog: StreamDriver=\"gtls\" StreamDriverMode=\"1\" on the omfwd action "
                      "(package rsyslog-gnutls); journal-upload: an https:// URL";
    if (!fw.n)
        verdict(it, HOST_FAIL, fix, "nothing is forwarded");
    else if (plain[0])
        verdict(it, HOST_FAIL, fix, "in plain text: %s", plain);
    else if (unknown)
        verdict(it, HOST_UNKNOWN, fix, "%zu encrypted; %zu not inspected (logward-agent)", tls,
                unknown);
    else
        verdict(it, HOST_PASS, fix, "all %zu forwarding path(s) encrypted", tls);
}

static void check_time(struct ctx *c)
{
    static const char *const daemons[] = {"chronyd",  "systemd-timesyn", "ntpd",
                                          "openntpd", "ntpd-rs",         NULL};
    char found[32], fix[HOST_CHECK_TEXT];
    snprintf(fix, sizeof(fix), "%s chrony && systemctl enable --now chrony", c->install);
    int rc = host_proc_find(c->o->root, daemons, found, sizeof(found));
    verdict(item(c, "time.sync", "time synchronised (chrony, timesyncd or ntpd)"),
            rc > 0    ? HOST_PASS
            : rc == 0 ? HOST_FAIL
                      : HOST_UNKNOWN,
            fix, "%s",
            rc > 0    ? found
            : rc == 0 ? "no chronyd, systemd-timesyncd or ntpd running"
                      : "no /proc");
}

/* ---- /var/log ownership, modes, append-only ---- */

static void check_dir(struct ctx *c, const char *id, const char *title, const char *path,
                      unsigned forbidden_mode, const char *fix)
{
    struct stat st;
    struct host_check_item *it = item(c, id, title);
    if (host_fs_stat(c->o->root, path, &st, true) < 0) {
        verdict(it, HOST_UNKNOWN, fix, "%s: not present", path);
        return;
    }
    bool ok = st.st_uid == 0 && !(st.st_mode & forbidden_mode);
    verdict(it, ok ? HOST_PASS : HOST_FAIL, fix, "%s: owner uid %u, group gid %u, mode %04o%s",
            path, (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777),
            st.st_uid                       ? " (not root)"
            : (st.st_mode & forbidden_mode) ? " (too open)"
                                            : "");
}

/* Log files anyone may write to, in /var/log and /var/log/audit. */
static void check_world_writable(struct ctx *c)
{
    static const char *const dirs[] = {"/var/log", "/var/log/audit"};
    char bad[HOST_CHECK_TEXT] = "";
    size_t count = 0;
    for (size_t d = 0; d < 2; d++) {
        struct buf names;
        buf_init(&names, 0);
        int n = host_fs_list(c->o->root, dirs[d], "", &names);
        for (const char *s = names.data; n > 0; n--, s += strlen(s) + 1) {
            char rel[HOST_FS_PATH_MAX];
            struct stat st;
            snprintf(rel, sizeof(rel), "%s/%s", dirs[d], s);
            if (host_fs_stat(c->o->root, rel, &st, false) < 0 || !S_ISREG(st.st_mode) ||
                !(st.st_mode & S_IWOTH))
                continue;
            size_t l = strlen(bad);
            if (count++ < 5)
                snprintf(bad + l, sizeof(bad) - l, "%s%.200s", l ? ", " : "", rel);
        }
        buf_free(&names);
    }
    struct host_check_item *it = item(c, "varlog.files", "no world-writable log files");
    if (count)
        verdict(it, HOST_FAIL, "chmod o-w on each file named", "%zu world-writable: %s", count,
                bad);
    else
        verdict(it, HOST_PASS, NULL, "no file in /var/log or /var/log/audit is");
}

static void check_append_only(struct ctx *c)
{
    static const char *const logs[] = {"/var/log/audit/audit.log", "/var/log/auth.log",
                                       "/var/log/secure", "/var/log/syslog", "/var/log/messages"};
    char set[HOST_CHECK_TEXT] = "", unset[HOST_CHECK_TEXT] = "";
    int asked = 0, with = 0;
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char full[HOST_FS_PATH_MAX];
        int flags = 0;
        if (host_fs_path(c->o->root, logs[i], full, sizeof(full)) < 0)
            continue;
        int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        int rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
        close(fd);
        if (rc < 0)
            continue;
        asked++;
        char *dst = (flags & FS_APPEND_FL) ? set : unset;
        size_t l = strlen(dst);
        snprintf(dst + l, HOST_CHECK_TEXT - l, "%s%s", l ? ", " : "", logs[i]);
        with += (flags & FS_APPEND_FL) != 0;
    }
    struct host_check_item *it = item(c, "logs.append_only", "append-only attribute on logs");
    if (it)
        it->advisory = true;
    const char *fix = "chattr +a on the logs named (logrotate then needs chattr -a/+a around "
                      "rotation)";
    if (!asked)
        verdict(it, HOST_UNKNOWN, fix, "no log file whose attributes could be read");
    else if (with)
        verdict(it, HOST_PASS, fix, "set on %s%s%s", set, unset[0] ? "; not on " : "", unset);
    else
        verdict(it, HOST_FAIL, fix, "not set on %s", unset);
}

int host_check_run(const struct host_check_options *o, struct host_check_report *r)
{
    struct ctx c = {.o = o, .r = r};
    memset(r, 0, sizeof(*r));
    guess_distro(&c);
    buf_init(&c.auditd_conf, HOST_FS_FILE_MAX);
    c.have_auditd_conf = host_fs_read(o->root, AUDITD_CONF, &c.auditd_conf) == 0;
    check_auditd(&c);
    int rc = check_rules(&c);
    if (rc >= 0) {
        check_auditd_log(&c);
        check_auditd_policy(&c);
        check_syslog(&c);
        check_forwarding(&c);
        check_time(&c);
        check_dir(&c, "varlog.owner", "/var/log owned by root, not world-writable", "/var/log",
                  S_IWOTH, "chown root /var/log && chmod o-w /var/log");
        check_dir(&c, "varlog.audit", "/var/log/audit owned by root, closed to others",
                  "/var/log/audit", S_IRWXO,
                  "chown root /var/log/audit && chmod 0750 /var/log/audit");
        check_world_writable(&c);
        check_append_only(&c);
    }
    buf_free(&c.auditd_conf);
    return rc;
}
