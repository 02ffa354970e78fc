#!/usr/bin/env python3
"""The tamper campaign (issue 4, acceptance): thousands of random mutations
of a sealed store, every one found by `logward verify`, no false alarm.

logwardd (seal = on, one-second rounds and heartbeats, 1 MB files, three
kept, so that files rotate and retention writes expiry records) stores
syslog over tcp:// from three claimed hosts and audit records over audit://
(ascii) from 127.0.0.1, is stopped, a snapshot of the store is kept (the
"older" files), runs again with more lines, and is stopped. Then, with a
printed seed (LW_CAMPAIGN_SEED to replay, LW_CAMPAIGN_N mutations, default
1200), one mutation at a time on a fresh copy of the store (hard links;
a mutated file is always written anew, so the original never changes):
  edit_byte, delete_line, insert_line, swap_lines, truncate, delete_rotated
  (with or without its sidecar), replace_older (a file, with or without its
  sidecar, by its version from the snapshot, or a rotated file by an older
  one of its family), edit_sidecar (a byte, a record deleted or duplicated,
  a sidecar cut or deleted, the expiry file or the store manifest edited),
  move_line (a line taken from one host's file into another's),
  delete_host (a whole host directory with its sidecars) and rollback (a
  file and its sidecar cut back together to an earlier seal, closing seals
  included);
each copy is checked with `logward verify --key K STORE` (two at a time):
every mutation must give exit 1, and every 20th copy is left untouched and
must give exit 0 (the untouched store verifies clean each time); the
original store verifies clean at the end. Detections are printed per kind.
"""
import concurrent.futures
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import (LOGWARD, LOGWARDD, check, kill_started, seal_verify, start_logwardd, summary,
                     wait_for)

HOSTS = ["hosta", "hostb", "hostc"]




def stored_lines(store):
    n = 0
    for d, dirs, files in os.walk(store):
        dirs[:] = [x for x in dirs if not x.startswith(".")]  # the collector's own (.spool)
        for f in files:
            if not f.startswith("."):
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        n += fh.read().count(b"\n")
                except FileNotFoundError:
                    pass  # rotated or expired meanwhile: the next look counts it
    return n


def feed(ports, store, first, count, heavy):
    """count syslog lines (hosta's sshd gets `heavy` times more) and count//4
    audit records; waits until the store holds them all."""
    s = socket.create_connection(("127.0.0.1", ports["tcp"]))
    a = socket.create_connection(("127.0.0.1", ports["audit"]))
    out, aud = [], []
    for i in range(first, first + count):
        h, prog = HOSTS[i % 3], "sshd" if i % 2 else "cron"
        for _ in range(heavy if (h, prog) == ("hosta", "sshd") else 1):
            out.append(b"<38>Jan  1 00:00:00 %s %s[%d]: Accepted publickey for user%d from "
                       b"10.0.%d.%d port %d ssh2\n" % (h.encode(), prog.encode(), 100 + i % 50,
                                                      i % 7, i % 200, i % 250, 40000 + i))
        if i % 4 == 0:
            aud.append(b"type=USER_CMD msg=audit(1700000000.%03d:%d): pid=%d uid=0 auid=1000 "
                       b"ses=1 msg='cwd=\"/root\" cmd=6C73 terminal=pts/0 res=success'\n"
                       % (i % 1000, i, i))
    s.sendall(b"".join(out))
    a.sendall(b"".join(aud))
    s.close()
    a.close()
    return len(out) + len(aud)


# ---- the store as files ----

def inventory(store):
    """Relative paths: logs (plain files), rotated logs, sidecars, hosts."""
    logs, rotated, sidecars = [], [], []
    for d, dirs, files in os.walk(store):
        dirs[:] = [x for x in dirs if not x.startswith(".")]  # not the store's files (.spool)
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), store)
            if d == store:
                if f.startswith(".logward-manifest"):
                    sidecars.append(rel)
                continue
            if f.endswith(".seal"):
                sidecars.append(rel)
            elif not f.startswith("."):
                logs.append(rel)
                if f.rsplit(".", 1)[-1].isdigit():
                    rotated.append(rel)
    return sorted(logs), sorted(rotated), sorted(sidecars)


def sidecar_of(rel):
    d, f = os.path.split(rel)
    return os.path.join(d, "." + f + ".seal")


