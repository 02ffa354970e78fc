#!/usr/bin/env python3
"""logwardd with the real audisp-remote (auditd's network plugin).

Starts logwardd with an audit:// listener on loopback (port chosen by the
kernel) and a private store, then:
  - feeds every audit record of the shared samples (../shared/data/audit) to
    Debian's audisp-remote on stdin, once with `format = managed` and once
    with `format = ascii`; audisp-remote runs in a private mount namespace
    with its config bind-mounted over /etc/audit/audisp-remote.conf (it has
    no option for another path). Every record (audisp-remote drops EOE)
    must land exactly once in STORE/127.0.0.1/audit.log, as it was sent but
    with node=127.0.0.1 in front and a differing node name the sender
    claimed kept as claimed_node=, the records of each event in the order
    sent and never in more runs than sent (logwardd regroups events:
    collector_regroup.py interleaves them on purpose); lines that are not
    audit records go to audit-unparsed.log, never into the audit trail;
  - the stored audit.log is read by the real ausearch (`-if`, and `-n
    127.0.0.1`) and by `logward events`: both find the same events in it as
    in the records sent;
  - protocol details with a hand-made managed client: a record is ACKed with
    its sequence id, a heartbeat is ACKed, a second connection from the same
    address is served at once while the first is still open (auditd locks a
    restarted client out), garbage on the port closes only that connection
    and is counted, and SIGTERM sends ENDING (sequence 0) to managed
    clients after acking what they sent.
Skips (77) when audisp-remote, unshare or the shared samples are missing.
"""
import collections
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

from harness import DATA, LOGWARD, LOGWARDD, audisp_missing, check, summary, wait_for

AUDIT = os.path.join(DATA, "audit")
SKIP_EXT = (".json", ".golden", ".yaml", ".md", ".ref")
MAGIC = 0xFF0000FE
ACK, ENDING, HEARTBEAT, MESSAGE = 0x40000000, 0x40000001, 1, 0


def sample_records():
    """Every line of the shared audit samples that audisp-remote would send."""
    lines = []
    for d, _, files in sorted(os.walk(AUDIT)):
        for f in sorted(files):
            if f.endswith(SKIP_EXT):
                continue
            for l in open(os.path.join(d, f), "rb").read().split(b"\n"):
                if l.strip():
                    lines.append(l)
    return lines


def is_record(l):
    """As logwardd decides: auditd's own form, no control bytes but 0x1d."""
    body = l[l.index(b" ") + 1:] if l.startswith(b"node=") else l
    return (body.startswith(b"type=") and b" msg=audit(" in body
            and not any(c < 0x20 and c != 0x1d or c == 0x7f for c in l))


def expected_line(l, node=b"127.0.0.1"):
    claimed = None
    if l.startswith(b"node="):
        claimed, l = l[5:l.index(b" ")], l[l.index(b" ") + 1:]
    gs = l.find(b"\x1d")
    raw, enriched = (l, b"") if gs < 0 else (l[:gs], l[gs:])
    if claimed is not None and claimed != node:
        raw += b" claimed_node=" + claimed
    return b"node=" + node + b" " + raw + enriched


def frame(typ, seq, payload=b""):
    return struct.pack("<IBBIHI", MAGIC, 0, 0, typ, len(payload), seq) + payload


