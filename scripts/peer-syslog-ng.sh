#!/usr/bin/env bash
# scripts/peer-syslog-ng.sh: makes Debian 12's syslog-ng and its load
# generator loggen runnable beside rsyslog, without installing
# syslog-ng-core (it conflicts with rsyslog: both provide
# system-log-daemon). See ../shared/docs/peers.md.
#
# What it does, idempotently: `apt-get download syslog-ng-core`, unpacks it
# with `dpkg-deb -x` into DIR (default build/peers/syslog-ng under the repo;
# reused when an earlier run completed there), installs the missing
# shared-library dependencies of syslog-ng-core with apt-get (never
# syslog-ng-core itself), and checks that both binaries start.
# Needs root (or sudo) only when a library is missing.
#
# Usage:
#   eval "$(scripts/peer-syslog-ng.sh --env)"   # exports SYSLOG_NG, LOGGEN,
#                                                # LD_LIBRARY_PATH, SYSLOGNG_PREFIX
#   scripts/peer-syslog-ng.sh [--dir DIR]        # prepare, print the same lines
#   scripts/peer-syslog-ng.sh --dir DIR --env    # other folder
# Then, e.g.:  "$SYSLOG_NG" -F -f CONF -R PERSIST -p PID -c CTL
#              "$LOGGEN" -P -S stream -s 300 -I 3 127.0.0.1 PORT
# With the environment set, syslog-ng finds its modules under
# $SYSLOGNG_PREFIX/lib/syslog-ng and its scl under $SYSLOGNG_PREFIX/share.
# Progress goes to stderr; stdout carries only the export lines, so the
# eval form is safe. Exit status: 0 ready, 1 failure (reason on stderr).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/build/peers/syslog-ng"
while [ $# -gt 0 ]; do
  case $1 in
    --env) shift ;;  # the default output already is the export lines
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "peer-syslog-ng: unknown argument $1 (try --help)" >&2; exit 1 ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

say() { echo "peer-syslog-ng: $*" >&2; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

unpack() {
  local tmp deb
  tmp=$(mktemp -d)
  chmod 0777 "$tmp" # apt-get download fetches as user _apt
  trap 'rm -rf "$tmp"' RETURN
  say "downloading syslog-ng-core into $dir"
  (cd "$tmp" && apt-get download -qq syslog-ng-core >&2) || {
    $sudo apt-get update -qq >&2
    (cd "$tmp" && apt-get download -qq syslog-ng-core >&2)
  }
  deb=$(ls "$tmp"/syslog-ng-core_*.deb)
  dpkg-deb -x "$deb" "$dir"
  dpkg-deb -f "$deb" Version > "$dir/.version"
}

# Library packages syslog-ng-core depends on (not syslog-ng itself, not the
# init-script helpers it names for its service).
install_libs() {
  local deps missing=() p
  deps=$(apt-cache depends --no-recommends --no-suggests syslog-ng-core 2>/dev/null |
         awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u)
  for p in $deps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2 || {
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
  }
}

# .version is written last: a folder left by an interrupted unpack is redone.
if [ ! -s "$dir/.version" ] || [ ! -x "$dir/usr/sbin/syslog-ng" ]; then unpack; fi
install_libs

export LD_LIBRARY_PATH="$dir/usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SYSLOGNG_PREFIX="$dir/usr"
if ! "$dir/usr/sbin/syslog-ng" --version >/dev/null 2>&1; then
  say "$dir/usr/sbin/syslog-ng does not start:"
  "$dir/usr/sbin/syslog-ng" --version >&2 || true
  exit 1
fi
"$dir/usr/bin/loggen" --help >/dev/null 2>&1 || { say "$dir/usr/bin/loggen does not start"; exit 1; }

printf 'export SYSLOG_NG=%q\n' "$dir/usr/sbin/syslog-ng"
printf 'export LOGGEN=%q\n' "$dir/usr/bin/loggen"
printf 'export LD_LIBRARY_PATH=%q\n' "$LD_LIBRARY_PATH"
printf 'export SYSLOGNG_PREFIX=%q\n' "$SYSLOGNG_PREFIX"
