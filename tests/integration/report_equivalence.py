#!/usr/bin/env python3
"""report equivalence: `logward report` counts what the real aureport counts.

For every audit log in the shared samples (../shared/data/audit, env LW_DATA)
and for a generated 10 MB log (tests/gen/gen_audit, env LW_GEN: two nodes,
few events open at once, so that aureport's 2-second rule splits nothing),
`aureport --summary -if FILE` and `logward report --summary FILE` run with
LC_ALL=C and TZ=UTC, and every "Number of ..." line must be equal (changes,
account changes, logins, failed logins, authentications, failed ones, users,
terminals, host names, executables, commands, files, AVCs, MAC events, failed
syscalls, anomalies, responses, crypto, integrity, virt, keys, process ids,
events). On the generated log, which logward and aureport collate alike, the
whole report is compared for more variants: --failed, --success, a -ts/-te
window of dates and times, -ts recent under a pinned clock (faketime for
aureport, LOGWARD_SEARCH_NOW for logward), and the tables -k, -x, -f, -u and -l (with --summary, as multisets
of "hits value" lines); each variant must count some events but not all, so
no comparison passes by counting nothing.

Deliberate differences (the test fails if an unlisted one occurs):
  range        "Range of time in logs" and "Selected time for report": logward
               prints the earliest and the latest event read; aureport the
               first event it collated and the last of the last file (the
               epoch when that file ends with an event it drops, and only up
               to -te). Not compared.
  collation    the file has events aureport collates differently (listed in
               ausearch_equivalence.py's KNOWN: split-2s, split-first,
               dropped-avc, dropped-syslog, merged-eoe, garbage-ausearch);
               aureport counts each part of a split event, drops AppArmor AVC
               events and kernel-syslog-form records, and takes a comment for
               an event. Any count of such a file may differ.
  malformed    aureport's parser, asked for every field as its summary asks,
               finds the event malformed and skips it: a USER_AVC without
               tclass= (parse_avc), a user-space record whose terminal= ends
               the message without a space (parse_user returns 19).
  hex-key      a hex-encoded key followed by a stray quote: aureport decodes
               it up to the quote and splits the keys; logward takes the
               value as written (not hex) and counts one key.
Also by design (docs/search.md): `logward report` exits 1 when no event was
selected (aureport 0); -k/-x/-f/-u/-l print the --summary tables (aureport's
per-event lists without --summary are not offered).
"""
import collections
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ausearch_equivalence as ae  # noqa: E402  (shared list of collation differences)

BIN = os.environ.get("LW_BIN", "build/release/src")
GEN = os.environ.get("LW_GEN", "build/release/tests/gen_audit")
DATA = os.environ.get("LW_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
AUDIT = os.path.join(DATA, "audit")
ENV = dict(os.environ, LC_ALL="C", TZ="UTC")

# file -> {(kind, "line prefix"), ...}: differences beyond collation.
KNOWN = {
    "linux-audit-parser-rs/line-user-avc-1.txt": {("malformed", "*")},
    "linux-audit-parser-rs/line-user-avc-2.txt": {("malformed", "*")},
    "linux-audit-parser-rs/line-user-selinux-err.txt": {("malformed", "*")},
    "go-libaudit/auparse/audit-ubuntu17.log": {("hex-key", "Number of keys")},
}


def run(cmd, env=ENV):
    p = subprocess.run(cmd, capture_output=True, env=env)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    return p.stdout.decode("utf-8", "surrogateescape")


def numbers(text):
    """'Number of X: N' lines -> {X: N}."""
    out = {}
    for line in text.split("\n"):
        if line.startswith("Number of "):
            name, _, value = line.partition(": ")
            out[name] = value
    return out


FAKETIME_LIB = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                                  "/usr/lib/faketime/libfaketime.so.1") if os.path.exists(p)), None)


def summaries(path, extra=(), pin=None):
    lw_env, au_env, au_cmd = ENV, ENV, ["aureport", "--summary", "-if", path] + list(extra)
    if pin is not None:
        lw_env = dict(ENV, LOGWARD_SEARCH_NOW=str(pin))
        fixed = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(pin))
        if FAKETIME_LIB:  # preloaded with a fixed time: see search_equivalence.py
            au_env = dict(ENV, LD_PRELOAD=FAKETIME_LIB, FAKETIME=fixed, FAKETIME_NO_CACHE="1")
        else:
            au_cmd = ["faketime", "-f", fixed] + au_cmd
    ours = run([os.path.join(BIN, "logward"), "report", "-q", "--summary"] + list(extra) + [path],
               lw_env)
    return numbers(ours), numbers(run(au_cmd, au_env))


