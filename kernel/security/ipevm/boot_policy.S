/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - the boot policy's bytecode, as ipec wrote it at build time
 * (Makefile; empty when CONFIG_SECURITY_IPEVM_BOOT_POLICY is ""). In init
 * data: boot.c copies it into the policy at LSM init.
 */
#include <linux/init.h>

	__INITRODATA
	.globl ipevm_boot_policy
ipevm_boot_policy:
	.incbin "security/ipevm/boot_policy.ipeb"
	.globl ipevm_boot_policy_end
ipevm_boot_policy_end:
