#!/usr/bin/env python3
"""logward-agent to logwardd: nothing lost, nothing doubled, through crashes.

A writer appends 1,000,000 records, half audit records to audit.log
(rotated by rename every 100,000 records, as auditd does) and half
syslog-format lines to app.log, while logward-agent follows both
(--input audit:PATH --input file:PATH) and ships them over agent:// to
logwardd through a TCP proxy that this test controls. During the run the
test:
  - kills logwardd with SIGKILL 10 times (restarted on the same port),
  - kills logward-agent with SIGKILL 5 times (restarted on its state dir),
  - cuts the connection 5 times (the proxy resets every open connection and
    refuses new ones until the agent has tried again),
each event triggered by progress in the store (bytes stored), not by
sleeps. At the end it waits for the agent's `acked` counter to cover every
record, then reads the store: every audit serial and every syslog sequence
number appears exactly once (0 lost, 0 duplicated), and each stored record
is byte-identical to what was written (a SHA-256 per record, after the
collector's documented node= rewrite for audit records).
logwardd rotates its files at the default 8 MB (so records also land
across rotations of the store) and keeps 200 of them, so that retention
never deletes what the test counts.
LW_NOLOSS_RECORDS overrides the count for development runs.
"""
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from harness import BIN, LOGWARDD, check, summary, wait_for

AGENT = os.path.join(BIN, "logward-agent")
TOTAL = int(os.environ.get("LW_NOLOSS_RECORDS", "1000000"))
ROTATE_EVERY = 100_000
CHUNK = 2_000
COLLECTOR_KILLS, AGENT_KILLS, CUTS = 10, 5, 5


def audit_record(n):
    ms = n % 1000
    return (f"type=SYSCALL msg=audit(1764600{n // 1000 % 1000:03d}.{ms:03d}:{n}): arch=c000003e "
            f"syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=0 ppid=1 pid={n} "
            f"auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 "
            f'comm="noloss" exe="/usr/bin/noloss" key="noloss"')


def syslog_line(n):
    return f"Dec  1 10:{n // 60000 % 60:02d}:{n // 1000 % 60:02d} srchost app[4242]: noloss {n} {'x' * (n % 40)}"


def digest(s):
    return hashlib.sha256(s.encode() if isinstance(s, str) else s).digest()


