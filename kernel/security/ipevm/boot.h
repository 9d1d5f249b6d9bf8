/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - the boot policy, compiled into the kernel
 */

#ifndef _SECURITY_IPEVM_BOOT_H
#define _SECURITY_IPEVM_BOOT_H

#include <linux/init.h>
#include <linux/types.h>

#include "policy.h"

/*
 * True when a boot policy was configured but could not be activated: every
 * decision is then denied until a signed policy is activated. Set once, at
 * LSM init.
 */
extern bool ipevm_boot_failed;

/* boot_policy.S: the bytecode (init data), empty without a boot policy. */
extern const u8 ipevm_boot_policy[];
extern const u8 ipevm_boot_policy_end[];

void __init ipevm_boot_policy_init(void);
int ipevm_boot_policy_check(const u8 *blob, size_t len, bool configured,
			    struct ipevm_policy **out);

#endif /* _SECURITY_IPEVM_BOOT_H */
