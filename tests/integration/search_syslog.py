#!/usr/bin/env python3
"""search over syslog lines: `logward search --program/--grep` on a real store.

logwardd listens on loopback TCP (port 0, read back) with --host-from claimed
and small files (rotation and zstd compression happen); 1,200 RFC 5424
messages from three hosts and three programs, with time stamps out of order
across hosts, are sent over one connection and waited for in the store. Then:
  - --program sshd finds exactly the sshd lines of every host, live, rotated
    and compressed files alike, ordered by time across hosts (the stored
    lines, compared with what was sent), and the same with 5 lines held in
    memory (LOGWARD_SEARCH_ORDER_EVENTS: sorted runs spilled and merged);
  - --grep with a PCRE2 pattern (a group, \\d, alternation) finds the lines
    Python's re finds; with --program and -n HOST it is narrowed to both;
  - -ts/-te keep the lines of a window, inclusive, in whole seconds;
  - --format json prints host and line; --stats counts lines and matches;
  - a bad pattern exits 2 naming the offset; nothing found exits 1;
    an audit option with --grep is refused (exit 2).
"""
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LOGWARD, LOGWARDD, check, summary, wait_for  # noqa: E402

ENV = dict(os.environ, LC_ALL="C", TZ="UTC")
T0 = 1764583200  # 2025-12-01 10:00:00 UTC
HOSTS = ["alpha", "beta", "gamma"]
PROGRAMS = ["sshd", "cron", "sudo"]


def messages():
    rnd = random.Random(5)
    out = []
    for i in range(1200):
        host, prog = rnd.choice(HOSTS), rnd.choice(PROGRAMS)
        t = T0 + rnd.randrange(0, 3600) + rnd.randrange(0, 1000) / 1000
        user = rnd.choice(["ana", "bob", "root", "eve"])
        text = rnd.choice([f"Failed password for {user} from 198.51.100.{i % 250} port {1000 + i}",
                           f"Accepted publickey for {user} from 192.0.2.{i % 250}",
                           f"session opened for user {user}(uid={1000 + i % 7})",
                           f"pam_unix(cron:session): session closed for user {user} n={i}"])
        out.append((t, host, prog, i, text))
    return out


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + ".%03dZ" % round((t % 1) * 1000)


def search(args, store, rc_ok=(0, 1)):
    p = subprocess.run([LOGWARD, "search"] + args + [store], capture_output=True, env=ENV)
    if p.returncode not in rc_ok:
        print(f"     {' '.join(args)} exited {p.returncode}: {p.stderr.decode()[-300:]}")
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def message_of(line):
    """The text of a stored line: after 'PROGRAM[PID]: ', before the metadata TAB."""
    return line.split(": ", 1)[1].rsplit("\t", 1)[0]


def main():
    if not os.path.exists(LOGWARDD) or not os.path.exists(LOGWARD):
        print("SKIP: logwardd or logward not built")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        store, ready = os.path.join(tmp, "store"), os.path.join(tmp, "ready")
        p = subprocess.Popen([LOGWARDD, "--store", store, "--listen", "tcp://127.0.0.1:0",
                              "--host-from", "claimed", "--max-log-file", "1", "--num-logs", "9",
                              "--compress", "zstd", "--ready-file", ready], stderr=subprocess.PIPE)
        try:
            if not wait_for(lambda: os.path.exists(ready) and os.path.getsize(ready) > 0, 15):
                print("FAIL logwardd did not start:", p.stderr.read().decode()[-500:])
                return 1
            port = int(open(ready).read().split()[1])
            sent = messages()
            pad = " " + "x" * 10000  # about 10 KB per line: the 1 MB files rotate
            with socket.create_connection(("127.0.0.1", port)) as s:
                for t, host, prog, i, text in sent:
                    s.sendall(f"<38>1 {stamp(t)} {host} {prog} {100 + i} - - {text}{pad}\n".encode())

            def stored():
                rc, out, _ = search(["--grep", "."], store)
                return out.count("\n") >= len(sent)
            check("every message stored", wait_for(stored, 60))
            files = [f for _, _, fs in os.walk(store) for f in fs]
            check("rotated and compressed files exist", any(f.endswith(".zst") for f in files), files)
        finally:
            p.terminate()
            p.wait(10)

        def expect(pred):
            kept = sorted((t, i) for t, host, prog, i, text in sent if pred(t, host, prog, text))
            return [i for _, i in kept]

        def got(out):
            return [int(re.search(r"\[(\d+)\]", l).group(1)) - 100 for l in out.splitlines()]

        rc, out, _ = search(["--program", "sshd"], store)
        want = expect(lambda t, h, p, x: p == "sshd")
        check("--program sshd: all sshd lines, in time order", rc == 0 and got(out) == want,
              f"{len(got(out))} lines vs {len(want)}")
        check("the lines are as stored", all("\tpeer=127.0.0.1 via=tcp" in l for l in out.splitlines()))
        small = subprocess.run([LOGWARD, "search", "--program", "sshd", store], capture_output=True,
                               env=dict(ENV, LOGWARD_SEARCH_ORDER_EVENTS="5")).stdout.decode()
        check("--program sshd with 5 lines in memory (sorted runs spilled, merged): the same",
              small == out, f"{len(small)} vs {len(out)} bytes")
        pat = r"Failed password for (ana|root) from 198\.51\.100\.\d+ port 1[0-9]{3}\b"
        rc, out, _ = search(["--grep", pat], store)
        want = expect(lambda t, h, p, x: re.search(pat, x))
        check("--grep PCRE2 pattern", rc == 0 and got(out) == want and 0 < len(want) < len(sent),
              f"{len(got(out))} vs {len(want)}")
        rc, out, _ = search(["--grep", "session (opened|closed)", "--program", "cron", "-n", "beta"],
                            store)
        want = expect(lambda t, h, p, x: p == "cron" and h == "beta" and re.search("session (opened|closed)", x))
        check("--grep with --program and -n", rc == 0 and got(out) == want and want, len(want))
        a, b = T0 + 600, T0 + 1200
        ts = time.strftime("%m/%d/%y %H:%M:%S", time.gmtime(a)).split()
        te = time.strftime("%m/%d/%y %H:%M:%S", time.gmtime(b)).split()
        rc, out, _ = search(["--program", "sudo", "-ts", *ts, "-te", *te], store)
        want = expect(lambda t, h, p, x: p == "sudo" and a <= int(t) <= b)
        check("-ts/-te window", rc == 0 and got(out) == want and want, f"{len(got(out))} vs {len(want)}")
        rc, out, err = search(["--grep", "Accepted", "--format", "json", "--stats"], store)
        rows = [json.loads(l) for l in out.splitlines()]
        check("--format json: host and line",
              rows and all(r["host"] in HOSTS and "Accepted" in r["line"] for r in rows), rows[:1])
        check("--stats counts", re.search(rf"matched {len(rows)}\b", err), err)
        rc, out, err = search(["--grep", "a(b"], store, rc_ok=(2,))
        check("a bad pattern exits 2 and names the offset", rc == 2 and "offset" in err, err)
        rc, out, err = search(["--grep", "no such text anywhere"], store)
        check("nothing found exits 1", rc == 1 and out == "", rc)
        rc, out, err = search(["--grep", "x", "-k", "delete"], store, rc_ok=(2,))
        check("an audit option with --grep is refused", rc == 2 and "syslog" in err, err)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
