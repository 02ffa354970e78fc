#!/usr/bin/env python3
"""logwardd with the real forwarding daemons: rsyslog, syslog-ng and loggen.

Starts logwardd on loopback (tcp://127.0.0.1:0, and tls://127.0.0.1:0 with a
CA, a server and client certificates made here with the openssl CLI, once
logwardd serves tls://), then drives Debian's own peers at it:
  - rsyslog (rsyslogd -n with a private config, pid file and work directory,
    no imuxsock/imklog) receives `logger` messages on its imtcp input and
    forwards them with omfwd over TCP: LF framing (its default), octet
    counting, and RFC 5424 (RSYSLOG_SyslogProtocol23Format); and over TLS
    (StreamDriver ossl, x509/name, octet-counted as RFC 5425 says, and its
    default LF framing); plus 10000 messages of 1 KB over each of TCP and
    TLS (frames spanning reads and TLS records, and the store's rotation).
    The TLS client certificate names client1.example in its DNS SAN and
    something else in its CN: the messages must be filed under
    client1.example, not the peer address, with id=client1.example;
  - syslog-ng (unpacked beside rsyslog by scripts/peer-syslog-ng.sh) receives
    `logger` messages on its network() source and forwards them with
    network() (BSD, LF) and syslog() (RFC 5424, octet-counted) over TCP and
    TLS; its client certificate has only a CN (client2.example), the
    fallback logwardd must use when there is no DNS SAN;
  - loggen sends straight to logwardd: -P (RFC 5424, octet-counted) and its
    default (BSD-like, LF) over TCP, and -P on 4 connections at once
    (counted per thread and sequence); over TLS loggen has no client
    certificate, so a tls:// listener that requires one must store nothing.
Every part sends N uniquely numbered messages, waits (bounded) until they
arrive, and checks each is stored exactly once in STORE/<host>/<program>.log,
nowhere else (a rotated X.log.N counts as X.log), with the text as sent,
the right program[pid], a time stamp near now, and `peer= via= id=` right.
Times per part are printed at the end. A part whose peer is missing prints
`SKIP part: ...` and the rest runs; exit 77 only when rsyslogd is missing.
"""
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import check, wait_for

BIN = os.environ.get("LW_BIN", "build/release/src")
LOGWARDD = os.path.join(BIN, "logwardd")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = int(os.environ.get("LW_PEERS_N", "200"))
BULK = int(os.environ.get("LW_PEERS_BULK", "10000"))  # 1 KB messages: frames span TLS records
WAIT = 20.0  # seconds for one part's messages to arrive
PID = 4242  # the PROCID logger claims, checked on every stored line
procs = []  # every process this test starts, stopped by PID in finally
timings = []  # (part, seconds or None, outcome)


def skip_part(name, why):
    print(f"SKIP part: {name}: {why}")
    timings.append((name, None, "skip"))


def read_tree(root):
    """All stored lines, by path relative to root; a rotated file (X.log.1,
    X.log.2...: auditd's order, .1 the newest) is read into X.log, oldest first.
    A rotation between listing and reading renames files: read again."""
    for _ in range(50):
        try:
            return read_tree_once(root)
        except FileNotFoundError:
            time.sleep(0.02)
    return read_tree_once(root)


def read_tree_once(root):
    parts = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.startswith(".") or (d == root and f == ".logward-store"):
                continue  # status, version file, sealing sidecars
            p = os.path.join(d, f)
            m = re.fullmatch(r"(.*\.log)\.(\d+)", f)
            key, gen = (m.group(1), int(m.group(2))) if m else (f, 0)
            parts.setdefault(os.path.relpath(os.path.join(d, key), root), []).append((gen, p))
    out = {}
    for rel, files in parts.items():
        out[rel] = [l for _, p in sorted(files, reverse=True)
                    for l in open(p, "rb").read().split(b"\n")[:-1]]
    return out


def start(argv, log, env=None):
    f = open(log, "wb")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env)
    f.close()
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def tail(path, n=15):
    try:
        return "\n    ".join(open(path, errors="replace").read().splitlines()[-n:])
    except OSError:
        return "(no log)"


