#!/usr/bin/env python3
"""rules_guideline: the guideline's own example rules (a copy in
guideline-examples.rules) through our parser and `logward rules --check`.
The parser must accept every line auditctl accepts and reject the two
arch=ARCH lines and the stray "-k" line; the linter must flag each of the
guideline's errors (placeholders, the stray -k, the b64-only time and module
rules, auid>=500 below UID_MIN 1000) and the categories left uncovered; and
`logward rules` must fix each of them. When the guideline itself is at hand
(../shared/docs/guideline), every rule line of the copy must be in it."""
import os
import re

from lwtest import abis, check, done, dump_lines, field, logward, src_path

abis()  # skips on machines without a b64/b32 mapping
fixture = src_path("tests/rules/guideline-examples.rules")
text = open(fixture).read()
lines = text.splitlines()


def line_no(pattern, nth=0):
    hits = [i + 1 for i, l in enumerate(lines) if re.search(pattern, l)]
    return hits[nth] if len(hits) > nth else -1


guideline = src_path("../shared/docs/guideline/site-logging-guideline.txt")
if os.path.exists(guideline):
    g = open(guideline).read().splitlines()
    for l in lines:
        if l.startswith("-"):
            check(l in g, "fixture line not in the guideline: " + l)
else:
    print("note: %s absent; fixture not compared with it" % guideline)

arch1, arch2 = line_no(r"arch=ARCH"), line_no(r"arch=ARCH", 1)
stray = line_no(r"^-k audit_time_rules$")
check(min(arch1, arch2, stray) > 0, "fixture lacks the guideline's errors")

# Parser: exactly the three bad lines fail; the rest parse.
for r in dump_lines(text):
    bad = r["line"] in (arch1, arch2, stray)
    check((r["error"] is not None) == bad, "line %d: error %s" % (r["line"], r["error"]))
    if r["line"] == stray:
        check("-k needs a watch or syscall" in (r["error"] or ""), "stray -k error: %s" % r["error"])

code, out, err = logward("rules", "--check", fixture, "--auid-min", "1000", "--arch", "b64,b32")
check(code == 1, "rules --check on the guideline examples: exit %d, want 1" % code)
findings = out.splitlines()


def flagged(ident, line=None, text=None):
    for f in findings:
        if not f.endswith("[%s]" % ident):
            continue
        if line is not None and not f.startswith("%s:%d:" % (fixture, line)):
            continue
        if text is not None and text not in f:
            continue
        return True
    return False


check(flagged("placeholder", arch1, "'ARCH'"), "arch=ARCH on line %d not flagged" % arch1)
check(flagged("placeholder", arch2, "'ARCH'"), "arch=ARCH on line %d not flagged" % arch2)
check(flagged("stray-key", stray, "rule on line %d" % (stray - 1)), "stray -k not flagged")
check(flagged("missing-arch", None, "audit_time_rules has syscall rules for b64 but none for b32"),
      "b64-only time rules not flagged")
check(flagged("missing-arch", None, "modules has syscall rules for b64 but none for b32"),
      "b64-only module rules not flagged")
auid_lines = [i + 1 for i, l in enumerate(lines) if "auid>=500" in l and "ARCH" not in l]
for n in auid_lines:
    check(flagged("auid-min", n, "500"), "auid>=500 on line %d not flagged" % n)
check(flagged("missing-category", None, "category delete"), "delete category not flagged")
check(flagged("partial-category", None, "category modules") and
      flagged("partial-category", None, "finit_module"), "modules without finit_module not flagged")
check(not flagged("syntax"), "syntax findings beyond the known errors:\n" + out)
for key in ("command_log", "actions", "user_modify", "logins", "session"):
    check(not flagged("missing-category", None, "category %s " % key) and
          not flagged("partial-category", None, "category %s " % key),
          "category %s wrongly reported" % key)

# The comment "Record Attempts to Alter Time Through stime" with arch=b64: stime has no
# b64 syscall, so a rule naming it is refused.
code, out, err = logward("rules", "--check", "-", stdin="-a always,exit -F arch=b64 -S adjtimex -S stime -k audit_time_rules\n")
check(code == 1 and "[unknown-syscall]" in out and "stime is not a syscall of b64" in out,
      "stime on b64 not flagged:\n" + out)

# `logward rules` corrects each error.
code, out, err = logward("rules", "--auid-min", "1000")
rules = dump_lines(out)
check(all(r["error"] is None for r in rules), "generated rules do not parse")
check("ARCH" not in out and not re.search(r"^-k ", out, re.M), "generated rules keep an error")
for key in ("audit_time_rules", "modules", "delete", "audit_network_modifications"):
    archs = {field(r, "arch")[2] for r in rules if key in r["keys"] and r["kind"] == "syscall"}
    check(archs == {"b64", "b32"}, "%s rules for %s" % (key, sorted(archs)))
check("auid>=500" not in out and "auid>=1000" in out, "auid threshold not corrected")
check(any("finit_module" in r["syscalls"] for r in rules), "finit_module missing")
done()
