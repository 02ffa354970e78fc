#!/usr/bin/env python3
"""logwardd's RELP listeners with the real rsyslog omrelp (Debian's rsyslog-relp).

Each scenario runs a private rsyslogd (own config, work directory and pid
file; no imuxsock, so nothing of this machine's own logging is involved)
that takes lines on an imtcp port on 127.0.0.1 and forwards them with
omrelp to logwardd on 127.0.0.1 (RELP port chosen by the kernel, port 0,
and read back from the ready file):

  1. plain RELP: N messages each land exactly once in
     STORE/127.0.0.1/<program>.log, with via=relp on their line;
  2. relp+tls: a CA, a server and a client certificate made here with the
     openssl CLI; omrelp (openssl TLS library, auth mode name) delivers N
     messages exactly once, via=relp+tls; a client that presents no
     certificate gets nothing stored (mutual authentication);
  3. crash: logwardd is killed with SIGKILL twice while omrelp sends a
     stream and restarted each time on the same port and store. logwardd
     acknowledges a message only after it is durable, and rsyslog resends
     what was not acknowledged, so once rsyslog has delivered everything,
     every one of the N messages must be in the store (an ack for a message
     that was still only in logwardd's memory would show as a missing
     message). Duplicates can only come from the window that was in flight
     and unacknowledged at each kill (RELP carries no message identity):
     their number is printed and must be at most 128 (omrelp's window) per
     kill.

Skips (77) when rsyslogd, its imtcp or omrelp module, or openssl is missing.
"""
import glob
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import check, wait_for

BIN = os.environ.get("LW_BIN", "build/release/src")
LOGWARDD = os.path.join(BIN, "logwardd")
RELP_WINDOW = 128  # omrelp's default window: frames in flight without an ack
procs = []  # everything started here, stopped by PID in finally


def rsyslog_module(name):
    for d in glob.glob("/usr/lib/*/rsyslog") + ["/usr/lib/rsyslog"]:
        if os.path.exists(os.path.join(d, name + ".so")):
            return True
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop(p, sig=signal.SIGTERM, timeout=20):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def start_logwardd(tmp, store, listen, extra=(), tag="lw", env=None):
    ready = os.path.join(tmp, f"ready-{tag}-{time.time_ns()}")
    err = open(os.path.join(tmp, f"{tag}.stderr"), "ab")
    p = subprocess.Popen([LOGWARDD, "--store", store, "--listen", listen, "--ready-file", ready,
                          *extra], stderr=err, env=env)
    procs.append(p)
    if not wait_for(lambda: os.path.exists(ready) or p.poll() is not None, 20.0):
        raise RuntimeError("logwardd did not start")
    if p.poll() is not None:
        raise RuntimeError("logwardd exited: " + open(err.name, errors="replace").read())
    ports = {}
    for line in open(ready).read().splitlines():
        scheme, port = line.split()
        ports.setdefault(scheme, int(port))
    return p, ports


def start_rsyslog(tmp, name, relp_port, action_extra="", module_extra=""):
    work = os.path.join(tmp, f"rs-{name}")
    os.makedirs(work, exist_ok=True)
    inport = free_port()
    conf = os.path.join(work, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(f"""
global(workDirectory="{work}")
module(load="imtcp")
module(load="omrelp" {module_extra})
input(type="imtcp" address="127.0.0.1" port="{inport}" ruleset="fwd")
ruleset(name="fwd") {{
  action(type="omrelp" target="127.0.0.1" port="{relp_port}" {action_extra}
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.size="200000")
}}
""")
    out = open(os.path.join(work, "stderr"), "ab")
    p = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(work, "pid")],
                         stdout=out, stderr=out)
    procs.append(p)

    def listening():
        try:
            socket.create_connection(("127.0.0.1", inport), timeout=1).close()
            return True
        except OSError:
            return False
    if not wait_for(listening, 20.0) or p.poll() is not None:
        raise RuntimeError("rsyslogd did not start: " +
                           open(os.path.join(work, "stderr"), errors="replace").read())
    return p, inport


def send_lines(port, program, word, n, pace=0):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    for i in range(n):
        s.sendall(b"<13>Nov 22 10:00:00 sender %s: %s-%d\n" % (program.encode(), word.encode(), i))
        if pace and i % 50 == 49:
            time.sleep(pace)
    s.close()