def free_port():
    """A loopback TCP port free now (for peers that cannot report theirs)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def make_certs(d):
    """CA, server (localhost, 127.0.0.1), client1 (DNS SAN client1.example, CN
    elsewhere) and client2 (CN client2.example, no SAN). Returns paths or None."""
    if not shutil.which("openssl"):
        return None
    def run(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=60, cwd=d)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=logward test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    leaves = {"server": ("/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                         "extendedKeyUsage=serverAuth\n"),
              "client1": ("/CN=client1-cn-not-the-san", "subjectAltName=DNS:client1.example\n"
                          "extendedKeyUsage=clientAuth\n"),
              "client2": ("/CN=client2.example", "extendedKeyUsage=clientAuth\n")}
    for serial, (name, (subj, ext)) in enumerate(leaves.items(), start=2):
        open(os.path.join(d, name + ".ext"), "w").write(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" + ext)
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
            name + ".csr", "-subj", subj)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(serial), "-days", "2", "-out", name + ".pem",
            "-extfile", name + ".ext")
    return {k: os.path.join(d, k) for k in ("ca", "server", "client1", "client2")}


class Store:
    """The store, and where each file stood before a part began (so parts that
    share a file, like loggen's prg00000.log, are checked on their own lines)."""

    def __init__(self, root):
        self.root = root

    def mark(self):
        return {p: len(l) for p, l in read_tree(self.root).items()}

    def new_lines(self, mark):
        return {p: l[mark.get(p, 0):] for p, l in read_tree(self.root).items()}


SEQ = re.compile(rb"(\S+)-(\d{4,})")  # group 1 the tag, then the key groups


def seq_key(m):
    """A message's number: its sequence, or (loggen) thread and sequence."""
    return tuple(int(g) for g in m.groups()[1:])


def verify(part, store, mark, t0, host, prog, via, ident, n, sent_tag=None, seq_re=SEQ,
           pid=PID, fraction=False, threads=1, text=None):
    """Each of n messages exactly once in host/prog.log (nothing elsewhere),
    metadata, program[pid] and time stamps right. Returns True if all good."""
    tag = (sent_tag or prog).encode()
    rel = f"{host}/{prog}.log"
    def find(line):
        body = line.rsplit(b"\t", 1)[0]
        if seq_re is SEQ:  # the last word only: a search over long lines is quadratic
            return SEQ.fullmatch(body.rsplit(b" ", 1)[-1])
        return seq_re.search(body)
    def mine(line):
        m = find(line)
        return m if m and (not m.group(1) or m.group(1) == tag) else None
    def arrived():
        return sum(1 for l in store.new_lines(mark).get(rel, []) if mine(l)) >= n
    wait_for(arrived, WAIT)
    elapsed = time.time() - t0
    time.sleep(0.3)  # a duplicate that trails the last message would land now
    tree = store.new_lines(mark)
    lines = tree.get(rel, [])
    counts = {}
    for l in lines:
        m = mine(l)
        if m:
            k = seq_key(m)
            counts[k] = counts.get(k, 0) + 1
    keys = [(i,) for i in range(n)] if seq_re.groups == 2 else \
        [(i, t) for t in range(threads) for i in range(n // threads)]
    missing = [k[0] if len(k) == 1 else k for k in keys if counts.get(k, 0) == 0]
    dup = {i: c for i, c in counts.items() if c > 1}
    elsewhere = {p: len([l for l in ls if mine(l)]) for p, ls in tree.items() if p != rel}
    elsewhere = {p: c for p, c in elsewhere.items() if c}
    ok = check(f"{part}: {n} messages, each exactly once in {rel}",
               not missing and not dup and len(lines) == n and not elsewhere,
               f"got {len(lines)} lines; missing {missing[:10]}{'...' if len(missing) > 10 else ''}"
               f" ({len(missing)}), duplicated {dict(list(dup.items())[:5])}, misfiled "
               f"{elsewhere}; files now {sorted(tree)}; first {lines[:2]}")
    meta = f"peer=127.0.0.1 via={via} id={ident}".encode()
    bad_meta = [l for l in lines if l.rsplit(b"\t", 1)[-1] != meta]
    ok &= check(f"{part}: every line ends with '{meta.decode()}'", lines and not bad_meta,
                bad_meta[:2])
    want = re.compile(rb"^(\S+) (\S+) " + re.escape(prog.encode()) +
                      (rb"\[%d\]" % pid if pid else rb"") + rb": ")
    bad_prog = [l for l in lines if not want.match(l)]
    ok &= check(f"{part}: TIMESTAMP HOST {prog}{f'[{pid}]' if pid else ''}: MESSAGE on every line",
                lines and not bad_prog, bad_prog[:2])
    if text:  # the message text exactly as the sender's source had it; RFC 5424
        # structured data the sender added (logger's timeQuality) stays in front
        altered = [l for l in lines if (m := mine(l)) and (w := want.match(l)) and
                   SD_PREFIX.sub(b"", l[w.end():].rsplit(b"\t", 1)[0], count=1) != text(m)]
        ok &= check(f"{part}: every message text stored exactly as sent", not altered,
                    altered[:1])
    bad_ts = []
    lo, hi = t0 - 2.0, time.time() + 2.0
    for l in lines:
        ts = l.split(b" ", 1)[0].decode(errors="replace")
        try:
            t = datetime.datetime.fromisoformat(ts)
            good = t.tzinfo is not None and lo - 1.0 <= t.timestamp() <= hi
            good &= (not fraction) or "." in ts
        except ValueError:
            good = False
        if not good:
            bad_ts.append(l[:80])
    ok &= check(f"{part}: RFC 3339 time stamps with offset, within the sending window"
                + (" (sender's fraction kept)" if fraction else ""),
                lines and not bad_ts, f"{bad_ts[:2]} (sent {time.ctime(t0)})")
    escaped = [l for l in lines if re.search(rb"#0(12|15)\t", l)]
    ok &= check(f"{part}: no framing bytes (LF/CR) left at the end of the message",
                not escaped, escaped[:2])
    timings.append((part, elapsed, "ok" if ok else "FAIL"))
    print(f"     {part}: {n} messages stored in {elapsed:.2f} s; first line:\n"
          f"       {lines[0][:200] if lines else None}")
    return ok


SD_PREFIX = re.compile(rb'^(?:\[[^\]\s"]+(?: [^\]\s"=]+="(?:[^"\\]|\\.)*")*\])+ ')


def logger_text(tag, pad=0):
    """Message i of a part, as bytes, from its match."""
    fill = "".join(chr(33 + i % 90) for i in range(pad)) + " " if pad else ""
    return lambda m: f"peer test {fill}{tag}-{int(m.group(2)):04d}".encode()


def logger_feed(port, tag, n, rfc3164=False, pad=0):
    """n messages `TAG-0000`.. through logger on stdin, over TCP (LF framing)."""
    text = logger_text(tag, pad)
    body = b"".join(text(SEQ.fullmatch(b"%s-%04d" % (tag.encode(), i))) + b"\n"
                    for i in range(n)).decode()
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), "-T", f"--id={PID}", "-t", tag,
                    "--size", str(pad + 200), *(["--rfc3164"] if rfc3164 else [])],
                   input=body.encode(), check=True, timeout=60)


