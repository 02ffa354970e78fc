#!/usr/bin/env python3
"""ausearch equivalence: logward finds the same events as the real ausearch.

For every audit log in the shared samples (../shared/data/audit), this runs
Debian's ausearch (`ausearch -if FILE --escape raw`, default 2-second
end-of-event timeout) and `logward events`, and compares the events as a
multiset: the same key (node, seconds.millis, serial) and the same records in
the same order. Records are compared up to the ENRICHED separator, because
ausearch's default output cuts it (the raw output keeps it, and so does
logward: checked separately on each record).

Where ausearch is deliberately not followed, the difference is listed below in
KNOWN, with its kind and reason; the test fails if a listed difference does not
occur or an unlisted one does. Kinds:
  split-2s     ausearch splits one event in two when records of one id arrive
               more than 2 s apart in the stream (audit-userspace#148).
  split-first  ausearch closes an event at once when its FIRST record has a
               "one-record" type (LOGIN and other types < 1300); the kernel
               writes LOGIN as part of the syscall event that follows it.
  dropped-avc  ausearch drops every event whose AVC lacks tclass= (all AppArmor
               AVCs) as malformed, silently.
  dropped-syslog  ausearch skips records in kernel-syslog form
               ("kernel: audit: type=1400 audit(...)"); logward reads them.
  merged-eoe   ausearch merges records of one id after its EOE into the same
               event; logward ends an event at EOE, as EOE says.
  garbage-ausearch  ausearch takes a line that is not an audit record (a '#'
               comment with a long token holding '(') for an event; logward
               reports it as not a record.
"""
import collections
import json
import os
import subprocess
import sys

BIN = os.environ.get("LW_BIN", "build/release/src")
DATA = os.environ.get("LW_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
AUDIT = os.path.join(DATA, "audit")
SKIP_EXT = (".json", ".golden", ".yaml", ".md", ".ref")

# file (relative to the audit sample folder) -> {(kind, "sec.msec:serial"), ...}
KNOWN = {
    "apparmor.d/audit.log": {
        ('dropped-avc', '1111111111.111:1111'),
        ('dropped-avc', '1689957950.207:1952'),
        ('dropped-avc', '1690029190.344:2232'),
        ('dropped-syslog', '1111111111.111:1111'),
        ('dropped-syslog', '11111111111.111:111'),
        ('dropped-syslog', '1689714302.008:1693'),
        ('dropped-syslog', '1689714302.008:1694'),
        ('dropped-syslog', '1689714302.008:1695'),
        ('dropped-syslog', '1689714302.008:1696'),
        ('dropped-syslog', '1689779263.106:3379'),
        ('dropped-syslog', '1689779263.106:3380'),
        ('dropped-syslog', '1689779263.198:3384'),
        ('dropped-syslog', '1689779263.198:3385'),
    },
    "audit-userspace/test.log": {
        ('split-first', '1170021601.343:296'),
    },
    "audit-userspace/test2.log": {
        ('split-first', '1170021601.343:286'),
    },
    "go-libaudit/auparse/audit-rhel7.log": {
        ('split-2s', '1481076984.827:17'),
    },
    "go-libaudit/auparse/audit-ubuntu16.log": {
        ('dropped-avc', '1524662933.080:61207'),
    },
    "go-libaudit/reassembler/out_of_order.log": {
        ('split-2s', '1492037291.038:60'),
    },
    "laurel/fork-sleep-exec.txt": {
        ('garbage-ausearch', '#   execve("/bin/true", NULL, NULL);'),
    },
    "laurel/record-avc-apparmor.txt": {
        ('dropped-avc', '1634728455.294:53732'),
    },
    "laurel/record-login.txt": {
        ('split-first', '1640027821.949:151316'),
    },
    "laurel/record-syscall-nullkey.txt": {
        ('split-2s', '1678283440.683:225'),
    },
    "linux-audit-parser-rs/line-broken-avc-info.txt": {
        ('dropped-avc', '1634728455.294:53732'),
    },
    "plaso/audit_enriched.log": {
        ('split-first', '1783414613.166:447'),
    },
}


def event_key(node, stamp):
    return (node or "", stamp)


def strip_enriched(line):
    return line.split("\x1d", 1)[0]


def ausearch_events(path):
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    p = subprocess.run(["ausearch", "-if", path, "--escape", "raw", "--eoe-timeout", "2"],
                       capture_output=True, env=env)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"ausearch failed on {path}: {p.stderr.decode()}")
    events = []
    for block in p.stdout.decode("utf-8", "surrogateescape").split("----\n"):
        lines = [l for l in block.split("\n") if l and not l.startswith("time->")]
        if not lines:
            continue
        lines.reverse()  # ausearch prints an event's records last first
        events.append(lines)
    return events


def stamp_of(line):
    i = line.index("audit(") + 6
    return line[i:line.index(")", i)]


def node_of(line):
    return line[5:line.index(" ")] if line.startswith("node=") else ""


