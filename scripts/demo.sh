#!/usr/bin/env bash
# The main job on an embedded default: builds logward, starts the collector
# logwardd on loopback with a private store (build/demo/store), feeds it
# syslog with util-linux logger (UDP, TCP) and the bundled sample audit log
# over the audisp-remote ascii protocol (as `format = ascii` sends it), then
# shows what was stored and reads the audit trail back as whole events.
# (When logward-agent lands, the agent becomes the feeder.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=build/release/src
demo=build/demo
rm -rf "$demo" && mkdir -p "$demo"
"$bin/logwardd" --store "$demo/store" --ready-file "$demo/ready" \
  --listen udp://127.0.0.1:0 --listen tcp://127.0.0.1:0 --listen audit://127.0.0.1:0 \
  2> "$demo/logwardd.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/ready" ] && break; sleep 0.05; done
[ -s "$demo/ready" ] || { cat "$demo/logwardd.log"; exit 2; }
port() { awk -v s="$1" '$1 == s { print $2 }' "$demo/ready"; }
echo "== logwardd on 127.0.0.1: udp $(port udp), tcp $(port tcp), audit $(port audit)"
logger -n 127.0.0.1 -P "$(port udp)" -d --rfc5424 -t sshd "Accepted publickey for alice from 198.51.100.23"
logger -n 127.0.0.1 -P "$(port tcp)" -T --octet-count -t sudo "alice : TTY=pts/0 ; COMMAND=/usr/bin/id"
cat examples/audit.log > "/dev/tcp/127.0.0.1/$(port audit)"
sleep 0.5
kill -TERM "$pid" && wait "$pid" || true
trap - EXIT
echo
echo "== the store ($demo/store)"
(cd "$demo/store" && find . -type f ! -name '.*' | sort | xargs wc -l)
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
echo "== logwardd --status"
"$bin/logwardd" --status --store "$demo/store"