# --- rsyslog -------------------------------------------------------------

def rsyslog_parts(tmp, store, tcp, tls, certs):
    work = os.path.join(tmp, "rs-work")
    os.mkdir(work)
    portfile = os.path.join(tmp, "rs-port")
    fwd = 'target="127.0.0.1" protocol="tcp" action.resumeInterval="1" ' \
          'action.resumeRetryCount="-1"'
    # (part, tag, via, omfwd options, RFC 5424 fraction expected, messages, padding)
    parts = [("rsyslog omfwd tcp (LF framing)", "rs-tcp-lf", "tcp",
              f'port="{tcp}"', False, N, 0),
             ("rsyslog omfwd tcp octet-counted", "rs-tcp-oc", "tcp",
              f'port="{tcp}" TCP_Framing="octet-counted"', False, N, 0),
             ("rsyslog omfwd tcp RFC 5424 octet-counted", "rs-tcp-5424", "tcp",
              f'port="{tcp}" TCP_Framing="octet-counted" '
              'template="RSYSLOG_SyslogProtocol23Format"', True, N, 0),
             (f"rsyslog omfwd tcp octet-counted, {BULK} messages of 1 KB", "rs-tcp-bulk", "tcp",
              f'port="{tcp}" TCP_Framing="octet-counted"', False, BULK, 1000)]
    tlsopts = ('StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name" '
               'StreamDriverPermittedPeers="localhost"')
    if tls:
        parts += [("rsyslog omfwd tls (ossl, x509/name) octet-counted", "rs-tls-oc", "tls",
                   f'port="{tls}" {tlsopts} TCP_Framing="octet-counted"', False, N, 0),
                  ("rsyslog omfwd tls (ossl, x509/name) LF framing (its default)",
                   "rs-tls-lf", "tls", f'port="{tls}" {tlsopts}', False, N, 0),
                  (f"rsyslog omfwd tls octet-counted, {BULK} messages of 1 KB",
                   "rs-tls-bulk", "tls", f'port="{tls}" {tlsopts} TCP_Framing="octet-counted"',
                   False, BULK, 1000)]
    glob = f'workDirectory="{work}"'
    if tls:
        glob += (f' DefaultNetstreamDriverCAFile="{certs["ca"]}.pem"'
                 f' DefaultNetstreamDriverCertFile="{certs["client1"]}.pem"'
                 f' DefaultNetstreamDriverKeyFile="{certs["client1"]}.key"')
    rules = "".join(f'  if $programname == "{tag}" then {{\n'
                    f'    action(type="omfwd" {fwd} {opts})\n    stop\n  }}\n'
                    for _, tag, _, opts, *_ in parts)
    conf = os.path.join(tmp, "rsyslog.conf")
    open(conf, "w").write(
        f'# no imuxsock, no imklog: this rsyslogd never touches /dev/log or the kernel log\n'
        f'global({glob})\n'
        f'module(load="imtcp")\n'
        f'input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{portfile}"'
        f' ruleset="fwd")\n'
        f'ruleset(name="fwd") {{\n{rules}'
        f'  action(type="omfile" file="{tmp}/rs-unrouted.log")\n}}\n'
        f'*.* action(type="omfile" file="{tmp}/rs-internal.log")\n')
    chk = subprocess.run(["rsyslogd", "-N1", "-f", conf], capture_output=True, timeout=30)
    if not check("rsyslogd -N1 accepts the private config", chk.returncode == 0,
                 chk.stdout.decode() + chk.stderr.decode()):
        return
    log = os.path.join(tmp, "rsyslogd.out")
    rs = start(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(tmp, "rsyslogd.pid")], log)
    try:
        if not check("rsyslogd started, imtcp port read back",
                     wait_for(lambda: os.path.exists(portfile) and
                              open(portfile).read().strip().isdigit(), 15),
                     tail(log)):
            return
        port = int(open(portfile).read())
        for part, tag, via, _, fraction, n, pad in parts:
            host = "client1.example" if via == "tls" else "127.0.0.1"
            ident = "client1.example" if via == "tls" else "-"
            mark = store.mark()
            t0 = time.time()
            logger_feed(port, tag, n, pad=pad)
            if not verify(part, store, mark, t0, host, tag, via, ident, n, fraction=fraction,
                          text=logger_text(tag, pad)):
                print(f"     rsyslogd output:\n    {tail(log)}\n     internal:\n    "
                      f"{tail(os.path.join(tmp, 'rs-internal.log'))}")
        check("rsyslog: nothing left unrouted (the config's own fallback file)",
              not os.path.exists(os.path.join(tmp, "rs-unrouted.log")),
              tail(os.path.join(tmp, "rs-unrouted.log")))
    finally:
        stop(rs)


