/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - what every part of the LSM shares
 *
 * The interpreter itself (ipevm.h, ipevm_bc.h, ipevm_verify.c, ipevm_eval.c)
 * is copied from kvm-interp/ at build time; these headers hold the glue.
 */

#ifndef _SECURITY_IPEVM_LSM_H
#define _SECURITY_IPEVM_LSM_H

#include <linux/fs.h>
#include <linux/lsm_hooks.h>
#include <linux/percpu.h>

#define IPEVM_NAME "ipevm"

extern struct lsm_blob_sizes ipevm_blob_sizes;
extern bool ipevm_enabled;

/*
 * Enforcing (true) or permissive (false): in permissive mode a denial is
 * audited but the operation goes ahead. Read with READ_ONCE(); changed
 * through securityfs (fs.c) or the ipevm.enforce= boot parameter.
 */
extern bool ipevm_enforce;

/* Per-inode state (the LSM inode blob). */
struct ipevm_inode {
	/* fs-verity checked a builtin signature of this file (patch 0002). */
	bool fsverity_signed;
};

static inline struct ipevm_inode *ipevm_inode(const struct inode *inode)
{
	return inode->i_security + ipevm_blob_sizes.lbs_inode;
}

/*
 * Event counters, per CPU so that the hooks never share a cache line.
 * fs.c sums them for the securityfs "counters" file.
 */
struct ipevm_counters {
	unsigned long evaluations;	/* events decided by a policy */
	unsigned long allowed;
	unsigned long denied;		/* refused (enforcing) */
	unsigned long permissive;	/* denied by policy, let through */
	unsigned long errors;		/* evaluation failed: denied */
	unsigned long audited;		/* access records emitted */
	unsigned long steps;		/* interpreter steps, summed */
	unsigned long policy_loads;
	unsigned long policy_load_failures;
};

DECLARE_PER_CPU(struct ipevm_counters, ipevm_counters);

#define ipevm_count(field) this_cpu_inc(ipevm_counters.field)
#define ipevm_count_add(field, n) this_cpu_add(ipevm_counters.field, (n))

void ipevm_counters_sum(struct ipevm_counters *sum);

#endif /* _SECURITY_IPEVM_LSM_H */
