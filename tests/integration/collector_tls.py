#!/usr/bin/env python3
"""logwardd's tls:// listener (RFC 5425) and the identity a certificate proves.

Generates a private CA, a server certificate and client certificates with
the openssl command-line tool, starts logwardd with
`--listen tls://127.0.0.1:0 --tls-cert --tls-key --tls-ca`, then, with
Python's ssl module as the client (rsyslog and syslog-ng over TLS are in
collector_peers.py):
  - a client whose certificate has the DNS SAN web1.example sends
    octet-counted and LF-framed messages claiming another host name; all are
    filed under web1.example (the proven name, lower-cased), never under the
    claimed one or the address, with via=tls id=web1.example on each line;
  - a certificate with only a subject CN is filed under the CN;
  - a certificate whose SAN is "../../etc" stays inside the store;
  - a client without a certificate, and one whose certificate another CA
    signed, are refused during the handshake, counted (tls_failures), and
    store nothing; other clients go on being served;
  - logwardd refuses to start when the key does not match the certificate.
Skips (77) when the openssl tool is missing.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

from harness import LOGWARDD, check, make_ca, make_cert, read_tree, summary, wait_for









def client(d, port, cert=None, ca="ca"):
    ctx = ssl.create_default_context(cafile=os.path.join(d, f"{ca}.pem"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(os.path.join(d, f"{cert}.pem"), os.path.join(d, f"{cert}.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw)


def refused(d, port, cert, ca="ca"):
    """True if the server ends the handshake or the connection at once."""
    try:
        s = client(d, port, cert, ca)
        s.sendall(b"<13>1 2026-12-01T10:00:00Z h prog - - - should-not-be-stored\n")
        s.settimeout(5)
        return s.recv(10) == b""  # TLS 1.3: the refusal arrives after the handshake
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, socket.timeout, OSError):
        return True


def main():
    if not shutil.which("openssl"):
        print("SKIP: openssl command not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-tls-")
    store = os.path.join(tmp, "store")
    ready = os.path.join(tmp, "ready")
    make_ca(tmp, "ca")
    make_ca(tmp, "otherca")
    make_cert(tmp, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    make_cert(tmp, "ca", "web1", "ignored-cn", "DNS:Web1.Example,DNS:second.example")
    make_cert(tmp, "ca", "cnonly", "db7.example")
    make_cert(tmp, "ca", "hostile", "x", "DNS:../../etc")
    make_cert(tmp, "otherca", "stranger", "stranger.example", "DNS:stranger.example")
    args = [LOGWARDD, "--store", store, "--listen", "tls://127.0.0.1:0", "--tls-cert",
            os.path.join(tmp, "server.pem"), "--tls-key", os.path.join(tmp, "server.key"),
            "--tls-ca", os.path.join(tmp, "ca.pem"), "--ready-file", ready]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    try:
        if not wait_for(lambda: os.path.exists(ready)):
            print("FAIL logwardd did not start:", proc.stderr.read().decode())
            return 1
        port = int(open(ready).read().split()[1])
        n = 50
        s = client(tmp, port, "web1")
        for i in range(n):
            m = b"<13>1 2026-12-01T10:00:00.5+01:00 spoofed.example app 42 - - oc-%d" % i
            s.sendall(str(len(m)).encode() + b" " + m)
            s.sendall(b"<13>Dec  1 10:00:00 spoofed.example app[42]: lf-%d\n" % i)
        s.close()
        c = client(tmp, port, "cnonly")
        c.sendall(b"<13>1 2026-12-01T10:00:00Z db7 sshd - - - cn-only\n")
        c.close()
        h = client(tmp, port, "hostile")
        h.sendall(b"<13>1 2026-12-01T10:00:00Z x evil - - - from-hostile\n")
        h.close()
        check("client without a certificate refused", refused(tmp, port, None))
        check("certificate of another CA refused", refused(tmp, port, "stranger"))
        w = client(tmp, port, "web1")  # still served after the refusals
        w.sendall(b"<13>1 2026-12-01T10:00:00Z x app - - - after-refusals\n")
        w.close()
        wait_for(lambda: sum(len(v) for v in read_tree(store).values()) >= 2 * n + 3)
        time.sleep(0.3)
        tree = read_tree(store)
        lines = tree.get("web1.example/app.log", [])
        want = [b"oc-%d\t" % i for i in range(n)] + [b"lf-%d\t" % i for i in range(n)]
        check(f"{2 * n} messages filed under the certificate's first DNS SAN, lower-cased",
              all(sum(w in l for l in lines) == 1 for w in want),
              (sorted(tree), len(lines), [w for w in want if sum(w in l for l in lines) != 1][:5]))
        check("via=tls id=web1.example on every line, claimed name kept as data",
              lines and all(l.endswith(b"\tpeer=127.0.0.1 via=tls id=web1.example") and
                            (b" spoofed.example app" in l or b"after-refusals" in l)
                            for l in lines), lines[:2])
        check("RFC 5424 time and zone kept", any(l.startswith(b"2026-12-01T10:00:00.500000+01:00")
                                                 for l in lines), lines[:1])
        check("certificate without SAN filed under its CN",
              len(tree.get("db7.example/sshd.log", [])) == 1, sorted(tree))
        hostile = [p for p, v in tree.items() if any(b"from-hostile" in l for l in v)]
        check("a hostile SAN stays one level inside the store",
              len(hostile) == 1 and hostile[0].count("/") == 1 and
              not hostile[0].startswith(".."), hostile)
        check("refused clients stored nothing; the next client was served",
              not any(b"should-not-be-stored" in l for v in tree.values() for l in v) and
              any(b"after-refusals" in l for l in lines))
        check("only the proven names became directories",
              set(p.split("/")[0] for p in tree) == {"web1.example", "db7.example",
                                                    hostile[0].split("/")[0] if hostile else ""},
              sorted(tree))
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        err = proc.stderr.read().decode()
        check("SIGTERM: exit 0", rc == 0, err)
        status = json.loads(subprocess.run([LOGWARDD, "--status", "--store", store],
                                           capture_output=True).stdout or b"{}")
        tl = status.get("listeners", [{}])[0]
        check("--status counts the 2 refused handshakes", tl.get("tls_failures") == 2, status)
        check("each refusal logged once with its reason",
              err.count("connection closed") == 2 and "certificate" in err, err)
        bad = subprocess.run([LOGWARDD, "--store", store, "--listen", "tls://127.0.0.1:0",
                              "--tls-cert", os.path.join(tmp, "server.pem"), "--tls-key",
                              os.path.join(tmp, "web1.key")], capture_output=True, timeout=10)
        check("a key that does not match the certificate: exit 2 with a reason",
              bad.returncode == 2 and b"key" in bad.stderr, bad.stderr)
        nokey = subprocess.run([LOGWARDD, "--store", store, "--listen", "tls://127.0.0.1:0",
                                "--check-config"], capture_output=True, timeout=10)
        check("--check-config: tls:// without a certificate is refused (exit 2)",
              nokey.returncode == 2 and b"--tls-cert" in nokey.stderr, nokey.stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
