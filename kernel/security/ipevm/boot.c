// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - the boot policy, compiled into the kernel
 *
 * CONFIG_SECURITY_IPEVM_BOOT_POLICY names an IPL source; the kernel build
 * compiles it with ipec (Makefile: unsigned, with this kernel's cost limit,
 * failing the build with ipec's file:line:col error if the source is bad)
 * and boot_policy.S embeds the bytecode. It needs no signature: it is part
 * of the kernel image, which the boot chain has already verified, so it is
 * as trusted as the kernel's own code.
 *
 * At LSM init, long before the first exec, the bytecode is verified like
 * any policy, loaded and activated. securityfs lists it under
 * policies/<name>/ when it comes up, and it obeys the rollback rules: a
 * policy of the same name must have a higher version to replace it, and no
 * policy of a lower version can be activated after it.
 *
 * Fail closed. Upstream IPE boots with no policy at all if its boot policy
 * does not parse; ipevm does not. If a boot policy is configured but cannot
 * be activated - ipec's check at build time should make that impossible,
 * but a hand-edited blob or an allocation failure could - the reason is
 * logged at crit level and every decision is denied (and audited) until a
 * signed policy is activated through securityfs. In permissive mode
 * (ipevm.enforce=0, an explicit choice to let denials through) those
 * denials are audited and let through like any other.
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <linux/cache.h>
#include <linux/init.h>
#include <linux/kernel.h>

#include "boot.h"
#include "policy.h"

bool ipevm_boot_failed __ro_after_init;

/*
 * Build the boot policy from blob. 0 with *out NULL when none is
 * configured; 0 with *out set; or an errno, and the caller fails closed.
 */
int ipevm_boot_policy_check(const u8 *blob, size_t len, bool configured,
			    struct ipevm_policy **out)
{
	*out = NULL;
	if (!configured)
		return 0;
	if (!len) {
		pr_crit("boot policy: configured, but the kernel image holds no bytecode\n");
		return -ENODATA;
	}
	return ipevm_policy_parse_unsigned(blob, len, out);
}

void __init ipevm_boot_policy_init(void)
{
	const bool configured = sizeof(CONFIG_SECURITY_IPEVM_BOOT_POLICY) > 1;
	size_t len = ipevm_boot_policy_end - ipevm_boot_policy;
	struct ipevm_policy *p, *old;
	int rc;

	rc = ipevm_boot_policy_check(ipevm_boot_policy, len, configured, &p);
	if (!rc && !p) {
		pr_info("no boot policy; everything is allowed until a policy is activated\n");
		return;
	}
	if (!rc) {
		/* Nothing is loaded yet: neither step can be refused. */
		mutex_lock(&ipevm_policy_mutex);
		rc = ipevm_policy_install(p, &old);
		if (!rc) {
			rc = ipevm_policy_activate(p);
			if (WARN_ON(rc))
				ipevm_policy_uninstall(p, old);
		}
		mutex_unlock(&ipevm_policy_mutex);
		if (rc)
			ipevm_policy_free(p);
	}
	if (rc) {
		ipevm_boot_failed = true;
		pr_crit("boot policy %s rejected (%d): failing closed, every decision is denied until a signed policy is activated\n",
			CONFIG_SECURITY_IPEVM_BOOT_POLICY, rc);
		return;
	}
	pr_info("boot policy \"%s\" %u.%u.%u from %s is active (worst-case cost %u)\n",
		p->name, p->prog.version[0], p->prog.version[1],
		p->prog.version[2], CONFIG_SECURITY_IPEVM_BOOT_POLICY,
		p->prog.max_cost);
}
