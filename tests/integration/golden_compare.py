#!/usr/bin/env python3
"""Golden comparison: logward's normalized fields against other normalizers.

Next to some sample logs sit the outputs of two other audit normalizers (see
../shared/data/audit/SOURCES.md):
  go-libaudit/aucoalesce  X.yaml cases (the raw lines of one event each) and
                          X.json.golden, go-libaudit's coalesced event per case;
  go-libaudit/auparse     X.log and X.log.golden, go-libaudit's fields per record;
  laurel                  X.txt and X.json, laurel's JSON per event.
This test runs `logward events --utc` on the same records, maps each field the
reference has onto logward's schema (docs/event-schema.md): who (ids, session,
tty, account), what (syscall, result, exit, process, command line, proctitle),
object (cwd, PATH items) and network (sockaddr, user-space addr/hostname/
terminal), and the rule key, and compares the values. Only representation is
unified before comparing (numbers as text, an octal mode as its number);
every difference in meaning must be listed below, either as a RULE (a
convention the other tool follows everywhere, with the reason logward does
not) or in CASES (one field of one event, with its reason). The test fails if
an unlisted difference occurs, if a listed one no longer occurs, or if an
event of a reference has no counterpart in logward's output. It prints the
per-field agreement rate per source and overall.
"""
import collections
import datetime
import glob
import json
import os
import subprocess
import sys

BIN = os.environ.get("LW_BIN", "build/release/src")
DATA = os.environ.get("LW_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
AUDIT = os.path.join(DATA, "audit")
MISSING = "<absent>"


def skip(msg):
    print(f"SKIP: {msg}")
    sys.exit(77)


try:
    import yaml
except ImportError:  # Debian package python3-yaml (scripts/deps.sh)
    yaml = None


# ---- the listed differences ----

def _unset(ref, ours, ev, name_key):
    who = ev.get("who", {})
    return ref == "unset" and ours == 4294967295 and who.get(name_key) == "unset"


def _errno(ref, ours, ev):
    return isinstance(ref, str) and ref.startswith("E") and ev["what"].get("errno") == ref \
        and isinstance(ours, int) and ours < 0


_FAMILY = {"ipv4": "inet", "ipv6": "inet6", "unix": "local"}

# (source prefix, field) -> [(predicate(ref, ours, event) -> bool, reason)]
RULES = {
    ("go-libaudit", "who.auid"): [(
        lambda r, o, e: _unset(r, o, e, "auid_name"),
        "go-libaudit replaces auid 4294967295 by 'unset'; logward keeps the number as "
        "recorded and says 'unset' in auid_name")],
    ("go-libaudit", "who.session"): [(
        lambda r, o, e: r == "unset" and o == 4294967295,
        "go-libaudit replaces ses 4294967295 by 'unset'; logward keeps the number "
        "(4294967295 is documented as unset in the schema)")],
    ("go-libaudit", "who.old_auid"): [(
        lambda r, o, e: _unset(r, o, e, "old_auid_name"),
        "go-libaudit replaces old-auid 4294967295 by 'unset'; logward keeps the number and "
        "says 'unset' in old_auid_name")],
    ("go-libaudit", "result"): [(
        lambda r, o, e: r == "fail" and o == "failure",
        "go-libaudit's word for a failure is 'fail'; logward's schema says 'failure'")],
    ("go-libaudit", "what.exit"): [(
        _errno,
        "go-libaudit replaces a negative exit by its errno name; logward keeps the number in "
        "exit and gives the name in errno")],
    ("go-libaudit", "network.family"): [(
        lambda r, o, e: _FAMILY.get(r) == o,
        "go-libaudit names AF_INET/AF_INET6/AF_UNIX ipv4/ipv6/unix; logward uses the names "
        "of libaudit's interpretation (inet/inet6/local), as auditd's ENRICHED SADDR does")],
    ("go-libaudit", "key"): [(
        lambda r, o, e: isinstance(o, list) and len(o) == len(r) and
        all(x.startswith("key=") and x[4:] == y for x, y in zip(o, r)),
        "the record says key=\"key=net\"; go-libaudit cuts everything up to the first '=' "
        "from a key, logward keeps the key as the kernel recorded it (as ausearch does): "
        "a key may contain '='")],
}

# (source file, event id, field) -> reason; event id: case name or sec.msec:serial
CASES = {
    ("go-libaudit/auparse/audit-ubuntu17.log", "1515619721.392:106081 syscall", "key"):
        "the record ends in a stray quote (key=65786563013634626974\"), so the value is "
        "not hex; go-libaudit's field regex stops at the quote and decodes the rest, "
        "logward does not guess at a damaged value and keeps it as written",
}


# ---- running logward ----

def logward(text):
    p = subprocess.run([os.path.join(BIN, "logward"), "events", "--utc", "-"],
                       input=text.encode("utf-8", "surrogateescape"), capture_output=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"logward failed: {p.stderr.decode()}")
    return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()]


