#!/usr/bin/env bash
# Builds build-perf (Release) and runs the benchmarks: the cost of one
# decision (compiled bytecode vs. the linear reference evaluator, which is
# upstream IPE's algorithm), compile time and memory, and artifact bytes per
# rule; then prints one table against the targets. docs/PERFORMANCE.md
# explains the numbers. Nothing here is a test: results are printed, not
# asserted, and the exit status only says whether the benchmarks ran.
#
# Usage: scripts/bench.sh
# Environment:
#   BENCH_MIN_TIME=0.2   seconds per decision benchmark (Google Benchmark)
#   BENCH_REPS=1         repetitions; with more, the table shows the median
#   BENCH_CALLGRIND=1    also count instructions per decision with callgrind
#                        (noise-free; needs valgrind; 0 to skip)
#   BENCH_FILTER=        a --benchmark_filter regex for bench_decide
#   BENCH_KERNEL=0       1: also run kernel/bench-overhead (exec and mmap
#                        overhead of the ipevm LSM in UML: several minutes,
#                        and a UML kernel build the first time)
#
# Raw results go to build-perf/bench-results/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

dir=build-perf
out=$dir/bench-results
min_time=${BENCH_MIN_TIME:-0.2}
reps=${BENCH_REPS:-1}
callgrind=${BENCH_CALLGRIND:-1}
filter=${BENCH_FILTER:-}
if ! command -v valgrind >/dev/null; then callgrind=0; fi

mkdir -p "$dir"
echo "== bench: building $dir (Release)"
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  > "$dir/configure.log" 2>&1 || {
  cat "$dir/configure.log" >&2; echo "bench: configuring $dir failed" >&2; exit 1; }
ninja -C "$dir" ipec bench_decide bench_compile test-keys > "$dir/build.log" 2>&1 || {
  tail -40 "$dir/build.log" >&2; echo "bench: build failed" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +dirty)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

echo "== bench: decision cost (bench_decide, ${min_time}s per benchmark, $reps repetition(s))"
args=(--benchmark_min_time="$min_time" --benchmark_out="$out/decide.json"
      --benchmark_out_format=json)
if ((reps > 1)); then
  args+=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true)
fi
[[ -n "$filter" ]] && args+=(--benchmark_filter="$filter")
"$dir/bench/bench_decide" "${args[@]}" 2>&1 | tee "$out/decide.txt" | sed -n '/^policy\/events/,$p'

echo "== bench: compile (in-process phases, and the ipec binary under /usr/bin/time)"
for n in 10000 100000; do
  "$dir/bench/bench_compile" "$n" > "$out/compile-$n.txt" 2>&1 || true
  ipl=$out/digests-$n.ipl
  "$dir/bench/bench_compile" "$n" --write-ipl "$ipl"
  for mode in unsigned stripped; do
    flags=(--unsigned)
    [[ $mode == stripped ]] && flags+=(--strip-source-map)
    rc=0
    /usr/bin/time -f 'wall_s=%e\nuser_s=%U\nsys_s=%S\nmax_rss_kb=%M' -o "$out/ipec-$n-$mode.time" \
      "$dir/tools/ipec/ipec" "$ipl" "${flags[@]}" -o "$out/digests-$n-$mode.ipeb" \
      > "$out/ipec-$n-$mode.log" 2>&1 || rc=$?
    {
      echo "rc=$rc"
      if [[ -f "$out/digests-$n-$mode.ipeb" ]]; then
        echo "bytes=$(stat -c %s "$out/digests-$n-$mode.ipeb")"
      fi
      grep -m1 'error' "$out/ipec-$n-$mode.log" | sed 's/^/error=/' || true
    } >> "$out/ipec-$n-$mode.time"
  done
  rm -f "$ipl"
done
# Signed artifacts: the kernel loads at most MaxSignedArtifactSize (65535)
# bytes. Sign a small stripped policy to learn the signature's overhead; the
# table derives how many digest rules fit.
n=100
ipl=$out/digests-$n.ipl
"$dir/bench/bench_compile" "$n" --write-ipl "$ipl"
rc=0
"$dir/tools/ipec/ipec" "$ipl" --strip-source-map --key "$dir/test-keys/dev-key.pem" \
  --cert "$dir/test-keys/dev-cert.pem" -o "$out/digests-$n-signed.ipeb" \
  > "$out/signed-$n.log" 2>&1 || rc=$?