def clone(src, dst):
    """A copy made of hard links: verify only reads, mutations write anew."""
    for d, dirs, files in os.walk(src):
        t = os.path.join(dst, os.path.relpath(d, src))
        os.makedirs(t, exist_ok=True)
        shutil.copystat(d, t)
        for f in files:
            os.link(os.path.join(d, f), os.path.join(t, f))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write_new(path, data):
    """Replaces path by a new file (never writes through a hard link)."""
    tmp = path + ".campaign-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def lines(data):
    return data.split(b"\n")[:-1]


def join(ls):
    return b"".join(l + b"\n" for l in ls)


def seal_bytes(sidecar_data):
    """(bytes=, raw line) of each seal record of a sidecar."""
    out = []
    for l in lines(sidecar_data):
        kv = dict(x.split(b"=", 1) for x in l.split(b" ")[2:] if b"=" in x)
        out.append((int(kv[b"bytes"]), l))
    return out


# ---- mutations: each changes the copy d and says what it did ----

class Mutator:
    def __init__(self, store, older, rng):
        self.store, self.older, self.rng = store, older, rng
        self.logs, self.rotated, self.sidecars = inventory(store)
        self.nonempty = [l for l in self.logs if os.path.getsize(os.path.join(store, l)) > 0]
        self.multi = [l for l in self.nonempty if len(lines(read(os.path.join(store, l)))) >= 2]

    def pick(self, xs):
        return xs[self.rng.randrange(len(xs))]

    def edit_byte(self, d):
        rel = self.pick(self.nonempty)
        data = bytearray(read(os.path.join(d, rel)))
        i = self.rng.randrange(len(data))
        old = data[i]
        data[i] = self.pick([b for b in range(256) if b != old])
        write_new(os.path.join(d, rel), bytes(data))
        return f"{rel} byte {i}: {old:#x} -> {data[i]:#x}"

    def delete_line(self, d):
        rel = self.pick(self.nonempty)
        ls = lines(read(os.path.join(d, rel)))
        i = self.rng.randrange(len(ls))
        del ls[i]
        write_new(os.path.join(d, rel), join(ls))
        return f"{rel} line {i + 1} deleted"

    def insert_line(self, d):
        rel = self.pick(self.logs)
        ls = lines(read(os.path.join(d, rel)))
        # Before an existing line and unlike it: a line added after the last one,
        # or a copy of the line it lands before when all after are the same, leaves
        # the old bytes a prefix of the new ones, which is an unsealed tail, not an
        # edit (verify says so and exits 0, as after a crash).
        i = self.rng.randrange(len(ls)) if ls else 0
        src = self.pick(ls) if ls and self.rng.random() < 0.5 else b"inserted line %d" % i
        if ls and src == ls[i]:
            src = b"inserted line %d" % i
        ls.insert(i, src)
        write_new(os.path.join(d, rel), join(ls))
        return f"{rel} line inserted at {i + 1}"

    def swap_lines(self, d):
        rel = self.pick(self.multi)
        ls = lines(read(os.path.join(d, rel)))
        for _ in range(100):
            i = self.rng.randrange(len(ls))
            j = self.rng.randrange(len(ls))
            if ls[i] != ls[j]:
                break
        ls[i], ls[j] = ls[j], ls[i]
        write_new(os.path.join(d, rel), join(ls))
        return f"{rel} lines {i + 1} and {j + 1} swapped"

    def truncate(self, d):
        rel = self.pick(self.nonempty)
        data = read(os.path.join(d, rel))
        if self.rng.random() < 0.5:  # at a line boundary
            ends = [i + 1 for i, c in enumerate(data) if c == 10][:-1]
            n = self.pick([0] + ends)
        else:
            n = self.rng.randrange(len(data))
        write_new(os.path.join(d, rel), data[:n])
        return f"{rel} cut to {n} of {len(data)} bytes"

    def delete_rotated(self, d):
        rel = self.pick(self.rotated)
        os.unlink(os.path.join(d, rel))
        with_side = self.rng.random() < 0.5
        if with_side:
            os.unlink(os.path.join(d, sidecar_of(rel)))
        return f"{rel} deleted" + (" with its sidecar" if with_side else "")

    def replace_older(self, d):
        if self.rng.random() < 0.3 and self.rotated:
            rel = self.pick(self.rotated)
            base, k = rel.rsplit(".", 1)
            cands = [r for r in self.rotated if r.startswith(base + ".") and r != rel]
            if cands:
                other = self.pick(cands)
                side = self.rng.random() < 0.5
                write_new(os.path.join(d, rel), read(os.path.join(self.store, other)))
                if side:
                    write_new(os.path.join(d, sidecar_of(rel)),
                              read(os.path.join(self.store, sidecar_of(other))))
                return f"{rel} replaced by {other}" + (" and its sidecar" if side else "")
        cands = [l for l in self.logs if os.path.exists(os.path.join(self.older, l)) and
                 read(os.path.join(self.older, l)) != read(os.path.join(self.store, l))]
        rel = self.pick(cands)
        write_new(os.path.join(d, rel), read(os.path.join(self.older, rel)))
        side = self.rng.random() < 0.5 and os.path.exists(os.path.join(self.older, sidecar_of(rel)))
        if side:
            write_new(os.path.join(d, sidecar_of(rel)),
                      read(os.path.join(self.older, sidecar_of(rel))))
        return f"{rel} replaced by its older version" + (" and its sidecar" if side else "")

    def edit_sidecar(self, d):
        rel = self.pick(self.sidecars)
        p = os.path.join(d, rel)
        data = read(p)
        how = self.rng.randrange(5)
        if how == 0 or len(lines(data)) < 1:
            data = bytearray(data)
            i = self.rng.randrange(len(data))
            old = data[i]
            data[i] = self.pick([b for b in range(32, 127) if b != old] + [10])
            write_new(p, bytes(data))
            return f"{rel} byte {i}: {old:#x} -> {data[i]:#x}"
        ls = lines(data)
        i = self.rng.randrange(len(ls))
        if how == 1:
            del ls[i]
            write_new(p, join(ls))
            return f"{rel} record {i + 1} of {len(ls) + 1} deleted"
        if how == 2:
            ls.insert(i, ls[i])
            write_new(p, join(ls))
            return f"{rel} record {i + 1} duplicated"
        if how == 3:
            write_new(p, join(ls[:i]))
            return f"{rel} cut to {i} of {len(ls)} records"
        os.unlink(p)
        return f"{rel} deleted"

    def move_line(self, d):
        a = self.pick(self.nonempty)
        b = self.pick([l for l in self.logs if l.split("/")[0] != a.split("/")[0]])
        la, lb = lines(read(os.path.join(d, a))), lines(read(os.path.join(d, b)))
        i, j = self.rng.randrange(len(la)), self.rng.randrange(len(lb) + 1)
        lb.insert(j, la.pop(i))
        write_new(os.path.join(d, a), join(la))
        write_new(os.path.join(d, b), join(lb))
        return f"{a} line {i + 1} moved to {b} line {j + 1}"

    def delete_host(self, d):
        host = self.pick(sorted({l.split("/")[0] for l in self.logs}))
        shutil.rmtree(os.path.join(d, host))
        return f"host directory {host} deleted with its sidecars"

    def rollback(self, d):
        rel = self.pick([l for l in self.logs
                         if len(seal_bytes(read(os.path.join(self.store, sidecar_of(l))))) >= 2])
        seals = seal_bytes(read(os.path.join(d, sidecar_of(rel))))
        k = self.rng.randrange(len(seals) - 1)  # keep seals[0..k]
        data = read(os.path.join(d, rel))
        write_new(os.path.join(d, rel), data[:seals[k][0]])
        write_new(os.path.join(d, sidecar_of(rel)), b"".join(l + b"\n" for _, l in seals[:k + 1]))
        closing = b" idle=0 " in seals[k][1]
        return (f"{rel} and its sidecar rolled back to seal {k + 1} of {len(seals)}"
                + (" (a closing seal)" if closing else ""))