def stamp_of(ev):
    """sec.msec:serial of an event (from its first record)."""
    r = ev["records"][0]
    i = r.index("audit(") + 6
    return r[i:r.index(")", i)]


def ours_flat(ev):
    """Our event as field -> value, with the names used for references."""
    f = {}
    for part in ("who", "what", "network"):
        for k, v in ev.get(part, {}).items():
            f[f"{part}.{k}"] = v
    obj = ev.get("object", {})
    for k, v in obj.items():
        if k != "paths":
            f[f"object.{k}"] = v
    for i, p in enumerate(obj.get("paths", [])):
        item = p.get("item", i)
        for k, v in p.items():
            f[f"object.paths[{item}].{k}"] = v
    if "result" in ev:
        f["result"] = ev["result"]
    f["key"] = ev["key"]
    return f


# ---- references -> the same field names ----

WHO_IDS = ("auid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid")


def selinux_context(parts):
    keys = ("user", "role", "domain", "level", "category")
    vals = [parts[k] for k in keys if k in parts]
    return ":".join(vals) if vals else None


def path_fields(p, index):
    item = p.get("item", index)
    out = {}
    for k, ours in (("name", "name"), ("inode", "inode"), ("dev", "dev"), ("mode", "mode"),
                    ("ouid", "ouid"), ("ogid", "ogid"), ("rdev", "rdev"),
                    ("nametype", "nametype"), ("objtype", "nametype"),
                    ("OUID", "ouid_name"), ("OGID", "ogid_name")):
        if k in p:
            out[f"object.paths[{item}].{ours}"] = p[k]
    return out


# Record fields common to the references (auparse's data, laurel's records).
GENERIC = {
    **{k: f"who.{k}" for k in WHO_IDS},
    **{k.upper(): f"who.{k}_name" for k in WHO_IDS},
    "ses": "who.session", "tty": "who.tty", "acct": "who.acct", "id": "who.id",
    "ID": "who.id_name", "old-auid": "who.old_auid", "old_auid": "who.old_auid",
    "OLD-AUID": "who.old_auid_name", "new_auid": "who.auid", "old-ses": "who.old_session",
    "subj": "who.subj",
    "pid": "what.pid", "ppid": "what.ppid", "exe": "what.exe", "comm": "what.comm",
    "arch": "what.arch", "ARCH": "what.arch", "SYSCALL": "what.syscall", "exit": "what.exit",
    "op": "what.op", "cmd": "what.cmd", "grantors": "what.grantors", "data": "what.data",
    "apparmor": "what.apparmor", "operation": "what.operation", "profile": "what.profile",
    "requested_mask": "what.requested_mask", "denied_mask": "what.denied_mask",
    "scontext": "what.scontext", "tcontext": "what.tcontext", "tclass": "what.tclass",
    "sig": "what.sig", "argc": "what.argc",
    "cwd": "object.cwd", "name": "object.name", "path": "object.path",
    "hostname": "network.hostname", "addr": "network.addr", "terminal": "network.terminal",
    "laddr": "network.local_addr", "lport": "network.local_port",
}


