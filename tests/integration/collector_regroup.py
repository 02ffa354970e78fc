#!/usr/bin/env python3
"""logwardd regroups audit events that arrive interleaved (issue 3, "events
are regrouped with the audit engine even when the sender stripped EOE").

Takes the multi-record events of the shared samples (../shared/data/audit),
each once by its time stamp and serial, drops EOE, and interleaves their
records eight events at a time (record 1 of each, then record 2 of each...),
with one-record events in between. Then:
  - the real audisp-remote sends them (`format = managed`, then `ascii`, as
    collector_audit.py runs it: stdin, private mount namespace): audit.log
    must hold every record exactly once, the records of each event in one
    contiguous run in the order sent, and `ausearch -if` and `logward
    events` must find in it the same events as in the samples written
    grouped (the original order);
  - crash: a hand-made managed client sends half of another interleaved
    set, each record acked, with events kept open (audit_idle_ms 60000), so
    acked records sit in the spool and not yet in audit.log; logwardd is
    killed with SIGKILL and restarted on the same store; the rest is sent,
    then SIGTERM closes what is open. Every acked record is stored exactly
    once and each event is still one contiguous run; the spool is empty at
    the end;
  - kill -9 at random moments while a managed client sends three rounds of
    interleaved events (1 s of idle), restarted each time, the record not
    acked sent again: no acked record is lost, none is stored twice except
    one resent after a crash (the unacknowledged window, counted).
Skips (77) when audisp-remote, unshare, ausearch or the samples are missing.
"""
import collections
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

from harness import DATA, audisp_missing, check, summary, wait_for
from collector_audit import (AUDIT, ACK, MESSAGE, SKIP_EXT, audisp_conf, ausearch_keys,
                             count_lines, event_key, expected_line, frame, is_record,
                             logward_keys, read_reply, run_audisp, runs, LOGWARDD)

GROUP = 8


def sample_events():
    """Events of the samples in file order: [(key, [records])], EOE dropped,
    each key once (the first file that has it), only well-formed records."""
    seen, events = set(), []
    for d, _, files in sorted(os.walk(AUDIT)):
        for f in sorted(files):
            if f.endswith(SKIP_EXT):
                continue
            here, prev, broken = collections.OrderedDict(), None, set()
            for l in open(os.path.join(d, f), "rb").read().split(b"\n"):
                if not l.strip() or not is_record(l) or b"type=EOE " in l:
                    continue
                k = event_key(l)
                if k != prev and k in here:
                    broken.add(k)  # the key comes back later in the file: not one event
                here.setdefault(k, []).append(l)
                prev = k
            for k, recs in here.items():
                if k not in seen and k not in broken and len(recs) <= 64:
                    events.append((k, recs))
                seen.add(k)
    return events


def rekey(events, base):
    """The same events with time stamps one second apart from base, in order
    (the samples span years; a live stream does not), serials kept."""
    out = []
    for i, (k, recs) in enumerate(events):
        ms, serial = k.split(b".")[1].split(b":")
        new = b"%d.%s:%s" % (base + i, ms, serial)
        out.append((new, [l.replace(b"msg=audit(" + k + b")", b"msg=audit(" + new + b")")
                          for l in recs]))
    return out


def allowed_runs(events, path):
    """key -> events the audit engine finds for it in the records written
    grouped: a key it splits there (a one-record type first, as ausearch
    does too) may be more than one run."""
    open(path, "wb").write(b"".join(l + b"\n" for _, recs in events for l in recs))
    by_when = collections.Counter((w, s) for w, s, _ in logward_keys(path))
    allowed = {}
    for k, _ in events:
        sec, rest = k.decode().split(".")
        ms, serial = rest.split(":")
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(sec))) + f".{ms}+00:00"
        allowed[k] = max(1, by_when[(when, int(serial))])
    return allowed


def interleave(events):
    """Records of GROUP events at a time, round-robin."""
    out = []
    for i in range(0, len(events), GROUP):
        group = [recs for _, recs in events[i:i + GROUP]]
        for j in range(max(len(g) for g in group)):
            out += [g[j] for g in group if j < len(g)]
    return out


