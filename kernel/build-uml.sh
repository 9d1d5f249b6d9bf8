#!/usr/bin/env bash
# Builds the User-Mode Linux kernel that the ipevm tests boot.
#
# Usage: kernel/build-uml.sh [-j JOBS] [--print-key] [--force]
#
# Inputs (all hashed into the cache key):
#   the kernel tarball      $IPEC_KERNEL_TARBALL (Debian's linux-source-6.1)
#   kernel/patches/*.patch  applied in order with patch -p1
#   kernel/security/ipevm/  copied to security/ipevm/
#   kvm-interp/*.c *.h      copied to security/ipevm/ at build time (never
#                           committed twice), by kernel/prepare-tree.sh
#   kernel/tests/policies/boot.ipl
#                           the boot policy (CONFIG_SECURITY_IPEVM_BOOT_POLICY),
#                           and the bytes ipec compiles from it
#   kernel/config/uml.config merged over `make ARCH=um defconfig`
#   the signing certificate CONFIG_SYSTEM_TRUSTED_KEYS, made by
#                           scripts/dev-keys.sh in $IPEC_KERNEL_KEYS
#   this script, kernel/prepare-tree.sh and the compiler version
#
# The kernel build runs ipec ($IPEC, default build/tools/ipec/ipec of this
# checkout, which must exist) to compile the boot policy.
#
# The tree is built in $IPEC_KERNEL_CACHE/<key>/ (default
# ~/.cache/ipec-kernel). A tree is complete once it holds .ipec-complete;
# an incomplete one (an interrupted build) is removed and rebuilt. When only
# the ipevm or kvm-interp sources changed, a complete tree with the same
# tarball, patches, config and certificate is copied and rebuilt
# incrementally instead of from scratch. The newest few trees are kept.
#
# The last line of standard output is the path of the linux binary.
set -euo pipefail

