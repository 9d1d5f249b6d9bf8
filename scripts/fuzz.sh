#!/usr/bin/env bash
# Long fuzzing runs (libFuzzer, ASan+UBSan) of the verifier/interpreter and
# of the IPL front end. ctest's fuzz/*-smoke tests run the same fuzzers for
# 20 seconds; this runs as long as you like and keeps what it learns.
#
# Usage: scripts/fuzz.sh [verifier|frontend|all] [SECONDS]   (all, 600)
#
#   build-fuzz/                  clang tree with -DIPEC_FUZZ=ON (made here)
#   build-fuzz/corpus/KIND/      the growing corpus, outside git; seeded from
#                                test/fuzz/corpus/KIND/ on every run
#   build-fuzz/findings/KIND/    crash-*, leak-*, timeout-*, oom-* reproducers
#
# Extra libFuzzer flags go in FUZZ_FLAGS, e.g. FUZZ_FLAGS="-fork=2" to use
# both cores. A reproducer is rerun with: build-fuzz/test/fuzz/fuzz_KIND FILE
# Exits non-zero if this run found anything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

kind=${1:-all}
seconds=${2:-600}
case "$kind" in
  verifier|frontend) kinds=("$kind") ;;
  all) kinds=(verifier frontend) ;;
  *) echo "usage: $0 [verifier|frontend|all] [SECONDS]" >&2; exit 2 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a number" >&2; exit 2; }

dir=build-fuzz
mkdir -p "$dir"
echo "== fuzz: building $dir"
cmake -S "$root" -B "$dir" -G Ninja -DIPEC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ > "$dir/configure.log" 2>&1 || {
  cat "$dir/configure.log" >&2; echo "fuzz: configuring $dir failed" >&2; exit 1; }
ninja -C "$dir" ipec-fuzzers > "$dir/build.log" 2>&1 || {
  tail -40 "$dir/build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

found=()
for k in "${kinds[@]}"; do
  corpus=$dir/corpus/$k
  findings=$dir/findings/$k
  mkdir -p "$corpus" "$findings"
  extra=(-max_len=16384)
  if [[ $k == frontend ]]; then
    extra=(-max_len=4096 -dict=test/fuzz/ipl.dict)
  fi
  stamp=$(mktemp)
  echo "== fuzz: $k for ${seconds}s; corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  rc=0
  # shellcheck disable=SC2086
  "$dir/test/fuzz/fuzz_$k" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=30 -print_final_stats=1 -artifact_prefix="$findings/" \
    "${extra[@]}" ${FUZZ_FLAGS:-} "$corpus" "test/fuzz/corpus/$k" \
    > "$dir/fuzz-$k.log" 2>&1 || rc=$?
  grep -E '^(stat::|Done|#[0-9]+ +DONE)' "$dir/fuzz-$k.log" || tail -5 "$dir/fuzz-$k.log"
  new=()
  while IFS= read -r f; do new+=("$f"); done < <(
    find "$findings" -newer "$stamp" -type f \
      \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) )
  rm -f "$stamp"
  if ((rc != 0 || ${#new[@]})); then
    grep -m1 -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|deadly signal' \
      "$dir/fuzz-$k.log" || true
    echo "fuzz: $k FAILED (exit $rc); log $dir/fuzz-$k.log"
    for f in "${new[@]}"; do
      echo "  reproducer: $f"
      echo "  rerun:      $dir/test/fuzz/fuzz_$k $f"
      found+=("$f")
    done
    ((${#new[@]})) || found+=("$k")
  else
    echo "fuzz: $k clean; corpus now $(ls "$corpus" | wc -l) inputs"
  fi
done
((${#found[@]} == 0))
