#!/usr/bin/env bash
# Installs the Debian packages ipec needs. Idempotent: packages already
# present are not fetched again, and apt is only updated when something is
# missing. Usage: scripts/install-deps.sh [--kernel]
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build git python3
  clang lld
  antlr4 libantlr4-runtime-dev
  llvm-14-dev llvm-14-tools
  libssl-dev openssl
  googletest libgtest-dev libgmock-dev
  libbenchmark-dev
  zlib1g-dev libzstd-dev libtinfo-dev libxml2-dev libedit-dev libffi-dev
)
if [[ "${1:-}" == "--kernel" ]]; then
  pkgs+=(linux-source-6.1 busybox-static bc bison flex libelf-dev
         e2fsprogs fsverity cryptsetup-bin xz-utils kmod patch file)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
