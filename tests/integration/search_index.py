#!/usr/bin/env python3
"""search index: reading through the per-file index gives what a scan gives.

A generated 10 MB audit log (tests/gen/gen_audit, two nodes) is indexed with
`logward index`, then each query below runs as `logward search --raw` with the
index and with --no-index, and the outputs must be byte for byte the same;
--stats must show that the index skipped blocks for the selective queries
(time windows, -a, -n with a node that is absent), so the test fails if the
index is never used. Then the file is changed under the index, each time
checking every query again and the counters that say how the index was used:
  grown     records appended (later times): the covered part is read through
            the index (files_grown), the rest scanned; still skips blocks.
  rotated   audit.log renamed to audit.log.1 and a new audit.log written: the
            index follows its file (it is named by inode), the new file has
            none (files_unindexed); the directory reads as one stream.
  edited    one record late in the file gets a time inside an early window,
            same length, its mtime put back: the index would skip its block,
            but the file no longer fits (ctime, then the block hashes):
            files_stale, a scan, and the edited event is found.
  doctored  one byte of the index flipped: its hash fails, it is ignored.
  cut       the file truncated below what the index covers: stale.
  zst       the rotated file compressed with zstd and indexed again: blocks
            are skipped over the decompressed bytes, results the same.
`logward index --check` says ok for a fitting index (exit 0) and stale for an
edited file (exit 1). Needs only logward and gen_audit (zstd for the last step;
skipped with a note when absent).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("LW_BIN", "build/release/src")
GEN = os.environ.get("LW_GEN", "build/release/tests/gen_audit")
LOGWARD = os.path.join(BIN, "logward")
ENV = dict(os.environ, LC_ALL="C", TZ="UTC")
T0 = 1732270800  # gen_audit's first second

QUERIES = [
    ("window", ["-ts", "11/22/24", "10:20:04", "-te", "11/22/24", "10:20:06"], True),
    ("window-uid", ["-ui", "0", "-ts", "11/22/24", "10:20:10", "-te", "11/22/24", "10:20:11"], True),
    ("serial", ["-a", "{serial}"], True),
    ("absent-node", ["-n", "nosuch"], True),
    ("key", ["-k", "delete"], False),
    ("key-exact", ["-w", "-k", "command_log"], False),
    ("type", ["-m", "USER_LOGIN"], False),
    ("uid-all", ["-ua", "1003"], False),
    ("file-exact", ["-w", "-f", "/etc/shadow"], False),
    ("exe", ["-x", "curl", "-sv", "no"], False),
    ("node", ["-n", "host01"], False),
    ("syscall", ["-sc", "59", "-te", "11/22/24", "10:20:08"], False),
]
STAT = re.compile(r"(\w+) (\d+)")


def search(args, path, index=True):
    cmd = [LOGWARD, "search", "--raw", "--stats", "-q"] + ([] if index else ["--no-index"])
    p = subprocess.run(cmd + args + [path], capture_output=True, env=ENV)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd + args)} exited {p.returncode}: {p.stderr[-300:]}")
    line = [l for l in p.stderr.decode().split("\n") if l.startswith("bytes ")][-1]
    stats = dict((k, int(v)) for k, v in STAT.findall(line))
    return p.stdout, stats


def run_queries(step, path, serial, expect, must_skip=True):
    failures = 0
    skipped_any = False
    for name, args, selective in QUERIES:
        args = [a.format(serial=serial) for a in args]
        ours, st = search(args, path)
        scan, _ = search(args, path, index=False)
        bad = ours != scan
        for k, v in expect.items():
            if st.get(k) != v:
                print(f"FAIL {step} {name}: {k} = {st.get(k)}, want {v}")
                bad = True
        if selective and st["blocks_skipped"] > 0:
            skipped_any = True
        if bad:
            print(f"FAIL {step} {name} {' '.join(args)}: index {len(ours)} bytes, scan {len(scan)} "
                  f"bytes; {st}")
        failures += bad
    if must_skip and not skipped_any:
        print(f"FAIL {step}: no selective query skipped a block")
        failures += 1
    print(f"{'ok' if not failures else 'FAIL':4} {step}: {len(QUERIES)} queries, index = scan"
          f"{', blocks skipped' if skipped_any else ''}", flush=True)
    return failures


def dump(path):
    p = subprocess.run([LOGWARD, "index", "--dump", path], capture_output=True, env=ENV, check=True)
    blocks = []
    for line in p.stdout.decode().split("\n")[1:]:
        m = re.match(r"\s+\d+: bytes (\d+)\+(\d+) events (\d+) time (-?\d+)\.\.(-?\d+)", line)
        if m:
            blocks.append(tuple(int(x) for x in m.groups()))
    return blocks


def shifted(data, dsec, dserial):
    def fix(m):
        return b"audit(%d.%s:%d)" % (int(m.group(1)) + dsec, m.group(2), int(m.group(3)) + dserial)
    return re.sub(rb"audit\((\d+)\.(\d+):(\d+)\)", fix, data)


def index(path, check=None):
    p = subprocess.run([LOGWARD, "index"] + (["--check"] if check else []) + [path],
                       capture_output=True, env=ENV)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def main():
    if not os.path.exists(LOGWARD) or not os.path.exists(GEN):
        print(f"SKIP: {LOGWARD} or {GEN} not built")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "audit.log")
        with open(log, "wb") as out:
            subprocess.run([GEN, "--events", "15000", "--open", "8", "--nodes", "2", "--seed", "7"],
                           stdout=out, check=True)
        text = open(log, "rb").read()
        serials = [int(s) for s in re.findall(rb"audit\(\d+\.\d+:(\d+)\)", text)]
        serial = serials[len(serials) * 2 // 3]
        rc, out = index(log)
        if rc != 0:
            print(f"FAIL logward index: {rc} {out}")
            return 1
        blocks = dump(log)
        if len(blocks) < 8:
            print(f"FAIL only {len(blocks)} blocks in the index")
            return 1
        failures += run_queries("fresh", log, serial, {"files_indexed": 1, "files_stale": 0})
        rc, out = index(log, check=True)
        if rc != 0 or ": ok" not in out:
            print(f"FAIL index --check on a fitting index: {rc} {out}")
            failures += 1

        # grown: later records appended
        with open(log, "ab") as f:
            f.write(shifted(text[: len(text) // 4], 3600, 1000000))
        failures += run_queries("grown", log, serial, {"files_indexed": 1, "files_grown": 1})

        # rotated: the indexed file becomes audit.log.1; a new audit.log
        os.rename(log, log + ".1")
        with open(log, "wb") as f:
            f.write(shifted(text[: len(text) // 8], 7200, 2000000))
        failures += run_queries("rotated", tmp, serial,
                                {"files_indexed": 1, "files_unindexed": 1, "files_stale": 0})

        # edited behind the index's back: a late record moved into an early window
        rotated = log + ".1"
        data = bytearray(open(rotated, "rb").read())
        st = os.stat(rotated)
        late = blocks[-3]
        at = data.index(b"audit(", late[0] + 10)
        old = bytes(data[at + 6: at + 16])
        new = str(T0 + 5).encode()
        assert len(old) == len(new)
        data[at + 6: at + 16] = new
        with open(rotated, "r+b") as f:
            f.write(data)
        os.utime(rotated, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back: ctime tells
        os.remove(log)
        ours, _ = search(QUERIES[0][1], rotated)
        if new not in ours:
            print("FAIL edited: the moved event is not found through the index")
            failures += 1
        failures += run_queries("edited", rotated, serial, {"files_stale": 1, "files_indexed": 0},
                                must_skip=False)
        rc, out = index(rotated, check=True)
        if rc != 1 or "stale" not in out:
            print(f"FAIL index --check on an edited file: {rc} {out}")
            failures += 1

        # doctored: a fresh index, then one byte of it flipped
        index(rotated)
        name = [n for n in os.listdir(tmp) if n.startswith(".lwidx.")
                and int(n.split(".")[2]) == os.stat(rotated).st_ino][0]
        ipath = os.path.join(tmp, name)
        ix = bytearray(open(ipath, "rb").read())
        ix[200] ^= 0x40
        open(ipath, "wb").write(ix)
        failures += run_queries("doctored", rotated, serial, {"files_stale": 1}, must_skip=False)

        # cut below what the index covers
        index(rotated)
        with open(rotated, "r+b") as f:
            f.truncate(os.path.getsize(rotated) // 2)
        failures += run_queries("cut", rotated, serial, {"files_stale": 1}, must_skip=False)

        # zst: compressed, then indexed over the decompressed bytes
        if shutil.which("zstd"):
            subprocess.run(["zstd", "-q", "--rm", rotated], check=True)
            index(rotated + ".zst")
            failures += run_queries("zst", rotated + ".zst", serial, {"files_indexed": 1})
        else:
            print("note: zstd not installed: the .zst step is skipped")
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
