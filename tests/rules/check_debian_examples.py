#!/usr/bin/env python3
"""rules_debian_examples: our parser on the rules files Debian's auditd package
ships (/usr/share/doc/auditd/examples/rules/*.rules, which auditctl loads):
every line must parse, every syscall of every rule must exist for the rule's
arch in ausyscall's table, and `logward rules --check` must report no syntax
error, placeholder, stray key or unknown syscall in them."""
import glob
import os

from lwtest import abis, check, done, dump_lines, field, logward, skip, syscalls_of

DIR = os.environ.get("LW_AUDIT_EXAMPLES", "/usr/share/doc/auditd/examples/rules")
files = sorted(glob.glob(os.path.join(DIR, "*.rules")))
if not files:
    skip("no %s/*.rules (Debian package auditd installs them)" % DIR)
b64, b32 = abis()
ABI = {"b64": b64, "b32": b32, b64: b64, b32: b32}
total = 0
for path in files:
    text = open(path, errors="surrogateescape").read()
    for r in dump_lines(text):
        total += 1
        where = "%s:%d" % (os.path.basename(path), r["line"])
        if not check(r["error"] is None, "%s: %s" % (where, r["error"])):
            continue
        arch = field(r, "arch")
        abi = ABI.get(arch[2]) if arch and arch[1] == "=" else b64
        for s in r["syscalls"]:
            check(s == "all" or s.isdigit() or s in syscalls_of(abi),
                  "%s: %s not a syscall of %s" % (where, s, abi))
    code, out, err = logward("rules", "--check", path)
    check(code in (0, 1), "%s: rules --check exit %d %s" % (path, code, err))
    for ident in ("syntax", "placeholder", "stray-key", "unknown-syscall"):
        check("[%s]" % ident not in out, "%s: unexpected %s finding:\n%s" % (path, ident, out))
check(total > 200, "only %d rule lines found" % total)
print("%d files, %d rule lines" % (len(files), total))
done()