KINDS = ["edit_byte", "delete_line", "insert_line", "swap_lines", "truncate", "delete_rotated",
         "replace_older", "edit_sidecar", "move_line", "delete_host", "rollback"]


def build_store(tmp):
    store, keys = os.path.join(tmp, "store"), os.path.join(tmp, "keys")
    os.makedirs(store)
    os.makedirs(keys)
    r = subprocess.run([LOGWARD, "keygen", "--out", keys], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("keygen: " + r.stderr)
    shutil.move(os.path.join(keys, ".logward-key"), os.path.join(store, ".logward-key"))
    ready, conf = os.path.join(tmp, "ready"), os.path.join(tmp, "logwardd.conf")
    with open(conf, "w") as f:
        f.write(f"store = {store}\nlisten = tcp://127.0.0.1:0\nlisten = audit://127.0.0.1:0\n"
                f"host_from = claimed\nseal = on\nseal_interval = 1\nseal_idle = 1\n"
                f"max_log_file = 1\nnum_logs = 3\nready_file = {ready}\n")
    older = os.path.join(tmp, "older")
    for phase, (first, count) in enumerate([(0, 6000), (6000, 6000)]):
        p, ports = start_logwardd(["--config", conf], ready)
        before = stored_lines(store)
        feed(ports, store, first, count, 20)
        # expired files take lines away: wait for a change, then for quiet
        wait_for(lambda: stored_lines(store) != before, 30)
        last = [-1]

        def quiet():
            n = stored_lines(store)
            same, last[0] = n == last[0], n
            return same
        wait_for(quiet, 30, 0.5)
        time.sleep(2.5)  # heartbeat seals over idle files
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=30) != 0:
            raise RuntimeError("logwardd phase %d: %s" % (phase, p.stderr.read().decode()))
        if phase == 0:
            shutil.copytree(store, older, symlinks=True)
    return store, older, os.path.join(keys, "logward-verify.key")


