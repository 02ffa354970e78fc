#!/usr/bin/env python3
"""logward-agent's spine against real logwardd collectors on loopback:
failover, reload, the queue's bound under both policies, the command line.

  - failover: an agent with two collectors (A, then B) ships to A; A stops;
    the agent says once that A is unreachable (with the reason), moves to B
    and ships the rest there; A's and B's stores together hold every line
    exactly once;
  - SIGHUP: the configuration file is rewritten to name a third collector
    C: after SIGHUP the agent ships there, from where it was (no line lost
    or repeated); a broken file at SIGHUP is said (FILE:LINE) and the agent
    goes on with the old configuration;
  - queue full, drop-oldest: with no collector up and a 2 MiB queue, 6 MB of
    lines make the agent drop its oldest records, counted (`dropped`) and
    said; once a collector is up, the store holds the newest lines, and
    stored + dropped = written;
  - queue full, block: the same with block: nothing is dropped, the input
    is `blocked` and the queue said full; once the collector is up every
    line arrives, each once, and the input read on where it stopped;
  - systemd's notification socket gets READY=1, RELOADING=1 and READY=1
    at SIGHUP, STOPPING=1 at SIGTERM;
  - the command line: --status without state is exit 2, --check-config on a
    broken file names FILE:LINE and exits 2, --help exits 0.
The test waits on the agent's status.json and the stores, not on sleeps
(except to give a dead collector's port time to be retried).
Skips (77) when logward-agent is not built.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from harness import BIN, LOGWARDD, check, read_tree, summary, wait_for

AGENT = os.path.join(BIN, "logward-agent")
LINE_RE = re.compile(rb"app\[7\]: spine (\d+) ")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Collector:
    def __init__(self, tmp, name, port=0):
        self.store = os.path.join(tmp, "store-" + name)
        self.ready = os.path.join(tmp, "ready-" + name)
        self.log = open(os.path.join(tmp, "logwardd-" + name + ".log"), "ab")
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        self.p = subprocess.Popen([LOGWARDD, "--store", self.store, "--num-logs", "99",
                                   "--listen", f"agent://127.0.0.1:{port}",
                                   "--ready-file", self.ready], stdout=self.log, stderr=self.log)
        procs.append(self.p)
        if not wait_for(lambda: os.path.exists(self.ready) or self.p.poll() is not None, 15) \
                or self.p.poll() is not None:
            raise RuntimeError("logwardd did not start; see " + self.log.name)
        self.port = int(open(self.ready).read().split()[1])
        self.url = f"agent://127.0.0.1:{self.port}"

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=20)

    def lines(self):
        """{n: times stored} over every stored line of the spine's writer."""
        seen = {}
        if not os.path.isdir(self.store):
            return seen
        for rel, lines in read_tree(self.store).items():
            if rel.startswith("."):
                continue
            for l in lines:
                m = LINE_RE.search(l)
                if m:
                    seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + 1
        return seen