def contiguous(got, events, allowed=None):
    """None if got holds each event's expected lines once, in one run (or as
    many as allowed[key]: the events the audit engine finds for the key in
    the records written grouped), in order."""
    want = [expected_line(l) for _, recs in events for l in recs]
    if collections.Counter(got) != collections.Counter(want):
        return ("lines differ", len(got), len(want),
                list(collections.Counter(got) - collections.Counter(want))[:2],
                list(collections.Counter(want) - collections.Counter(got))[:2])
    split = [k for k, n in runs(got).items() if n > (allowed or {}).get(k, 1)]
    if split:
        return ("events in more than one run", len(split), split[:3])
    pos = {}
    for i, l in enumerate(got):
        pos.setdefault(event_key(l), []).append(l)
    bad = [k for k, recs in events if pos[k] != [expected_line(l) for l in recs]]
    return ("order within an event", bad[:3]) if bad else None


def start(store, ready, *extra):
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([LOGWARDD, "--store", store, "--listen", "audit://127.0.0.1:0",
                          "--ready-file", ready, *extra], stderr=subprocess.PIPE)
    if not wait_for(lambda: os.path.exists(ready), 15):
        p.kill()
        raise SystemExit("FAIL logwardd did not start: " + p.stderr.read().decode())
    return p, int(open(ready).read().split()[1])


def status(store):
    try:
        return json.load(open(os.path.join(store, ".logwardd-status.json")))
    except (OSError, ValueError):
        return {}


def spool_records(store):
    n = 0
    d = os.path.join(store, ".spool")
    for f in os.listdir(d) if os.path.isdir(d) else []:
        n += sum(1 for l in open(os.path.join(d, f), "rb") if l.startswith(b"R "))
    return n


