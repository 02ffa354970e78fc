#!/usr/bin/env python3
"""rules_host_check: `logward check --root DIR` on prepared trees that model a
compliant host, a host with auditd off, one with no remote logging, one with
/var/log owned by someone else, and variants (plain UDP forwarding, legacy and
RainerScript rsyslog TLS, journal-upload, audisp-remote, rules under other
keys, rules under the right keys on the wrong syscalls, no /proc). For each
the set of failing points must be exactly the expected one, every other
required point must pass, and the exit status must follow (0 / 1)."""
import json
import os
import shutil
import subprocess
import tempfile

from lwtest import abis, check, done, logward

abis()
is_root = os.geteuid() == 0
top = tempfile.mkdtemp(prefix="lw-check-")
append_only = []  # files we set +a on, to clear before removal

AUDITD_CONF = """# test auditd.conf
log_file = /var/log/audit/audit.log
log_format = ENRICHED
max_log_file = 30
max_log_file_action = ROTATE
num_logs = 5
space_left_action = email
name_format = HOSTNAME
"""
TLS_FORWARD = """# RainerScript forwarding over TLS
action(type="omfwd" target="logs.example.org" port="6514" protocol="tcp"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name")
"""


def write(root, path, text, mode=0o644):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
    os.chmod(full, mode)


def make_root(name, rules=None, forward=TLS_FORWARD, auditd_running=True, auditd_enabled=True,
              proc=True):
    root = os.path.join(top, name)
    os.makedirs(root)
    write(root, "/etc/os-release", 'ID=debian\nPRETTY_NAME="test"\n')
    write(root, "/etc/login.defs", "UID_MIN 1000\n")
    write(root, "/usr/sbin/auditd", "#!/bin/sh\n", 0o755)
    if auditd_enabled:
        wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants")
        os.makedirs(wants)
        os.symlink("/lib/systemd/system/auditd.service", os.path.join(wants, "auditd.service"))
    else:
        os.makedirs(os.path.join(root, "etc/systemd/system"))
    if proc:
        for pid, comm in ((101, "auditd"), (102, "rsyslogd"), (103, "chronyd"), (104, "bash")):
            if comm != "auditd" or auditd_running:
                write(root, "/proc/%d/comm" % pid, comm + "\n")
    if rules is None:
        code, rules, err = logward("rules", "--root", root)
        assert code == 0, err
    write(root, "/etc/audit/rules.d/99-logward.rules", rules, 0o640)
    write(root, "/etc/audit/auditd.conf", AUDITD_CONF, 0o640)
    write(root, "/etc/rsyslog.conf", "module(load=\"imuxsock\")\n*.info /var/log/syslog\n")
    if forward:
        write(root, "/etc/rsyslog.d/90-forward.conf", forward)
    write(root, "/var/log/auth.log", "", 0o640)
    write(root, "/var/log/audit/audit.log", "", 0o600)
    os.chmod(os.path.join(root, "var/log"), 0o755)
    os.chmod(os.path.join(root, "var/log/audit"), 0o750)
    auth = os.path.join(root, "var/log/auth.log")
    if subprocess.run(["chattr", "+a", auth], capture_output=True).returncode == 0:
        append_only.append(auth)
    return root


def run(root):
    code, out, err = logward("check", "--root", root, "--format", "json")
    try:
        return code, json.loads(out)
    except ValueError:
        check(False, "%s: output is not JSON (exit %d): %s %s" % (root, code, out, err))
        return code, {"checks": []}


def expect(name, root, failing, unknown=()):
    code, report = run(root)
    verdicts = {c["id"]: c for c in report["checks"]}
    got_fail = {i for i, c in verdicts.items() if c["verdict"] == "fail" and c["required"]}
    got_unknown = {i for i, c in verdicts.items() if c["verdict"] == "unknown" and c["required"]}
    ok = check(got_fail == set(failing), "%s: failing %s, want %s" % (name, sorted(got_fail), sorted(failing)))
    ok &= check(got_unknown == set(unknown), "%s: unknown %s, want %s" % (name, sorted(got_unknown), sorted(unknown)))
    for i in failing:
        if i in verdicts:
            check(verdicts[i]["fix"], "%s: %s fails without a fix" % (name, i))
    check(code == (1 if failing else 0), "%s: exit %d" % (name, code))
    if not ok:
        for c in report["checks"]:
            print("   %-8s %-28s %s" % (c["verdict"], c["id"], c["detail"][:150]))
    return verdicts