def aucoalesce_ref(ev):
    """go-libaudit's coalesced event -> fields."""
    f = {}
    ids = ev.get("user", {}).get("ids", {})
    for k in WHO_IDS:
        if k in ids:
            f[f"who.{k}"] = ids[k]
    if "old-auid" in ids:
        f["who.old_auid"] = ids["old-auid"]
    if "session" in ev:
        f["who.session"] = ev["session"]
    ctx = selinux_context(ev.get("user", {}).get("selinux", {}))
    if ctx:
        f["who.subj"] = ctx
    proc = ev.get("process", {})
    for k, ours in (("pid", "what.pid"), ("ppid", "what.ppid"), ("exe", "what.exe"),
                    ("name", "what.comm"), ("title", "what.proctitle"),
                    ("args", "what.argv"), ("cwd", "object.cwd")):
        if k in proc:
            f[ours] = proc[k]
    data = ev.get("data", {})
    for k, ours in (("tty", "who.tty"), ("acct", "who.acct"), ("id", "who.id"),
                    ("old-ses", "who.old_session"), ("syscall", "what.syscall"),
                    ("arch", "what.arch"), ("exit", "what.exit"), ("argc", "what.argc"),
                    ("op", "what.op"), ("cmd", "what.cmd"), ("sig", "what.sig"),
                    ("hostname", "network.hostname"), ("terminal", "network.terminal"),
                    ("socket_family", "network.family"), ("socket_addr", "network.addr"),
                    ("socket_port", "network.port"), ("path", "object.path"),
                    ("laddr", "network.local_addr"), ("lport", "network.local_port")):
        if k in data:
            f[ours] = data[k]
    # For user-space records go-libaudit puts addr= into source.ip.
    if "network.addr" not in f and "ip" in ev.get("source", {}) and "socket_addr" not in data:
        f["network.addr"] = ev["source"]["ip"]
    if ev.get("result") in ("success", "fail"):  # "unknown": it found none
        f["result"] = ev["result"]
    if "tags" in ev:
        f["key"] = ev["tags"]
    for i, p in enumerate(ev.get("paths", [])):
        f.update(path_fields(p, i))
    return f


def auparse_ref(rec):
    """go-libaudit's fields of one record -> fields."""
    data = rec.get("data") or {}
    typ = rec["record_type"]
    f = {}
    if typ == "path":
        return path_fields(data, 0)
    if typ == "execve":
        if "argc" in data:
            f["what.argc"] = data["argc"]
            f["what.argv"] = [data.get(f"a{i}", MISSING) for i in range(int(data["argc"]))]
        return f
    if typ == "sockaddr":
        for k in ("family", "addr", "port", "path"):
            if k in data:
                f[f"network.{k}"] = data[k]
        return f
    if typ == "proctitle":
        if "proctitle" in data:
            f["what.proctitle"] = data["proctitle"]
        return f
    for k, v in data.items():
        if k in GENERIC and k not in ("ID", "ARCH", "SYSCALL"):
            f[GENERIC[k]] = v
    if typ == "syscall" and "syscall" in data:
        f["what.syscall"] = data["syscall"]
    if "result" in data:
        f["result"] = data["result"]
    ctx = selinux_context({k[5:]: v for k, v in data.items() if k.startswith("subj_")})
    if ctx:
        f["who.subj"] = ctx
    if "seresult" in data:
        f["what.avc"] = {"result": data["seresult"], "perms": data["seperms"].split(",")}
    if "keys" in rec:
        f["key"] = rec["keys"]
    return f


def parse_saddr_text(s):
    """auditd's interpreted SADDR={ fam=inet laddr=1.2.3.4 lport=80 } -> fields."""
    words = dict(w.split("=", 1) for w in s.strip("{} ").split() if "=" in w)
    f = {}
    fam = words.get("saddr_fam") or words.get("fam")
    if fam:
        f["network.family"] = fam
    for k, ours in (("laddr", "network.addr"), ("lport", "network.port"),
                    ("path", "network.path"), ("nlnk-pid", "network.netlink_pid")):
        if k in words:
            f[ours] = words[k]
    return f


