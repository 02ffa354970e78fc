#!/usr/bin/env python3
"""search order: `logward search` prints events ordered by time across files,
hosts, threads and its in-memory batches, with each event whole.

A store of two hosts is written here, 36,000 two-record events each (72,000
in all: more than the 65,536 events search orders in memory), the records of
neighbouring events interleaved (SYSCALL a, SYSCALL b, PATH a, PATH b) and
the times of the two hosts interleaving; each host's clock steps back an
hour half-way through its file, so no file is in time order either. Every
event's (seconds, milliseconds, serial) is unique, so there is one right
order. Then, with `-m ALL --raw`:
  - one thread over the store (LOGWARD_SEARCH_THREADS=1), and the two files
    given as PATHs (one stream): every event printed once, whole (its records
    consecutive and in the order written), and in time order (this is what
    failed when results were sorted only in batches of 65,536);
  - two threads and a memory bound of 40 events (the test hook
    LOGWARD_SEARCH_ORDER_EVENTS: results spilled as ~1,800 sorted runs, merged
    64 at a time, then merged together): byte for byte the same output, and
    --stats counts the runs and merges;
  - -i (ausearch's interpreted layout) under the same small bound prints the
    same as with the default one;
  - with that bound and TMPDIR a missing directory, search exits 2 and says
    once (not once per thread) that it could not keep its results in a
    temporary file, and blames no input line for it.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LOGWARD, check, summary  # noqa: E402

ENV = dict(os.environ, LC_ALL="C", TZ="UTC")
T0 = 1764583200  # 2025-12-01 10:00:00 UTC
HOSTS = ["alpha", "beta"]
EVENTS = 36000  # per host
STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")


def host_log(h, name):
    """The host's records and its events in the order written."""
    lines = []
    half = EVENTS // 2
    for pair in range(0, EVENTS, 2):
        evs = []
        for i in (pair, pair + 1):
            # first half at T0+1h..., second half an hour earlier: the clock stepped back
            base = (T0 + 3600) * 1000 if i < half else T0 * 1000
            ms = base + ((i % half) * len(HOSTS) + h) * 7 + (3 if i >= half else 0)
            stamp = f"{ms // 1000}.{ms % 1000:03d}:{1000 + i}"
            evs.append((stamp, i))
        for stamp, i in evs:
            lines.append(f"node={name} type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=87 "
                         f"success=yes exit=0 items=1 ppid=1 pid={2000 + i % 5000} auid=1000 "
                         f"uid=1000 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"delete\"")
        for stamp, i in evs:
            lines.append(f"node={name} type=PATH msg=audit({stamp}): item=0 name=\"/tmp/f{i}\" "
                         f"inode={5000 + i} dev=fd:01 mode=0100644 ouid=1000 ogid=1000 nametype=DELETE")
    return "\n".join(lines) + "\n"


def events_of(out):
    """Consecutive records with one stamp are one event: [(key, [lines])]."""
    evs = []
    for line in out.split(b"\n"):
        if not line:
            continue
        m = STAMP.search(line)
        key = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        if evs and evs[-1][0] == key:
            evs[-1][1].append(line)
        else:
            evs.append((key, [line]))
    return evs


def search(args, paths, env=None, rc_ok=(0,)):
    p = subprocess.run([LOGWARD, "search"] + args + paths, capture_output=True,
                       env=dict(ENV, **(env or {})))
    if p.returncode not in rc_ok:
        print(f"     search {' '.join(args)} exited {p.returncode}: {p.stderr.decode()[-400:]}")
    return p.returncode, p.stdout, p.stderr.decode()


def check_order(name, out, expected):
    evs = events_of(out)
    keys = [k for k, _ in evs]
    check(f"{name}: every event once", len(keys) == len(set(keys)) == len(expected),
          f"{len(keys)} groups of records, {len(set(keys))} distinct, {len(expected)} written")
    whole = sum(1 for k, recs in evs if expected.get(k) != recs)
    check(f"{name}: events whole (records together, as written)", whole == 0,
          f"{whole} events differ from what was written")
    bad = [i for i in range(1, len(keys)) if keys[i - 1] is None or keys[i] is None or
           keys[i] < keys[i - 1]]
    check(f"{name}: in time order across hosts and batches", not bad,
          f"{len(bad)} events earlier than the one before, first at #{bad[0] if bad else 0}: "
          f"{keys[bad[0] - 1] if bad else ''} then {keys[bad[0]] if bad else ''}")


def main():
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "store")
        os.mkdir(store)
        open(os.path.join(store, ".logward-store"), "w").close()
        expected = {}
        files = []
        for h, name in enumerate(HOSTS):
            os.mkdir(os.path.join(store, name))
            path = os.path.join(store, name, "audit.log")
            text = host_log(h, name)
            with open(path, "w") as f:
                f.write(text)
            files.append(path)
            for k, recs in events_of(text.encode()):
                expected.setdefault(k, []).extend(recs)
        # events_of on one file's text joins nothing wrongly: the pairs interleave
        for k, recs in expected.items():
            recs.sort(key=lambda r: 0 if b"type=SYSCALL" in r else 1)

        one = {"LOGWARD_SEARCH_THREADS": "1"}
        rc, out1, err = search(["-m", "ALL", "--raw", "--stats"], [store], one)
        check("one thread over the store exits 0", rc == 0, err[-300:])
        check_order("store, one thread", out1, expected)
        check("no record came late to its event", " late_records 0 " in err, err[-400:])

        rc, out2, err = search(["-m", "ALL", "--raw"], files)
        check("the two files as PATHs exit 0", rc == 0, err[-300:])
        check_order("two files, one stream", out2, expected)

        small = {"LOGWARD_SEARCH_ORDER_EVENTS": "40", "LOGWARD_SEARCH_THREADS": "2"}
        rc, out3, err = search(["-m", "ALL", "--raw", "--stats"], [store], small)
        check("two threads, 40 events in memory: exits 0", rc == 0, err[-300:])
        check("two threads, spilled and merged runs: the same bytes as one thread",
              out3 == out1, f"{len(out3)} bytes against {len(out1)}")
        runs = re.search(r"order_runs (\d+) order_bytes_spilled (\d+) order_merges (\d+)", err)
        check("--stats counts the spilled runs and their merges",
              runs and int(runs.group(1)) > 64 and int(runs.group(3)) > 0, err[-400:])

        rc, i_default, err = search(["-i", "-k", "delete"], [store])
        rc2, i_small, err2 = search(["-i", "-k", "delete"], [store], small)
        check("-i: a small memory bound prints the same", rc == rc2 == 0 and i_default == i_small,
              f"rc {rc} {rc2}, {len(i_default)} against {len(i_small)} bytes")
        blocks = i_default.split(b"----\n")[1:]
        check("-i: one block per event", len(blocks) == len(expected), f"{len(blocks)} blocks")

        rc, out, err = search(["-m", "ALL", "--raw"], [store],
                              dict(small, TMPDIR=os.path.join(d, "missing")), rc_ok=(2,))
        check("no temporary file: exit 2", rc == 2, f"rc {rc}")
        check("no temporary file: the message says so, once (two threads), and blames no input",
              err.count("temporary file") == 1 and "line too long" not in err, err[-600:])
        rc, out, err = search(["-m", "ALL", "--raw"], files,
                              dict(small, TMPDIR=os.path.join(d, "missing")), rc_ok=(2,))
        check("no temporary file, files as PATHs: said once, no input blamed",
              rc == 2 and err.count("temporary file") == 1 and "line too long" not in err,
              f"rc {rc}: {err[-600:]}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
