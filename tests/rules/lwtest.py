"""Helpers shared by the rules test scripts: where the binaries are, running
logward and rule_dump, libaudit's syscall tables through ausyscall, and the
skip convention (exit 77 with a message, registered as SKIP_RETURN_CODE)."""
import json
import os
import platform
import shutil
import subprocess
import sys

GUIDELINE_KEYS = [
    "command_log", "actions", "delete", "user_modify", "logins", "audit_time_rules",
    "audit_network_modifications", "perm_mod", "session", "access", "modules",
]

# The ABIs auditctl means by b64 and b32 on each machine (as ausyscall names them).
ABIS = {"x86_64": ("x86_64", "i386"), "aarch64": ("aarch64", "arm"),
        "ppc64le": ("ppc64le", "ppc"), "s390x": ("s390x", "s390")}

failures = 0


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def done():
    if failures:
        print("%d failure(s)" % failures)
        sys.exit(1)
    print("ok")
    sys.exit(0)


def logward_path():
    b = os.environ.get("LW_BIN")
    if not b:
        skip("LW_BIN is not set (run through ctest)")
    return os.path.join(b, "logward")


def src_path(*parts):
    return os.path.join(os.environ.get("LW_SRC", os.path.join(os.path.dirname(__file__), "../..")), *parts)


def logward(*args, stdin=None):
    p = subprocess.run([logward_path()] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def dump_lines(text):
    """Our parser's view of each line of text, as dicts (see rule_dump.c)."""
    tool = os.environ.get("LW_RULE_DUMP")
    if not tool:
        skip("LW_RULE_DUMP is not set (run through ctest)")
    p = subprocess.run([tool], input=text, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail("rule_dump exited %d: %s" % (p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def field(rule, name):
    for f in rule["fields"]:
        if f[0] == name:
            return f
    return None


def machine():
    m = platform.machine()
    return m


def abis():
    """(b64 machine, b32 machine) for this host, per ausyscall's names."""
    m = machine()
    if m not in ABIS:
        skip("no b64/b32 mapping for machine %s in this test" % m)
    return ABIS[m]


_tables = {}


def syscalls_of(abi):
    """The syscall names of an ABI, from the real ausyscall (auditd package)."""
    if abi in _tables:
        return _tables[abi]
    if not shutil.which("ausyscall"):
        skip("ausyscall not installed (Debian package auditd)")
    p = subprocess.run(["ausyscall", abi, "--dump"], capture_output=True, text=True, timeout=30)
    names = set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            names.add(parts[1])
    if p.returncode != 0 or len(names) < 100:
        skip("ausyscall %s --dump gave %d names" % (abi, len(names)))
    _tables[abi] = names
    return names
