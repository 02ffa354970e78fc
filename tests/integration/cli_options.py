#!/usr/bin/env python3
"""Every setting is a command-line option, in logwardd and logward-agent.

Both programs list their settings in --help (the "  key ARG" lines, one
per row of their settings table) and promise (docs/configuration.md,
docs/agent.md) that each is also an option `--key-name VALUE`. For every
key listed, the program is run with `--key-name <value> --check-config`
and must not answer "unrecognized option": a value it refuses is fine
(exit 2 with the key's own reason), an option it does not know is not.
logwardd once listed `seal` and four other keys without taking them.
A known value of each program is also run through to exit 0, so the test
would notice --check-config failing for everything.
"""
import re
import subprocess
import sys
import tempfile

from harness import AGENT, LOGWARDD, check, summary


def keys_in_help(prog):
    out = subprocess.run([prog, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  ([a-z][a-z_]*)(?: \S+)?$", out, re.M)


def main():
    tmp = tempfile.mkdtemp(prefix="lw-cli-")
    base = {LOGWARDD: ["--store", f"{tmp}/store", "--listen", "tcp://127.0.0.1:0"],
            AGENT: ["--state", f"{tmp}/state", "--collector", "agent://127.0.0.1:6515",
                    "--input", "audit:-"]}
    for prog, args in base.items():
        name = prog.rsplit("/", 1)[-1]
        keys = keys_in_help(prog)
        check(f"{name}: --help lists its settings", len(keys) >= 10, keys)
        r = subprocess.run([prog, *args, "--check-config"], capture_output=True, text=True)
        check(f"{name}: a valid command line checks clean (exit 0)", r.returncode == 0, r.stderr)
        missing = []
        for key in keys:
            opt = "--" + key.replace("_", "-")
            r = subprocess.run([prog, *args, opt, "1", "--check-config"], capture_output=True,
                               text=True)
            if "unrecognized option" in r.stderr or r.returncode not in (0, 2):
                missing.append((opt, r.returncode, r.stderr[:200]))
        check(f"{name}: each of its {len(keys)} settings is an option", not missing, missing)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