# --- syslog-ng and loggen ------------------------------------------------

def syslog_ng_env():
    """The exports of scripts/peer-syslog-ng.sh --env, or (None, reason)."""
    script = os.path.join(REPO, "scripts", "peer-syslog-ng.sh")
    if not os.path.exists(script):
        return None, f"{os.path.relpath(script, REPO)} is not there yet"
    r = subprocess.run(["bash", script, "--env"], capture_output=True, timeout=600)
    if r.returncode != 0:
        return None, f"peer-syslog-ng.sh failed: {r.stderr.decode()[-400:]}"
    env = dict(os.environ)
    for line in r.stdout.decode().splitlines():
        m = re.match(r"export (\w+)=(.*)$", line)
        if m:
            # printf %q output; the paths here are plain, but undo simple quoting
            v = m.group(2)
            v = v[1:-1] if len(v) > 1 and v[0] == v[-1] == "'" else v.replace("\\", "")
            env[m.group(1)] = v
    if not all(k in env for k in ("SYSLOG_NG", "LOGGEN", "SYSLOGNG_PREFIX")):
        return None, f"peer-syslog-ng.sh --env printed no SYSLOG_NG/LOGGEN: {r.stdout[:300]}"
    return env, ""


def syslog_ng_parts(tmp, store, tcp, tls, certs, env):
    src = free_port()
    tlsopt = ""
    if tls:
        tlsopt = (f'tls(ca-file("{certs["ca"]}.pem") cert-file("{certs["client2"]}.pem") '
                  f'key-file("{certs["client2"]}.key") peer-verify(required-trusted))')
    parts = [("syslog-ng network() tcp (BSD, LF)", "sng-tcp-net", "tcp",
              f'network("127.0.0.1" port({tcp}) transport("tcp") persist-name("d_net_tcp"))'),
             ("syslog-ng syslog() tcp (RFC 5424, octet-counted)", "sng-tcp-5424", "tcp",
              f'syslog("127.0.0.1" port({tcp}) transport("tcp") persist-name("d_5424_tcp"))')]
    if tls:
        parts += [("syslog-ng network() tls (BSD, LF)", "sng-tls-net", "tls",
                   f'network("localhost" port({tls}) transport("tls") {tlsopt} '
                   'persist-name("d_net_tls"))'),
                  ("syslog-ng syslog() tls (RFC 5425)", "sng-tls-5424", "tls",
                   f'syslog("localhost" port({tls}) transport("tls") {tlsopt} '
                   'persist-name("d_5424_tls"))')]
    body = "".join(f'destination d_{i} {{ {dest}; }};\n'
                   f'filter f_{i} {{ program("^{tag}$"); }};\n'
                   f'log {{ source(s_in); filter(f_{i}); destination(d_{i}); flags(final); }};\n'
                   for i, (_, tag, _, dest) in enumerate(parts))
    conf = os.path.join(tmp, "syslog-ng.conf")
    open(conf, "w").write(
        "@version: 3.38\n"
        "options { keep-hostname(yes); use-dns(no); dns-cache(no); chain-hostnames(no); };\n"
        f'source s_in {{ network(ip("127.0.0.1") port({src}) transport("tcp")); }};\n'
        + body +
        f'log {{ source(s_in); destination {{ file("{tmp}/sng-unrouted.log"); }}; }};\n')
    sng = env["SYSLOG_NG"]
    chk = subprocess.run([sng, "--syntax-only", "-f", conf], capture_output=True, env=env,
                         timeout=30)
    if not check("syslog-ng --syntax-only accepts the private config", chk.returncode == 0,
                 chk.stdout.decode() + chk.stderr.decode()):
        return
    log = os.path.join(tmp, "syslog-ng.out")
    p = start([sng, "-F", "--no-caps", "-f", conf, "-R", os.path.join(tmp, "sng.persist"),
               "-p", os.path.join(tmp, "sng.pid"), "-c", os.path.join(tmp, "sng.ctl")],
              log, env=env)
    try:
        if not check("syslog-ng started, its network() source listening",
                     wait_for(lambda: p.poll() is None and can_connect(src), 15), tail(log)):
            return
        for part, tag, via, _ in parts:
            host = "client2.example" if via == "tls" else "127.0.0.1"
            ident = "client2.example" if via == "tls" else "-"
            mark = store.mark()
            t0 = time.time()
            logger_feed(src, tag, N, rfc3164=True)
            if not verify(part, store, mark, t0, host, tag, via, ident, N,
                          text=logger_text(tag)):
                print(f"     syslog-ng output:\n    {tail(log)}")
        check("syslog-ng: nothing left unrouted",
              not os.path.exists(os.path.join(tmp, "sng-unrouted.log")),
              tail(os.path.join(tmp, "sng-unrouted.log")))
    finally:
        stop(p)


