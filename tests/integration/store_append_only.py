#!/usr/bin/env python3
"""append_only = on (issue 4, point 4): chattr +a on active files, cleared
only to rotate, with privileges dropped to CAP_LINUX_IMMUTABLE alone.

Runs logwardd as root with `user = nobody`, `append_only = on`, seal = on
and 1 MB files over a store on the file system /tmp is on, sends syslog
over tcp:// until files rotate, and checks:
  - the running collector's effective and permitted capabilities are
    CAP_LINUX_IMMUTABLE only (/proc/PID/status), and it runs as nobody;
  - every active file carries the append-only flag (FS_IOC_GETFLAGS), so
    even root cannot open it for writing without O_APPEND nor truncate it
    (EPERM), while appends go on;
  - rotated files and their sidecars do not carry it and are 0440, i.e.
    the flag was cleared for the rotation and set again on the new file;
  - nothing was said about append_only (it could be applied), and the
    store verifies clean;
  - started as nobody (no capability), the collector says once that the
    flag cannot be applied, and stores and rotates all the same.
(tmpfs has the flag since Linux 6.0, so the "file system without it" case
is not reached here.)
Skips (77) when not root, or when /tmp's file system has no such flag.
"""
import array
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from harness import (LOGWARD, LOGWARDD, check, kill_started, start_logwardd, started, summary,
                    wait_for)

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_APPEND_FL = 0x80086601, 0x40086602, 0x20
CAP_LINUX_IMMUTABLE = 9


def flags(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        a = array.array("i", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, a, True)
        return a[0]
    finally:
        os.close(fd)


def clear_flags(root):
    """So that the test can delete what it made."""
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                fd = os.open(p, os.O_RDONLY)
                a = array.array("i", [0])
                fcntl.ioctl(fd, FS_IOC_GETFLAGS, a, True)
                if a[0] & FS_APPEND_FL:
                    a[0] &= ~FS_APPEND_FL
                    fcntl.ioctl(fd, FS_IOC_SETFLAGS, a, True)
                os.close(fd)
            except OSError:
                pass




def setup(tmp, store, extra="", ready=None):
    os.makedirs(store)
    keys = os.path.join(tmp, "keys-" + os.path.basename(store))
    os.makedirs(keys)
    subprocess.run([LOGWARD, "keygen", "--out", keys], check=True, capture_output=True)
    shutil.move(os.path.join(keys, ".logward-key"), os.path.join(store, ".logward-key"))
    ready = ready or os.path.join(tmp, "ready-" + os.path.basename(store))
    conf = os.path.join(tmp, "conf-" + os.path.basename(store))
    with open(conf, "w") as f:
        f.write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nhost_from = claimed\n"
                f"seal = on\nseal_interval = 1\nappend_only = on\nmax_log_file = 1\n"
                f"num_logs = 5\nready_file = {ready}\n{extra}")
    return conf, ready, os.path.join(keys, "logward-verify.key")


def send(port, n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"".join(b"<38>Jan  1 00:00:00 %s sshd[1]: Accepted publickey for user%d from "
                       b"10.0.0.%d port %d ssh2 padding padding padding\n"
                       % (b"hosta" if i % 2 else b"hostb", i, i % 250, i) for i in range(n)))
    s.close()


def caps(pid):
    out = {}
    for l in open(f"/proc/{pid}/status"):
        k, _, v = l.partition(":")
        if k in ("CapEff", "CapPrm", "Uid"):
            out[k] = v.split()[0] if k == "Uid" else int(v, 16)
    return out


