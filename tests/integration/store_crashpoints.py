#!/usr/bin/env python3
"""Crashes at chosen points of the store's work, not at random times.

logwardd (seal = on, 1 MB files, 3 kept: it rotates, retires and seals
all the time) runs under strace, which kills it (SIGKILL) right before
the N-th call of one system call in one thread (strace counts per
thread): a rename (rotation, sidecar, manifest), an unlink (retention),
an fdatasync or fsync (data, sidecars, manifest, directories), a pwrite
(the key file), a writev (the lines), an openat (new files). Three
claimed hosts send syslog over tcp:// until it dies. From a copy of one
sealed store, for every point (and again, at fewer points, with
compress = zstd, and with retention by total size too):
  - the kill is what ended it (exit by SIGKILL), and most points must be
    reached: a point never reached proves nothing;
  - `logward verify --key K` exits 0: files OK or an unsealed tail,
    nothing tampered, no error;
  - once every promise the crashed run's seals made is overdue, a clean
    restart (whose start-up walk seals what the crash left) and a stop
    leave every file OK; no sanitizer report in logwardd's output.
Then a write cut inside a line, for sure: under prlimit --fsize the
writev that crosses the limit stops there and SIGXFSZ kills logwardd;
the same checks, and every stored line whole (the fragment cut).
Skipped where strace is absent or cannot trace (ptrace denied).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import (LOGWARD, LOGWARDD, check, kill_started, seal_verify, start_logwardd, summary,
                     wait_for)
from store_verify import send

# renameat #1 is the start's manifest; a rotation is then 5 renames (.1 to
# .2, .1.zst to .2.zst, its sidecar, the active file to .1, its sidecar)
POINTS = [("renameat", n) for n in (2, 3, 4, 5, 6, 9, 14, 23)] + \
         [("unlinkat", n) for n in (1, 2, 4)] + \
         [("fdatasync", n) for n in (1, 2, 5, 9, 19)] + \
         [("fsync", n) for n in (1, 2, 4)] + \
         [("pwrite64", n) for n in (1, 2, 3, 7)] + \
         [("writev", n) for n in (9, 120)] + \
         [("openat", n) for n in (12, 40)]
# with compress = zstd, rotated files are compressed to a temporary file,
# synced, renamed to .K.zst, and the plain file unlinked
POINTS_ZSTD = [("renameat", n) for n in (3, 8, 17)] + \
              [("unlinkat", n) for n in (1, 3)] + \
              [("fdatasync", n) for n in (3, 11)]
# max_total_size deletes the oldest rotated file store-wide, often one just
# rotated, before the new active file's first seal
POINTS_TOTAL = [("unlinkat", n) for n in (2, 14, 15, 16, 18)]
HOSTS = ["hosta", "hostb", "hostc"]
PROMISE_WAIT = 3.2  # s: past a seal's promise (seal_idle + 2 seal_interval = 3 s)


def strace_works():
    if not shutil.which("strace"):
        return "strace is not installed (apt-get install strace)"
    r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True)
    return None if r.returncode == 0 else "strace cannot trace here: " + r.stderr.decode()[:200]


def run_until_death(cmd, ready, sent_from, log):
    """cmd (a logwardd wrapped by strace or prlimit) in its own session,
    fed lines until it dies or 8 s pass, then killed with all it started;
    returns its exit status (None if it was still running)."""
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen(cmd, stderr=log, start_new_session=True)
    end = time.time() + 20
    while not os.path.exists(ready) and p.poll() is None and time.time() < end:
        time.sleep(0.05)
    t, stop = None, threading.Event()
    if p.poll() is None and wait_for(lambda: open(ready).read().endswith("\n"), 5):
        port = int(open(ready).read().split()[1])
        t = threading.Thread(target=send, args=(port, HOSTS, 10**7, sent_from, stop))
        t.start()
        end = time.time() + 8
        while p.poll() is None and time.time() < end:
            time.sleep(0.05)
    status = p.poll()
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the wrapper and logwardd both, before the join
    except ProcessLookupError:
        pass
    p.wait()
    stop.set()
    if t:
        t.join()
    return status


def crash_at(conf, ready, call, n, sent_from, log):
    """logwardd under strace, killed right before the n-th `call`; True if
    that kill is what ended it (strace re-raises its tracee's signal)."""
    status = run_until_death(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + call,
                              "-e", f"inject={call}:signal=KILL:when={n}", LOGWARDD,
                              "--config", conf], ready, sent_from, log)
    return status in (-signal.SIGKILL, 128 + signal.SIGKILL)


def sanitizer_report(log):
    log.flush()
    text = open(log.name, errors="replace").read()
    return any(m in text for m in ("AddressSanitizer", "runtime error:", "LeakSanitizer"))