def read_reply(s):
    hdr = b""
    while len(hdr) < 16:
        chunk = s.recv(16 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    magic, _, _, typ, length, seq = struct.unpack("<IBBIHI", hdr)
    text = s.recv(length) if length else b""
    return typ, seq, text


def audisp_conf(path, port, fmt, queue):
    open(path, "w").write(f"""remote_server = 127.0.0.1
port = {port}
transport = tcp
queue_file = {queue}
mode = immediate
queue_depth = 20000
format = {fmt}
network_retry_time = 1
max_tries_per_record = 3
max_time_per_record = 5
heartbeat_timeout = 0
network_failure_action = stop
disk_low_action = ignore
disk_full_action = warn_once
disk_error_action = warn_once
remote_ending_action = reconnect
generic_error_action = syslog
generic_warning_action = syslog
queue_error_action = stop
overflow_action = syslog
startup_failure_action = warn_once_continue
""")


def run_audisp(conf, records, stored_path, want):
    """Runs audisp-remote with conf, writes records on its stdin and keeps
    stdin open until the store holds `want` lines (it stops sending at EOF)."""
    ar = subprocess.Popen(
        ["unshare", "-m", "sh", "-c",
         f"mount --bind '{conf}' /etc/audit/audisp-remote.conf && exec audisp-remote"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ar.stdin.write(b"".join(l + b"\n" for l in records))
        ar.stdin.flush()
        wait_for(lambda: count_lines(stored_path) >= want, timeout=90)
        time.sleep(0.3)  # anything extra (a duplicate) would show now
    finally:
        try:
            ar.stdin.close()
        except BrokenPipeError:
            pass
        try:
            ar.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ar.kill()
            ar.wait()
    return ar.stderr.read().decode(errors="replace")


def count_lines(path):
    try:
        return open(path, "rb").read().count(b"\n")
    except FileNotFoundError:
        return 0


def ausearch_keys(path, *extra):
    r = subprocess.run(["ausearch", "-if", path, "--raw", *extra], capture_output=True,
                       env={**os.environ, "TZ": "UTC", "LC_ALL": "C"})
    keys = set()
    for l in r.stdout.split(b"\n"):
        i = l.find(b"msg=audit(")
        if i >= 0:
            keys.add(l[i + 10:l.index(b")", i)].decode())
    return keys


def logward_keys(path):
    """(time, serial, number of records) of each event logward finds."""
    r = subprocess.run([LOGWARD, "events", path], capture_output=True)
    if r.returncode != 0:
        return []
    return sorted((e["when"], e["serial"], len(e["records"]))
                  for e in (json.loads(x) for x in r.stdout.splitlines()))


def event_key(l):
    i = l.find(b"msg=audit(")
    return l[i + 10:l.index(b")", i)] if i >= 0 else None


def runs(lines):
    """key -> number of contiguous runs of its records."""
    out, prev = collections.Counter(), None
    for l in lines:
        k = event_key(l)
        if k != prev:
            out[k] += 1
        prev = k
    return out


def engine_events(lines, path):
    """key -> events `logward events` finds for it in lines (written to path):
    the audit engine splits some keys itself (a one-record type first)."""
    open(path, "wb").write(b"".join(l + b"\n" for l in lines))
    env = {**os.environ, "TZ": "UTC"}
    r = subprocess.run([LOGWARD, "events", path], capture_output=True, env=env)
    by_when = collections.Counter((e["when"], e["serial"])
                                  for e in (json.loads(x) for x in r.stdout.splitlines()))
    out = {}
    for l in lines:
        k = event_key(l)
        if k is None or k in out:
            continue
        sec, rest = k.decode().split(".")
        ms, serial = rest.split(":")
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(sec))) + f".{ms}+00:00"
        out[k] = by_when[(when, int(serial))]
    return out


def regrouped_from(got, want, allowed=None):
    """None if got holds want's lines exactly once each, the records of each
    event (key) in the order sent and in no more runs than they were sent
    in or than the audit engine finds events for the key (allowed: logwardd
    regroups interleaved events); else what differs."""
    if collections.Counter(got) != collections.Counter(want):
        extra = collections.Counter(got) - collections.Counter(want)
        missing = collections.Counter(want) - collections.Counter(got)
        return ("lines differ", len(got), len(want), list(extra)[:2], list(missing)[:2])
    by_got, by_want = collections.defaultdict(list), collections.defaultdict(list)
    for l in got:
        by_got[event_key(l)].append(l)
    for l in want:
        by_want[event_key(l)].append(l)
    bad = [k for k in by_want if by_got[k] != by_want[k]]
    if bad:
        return ("order within an event", bad[:3])
    rg, rw = runs(got), runs(want)
    split = [k for k in rw if rg[k] > max(rw[k], (allowed or {}).get(k, 1))]
    return ("events split", split[:3]) if split else None


def main():
    why = audisp_missing(AUDIT)
    if why:
        print(f"SKIP: {why}")
        return 77
    os.environ["PATH"] += ":/sbin:/usr/sbin"
    tmp = tempfile.mkdtemp(prefix="lw-audit-")
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    proc = subprocess.Popen([LOGWARDD, "--store", store, "--listen", "audit://127.0.0.1:0",
                             "--ready-file", ready], stderr=subprocess.PIPE)
    try:
        if not wait_for(lambda: os.path.exists(ready), 15):
            print("FAIL logwardd did not start:", proc.stderr.read().decode())
            return 1
        port = int(open(ready).read().split()[1])
        records = sample_records()
        sent = [l for l in records if not l.split(b" msg=")[0].endswith(b"type=EOE")]
        good = [l for l in sent if is_record(l)]
        stored = os.path.join(store, "127.0.0.1", "audit.log")
        unparsed = os.path.join(store, "127.0.0.1", "audit-unparsed.log")
        print(f"{len(records)} sample lines, {len(records) - len(sent)} EOE, "
              f"{len(good)} records, {len(sent) - len(good)} other lines")

        # managed, then ascii, each into a store of its own (renamed between).
        for fmt in ("managed", "ascii"):
            conf = os.path.join(tmp, f"ar-{fmt}.conf")
            audisp_conf(conf, port, fmt, os.path.join(tmp, f"queue-{fmt}"))
            t0 = time.time()
            err = run_audisp(conf, records, stored, len(good))
            took = time.time() - t0
            got = open(stored, "rb").read().split(b"\n")[:-1] if os.path.exists(stored) else []
            want = [expected_line(l) for l in good]
            why = regrouped_from(got, want, engine_events(want, os.path.join(tmp, "want.log")))
            check(f"{fmt}: every record stored exactly once, node= rewritten, each event's "
                  f"records in the order sent and regrouped ({len(got)}/{len(want)} in "
                  f"{took:.1f} s; {sum(runs(want).values())} runs sent, "
                  f"{sum(runs(got).values())} stored)", why is None, (why, err))
            other = open(unparsed, "rb").read().split(b"\n")[:-1] if os.path.exists(
                unparsed) else []
            # audisp-remote itself drops some non-record lines (a lone "#"):
            # what reaches logwardd is kept, outside the trail, exactly once.
            nonrec = collections.Counter(l for l in sent if not is_record(l))
            check(f"{fmt}: non-record lines kept once each in audit-unparsed.log "
                  f"({len(other)} of {sum(nonrec.values())} sent; none in the trail)",
                  not collections.Counter(other) - nonrec and len(other) >= 40,
                  collections.Counter(other) - nonrec)
            if fmt == "managed":
                sent_file = os.path.join(tmp, "sent.log")
                open(sent_file, "wb").write(b"".join(l + b"\n" for l in good))
                a_sent, a_stored = ausearch_keys(sent_file), ausearch_keys(stored)
                a_node = ausearch_keys(stored, "-n", "127.0.0.1")
                check(f"ausearch -if finds the same {len(a_sent)} events in the store as in "
                      "what was sent", a_sent == a_stored and len(a_sent) > 100,
                      (len(a_sent), len(a_stored), sorted(a_sent ^ a_stored)[:5]))
                check("ausearch -n 127.0.0.1 selects all of them", a_node == a_stored,
                      len(a_node))
                # As sets: the samples come from several hosts, and two of their
                # events share a time stamp and serial; filed under one node
                # they are one event (as they would be for ausearch too).
                l_sent, l_stored = logward_keys(sent_file), logward_keys(stored)
                ks = {k[:2] for k in l_sent}
                check(f"logward events finds the same {len(ks)} events",
                      ks == {k[:2] for k in l_stored} and len(ks) > 100,
                      (len(l_sent), len(l_stored)))
            # Move the host aside; SIGHUP makes logwardd reopen its files.
            os.rename(os.path.join(store, "127.0.0.1"), os.path.join(tmp, f"host-{fmt}"))
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.6)

        # The protocol by hand.
        a = socket.create_connection(("127.0.0.1", port))
        a.sendall(frame(MESSAGE, 2, b"type=USER_CMD msg=audit(1700000000.001:11): pid=1 "
                        b"uid=0 msg='cmd=6C73 res=success'\n"))
        check("managed record ACKed with its sequence id", read_reply(a) == (ACK, 2, b""))
        a.sendall(frame(HEARTBEAT, 9))
        check("heartbeat ACKed", read_reply(a) == (ACK, 9, b""))
        b = socket.create_connection(("127.0.0.1", port))  # a restarted client, same address
        b.sendall(frame(MESSAGE, 2, b"type=USER_CMD msg=audit(1700000000.002:12): pid=2 "
                        b"uid=0 msg='cmd=6964 res=success'"))
        check("a second connection from the same address is served while the first is open",
              read_reply(b) == (ACK, 2, b""))
        g = socket.create_connection(("127.0.0.1", port))
        g.sendall(struct.pack("<I", MAGIC) + b"\x07" + b"\x00" * 11 + b"junkjunk")
        g.settimeout(5)
        try:
            closed = g.recv(100) == b""
        except (ConnectionResetError, socket.timeout):
            closed = True
        check("garbage (bad managed header) closes that connection only", closed)
        a.sendall(frame(MESSAGE, 3, b"type=USER_CMD msg=audit(1700000000.003:13): pid=3 "
                        b"uid=0 msg='cmd=6964 res=success'"))
        check("the other clients go on", read_reply(a) == (ACK, 3, b""))
        a.sendall(frame(MESSAGE, 4, b"type=USER_CMD msg=audit(1700000000.004:14): pid=4 "
                        b"uid=0 msg='cmd=6964 res=success'"))
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        a.settimeout(10)
        replies = [read_reply(a), read_reply(a)]
        check("SIGTERM: the last record ACKed, then ENDING with sequence 0",
              replies == [(ACK, 4, b""), (ENDING, 0, b"")], replies)
        rc = proc.wait(timeout=20)
        check("SIGTERM: clean exit 0", rc == 0, proc.stderr.read().decode())
        hand = open(stored, "rb").read().decode() if os.path.exists(stored) else ""
        check("hand-made records stored once each", all(hand.count(f":{s}): pid=") == 1
                                                        for s in (11, 12, 13, 14)), hand)
        st = subprocess.run([LOGWARDD, "--status", "--store", store], capture_output=True,
                            text=True)
        status = json.loads(st.stdout) if st.returncode == 0 else {}
        lst = status.get("listeners", [{}])[0]
        check("--status: the bad connection counted", lst.get("closed_bad") == 1 and
              lst.get("bad_frames", 0) >= 1, status)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
