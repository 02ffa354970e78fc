#!/usr/bin/env bash
# Installs every build and test dependency of logward from Debian 12's
# packages. Idempotent: installs only what is missing; safe to rerun.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang llvm    # compilers; clang for libFuzzer and sanitizers
  libclang-rt-14-dev                              # sanitizer and libFuzzer runtimes for clang 14
  libaudit-dev                                    # libaudit's syscall/type/errno tables
  libssl-dev                                      # TLS listeners (OpenSSL), SHA-256 of long names
  zlib1g-dev                                      # CRC-32 of the agent queue's entries
  libzstd-dev zstd                                # zstd of rotated store files; zstdcat/zstdgrep in its test
  libpcre2-dev                                    # logward search --grep REGEX over syslog files
  librelp-dev                                     # RELP listener (rsyslog's reliable protocol)
  audispd-plugins                                 # audisp-remote: the audit client tests drive
  rsyslog rsyslog-relp rsyslog-openssl            # rsyslog as a client (omfwd, omrelp, TLS) and bench peer
  auditd                                          # ausearch and aureport: the peers tests compare with
  python3                                         # test harness scripts
  python3-yaml                                    # golden_compare reads go-libaudit's YAML cases
  faketime                                        # pinned clocks in time-word tests
  strace                                          # kills at chosen system calls (store_crashpoints)
  libsystemd-dev systemd-journal-remote           # agent's journal input (sd-journal); journal files made in its test
  clang-format clang-tidy                         # style and lint configs in the repo
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
