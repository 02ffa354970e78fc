# Shared helpers for bench/ scripts (sourced, not run).
# measure NAME CMD...: runs CMD with output to /dev/null under /usr/bin/time
# and sets WALL, CPU (user+sys seconds) and RSS_KB; prints one table row.
set -euo pipefail

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_out="$bench_root/bench/out"
mkdir -p "$bench_out"

bench_build() {
  (cd "$bench_root" && scripts/deps.sh &&
   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
   cmake --build build/release -j"$(nproc)" >/dev/null)
}

measure() {
  local name=$1; shift
  local t; t=$(mktemp)
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null 2>&1 || rc=$?
  # time(1) writes "Command exited with non-zero status N" first when so.
  read -r WALL user sys RSS_KB < <(tail -n 1 "$t")
  rm -f "$t"
  CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  printf '%-44s %8.2f s wall %8.2f s cpu %8d KB rss' "$name" "$WALL" "$CPU" "$RSS_KB"
  # A contender that failed did not do the work: say so beside its figures.
  [ "$rc" = 0 ] && echo || echo "   EXIT $rc: not comparable"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
mbps() { awk -v bytes="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? bytes / 1e6 / s : 0) }'; }
