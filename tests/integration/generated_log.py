#!/usr/bin/env python3
"""Generated logs: logward events neither splits nor merges any event.

The deterministic generator (tests/gen/gen_audit.c) writes hard logs and the
truth about them: every event's key, record count and a CRC-32 of its records.
Scenarios (10-20 MB in all, so the suite stays quick under sanitizers):
  wide     10,000 events open at once, records of one event 10+ s apart in
           stream time (ausearch's 2-second rule would split them), no EOE,
           serial rollover, 0.5% of records lost;
  nodes    three nodes sharing one file with overlapping serials, EOE present,
           1% lost;
  stdin    the same file read from standard input in one go.
For each, logward's events must equal the truth exactly (same multiset of
key, record count and CRC), and its counters must show no split event.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import zlib

BIN = os.environ.get("LW_BIN", "build/release/src")
GEN = os.environ.get("LW_GEN", "build/release/tests/gen_audit")

SCENARIOS = {
    "wide": ["--events", "22000", "--open", "10600", "--rollover", "--lost", "5", "--seed", "7"],
    "nodes": ["--events", "8000", "--open", "300", "--nodes", "3", "--eoe", "--lost", "10",
              "--seed", "11"],
}


def read_truth(path):
    truth = collections.Counter()
    max_open = 0
    for line in open(path):
        if line.startswith("# max_open"):
            max_open = int(line.split()[2])
            continue
        node, stamp, n, crc = line.split()
        truth[(node if node != "-" else "", stamp, int(n), int(crc, 16))] += 1
    return truth, max_open


def logward(args, stdin=None):
    p = subprocess.run([os.path.join(BIN, "logward"), "events", "--stats"] + args,
                       stdin=stdin, capture_output=True)
    if p.returncode != 0:
        raise AssertionError(f"logward exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    got = collections.Counter()
    for line in p.stdout.split(b"\n")[:-1]:
        ev = json.loads(line)
        recs = ev["records"]
        blob = "".join(r + "\n" for r in recs).encode("utf-8", "surrogateescape")
        first = recs[0]
        stamp = first[first.index("audit(") + 6:first.index(")")]
        got[(ev.get("node", ""), stamp, len(recs), zlib.crc32(blob))] += 1
    stats = {}
    for tok in p.stderr.decode().split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            stats[k] = int(v)
    words = p.stderr.decode().split()
    for i, w in enumerate(words[:-1]):
        if words[i + 1].isdigit():
            stats[w] = int(words[i + 1])
    return got, stats


def far_apart_events(log):
    """Counts events whose last record comes after records stamped more than
    2 s later than the event (where ausearch's 2-second rule would split)."""
    newest, first_seen_newest, far = 0.0, {}, set()
    with open(log, "rb") as f:
        for line in f:
            i = line.index(b"audit(") + 6
            stamp = line[i:line.index(b")", i)]
            t = float(stamp.split(b":")[0])
            newest = max(newest, t)
            if newest - t > 2.0:
                far.add(stamp)
    return len(far)


def check(name, truth, got, stats, want_open):
    failures = 0
    missing, extra = truth - got, got - truth
    if missing or extra:
        failures += 1
        print(f"FAIL {name}: {sum(missing.values())} true events not found, "
              f"{sum(extra.values())} events that are not true")
        for e in list(missing)[:5]:
            print(f"     missing {e}")
        for e in list(extra)[:5]:
            print(f"     extra   {e}")
    if stats.get("late_records", -1) != 0:
        failures += 1
        print(f"FAIL {name}: late_records = {stats.get('late_records')} (a split)")
    if stats.get("max_open", 0) < want_open:
        failures += 1
        print(f"FAIL {name}: at most {stats.get('max_open')} events open, want >= {want_open}")
    if not failures:
        print(f"ok   {name}: {sum(got.values())} events match the truth; "
              f"max open {stats.get('max_open')}, late records 0")
    return failures


def main():
    if not os.path.exists(GEN):
        print(f"SKIP: generator not built at {GEN}")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        total = 0
        for name, args in SCENARIOS.items():
            log, truth_path = os.path.join(tmp, name + ".log"), os.path.join(tmp, name + ".truth")
            with open(log, "wb") as out:
                subprocess.run([GEN, "--truth", truth_path] + args, stdout=out, check=True)
            total += os.path.getsize(log)
            truth, gen_open = read_truth(truth_path)
            want_open = 10000 if name == "wide" else 1
            if gen_open < want_open:
                print(f"FAIL {name}: generator kept only {gen_open} events open")
                failures += 1
            got, stats = logward(["--utc", log])
            failures += check(name, truth, got, stats, want_open)
            if name == "wide":
                far = far_apart_events(log)
                ok = far >= 1000
                failures += 0 if ok else 1
                print(f"{'ok  ' if ok else 'FAIL'} wide: {far} events have records more than "
                      f"2 s apart in the stream (want >= 1000), none split")
            if name == "wide":
                with open(log, "rb") as f:
                    got, stats = logward(["--utc", "-"], stdin=f)
                failures += check("stdin", truth, got, stats, want_open)
        print(f"generated {total / 1e6:.1f} MB")
    print(f"{4 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
