#!/usr/bin/env bash
# Regenerates the seed corpora in test/fuzz/corpus/ (checked in; a few KB):
#
#   corpus/frontend/  the example and lit .ipl files, the lit upstream IPE
#                     .pol files, and two policies written here (every
#                     property and operator; a run of digest rules)
#   corpus/verifier/  artifacts ipec compiles from those that compile, with and
#                     without a source map; artifacts fuzz_seedgen builds for
#                     format features codegen does not emit (valued tables);
#                     and a few deterministic mutations of each (truncated,
#                     bit flips), so the fuzzer starts next to the
#                     interesting rejections
#
# Usage: test/fuzz/make-corpus.sh [BUILD_DIR]   (default: build-fuzz)
# BUILD_DIR is a tree configured with -DIPEC_FUZZ=ON (made here if missing);
# its ipec and fuzz_seedgen are built if needed. Rerun after a change to the
# format or to codegen, and commit the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${1:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -G Ninja -DIPEC_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ > "$build/configure.log"
fi
ninja -C "$build" ipec fuzz_seedgen >/dev/null
ipec=$build/tools/ipec/ipec

fe=test/fuzz/corpus/frontend
vf=test/fuzz/corpus/verifier
rm -rf "$fe" "$vf"
mkdir -p "$fe" "$vf"

# Front-end seeds: every IPL (.ipl) and upstream IPE (.pol) policy in the
# tree, named after its path.
while IFS= read -r f; do
  cp "$f" "$fe/$(tr / _ <<<"$f")"
done < <(find examples test/lit \( -name '*.ipl' -o -name '*.pol' \) | sort)

cat > "$fe/every-feature.ipl" <<'EOF'
policy "every-feature" version 65535.0.1;
default deny;
default kexec_image, kexec_initramfs audit deny;
default x509_cert allow;
deny mmap_exec, mprotect_exec if not file or writable == true;
audit deny exec_any if fsverity.digest == sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff;
allow firmware if dmverity.roothash == sha512:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff;
allow kmodule if (boot_verified and not writable) or dmverity.signature != false;
audit allow execute if fsverity.signature and (fsverity.digest == sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 or fsverity.digest != sha1:0123456789abcdef0123456789abcdef01234567);
allow mmap_exec if true;
deny execute if false;
EOF

{
  echo 'policy "digests" version 1.0.0;'
  echo 'default deny;'
  for i in $(seq 1 12); do
    printf 'allow exec_any if fsverity.digest == sha256:%064x;\n' $((i * 2654435761))
  done
  echo 'allow kmodule if boot_verified;'
  for i in $(seq 13 16); do
    printf 'audit deny execute if dmverity.roothash == sha256:%064x;\n' $((i * 40503))
  done
} > "$fe/digest-run.ipl"

# Verifier seeds: what ipec makes of every seed that compiles, without a
# source map; with one too for a few.
n=0
for f in "$fe"/*; do
  base=$(basename "$f"); base=${base%.*}
  if "$ipec" "$f" --unsigned --strip-source-map -o "$vf/$base-stripped.ipeb" 2>/dev/null; then
    n=$((n + 1))
    case $base in
      examples_fw|every-feature|test_lit_ipe_Inputs_fw)
        "$ipec" "$f" --unsigned -o "$vf/$base.ipeb" ;;
    esac
  fi
done
if ((n == 0)); then
  echo "make-corpus: no seed compiled" >&2
  exit 1
fi

# Valid artifacts with format features codegen does not emit (valued tables).
"$build/test/fuzz/fuzz_seedgen" "$vf"

# A few deterministic mutations of the stripped artifacts.
python3 - "$vf" <<'EOF'
import os, random, sys
d = sys.argv[1]
rng = random.Random(20261123)
# Only a few artifacts, to keep the corpus small: each kind of feature once.
stems = ["examples_fw", "digest-run", "every-feature", "seedgen-valued"]
for name in sorted(os.listdir(d)):
    if name not in [s + "-stripped.ipeb" for s in stems]:
        continue
    data = open(os.path.join(d, name), "rb").read()
    stem = name[:-len("-stripped.ipeb")]
    muts = {"truncated": data[: len(data) // 2]}
    for i in range(3):
        b = bytearray(data)
        # One bit in the header and section table, one anywhere else.
        pos = rng.randrange(0, min(len(b), 120)) if i == 0 else rng.randrange(len(b))
        b[pos] ^= 1 << rng.randrange(8)
        muts["flip%d" % i] = bytes(b)
    for k, v in muts.items():
        open(os.path.join(d, "%s-%s.mut" % (stem, k)), "wb").write(v)
EOF

echo "make-corpus: $(ls "$fe" | wc -l) front-end seeds, $(ls "$vf" | wc -l) verifier seeds, $(du -sk test/fuzz/corpus | cut -f1) KiB"
