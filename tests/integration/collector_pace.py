#!/usr/bin/env python3
"""logwardd's read pacing of busy syslog streams (src/collector/pace.c).

A tcp:// or tls:// stream above about 6 MB/s is read in bulk: its socket
signals only once 32 KB wait (SO_RCVLOWAT), and a poll every millisecond
takes what lies below that mark. Over tcp:// and tls:// in turn:
  - a burst of 40,000 messages of 300 bytes, one write each (12 MB), gets
    the connection paced (the listener's `paced` counter) and, read from
    logwardd's own socket (pidfd_getfd; noted and left out where the
    kernel refuses), SO_RCVLOWAT 32768 during the burst and 1 once quiet;
  - the connection stays open and sends one last message, which the socket
    alone would never signal (it is below the mark): it must be stored
    within 2 s (the store writes out every 200 ms);
  - once quiet the stream leaves pacing (`paced_connections` back to 0 in
    --status), and a message sent after that is stored as promptly;
  - a slow client on another listener (a message every 20 ms, all through
    the burst) is never paced;
  - every message of both clients is stored exactly once, in order.
Skips (77) when the openssl tool is missing (the tls:// half needs it).
"""
import ctypes
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from harness import (LOGWARDD, check, kill_started, make_ca, make_cert, start_logwardd, summary,
                     wait_for)

BURST = 40000


def frame(host, prog, text):
    msg = f"<134>1 2026-12-01T10:00:00.000000+00:00 {host} {prog} 77 - - {text} "
    msg += "x" * (299 - len(msg))
    return f"{len(msg)} {msg}".encode()


def stored(store, host, prog):
    p = os.path.join(store, host, prog + ".log")
    if not os.path.exists(p):
        return []
    return open(p, "rb").read().decode(errors="replace").splitlines()


def status(store):
    st = subprocess.run([LOGWARDD, "--status", "--store", store], capture_output=True)
    return json.loads(st.stdout) if st.returncode == 0 else {}


def has(store, host, prog, needle):
    return any(needle in l for l in stored(store, host, prog))


def send_timed(what, s, store, host, text):
    """Sends one message on s and checks that it is stored within 2 s."""
    t0 = time.time()
    s.sendall(frame(host, "burst", text))
    landed = wait_for(lambda: has(store, host, "burst", text), 10, 0.01)
    took = time.time() - t0
    check(f"{what} is stored within 2 s", landed and took < 2.0,
          f"landed={landed} after {took:.3f} s")


