#!/usr/bin/env python3
"""logward-agent and logwardd over agent+tls://: mutual authentication.

A private CA (openssl command-line tool) signs the collector's certificate
(DNS:collector.example) and an agent certificate for web1.example; another
CA signs a look-alike collector certificate. With the real programs:
  - the agent with its certificate ships audit records claiming node=hostb
    and syslog lines claiming host hostb: everything is filed under
    web1.example (the name its certificate proves), nothing under hostb,
    and the claimed name stays as data (claimed_node=, the line's host);
  - a collector whose certificate another CA signed, and one whose
    certificate names another host than the agent expects
    (--collector-name), are refused by the agent: nothing stored, the agent
    says why (certificate) and counts the failure;
  - an agent without a client certificate, and one whose certificate the
    other CA signed, are refused by logwardd (tls_failures) and store
    nothing.
Skips (77) when the openssl tool or logward-agent is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import AGENT, LOGWARDD, agent_status, check, make_ca, make_cert, summary, wait_for









class Run:
    """One logwardd on agent+tls:// and agents pointed at it."""

    def __init__(self, tmp, name, server_cert):
        self.tmp, self.name = tmp, name
        self.store = os.path.join(tmp, name, "store")
        self.ready = os.path.join(tmp, name, "ready")
        os.makedirs(os.path.join(tmp, name))
        self.log = open(os.path.join(tmp, name, "log"), "w+b")
        self.proc = subprocess.Popen(
            [LOGWARDD, "--foreground", "--store", self.store, "--listen", "agent+tls://127.0.0.1:0",
             "--tls-cert", os.path.join(tmp, server_cert + ".pem"),
             "--tls-key", os.path.join(tmp, server_cert + ".key"),
             "--tls-ca", os.path.join(tmp, "ca.pem"), "--ready-file", self.ready],
            stdout=self.log, stderr=self.log)
        if not wait_for(lambda: os.path.exists(self.ready), timeout=20):
            raise RuntimeError(f"logwardd did not start: {self.text()}")
        self.port = int(open(self.ready).read().split()[1])
        self.agents = []

    def text(self):
        self.log.flush()
        return open(self.log.name, "rb").read().decode(errors="replace")

    def agent(self, label, inputs, cert=None, ca="ca", name="collector.example"):
        state = os.path.join(self.tmp, self.name, "state-" + label)
        log = open(os.path.join(self.tmp, self.name, "agent-" + label), "w+b")
        args = [AGENT, "--foreground", "--state", state, "--backoff-max", "200",
                "--collector", f"agent+tls://127.0.0.1:{self.port}",
                "--tls-ca", os.path.join(self.tmp, ca + ".pem"), "--collector-name", name]
        for i in inputs:
            args += ["--input", i]
        if cert:
            args += ["--tls-cert", os.path.join(self.tmp, cert + ".pem"),
                     "--tls-key", os.path.join(self.tmp, cert + ".key")]
        p = subprocess.Popen(args, stdout=log, stderr=log)
        self.agents.append(p)
        return p, state, log

    def status(self):
        r = subprocess.run([LOGWARDD, "--status", "--store", self.store], capture_output=True,
                           text=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def tls_failures(self):
        return sum(l.get("tls_failures", 0) for l in self.status().get("listeners", []))

    def stop(self):
        for p in self.agents + [self.proc]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()




def stored_files(store):
    out = {}
    for d, dirs, files in os.walk(store):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if not f.startswith("."):
                p = os.path.join(d, f)
                out[os.path.relpath(p, store)] = open(p, "rb").read()
    return out


def text_of(log):
    log.flush()
    return open(log.name, "rb").read().decode(errors="replace")


def main():
    if not shutil.which("openssl") or not os.access(AGENT, os.X_OK):
        print("SKIP openssl or logward-agent missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="lw-agent-tls-")
    make_ca(tmp, "ca")
    make_ca(tmp, "otherca")
    make_cert(tmp, "ca", "collector", "collector", "DNS:collector.example")
    make_cert(tmp, "otherca", "fakecollector", "fakecollector", "DNS:collector.example")
    make_cert(tmp, "ca", "web1", "web1", "DNS:web1.example")
    make_cert(tmp, "otherca", "stranger", "stranger", "DNS:web1.example")
    audit = os.path.join(tmp, "audit.log")
    app = os.path.join(tmp, "app.log")
    n = 200
    with open(audit, "w") as f:
        for i in range(n):
            f.write(f"node=hostb type=USER_CMD msg=audit(1764600000.{i:03d}:{i + 1}): pid=1 "
                    f"uid=0 auid=1000 ses=1 msg='cwd=\"/\" cmd=6C73 terminal=pts/0 res=success'\n")
    with open(app, "w") as f:
        for i in range(n):
            f.write(f"Dec  1 10:00:00 hostb app[9]: tls message {i}\n")
    inputs = ["audit:" + audit, "file:" + app]
    runs = []
    try:
        good = Run(tmp, "good", "collector")
        runs.append(good)
        _, state, alog = good.agent("web1", inputs, cert="web1")
        files = lambda: stored_files(good.store)
        done = wait_for(lambda: agent_status(state).get("acked", 0) >= 2 * n, timeout=60)
        check("the agent with its certificate has every record acknowledged", done,
              (agent_status(state), text_of(alog)[-2000:]))
        f = files()
        check("everything is filed under web1.example, nothing elsewhere",
              f and all(k.startswith("web1.example/") for k in f), sorted(f))
        a = f.get("web1.example/audit.log", b"").split(b"\n")[:-1]
        check(f"{n} audit records under web1.example/audit.log", len(a) == n, len(a))
        check("node= is the proven name, the claimed one kept as claimed_node=hostb",
              all(l.startswith(b"node=web1.example ") and b"claimed_node=hostb" in l for l in a),
              a[:2])
        s = f.get("web1.example/app.log", b"").split(b"\n")[:-1]
        check(f"{n} syslog lines under web1.example/app.log, claimed host kept as data",
              len(s) == n and all(b" hostb app[9]: tls message " in l for l in s), s[:2])
        check("via=agent+tls id=web1.example on every syslog line",
              all(b"via=agent+tls" in l and b"id=web1.example" in l for l in s), s[:2])

        # A client without a certificate, and one the other CA signed.
        before = good.tls_failures()
        _, st_none, log_none = good.agent("nocert", inputs)
        _, st_str, log_str = good.agent("stranger", inputs, cert="stranger")
        check("logwardd refuses both agents' handshakes (tls_failures)",
              wait_for(lambda: good.tls_failures() >= before + 2, timeout=30),
              (good.tls_failures(), good.status()))
        check("nothing stored from the refused agents", files() == f, sorted(files()))
        check("the refused agents have nothing acknowledged",
              agent_status(st_none).get("acked", 0) == 0 and
              agent_status(st_str).get("acked", 0) == 0,
              (agent_status(st_none), agent_status(st_str)))

        # A collector the agent must not trust.
        for label, cert, name in (("fake", "fakecollector", "collector.example"),
                                  ("wrongname", "collector", "other.example")):
            r = Run(tmp, label, cert)
            runs.append(r)
            _, st, lg = r.agent("web1", inputs, cert="web1", name=name)
            said = wait_for(lambda: "certif" in text_of(lg).lower(), timeout=30)
            check(f"{label}: the agent refuses the collector and says it is the certificate",
                  said, text_of(lg)[-1500:])
            check(f"{label}: nothing stored, nothing acknowledged",
                  not stored_files(r.store) and agent_status(st).get("acked", 0) == 0,
                  (sorted(stored_files(r.store)), agent_status(st)))
    except RuntimeError as e:
        check("run completed", False, e)
    finally:
        for r in runs:
            r.stop()
    rc = summary()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("kept", tmp)
    return rc


if __name__ == "__main__":
    sys.exit(main())
