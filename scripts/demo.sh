#!/usr/bin/env bash
# The main job on an embedded default: builds logward and collates the
# bundled sample audit log into events, shown as text and then as JSON.
# (When the collector and agent land, this becomes a collector on loopback
# with a local store, fed by an agent.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "== logward events --format text examples/audit.log"
build/release/src/logward events --format text examples/audit.log
echo
echo "== logward events examples/audit.log (JSON, first event)"
build/release/src/logward events examples/audit.log | head -n 1