LOGGEN_SEQ = re.compile(rb"()seq: (\d+), thread: (\d+),")


def loggen_run(env, args, port, timeout=60):
    r = subprocess.run([env["LOGGEN"], "-i", "-S", *args, "127.0.0.1", str(port)],
                       capture_output=True, timeout=timeout, env=env)
    out = r.stdout.decode() + r.stderr.decode()
    m = re.search(r"count=(\d+)", out)
    return (int(m.group(1)) if m else None), out


def loggen_parts(tmp, store, tcp, tls, env):
    per = max(N, 1000)  # loggen's -n counts per connection
    for part, args, conns in [("loggen -P tcp (RFC 5424, octet-counted)", ["-P"], 1),
                              ("loggen default tcp (BSD-like, LF, local time without zone)",
                               [], 1),
                              ("loggen -P tcp, 4 connections at once", ["-P"], 4)]:
        n = per * conns
        mark = store.mark()
        t0 = time.time()
        sent, out = loggen_run(env, [*args, "-n", str(per), "-r", "20000", "-s", "300",
                                     f"--active-connections={conns}"], tcp)
        if not check(f"{part}: loggen says it sent {n}", sent == n, out):
            timings.append((part, None, "FAIL"))
            continue
        verify(part, store, mark, t0, "127.0.0.1", "prg00000", "tcp", "-", n,
               seq_re=LOGGEN_SEQ, pid=1234, threads=conns)
    if not tls:
        return
    part = "loggen -U (TLS without a client certificate) refused"
    mark = store.mark()
    t0 = time.time()
    sent, out = loggen_run(env, ["-P", "-U", "-n", "50", "-r", "1000"], tls, timeout=60)
    time.sleep(1.0)
    new = {p: l for p, l in store.new_lines(mark).items() if l}
    ok = check(f"{part}: nothing stored from a client with no certificate", not new,
               f"stored {({p: len(l) for p, l in new.items()})}; loggen: {out[-300:]}")
    timings.append((part, time.time() - t0, "ok" if ok else "FAIL"))


