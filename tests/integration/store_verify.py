#!/usr/bin/env python3
"""Sealing end to end: logwardd with seal = on, then `logward verify`.

Starts logwardd on loopback (TCP syslog, host_from = claimed so that three
hosts write, small files so that they rotate and retention expires the
oldest) with a key from `logward keygen`, sends lines, lets files idle so
that heartbeat seals are written, stops it, and checks:
  - the store verifies clean (exit 0, every file OK) with the verification
    key, and the collector's key file is no longer k_0;
  - each tampering, on a fresh copy of the store, is found (exit 1) in the
    right file, and for edits of lines at a line at or before the edited
    one within one seal's segment: a byte edited, a line inserted, a line
    deleted, two lines swapped, the tail cut, the tail cut with the sidecar
    rolled back to an older seal, a rotated file deleted (with and without
    its sidecar), a file replaced by another host's, two rotated files
    swapped, a sidecar record edited;
  - kill -9 while lines are being written, several times: after each crash
    the store verifies clean or with unsealed tails only, and after a
    restart (whose start-up walk seals the tails) clean again.
--format json is used throughout; the text form is checked once.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import (LOGWARD, LOGWARDD, check, kill_started, seal_verify, start_logwardd, summary,
                     wait_for)





def send(port, hosts, n, start_at=0, stop=None):
    s = socket.create_connection(("127.0.0.1", port))
    i = start_at
    try:
        while i < start_at + n and not (stop and stop.is_set()):
            h = hosts[(i // 7) % len(hosts)]
            prog = "sshd" if i % 3 else "cron"
            s.sendall(b"<13>Jan  1 00:00:00 %s %s[1]: message %d padded with text to fill up\n"
                      % (h.encode(), prog.encode(), i))
            i += 1
    except OSError:
        pass
    s.close()
    return i


def bad_files(out):
    return [f for f in out["files"] if f["status"] in ("tampered", "error")]


def lines_of(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def write_lines(path, lines):
    os.chmod(path, 0o640)
    with open(path, "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))


def tamper_cases(store, key, tmp):
    a, b = os.path.join(store, "hosta"), os.path.join(store, "hostb")

    def edit_byte(d):
        p = os.path.join(d, "hosta/sshd.log.1")
        ls = lines_of(p)
        ls[99] = ls[99][:20] + b"X" + ls[99][21:]
        write_lines(p, ls)
        return "hosta/sshd.log.1", 100

    def insert_line(d):
        p = os.path.join(d, "hosta/sshd.log")
        ls = lines_of(p)
        ls.insert(49, b"an inserted line")
        write_lines(p, ls)
        return "hosta/sshd.log", 50

    def delete_line(d):
        p = os.path.join(d, "hosta/sshd.log.2")
        ls = lines_of(p)
        del ls[69]
        write_lines(p, ls)
        return "hosta/sshd.log.2", 70

    def swap_lines(d):
        p = os.path.join(d, "hostb/sshd.log.1")
        ls = lines_of(p)
        ls[10], ls[11] = ls[11], ls[10]
        write_lines(p, ls)
        return "hostb/sshd.log.1", 11

    def cut_tail(d):
        p = os.path.join(d, "hosta/sshd.log")
        write_lines(p, lines_of(p)[:-10])
        return "hosta/sshd.log", None

    def cut_and_rollback(d):
        p = os.path.join(d, "hosta/sshd.log")
        side = os.path.join(d, "hosta/.sshd.log.seal")
        recs = open(side).read().splitlines(True)
        first = dict(kv.split("=", 1) for kv in recs[0].split()[2:])
        with open(p, "r+b") as f:
            f.truncate(int(first["bytes"]))
        open(side, "w").write(recs[0])
        return "hosta/sshd.log", None

    def delete_rotated(d):
        os.unlink(os.path.join(d, "hosta/sshd.log.2"))
        os.unlink(os.path.join(d, "hosta/.sshd.log.2.seal"))
        return "hosta/sshd.log.1", None

    def delete_rotated_file_only(d):
        os.unlink(os.path.join(d, "hosta/sshd.log.2"))
        return "hosta/sshd.log.2", None

    def other_host(d):
        for n in ("sshd.log", ".sshd.log.seal"):
            shutil.copy(os.path.join(d, "hostb", n), os.path.join(d, "hosta", n))
        return "hosta/sshd.log", None

    def swap_rotated(d):
        h = os.path.join(d, "hosta")
        for n in ("sshd.log.%d", ".sshd.log.%d.seal"):
            os.rename(os.path.join(h, n % 1), os.path.join(h, "x"))
            os.rename(os.path.join(h, n % 2), os.path.join(h, n % 1))
            os.rename(os.path.join(h, "x"), os.path.join(h, n % 2))
        return "hosta/sshd.log.1", None

    def edit_sidecar(d):
        side = os.path.join(d, "hostb/.cron.log.seal")
        t = open(side).read().replace(" lines=", " lines=1", 1)
        open(side, "w").write(t)
        return "hostb/cron.log", None

    cases = [edit_byte, insert_line, delete_line, swap_lines, cut_tail, cut_and_rollback,
             delete_rotated, delete_rotated_file_only, other_host, swap_rotated, edit_sidecar]
    for case in cases:
        d = os.path.join(tmp, "copy")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(store, d, symlinks=True)
        want, line = case(d)
        rc, out = seal_verify(d, key)
        bad = bad_files(out)
        hit = [f for f in bad if f["file"].endswith("/" + want)]
        ok = rc == 1 and hit and (line is None or 1 <= hit[0]["line"] <= line)
        check(f"tamper {case.__name__}: found in {want}" + (f" at or before line {line}" if line else ""),
              ok, f"rc {rc} {json.dumps(bad)[:1500]}")


def crash_loop(conf, ready, store, key, rounds):
    hosts = ["hosta", "hostb", "hostc"]
    sent = 10**6
    for k in range(rounds):
        p, ports = start_logwardd(["--config", conf], ready)
        stop = threading.Event()
        t = threading.Thread(target=send, args=(ports["tcp"], hosts, 10**7, sent, stop))
        t.start()
        time.sleep(random.uniform(0.3, 1.8))
        p.send_signal(signal.SIGKILL)
        p.wait()
        stop.set()
        t.join()
        sent += 10**5
        rc, out = seal_verify(store, key)
        tails = [f for f in out["files"] if f["status"] == "unsealed_tail"]
        check(f"kill -9 #{k + 1}: clean or unsealed tail only ({len(tails)} tails)", rc == 0,
              json.dumps(bad_files(out))[:1500])
    p, ports = start_logwardd(["--config", conf], ready)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=20)
    rc, out = seal_verify(store, key)
    check("after the crashes and a clean restart: every file OK",
          rc == 0 and all(f["status"] == "ok" for f in out["files"]),
          f"rc {rc} " + json.dumps([f for f in out["files"] if f["status"] != "ok"] or out)[:3000])


def main():
    tmp = tempfile.mkdtemp(prefix="lw-store-verify.")
    try:
        store, keys = os.path.join(tmp, "store"), os.path.join(tmp, "keys")
        os.makedirs(store)
        os.makedirs(keys)
        r = subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, text=True)
        check("keygen writes both keys", r.returncode == 0 and "OFF the collector" in r.stdout,
              r.stdout + r.stderr)
        key = os.path.join(keys, "logward-verify.key")
        check("the collector's key is 0600", os.stat(os.path.join(keys, ".logward-key")).st_mode & 0o777 == 0o600)
        r = subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, text=True)
        check("keygen refuses to overwrite", r.returncode == 2)
        k0 = open(os.path.join(keys, ".logward-key")).read()
        shutil.move(os.path.join(keys, ".logward-key"), os.path.join(store, ".logward-key"))
        ready = os.path.join(tmp, "ready")
        conf = os.path.join(tmp, "logwardd.conf")
        with open(conf, "w") as f:
            f.write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nhost_from = claimed\n"
                    f"seal = on\nseal_interval = 1\nseal_idle = 1\nmax_log_file = 1\n"
                    f"num_logs = 3\nready_file = {ready}\n")
        p, ports = start_logwardd(["--config", conf], ready)
        send(ports["tcp"], ["hosta", "hostb", "hostc"], 150000)
        # Rounds and heartbeat seals. Long enough that the newest seal lies
        # well past the promise (seal_idle + 2 intervals = 3 s) of the first
        # seal of a file that rotated just as sending ended: cut_and_rollback
        # is found by that broken promise, and 4 s left no margin under ASan.
        time.sleep(7)
        p.send_signal(signal.SIGTERM)
        check("logwardd stops cleanly", p.wait(timeout=30) == 0)
        check("the key evolved", open(os.path.join(store, ".logward-key")).read() != k0)
        check("retention wrote expiry records",
              os.path.exists(os.path.join(store, "hosta", ".expired.seal")))
        rc, out = seal_verify(store, key)
        check("the store verifies clean", rc == 0 and out["files"] and
              all(f["status"] == "ok" for f in out["files"]), json.dumps(out)[:2000])
        r = subprocess.run([LOGWARD, "verify", "--key", key, os.path.join(store, "hosta")],
                           capture_output=True, text=True)
        check("text output: a host directory, one OK line per file",
              r.returncode == 0 and r.stdout.count(": OK (") >= 5, r.stdout + r.stderr)
        r = subprocess.run([LOGWARD, "verify", os.path.join(tmp, "nonexistent")], capture_output=True)
        check("a missing path: exit 2", r.returncode == 2)
        tamper_cases(store, key, tmp)
        crash_loop(conf, ready, store, key, int(os.environ.get("LW_CRASHES", "6")))
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
