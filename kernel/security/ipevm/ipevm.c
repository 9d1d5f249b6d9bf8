// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - registration, boot parameters and shared state
 *
 * ipevm enforces integrity policies in the manner of upstream IPE, with a
 * policy that is bytecode compiled by ipec and proven by a verifier to end
 * every decision within a known cost (see Kconfig and kernel/NOTES.md).
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <linux/init.h>
#include <linux/lsm_hooks.h>
#include <linux/moduleparam.h>

#include "boot.h"
#include "hooks.h"
#include "lsm.h"

bool ipevm_enabled __lsm_ro_after_init;

bool ipevm_enforce = true;
/* ipevm.enforce=0 boots permissive; securityfs "enforce" changes it. */
module_param_named(enforce, ipevm_enforce, bool, 0);
MODULE_PARM_DESC(enforce, "Refuse denied operations (1) or only audit them (0)");

struct lsm_blob_sizes ipevm_blob_sizes __lsm_ro_after_init = {
	.lbs_inode = sizeof(struct ipevm_inode),
};

DEFINE_PER_CPU(struct ipevm_counters, ipevm_counters);

void ipevm_counters_sum(struct ipevm_counters *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct ipevm_counters *c = per_cpu_ptr(&ipevm_counters, cpu);

		sum->evaluations += READ_ONCE(c->evaluations);
		sum->allowed += READ_ONCE(c->allowed);
		sum->denied += READ_ONCE(c->denied);
		sum->permissive += READ_ONCE(c->permissive);
		sum->errors += READ_ONCE(c->errors);
		sum->audited += READ_ONCE(c->audited);
		sum->steps += READ_ONCE(c->steps);
		sum->policy_loads += READ_ONCE(c->policy_loads);
		sum->policy_load_failures += READ_ONCE(c->policy_load_failures);
	}
}

static int __init ipevm_init(void)
{
	ipevm_add_hooks();
	ipevm_enabled = true;
	pr_info("initialized, %s\n",
		ipevm_enforce ? "enforcing" : "permissive");
	/* Before the first exec: the boot policy, or fail closed. */
	ipevm_boot_policy_init();
	return 0;
}

DEFINE_LSM(ipevm) = {
	.name = IPEVM_NAME,
	.init = ipevm_init,
	.blobs = &ipevm_blob_sizes,
};