class Agent:
    def __init__(self, tmp, name, args, env=None):
        self.state = os.path.join(tmp, "state-" + name)
        self.logpath = os.path.join(tmp, "agent-" + name + ".log")
        log = open(self.logpath, "ab")
        self.p = subprocess.Popen([AGENT, "--foreground", "--state", self.state,
                                   "--backoff-max", "200", "--status-interval", "100", *args],
                                  stdout=log, stderr=log, env=env)
        procs.append(self.p)

    def status(self):
        r = subprocess.run([AGENT, "--status", "--state", self.state], capture_output=True,
                           text=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def text(self):
        return open(self.logpath, "rb").read().decode(errors="replace")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        return self.p.wait(timeout=20)


class Writer:
    def __init__(self, path):
        self.path, self.n = path, 0
        open(path, "w").close()

    def write(self, count, pad=40):
        with open(self.path, "a") as f:
            for _ in range(count):
                f.write(f"Dec  1 10:00:00 h app[7]: spine {self.n} {'x' * pad}\n")
                self.n += 1


def union(*collectors):
    total = {}
    for c in collectors:
        for n, k in c.lines().items():
            total[n] = total.get(n, 0) + k
    return total


def exactly_once(seen, want):
    lost = [n for n in want if n not in seen]
    dup = [n for n, k in seen.items() if k > 1]
    return not lost and not dup and len(seen) == len(want), (len(lost), lost[:5], dup[:5])


def failover_and_reload(tmp):
    a, b = Collector(tmp, "a"), Collector(tmp, "b")
    w = Writer(os.path.join(tmp, "app.log"))
    conf = os.path.join(tmp, "agent.conf")
    open(conf, "w").write(f"input = file:{w.path}\ncollector = {a.url}\ncollector = {b.url}\n")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(tmp, "notify"))
    notify.settimeout(15)
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"))
    ag = Agent(tmp, "main", ["--config", conf, "--failback", "1000"], env)
    check("systemd is told READY=1", notify.recv(100) == b"READY=1")
    acked = lambda n: lambda: ag.status().get("acked", 0) >= n
    w.write(100)
    check("100 lines acknowledged by the first collector", wait_for(acked(100), 30), ag.status())
    check("all of them in A's store", len(a.lines()) == 100, len(a.lines()))

    a.stop()
    w.write(100)
    check("after A stops, the rest is acknowledged (by B)", wait_for(acked(200), 30), ag.status())
    ok, why = exactly_once(union(a, b), range(200))
    check("A's and B's stores together hold every line once", ok, why)
    check("B holds the lines written after A stopped", all(n in b.lines() for n in range(100, 200)))
    said = [l for l in ag.text().splitlines()
            if a.url in l and ("unreachable" in l or "lost" in l)]
    check("A's outage said once, with the reason",
          len(said) == 1 and "the collector is stopping" in said[0], said)
    check("a collector new to the stream is no cause for alarm",
          "state was reset" not in ag.text(), ag.text()[-800:])
    st = ag.status()
    check("A's failures counted, B's session counted",
          st["collectors"][0]["failures"] >= 1 and st["collectors"][1]["connects"] >= 1, st)

    a = Collector(tmp, "a", a.port)  # A is back: after --failback 1000 the agent returns
    check("failback: with A back, the agent returns to it",
          wait_for(lambda: ag.status().get("collector") == a.url and
                   ag.status().get("state") == "connected", 30), ag.status())
    w.write(20)
    check("failback: lines written after the return are acknowledged", wait_for(acked(220), 30),
          ag.status())
    ok, why = exactly_once(union(a, b), range(220))
    check("failback: A's and B's stores together hold every line once", ok, why)
    check("failback: A holds the lines written after its return",
          all(n in a.lines() for n in range(200, 220)))
    check("failback: A's return is said", f"connected to collector {a.url}" in ag.text(),
          ag.text()[-800:])

    c = Collector(tmp, "c")
    open(conf, "w").write(f"input = file:{w.path}\ncollector = {c.url}\n")
    ag.p.send_signal(signal.SIGHUP)
    check("systemd is told RELOADING=1, then READY=1",
          [notify.recv(100), notify.recv(100)] == [b"RELOADING=1", b"READY=1"])
    check("SIGHUP: the agent now ships to C",
          wait_for(lambda: ag.status().get("collector") == c.url and
                   ag.status().get("state") == "connected", 30), ag.status())
    w.write(50)
    check("lines written after the reload are acknowledged", wait_for(acked(270), 30), ag.status())
    ok, why = exactly_once(union(a, b, c), range(270))
    check("A, B and C together hold every line once", ok, why)
    check("C holds the lines written after the reload",
          all(n in c.lines() for n in range(220, 270)), sorted(c.lines())[:5])

    open(conf, "w").write(f"input = file:{w.path}\ncollector = {c.url}\nqueue_full = maybe\n")
    ag.p.send_signal(signal.SIGHUP)
    check("a broken file at SIGHUP is said with FILE:LINE",
          wait_for(lambda: f"{conf}:3: queue_full = maybe" in ag.text(), 15), ag.text()[-800:])
    w.write(10)
    check("and the agent goes on with the old configuration", wait_for(acked(280), 30),
          ag.status())
    while True:  # the READY=1 after the broken file's SIGHUP, then STOPPING=1
        notify.settimeout(0.2)
        try:
            notify.recv(100)
        except socket.timeout:
            break
    check("SIGTERM: exit 0", ag.stop() == 0)
    notify.settimeout(5)
    check("systemd is told STOPPING=1", notify.recv(100) == b"STOPPING=1")
    check("status.json says it stopped", ag.status().get("running") is False, ag.status())
    for x in (a, b, c):
        x.stop()