def logward_events(path):
    p = subprocess.run([os.path.join(BIN, "logward"), "events", "--quiet", path],
                       capture_output=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"logward failed on {path}: {p.stderr.decode()}")
    out = []
    for line in p.stdout.decode("utf-8").split("\n")[:-1]:
        ev = json.loads(line)
        out.append(ev)
    return out


def signature(node, stamp, records):
    return (node, stamp, tuple(strip_enriched(r) for r in records))


def compare(rel):
    path = os.path.join(AUDIT, rel)
    theirs = collections.Counter()
    by_key_theirs = collections.defaultdict(list)
    found = set()
    for recs in ausearch_events(path):
        if "audit(" not in recs[0]:
            found.add(("garbage-ausearch", recs[0][:40]))
            continue
        k = event_key(node_of(recs[0]), stamp_of(recs[0]))
        theirs[signature(k[0], k[1], recs)] += 1
        by_key_theirs[k].append(recs)
    ours = collections.Counter()
    by_key_ours = collections.defaultdict(list)
    raw = open(path, "rb").read().decode("utf-8", "surrogateescape").split("\n")
    raw_set = set(raw)
    for ev in logward_events(path):
        recs = ev["records"]
        for r in recs:  # logward keeps every record byte for byte
            if r not in raw_set:
                raise AssertionError(f"{rel}: record not in the input: {r!r}")
        stamp = stamp_of(recs[0])
        if ev["serial"] != int(stamp.split(":")[1]):
            raise AssertionError(f"{rel}: serial {ev['serial']} does not match {stamp}")
        k = event_key(ev.get("node"), stamp)
        ours[signature(k[0], k[1], recs)] += 1
        by_key_ours[k].append(recs)
    only_ours = ours - theirs
    only_theirs = theirs - ours
    for sig in list(only_ours):
        node, stamp, recs = sig
        kind = classify(by_key_theirs.get((node, stamp), []), list(recs), raw)
        found.add((kind, stamp if not node else f"{node}/{stamp}"))
    for sig in list(only_theirs):
        node, stamp, recs = sig
        if not by_key_ours.get((node, stamp)):
            found.add(("unexplained-only-ausearch", stamp))
        elif sig not in {signature(node, stamp, r) for r in by_key_ours[(node, stamp)]}:
            # accounted for by the classification of our event with this key
            ours_recs = [strip_enriched(r) for e in by_key_ours[(node, stamp)] for r in e]
            if not set(recs) <= set(ours_recs):
                found.add(("unexplained-only-ausearch", stamp))
    n_ours = sum(ours.values())
    n_theirs = sum(theirs.values())
    return n_ours, n_theirs, found


def classify(their_events, our_records, raw):
    """Names the documented reason why ausearch lacks this event of ours."""
    ours = [strip_enriched(r) for r in our_records]
    if not their_events:
        if all(" audit: type=" in r and not r.startswith(("type=", "node=")) for r in ours):
            return "dropped-syslog"
        if any(("type=AVC " in r or "type=1400 " in r) and "tclass=" not in r for r in ours):
            return "dropped-avc"
        return "unexplained-only-logward"
    theirs_flat = [r for e in their_events for r in e]
    if len(their_events) > 1 and sorted(theirs_flat) == sorted(ours):
        first_types = [e[0].split(" ", 2)[1 if e[0].startswith("node=") else 0] for e in their_events]
        if any(t.startswith("type=LOGIN") or t.startswith("type=1006") for t in first_types):
            return "split-first"
        return "split-2s"
    if len(their_events) == 1 and sorted(ours) != sorted(theirs_flat) and \
            set(ours) <= set(theirs_flat) and any("type=EOE" in r for r in theirs_flat):
        return "merged-eoe"
    return "unexplained-mismatch"


def sample_files():
    for root, _, files in os.walk(AUDIT):
        for f in sorted(files):
            if not f.endswith(SKIP_EXT):
                yield os.path.relpath(os.path.join(root, f), AUDIT)


def main():
    if not os.path.isdir(AUDIT):
        print(f"SKIP: shared audit samples not found at {AUDIT}")
        return 77
    if subprocess.run(["sh", "-c", "command -v ausearch"], capture_output=True).returncode:
        print("SKIP: ausearch not installed (apt-get install auditd)")
        return 77
    failures = 0
    files = sorted(sample_files())
    seen_known = set()
    for rel in files:
        n_ours, n_theirs, found = compare(rel)
        expected = KNOWN.get(rel, set())
        seen_known.add(rel)
        status = "ok" if found == expected else "FAIL"
        print(f"{status:4} {rel}: logward {n_ours} events, ausearch {n_theirs}, "
              f"documented differences {len(expected)}")
        if found != expected:
            failures += 1
            for d in sorted(found - expected):
                print(f"     unlisted difference: {d}")
            for d in sorted(expected - found):
                print(f"     listed but not seen: {d}")
    for rel in set(KNOWN) - seen_known:
        print(f"FAIL listed file not found: {rel}")
        failures += 1
    print(f"{len(files) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
