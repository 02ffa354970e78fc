#!/usr/bin/env python3
"""Crashes at chosen points of the store's work, not at random times.

logwardd (seal = on, 1 MB files, 3 kept: it rotates, retires and seals
all the time) runs under strace, which kills it (SIGKILL) right before
the N-th call of one system call: a rename (rotation, sidecar, manifest),
an unlink (retention), an fdatasync or fsync (data, sidecars, manifest,
directories), a pwrite (the key file), a writev (the lines), an openat
(new files). Three claimed hosts send syslog over tcp:// until it dies. From a copy of one sealed store,
for every point (and again, at fewer points, with compress = zstd, and
with retention by total size too):
  - `logward verify --key K` exits 0: files OK or an unsealed tail,
    nothing tampered, no error;
  - after a clean restart (whose start-up walk seals what the crash left)
    and a stop, and once every promised seal is overdue, every file is OK.
Most points must be reached (the kill happened), or the test says so: a
point never reached proves nothing. Skipped where strace is absent or
cannot trace (ptrace denied).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import LOGWARD, LOGWARDD, check, kill_started, seal_verify, start_logwardd, summary
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


def strace_works():
    if not shutil.which("strace"):
        return "strace is not installed (apt-get install strace)"
    r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True)
    return None if r.returncode == 0 else "strace cannot trace here: " + r.stderr.decode()[:200]


def crash_at(conf, ready, call, n, sent_from):
    """logwardd under strace until the injected kill (or 8 s of lines);
    True if the kill happened."""
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + call,
                          "-e", f"inject={call}:signal=KILL:when={n}", LOGWARDD, "--config", conf],
                         stderr=subprocess.DEVNULL, start_new_session=True)
    end = time.time() + 20
    while not os.path.exists(ready) and p.poll() is None and time.time() < end:
        time.sleep(0.05)
    if p.poll() is None and os.path.exists(ready):
        time.sleep(0.1)  # the ready file is written whole by now
        port = int(open(ready).read().split()[1])
        stop = threading.Event()
        t = threading.Thread(target=send, args=(port, HOSTS, 10**7, sent_from, stop))
        t.start()
        end = time.time() + 8
        while p.poll() is None and time.time() < end:
            time.sleep(0.05)
        stop.set()
        t.join()
    killed = p.poll() is not None
    try:
        os.killpg(p.pid, signal.SIGKILL)  # strace and logwardd both
    except ProcessLookupError:
        pass
    p.wait()
    time.sleep(0.1)
    return killed


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
    for k, (call, n) in enumerate(points):
        shutil.rmtree(store)
        shutil.copytree(base, store, symlinks=True)
        killed = crash_at(conf, ready, call, n, 10**6 + k * 10**5)
        reached += killed
        rc, out = seal_verify(store, key)
        bad = [f for f in out["files"] if f["status"] not in ("ok", "unsealed_tail")]
        check(f"{name}: {call} #{n}{'' if killed else ' (not reached)'}: clean or unsealed tails",
              rc == 0 and not bad, f"rc {rc} " + str(bad or out)[:1500])
        p, _ = start_logwardd(["--config", conf], ready)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        stopped = p.wait(timeout=30) == 0
        time.sleep(1.2)  # past seal_idle: a broken promise would show
        rc, out = seal_verify(store, key)
        bad = [f for f in out["files"] if f["status"] != "ok"]
        check(f"{name}: {call} #{n}: after a restart every file OK",
              stopped and rc == 0 and out["files"] and not bad,
              f"rc {rc} " + str(bad or out)[:3000])
    return reached


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
        total = len(POINTS) + len(POINTS_ZSTD) + len(POINTS_TOTAL)
        check(f"the kills happened ({reached} of {total} points reached)",
              reached >= total * 3 // 4)
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