def campaign(tmp, name, extra, points):
    """One sealed store written with settings `extra`, then every point
    from a copy of it; returns how many points were reached."""
    d = os.path.join(tmp, name)
    base, store, keys = (os.path.join(d, x) for x in ("base", "store", "keys"))
    os.makedirs(keys)
    r = subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, text=True)
    check(f"{name}: keygen", r.returncode == 0, r.stderr)
    key = os.path.join(keys, "logward-verify.key")
    os.makedirs(store)
    shutil.move(os.path.join(keys, ".logward-key"), os.path.join(store, ".logward-key"))
    ready, conf = os.path.join(d, "ready"), os.path.join(d, "logwardd.conf")
    with open(conf, "w") as f:
        f.write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nhost_from = claimed\n"
                f"seal = on\nseal_interval = 1\nseal_idle = 1\nmax_log_file = 1\n"
                f"ready_file = {ready}\n{extra}")
    p, ports = start_logwardd(["--config", conf], ready)
    send(ports["tcp"], HOSTS, 150000)  # rotated files in every family: retirement next
    time.sleep(2.5)
    p.send_signal(signal.SIGTERM)
    check(f"{name}: the base store is written", p.wait(timeout=30) == 0)
    rc, out = seal_verify(store, key)
    check(f"{name}: the base store verifies clean", rc == 0, str(out)[:1500])
    if name == "zstd":
        zst = [f["file"] for f in out["files"] if f["file"].endswith(".zst")]
        check(f"{name}: the base store holds compressed files ({len(zst)})", len(zst) >= 6)
    shutil.copytree(store, base, symlinks=True)

    reached = 0
    log = open(os.path.join(d, "logwardd.log"), "w+")
    for k, (call, n) in enumerate(points):
        shutil.rmtree(store)
        shutil.copytree(base, store, symlinks=True)
        killed = crash_at(conf, ready, call, n, 10**6 + k * 10**5, log)
        reached += killed
        after_crash(f"{name}: {call} #{n}{'' if killed else ' (not reached)'}", store, key, conf,
                    ready, log)
    return reached


def after_crash(label, store, key, conf, ready, log):
    """The checks after one crash: verify (clean or unsealed tails); then,
    once every promise the crashed run's seals made is overdue, a clean
    restart and stop, and verify (every file OK: a promise the start's walk
    did not keep shows as missing seals); no sanitizer report meanwhile."""
    rc, out = seal_verify(store, key)
    bad = [f for f in out["files"] if f["status"] not in ("ok", "unsealed_tail")]
    check(f"{label}: clean or unsealed tails", rc == 0 and not bad,
          f"rc {rc} " + str(bad or out)[:1500])
    time.sleep(PROMISE_WAIT)
    p, _ = start_logwardd(["--config", conf], ready)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    stopped = p.wait(timeout=30) == 0
    rc, out = seal_verify(store, key)
    bad = [f for f in out["files"] if f["status"] != "ok"]
    check(f"{label}: after a restart every file OK", stopped and rc == 0 and out["files"] and
          not bad, f"rc {rc} " + str(bad or out)[:3000])
    check(f"{label}: no sanitizer report", not sanitizer_report(log))


def torn_write(tmp):
    """A write cut inside a line, made for sure: under prlimit --fsize the
    writev that crosses the limit stops there and the next write's SIGXFSZ
    kills logwardd (strace's kills come before a call, never inside one)."""
    if not shutil.which("prlimit"):
        print("     (prlimit missing: the torn write is not tried)")
        return
    d = os.path.join(tmp, "torn")
    store, keys = os.path.join(d, "store"), os.path.join(d, "keys")
    os.makedirs(keys)
    os.makedirs(store)
    subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, check=True)
    key = os.path.join(keys, "logward-verify.key")
    shutil.move(os.path.join(keys, ".logward-key"), os.path.join(store, ".logward-key"))
    ready, conf = os.path.join(d, "ready"), os.path.join(d, "logwardd.conf")
    with open(conf, "w") as f:
        f.write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nhost_from = claimed\n"
                f"seal = on\nseal_interval = 1\nseal_idle = 1\nready_file = {ready}\n")
    log = open(os.path.join(d, "logwardd.log"), "w+")
    limit = 300001
    status = run_until_death(["prlimit", f"--fsize={limit}", LOGWARDD, "--config", conf], ready,
                             10**6, log)
    torn = [os.path.join(r, f) for r, _, fs in os.walk(store) for f in fs
            if f.endswith(".log") and os.path.getsize(os.path.join(r, f)) == limit and
            open(os.path.join(r, f), "rb").read()[-1:] != b"\n"]
    check(f"torn write: killed by SIGXFSZ with a file cut inside a line ({len(torn)})",
          status in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ) and torn, f"status {status}")
    after_crash("torn write", store, key, conf, ready, log)
    whole = re.compile(rb"^\S+ host[abc] (sshd|cron)\[1\]: message \d+ padded with text to fill up"
                       rb"\tpeer=127\.0\.0\.1 via=tcp id=-$")
    broken = [l for r, _, fs in os.walk(store) for f in fs if f.endswith(".log")
              for l in open(os.path.join(r, f), "rb").read().split(b"\n")
              if l and not whole.match(l)]  # a last line without its LF counts too
    check("torn write: every stored line whole (the fragment cut)", not broken, broken[:3])


def main():
    why = strace_works()
    if why:
        print("SKIP:", why)
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-crashpoints.")
    try:
        reached = campaign(tmp, "plain", "num_logs = 3\n", POINTS)
        reached += campaign(tmp, "zstd", "num_logs = 5\ncompress = zstd:1\n", POINTS_ZSTD)
        reached += campaign(tmp, "total", "num_logs = 8\ncompress = zstd:1\nmax_total_size = 4\n",
                            POINTS_TOTAL)
        torn_write(tmp)
        total = len(POINTS) + len(POINTS_ZSTD) + len(POINTS_TOTAL)
        check(f"the kills happened ({reached} of {total} points reached)",
              reached >= total * 3 // 4)
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