def check_sample(rel):
    path = os.path.join(AUDIT, rel)
    ours, theirs = summaries(path)
    diffs = {k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
    if not diffs:
        return 0, False
    known = KNOWN.get(rel, set())
    if rel in ae.KNOWN or ("malformed", "*") in known:
        return 0, True
    unlisted = {d for d in diffs if ("hex-key", d) not in known}
    for d in sorted(unlisted):
        print(f"FAIL {rel}: {d}: logward {ours.get(d)}, aureport {theirs.get(d)}")
    return (1 if unlisted else 0), True


def table(text):
    return collections.Counter(l for l in text.split("\n") if l and l[0].isdigit() and "  " in l)


def check_generated(gen):
    failures = 0
    total = None
    t0 = None
    for line in open(gen, "rb"):
        if b"audit(" in line:
            t0 = int(line.split(b"audit(")[1].split(b".")[0])
            break
    window = ["-ts", time.strftime("%m/%d/%y", time.gmtime(t0)),
              time.strftime("%H:%M:%S", time.gmtime(t0 + 5)),
              "-te", time.strftime("%m/%d/%y", time.gmtime(t0)),
              time.strftime("%H:%M:%S", time.gmtime(t0 + 10))]
    for name, extra, pin in [("summary", [], None), ("failed", ["--failed"], None),
                             ("success", ["--success"], None), ("window", window, None),
                             ("recent", ["-ts", "recent"], t0 + 610)]:
        ours, theirs = summaries(gen, extra, pin)
        events = int(ours.get("Number of events", "0"))
        if name == "summary":
            total = events
        diffs = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        for d in diffs:
            print(f"FAIL generated {name}: {d}: logward {ours.get(d)}, aureport {theirs.get(d)}")
        if not diffs and (events == 0 or (name != "summary" and events >= total)):
            print(f"FAIL generated {name}: counts {events} of {total} events (want some, not all)")
            diffs = ["count"]
        failures += bool(diffs)
        if not diffs:
            print(f"ok   generated.log --summary {' '.join(extra)}: {events} events, "
                  f"{len(ours)} counts equal", flush=True)
    for flag in ("-k", "-x", "-f", "-u", "-l"):
        for extra in ([], ["--failed"]):
            ours = table(run([os.path.join(BIN, "logward"), "report", "-q", flag, "--summary"]
                             + extra + [gen]))
            theirs = table(run(["aureport", flag, "--summary", "-if", gen] + extra))
            bad = ours != theirs or not ours
            if bad:
                print(f"FAIL generated {flag} {' '.join(extra)}: {sum(ours.values())} rows vs "
                      f"aureport {sum(theirs.values())}; only logward: "
                      f"{sorted((ours - theirs))[:3]}, only aureport: {sorted((theirs - ours))[:3]}")
            else:
                print(f"ok   generated.log {flag} --summary {' '.join(extra)}: {len(ours)} rows equal")
            failures += bad
    return failures


def main():
    if not os.path.isdir(AUDIT):
        print(f"SKIP: shared audit samples not found at {AUDIT} (set LW_DATA)")
        return 77
    for tool in ("aureport", "faketime"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            print(f"SKIP: {tool} not installed (apt-get install auditd faketime)")
            return 77
    failures, same, listed = 0, 0, 0
    files = sorted(ae.sample_files())
    for rel in files:
        f, differs = check_sample(rel)
        failures += f
        same += not differs
        listed += differs and not f
    print(f"{'ok' if not failures else 'FAIL':4} samples: {same} of {len(files)} files count alike, "
          f"{listed} differ only as listed (collation, malformed, hex-key)")
    if same < len(files) // 2:
        print("FAIL fewer than half the samples count alike")
        failures += 1
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "generated.log")
        with open(gen, "wb") as out:
            subprocess.run([GEN, "--events", "15000", "--open", "8", "--nodes", "2", "--seed", "5"],
                           stdout=out, check=True)
        failures += check_generated(gen)
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
