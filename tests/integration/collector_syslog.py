#!/usr/bin/env python3
"""logwardd with the real `logger` (util-linux) and with hostile input.

Starts logwardd on loopback (UDP and TCP on 127.0.0.1, TCP on [::1], ports
chosen by the kernel) with a private store, then:
  - logger sends RFC 3164 and RFC 5424 messages over UDP, TCP with LF
    framing, TCP with octet counting, and TCP over IPv6; every message must
    land exactly once, in STORE/<peer address>/<tag>.log, with the peer and
    transport recorded on its line;
  - a hostile client claims the host name "../../etc" and the program
    "../../../tmp/x", sends NUL and control bytes, a 1 MB octet-counted frame,
    a half frame, and garbage; nothing may be written outside the store's own
    directories, the oversize frame is counted and skipped, and the same
    connection goes on working (resync);
  - one client floods UDP while another sends over TCP: every TCP message is
    stored;
  - SIGTERM: logwardd flushes and exits 0; --status shows the counters.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import LOGWARDD, check, read_tree, summary, wait_for



def count_lines(tree, needle):
    return sum(1 for lines in tree.values() for l in lines if needle in l)


def logger(*args):
    subprocess.run(["logger", *args], check=True, timeout=20)


def main():
    if not shutil.which("logger"):
        print("SKIP: logger (util-linux) not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-collector-")
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    outside = os.path.join(tmp, "outside-marker")
    proc = subprocess.Popen([LOGWARDD, "--store", store, "--listen", "udp://127.0.0.1:0",
                             "--listen", "tcp://127.0.0.1:0", "--listen", "tcp://[::1]:0",
                             "--listen", "udp://[::1]:0", "--ready-file", ready, "--max-conns", "64"],
                            stderr=subprocess.PIPE)
    try:
        if not wait_for(lambda: os.path.exists(ready)):
            print("FAIL logwardd did not start:", proc.stderr.read().decode())
            return 1
        ports = [l.split() for l in open(ready).read().splitlines()]
        udp, tcp4, tcp6, udp6 = (int(p[1]) for p in ports)
        n = 25
        for i in range(n):
            logger("-n", "127.0.0.1", "-P", str(udp), "-d", "--rfc3164", "-t", "t3164", f"u3164-{i}")
            logger("-n", "127.0.0.1", "-P", str(udp), "-d", "--rfc5424", "-t", "t5424", f"u5424-{i}")
            logger("-n", "127.0.0.1", "-P", str(tcp4), "-T", "-t", "tcplf", f"tcplf-{i}")
            logger("-n", "127.0.0.1", "-P", str(tcp4), "-T", "--octet-count", "-t", "tcpoc",
                   f"tcpoc-{i}")
            logger("-n", "::1", "-P", str(tcp6), "-T", "-t", "tcp6", f"tcp6-{i}")
            logger("-n", "::1", "-P", str(udp6), "-d", "--rfc5424", "-t", "udp6", f"udp6-{i}")
        expect = {"t3164": "u3164", "t5424": "u5424", "tcplf": "tcplf", "tcpoc": "tcpoc",
                  "tcp6": "tcp6", "udp6": "udp6"}
        def all_there():
            t = read_tree(store)
            return all(count_lines(t, f"{v}-{n - 1}".encode()) for v in expect.values())
        wait_for(all_there)
        tree = read_tree(store)
        for tag, word in expect.items():
            host = "::1" if tag in ("tcp6", "udp6") else "127.0.0.1"
            lines = tree.get(f"{host}/{tag}.log", [])
            exact = all(count_lines({"f": lines}, f"{word}-{i}".encode() + b"\t") == 1
                        for i in range(n))
            check(f"logger {tag}: {n} messages, each exactly once in {host}/{tag}.log",
                  len(lines) == n and exact, f"got {len(lines)} lines; files {sorted(tree)}")
        via_ok = all(l.endswith(b"via=udp id=-") for l in tree.get("127.0.0.1/t5424.log", []))
        check("peer and transport recorded on every line",
              via_ok and all(b"\tpeer=127.0.0.1 via=tcp id=-" in l
                             for l in tree.get("127.0.0.1/tcplf.log", [])))
        sample = tree.get("127.0.0.1/t5424.log", [b""])[0]
        check("RFC 3339 time stamp with offset first on the line",
              len(sample) > 32 and sample[4:5] == b"-" and sample[10:11] == b"T"
              and b"+" in sample[19:33] or b"-" in sample[19:33], sample[:40])

        # Hostile input over TCP (octet-counted frames on one connection).
        s = socket.create_connection(("127.0.0.1", tcp4))
        def frame(msg):
            return str(len(msg)).encode() + b" " + msg
        s.sendall(frame(b"<13>1 2024-11-22T10:00:00Z ../../etc ../../../tmp/x - - - spoof-1"))
        s.sendall(frame(b"<13>1 2024-11-22T10:00:00Z h prog - - - ctl-\x00\x01\n\tend"))
        s.sendall(b"1000000 " + b"A" * 1000000)  # over the 200000-byte bound
        s.sendall(frame(b"<13>1 2024-11-22T10:00:00Z h afterbig - - - resynced"))
        s.sendall(frame(b'<13>1 2024-11-22T10:00:00Z h sdprog - - [exampleSDID@32473 iut="3" '
                        b'eventSource="Application"][x@32473 a="\\]"] sd-msg'))
        s.sendall(frame(b'<13>1 2024-11-22T10:00:00Z h sdonly - - [y@32473 b="1"]'))
        s.sendall(b"\x00\x01\x02 garbage with no structure\n")
        s.close()
        h = socket.create_connection(("127.0.0.1", tcp4))
        h.sendall(b"<13>1 2024-11-22T10:00:00Z h half - - - half-fra")  # no LF, then close
        h.close()
        # Every marker, since files are written one after another at a flush.
        markers = (b"spoof-1", b"ctl-", b"resynced", b"garbage with", b"half-fra", b"sd-msg",
                   b"y@32473")
        wait_for(lambda: all(count_lines(read_tree(store), m) for m in markers))
        tree = read_tree(store)
        inside = all(not p.startswith("..") and "/" in p and p.count("/") == 1 for p in tree)
        check("hostile names stay inside the store, one level deep", inside, sorted(tree))
        check("nothing written outside the store", not os.path.exists("/tmp/x.log") and
              set(os.listdir(tmp)) <= {"store", "ready"}, os.listdir(tmp))
        spoof = [l for lines in tree.values() for l in lines if b"spoof-1" in l]
        check("spoofed name filed under the peer, claimed name kept on the line",
              len(spoof) == 1 and b" ../../etc " in spoof[0] and
              any(b"spoof-1" in l for l in tree.get("127.0.0.1/" + next(
                  (p.split("/")[1] for p in tree if b"spoof-1" in b"".join(tree[p])), ""), [])),
              spoof)
        ctl = [l for lines in tree.values() for l in lines if b"ctl-" in l]
        check("NUL and control bytes stored escaped, one line", len(ctl) == 1 and
              b"ctl-#000#001#012#011end" in ctl[0], ctl)
        check("oversize frame skipped, connection resynced", count_lines(tree, b"resynced") == 1
              and count_lines(tree, b"AAAA") == 0)
        check("garbage stored raw under 'unparsed', not lost",
              count_lines(tree, b"garbage with no structure") == 1)
        check("half frame at close is kept", count_lines(tree, b"half-fra") == 1)
        sd = [l for lines in tree.values() for l in lines if b"sd-msg" in l or b"y@32473" in l]
        check("RFC 5424 structured data stored in front of the message, as sent",
              len(sd) == 2 and any(b' sdprog: [exampleSDID@32473 iut="3" eventSource="Application"]'
                                   b'[x@32473 a="\\]"] sd-msg\t' in l for l in sd)
              and any(b' sdonly: [y@32473 b="1"]\t' in l for l in sd), sd)

        # Flood: UDP from one client while another sends over TCP.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.create_connection(("127.0.0.1", tcp4))
        for i in range(20000):
            u.sendto(b"<13>Nov 22 10:00:00 flood flood: x%d" % i, ("127.0.0.1", udp))
            if i % 200 == 0:
                t.sendall(b"<13>Nov 22 10:00:00 calm calm: steady-%d\n" % (i // 200))
        t.close()
        wait_for(lambda: count_lines(read_tree(store), b"steady-99\t") == 1)
        tree = read_tree(store)
        check("TCP client served during a UDP flood: 100 of 100 stored",
              sum(count_lines(tree, b"steady-%d\t" % i) for i in range(100)) == 100)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        check("SIGTERM: clean exit 0", rc == 0, proc.stderr.read().decode())
        st = subprocess.run([LOGWARDD, "--status", "--store", store], capture_output=True)
        status = json.loads(st.stdout) if st.returncode == 0 else {}
        tcp_l = [l for l in status.get("listeners", []) if l["scheme"] == "tcp"]
        check("--status counters: oversize frame counted as bad, stored == received",
              status and tcp_l and tcp_l[0]["bad_frames"] >= 1 and
              status["stored"] == status["received"] and status["store_errors"] == 0, status)
        hosts = status.get("hosts", {})
        check("--status: last time heard and message count per host",
              set(hosts) >= {"127.0.0.1", "::1"} and hosts["::1"]["messages"] == 2 * n and
              abs(hosts["127.0.0.1"]["last"] - time.time()) < 120, hosts)
        check("--check-config refuses a listener it cannot serve",
              subprocess.run([LOGWARDD, "--store", store, "--listen", "bogus://x",
                              "--check-config"], capture_output=True).returncode == 2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