"$dir/tools/ipec/ipec" "$ipl" --strip-source-map --unsigned \
  -o "$out/digests-$n-stripped.ipeb" >> "$out/signed-$n.log" 2>&1 || true
{
  echo "rc=$rc"
  [[ -f "$out/digests-$n-signed.ipeb" ]] && echo "signed_bytes=$(stat -c %s "$out/digests-$n-signed.ipeb")"
  [[ -f "$out/digests-$n-stripped.ipeb" ]] && echo "unsigned_bytes=$(stat -c %s "$out/digests-$n-stripped.ipeb")"
  grep -m1 'error' "$out/signed-$n.log" | sed 's/^/error=/' || true
} > "$out/signed-$n.txt"
rm -f "$ipl" "$out"/*.ipeb

if [[ $callgrind == 1 ]]; then
  echo "== bench: instructions per decision (callgrind; up to 10,000 rules)"
  for name in digests/{10,1000,10000}/{hit,miss}/{bytecode,linear} \
              mixed/1000/mix/{bytecode,linear}; do
    count=2000
    [[ $name == */linear && $name != digests/10/* ]] && count=200
    f=$out/callgrind.$(tr / _ <<<"$name")
    if valgrind --tool=callgrind --callgrind-out-file="$f" \
         --toggle-collect='*runDecisions*' \
         "$dir/bench/bench_decide" --instructions "$name" "$count" \
         > "$f.log" 2>&1; then
      ir=$(grep -E '^(summary|totals):' "$f" | tail -1 | awk '{print $2}')
      echo "$name $((ir / count))" >> "$out/callgrind.txt"
    fi
  done
fi

python3 - "$out" <<'EOF'
import json, math, os, re, sys

out = sys.argv[1]

def kv(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d.setdefault(k, v)
    return d

machine = kv(os.path.join(out, "machine.txt"))
runs = {}
data = json.load(open(os.path.join(out, "decide.json")))
for b in data["benchmarks"]:
    name = b.get("run_name", b["name"])
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    runs[name] = b
ir = {}
if os.path.exists(os.path.join(out, "callgrind.txt")):
    for line in open(os.path.join(out, "callgrind.txt")):
        n, v = line.split()
        ir[n] = int(v)

def ns(name):
    b = runs.get(name)
    if not b or b.get("error_occurred"):
        return None
    return b["cpu_time"]

def err(name):
    b = runs.get(name)
    return b.get("error_message") if b and b.get("error_occurred") else None

def f(v, fmt="%.1f", none="-"):
    return none if v is None else fmt % v

print()
print("ipec performance: %s, %s, %s cores, load %s, %s" % (
    machine.get("date"), machine.get("cpu"), machine.get("cores"),
    machine.get("load"), machine.get("commit")))
print()
print("Decision cost (CPU ns per decision; Ir = instructions, callgrind)")
print("%-16s %-5s %10s %7s %7s %13s %9s %10s %10s" % (
    "policy", "event", "bytecode", "steps", "Ir", "linear", "rules",
    "linear Ir", "speedup"))
rows = []
for pol in ["digests/10", "digests/1000", "digests/10000", "digests/100000",
            "mixed/1000", "mixed/10000"]:
    for ev in (["hit", "miss"] if pol.startswith("digests") else ["mix"]):
        base = "%s/%s" % (pol, ev)
        b, l = ns(base + "/bytecode"), ns(base + "/linear")
        if base + "/bytecode" not in runs and base + "/linear" not in runs:
            continue
        steps = runs.get(base + "/bytecode", {}).get("steps")
        rules = runs.get(base + "/linear", {}).get("rules")
        sp = l / b if b and l else None
        rows.append((pol, ev, b, steps, l, sp))
        print("%-16s %-5s %10s %7s %7s %13s %9s %10s %10s" % (
            pol, ev, f(b) if not err(base + "/bytecode") else "n/a",
            f(steps), f(ir.get(base + "/bytecode"), "%d"), f(l), f(rules, "%.0f"),
            f(ir.get(base + "/linear"), "%d"), f(sp, "%.0fx")))
        if err(base + "/bytecode"):
            print("    bytecode: %s" % err(base + "/bytecode"))

# Growth of the bytecode's cost with the number of digest rules, against
# log2(N): logarithmic growth keeps cost(N)/cost(10) <= log2(N)/log2(10).
print()
print("Growth of the bytecode decision cost with digest rules (relative to 10 rules)")
print("%-8s %-5s %9s %9s %9s   %s" % ("rules", "event", "ns", "steps", "Ir", "log2(N)/log2(10)"))
growth_ok = True
growth_seen = False
for ev in ["hit", "miss"]:
    base = "digests/10/%s/bytecode" % ev
    b0, s0, i0 = ns(base), runs.get(base, {}).get("steps"), ir.get(base)
    for n in [1000, 10000, 100000]:
        name = "digests/%d/%s/bytecode" % (n, ev)
        b, s, i = ns(name), runs.get(name, {}).get("steps"), ir.get(name)
        if b is None or not b0:
            continue
        growth_seen = True
        lg = math.log2(n) / math.log2(10)
        gs = s / s0 if s and s0 else None
        gi = i / i0 if i and i0 else None
        # Steps are exact; time gets 50% slack for noise and cache effects.
        if (gs is not None and gs > lg) or b / b0 > 1.5 * lg:
            growth_ok = False
        print("%-8d %-5s %9s %9s %9s   %.2fx" % (
            n, ev, "%.2fx" % (b / b0), f(gs, "%.2fx"), f(gi, "%.2fx"), lg))

print()
print("Compile (digest rules from IPL text; ipec: CPU s (wall s) and peak RSS of the")
print("binary; parse and codegen: CPU s in-process)")
print("%-8s %15s %8s %9s %10s %11s %9s" % (
    "rules", "ipec s", "ipec MB", "parse s", "codegen s", "bytes/rule",
    "stripped"))
def cpu(t):
    if "user_s" not in t:
        return None
    return float(t["user_s"]) + float(t["sys_s"])

comp = {}
for n in [10000, 100000]:
    c = kv(os.path.join(out, "compile-%d.txt" % n))
    t = kv(os.path.join(out, "ipec-%d-unsigned.time" % n))
    s = kv(os.path.join(out, "ipec-%d-stripped.time" % n))
    comp[n] = (c, t, s)
    bpr = "%.1f" % (int(t["bytes"]) / n) if "bytes" in t else "-"
    sbpr = "%.1f" % (int(s["bytes"]) / n) if "bytes" in s else "-"
    print("%-8d %15s %8.0f %9s %10s %11s %9s" % (
        n, "%s (%s)" % (f(cpu(t), "%.2f"), t.get("wall_s", "-")),
        int(t.get("max_rss_kb", 0)) / 1024,
        c.get("parse_s", "-"), c.get("codegen_s", "-"), bpr, sbpr))
    for k, v in [("ipec", t.get("error")), ("codegen", c.get("codegen_error"))]:
        if v:
            print("    %s: %s" % (k, v))
sg = kv(os.path.join(out, "signed-100.txt"))
s10k = comp[10000][2]
if "signed_bytes" in sg and "bytes" in s10k:
    signed, unsigned = int(sg["signed_bytes"]), int(sg["unsigned_bytes"])
    per = int(s10k["bytes"]) / 10000
    fit = 100 + int((65535 - signed) / per)
    print("signed (stripped): 100 rules = %d bytes, of which %d signature; "
          "at %.1f bytes/rule the kernel's 65,535-byte limit on an attached "
          "signature holds about %d digest rules; larger policies are signed "
          "as an envelope (bytecode + detached signature)"
          % (signed, signed - unsigned, per, fit))
elif sg.get("error"):
    print("signed, 100 rules: %s" % sg["error"])
print()
print("Targets")
def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")
sp10k = [r[5] for r in rows if r[0] == "digests/10000" and r[5]]
ok = min(sp10k) >= 100 if sp10k else None
print("  [%s] 10,000 digest rules: a decision >= 100x faster than linear: %s" % (
    verdict(ok), ", ".join("%.0fx" % v for v in sp10k) or "no data"))
print("  [%s] decision cost grows no faster than log(rules): see growth table" % (
    verdict(growth_ok if growth_seen else None)))
bpr = int(s10k["bytes"]) / 10000 if "bytes" in s10k else None
print("  [%s] <= 40 bytes per 32-byte digest rule (10,000 rules, --strip-source-map): %s" % (
    verdict(None if bpr is None else bpr <= 40), f(bpr)))
t100 = comp[100000][1]
ok = None
if cpu(t100) is not None:
    ok = (t100.get("rc") == "0" and cpu(t100) < 2 and
          int(t100["max_rss_kb"]) / 1024 < 300)
print("  [%s] 100,000 rules compile in < 2 s and < 300 MB: %s s CPU (%s s wall), %.0f MB%s" % (
    verdict(ok), f(cpu(t100), "%.2f"), t100.get("wall_s", "-"),
    int(t100.get("max_rss_kb", 0)) / 1024,
    "" if t100.get("rc") == "0" else " (failed: %s)" % t100.get("error", "")))
print()
print("Raw results: %s/" % out)
EOF

if [[ ${BENCH_KERNEL:-0} == 1 ]]; then
  echo
  echo "== bench: kernel overhead (kernel/bench-overhead)"
  "$root/kernel/bench-overhead" | tee "$out/kernel-overhead.txt"
else
  echo "(kernel exec/mmap overhead: BENCH_KERNEL=1 scripts/bench.sh, or kernel/bench-overhead)"
fi
