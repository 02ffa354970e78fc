"""Helpers shared by the integration scenarios: where the built programs
are, ok/FAIL lines with counters, bounded waiting, reading a store back.
A scenario prints `ok NAME` or `FAIL NAME detail` per check and ends with
`sys.exit(harness.summary())`; exit 77 means skipped (SKIP_RETURN_CODE)."""
import os
import shutil
import subprocess
import sys
import time

BIN = os.environ.get("LW_BIN", "build/release/src")
LOGWARDD = os.path.join(BIN, "logwardd")
LOGWARD = os.path.join(BIN, "logward")
DATA = os.environ.get("LW_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """One verdict; the detail (cut to 2000 characters) only on failure."""
    if cond:
        counts["passed"] += 1
        print(f"ok   {name}")
    else:
        counts["failed"] += 1
        print(f"FAIL {name} {str(detail)[:2000]}")
    sys.stdout.flush()  # in order with the output of the peers a test starts
    return cond


def summary():
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def wait_for(pred, timeout=15.0, step=0.05):
    """Polls pred every step seconds until true or timeout; returns its last answer."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read_tree(root):
    """Every stored line, by path relative to root, leaving out the store's
    version file and the collector's status file."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.startswith(".logwardd") or (d == root and f == ".logward-store"):
                continue
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read().split(b"\n")[:-1]
    return out


AGENT = os.path.join(BIN, "logward-agent")


def agent_status(state):
    """`logward-agent --status --state STATE` as a dict ({} when it has none)."""
    import json
    import subprocess
    r = subprocess.run([AGENT, "--status", "--state", state], capture_output=True, text=True)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


def audisp_missing(audit_dir):
    """Why a test that runs audisp-remote in a mount namespace on the shared
    audit samples cannot run here, or None."""
    for tool in ("audisp-remote", "unshare", "ausearch"):
        if not shutil.which(tool) and not os.path.exists(f"/sbin/{tool}"):
            return f"{tool} not installed (Debian: audispd-plugins, util-linux, auditd)"
    if not os.path.isdir(audit_dir):
        return f"shared audit samples not found at {audit_dir}"
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        return "cannot create a mount namespace here (unshare -m)"
    return None


def stored_lines(store):
    """Every stored line by path relative to the store, leaving out hidden
    files and directories (.agents, .spool, sidecars, status, version)."""
    out = {}
    for d, dirs, files in os.walk(store):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if not f.startswith("."):
                p = os.path.join(d, f)
                out[os.path.relpath(p, store)] = open(p, "rb").read().split(b"\n")[:-1]
    return out


def openssl(*args, cwd):
    import subprocess
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    """A self-signed CA: d/NAME.pem and d/NAME.key."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=d)


def make_cert(d, ca, name, cn, san=None):
    """d/NAME.pem and .key signed by CA, subject CN=cn, SAN san (e.g. DNS:x)."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout",
            f"{name}.key", "-out", f"{name}.csr", cwd=d)
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        if san:
            f.write(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.pem", cwd=d)


def seal_verify(path, key):
    """`logward verify --key key --format json path`: (exit code, its JSON;
    or {"files": [], "raw": what it printed} when that is not JSON)."""
    import json
    import subprocess
    r = subprocess.run([LOGWARD, "verify", "--key", key, "--format", "json", path],
                       capture_output=True, text=True)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"files": [], "raw": (r.stdout + r.stderr)[:1500]}


started = []  # every logwardd start_logwardd started: scenarios stop them in their finally


def kill_started():
    """For a scenario's finally: kills (and reaps) every logwardd that
    start_logwardd started and that still runs."""
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def start_logwardd(args, ready, timeout=15):
    """Starts logwardd with args (which name `ready` as its ready file) and
    waits until it has written it whole; returns (process, {scheme: port})."""
    import subprocess
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([LOGWARDD, *args], stderr=subprocess.PIPE)
    started.append(p)
    if not wait_for(lambda: os.path.exists(ready) or p.poll() is not None, timeout) or p.poll():
        p.kill()
        raise RuntimeError("logwardd did not start: " + p.stderr.read().decode())
    wait_for(lambda: open(ready).read().endswith("\n"), 5)
    return p, {l.split()[0]: int(l.split()[1]) for l in open(ready).read().splitlines()}