prog=build-uml
root=$(cd "$(dirname "$0")/.." && pwd)
self=$root/kernel/$(basename "$0")
cache=${IPEC_KERNEL_CACHE:-$HOME/.cache/ipec-kernel}
tarball=${IPEC_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
keys=${IPEC_KERNEL_KEYS:-$cache/keys}
jobs=$(nproc 2>/dev/null || echo 2)
keep=${IPEC_KERNEL_KEEP:-3}
ipec=${IPEC:-$root/build/tools/ipec/ipec}
print_key=0
force=0

die() {
	echo "$prog: error: $*" >&2
	exit 1
}
log() {
	echo "$prog: $*" >&2
}

while (($#)); do
	case $1 in
	-j) [[ $# -ge 2 ]] || die "-j needs a number"; jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	--print-key) print_key=1; shift ;;
	--force) force=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

for tool in make gcc tar xz patch flex bison bc openssl sha256sum perl; do
	command -v "$tool" >/dev/null ||
		die "'$tool' not found; install the Debian build dependencies (see kernel/NOTES.md)"
done
[[ -r $tarball ]] || die "kernel tarball $tarball not found (apt-get install linux-source-6.1)"
[[ -d $root/kernel/security/ipevm ]] || die "$root/kernel/security/ipevm missing"
fragment=$root/kernel/config/uml.config
[[ -r $fragment ]] || die "$fragment missing"
[[ -x $ipec ]] || die "ipec not found at $ipec (build it: scripts/build.sh build, or set IPEC)"
ipec=$(cd "$(dirname "$ipec")" && pwd)/$(basename "$ipec")
boot_policy=$root/kernel/tests/policies/boot.ipl
[[ -r $boot_policy ]] || die "$boot_policy missing"

mkdir -p "$cache"
# One build at a time per cache; a second caller waits, then reuses.
exec 9>"$cache/.lock"
flock 9

# The development signing key: its certificate is compiled into
# .builtin_trusted_keys, and kernel/run-tests signs test policies with it.
"$root/scripts/dev-keys.sh" "$keys" >&2 || die "scripts/dev-keys.sh $keys failed"
cert=$keys/dev-cert.pem
[[ -r $cert ]] || die "$cert was not created"

# --- A snapshot of the inputs -------------------------------------------------

# Other people edit kvm-interp/ (and maybe more) while a build runs: hash
# and build one consistent copy, so a cached tree always matches its key.
# We hold the lock: a leftover snapshot is from a killed run.
rm -rf "$cache"/.stage.*
stage=$(mktemp -d "$cache/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/kernel/security" "$stage/kernel/config" "$stage/kernel/patches" \
	"$stage/kernel/tests/policies" "$stage/kvm-interp"
shopt -s nullglob
snap_patches=("$root"/kernel/patches/*.patch)
snap_interp=("$root"/kvm-interp/*.c "$root"/kvm-interp/*.h)
shopt -u nullglob
{
	cp -r "$root/kernel/security/ipevm" "$stage/kernel/security/ipevm" &&
		cp "$fragment" "$stage/kernel/config/uml.config" &&
		cp "$self" "$stage/kernel/build-uml.sh" &&
		cp "$root/kernel/prepare-tree.sh" "$stage/kernel/prepare-tree.sh" &&
		cp "$boot_policy" "$stage/kernel/tests/policies/boot.ipl" &&
		cp ${snap_interp[@]+"${snap_interp[@]}"} "$stage/kvm-interp/" &&
		if ((${#snap_patches[@]})); then
			cp "${snap_patches[@]}" "$stage/kernel/patches/"
		fi
} || die "snapshotting the sources into $stage failed"
src=$stage
fragment=$src/kernel/config/uml.config
boot_policy=$src/kernel/tests/policies/boot.ipl
# What the kernel build will embed: ipec's output decides the key, so a
# change of the policy or of what ipec makes of it builds a new tree. The
# source map holds the path ipec was given, so compile it under the name
# the kernel build uses: ./ipevm-boot-policy.ipl at the top of the tree.
cp "$boot_policy" "$stage/ipevm-boot-policy.ipl"
(cd "$stage" && "$ipec" ./ipevm-boot-policy.ipl --unsigned -o boot-policy.ipeb) ||
	die "ipec rejects the boot policy kernel/tests/policies/boot.ipl"

# --- The cache key ----------------------------------------------------------

# The tarball's identity: its hash, remembered per (path, size, mtime) so
# the 130 MB are read once.
tar_stat=$(stat -c '%n %s %Y' -- "$tarball")
tar_sum_file=$cache/.tarball-sha256
if [[ -r $tar_sum_file && $(head -n1 "$tar_sum_file") == "$tar_stat" ]]; then
	tar_sum=$(sed -n 2p "$tar_sum_file")
else
	tar_sum=$(sha256sum <"$tarball" | cut -d' ' -f1)
	printf '%s\n%s\n' "$tar_stat" "$tar_sum" >"$tar_sum_file"
fi

# Files hashed by content and by name relative to the repository.
hash_files() {
	local f
	for f in "$@"; do
		printf '%s %s\n' "${f#"$src"/}" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done
}

shopt -s nullglob
patches=("$src"/kernel/patches/*.patch)
interp=("$src"/kvm-interp/*.c "$src"/kvm-interp/*.h)
shopt -u nullglob
mapfile -t lsm_files < <(find "$src/kernel/security/ipevm" -type f | LC_ALL=C sort)
((${#interp[@]})) || die "no kvm-interp/*.c *.h found"
((${#lsm_files[@]})) || die "kernel/security/ipevm is empty"

# The base: everything but the LSM and interpreter sources. Two trees with
# the same base differ only in security/ipevm/, so one can seed the other.
base_manifest=$(
	echo "tarball $tar_sum"
	echo "cc $(gcc --version | head -n1)"
	echo "cert $(openssl x509 -in "$cert" -outform DER | sha256sum | cut -d' ' -f1)"
	hash_files "$src/kernel/build-uml.sh" "$src/kernel/prepare-tree.sh" "$fragment" \
		${patches[@]+"${patches[@]}"}
)
base_key=$(sha256sum <<<"$base_manifest" | cut -c1-16)
key=$(
	{
		echo "$base_manifest"
		hash_files "${lsm_files[@]}" "${interp[@]}" "$boot_policy" "$stage/boot-policy.ipeb"
	} | sha256sum | cut -c1-16
)
if ((print_key)); then
	echo "$key"
	exit 0
fi

tree=$cache/$key
linux=$tree/linux

if ((!force)) && [[ -e $tree/.ipec-complete && -x $linux ]]; then
	echo "reusing cached kernel $key"
	touch "$tree/.ipec-complete"
	echo "$linux"
	exit 0
fi

# --- Helpers for a fresh tree ------------------------------------------------

run_logged() {
	local what=$1
	shift
	if ! "$@" >>"$tree/build.log" 2>&1; then
		tail -n 40 "$tree/build.log" >&2
		die "$what failed (full log: $tree/build.log)"
	fi
}

# security/ipevm/ (LSM + kvm-interp) and the boot policy at the top.
copy_lsm_sources() {
	run_logged "kernel/prepare-tree.sh --sources" \
		"$src/kernel/prepare-tree.sh" --from "$src" --sources "$tree"
	cp "$boot_policy" "$tree/ipevm-boot-policy.ipl"
}

apply_patches() {
	log "applying kernel/patches"
	run_logged "kernel/prepare-tree.sh --patches" \
		"$src/kernel/prepare-tree.sh" --from "$src" --patches "$tree"
}

# Every option the fragments ask for must survive olddefconfig: a silently
# dropped option (a missing dependency) fails here, not in a test later.
check_config() {
	local line opt want got
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) opt=${line%%=*}; want=$line ;;
		"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; want="" ;;
		*) continue ;;
		esac
		got=$(grep -E "^($opt=|# $opt is not set)" "$tree/.config" || true)
		[[ $got == "# $opt is not set" ]] && got=""
		[[ $got == "$want" ]] ||
			die "config: wanted '${want:-# $opt is not set}', got '${got:-unset}' (missing dependency?)"
	done <"$@"
}

configure() {
	local extra=$tree/.ipec-keys.config
	printf 'CONFIG_SYSTEM_TRUSTED_KEYS="%s"\n' "$cert" >"$extra"
	run_logged "make defconfig" make -C "$tree" ARCH=um defconfig
	run_logged "merge_config.sh" \
		env -C "$tree" ARCH=um ./scripts/kconfig/merge_config.sh -m \
		.config "$fragment" "$extra"
	run_logged "make olddefconfig" make -C "$tree" ARCH=um olddefconfig
	check_config "$fragment"
	check_config "$extra"
}

# Keep the newest $keep complete trees, and never the one being built.
prune() {
	local d n=0
	while IFS= read -r d; do
		d=${d%/.ipec-complete}
		[[ $d == "$tree" ]] && continue
		n=$((n + 1))
		if ((n >= keep)); then
			log "pruning old kernel tree $d"
			rm -rf "$d"
		fi
	done < <(ls -1t "$cache"/*/.ipec-complete 2>/dev/null || true)
	# Trees without a marker are interrupted builds.
	for d in "$cache"/*/; do
		d=${d%/}
		[[ $d == "$tree" || $d == "$keys" || -e $d/.ipec-complete ]] && continue
		[[ ${d##*/} =~ ^[0-9a-f]{16}$ ]] || continue
		log "removing incomplete kernel tree $d"
		rm -rf "$d"
	done
}

