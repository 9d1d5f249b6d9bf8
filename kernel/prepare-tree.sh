#!/usr/bin/env bash
# Puts ipevm into a Linux 6.1 source tree: applies kernel/patches/ and
# copies the LSM (kernel/security/ipevm/) and the verifier and interpreter
# (kvm-interp/*.c *.h) to security/ipevm/. kernel/build-uml.sh uses it for
# the UML test kernel; docs/kernel.md uses it for a device's kernel.
#
# Usage: kernel/prepare-tree.sh [--patches] [--sources] [--from DIR] LINUX_TREE
#
#   --patches   only apply the patches (a patch already applied is skipped)
#   --sources   only (re)place security/ipevm/ (it is removed first)
#   --from DIR  take kernel/ and kvm-interp/ from DIR, a copy of this
#               repository, instead of the checkout holding this script
#
# Without --patches or --sources it does both. Configure the kernel
# afterwards (docs/kernel.md lists the options).
set -euo pipefail

prog=prepare-tree
from=$(cd "$(dirname "$0")/.." && pwd)
do_patches=0
do_sources=0
tree=""

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

while (($#)); do
	case $1 in
	--patches) do_patches=1; shift ;;
	--sources) do_sources=1; shift ;;
	--from) [[ $# -ge 2 ]] || die "--from needs a directory"; from=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) [[ -z $tree ]] || die "more than one tree given"; tree=$1; shift ;;
	esac
done
[[ -n $tree ]] || die "no Linux tree given (see --help)"
((do_patches || do_sources)) || { do_patches=1; do_sources=1; }

[[ -f $tree/Makefile && -d $tree/security && -f $tree/security/Kconfig ]] ||
	die "$tree is not a Linux source tree"
version=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p' "$tree/Makefile" | paste -sd.)
[[ $version == 6.1 ]] || die "$tree is Linux $version; the patches are for 6.1"
lsm=$from/kernel/security/ipevm
[[ -d $lsm ]] || die "$lsm not found"
shopt -s nullglob
patches=("$from"/kernel/patches/*.patch)
interp=("$from"/kvm-interp/*.c "$from"/kvm-interp/*.h)
shopt -u nullglob

if ((do_patches)); then
	for p in ${patches[@]+"${patches[@]}"}; do
		name=${p#"$from"/}
		if patch -d "$tree" -p1 -R -s -f --dry-run <"$p" >/dev/null 2>&1; then
			echo "$prog: $name: already applied"
			continue
		fi
		echo "$prog: applying $name"
		patch -d "$tree" -p1 -F0 -N -s --no-backup-if-mismatch <"$p" ||
			die "$name does not apply to $tree"
	done
fi

if ((do_sources)); then
	((${#interp[@]})) || die "no kvm-interp/*.c *.h in $from"
	rm -rf "$tree/security/ipevm"
	cp -r "$lsm" "$tree/security/ipevm"
	for f in "${interp[@]}"; do
		base=${f##*/}
		[[ ! -e $tree/security/ipevm/$base ]] ||
			die "kvm-interp/$base would overwrite kernel/security/ipevm/$base; rename one"
		cp "$f" "$tree/security/ipevm/$base"
	done
	echo "$prog: security/ipevm/ holds the LSM and ${#interp[@]} kvm-interp files"
fi
