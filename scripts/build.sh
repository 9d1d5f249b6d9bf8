#!/usr/bin/env bash
# Configures and builds one build tree. Used by example.sh and test.sh.
# Usage: scripts/build.sh DIR [cmake options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
mkdir -p "$dir"
cmake -S "$root" -B "$dir" -G Ninja "$@" > "$dir/configure.log" 2>&1 || {
  cat "$dir/configure.log" >&2; echo "build: configuring $dir failed" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
ninja -C "$dir" -j "$jobs"
