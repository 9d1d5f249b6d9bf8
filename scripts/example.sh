#!/usr/bin/env bash
# The README's first command: set up, build, and run ipec on the bundled
# example. Compiles examples/fw.ipl, signs it with a development key pair
# (made on first use in .dev-keys/, which git ignores), verifies the
# signature with ipec and with openssl, disassembles it and decides a few
# sample events.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
mkdir -p build
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo > build/example-build.log 2>&1 || {
  cat build/example-build.log >&2; exit 1; }
ipec=build/tools/ipec/ipec

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

scripts/dev-keys.sh .dev-keys
step "$ipec" examples/fw.ipl -o build/fw.ipeb --key .dev-keys/dev-key.pem --cert .dev-keys/dev-cert.pem
step "$ipec" verify --cert .dev-keys/dev-cert.pem build/fw.ipeb
step openssl cms -verify -binary -inform DER -in build/fw.ipeb \
  -CAfile .dev-keys/dev-cert.pem -purpose any -out /dev/null
step "$ipec" dump build/fw.ipeb

echo
echo "Sample decisions:"
decide() {
  printf '  %-72s -> ' "$*"
  "$ipec" eval build/fw.ipeb "$@"
}
decide --op execute --prop boot_verified=true
decide --op execute
decide --op mmap_exec --prop dmverity_roothash=sha256:4a1f0b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8
decide --op execute --prop boot_verified=true --prop fsverity_digest=sha256:7f9c1a8d2b3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdde
decide --op mprotect_exec --prop file=false
decide --op kexec_image --prop file=false
