#!/usr/bin/env python3
"""logward-agent's journal input, end to end, with a real journal file.

No journald runs here, so the test writes journal files itself with
Debian's systemd-journal-remote (`-o FILE.journal -` reading journal export
format): entries from sshd (PID 42, unit ssh.service, uid 0, priority
warning) and cron, one MESSAGE with a newline, one binary field. Then
`logward-agent --input journal:DIR` ships them over agent:// to logwardd:
  - each entry is stored once, under <host>/sshd.log or cron.log, with its
    time (from __REALTIME_TIMESTAMP, microseconds, UTC), program and PID,
    its message (a newline escaped as #012), and its fields as RFC 5424
    structured data (_SYSTEMD_UNIT, _UID, ...);
  - the agent is killed with SIGKILL, a second journal file appears in the
    directory, the agent restarts from its saved cursor: the new entries
    arrive, none of the old ones again.
Skips (77) without systemd-journal-remote or logward-agent.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

from harness import BIN, LOGWARDD, agent_status, check, summary, wait_for
from harness import stored_lines as stored

AGENT = os.path.join(BIN, "logward-agent")
REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"
T0 = 1764600000000000  # 2025-12-01T14:40:00Z in microseconds


def entry(i):
    prog, pid, unit = ("sshd", 42, "ssh.service") if i % 3 else ("cron", 77, "cron.service")
    msg = f"journal message {i}" + ("\nsecond line" if i == 4 else "")
    out = (f"__REALTIME_TIMESTAMP={T0 + i * 1000}\n__MONOTONIC_TIMESTAMP={1000 + i}\n"
           f"_BOOT_ID={BOOT}\nSYSLOG_IDENTIFIER={prog}\n_PID={pid}\nPRIORITY=4\n"
           f"SYSLOG_FACILITY=4\n_SYSTEMD_UNIT={unit}\n_UID=0\n_HOSTNAME=jhost\n").encode()
    m = msg.encode()
    out += b"MESSAGE\n" + struct.pack("<Q", len(m)) + m + b"\n"
    if i == 5:
        blob = b"\x00\x01binary"
        out += b"BLOB_FIELD\n" + struct.pack("<Q", len(blob)) + blob + b"\n"
    return out + b"\n"


def write_journal(path, rng):
    data = b"".join(entry(i) for i in rng)
    subprocess.run([REMOTE, "--split-mode=none", "-o", path, "-"], input=data, check=True,
                   capture_output=True)




def main():
    if not os.access(REMOTE, os.X_OK) or not os.access(AGENT, os.X_OK):
        print("SKIP systemd-journal-remote or logward-agent missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-agent-journal-")
    jdir = os.path.join(tmp, "journal")
    os.makedirs(jdir)
    write_journal(os.path.join(jdir, "a.journal"), range(0, 30))
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    state = os.path.join(tmp, "state")
    log = open(os.path.join(tmp, "log"), "w+b")
    coll = subprocess.Popen([LOGWARDD, "--foreground", "--store", store, "--listen",
                             "agent://127.0.0.1:0", "--ready-file", ready], stdout=log, stderr=log)
    agent = None

    def start_agent():
        return subprocess.Popen([AGENT, "--foreground", "--state", state, "--input",
                                 "journal:" + jdir, "--collector",
                                 f"agent://127.0.0.1:{port}", "--backoff-max", "200"],
                                stdout=log, stderr=log)
    try:
        if not wait_for(lambda: os.path.exists(ready), timeout=20):
            check("logwardd started", False, open(log.name, "rb").read())
            return summary()
        port = int(open(ready).read().split()[1])
        agent = start_agent()
        got = wait_for(lambda: agent_status(state).get("acked", 0) >= 30, timeout=60)
        check("30 journal entries acknowledged", got, agent_status(state))
        s = stored(store)
        hosts = {k.split("/")[0] for k in s}
        check("filed under one host directory", len(hosts) == 1, sorted(s))
        host = hosts.pop() if hosts else "?"
        sshd = s.get(f"{host}/sshd.log", [])
        cron = s.get(f"{host}/cron.log", [])
        check("20 sshd and 10 cron entries, in their program's file",
              len(sshd) == 20 and len(cron) == 10, (len(sshd), len(cron), sorted(s)))
        first = next((l for l in sshd if b"journal message 1" in l), b"")
        check("time from __REALTIME_TIMESTAMP (UTC, microseconds)",
              first.startswith(b"2025-12-01T14:40:00.001000"), first)
        check("program and PID from SYSLOG_IDENTIFIER and _PID", b" sshd[42]: " in first, first)
        check("fields kept as structured data (_SYSTEMD_UNIT, _UID)",
              b'_SYSTEMD_UNIT="ssh.service"' in first and b'_UID="0"' in first, first)
        multi = next((l for l in sshd if b"journal message 4" in l), b"")
        check("a newline in MESSAGE is escaped, the entry stays one line",
              b"journal message 4#012second line" in multi, multi)
        check("via=agent on every line", all(b"via=agent" in l for l in sshd + cron))

        agent.send_signal(signal.SIGKILL)
        agent.wait()
        write_journal(os.path.join(jdir, "b.journal"), range(30, 45))
        agent = start_agent()
        got = wait_for(lambda: sum(len(v) for v in stored(store).values()) >= 45, timeout=60)
        wait_for(lambda: agent_status(state).get("acked", 0) >= 15, timeout=30)
        s = stored(store)
        msgs = [l.split(b"journal message ", 1)[1].split(b"#", 1)[0].split(b"\t", 1)[0]
                for v in s.values() for l in v if b"journal message " in l]
        nums = sorted(int(m) for m in msgs)
        check("after SIGKILL and a new journal file: entries 0..44 each exactly once",
              got and nums == list(range(45)), nums)
    finally:
        for p in (agent, coll):
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