try:
    ids_expected = {"auditd.installed", "auditd.enabled", "auditd.running", "rules.immutable",
                    "auditd.log_file", "auditd.max_log_file", "auditd.num_logs",
                    "auditd.space_left_action", "auditd.log_format", "auditd.name_format",
                    "syslog.running", "forward.configured", "forward.tls", "time.sync",
                    "varlog.owner", "varlog.audit", "varlog.files", "logs.append_only"}
    compliant = make_root("compliant")
    v = expect("compliant", compliant, [] if is_root else ["varlog.owner", "varlog.audit"])
    check(ids_expected <= set(v), "missing check ids: %s" % sorted(ids_expected - set(v)))
    check(len([i for i in v if i.startswith("rules.") and i != "rules.immutable"]) == 11,
          "not one rules.* row per guideline category")
    check(v.get("logs.append_only", {}).get("verdict") == ("pass" if append_only else "unknown")
          or not append_only, "append-only verdict %s" % v.get("logs.append_only"))
    own = [] if is_root else ["varlog.owner", "varlog.audit"]
    if not is_root:
        print("note: not root: trees cannot be owned by root; ownership verdicts expected to fail")

    expect("auditd off", make_root("auditd-off", auditd_running=False, auditd_enabled=False),
           ["auditd.enabled", "auditd.running"] + own)
    expect("no remote logging", make_root("no-remote", forward=None),
           ["forward.configured", "forward.tls"] + own)
    if is_root:
        wrong = make_root("wrong-varlog")
        os.chown(os.path.join(wrong, "var/log"), 1234, 1234)
        v = expect("wrong /var/log owner", wrong, ["varlog.owner"])
        check("uid 1234" in v["varlog.owner"]["detail"], "owner not reported")
        open_dir = make_root("open-varlog")
        os.chmod(os.path.join(open_dir, "var/log"), 0o777)
        write(open_dir, "/var/log/open.log", "", 0o666)
        expect("world-writable /var/log", open_dir, ["varlog.owner", "varlog.files"])

    expect("UDP forwarding", make_root("udp", forward="*.* @logs.example.org:514\n"),
           ["forward.tls"] + own)
    expect("legacy TLS", make_root("legacy-tls", forward="$DefaultNetstreamDriver gtls\n"
                                   "$ActionSendStreamDriverMode 1\n*.* @@logs.example.org:6514\n"), own)
    expect("TCP without TLS", make_root("tcp", forward="*.* @@logs.example.org:514\n"),
           ["forward.tls"] + own)
    ju = make_root("journal-upload", forward=None)
    write(ju, "/etc/systemd/journal-upload.conf", "[Upload]\nURL=https://logs.example.org:19532\n")
    os.symlink("/lib/systemd/system/systemd-journal-upload.service",
               os.path.join(ju, "etc/systemd/system/multi-user.target.wants/systemd-journal-upload.service"))
    expect("journal-upload https", ju, own)
    ar = make_root("audisp-remote", forward=None)
    write(ar, "/etc/audit/plugins.d/au-remote.conf", "active = yes\ndirection = out\n")
    write(ar, "/etc/audit/audisp-remote.conf", "remote_server = logs.example.org\nport = 60\ntransport = TCP\n")
    expect("audisp-remote plain TCP", ar, ["forward.tls"] + own)

    # Coverage follows syscalls and paths, not keys.
    code, rules, err = logward("rules", "--auid-min", "1000")
    renamed = "\n".join(l.rsplit(" -k ", 1)[0] + " -k site" if " -k " in l else l
                        for l in rules.splitlines()) + "\n"
    expect("other keys", make_root("other-keys", rules=renamed), own)
    wrong_rules = rules.replace("-S rmdir,unlink,unlinkat,rename,renameat", "-S open")
    wrong_rules = wrong_rules.replace("-w /etc/shadow -p wa", "-w /etc/shadow -p r")
    expect("right keys, wrong syscalls", make_root("wrong-syscalls", rules=wrong_rules),
           ["rules.delete", "rules.user_modify"] + own)
    mutable = rules.replace("-e 2\n", "")
    expect("not immutable", make_root("mutable", rules=mutable), ["rules.immutable"] + own)
    expect("no /proc", make_root("no-proc", proc=False), own,
           unknown=["auditd.running", "syslog.running", "time.sync"])
    conf = make_root("bad-auditd-conf")
    write(conf, "/etc/audit/auditd.conf", AUDITD_CONF.replace("ENRICHED", "RAW")
          .replace("HOSTNAME", "NONE").replace("email", "IGNORE").replace("num_logs = 5", "num_logs = 1"))
    expect("auditd.conf RAW, NONE, IGNORE, 1 log", conf,
           ["auditd.log_format", "auditd.name_format", "auditd.space_left_action", "auditd.num_logs"] + own)

    code, out, err = logward("check", "--root", compliant)
    check(code == (0 if is_root else 1) and "summary:" in out and "VERDICT" in out, "text output: %d %s" % (code, err))
    code, out, err = logward("check", "--root", os.path.join(top, "nonexistent"))
    check(code == 2, "missing root: exit %d" % code)
    code, out, err = logward("check", "--format", "yaml")
    check(code == 2, "--format yaml: exit %d" % code)
finally:
    for f in append_only:
        subprocess.run(["chattr", "-a", f], capture_output=True)
    shutil.rmtree(top, ignore_errors=True)
done()
