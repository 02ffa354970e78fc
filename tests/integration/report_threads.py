#!/usr/bin/env python3
"""report threads: `logward report` over a store reads its hosts on several
threads and prints exactly what one thread prints.

A store of six hosts is generated (tests/gen/gen_audit, env LW_GEN: 3,000
events each, a seed per host, rotated into audit.log.1 and audit.log). Every
report (the summary, logins, keys, executables, files, users), with
--per-host, --failed, -i (names: this machine's accounts, looked up on every
thread), --format json and a time window (gen_audit's logs start at 10:20:00 on 11/22/24 UTC), runs with LOGWARD_SEARCH_THREADS=1
and =4; output and exit status must be byte for byte the same: counts summed
over the threads, tables merged with ties in the order one thread first saw
them, hosts in name order. A tally merged in any other order, or a name
looked up through getpwuid's shared buffer, shows up as a difference.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LOGWARD, check, summary  # noqa: E402

GEN = os.environ.get("LW_GEN", "build/release/tests/gen_audit")
ENV = dict(os.environ, LC_ALL="C", TZ="UTC")
HOSTS = 6

REPORTS = [
    ["--summary"],
    ["--summary", "--per-host"],
    ["-l"],
    ["-l", "-i", "--per-host"],
    ["-k", "--per-host"],
    ["-x"],
    ["-f", "--per-host"],
    ["-u", "-i"],
    ["-u", "--failed", "--per-host"],
    ["-x", "--success"],
    ["--summary", "--format", "json", "--per-host"],
    ["-f", "--format", "json"],
]


def report(args, store, threads):
    p = subprocess.run([LOGWARD, "report"] + args + [store], capture_output=True,
                       env=dict(ENV, LOGWARD_SEARCH_THREADS=str(threads)))
    return p.returncode, p.stdout, p.stderr.decode()


def main():
    if not os.access(GEN, os.X_OK):
        print(f"SKIP: the generator {GEN} is not built (LW_GEN)")
        return 77
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "store")
        os.mkdir(store)
        open(os.path.join(store, ".logward-store"), "w").close()
        for h in range(HOSTS):
            host = os.path.join(store, f"host{h + 1:02d}")
            os.mkdir(host)
            text = subprocess.run([GEN, "--events", "2000", "--open", "8", "--seed", str(h + 7)],
                                  capture_output=True, check=True).stdout
            lines = text.split(b"\n")
            half = len(lines) // 2
            with open(os.path.join(host, "audit.log.1"), "wb") as f:
                f.write(b"\n".join(lines[:half]) + b"\n")
            with open(os.path.join(host, "audit.log"), "wb") as f:
                f.write(b"\n".join(lines[half:]))
        window = ["-ts", "11/22/24", "10:20:01", "-te", "11/22/24", "10:20:02"]
        for args in REPORTS + [["--summary", "--per-host"] + window, ["-k"] + window]:
            rc1, out1, err1 = report(args, store, 1)
            rc4, out4, err4 = report(args, store, 4)
            name = " ".join(args)
            check(f"report {name}: counts events (exit {rc1})", rc1 == 0 and out1, err1[-300:])
            check(f"report {name}: 4 threads print what 1 prints", (rc1, out1) == (rc4, out4),
                  f"exit {rc1} / {rc4}; {len(out1)} / {len(out4)} bytes; first difference at "
                  f"{next((i for i, (a, b) in enumerate(zip(out1, out4)) if a != b), -1)}")
        rc, out, _ = report(["--summary"], store, 4)
        events = [l for l in out.decode().split("\n") if l.startswith("Number of events:")]
        check("the summary counts every host's events", events == [f"Number of events: {HOSTS * 2000}"],
              events)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
