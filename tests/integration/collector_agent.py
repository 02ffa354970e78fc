#!/usr/bin/env python3
"""logwardd serving agents (lwap/1 on agent:// and agent+tls://): every
record stored once, across resends, broken sessions and collector crashes.

A small lwap/1 client written here (sockets, and Python's ssl module for
agent+tls:// with certificates made by the openssl tool) plays the agent:
  - agent://: audit records land in <host>/audit.log (ausearch -if reads
    them, when installed), syslog ones in <host>/<prog>.log with via=agent;
    ACK covers everything sent; a new session gets WELCOME last=N, and
    records resent at or below N are acknowledged, counted as duplicates
    and not stored again; a gap is counted; PING is answered PONG; a REC
    before HELLO, a broken frame head and a bad field each get ERROR and
    the connection closed, counted, while another client goes on; a second
    HELLO for an open stream closes the older session;
  - kill -9 of logwardd in the middle of a fast pipelined stream, 5 times
    (sealing on, 1 MB files rotating): after each restart the client sends
    again from WELCOME's last + 1; in the end every sequence is in the store
    exactly once (by the content of each record), the store verifies clean
    (`logward verify`), and the recovery said what it found;
  - agent+tls://: a client without a certificate is refused (tls_failures),
    a certificate for hosta.example whose HELLO says host=hostb.example and
    whose records claim hostb is filed under hosta.example only, with the
    claimed names kept as data; logwardd refuses agent+tls:// without
    tls_ca (exit 2).
Skips (77) the TLS part when the openssl tool is missing.
"""
import collections
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import struct
import threading
import time

from harness import LOGWARD, LOGWARDD, check, make_ca, make_cert, summary, wait_for


def stream_id():
    return "%032x" % random.getrandbits(128)


class Agent:
    """One lwap/1 session: frames out, frames in."""

    def __init__(self, port, ctx=None):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s = ctx.wrap_socket(raw) if ctx else raw
        self.buf = b""

    def send(self, body):
        self.s.sendall(b"%d " % len(body) + body)

    def frame(self, timeout=15):
        """The next frame's body, or None at the end of the stream."""
        end = time.time() + timeout
        while True:
            sp = self.buf.find(b" ")
            if sp > 0:
                n = int(self.buf[:sp])
                if len(self.buf) >= sp + 1 + n:
                    body = self.buf[sp + 1:sp + 1 + n]
                    self.buf = self.buf[sp + 1 + n:]
                    return body
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("no frame; have %r" % self.buf[:80])
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                d = b""
            if not d:
                return None
            self.buf += d

    def hello(self, stream, host="agent-host", agent="a1"):
        self.send(b"HELLO lwap/1 agent=%s stream=%s host=%s" %
                  (agent.encode(), stream.encode(), host.encode()))
        w = self.frame()
        m = re.fullmatch(rb"WELCOME lwap/1 last=(\d+)", w or b"")
        if not m:
            raise RuntimeError("no WELCOME: %r" % w)
        return int(m.group(1))

    def rec(self, seq, kind, data):
        self.send(b"REC %d %s %s" % (seq, kind, data))

    def until_ack(self, seq, timeout=30):
        """Reads frames until an ACK >= seq; returns (ack, other frames)."""
        other, end = [], time.time() + timeout
        while time.time() < end:
            f = self.frame(timeout=end - time.time())
            if f is None:
                return None, other
            m = re.fullmatch(rb"ACK (\d+)", f)
            if m and int(m.group(1)) >= seq:
                return int(m.group(1)), other
            if not m:
                other.append(f)
        return None, other

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def audit_rec(seq):
    return (b"type=USER_CMD msg=audit(1764600000.%03d:%d): pid=%d uid=0 auid=1000 ses=1 "
            b"msg='cwd=\"/\" cmd=72656332 exe=\"/usr/bin/sudo\" res=success' rec-%d" %
            (seq % 1000, seq, 1000 + seq % 30000, seq))


def syslog_rec(seq):
    return b"<13>Dec  1 10:00:00 claimed-name app[9]: syslog rec-%d" % seq