def main():
    if os.geteuid() != 0:
        print("SKIP: not root (setting the append-only flag needs CAP_LINUX_IMMUTABLE)")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-append-only.")
    try:
        probe = os.path.join(tmp, "probe")
        open(probe, "w").close()
        try:
            fd = os.open(probe, os.O_RDONLY)
            a = array.array("i", [FS_APPEND_FL])
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, a, True)
            a[0] = 0
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, a, True)
            os.close(fd)
        except OSError as e:
            print(f"SKIP: the file system of {tmp} has no append-only flag ({e})")
            return 77
        store = os.path.join(tmp, "store")
        conf, ready, key = setup(tmp, store, "user = nobody\n")
        os.chmod(tmp, 0o755)
        p, ports = start_logwardd(["--config", conf], ready)
        c = caps(p.pid)
        want = 1 << CAP_LINUX_IMMUTABLE
        check("privileges dropped to nobody with CAP_LINUX_IMMUTABLE alone",
              c.get("CapEff") == want and c.get("CapPrm") == want and c.get("Uid") != "0", c)
        send(ports["tcp"], 30000)
        rot = os.path.join(store, "hosta", "sshd.log.1")
        check("files rotate", wait_for(lambda: os.path.exists(rot) and os.path.exists(
            os.path.join(store, "hostb", "sshd.log.1")), 30))
        active = os.path.join(store, "hosta", "sshd.log")
        wait_for(lambda: os.path.exists(active) and os.path.getsize(active) > 0, 10)
        check("the active file is append-only", flags(active) & FS_APPEND_FL, hex(flags(active)))
        try:
            os.open(active, os.O_WRONLY | os.O_TRUNC)
            refused = False
        except PermissionError:
            refused = True
        check("even root cannot open it to truncate (EPERM)", refused)
        s = socket.create_connection(("127.0.0.1", ports["tcp"]))
        s.sendall(b"<38>Jan  1 00:00:00 hosta sshd[1]: the marker line\n")
        s.close()
        check("appends go on", wait_for(lambda: b"the marker line" in open(active, "rb").read(), 10))
        rotated = [os.path.join(store, h, n) for h in ("hosta", "hostb")
                   for n in os.listdir(os.path.join(store, h)) if n[-1].isdigit() or
                   (n.startswith(".") and n.endswith(".seal") and n.split(".")[-2].isdigit())]
        check("rotated files and sidecars: flag cleared, 0440",
              rotated and all(not flags(r) & FS_APPEND_FL and
                              os.stat(r).st_mode & 0o777 == 0o440 for r in rotated),
              [(r, hex(flags(r)), oct(os.stat(r).st_mode)) for r in rotated])
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        err = p.stderr.read().decode()
        check("clean stop, nothing said about append_only", rc == 0 and "append_only" not in err,
              err[-1500:])
        r = subprocess.run([LOGWARD, "verify", "--key", key, "--format", "json", store],
                           capture_output=True, text=True)
        check("the store verifies clean", r.returncode == 0, r.stdout[-1500:])

        # Not permitted: logwardd started as nobody, without the capability.
        s2 = os.path.join(tmp, "store2")
        run2 = os.path.join(tmp, "run2")  # the ready file, where nobody may write
        os.makedirs(run2)
        os.chown(run2, 65534, 65534)
        ready2 = os.path.join(run2, "ready")
        conf2, _, _ = setup(tmp, s2, ready=ready2)
        for d, _, files in os.walk(s2):
            for x in [d] + [os.path.join(d, f) for f in files]:
                os.chown(x, 65534, 65534)
        p2 = subprocess.Popen([LOGWARDD, "--config", conf2], stderr=subprocess.PIPE,
                              preexec_fn=lambda: (os.setgroups([]), os.setgid(65534),
                                                  os.setuid(65534)))
        started.append(p2)
        up = wait_for(lambda: os.path.exists(ready2) or p2.poll() is not None, 15)
        if up and p2.poll() is None:
            wait_for(lambda: open(ready2).read().endswith("\n"), 5)
            port2 = int(open(ready2).read().split()[1])
            send(port2, 20000)
            f2 = os.path.join(s2, "hosta", "sshd.log.1")
            rotated2 = wait_for(lambda: os.path.exists(f2), 30)
            p2.send_signal(signal.SIGTERM)
            p2.wait(timeout=30)
        else:
            rotated2 = False
        err2 = p2.stderr.read().decode()
        check("without CAP_LINUX_IMMUTABLE: said once, lines stored and rotated all the same",
              rotated2 and err2.count("append_only") == 1 and "CAP_LINUX_IMMUTABLE" in err2,
              err2[-1500:])
    finally:
        kill_started()
        clear_flags(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