def full_queue(tmp, policy):
    port = free_port()
    w = Writer(os.path.join(tmp, "full-" + policy + ".log"))
    ag = Agent(tmp, policy, ["--input", "file:" + w.path, "--collector",
                             f"agent://127.0.0.1:{port}", "--queue-max", "2200K",
                             "--queue-segment", "1100K", "--queue-full", policy])
    total = 60000  # about 6.5 MB of lines, three times the queue
    w.write(total, pad=60)
    if policy == "drop-oldest":
        check("drop-oldest: the agent drops and counts",
              wait_for(lambda: ag.status().get("dropped", 0) > 0 and
                       ag.status().get("read", 0) == total, 60), ag.status())
        check("drop-oldest: the loss is said", "dropped the" in ag.text(), ag.text()[-800:])
    else:
        check("block: the input is blocked, nothing dropped",
              wait_for(lambda: any(i.get("blocked") for i in ag.status().get("inputs", [])), 60)
              and ag.status().get("dropped") == 0, ag.status())
        check("block: the queue said it is full", "full" in ag.text(), ag.text()[-800:])
    st = ag.status()
    check(f"{policy}: the queue stays within its bound", st.get("queue_bytes", 1 << 30) <= 2200 * 1024, st)
    col = Collector(tmp, "full-" + policy, port)
    check(f"{policy}: everything left is acknowledged once the collector is up",
          wait_for(lambda: ag.status().get("acked", 0) >= total and ag.status().get("pending") == 0,
                   120), ag.status())
    seen = col.lines()
    st = ag.status()
    if policy == "drop-oldest":
        dropped = st.get("dropped", 0)
        ok, why = exactly_once(seen, range(dropped, total))
        check("drop-oldest: the store holds the newest lines, each once, and stored + dropped "
              "= written", ok and len(seen) + dropped == total, (why, len(seen), dropped))
    else:
        ok, why = exactly_once(seen, range(total))
        check("block: every line stored, each once", ok, why)
    ag.stop()
    col.stop()


def command_line(tmp):
    r = subprocess.run([AGENT, "--status", "--state", os.path.join(tmp, "nothing")],
                       capture_output=True, text=True)
    check("--status without agent state: exit 2", r.returncode == 2, r)
    bad = os.path.join(tmp, "bad.conf")
    open(bad, "w").write("state = /tmp/x\ncollector = agent://h\nbackoff_max = soon\n")
    r = subprocess.run([AGENT, "--config", bad, "--check-config"], capture_output=True, text=True)
    check("--check-config names FILE:LINE and exits 2",
          r.returncode == 2 and f"{bad}:3: backoff_max = soon" in r.stderr, r)
    r = subprocess.run([AGENT, "--help"], capture_output=True, text=True)
    check("--help: exit 0, lists the settings", r.returncode == 0 and "queue_full" in r.stdout, r)


def main():
    if not os.access(AGENT, os.X_OK):
        print("SKIP logward-agent not built")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-agent-spine-")
    try:
        command_line(tmp)
        failover_and_reload(tmp)
        full_queue(tmp, "drop-oldest")
        full_queue(tmp, "block")
    except (RuntimeError, subprocess.TimeoutExpired, KeyError, IndexError) as e:
        check("run completed", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    rc = summary()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("kept", tmp)
    return rc


if __name__ == "__main__":
    sys.exit(main())