def record(seq):
    """Blocks of 7 of each kind: runs of lines for one file, and switches."""
    return (b"audit", audit_rec(seq)) if (seq // 7) % 2 == 0 else (b"syslog", syslog_rec(seq))


class Collector:
    def __init__(self, tmp, listen, extra=(), conf=None):
        self.tmp, self.store = tmp, os.path.join(tmp, "store")
        self.ready = os.path.join(tmp, "ready")
        self.listen, self.extra, self.conf = listen, list(extra), conf
        self.log = open(os.path.join(tmp, "logwardd.log"), "ab")
        self.p = None

    def start(self):
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        args = [LOGWARDD, "--store", self.store, "--listen", self.listen, "--ready-file",
                self.ready] + self.extra
        if self.conf:
            args += ["--config", self.conf]
        self.p = subprocess.Popen(args, stderr=self.log)
        if not wait_for(lambda: os.path.exists(self.ready) or self.p.poll() is not None, 30) or \
                self.p.poll() is not None:
            raise RuntimeError("logwardd did not start: " + self.text()[-2000:])
        self.port = int(open(self.ready).read().split()[1])
        self.listen = re.sub(r":\d+$", ":%d" % self.port, self.listen)
        return self.port

    def text(self):
        self.log.flush()
        return open(self.log.name, "rb").read().decode(errors="replace")

    def status(self):
        r = subprocess.run([LOGWARDD, "--status", "--store", self.store], capture_output=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def listener(self):
        return (self.status().get("listeners") or [{}])[0]

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            return self.p.wait(timeout=30)
        return self.p.returncode if self.p else None

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def lines_of(store, host, prefix):
    out = []
    d = os.path.join(store, host)
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if f.startswith(prefix) and not f.endswith(".zst"):
            out += open(os.path.join(d, f), "rb").read().split(b"\n")[:-1]
    return out


def seq_counts(store, host):
    c = collections.Counter()
    for l in lines_of(store, host, "audit.log") + lines_of(store, host, "app.log"):
        for m in re.finditer(rb"rec-(\d+)\b", l):
            c[int(m.group(1))] += 1
    return c


# ---- agent:// ----

def plain(tmp):
    col = Collector(tmp, "agent://127.0.0.1:0")
    port = col.start()
    try:
        plain_checks(col, port)
    finally:
        rc = col.stop()
        check("SIGTERM: exit 0", rc == 0, col.text()[-2000:])


def plain_checks(col, port):
    st = stream_id()
    a = Agent(port)
    check("a new stream is welcomed with last=0", a.hello(st) == 0)
    for seq in range(1, 41):
        a.rec(seq, *record(seq))
    ack, other = a.until_ack(40)
    check("ACK 40 after 40 records, nothing else said", ack == 40 and not other, (ack, other))
    host = "127.0.0.1"  # host_from = peer
    audit = lines_of(col.store, host, "audit.log")
    app = lines_of(col.store, host, "app.log")
    check("20 audit records in <peer>/audit.log, node= the filed name",
          len(audit) == 20 and all(l.startswith(b"node=127.0.0.1 type=USER_CMD ") for l in audit),
          audit[:2])
    check("20 syslog records in <peer>/app.log with via=agent",
          len(app) == 20 and all(l.endswith(b"\tpeer=127.0.0.1 via=agent id=-") and
                                 b" claimed-name app[9]: syslog rec-" in l for l in app), app[:2])
    if shutil.which("ausearch"):
        r = subprocess.run(["ausearch", "-if", os.path.join(col.store, host, "audit.log"),
                            "-m", "USER_CMD"], capture_output=True, text=True)
        check("ausearch -if reads the 20 agent records",
              r.returncode == 0 and r.stdout.count("type=USER_CMD") == 20, r.stdout[-500:] + r.stderr)
    a.send(b"PING 77")
    check("PING 77 answered PONG 77", a.frame() == b"PONG 77")
    a.close()

    b = Agent(port)
    check("a new session of the stream gets WELCOME last=40", b.hello(st) == 40)
    for seq in range(31, 46):
        b.rec(seq, *record(seq))
    ack, _ = b.until_ack(45)
    check("resent 31..45: ACK 45", ack == 45, ack)
    c = seq_counts(col.store, host)
    check("records 1..45 stored once each (31..40 not again)",
          sorted(c) == list(range(1, 46)) and set(c.values()) == {1},
          [k for k, v in c.items() if v != 1][:10])
    b.rec(50, *record(50))
    ack, _ = b.until_ack(50)
    check("a gap (46..49 never sent) does not stop the stream: ACK 50", ack == 50)
    check("--status: 10 duplicates, 4 gap sequences, 2 sessions",
          wait_for(lambda: (col.listener().get("duplicates"), col.listener().get("gaps"),
                            col.listener().get("sessions")) == (10, 4, 2), 10), col.listener())
    streams = col.status().get("agents", {}).get("streams", [])
    check("--status lists the stream with last=50 and acked=50",
          any(s.get("stream") == st and s.get("last") == 50 and s.get("acked") == 50
              for s in streams), streams)

    # bad frames: each gets ERROR and is closed; b goes on
    bad0 = col.listener().get("bad_frames", 0)
    cases = [(b"REC 1 audit x", "a REC before HELLO"), (None, "a broken frame head"),
             (b"REC 0 audit x", "a bad field after HELLO")]
    for body, what in cases:
        x = Agent(port)
        if body is None:
            x.s.sendall(b"05 HELLO")
        elif body.startswith(b"REC 0"):
            x.hello(stream_id())
            x.send(body)
        else:
            x.send(body)
        f = x.frame()
        check(f"{what}: ERROR, then the connection closes",
              f is not None and f.startswith(b"ERROR ") and x.frame() is None, f)
        x.close()
    check("the 3 bad frames counted",
          wait_for(lambda: col.listener().get("bad_frames", 0) - bad0 == 3, 10), col.listener())
    # a client that sends PINGs and resets the connection: the PONGs fail
    # while logwardd is reading its frames (under ASan this caught a use of
    # the closed connection); pipelined, again and again
    for _ in range(5):
        p = Agent(port)
        p.hello(stream_id())
        p.s.sendall(b"".join(b"%d PING %d" % (len(b"PING %d" % i), i) for i in range(20000)))
        p.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        p.s.close()  # RST: the replies have nowhere to go
    time.sleep(0.5)
    check("clients resetting under their PONGs: logwardd lives on", col.p.poll() is None,
          col.text()[-1500:])
    b.rec(51, *record(51))
    ack, _ = b.until_ack(51)
    check("the other client was served all along: ACK 51", ack == 51)

    # a second HELLO for an open stream closes the older session
    d = Agent(port)
    check("a second session of an open stream is welcomed with last=51", d.hello(st) == 51)
    f = b.frame()
    check("the older session gets ERROR and is closed",
          f is not None and f.startswith(b"ERROR replaced") and b.frame() is None, f)
    d.rec(52, *record(52))
    ack, _ = d.until_ack(52)
    check("the new session goes on: ACK 52", ack == 52)
    # longer than tcp:// takes a message: cut there, stored, counted
    d.rec(53, b"syslog", b"<13>Dec  1 10:00:00 h app[9]: huge rec-53 " + b"x" * 300000)
    ack, _ = d.until_ack(53)
    big = [l for l in lines_of(col.store, host, "app.log") if b"huge rec-53" in l]
    check("a 300 kB syslog record: acknowledged, stored once cut to 200000 bytes, counted",
          ack == 53 and len(big) == 1 and 199000 < len(big[0]) < 201000 and
          wait_for(lambda: col.listener().get("truncated") == 1, 10),
          (ack, [len(l) for l in big], col.listener()))
    d.close()
    b.close()


# ---- kill -9 in the middle of a fast stream ----

def split_frames(buf):
    """The complete frames' bodies in buf, and what is left."""
    out = []
    while True:
        sp = buf.find(b" ")
        if sp <= 0 or len(buf) < sp + 1 + int(buf[:sp]):
            return out, buf
        n = int(buf[:sp])
        out.append(buf[sp + 1:sp + 1 + n])
        buf = buf[sp + 1 + n:]


def pump(port, st, total, stop, progress=None, ctx=None):
    """HELLO, then everything after WELCOME's last, pipelined (at most 4096
    unacked); returns (last, highest ACK) when done, stopped or cut.
    progress[0] follows the highest ACK."""
    progress = progress if progress is not None else [0]
    try:
        a = Agent(port, ctx)
        last = a.hello(st)
    except (OSError, RuntimeError, TimeoutError):
        return None, None
    acked, seq = last, last + 1
    a.s.setblocking(False)
    out = b""
    try:
        while acked < total and not stop.is_set():
            while seq <= total and seq - acked <= 4096 and len(out) < 1 << 20:
                kind, data = record(seq)
                body = b"REC %d %s %s" % (seq, kind, data)
                out += b"%d " % len(body) + body
                seq += 1
            r, w, _ = select.select([a.s], [a.s] if out else [], [], 1.0)
            if w:
                try:
                    n = a.s.send(out[:1 << 16])
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    n = 0
                out = out[n:]
            if r or (ctx and a.s.pending()):
                try:
                    d = a.s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                if not d:
                    break
                a.buf += d
                bodies, a.buf = split_frames(a.buf)
                for body in bodies:
                    m = re.fullmatch(rb"ACK (\d+)", body)
                    if not m:
                        raise OSError("unexpected %r" % body)
                    acked = max(acked, int(m.group(1)))
                    progress[0] = acked
    except OSError:
        pass
    a.close()
    return last, acked


def crashes(tmp):
    keys = os.path.join(tmp, "keys")
    os.makedirs(keys)
    os.makedirs(os.path.join(tmp, "store"))
    r = subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, text=True)
    sealed = r.returncode == 0
    if sealed:
        shutil.move(os.path.join(keys, ".logward-key"), os.path.join(tmp, "store", ".logward-key"))
    conf = os.path.join(tmp, "logwardd.conf")
    with open(conf, "w") as f:
        f.write("max_log_file = 1\nnum_logs = 200\n")
        if sealed:
            f.write("seal = on\nseal_interval = 1\n")
    col = Collector(tmp, "agent://127.0.0.1:0", conf=conf)
    port = col.start()
    st, total, kills, welcomes = stream_id(), 300000, 5, []
    done = 0
    for k in range(kills):
        stop, res, progress = threading.Event(), [], [done]
        t = threading.Thread(target=lambda: res.append(pump(port, st, total, stop, progress)))
        t.start()
        # killed while records flow: some thousands past what was acked before
        target = done + random.randint(5000, 40000)
        wait_for(lambda: progress[0] >= target or not t.is_alive(), 60, 0.001)
        col.kill()
        stop.set()
        t.join(timeout=60)
        welcomes.append(res[0] if res else None)
        done = max(done, progress[0])
        col.start()
    last, acked = pump(port, st, total, threading.Event())
    welcomes.append((last, acked))
    print("     (WELCOME last, highest ACK) per session:", welcomes)
    check(f"after {kills} kills -9: all {total} records acknowledged", acked == total, welcomes)
    check("every restart welcomed the stream at or above the acks seen before",
          all(w and w[0] is not None for w in welcomes) and
          all(welcomes[i + 1][0] >= welcomes[i][1] for i in range(len(welcomes) - 1)), welcomes)
    rc = col.stop()
    check("SIGTERM after the crashes: exit 0", rc == 0, col.text()[-2000:])
    c = seq_counts(col.store, "127.0.0.1")
    missing = [s for s in range(1, total + 1) if c[s] == 0]
    doubled = [s for s, n in c.items() if n > 1]
    check(f"every one of the {total} sequences stored exactly once, by content",
          not missing and not doubled and len(c) == total,
          {"missing": missing[:20], "doubled": doubled[:20], "n": len(c)})
    rotated = [f for f in os.listdir(os.path.join(col.store, "127.0.0.1")) if ".log." in f]
    check("the files rotated during the run", len(rotated) >= 2, rotated)
    rec = re.findall(r"agent streams recovered: .*", col.text())
    print("     recovery:", *rec, sep="\n       ")
    nums = [[int(x) for x in re.findall(r"\d+", l)] for l in rec]
    inflight = sum(1 for n in nums if len(n) >= 3 and n[1] + n[2] > 0)  # landed + not landed
    print(f"     {inflight} of {kills} kills left a run in flight (an intent) to settle")
    check(f"each of the {kills} restarts read and settled the stream's state", len(rec) == kills,
          col.text()[-1500:])
    if sealed:
        r = subprocess.run([LOGWARD, "verify", "--key", os.path.join(keys, "logward-verify.key"),
                            "--format", "json", col.store], capture_output=True, text=True)
        check("the store verifies clean after the crashes (logward verify)", r.returncode == 0,
              (r.stdout + r.stderr)[-1500:])
    for name in ("search", "events"):
        pass
    r = subprocess.run([LOGWARD, "search", "-if", col.store, "-m", "USER_CMD", "--format", "raw"],
                       capture_output=True, text=True)
    check("logward search reads the store with .agents beside it",
          r.returncode in (0, 1) and "agents" not in r.stderr, r.stderr[-500:])


# ---- agent+tls:// ----







def tls_ctx(d, cert):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(os.path.join(d, f"{cert}.pem"), os.path.join(d, f"{cert}.key"))
    return ctx


def tls(tmp):
    if not shutil.which("openssl"):
        print("SKIP (part): openssl command not installed, agent+tls:// not tested")
        return
    make_ca(tmp, "ca")
    make_cert(tmp, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    make_cert(tmp, "ca", "hosta", "x", "DNS:HostA.example")
    pem = lambda n: os.path.join(tmp, n)
    r = subprocess.run([LOGWARDD, "--store", os.path.join(tmp, "s0"), "--listen",
                        "agent+tls://127.0.0.1:0", "--tls-cert", pem("server.pem"), "--tls-key",
                        pem("server.key"), "--check-config"], capture_output=True, text=True)
    check("agent+tls:// without tls_ca: refused, exit 2", r.returncode == 2 and
          "tls_ca" in r.stderr, r.stderr)
    col = Collector(tmp, "agent+tls://127.0.0.1:0",
                    ["--tls-cert", pem("server.pem"), "--tls-key", pem("server.key"),
                     "--tls-ca", pem("ca.pem"), "--host-from", "claimed"])
    port = col.start()
    try:
        refused = False
        try:
            x = Agent(port, tls_ctx(tmp, None))
            x.send(b"HELLO lwap/1 agent=a stream=%s host=hostb.example" % stream_id().encode())
            refused = x.frame() is None
        except (ssl.SSLError, OSError):
            refused = True
        check("a client without a certificate is refused", refused)
        a = Agent(port, tls_ctx(tmp, "hosta"))
        check("hosta's certificate: welcomed", a.hello(stream_id(), host="hostb.example") == 0)
        for seq in range(1, 11):
            a.rec(seq, b"audit", b"node=hostb.example " + audit_rec(seq))
        for seq in range(11, 21):
            a.rec(seq, b"syslog", b"<13>Dec  1 10:00:00 hostb.example app[9]: tls rec-%d" % seq)
        ack, other = a.until_ack(20)
        check("ACK 20 over TLS", ack == 20 and not other, (ack, other))
        a.close()
        dirs = sorted(d for d in os.listdir(col.store) if not d.startswith("."))
        check("filed under the certificate's name only, never the claimed one",
              dirs == ["hosta.example"], dirs)
        audit = lines_of(col.store, "hosta.example", "audit.log")
        app = lines_of(col.store, "hosta.example", "app.log")
        check("audit: node= the proven name, claimed_node=hostb.example kept",
              len(audit) == 10 and all(l.startswith(b"node=hosta.example ") and
                                       b"claimed_node=hostb.example" in l for l in audit), audit[:2])
        check("syslog: via=agent+tls id=hosta.example, the claimed host kept as data",
              len(app) == 10 and all(l.endswith(b"via=agent+tls id=hosta.example") and
                                     b" hostb.example app[9]: tls rec-" in l for l in app), app[:2])
        # a fast pipelined stream over TLS: reading pauses at 4096 records
        # waiting for a commit and resumes with what TLS holds decrypted
        last, acked = pump(port, stream_id(), 30000, threading.Event(), ctx=tls_ctx(tmp, "hosta"))
        check("30000 pipelined records over TLS all acknowledged", acked == 30000, (last, acked))
        c = seq_counts(col.store, "hosta.example")
        bad = [k for k in range(1, 30001) if c[k] != (2 if k <= 20 else 1)]  # 1..20: both streams
        check("each stored once", len(c) == 30000 and not bad, (len(c), bad[:5]))
        check("--status: the refused handshake counted",
              wait_for(lambda: col.listener().get("tls_failures") == 1, 10), col.listener())
    finally:
        rc = col.stop()
        check("agent+tls: SIGTERM, exit 0", rc == 0, col.text()[-2000:])


def main():
    random.seed()
    tmp = tempfile.mkdtemp(prefix="lw-agent-")
    try:
        for name, fn in (("plain", plain), ("crashes", crashes), ("tls", tls)):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            fn(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
