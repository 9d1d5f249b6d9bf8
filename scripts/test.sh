#!/usr/bin/env bash
# The README's second command, and what CI runs: set up, then build and run
# every test tier.
#   build/       g++, warnings as errors: unit and lit tiers
#   build-asan/  clang with AddressSanitizer and UndefinedBehaviorSanitizer:
#                unit and lit tiers again
#   kernel/      kernel/run-tests: builds (or reuses, from a cache keyed by
#                its sources) a User-Mode Linux 6.1 kernel with the ipevm LSM,
#                boots it, runs the KUnit suites and the end-to-end cases
#   build-fuzz/  clang, libFuzzer with ASan+UBSan: a 20-second smoke run of
#                each fuzzer over its seed corpus (ctest -L fuzz); only the
#                fuzzers are built there. scripts/fuzz.sh runs them longer.
# Ends with one line "N passed, M failed" over all tiers; exits non-zero if
# anything failed or could not run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh --kernel

total_pass=0
total_fail=0
failed_tiers=()

# run_ctest NAME DIR [CTEST_ARGS...]: runs ctest in DIR and adds its counts.
run_ctest() {
  local name=$1 dir=$2 log
  shift 2
  log="$dir/ctest.log"
  echo "== $name: ctest in $dir"
  local rc=0
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@") > "$log" 2>&1 || rc=$?
  grep -E '^[0-9]+% tests passed' "$log" || true
  local line n f
  line=$(grep -E 'tests failed out of [0-9]+' "$log" | tail -1 || true)
  if [[ -z "$line" ]]; then
    cat "$log"
    echo "$name: ctest produced no summary (rc=$rc)"
    total_fail=$((total_fail + 1)); failed_tiers+=("$name"); return
  fi
  n=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  total_pass=$((total_pass + n - f)); total_fail=$((total_fail + f))
  if [[ $rc -ne 0 || $f -ne 0 ]]; then
    sed -n '/The following tests FAILED/,$p' "$log"
    grep -B2 -A40 -E '\*\*\*Failed|FAIL:' "$log" | head -200 || true
    failed_tiers+=("$name")
  fi
}

# build_tree NAME DIR ARGS...: a build failure counts as a failed tier.
build_tree() {
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir"
  echo "== $name: building $dir"
  if ! scripts/build.sh "$dir" "$@" > "$dir/build.log" 2>&1; then
    tail -60 "$dir/build.log"
    echo "$name: build failed"
    total_fail=$((total_fail + 1)); failed_tiers+=("$name build")
    return 1
  fi
}

if build_tree gcc build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++; then
  run_ctest "gcc" build
fi
if build_tree asan build-asan -DCMAKE_BUILD_TYPE=Debug -DIPEC_SANITIZE=ON \
     -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest "clang+asan+ubsan" build-asan
fi

# The fuzz tree builds only the fuzzers (instrumenting the rest would only
# cost time); its ctest runs only the fuzz label.
fuzz_dir=build-fuzz
mkdir -p "$fuzz_dir"
echo "== fuzz: building $fuzz_dir"
if cmake -S "$root" -B "$fuzz_dir" -G Ninja -DIPEC_FUZZ=ON \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
     > "$fuzz_dir/configure.log" 2>&1 &&
   ninja -C "$fuzz_dir" -j "$(nproc)" ipec-fuzzers > "$fuzz_dir/build.log" 2>&1; then
  run_ctest "fuzz smoke" "$fuzz_dir" -L fuzz
else
  tail -60 "$fuzz_dir/configure.log" "$fuzz_dir/build.log" 2>/dev/null || true
  echo "fuzz: build failed"
  total_fail=$((total_fail + 1)); failed_tiers+=("fuzz build")
fi

# The kernel tier prints "N passed, M failed" itself.
echo "== kernel: kernel/run-tests"
klog=build/kernel-tests.log
krc=0
kernel/run-tests > "$klog" 2>&1 || krc=$?
kline=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$klog" | tail -1 || true)
if [[ -z "$kline" ]]; then
  tail -80 "$klog"
  echo "kernel: run-tests produced no summary (rc=$krc)"
  total_fail=$((total_fail + 1)); failed_tiers+=("kernel")
else
  echo "$kline"
  kp=${kline%% passed*}; kf=${kline#*, }; kf=${kf%% failed}
  total_pass=$((total_pass + kp)); total_fail=$((total_fail + kf))
  if [[ $krc -ne 0 || $kf -ne 0 ]]; then
    grep -E '^FAIL' "$klog" || true
    tail -40 "$klog"
    failed_tiers+=("kernel")
  fi
fi

echo
if ((${#failed_tiers[@]})); then
  echo "FAILED: ${failed_tiers[*]}"
fi
echo "tests: $total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 && ${#failed_tiers[@]} -eq 0 ]]
