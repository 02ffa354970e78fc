#!/usr/bin/env python3
"""rules_output: runs `logward rules` for each profile, arch set and immutable
setting, and checks every line it prints: each parses with our auditctl
parser (rule_dump), each syscall exists for its arch in the real ausyscall's
table, every guideline key is there, syscall categories have a rule per arch,
auid>= is UID_MIN from login.defs (or --auid-min), -e 2 is last exactly when
immutable, and `logward rules --check` finds the output clean."""
import os
import tempfile

from lwtest import (GUIDELINE_KEYS, abis, check, done, dump_lines, fail, field, logward,
                    syscalls_of)

b64, b32 = abis()
ABI = {"b64": b64, "b32": b32}
tmp = tempfile.TemporaryDirectory(prefix="lw-rules-out-")
root = tmp.name
os.makedirs(os.path.join(root, "etc/sysconfig"))
with open(os.path.join(root, "etc/login.defs"), "w") as f:
    f.write("# test\nUID_MIN\t\t\t 1234\nUID_MAX 60000\n")


def check_output(label, text, archs, immutable, auid_min):
    rules = dump_lines(text)
    check(rules, label + ": no rules printed")
    keys_seen, per_key_arch = set(), {}
    for r in rules:
        where = "%s line %d" % (label, r["line"])
        if not check(r["error"] is None, "%s: parse error %s" % (where, r["error"])):
            continue
        if r["kind"] == "control":
            continue
        check(len(r["keys"]) == 1 and r["keys"][0] in GUIDELINE_KEYS,
              "%s: keys %s are not one guideline key" % (where, r["keys"]))
        key = r["keys"][0] if r["keys"] else "?"
        keys_seen.add(key)
        if r["kind"] != "syscall":
            continue
        arch = field(r, "arch")
        if not check(arch and arch[1] == "=" and arch[2] in archs, "%s: arch %s" % (where, arch)):
            continue
        per_key_arch.setdefault(key, set()).add(arch[2])
        table = syscalls_of(ABI[arch[2]])
        for s in r["syscalls"]:
            check(s in table, "%s: %s is not a syscall of %s per ausyscall" % (where, s, ABI[arch[2]]))
        auid = field(r, "auid")
        if auid:
            check(auid[1] == ">=" and auid[2] == str(auid_min),
                  "%s: auid %s, want >=%d" % (where, auid, auid_min))
            check(["auid", "!=", "unset"] in r["fields"], "%s: auid!=unset missing" % where)
    check(set(GUIDELINE_KEYS) <= keys_seen,
          "%s: keys missing: %s" % (label, sorted(set(GUIDELINE_KEYS) - keys_seen)))
    for key, seen in per_key_arch.items():
        check(seen == set(archs), "%s: %s has rules for %s, want %s" % (label, key, sorted(seen), archs))
    controls = [r for r in rules if r["kind"] == "control"]
    if immutable:
        check(rules[-1]["controls"] == [["-e", "2"]], label + ": -e 2 is not the last rule")
        check(len(controls) == 1, label + ": controls other than the final -e 2")
    else:
        check(not controls, label + ": settings printed without --immutable")
    time64 = [r for r in rules if "audit_time_rules" in r["keys"] and field(r, "arch") == ["arch", "=", "b64"]]
    time32 = [r for r in rules if "audit_time_rules" in r["keys"] and field(r, "arch") == ["arch", "=", "b32"]]
    if "b64" in archs:
        check(time64 and all("stime" not in r["syscalls"] for r in time64), label + ": stime on b64")
    if "b32" in archs and "stime" in syscalls_of(b32):
        check(any("stime" in r["syscalls"] for r in time32), label + ": stime missing on b32")
    code, out, err = logward("rules", "--check", "-", "--arch", ",".join(archs),
                             "--auid-min", str(auid_min), stdin=text)
    check(code == 0, "%s: rules --check exit %d:\n%s%s" % (label, code, out, err))


runs = 0
main_sets = {}
for profile in ("main", "full"):
    for archs in (["b64", "b32"], ["b64"], ["b32"], None):
        for imm in ("--immutable", "--no-immutable"):
            args = ["rules", "--profile", profile, "--root", root, imm]
            if archs:
                args += ["--arch", ",".join(archs)]
            code, out, err = logward(*args)
            label = " ".join(args[1:]).replace(root, "ROOT")
            if not check(code == 0, "%s: exit %d %s" % (label, code, err)):
                continue
            check_output(label, out, archs or ["b64", "b32"], imm == "--immutable", 1234)
            check("-w /etc/sysconfig/network " in out, label + ": /etc/sysconfig/network not watched although ROOT/etc/sysconfig exists")
            runs += 1
            if archs is None and imm == "--immutable":
                main_sets[profile] = set(l for l in out.splitlines() if l.startswith("-"))

# The full profile only adds to the main one (syscall lists may grow).
full_lines = "\n".join(main_sets.get("full", []))
for line in main_sets.get("main", []):
    if line.startswith("-w "):
        check(line in main_sets["full"], "full profile lacks " + line)
check(len(main_sets.get("full", ())) > len(main_sets.get("main", ())), "full profile adds nothing")

# --auid-min wins over login.defs; without --root, this host's login.defs decides.
code, out, err = logward("rules", "--auid-min", "2000", "--root", root)
check_output("--auid-min 2000", out, ["b64", "b32"], True, 2000)
uid_min = 1000
try:
    for line in open("/etc/login.defs"):
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "UID_MIN":
            uid_min = int(parts[1])
except OSError:
    pass
code, out, err = logward("rules")
check_output("host login.defs", out, ["b64", "b32"], True, uid_min)
check("/etc/sysconfig/network" not in out or os.path.isdir("/etc/sysconfig"),
      "/etc/sysconfig/network watched on a host without /etc/sysconfig")

for bad in (["--profile", "bogus"], ["--arch", "b16"], ["--auid-min", "x"], ["--auid-min", "0"],
            ["extra"], ["--check", "/nonexistent/file.rules"]):
    code, out, err = logward("rules", *bad)
    check(code == 2, "rules %s: exit %d, want 2" % (" ".join(bad), code))
code, out, err = logward("rules", "--help")
check(code == 0 and "--check" in out and "--profile" in out, "rules --help")
print("%d outputs checked" % runs)
done()