def laurel_ref(ev):
    """laurel's event -> fields. The SYSCALL record speaks for the process; other
    records fill in what it lacks, in arrival order."""
    f = {}
    records = []
    for typ, val in ev.items():
        if typ in ("ID", "NODE"):
            continue
        for r in (val if isinstance(val, list) else [val]):
            records.append((typ, r))
    records.sort(key=lambda tr: tr[0] != "SYSCALL")
    for typ, r in records:
        if typ == "EXECVE":
            f["what.argv"] = r["ARGV"]
            f["what.argc"] = r["argc"]
        elif typ == "PROCTITLE":
            f["what.proctitle"] = " ".join(r["ARGV"])
        elif typ == "PATH":
            continue
        elif typ == "SOCKADDR":
            if "SADDR" in r:
                f.update(parse_saddr_text(r["SADDR"]))
        else:
            for k, v in r.items():
                # laurel keeps arch as the number ("0xc000003e"); its name is ARCH.
                if k in GENERIC and GENERIC[k] not in f and k != "arch":
                    f[GENERIC[k]] = v
            if typ == "SYSCALL":
                f["what.syscall_nr"] = r["syscall"]
            if "success" in r and "what.success" not in f:
                f["what.success"] = {"yes": True, "no": False}.get(r["success"], r["success"])
            if "key" in r and "key" not in f:
                f["key"] = [] if r["key"] is None else [r["key"]]
            if typ == "LOGIN" and "res" in r:
                f.setdefault("what.res", r["res"])
    for i, p in enumerate(ev.get("PATH", [])):
        f.update(path_fields(p, i))
    return f


# ---- comparing ----

def canon(field, v):
    if v is None or v is MISSING:
        return v
    if isinstance(v, bool):
        return v
    if field.endswith(".mode"):
        s = str(v)
        return int(s[2:] if s.startswith("0o") else s, 8)
    if isinstance(v, list):
        return [canon(field, x) for x in v]
    if isinstance(v, dict):
        return {k: canon(field, x) for k, x in v.items()}
    return str(v)


def table_name(field):
    if field.startswith("object.paths["):
        return "object.paths." + field.split("].", 1)[1]
    return field


class Tally:
    def __init__(self):
        self.agree = collections.Counter()
        self.total = collections.Counter()
        self.listed = collections.Counter()
        self.unlisted = []
        self.rules_used = collections.Counter()
        self.cases_used = set()
        self.events = collections.Counter()

    def compare(self, source, file, event_id, ref, ev):
        ours = ours_flat(ev)
        self.events[(source, file)] += 1
        for field, rv in sorted(ref.items()):
            name = table_name(field)
            ov = ours.get(field, MISSING)
            self.total[(source, name)] += 1
            if canon(field, rv) == canon(field, ov):
                self.agree[(source, name)] += 1
                continue
            explained = False
            for i, (pred, _reason) in enumerate(RULES.get((source, name), [])):
                if pred(rv, ov, ev):
                    self.rules_used[(source, name, i)] += 1
                    explained = True
                    break
            case = (file, event_id, field)
            if not explained and case in CASES:
                self.cases_used.add(case)
                explained = True
            if explained:
                self.listed[(source, name)] += 1
            else:
                self.unlisted.append(f"{file} {event_id} {field}: reference {rv!r}, "
                                     f"logward {ov!r}")


def compare_aucoalesce(t, problems):
    base = os.path.join(AUDIT, "go-libaudit", "aucoalesce")
    for ypath in sorted(glob.glob(os.path.join(base, "*.yaml"))):
        rel = os.path.relpath(ypath, AUDIT)
        cases = yaml.safe_load(open(ypath, encoding="utf-8"))["tests"]
        golden = json.load(open(ypath[:-5] + ".json.golden", encoding="utf-8"))
        for g in golden:
            name, gev = g["test_name"], g["event"]
            events = [e for e in logward(cases[name]) if e["serial"] == gev["sequence"]]
            if len(events) != 1:
                problems.append(f"{rel} {name}: {len(events)} logward events with serial "
                                f"{gev['sequence']}")
                continue
            t.compare("go-libaudit", rel, name, aucoalesce_ref(gev), events[0])


def golden_stamp(rec):
    """sec.msec:serial of a go-libaudit record ("2017-04-22T21:25:01.08Z")."""
    whole, _, frac = rec["@timestamp"].rstrip("Z").partition(".")
    ts = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    sec = int(ts.replace(tzinfo=datetime.timezone.utc).timestamp())
    return f"{sec}.{(frac + '000')[:3]}:{rec['sequence']}"