# --- Build -------------------------------------------------------------------

start=$(date +%s)
prune
rm -rf "$tree"

donor=""
for d in $(ls -1t "$cache"/*/.ipec-complete 2>/dev/null || true); do
	d=${d%/.ipec-complete}
	if [[ -r $d/.ipec-base-key && $(cat "$d/.ipec-base-key") == "$base_key" &&
		-x $d/linux ]]; then
		donor=$d
		break
	fi
done

if [[ -n $donor ]]; then
	log "seeding $key from ${donor##*/} (same tarball, patches and config)"
	cp -a "$donor" "$tree.tmp" || die "copying $donor failed"
	rm -f "$tree.tmp/.ipec-complete" "$tree.tmp/build.log"
	mv "$tree.tmp" "$tree"
	copy_lsm_sources
else
	log "building $key from scratch: extracting $(basename "$tarball")"
	mkdir -p "$tree"
	tar -xf "$tarball" -C "$tree" --strip-components=1 ||
		die "extracting $tarball failed"
	[[ -f $tree/Makefile && -d $tree/security ]] ||
		die "$tarball does not hold a kernel source tree"
	apply_patches
	copy_lsm_sources
	configure
fi
echo "$base_key" >"$tree/.ipec-base-key"

log "make ARCH=um -j$jobs (log: $tree/build.log)"
# CONFIG_SECURITY_IPEVM_IPEC is "ipec": this checkout's, first in PATH.
run_logged "kernel build" env PATH="$(dirname "$ipec"):$PATH" \
	make -C "$tree" ARCH=um -j"$jobs"
[[ -x $linux ]] || die "the build produced no $linux"
cmp -s "$tree/security/ipevm/boot_policy.ipeb" "$stage/boot-policy.ipeb" ||
	die "the kernel embeds other bytes than ipec's boot policy (security/ipevm/boot_policy.ipeb)"

# The ipevm objects must have been built, or the LSM is not in the kernel.
[[ -e $tree/security/ipevm/built-in.a ]] ||
	die "security/ipevm was not built (is CONFIG_SECURITY_IPEVM set?)"

touch "$tree/.ipec-complete"
log "built $key in $(($(date +%s) - start)) s"
echo "$linux"
