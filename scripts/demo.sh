#!/usr/bin/env bash
# The main job on an embedded default: builds logward, starts the collector
# logwardd on loopback with a private store (build/demo/store), and
# logward-agent feeding it over agent:// (lwap/1, acknowledged, exactly once):
# the agent follows the bundled sample audit log (examples/audit.log, as it
# would follow /var/log/audit/audit.log) and a syslog-format file written
# here. Once the agent's counters say everything is acknowledged, it shows
# what was stored, reads the audit trail back as whole events and prints both
# daemons' counters.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=build/release/src
demo=build/demo
rm -rf "$demo" && mkdir -p "$demo"
cat > "$demo/syslog" <<'EOF'
Dec  1 10:00:01 web1 sshd[812]: Accepted publickey for alice from 198.51.100.23 port 50522 ssh2
Dec  1 10:00:07 web1 sudo[901]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
Dec  1 10:00:09 web1 sshd[812]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
EOF

"$bin/logwardd" --store "$demo/store" --ready-file "$demo/ready" \
  --listen agent://127.0.0.1:0 2> "$demo/logwardd.log" &
cpid=$!
apid=
trap 'kill $cpid $apid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/ready" ] && break; sleep 0.05; done
[ -s "$demo/ready" ] || { cat "$demo/logwardd.log"; exit 2; }
port=$(awk '$1 == "agent" { print $2 }' "$demo/ready")
echo "== logwardd on agent://127.0.0.1:$port, store $demo/store"

"$bin/logward-agent" --foreground --state "$demo/agent-state" \
  --input "audit:$PWD/examples/audit.log" --input "file:$PWD/$demo/syslog" \
  --collector "agent://127.0.0.1:$port" 2> "$demo/agent.log" &
apid=$!
want=$(($(wc -l < examples/audit.log) + $(wc -l < "$demo/syslog")))
acked() { "$bin/logward-agent" --status --state "$demo/agent-state" 2>/dev/null |
          sed -n 's/.*"acked":\([0-9]*\).*/\1/p'; }
for _ in $(seq 200); do [ "$(acked)" = "$want" ] && break; sleep 0.05; done
echo "== logward-agent: $(acked) of $want records acknowledged by the collector"
kill -TERM "$apid" && wait "$apid" || true
kill -TERM "$cpid" && wait "$cpid" || true
trap - EXIT
echo
echo "== the store ($demo/store)"
(cd "$demo/store" && find . -type f -not -path '*/.*' | sort | xargs wc -l)
echo
echo "== $demo/store/127.0.0.1/sshd.log"
cat "$demo/store/127.0.0.1/sshd.log"
echo
echo "== logward events --format text $demo/store/127.0.0.1/audit.log"
"$bin/logward" events --format text "$demo/store/127.0.0.1/audit.log"
echo
echo "== logward events (JSON, first event)"
"$bin/logward" events "$demo/store/127.0.0.1/audit.log" | head -n 1
echo
echo "== logward-agent --status"
"$bin/logward-agent" --status --state "$demo/agent-state"
echo
echo "== logwardd --status"
"$bin/logwardd" --status --store "$demo/store"
[ "$(grep -c . "$demo/store/127.0.0.1/audit.log")" = "$(wc -l < examples/audit.log)" ]
