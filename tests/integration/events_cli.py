#!/usr/bin/env python3
"""logward events as a system administrator uses it: exit codes, errors with
byte offsets, rotated directories read oldest first, standard input, text
output, --follow across rotation, and lossless JSON for bytes that are not
UTF-8. Every input is written by the test itself."""
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.path.join(os.environ.get("LW_BIN", "build/release/src"), "logward")
failures = 0
passed = 0


def check(name, cond, detail=""):
    global failures, passed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failures += 1
        print(f"FAIL {name} {detail}")


def run(*args, stdin=None):
    return subprocess.run([BIN, "events", *args], input=stdin, capture_output=True)


def rec(serial, typ="USER_LOGIN", extra="res=success"):
    return (f"type={typ} msg=audit(1700000000.{serial % 1000:03d}:{serial}): pid=1 uid=0 "
            f"msg='op=login {extra}'\n").encode()


def main():
    with tempfile.TemporaryDirectory() as d:
        p = run(os.path.join(d, "missing.log"))
        check("missing file exits 2 and names it", p.returncode == 2 and b"missing.log" in p.stderr,
              p.stderr)
        empty = os.path.join(d, "empty.log")
        open(empty, "wb").close()
        check("empty file exits 1 (nothing found)", run(empty).returncode == 1)
        check("--help exits 0", run("--help").returncode == 0)
        check("bad option exits 2", run("--no-such-option").returncode == 2)
        check("bad format exits 2", run("--format", "xml", empty).returncode == 2)

        mixed = os.path.join(d, "mixed.log")
        data = rec(1) + b"garbage line here\n" + b"type=SYSCALL msg=audit(17:x): a=1\n" + rec(2)
        open(mixed, "wb").write(data)
        p = run(mixed)
        lines = p.stdout.split(b"\n")[:-1]
        check("stream goes on past bad lines", p.returncode == 0 and len(lines) == 2)
        off = len(rec(1))
        check("not-audit line reported with line and byte offset",
              f"mixed.log:2: byte {off}: not an audit record".encode() in p.stderr, p.stderr)
        check("malformed stamp reported at its offset",
              f"mixed.log:3: byte {off + 18 + 23}:".encode() in p.stderr, p.stderr)
        p = run("--stats", "--quiet", mixed)
        check("counters: 1 not audit, 1 malformed",
              b"not_audit 1 malformed 1" in p.stderr, p.stderr)

        rot = os.path.join(d, "rotated")
        os.mkdir(rot)
        for name, serial in (("audit.log", 30), ("audit.log.1", 20), ("audit.log.2", 10)):
            open(os.path.join(rot, name), "wb").write(rec(serial))
        p = run(rot)
        serials = [json.loads(l)["serial"] for l in p.stdout.split(b"\n")[:-1]]
        check("rotated directory read oldest first", serials == [10, 20, 30], serials)

        p = run("-", stdin=rec(5) + rec(6))
        check("standard input", p.returncode == 0 and p.stdout.count(b"\n") == 2)
        p = run("--format", "text", "--utc", "-", stdin=rec(7))
        check("text format", p.stdout.startswith(b"2023-11-14T22:13:20.007+00:00 serial=7 USER_LOGIN"),
              p.stdout)

        raw = b"type=EXECVE msg=audit(1700000000.100:9): argc=2 a0=\"ls\" a1=2F746D702F\xff\xfe\n"
        bad_bytes = (b"type=SYSCALL msg=audit(1700000000.100:9): arch=c000003e syscall=59 "
                     b"success=yes exit=0 comm=\"l\xffs\"\n" +
                     b"type=EXECVE msg=audit(1700000000.100:9): argc=2 a0=\"ls\" a1=2F746D70FF\n")
        p = run("-", stdin=bad_bytes + raw)
        try:
            text = p.stdout.decode("utf-8")  # must be valid UTF-8
            ev = json.loads(text.split("\n")[0])
            recs = [r.encode("utf-8", "surrogateescape") for r in ev["records"]]
            check("non-UTF-8 bytes: valid UTF-8 JSON, lossless round trip",
                  recs[0] + b"\n" + recs[1] + b"\n" == bad_bytes and
                  ev["what"]["argv"][1].encode("utf-8", "surrogateescape") == b"/tmp\xff" and
                  "\ufffd" not in text)
        except (UnicodeDecodeError, ValueError, KeyError, IndexError) as e:
            check("non-UTF-8 bytes: valid UTF-8 JSON, lossless round trip", False, repr(e))

        # --follow: records appended later and across a rotation are read.
        live = os.path.join(d, "live.log")
        open(live, "wb").write(rec(100))
        proc = subprocess.Popen([BIN, "events", "--follow", live], stdout=subprocess.PIPE)
        time.sleep(0.5)
        with open(live, "ab") as f:
            f.write(rec(101))
        time.sleep(0.5)
        os.rename(live, live + ".1")
        open(live, "wb").write(rec(102))
        deadline, got = time.time() + 10, []
        os.set_blocking(proc.stdout.fileno(), False)
        buf = b""
        while time.time() < deadline and len(got) < 3:
            time.sleep(0.2)
            chunk = proc.stdout.read() or b""
            buf += chunk
            got = [json.loads(l)["serial"] for l in buf.split(b"\n")[:-1]]
        proc.terminate()
        proc.wait(timeout=10)
        check("--follow reads appends and follows rotation", got == [100, 101, 102], got)
        check("--follow ends cleanly on SIGTERM", proc.returncode == 0, proc.returncode)
    print(f"{passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
