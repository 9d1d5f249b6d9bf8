#!/bin/sh
# PID 1 of the UML test boot (kernel/run-tests copies it to /init).
#
# It only observes: each case runs real system calls (mostly through
# /tests/ipevm-test) and records "NAME|OUTPUT" in /results/log, on the
# host's disk through hostfs. kernel/run-tests decides pass or fail.
# The order matters: the first cases run under the boot policy alone.

export PATH=/bin
R=/results
SEC=/sys/kernel/security/ipevm
POL=$SEC/policies
T=/tests/ipevm-test
P=/policies

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs tmpfs /tmp
# Audit records reach the console through printk: do not rate-limit them.
echo 0 >/proc/sys/kernel/printk_ratelimit
: >$R/log

# rec NAME CMD...: run CMD, record the last line it printed.
rec() {
	name=$1
	shift
	out=$("$@" 2>&1 | tail -n 1)
	echo "$name|$out" >>$R/log
	echo "ipevm-case $name: $out"
}

# line NAME FILE WORD: record the line of FILE that starts with WORD.
line() {
	rec "$1" grep "^$3" "$2"
}

cp $T /tmp/t
printf '#!/bin/sh\nexit 0\n' >/tmp/s.sh
chmod +x /tmp/s.sh
mkdir -p /mnt/h /mnt/v /mnt/dm

# --- The boot policy, compiled into the kernel: active from the start ---------
# It allows everything (kernel/tests/policies/boot.ipl) and obeys the
# rollback rules like any loaded policy.
B=$POL/ipevm-boot
rec boot_securityfs ls $SEC
rec boot_listed ls $POL
rec boot_version cat $B/version
rec boot_active cat $B/active
line boot_cost $B/cost max
rec boot_digest cat $B/digest
rec boot_exec_tmpfs $T exec /tmp/t true
rec boot_mmap_tmpfs $T mmap /tmp/t
rec boot_mprotect_anon $T mprotect
rec boot_anon_x $T anon-x
rec boot_initmod $T initmod
line boot_evaluations $SEC/counters evaluations
line boot_denied $SEC/counters denied
rec boot_reject_same $T load $P/boot-same.ipeb
rec boot_reject_lower $T load $P/boot-lower.ipeb
rec boot_low_load $T load $P/low.ipeb
rec boot_low_activate_refused $T put $POL/ipevm-low/active 1
rec boot_delete_active_refused $T put $B/delete 1
rec boot_low_delete $T put $POL/ipevm-low/delete 1
rec boot_replace $T load $P/boot-v2.ipeb
rec boot_replaced_version cat $B/version
rec boot_replaced_active cat $B/active

# --- Load and activate a signed policy ----------------------------------------
rec load_v1 $T load $P/test-v1.ipeb
rec v1_listed ls $POL
rec v1_version cat $POL/ipevm-test/version
rec v1_digest cat $POL/ipevm-test/digest
line v1_cost $POL/ipevm-test/cost max
rec v1_inactive cat $POL/ipevm-test/active
rec loaded_not_enforced $T exec /tmp/t true
rec activate_v1 $T put $POL/ipevm-test/active 1
rec v1_active cat $POL/ipevm-test/active

# --- Execution, mapping and kernel reads under the policy ------------------------
rec exec_boot_verified $T exec $T true
rec exec_tmpfs_denied $T exec /tmp/t true
rec exec_script_denied $T exec /tmp/s.sh
mount -t hostfs none /mnt/h -o "$IPEVM_HOST2"
rec exec_hostfs2_denied $T exec /mnt/h/ipevm-test true
rec mmap_boot_verified $T mmap $T
rec mmap_tmpfs_denied $T mmap /tmp/t
rec mmap_wx_denied $T mmap $T rw
rec mprotect_anon_denied $T mprotect
rec anon_x_denied $T anon-x
rec initmod_denied $T initmod
rec finitmod_boot_verified $T finitmod $T
rec finitmod_tmpfs_denied $T finitmod /tmp/t