def main():
    tmp = tempfile.mkdtemp(prefix="lw-seal-campaign.")
    try:
        store, older, key = build_store(tmp)
        logs, rotated, sidecars = inventory(store)
        size = sum(os.path.getsize(os.path.join(store, l)) for l in logs)
        print(f"store: {len(logs)} files ({len(rotated)} rotated), {len(sidecars)} sidecars, "
              f"{size} bytes; expiry records: "
              f"{os.path.exists(os.path.join(store, 'hosta', '.expired.seal'))}")
        rc, out = seal_verify(store, key)
        if not check("the store verifies clean", rc == 0 and out["files"] and
                     all(f["status"] == "ok" for f in out["files"]), json.dumps(out)[:2000]):
            return summary()
        check("rotated files and expiry records exist", len(rotated) >= 2 and
              os.path.exists(os.path.join(store, "hosta", ".expired.seal")), logs)
        seed = int(os.environ.get("LW_CAMPAIGN_SEED", random.SystemRandom().randrange(1 << 32)))
        n = int(os.environ.get("LW_CAMPAIGN_N", "1200"))
        print(f"seed {seed} (LW_CAMPAIGN_SEED={seed} replays), {n} mutations")
        sys.stdout.flush()
        rng = random.Random(seed)
        mut = Mutator(store, older, rng)
        found = {k: [0, 0] for k in KINDS}
        clean = [0, 0]
        misses = []

        def run(i, kind, desc, d):
            rc, out = seal_verify(d, key)
            shutil.rmtree(d, ignore_errors=True)
            return i, kind, desc, rc, out

        def tally(i, kind, desc, rc, out):
            if kind is None:
                clean[0] += 1
                clean[1] += rc == 0
                if rc != 0:
                    misses.append(f"false alarm on an untouched copy (#{i}): rc {rc} "
                                  + json.dumps([f for f in out["files"]
                                                if f["status"] != "ok"])[:600])
                return
            found[kind][0] += 1
            found[kind][1] += rc == 1
            if rc != 1:
                misses.append(f"#{i} {kind}: {desc}: rc {rc} "
                              + json.dumps([f for f in out["files"] if f["status"] != "ok"]
                                           or out.get("raw", ""))[:600])

        t0 = time.time()
        # Copies and mutations are made here in order (the seed fixes them),
        # verified two at a time, at most four copies on disk at once.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            pending = []
            for i in range(n + n // 20):
                d = os.path.join(tmp, "copy%d" % i)
                clone(store, d)
                kind = None if i % 21 == 20 else KINDS[(i - i // 21) % len(KINDS)]
                desc = getattr(mut, kind)(d) if kind else "untouched"
                pending.append(pool.submit(run, i, kind, desc, d))
                while len(pending) >= 4:
                    tally(*pending.pop(0).result())
            for f in pending:
                tally(*f.result())
        secs = time.time() - t0
        for k in KINDS:
            print(f"  {k:15s} {found[k][1]:5d} / {found[k][0]:5d} detected")
        print(f"  untouched       {clean[1]:5d} / {clean[0]:5d} clean; {secs:.1f} s of verify")
        for m in misses[:30]:
            print("  MISS " + m)
        total = sum(v[0] for v in found.values())
        check(f"{total} mutations, every one detected (exit 1)",
              total >= 1000 and all(v[0] == v[1] for v in found.values()),
              f"{sum(v[0] - v[1] for v in found.values())} missed")
        check(f"{clean[0]} untouched copies, every one clean (exit 0)",
              clean[0] > 0 and clean[0] == clean[1])
        rc, out = seal_verify(store, key)
        check("the original store still verifies clean", rc == 0, json.dumps(out)[:1500])
    finally:
        kill_started()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