def compare_auparse(t, problems):
    base = os.path.join(AUDIT, "go-libaudit", "auparse")
    for gpath in sorted(glob.glob(os.path.join(base, "*.log.golden"))):
        log = gpath[:-7]
        rel = os.path.relpath(log, AUDIT)
        text = open(log, "rb").read().decode("utf-8", "surrogateescape")
        by_stamp = {}
        for e in logward(text):
            by_stamp.setdefault(stamp_of(e), []).append(e)
        for rec in json.load(open(gpath, encoding="utf-8")):
            if rec is None:  # go-libaudit could not parse the record (msg=?)
                continue
            stamp = golden_stamp(rec)
            events = by_stamp.get(stamp, [])
            raw = "msg=" + rec["raw_msg"]
            match = [e for e in events if any(raw in r for r in e["records"])]
            if len(match) != 1:
                problems.append(f"{rel} {stamp}: record not in exactly one logward event")
                continue
            t.compare("go-libaudit", rel, f"{stamp} {rec['record_type']}", auparse_ref(rec),
                      match[0])


def compare_laurel(t, problems):
    base = os.path.join(AUDIT, "laurel")
    for jpath in sorted(glob.glob(os.path.join(base, "*.json"))):
        txt = jpath[:-5] + ".txt"
        rel = os.path.relpath(txt, AUDIT)
        raw = open(txt, "rb").read().decode("utf-8", "surrogateescape")
        lines = [l for l in raw.split("\n") if l.strip() and not l.startswith("#")]
        ours = {}
        for e in logward("\n".join(lines) + "\n"):
            ours.setdefault((e.get("node", ""), stamp_of(e)), []).append(e)
        for line in open(jpath, encoding="utf-8"):
            if not line.strip():
                continue
            lev = json.loads(line)
            key = (lev.get("NODE", ""), lev["ID"])
            events = ours.get(key, [])
            if len(events) != 1:
                problems.append(f"{rel} {lev['ID']}: {len(events)} logward events")
                continue
            t.compare("laurel", rel, lev["ID"], laurel_ref(lev), events[0])


def report(t):
    sources = sorted({s for s, _ in t.total})
    print("== compared (events, or records for auparse's per-record goldens)")
    for (source, file), n in sorted(t.events.items()):
        print(f"  {file}: {n}")
    rows = []
    for s in sources + ["overall"]:
        names = sorted({n for src, n in t.total if s in (src, "overall")})
        print(f"\n== {s}: field agreement (agree/total, listed = deliberate differences)")
        print(f"{'field':32} {'agree':>7} {'total':>6} {'%':>6} {'listed':>7}")
        for n in names:
            keys = [(src, n) for src in sources if s in (src, "overall")]
            a = sum(t.agree[k] for k in keys)
            tot = sum(t.total[k] for k in keys)
            lst = sum(t.listed[k] for k in keys)
            if tot:
                print(f"{n:32} {a:7} {tot:6} {100.0 * a / tot:6.1f} {lst:7}")
            rows.append((s, n, a, tot))
        a = sum(v for k, v in t.agree.items() if s in (k[0], "overall"))
        tot = sum(v for k, v in t.total.items() if s in (k[0], "overall"))
        print(f"{'ALL FIELDS':32} {a:7} {tot:6} {100.0 * a / max(tot, 1):6.1f}")
    return rows


def main():
    if not os.path.isdir(AUDIT):
        skip(f"no audit samples at {AUDIT}")
    if yaml is None:
        skip("python3-yaml is not installed (scripts/deps.sh installs it)")
    if not os.access(os.path.join(BIN, "logward"), os.X_OK):
        print(f"FAIL: no logward binary in {BIN}")
        return 1
    t = Tally()
    problems = []
    compare_aucoalesce(t, problems)
    compare_auparse(t, problems)
    compare_laurel(t, problems)
    report(t)
    print("\n== deliberate differences (rules)")
    for (source, field), rules in sorted(RULES.items()):
        for i, (_pred, reason) in enumerate(rules):
            n = t.rules_used[(source, field, i)]
            print(f"  {source} {field} x{n}: {reason}")
            if n == 0:
                problems.append(f"listed rule no longer occurs: {source} {field}: {reason}")
    print("== deliberate differences (single events)")
    for case, reason in sorted(CASES.items()):
        print(f"  {' '.join(case)}: {reason}")
        if case not in t.cases_used:
            problems.append(f"listed difference no longer occurs: {case}")
    problems += [f"unlisted difference: {u}" for u in t.unlisted]
    for p in problems:
        print("FAIL:", p)
    if not sum(t.total.values()):
        print("FAIL: nothing was compared")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
