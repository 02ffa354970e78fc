#!/usr/bin/env python3
"""logwardd as a daemon: configuration file, rotation, compression,
retention, disk-space thresholds, SIGHUP, privileges.

Starts logwardd from a configuration file on loopback and checks:
  - --check-config accepts a good file and refuses bad ones with FILE:LINE
    and the reason (exit 2): unknown key, bad value, missing store, tls://
    without a certificate, two listeners on one port;
  - command-line options override the file; --listen replaces its listeners;
  - rotation per max_log_file/num_logs, rotated files compressed with zstd
    (compress = zstd) and readable by the real zstdcat, 0440, nothing lost:
    every message sent over TCP is found exactly once across the active,
    rotated and compressed files;
  - retention by total size (max_total_size) deletes the oldest rotated
    files, never the active one;
  - disk thresholds (percent of the real file system, set so that it is
    "below" them): space_left gives DISKLOW acks to audisp-remote clients
    with the records stored; admin_space_left refuses: DISKFULL, nothing
    stored, counted as refused_full, and syslog lines are not stored either;
  - SIGHUP re-reads the file (a broken file changes nothing and is logged)
    and reopens the store files;
  - run as root with user = nobody: the process runs as nobody after binding
    and the files it creates belong to nobody.
Skips (77) where zstdcat is missing (compression part only) or not root
(privilege part only).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from harness import LOGWARDD, check, kill_started, start_logwardd, summary, wait_for

MAGIC, ACK, DISKLOW, DISKFULL = 0xFF0000FE, 0x40000000, 0x50000001, 0x60000001





def start_logwardd_with(args, ready):
    return start_logwardd([*args, "--ready-file", ready], ready)

def stop(p):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=20)
    return rc, p.stderr.read().decode()


def status(store):
    r = subprocess.run([LOGWARDD, "--status", "--store", store], capture_output=True)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def managed(port, seq, rec):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(struct.pack("<IBBIHI", MAGIC, 0, 0, 0, len(rec), seq) + rec)
    hdr = s.recv(16)
    _, _, _, typ, length, rseq = struct.unpack("<IBBIHI", hdr)
    text = s.recv(length) if length else b""
    s.close()
    return typ, rseq, text


def check_config(tmp):
    def run(text, *extra):
        path = os.path.join(tmp, "c.conf")
        open(path, "w").write(text)
        return subprocess.run([LOGWARDD, "--config", path, "--check-config", *extra],
                              capture_output=True, text=True)
    good = run(f"# a comment\nstore = {tmp}/s\nlisten = tcp://127.0.0.1:5514  # trailing\n"
               "listen = udp://127.0.0.1:5514\nfsync = batch\nmax_log_file = 1\n"
               "num_logs = 3\ncompress = zstd:3\nspace_left = 10%\nadmin_space_left = 50\n")
    check("--check-config: a good file passes (exit 0)", good.returncode == 0, good.stderr)
    cases = [
        ("store = /x\nlisten = tcp://127.0.0.1:1\nbogus_key = 1\n", "c.conf:3: bogus_key = 1"),
        ("store = /x\nlisten = tcp://127.0.0.1:1\nfsync = sometimes\n", "c.conf:3: fsync"),
        ("store = /x\nlisten = tcp://127.0.0.1:1\nnum_logs = 0\n", "c.conf:3: num_logs"),
        ("store = /x\nlisten = tcpp://127.0.0.1:1\n", "c.conf:2: listen"),
        ("listen = tcp://127.0.0.1:1\n", "no store"),
        ("store = /x\n", "no listener"),
        ("store = /x\nlisten = tls://127.0.0.1:1\n", "needs tls_cert"),
        ("store = /x\nlisten = tcp://127.0.0.1:7\nlisten = audit://127.0.0.1:7\n",
         "two listeners"),
        ("store = /x\nlisten = tcp://127.0.0.1:1\ncompress = gzip\n", "c.conf:3: compress"),
        ("store = /x\nlisten = tcp://127.0.0.1:1\nno equals sign\n", "c.conf:3"),
    ]
    bad = [(want, r.returncode, r.stderr) for text, want in cases
           for r in [run(text)] if r.returncode != 2 or want not in r.stderr]
    check(f"--check-config: {len(cases)} bad files refused, exit 2, FILE:LINE and why",
          not bad, bad)
    over = run(f"store = {tmp}/s\nlisten = tcp://127.0.0.1:5514\n", "--listen",
               "udp://127.0.0.1:5599", "--fsync", "every")
    check("command line overrides the file; --listen replaces its listeners",
          over.returncode == 0 and "1 listeners" in over.stdout, over.stdout + over.stderr)
    # The example shipped in dist/, with this machine's user and test certificates.
    example = os.path.join(os.path.dirname(__file__), "../../dist/logwardd.conf")
    for name in ("cert", "key", "ca"):
        open(os.path.join(tmp, name), "w").write("x")
    shipped = subprocess.run([LOGWARDD, "--config", example, "--check-config", "--user", "root",
                              "--group", "root", "--tls-cert", os.path.join(tmp, "cert"),
                              "--tls-key", os.path.join(tmp, "key"), "--tls-ca",
                              os.path.join(tmp, "ca")], capture_output=True, text=True)
    check("dist/logwardd.conf validates", shipped.returncode == 0, shipped.stderr)
    nouser = run(f"store = {tmp}/s\nlisten = tcp://127.0.0.1:1\nuser = no-such-user-lw\n")
    check("--check-config: an unknown user is refused", nouser.returncode == 2 and
          "no-such-user-lw" in nouser.stderr, nouser.stderr)
    nofile = subprocess.run([LOGWARDD, "--config", os.path.join(tmp, "absent.conf"),
                             "--check-config"], capture_output=True, text=True)
    check("a missing configuration file: exit 2 with its name",
          nofile.returncode == 2 and "absent.conf" in nofile.stderr, nofile.stderr)


def all_lines(d, prog):
    """Every stored line of prog in d, from plain and compressed files."""
    out = []
    for f in sorted(os.listdir(d)):
        if not f.startswith(prog + ".log"):
            continue
        p = os.path.join(d, f)
        try:  # retention may delete it meanwhile
            data = (subprocess.run(["zstdcat", p], capture_output=True, check=True).stdout
                    if f.endswith(".zst") else open(p, "rb").read())
        except (FileNotFoundError, subprocess.CalledProcessError):
            continue
        out += data.split(b"\n")[:-1]
    return out


def rotation_and_compression(tmp):
    if not shutil.which("zstdcat"):
        print("SKIP part: zstdcat not installed (Debian: zstd)")
        return
    store = os.path.join(tmp, "rot")
    conf = os.path.join(tmp, "rot.conf")
    open(conf, "w").write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nmax_log_file = 1\n"
                          "num_logs = 4\ncompress = zstd\n")
    p, ports = start_logwardd_with(["--config", conf], os.path.join(tmp, "rot.ready"))
    n = 12000  # ~2.6 MB: three rotations at 1 MB
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    for i in range(n):
        s.sendall(b"<13>1 2026-12-01T10:00:00Z h app - - - msg-%06d %s\n" % (i, b"x" * 180))
    s.close()
    d = os.path.join(store, "127.0.0.1")
    # Until every line is readable: under load the last batches may still be
    # on the socket or in the collector's buffers when two .zst files exist.
    wait_for(lambda: os.path.isdir(d) and
             sum(f.endswith(".zst") for f in os.listdir(d)) >= 2 and
             len(all_lines(d, "app")) >= n, 60, 0.2)
    files = sorted(os.listdir(d))
    lines = all_lines(d, "app")
    want = [b"msg-%06d " % i for i in range(n)]
    seen = {}
    for l in lines:
        k = l[l.index(b"msg-"):l.index(b"msg-") + 11]
        seen[k] = seen.get(k, 0) + 1
    check(f"rotation + zstd: all {n} messages exactly once across {files}",
          len(lines) == n and all(seen.get(w) == 1 for w in want), (len(lines), files))
    zst = [f for f in files if f.endswith(".zst")]
    modes = {f: oct(os.stat(os.path.join(d, f)).st_mode & 0o777) for f in files}
    check("rotated files compressed (.N.zst) and 0440, active 0640",
          len(zst) >= 2 and all(modes[f] == "0o440" for f in zst) and
          modes["app.log"] == "0o640", modes)
    check("no file above num_logs - 1 and no temp file",
          all(not f.endswith(".tmp") and not f.startswith("app.log.4") for f in files), files)
    rc, err = stop(p)
    check("rotation run: exit 0", rc == 0, err)
    st = status(store)
    check("--status: stored == received", st.get("stored") == st.get("received") == n, st)


def retention(tmp):
    store = os.path.join(tmp, "ret")
    p, ports = start_logwardd_with(["--store", store, "--listen", "tcp://127.0.0.1:0", "--max-log-file", "1",
                      "--num-logs", "9", "--max-total-size", "3"], os.path.join(tmp, "ret.ready"))
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    for i in range(30000):  # ~6.5 MB into one file: 6 rotations
        s.sendall(b"<13>1 2026-12-01T10:00:00Z h app - - - r-%06d %s\n" % (i, b"y" * 180))
    s.close()
    d = os.path.join(store, "127.0.0.1")

    def total():
        return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    wait_for(lambda: os.path.isdir(d) and len(all_lines(d, "app")) > 0 and
             any(b"r-029999" in l for l in all_lines(d, "app")) and total() <= 3 << 20, 30)
    files = sorted(os.listdir(d))
    rc, err = stop(p)
    check(f"max_total_size 3 MB: oldest rotated files deleted, total {total()} bytes, "
          f"files {files}", total() <= 3 << 20 and "app.log" in files and
          not any(f.endswith((".5", ".6", ".7", ".8")) for f in files), files)
    kept = all_lines(d, "app")
    check("the newest messages are the ones kept", any(b"r-029999" in l for l in kept) and
          not any(b"r-000000" in l for l in kept))


def disk_thresholds(tmp):
    vfs = os.statvfs(tmp)
    free_pct = 100 * vfs.f_bavail / vfs.f_blocks
    if free_pct >= 98:
        print(f"SKIP part: the file system is {free_pct:.0f}% free; thresholds need < 98%")
        return
    rec = b"type=USER_CMD msg=audit(1700000000.001:11): pid=1 uid=0 msg='cmd=6C73 res=success'"
    store = os.path.join(tmp, "low")
    p, ports = start_logwardd_with(["--store", store, "--listen", "audit://127.0.0.1:0", "--listen",
                      "tcp://127.0.0.1:0", "--space-left", "99%", "--admin-space-left", "1%"],
                     os.path.join(tmp, "low.ready"))
    check("below space_left: DISKLOW with the sequence id, record stored",
          managed(ports["audit"], 5, rec) == (DISKLOW, 5, b"disk low"))
    rc, err = stop(p)
    check("the crossing logged once", err.count("space_left") + err.count("low") >= 1, err)
    stored = open(os.path.join(store, "127.0.0.1", "audit.log"), "rb").read()
    check("DISKLOW record is in the trail", stored.count(b":11): pid=1") == 1, stored)
    store = os.path.join(tmp, "full")
    p, ports = start_logwardd_with(["--store", store, "--listen", "audit://127.0.0.1:0", "--listen",
                      "tcp://127.0.0.1:0", "--space-left", "99%", "--admin-space-left", "99%"],
                     os.path.join(tmp, "full.ready"))
    reply = managed(ports["audit"], 6, rec)
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    s.sendall(b"<13>1 2026-12-01T10:00:00Z h app - - - while-full\n")
    s.close()
    time.sleep(0.5)
    rc, err = stop(p)
    check("below admin_space_left: DISKFULL, not stored", reply == (DISKFULL, 6, b"disk full") and
          not os.path.exists(os.path.join(store, "127.0.0.1", "audit.log")), reply)
    st = status(store)
    check("--status: both refusals counted as refused_full, nothing stored",
          st.get("refused_full") == 2 and st.get("stored") == 0, st)


def sighup(tmp):
    store = os.path.join(tmp, "hup")
    conf = os.path.join(tmp, "hup.conf")
    open(conf, "w").write(f"store = {store}\nlisten = tcp://127.0.0.1:0\n")
    p, ports = start_logwardd_with(["--config", conf], os.path.join(tmp, "hup.ready"))
    open(conf, "a").write("bogus = 1\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.6)
    open(conf, "w").write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nhost_from = claimed\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.6)
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    s.sendall(b"<13>1 2026-12-01T10:00:00Z claimedhost app - - - after-hup\n")
    s.close()
    wait_for(lambda: os.path.exists(os.path.join(store, "claimedhost", "app.log")), 10)
    rc, err = stop(p)
    check("SIGHUP with a broken file: logged with FILE:LINE, configuration unchanged",
          "hup.conf:3: bogus = 1" in err and "configuration unchanged" in err, err)
    check("SIGHUP with a good file: host_from applied (filed under the claimed name)",
          os.path.exists(os.path.join(store, "claimedhost", "app.log")),
          os.listdir(store))


def privileges(tmp):
    if os.geteuid() != 0:
        print("SKIP part: not root: the privilege drop needs root")
        return
    store = os.path.join(tmp, "priv")
    os.chmod(tmp, 0o755)
    p, ports = start_logwardd_with(["--store", store, "--listen", "tcp://127.0.0.1:0", "--user", "nobody"],
                     os.path.join(tmp, "priv.ready"))
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    s.sendall(b"<13>1 2026-12-01T10:00:00Z h app - - - as-nobody\n")
    s.close()
    f = os.path.join(store, "127.0.0.1", "app.log")
    wait_for(lambda: os.path.exists(f) and os.path.getsize(f) > 0, 10)
    uids = open(f"/proc/{p.pid}/status").read().split("Uid:")[1].split("\n")[0].split()
    import pwd
    nobody = pwd.getpwnam("nobody").pw_uid
    check("after binding, every uid of the process is nobody's",
          all(int(u) == nobody for u in uids), uids)
    check("files it creates belong to nobody", os.stat(f).st_uid == nobody)
    rc, err = stop(p)
    check("privilege run: exit 0", rc == 0, err)


def main():
    tmp = tempfile.mkdtemp(prefix="lw-store-")
    try:
        check_config(tmp)
        rotation_and_compression(tmp)
        retention(tmp)
        disk_thresholds(tmp)
        sighup(tmp)
        privileges(tmp)
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