class Writer(threading.Thread):
    """Appends TOTAL records in chunks, rotating audit.log by rename."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.done, self.written = d, False, 0

    def rotate(self):
        base = os.path.join(self.d, "audit.log")
        for i in range(40, 0, -1):
            if os.path.exists(f"{base}.{i}"):
                os.rename(f"{base}.{i}", f"{base}.{i + 1}")
        os.rename(base, f"{base}.1")

    def run(self):
        half = TOTAL // 2
        a = open(os.path.join(self.d, "audit.log"), "a")
        s = open(os.path.join(self.d, "app.log"), "a")
        n = 0
        while n < half:
            k = min(CHUNK, half - n)
            a.write("".join(audit_record(i) + "\n" for i in range(n, n + k)))
            s.write("".join(syslog_line(i) + "\n" for i in range(n, n + k)))
            a.flush()
            s.flush()
            n += k
            self.written = 2 * n
            if n % ROTATE_EVERY == 0 and n < half:
                a.close()
                self.rotate()
                a = open(os.path.join(self.d, "audit.log"), "a")
            time.sleep(0.002)
        a.close()
        s.close()
        self.done = True


class Proxy(threading.Thread):
    """Forwards localhost:port to the collector; cut() resets every open
    connection and refuses new ones until resume()."""

    def __init__(self, target_port):
        super().__init__(daemon=True)
        self.target = target_port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.pairs, self.lock = [], threading.Lock()
        self.refusing, self.refused, self.accepted = False, 0, 0

    def run(self):
        while True:
            c, _ = self.ls.accept()
            if self.refusing:
                self.refused += 1
                reset(c)
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                self.refused += 1
                reset(c)
                continue
            self.accepted += 1
            with self.lock:
                self.pairs.append((c, u))
            threading.Thread(target=self.pump, args=(c, u), daemon=True).start()

    def pump(self, a, b):
        try:
            while True:
                r, _, _ = select.select([a, b], [], [], 1.0)
                for s in r:
                    data = s.recv(1 << 16)
                    if not data:
                        raise OSError("eof")
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):  # ValueError: cut() closed a socket under us
            pass
        for s in (a, b):
            reset(s)

    def cut(self):
        self.refusing = True
        before = self.refused
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            reset(a)
            reset(b)
        return before

    def resume(self):
        self.refusing = False


def reset(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass


def store_bytes(store):
    total = 0
    for d, _, files in os.walk(store):
        if "/." in d:
            continue
        for f in files:
            if not f.startswith("."):
                try:
                    total += os.path.getsize(os.path.join(d, f))
                except OSError:
                    pass
    return total


class Daemons:
    def __init__(self, tmp):
        self.tmp = tmp
        self.store = os.path.join(tmp, "store")
        self.state = os.path.join(tmp, "state")
        self.ready = os.path.join(tmp, "ready")
        self.port = 0
        self.collector = self.agent = None
        self.logs = open(os.path.join(tmp, "daemons.log"), "ab")

    def start_collector(self):
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        args = [LOGWARDD, "--foreground", "--store", self.store, "--listen",
                f"agent://127.0.0.1:{self.port}", "--ready-file", self.ready,
                "--num-logs", "200"]
        self.collector = subprocess.Popen(args, stderr=self.logs, stdout=self.logs)
        if not wait_for(lambda: os.path.exists(self.ready), timeout=30):
            raise RuntimeError("logwardd did not start; see " + self.logs.name)
        self.port = int(open(self.ready).read().split()[1])

    def start_agent(self, proxy_port):
        args = [AGENT, "--foreground", "--state", self.state,
                "--input", "audit:" + os.path.join(self.tmp, "in", "audit.log"),
                "--input", "file:" + os.path.join(self.tmp, "in", "app.log"),
                "--collector", f"agent://127.0.0.1:{proxy_port}", "--backoff-max", "200"]
        self.agent = subprocess.Popen(args, stderr=self.logs, stdout=self.logs)

    def kill(self, which):
        p = getattr(self, which)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def agent_status(self):
        r = subprocess.run([AGENT, "--status", "--state", self.state], capture_output=True, text=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}


AUDIT_RE = re.compile(rb"^node=\S+ (type=SYSCALL msg=audit\(\d+\.\d+:(\d+)\):.*)$")
SYSLOG_RE = re.compile(rb"^\S+ \S+ app\[4242\]: (noloss (\d+) x*)\t")


def read_store(store):
    """{("a"|"s", n): [digest, ...]} over every stored line."""
    seen, other = {}, 0
    for d, _, files in os.walk(store):
        if "/." in d[len(store):]:
            continue
        for f in files:
            if f.startswith("."):
                continue
            for line in open(os.path.join(d, f), "rb").read().split(b"\n")[:-1]:
                m = AUDIT_RE.match(line)
                if m:
                    seen.setdefault(("a", int(m.group(2))), []).append(digest(m.group(1)))
                    continue
                m = SYSLOG_RE.match(line)
                if m:
                    seen.setdefault(("s", int(m.group(2))), []).append(digest(m.group(1)))
                    continue
                other += 1
    return seen, other


def main():
    if not os.access(AGENT, os.X_OK):
        print("SKIP logward-agent not built")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-noloss-")
    os.makedirs(os.path.join(tmp, "in"))
    open(os.path.join(tmp, "in", "audit.log"), "w").close()
    open(os.path.join(tmp, "in", "app.log"), "w").close()
    dm = Daemons(tmp)
    ok = False
    try:
        dm.start_collector()
        proxy = Proxy(dm.port)
        proxy.start()
        dm.start_agent(proxy.port)
        writer = Writer(os.path.join(tmp, "in"))
        writer.start()
        # Each record is stored as at least ~150 bytes: spread the 20
        # events over the first 80% of the run.
        step = TOTAL * 150 * 8 // 10 // (COLLECTOR_KILLS + AGENT_KILLS + CUTS + 1)
        plan = ["collector", "collector", "agent", "cut"] * 5
        random.Random(6).shuffle(plan)
        done = {"collector": 0, "agent": 0, "cut": 0}
        for i, ev in enumerate(plan):
            target = (i + 1) * step
            if not wait_for(lambda: store_bytes(dm.store) >= target, timeout=300, step=0.1):
                raise RuntimeError(f"no progress before event {i} ({ev}): store at "
                                   f"{store_bytes(dm.store)} bytes, want {target}")
            if ev == "collector":
                dm.kill("collector")
                dm.start_collector()
            elif ev == "agent":
                dm.kill("agent")
                dm.start_agent(proxy.port)
            else:
                before = proxy.cut()
                wait_for(lambda: proxy.refused > before, timeout=30, step=0.01)
                proxy.resume()
            done[ev] += 1
        check("collector killed with SIGKILL 10 times", done["collector"] == COLLECTOR_KILLS, done)
        check("agent killed with SIGKILL and restarted 5 times", done["agent"] == AGENT_KILLS, done)
        check("connection cut 5 times (refused reconnects seen)", done["cut"] == CUTS, done)
        wait_for(lambda: writer.done, timeout=600, step=0.2)
        check("writer wrote every record", writer.written == TOTAL, writer.written)
        acked = lambda: dm.agent_status().get("acked", 0)
        check("agent's acked counter reaches every record",
              wait_for(lambda: acked() >= TOTAL, timeout=600, step=0.2),
              dm.agent_status())
        seen, other = read_store(dm.store)
        half = TOTAL // 2
        lost = [k for k in [("a", n) for n in range(half)] + [("s", n) for n in range(half)]
                if k not in seen]
        dups = [k for k, v in seen.items() if len(v) > 1]
        bad = [k for k, v in seen.items()
               if v[0] != digest(audit_record(k[1]) if k[0] == "a" else
                                 syslog_line(k[1]).split(": ", 1)[1])]
        print(f"stored {len(seen)} distinct records of {TOTAL}; lost {len(lost)}, "
              f"duplicated {len(dups)}, altered {len(bad)}, other lines {other}")
        check("0 records lost", not lost, lost[:10])
        check("0 records duplicated", not dups, dups[:10])
        check("every stored record is byte-identical to the one written", not bad, bad[:10])
        check("no stray lines in the store", other == 0, other)
        ok = True
    except RuntimeError as e:
        check("run completed", False, e)
    finally:
        for p in (dm.agent, dm.collector):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    rc = summary()
    if ok and rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.system(f"tail -30 {tmp}/daemons.log")
        print("kept", tmp)
    return rc


if __name__ == "__main__":
    sys.exit(main())