# --- Artifacts that must be refused -----------------------------------------------
rec reject_unsigned $T load $P/unsigned.ipeb
rec reject_tampered $T load $P/tampered.ipeb
rec reject_wrong_key $T load $P/wrong-key.ipeb
rec reject_same_version $T load $P/test-v1.ipeb
rec reject_lower_version $T load $P/test-v0.ipeb
rec reject_signed_garbage $T load $P/signed-garbage.ipeb
rec reject_format_version $T load $P/bad-format.ipeb
rec reject_truncated_bytecode $T load $P/truncated-bytecode.ipeb
rec reject_truncated_artifact $T load-partial $P/other.ipeb 100
rec reject_over_64k $T load $P/too-big.ipeb
rec reject_envelope_tampered $T load $P/big-envelope-tampered.ipeb
rec reject_envelope_version $T load $P/big-envelope-badversion.ipeb
rec load_envelope $T load $P/big-envelope.ipeb 4096
rec envelope_listed cat $POL/big/version
rec delete_envelope $T put $POL/big/delete 1
rec still_v1 cat $POL/ipevm-test/version
rec load_in_pieces $T load $P/other.ipeb 7
rec other_listed ls $POL
rec activate_lower_refused $T put $POL/other/active 1
rec activate_false_refused $T put $POL/other/active 0
rec delete_active_refused $T put $POL/ipevm-test/delete 1
rec delete_other $T put $POL/other/delete 1
rec other_deleted ls $POL
rec after_rejections_denied $T exec /tmp/t true
# Firmware (kernel_read_file, READING_FIRMWARE) through the test_firmware
# driver: from the boot filesystem allowed; from a tmpfs directory put
# first in the search path denied (the loader then finds nothing: ENOENT).
FW=/sys/devices/virtual/misc/test_firmware/trigger_request
mkdir -p /tmp/fw
echo tmpfs-firmware >/tmp/fw/ipevm-tmpfs.bin
rec firmware_boot_allowed $T put $FW ipevm-ok.bin
echo -n /tmp/fw >/sys/module/firmware_class/parameters/path
rec firmware_tmpfs_denied $T put $FW ipevm-tmpfs.bin
echo -n >/sys/module/firmware_class/parameters/path

# --- Permissive mode ------------------------------------------------------------
rec permissive_on $T put $SEC/enforce 0
rec permissive_read cat $SEC/enforce
rec permissive_exec $T exec /tmp/t true
rec permissive_mprotect $T mprotect
rec permissive_off $T put $SEC/enforce 1
rec enforcing_again $T exec /tmp/t true

# --- fs-verity on an ext4 ubd image ---------------------------------------------
rec verity_mount mount -t ext4 /dev/ubda /mnt/v
rec verity_enable $T verity /mnt/v/good
rec verity_measure $T measure /mnt/v/good
rec verity_exec_digest $T exec /mnt/v/good true
rec verity_mmap_digest $T mmap /mnt/v/good
rec verity_exec_plain_denied $T exec /mnt/v/plain true
# The allowed file is replaced by one with other contents: new digest.
rm /mnt/v/good
cp /mnt/v/changed /mnt/v/good
rec verity_enable_changed $T verity /mnt/v/good
rec verity_exec_changed_denied $T exec /mnt/v/good true
rec verity_addkey $T addkey /keys/dev-cert.der
rec verity_enable_signed $T verity /mnt/v/signed /sigs/signed.sig
rec verity_exec_signed $T exec /mnt/v/signed true
umount /mnt/v

# --- dm-verity (created at boot by dm-mod.create=) ----------------------------------
rec dmverity_mount mount -t ext4 -o ro /dev/dm-0 /mnt/dm
rec dmverity_exec $T exec /mnt/dm/ipevm-test true
rec dmverity_mmap $T mmap /mnt/dm/ipevm-test
# The same volume again, with a root hash signature, from user space.
rec dmverity_signed_create $T dmcreate ipevm-dm-signed "$(cat /dm/table-signed)" \
	ipevm-test:roothash /dm/roothash.p7s
mkdir -p /mnt/dms
rec dmverity_signed_mount mount -t ext4 -o ro /dev/dm-1 /mnt/dms
rec dmverity_signed_exec $T exec /mnt/dms/ipevm-test true
# Bad root hash signatures: the table load itself must fail.
rec dmverity_badsig_untrusted_key $T dmcreate ipevm-dm-badkey "$(cat /dm/table-badkey)" \
	ipevm-test:badkey /dm/roothash-otherkey.p7s
rec dmverity_badsig_other_hash $T dmcreate ipevm-dm-badhash "$(cat /dm/table-badhash)" \
	ipevm-test:badhash /dm/roothash-wrong.p7s

# --- Replacement: a higher version of the active policy takes over -----------------
rec replace_v2 $T load $P/test-v2.ipeb
rec v2_version cat $POL/ipevm-test/version
rec v2_active cat $POL/ipevm-test/active
rec jit_allowed_by_v2 $T mprotect
rec jit_wx_still_denied $T mprotect rw

# --- Replacement while another process executes in a loop -------------------------
$T execloop $T 300 >$R/loop 2>&1 &
loop=$!
ok=0
for v in 3 4 5 6 7 8 9 10 11 12; do
	if $T load $P/test-v$v.ipeb >/dev/null; then
		ok=$((ok + 1))
	fi
done
# The loop must still be running, or the loads did not race with it.
if kill -0 $loop 2>/dev/null; then
	echo "replace_overlap|loop still running" >>$R/log
else
	echo "replace_overlap|loop had finished" >>$R/log
fi
wait $loop
echo "replace_loads|loaded $ok of 10" >>$R/log
rec replace_execloop cat $R/loop
rec replaced_version cat $POL/ipevm-test/version

line final_denied $SEC/counters denied
line final_errors $SEC/counters errors
echo "done|done" >>$R/log
echo "ipevm-tests: done"
sync
poweroff -f