def lines_of(path):
    try:
        return open(path, "rb").read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def counts(path, word, n):
    c = [0] * n
    prefix = word.encode() + b"-"
    for l in lines_of(path):
        msg = l.split(b"\t")[0]
        k = msg.rfind(prefix)
        if k >= 0:
            try:
                i = int(msg[k + len(prefix):])
            except ValueError:
                continue
            if 0 <= i < n:
                c[i] += 1
    return c


def scenario_plain(tmp):
    store = os.path.join(tmp, "store-plain")
    n = 1000
    lw, ports = start_logwardd(tmp, store, "relp://127.0.0.1:0", tag="plain")
    check("port 0: the bound RELP port is read back", ports.get("relp", 0) > 0, ports)
    rs, inport = start_rsyslog(tmp, "plain", ports["relp"])
    send_lines(inport, "relpplain", "plain", n)
    path = os.path.join(store, "127.0.0.1", "relpplain.log")
    wait_for(lambda: all(counts(path, "plain", n)), timeout=60)
    time.sleep(1)  # anything that would arrive twice arrives now
    c = counts(path, "plain", n)
    check(f"plain RELP: {n} messages, each exactly once in 127.0.0.1/relpplain.log",
          all(x == 1 for x in c), f"missing {c.count(0)}, twice {sum(1 for x in c if x > 1)}")
    lines = lines_of(path)
    check("peer and transport on every line (via=relp, no identity)",
          lines and all(l.endswith(b"\tpeer=127.0.0.1 via=relp id=-") for l in lines),
          lines[:1])
    stop(rs)
    check("SIGTERM: logwardd stops the RELP thread and exits 0", stop(lw) == 0,
          open(os.path.join(tmp, "plain.stderr"), errors="replace").read()[-2000:])
    st = subprocess.run([LOGWARDD, "--status", "--store", store], capture_output=True, text=True)
    check("--status lists the RELP listener with acked == received",
          '"scheme":"relp"' in st.stdout and f'"acked":{n}' in st.stdout and
          f'"received":{n}' in st.stdout, st.stdout)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    os.makedirs(d, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=logward test CA", cwd=d)
    for name, san in (("server", "DNS:localhost,IP:127.0.0.1"), ("client", "DNS:client.example")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
                name + ".csr", "-subj", "/CN=" + san.split(",")[0][4:], cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile",
                name + ".ext", cwd=d)


def relp_frame(txnr, cmd, data=b""):
    return b"%d %s %d%s%s\n" % (txnr, cmd, len(data), b" " if data else b"", data)


def no_cert_client(port, pki):
    """A TLS client without a certificate: returns True if the server took a
    syslog frame from it (it must not)."""
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s = ctx.wrap_socket(raw)
        s.sendall(relp_frame(1, b"open", b"relp_version=0\nrelp_software=t\ncommands=syslog"))
        s.sendall(relp_frame(2, b"syslog", b"<13>Nov 22 10:00:00 h nocert: nocert-0"))
        got = b""
        while b"\n2 rsp" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return b"2 rsp" in got
    except (ssl.SSLError, OSError):
        return False
    finally:
        raw.close()


def scenario_tls(tmp):
    pki = os.path.join(tmp, "pki")
    make_pki(pki)
    store = os.path.join(tmp, "store-tls")
    n = 300
    # Under ASan: librelp leaks each client certificate (lsan-librelp.supp).
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":fast_unwind_on_malloc=0"
    env["LSAN_OPTIONS"] = env.get("LSAN_OPTIONS", "") + ":print_suppressions=0:suppressions=" + \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-librelp.supp")
    lw, ports = start_logwardd(tmp, store, "relp+tls://127.0.0.1:0", tag="tls", env=env,
                               extra=["--tls-cert", os.path.join(pki, "server.pem"),
                                      "--tls-key", os.path.join(pki, "server.key"),
                                      "--tls-ca", os.path.join(pki, "ca.pem")])
    port = ports.get("relp+tls")
    tls = (f'tls="on" tls.caCert="{pki}/ca.pem" tls.myCert="{pki}/client.pem" '
           f'tls.myPrivKey="{pki}/client.key" tls.authMode="name" tls.permittedPeer=["localhost"]')
    rs, inport = start_rsyslog(tmp, "tls", port, action_extra=tls,
                               module_extra='tls.tlslib="openssl"')
    send_lines(inport, "relptls", "tls", n)
    path = os.path.join(store, "127.0.0.1", "relptls.log")
    wait_for(lambda: all(counts(path, "tls", n)), timeout=60)
    time.sleep(1)
    c = counts(path, "tls", n)
    check(f"relp+tls with client certificate: {n} messages, each exactly once",
          all(x == 1 for x in c), f"missing {c.count(0)}, twice {sum(1 for x in c if x > 1)}")
    lines = lines_of(path)
    check("via=relp+tls on every line", lines and
          all(l.endswith(b"\tpeer=127.0.0.1 via=relp+tls id=-") for l in lines), lines[:1])
    took = no_cert_client(port, pki)
    time.sleep(0.5)
    check("a TLS client without a certificate is refused, nothing stored",
          not took and not os.path.exists(os.path.join(store, "127.0.0.1", "nocert.log")))
    stop(rs)
    check("SIGTERM: clean exit 0 (TLS)", stop(lw) == 0)


def scenario_crash(tmp):
    store = os.path.join(tmp, "store-crash")
    n, kills = 6000, 2
    lw, ports = start_logwardd(tmp, store, "relp://127.0.0.1:0", tag="crash")
    port = ports["relp"]
    rs, inport = start_rsyslog(tmp, "crash", port)
    path = os.path.join(store, "127.0.0.1", "relpcrash.log")
    sender = threading.Thread(target=send_lines, args=(inport, "relpcrash", "crash", n, 0.01))
    sender.start()
    done_kills = 0
    for k in range(kills):
        at = n * (k + 1) // (kills + 2)
        if not wait_for(lambda: len(lines_of(path)) >= at, timeout=120):
            break
        # The count is read from disk, so it grows at logwardd's writes: kill
        # between two of them (its 200 ms tick), where a collector that
        # acked before writing would lose what it had acked.
        time.sleep(0.05 + 0.1 * random.random())
        lw.kill()  # SIGKILL: no flush, no goodbye
        lw.wait()
        done_kills += 1
        print(f"     killed logwardd with {len(lines_of(path))} lines stored")
        lw, _ = start_logwardd(tmp, store, f"relp://127.0.0.1:{port}", tag="crash")
    sender.join(timeout=120)
    check(f"{kills} kills done while the stream was being sent", done_kills == kills)
    wait_for(lambda: all(counts(path, "crash", n)), timeout=180, step=0.5)
    time.sleep(2)
    c = counts(path, "crash", n)
    missing = c.count(0)
    dups = sum(x - 1 for x in c if x > 1)
    print(f"     crash test: {n} sent, {missing} missing, {dups} duplicates after {done_kills} "
          f"kills (bound {RELP_WINDOW * max(done_kills, 1)})")
    check("after SIGKILL and restart, every message is in the store (nothing acked was lost)",
          missing == 0, f"missing {missing}")
    check("duplicates only from the unacknowledged window",
          dups <= RELP_WINDOW * max(done_kills, 1), f"{dups} duplicates")
    stop(rs)
    stop(lw)


def main():
    if not shutil.which("rsyslogd") or not rsyslog_module("omrelp") or \
            not rsyslog_module("imtcp"):
        print("SKIP: rsyslogd with imtcp and omrelp (Debian's rsyslog, rsyslog-relp) not installed")
        return 77
    if not shutil.which("openssl"):
        print("SKIP: the openssl command line tool is not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-relp-")
    try:
        which = sys.argv[1:] or ["plain", "tls", "crash"]
        for name in which:
            globals()["scenario_" + name](tmp)
    except Exception as e:  # a peer that did not start is a failure, with its words
        check("scenario ran", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if harness.counts["failed"]:
            for f in glob.glob(os.path.join(tmp, "*.stderr")) + \
                    glob.glob(os.path.join(tmp, "rs-*", "stderr")):
                print(f"--- {f}:\n" + open(f, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return harness.summary()


if __name__ == "__main__":
    sys.exit(main())
