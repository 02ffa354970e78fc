#!/usr/bin/env python3
"""logward-agent's file and plugin inputs, end to end, into logwardd.

One agent follows `file:DIR/*.log` and ships over agent:// to logwardd on
loopback (port 0, read back from the ready file). The files hold the line
shapes Debian writes: rsyslog's RFC 3339 stamps (app.log), the traditional
`Dec  1 10:00:00` ones (other.log), and a line with its own PRI (new.log).
While it runs:
  - app.log is rotated by rename with lines still unread in the old file,
    other.log by copytruncate (after the agent read it), a file matching
    the pattern appears (new.log), and rotated or compressed siblings
    (app.log.1, other.log.1, x.log.2.gz) are never shipped on their own;
  - the agent is killed with SIGKILL; while it is down app.log is appended
    to and rotated twice more, and new.log grows; the restarted agent
    finishes the rotated files from its saved position.
Every line written arrives exactly once (by its tag), and each is stored
under its program with the message as written. Then a second agent runs
as auditd's plugin would start it (`--input audit:-`, records on its
stdin, own state directory): the records arrive in <host>/audit.log, and
when stdin closes the agent stops by itself with status 0.
Waits on the agent's counters and the store, not on sleeps.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import BIN, LOGWARDD, agent_status, check, summary, wait_for
from harness import stored_lines as stored

AGENT = os.path.join(BIN, "logward-agent")
TAG = re.compile(rb"line (app|other|new) (\d+)")
SERIAL = re.compile(rb"msg=audit\(\d+\.\d+:(\d+)\)")




class Lines:
    """Writes tagged lines and remembers which were written."""

    def __init__(self, dirpath):
        self.dir = dirpath
        self.n = {"app": 0, "other": 0, "new": 0}
        self.written = []

    def add(self, name, kind, count):
        shapes = {
            "app": "2026-12-01T10:00:00.123456+00:00 hostx app[1]: line app {}",
            "other": "Dec  1 10:00:00 hostx other[2]: line other {}",
            "new": "<14>Dec  1 10:00:00 hostx newprog: line new {}",
        }
        with open(os.path.join(self.dir, name), "a") as f:
            for _ in range(count):
                f.write(shapes[kind].format(self.n[kind]) + "\n")
                self.written.append((kind, self.n[kind]))
                self.n[kind] += 1

    def path(self, name):
        return os.path.join(self.dir, name)


def tags(store):
    got = []
    for name, lines in stored(store).items():
        for l in lines:
            m = TAG.search(l)
            if m:
                got.append((m.group(1).decode(), int(m.group(2)), name, l))
    return got


def main():
    if not os.access(AGENT, os.X_OK):
        print("SKIP logward-agent not built")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-agent-inputs-")
    ind = os.path.join(tmp, "in")
    os.makedirs(ind)
    store, ready = os.path.join(tmp, "store"), os.path.join(tmp, "ready")
    state, state2 = os.path.join(tmp, "state"), os.path.join(tmp, "state-audisp")
    log = open(os.path.join(tmp, "log"), "w+b")
    coll = subprocess.Popen([LOGWARDD, "--foreground", "--store", store, "--listen",
                             "agent://127.0.0.1:0", "--ready-file", ready, "--max-log-file", "0"],
                            stdout=log, stderr=log)
    agent = plugin = None
    w = Lines(ind)

    def start_agent():
        return subprocess.Popen([AGENT, "--foreground", "--state", state, "--input",
                                 "file:" + os.path.join(ind, "*.log"), "--collector",
                                 f"agent://127.0.0.1:{port}", "--backoff-max", "200"],
                                stdout=log, stderr=log)

    def acked(st, n):
        return wait_for(lambda: agent_status(st).get("acked", 0) >= n, timeout=60)

    try:
        if not wait_for(lambda: os.path.exists(ready), timeout=20):
            check("logwardd started", False, open(log.name, "rb").read())
            return summary()
        port = int(open(ready).read().split()[1])
        w.add("app.log", "app", 200)
        w.add("other.log", "other", 100)
        open(w.path("x.log.2.gz"), "wb").write(b"\x1f\x8b not a log\n")
        agent = start_agent()
        check("300 lines of two files acknowledged", acked(state, 300), agent_status(state))

        # Rename rotation with unread lines in the old file; copytruncate.
        w.add("app.log", "app", 50)
        os.rename(w.path("app.log"), w.path("app.log.1"))
        w.add("app.log", "app", 20)
        shutil.copy(w.path("other.log"), w.path("other.log.1"))
        open(w.path("other.log"), "w").close()
        w.add("other.log", "other", 30)
        w.add("new.log", "new", 40)  # a new match
        check("rotation, copytruncate and a new file: 440 acknowledged", acked(state, 440),
              agent_status(state))
        st = agent_status(state).get("inputs", [{}])[0]
        check("rotations counted (rename and truncation)", st.get("rotations", 0) >= 2, st)

        # SIGKILL; rotations and growth while down.
        agent.send_signal(signal.SIGKILL)
        agent.wait()
        w.add("app.log", "app", 30)
        os.rename(w.path("app.log.1"), w.path("app.log.2"))
        os.rename(w.path("app.log"), w.path("app.log.1"))
        w.add("app.log", "app", 25)
        os.rename(w.path("app.log.2"), w.path("app.log.3"))
        os.rename(w.path("app.log.1"), w.path("app.log.2"))
        os.rename(w.path("app.log"), w.path("app.log.1"))
        w.add("app.log", "app", 15)
        w.add("new.log", "new", 10)
        before = agent_status(state).get("acked", 0)
        agent = start_agent()
        total = len(w.written)
        wait_for(lambda: len(tags(store)) >= total, timeout=60)
        check("after SIGKILL and two rotations while down: acked again",
              acked(state, before + (total - 440)), (before, agent_status(state)))
        got = tags(store)
        seen = sorted((k, n) for k, n, _, _ in got)
        check("every line exactly once (0 lost, 0 duplicated)",
              seen == sorted(w.written),
              (len(seen), len(w.written), len(set(seen)),
               sorted(set(w.written) - set(seen))[:10]))
        files = {(k, name.split("/", 1)[-1]) for k, _, name, _ in got}
        check("stored under each line's program",
              files == {("app", "app.log"), ("other", "other.log"), ("new", "newprog.log")},
              files)
        sample = next((l for k, n, _, l in got if k == "app" and n == 7), b"")
        check("an RFC 3339 line keeps its time, host and message",
              sample.startswith(b"2026-12-01T10:00:00.123456+00:00 hostx app[1]: line app 7\t"),
              sample)
        sample = next((l for k, n, _, l in got if k == "other" and n == 3), b"")
        check("a traditional line keeps its host and message",
              b" hostx other[2]: line other 3\t" in sample, sample)

        # Plugin mode: records on stdin, as auditd's plugins.d starts it.
        plugin = subprocess.Popen([AGENT, "--foreground", "--state", state2, "--input",
                                   "audit:-", "--collector", f"agent://127.0.0.1:{port}"],
                                  stdin=subprocess.PIPE, stdout=log, stderr=log)
        for i in range(1, 101):
            plugin.stdin.write(b"type=USER_LOGIN msg=audit(1764583200.%03d:%d): pid=1 uid=0 "
                               b"msg='op=login acct=\"root\" res=success'\n" % (i % 1000, i))
        plugin.stdin.flush()
        check("plugin mode: 100 records from stdin acknowledged", acked(state2, 100),
              agent_status(state2))
        plugin.stdin.close()
        try:
            rc = plugin.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        check("plugin mode: the agent stops by itself at the end of stdin, status 0", rc == 0, rc)
        serials = sorted(int(m.group(1)) for name, lines in stored(store).items()
                         if name.endswith("/audit.log") for l in lines
                         for m in [SERIAL.search(l)] if m)
        check("plugin mode: serials 1..100 each once in <host>/audit.log",
              serials == list(range(1, 101)), serials[:20])
    finally:
        for p in (agent, plugin, coll):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    rc = summary()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(open(log.name, "rb").read().decode(errors="replace")[-3000:])
        print("kept", tmp)
    return rc


if __name__ == "__main__":
    sys.exit(main())
