#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds a release
# with -Werror (gcc), builds again with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (no recovery) with libFuzzer targets, and runs
# every test (unit, integration against the real peers, fuzz corpus replay)
# in the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build/release -j"$jobs"

cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DLW_SANITIZE=ON -DLW_FUZZ=ON >/dev/null
cmake --build build/asan -j"$jobs"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build/asan
ctest --output-on-failure -j"$jobs" "$@"