def send_acked(port, records, first_seq):
    """Sends records one by one, each acknowledged; returns how many were."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    acked = 0
    for i, l in enumerate(records):
        s.sendall(frame(MESSAGE, first_seq + i, l + b"\n"))
        r = read_reply(s)
        if r is None or r[0] != ACK or r[1] != first_seq + i:
            break
        acked += 1
    s.close()
    return acked


def kill_loop(store, ready, records, rounds=4):
    """Sends records one at a time, acked, while logwardd is killed with
    SIGKILL at a random moment, rounds - 1 times; a record not acked is
    sent again after the restart (as audisp-remote does). Returns (acked
    indexes, resent indexes, logs)."""
    acked, resent, logs, i = set(), set(), [], 0
    rnd = random.Random(7)
    for rnd_no in range(rounds):
        proc, port = start(store, ready, "--audit-idle-ms", "300")
        if rnd_no < rounds - 1:
            threading.Timer(rnd.uniform(0.05, 0.35), proc.kill).start()
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(5)
            while i < len(records):
                s.sendall(frame(MESSAGE, 1 + i, records[i] + b"\n"))
                r = read_reply(s)
                if r is None or r[0] != ACK or r[1] != 1 + i:
                    resent.add(i)
                    break
                acked.add(i)
                i += 1
            s.close()
        except OSError:
            resent.add(i)
        if rnd_no == rounds - 1:
            # serving (its status written): SIGTERM now drains, not kills
            wait_for(lambda: status(store).get("pid") == proc.pid, 15)
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        logs.append(proc.stderr.read().decode(errors="replace"))
    return acked, resent, logs


def main():
    why = audisp_missing(AUDIT)
    if why:
        print(f"SKIP: {why}")
        return 77
    os.environ["PATH"] += ":/sbin:/usr/sbin"
    os.environ["TZ"] = "UTC"
    events = rekey(sample_events(), 1700000000)
    multi = [e for e in events if len(e[1]) > 1]
    sent = interleave(events)
    print(f"{len(events)} events ({len(multi)} of several records), {len(sent)} records; "
          f"{sum(runs(sent).values())} runs as sent interleaved")
    if len(multi) < 50:
        print("SKIP: too few multi-record events in the samples")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-regroup-")
    grouped_file = os.path.join(tmp, "grouped.log")
    # The engine's own view: a key whose records it splits in the grouped
    # file (a one-record type first, as ausearch does too) may be two runs.
    allowed = allowed_runs(events, grouped_file)
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    stored = os.path.join(store, "127.0.0.1", "audit.log")
    proc, port = start(store, ready)
    try:
        for fmt in ("managed", "ascii"):
            conf = os.path.join(tmp, f"ar-{fmt}.conf")
            audisp_conf(conf, port, fmt, os.path.join(tmp, f"queue-{fmt}"))
            t0 = time.time()
            err = run_audisp(conf, sent, stored, len(sent))
            took = time.time() - t0
            got = open(stored, "rb").read().split(b"\n")[:-1] if os.path.exists(stored) else []
            why = contiguous(got, events, allowed)
            check(f"{fmt}: {len(got)}/{len(sent)} records stored once each, every event in one "
                  f"run, in the order sent ({sum(runs(got).values())} runs for "
                  f"{len(events)} keys, {took:.1f} s)",
                  why is None, (why, err[-500:]))
            if fmt == "managed":
                a_want, a_got = ausearch_keys(grouped_file), ausearch_keys(stored)
                check(f"ausearch -if finds the same {len(a_want)} events as in the samples "
                      "grouped", a_want == a_got and len(a_want) > 50,
                      (len(a_want), len(a_got), sorted(a_want ^ a_got)[:5]))
                l_want, l_got = logward_keys(grouped_file), logward_keys(stored)
                check(f"logward events finds the same {len(l_want)} events, records "
                      "counted alike", l_want == l_got and len(l_want) > 50,
                      (len(l_want), len(l_got),
                       sorted(set(l_want) ^ set(l_got))[:5]))
            st = status(store).get("audit_regroup", {})
            check(f"{fmt}: the spool is cut back once every event is closed "
                  f"({st.get('spool_bytes')} bytes)",
                  wait_for(lambda: status(store).get("audit_regroup", {}).get("open_events") == 0
                           and spool_records(store) == 0, 10), (st, spool_records(store)))
            os.rename(os.path.join(store, "127.0.0.1"), os.path.join(tmp, f"host-{fmt}"))
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.6)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

        # Crash with events open: acked records only in the spool.
        crash = rekey(multi, 1800000000)
        crash_allowed = allowed_runs(crash, os.path.join(tmp, "crash-grouped.log"))
        records = interleave(crash)
        half = len(records) // 2
        proc, port = start(store, ready, "--audit-idle-ms", "60000")
        acked = send_acked(port, records[:half], 1)
        before = count_lines(stored)
        check(f"{acked}/{half} records acked; {half - before} of them only in the spool "
              "(events open)", acked == half and before < half and spool_records(store) > 0,
              (acked, before, spool_records(store)))
        proc.kill()
        proc.wait()
        proc, port = start(store, ready, "--audit-idle-ms", "60000")
        acked2 = send_acked(port, records[half:], 100000)
        wait_for(lambda: status(store).get("pid") == proc.pid, 15)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        log = proc.stderr.read().decode(errors="replace")
        got = open(stored, "rb").read().split(b"\n")[:-1] if os.path.exists(stored) else []
        why = contiguous(got, crash, crash_allowed)
        check(f"after kill -9 and restart: {len(got)}/{len(records)} records stored once each, "
              "every event in one run, in the order sent",
              acked2 == len(records) - half and rc == 0 and why is None,
              (acked2, rc, why, log[-800:]))
        check("the restart read the spool back and said so",
              "read back" in log and "events open again" in log, log[-800:])
        check("the spool holds no record after SIGTERM", spool_records(store) == 0,
              spool_records(store))

        # kill -9 at random moments under load (inside commits too).
        loop = rekey(multi, 1900000000)
        records = interleave(loop) * 3
        records = [l.replace(b"msg=audit(19", b"msg=audit(%d" % (19 + n // len(interleave(loop))))
                   for n, l in enumerate(records)]
        acked, resent, logs = kill_loop(store, ready, records)
        text = open(stored, "rb").read().split(b"\n")[:-1]
        count = collections.Counter(text)
        lost = [i for i in acked if count[expected_line(records[i])] == 0]
        doubled = [i for i in acked - resent if count[expected_line(records[i])] > 1]
        dups = sum(count[expected_line(records[i])] - 1 for i in resent)
        check(f"kill -9 x3 under load: {len(acked)}/{len(records)} acked, none lost, none "
              f"doubled but resent ones ({dups} duplicates of {len(resent)} records resent "
              "after a crash, the unacknowledged window)",
              len(acked) == len(records) and not lost and not doubled,
              (len(acked), lost[:3], doubled[:3], [l[-400:] for l in logs]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if not os.environ.get("LW_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
