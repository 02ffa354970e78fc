"""Helpers shared by the integration scenarios: where the built programs
are, ok/FAIL lines with counters, bounded waiting, reading a store back.
A scenario prints `ok NAME` or `FAIL NAME detail` per check and ends with
`sys.exit(harness.summary())`; exit 77 means skipped (SKIP_RETURN_CODE)."""
import os
import sys
import time

BIN = os.environ.get("LW_BIN", "build/release/src")
LOGWARDD = os.path.join(BIN, "logwardd")
LOGWARD = os.path.join(BIN, "logward")
DATA = os.environ.get("LW_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """One verdict; the detail (cut to 2000 characters) only on failure."""
    if cond:
        counts["passed"] += 1
        print(f"ok   {name}")
    else:
        counts["failed"] += 1
        print(f"FAIL {name} {str(detail)[:2000]}")
    sys.stdout.flush()  # in order with the output of the peers a test starts
    return cond


def summary():
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def wait_for(pred, timeout=15.0, step=0.05):
    """Polls pred every step seconds until true or timeout; returns its last answer."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read_tree(root):
    """Every stored line, by path relative to root, leaving out the store's
    version file and the collector's status file."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.startswith(".logwardd") or (d == root and f == ".logward-store"):
                continue
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read().split(b"\n")[:-1]
    return out