# --- main ----------------------------------------------------------------

def tls_served(tmp, certs):
    if not certs:
        return False
    r = subprocess.run([LOGWARDD, "--store", os.path.join(tmp, "probe-store"),
                        "--listen", "tls://127.0.0.1:0",
                        "--tls-cert", certs["server"] + ".pem",
                        "--tls-key", certs["server"] + ".key",
                        "--tls-ca", certs["ca"] + ".pem", "--check-config"],
                       capture_output=True, timeout=30)
    shutil.rmtree(os.path.join(tmp, "probe-store"), ignore_errors=True)
    return r.returncode == 0


def main():
    # A timeout's SIGTERM must still run the finally below that stops the peers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not shutil.which("rsyslogd"):
        print("SKIP: rsyslogd (Debian package rsyslog) not installed")
        return 77
    if not shutil.which("logger"):
        print("SKIP: logger (util-linux) not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-peers-")
    store = Store(os.path.join(tmp, "store"))
    lwlog = os.path.join(tmp, "logwardd.out")
    ready = os.path.join(tmp, "ready")
    lw = None
    try:
        certdir = os.path.join(tmp, "certs")
        os.mkdir(certdir)
        certs = make_certs(certdir)
        tls_ok = tls_served(tmp, certs)
        tls_why = ("openssl CLI missing" if not certs else
                   f"{LOGWARDD} does not serve tls:// yet (--check-config refuses it)")
        argv = [LOGWARDD, "--store", store.root, "--listen", "tcp://127.0.0.1:0",
                "--ready-file", ready]
        if tls_ok:
            argv += ["--listen", "tls://127.0.0.1:0", "--tls-cert", certs["server"] + ".pem",
                     "--tls-key", certs["server"] + ".key", "--tls-ca", certs["ca"] + ".pem"]
        lw = start(argv, lwlog)
        if not wait_for(lambda: os.path.exists(ready) and
                        len(open(ready).read().splitlines()) == (2 if tls_ok else 1)):
            print("FAIL logwardd did not start:", tail(lwlog))
            return 1
        ports = [l.split() for l in open(ready).read().splitlines()]
        tcp = int(ports[0][1])
        tls = int(ports[1][1]) if tls_ok else None

        rsyslog_parts(tmp, store, tcp, tls, certs)
        if not tls:
            skip_part("rsyslog omfwd tls", tls_why)

        env, why = syslog_ng_env()
        if env is None:
            skip_part("syslog-ng tcp and tls", why)
            skip_part("loggen", why)
        else:
            syslog_ng_parts(tmp, store, tcp, tls, certs, env)
            if not tls:
                skip_part("syslog-ng tls", tls_why)
            loggen_parts(tmp, store, tcp, tls, env)
            if not tls:
                skip_part("loggen -U tls", tls_why)
        skip_part("logger over TLS", "util-linux logger has no TLS")

        check("nothing written outside the store and the test's own files",
              not any(os.path.isabs(p) or p.startswith("..") for p in read_tree(store.root)))
        check("logwardd still running after all peers", lw.poll() is None, tail(lwlog))
        lw.terminate()
        rc = lw.wait(timeout=20)
        check("SIGTERM: logwardd exits 0", rc == 0, tail(lwlog))
        errs = [l for l in open(lwlog, errors="replace").read().splitlines()
                if "ERROR" in l or "Sanitizer" in l or "runtime error" in l]
        check("logwardd logged no sanitizer or runtime error", not errs, errs[:5])
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("\ntimes per part:")
    for part, secs, outcome in timings:
        print(f"  {outcome:4} {'-' if secs is None else f'{secs:6.2f} s':>8}  {part}")
    print(f"{sum(1 for t in timings if t[2] == 'skip')} parts skipped")
    return harness.summary()


if __name__ == "__main__":
    sys.exit(main())