def server_socket(pid, client_port):
    """logwardd's end of the connection from client_port, duplicated into
    this process (pidfd_getfd, Linux 5.6: the kernel's socket itself, so its
    options can be read), or None where the kernel does not allow it."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(438, pidfd, int(name), 0)  # SYS_pidfd_getfd
            if fd < 0:
                return None
            sk = socket.socket(fileno=fd)
            try:
                if sk.type == socket.SOCK_STREAM and sk.getpeername()[1] == client_port:
                    return sk
            except OSError:
                pass
            sk.close()
    finally:
        os.close(pidfd)
    return None


def lowat(sk):
    return sk.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)


def slow_client(port, stop, sent, host):
    s = socket.create_connection(("127.0.0.1", port))
    while not stop.is_set():
        s.sendall(frame(host, "ticker", f"tick={len(sent):06d}"))
        sent.append(1)
        time.sleep(0.02)
    s.close()


def scenario(name, store, port, slow_port, connect, pid):
    host = f"{name}.example"
    stop, sent = threading.Event(), []
    slow = threading.Thread(target=slow_client, args=(slow_port, stop, sent, f"slow-{name}.example"))
    slow.start()
    s = connect(port)
    s.sendall(frame(host, "burst", "seq=000000"))
    peer = wait_for(lambda: server_socket(pid, s.getsockname()[1]) is not None, 5) and \
        server_socket(pid, s.getsockname()[1])
    marks, done = [], threading.Event()

    def sample():  # the socket's mark all through the burst
        while not done.is_set():
            marks.append(lowat(peer))
            time.sleep(0.001)
    sampler = threading.Thread(target=sample) if peer else None
    if sampler:
        sampler.start()
    for i in range(1, BURST):
        s.sendall(frame(host, "burst", f"seq={i:06d}"))
    done.set()
    if sampler:
        sampler.join()
        check(f"{name}: during the burst logwardd's socket had SO_RCVLOWAT 32768",
              32768 in marks and set(marks) <= {1, 32768}, sorted(set(marks)))
    else:
        print(f"note: {name}: logwardd's socket cannot be read here (pidfd_getfd): "
              "its SO_RCVLOWAT is not checked")
    send_timed(f"{name}: the last message after the burst, below the mark,", s, store, host,
               "tail-marker")
    wait_for(lambda: [l for l in status(store).get("listeners", [])
                      if l["port"] == port and l["paced"] >= 1], 5)
    lst = [l for l in status(store).get("listeners", []) if l["port"] == port]
    check(f"{name}: the burst's connection was paced", lst and lst[0]["paced"] >= 1, lst)
    quiet = wait_for(lambda: status(store).get("paced_connections") == 0, 5)
    check(f"{name}: quiet, it leaves pacing (paced_connections 0)", quiet, status(store))
    if peer:
        check(f"{name}: quiet, its socket is back to SO_RCVLOWAT 1", lowat(peer) == 1,
              lowat(peer))
        peer.close()
    send_timed(f"{name}: a message on the quiet connection", s, store, host, "after-quiet")
    stop.set()
    slow.join()
    s.close()
    lines = stored(store, host, "burst")
    seqs = [l.split("seq=")[1][:6] for l in lines if "seq=" in l]  # seq=000000 first
    check(f"{name}: all {BURST} burst messages stored once, in order, then the two after it",
          seqs == [f"{i:06d}" for i in range(BURST)] and len(lines) == BURST + 2 and
          "tail-marker" in lines[-2] and "after-quiet" in lines[-1],
          f"{len(seqs)} seq lines of {len(lines)}")
    ticks = len(sent)
    wait_for(lambda: len(stored(store, f"slow-{name}.example", "ticker")) >= ticks, 5)
    check(f"{name}: the slow client's {ticks} messages (so far) all stored once",
          len(stored(store, f"slow-{name}.example", "ticker")) == ticks,
          f"{len(stored(store, f'slow-{name}.example', 'ticker'))} of {ticks}")
    sl = [l for l in status(store).get("listeners", []) if l["port"] == slow_port]
    check(f"{name}: the slow client was never paced", sl and sl[0]["paced"] == 0, sl)


def main():
    if not shutil.which("openssl"):
        print("SKIP: openssl command not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-pace-")
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    make_ca(tmp, "ca")
    make_cert(tmp, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    try:
        proc, _ = start_logwardd(
            ["--store", store, "--listen", "tcp://127.0.0.1:0", "--listen", "tls://127.0.0.1:0",
             "--listen", "tcp://127.0.0.1:0", "--tls-cert", os.path.join(tmp, "server.pem"),
             "--tls-key", os.path.join(tmp, "server.key"), "--host-from", "claimed", "--max-log-file", "0", "--ready-file", ready], ready)
        ports = [int(l.split()[1]) for l in open(ready).read().splitlines()]
        tcp, tls, slow = ports
        ctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
        ctx.check_hostname = False
        scenario("tcp", store, tcp, slow, lambda p: socket.create_connection(("127.0.0.1", p)),
                 proc.pid)
        scenario("tls", store, tls, slow,
                 lambda p: ctx.wrap_socket(socket.create_connection(("127.0.0.1", p))), proc.pid)
        proc.terminate()
        check("logwardd exits 0 on SIGTERM", proc.wait(30) == 0)
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
