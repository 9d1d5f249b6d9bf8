#!/bin/sh
# PID 1 of a kernel/bench-overhead boot (copied to /init of the bench root).
#
# The host passes the run on the kernel command line, which reaches us as
# environment variables: BENCH_TAG (the result file), BENCH_EXECS,
# BENCH_MMAPS, BENCH_REPS, BENCH_LOAD, and BENCH_EXEC / BENCH_MMAP (1 to
# run that loop; a boot with neither measures the rest of a boot). With ipevm in lsm= and BENCH_LOAD=1
# it loads and activates /policies/bench.ipeb first (with BENCH_LOAD=0 the
# bench policy is the kernel's boot policy); without ipevm, it runs the same
# loops on the same files. It writes /results/$BENCH_TAG on the host's disk (hostfs); the host
# computes the statistics.

export PATH=/bin
SEC=/sys/kernel/security
T=/tests/ipevm-test
B=/tests/bench-overhead
OUT=/results/$BENCH_TAG

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t securityfs securityfs $SEC
: >"$OUT"

say() {
	echo "$*" >>"$OUT"
}
counters() {
	if [ -r $SEC/ipevm/counters ]; then
		say "counters $1 $(tr '\n' ' ' <$SEC/ipevm/counters)"
	fi
}

say "lsm $(cat $SEC/lsm)"
mkdir -p /mnt/v
mount -t ext4 /dev/ubda /mnt/v || say "error mount"
# The image is reused by every boot: verity is enabled by the first one.
$T verity /mnt/v/tiny >/dev/null
say "measure $($T measure /mnt/v/tiny)"

if [ -d $SEC/ipevm ]; then
	if [ "$BENCH_LOAD" = 1 ]; then
		say "load $($T load /policies/bench.ipeb)"
		say "activate $($T put $SEC/ipevm/policies/ipevm-bench/active 1)"
	fi
	say "active $(cat $SEC/ipevm/policies/ipevm-bench/active)"
	say "cost $(grep '^execute' $SEC/ipevm/policies/ipevm-bench/cost)"
fi

counters before-exec
if [ "$BENCH_EXEC" = 1 ]; then
	$B exec /mnt/v/tiny "$BENCH_EXECS" "$BENCH_REPS" >>"$OUT" 2>&1
fi
counters after-exec
if [ "$BENCH_MMAP" = 1 ]; then
	$B mmap /mnt/v/tiny "$BENCH_MMAPS" "$BENCH_REPS" >>"$OUT" 2>&1
fi
counters after-mmap
say "done"
umount /mnt/v
sync
poweroff -f
