/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - audit records
 */

#ifndef _SECURITY_IPEVM_AUDIT_H
#define _SECURITY_IPEVM_AUDIT_H

#include <linux/types.h>

#include "ipevm.h"
#include "policy.h"
#include "props.h"

/*
 * Linux 6.1 has no AUDIT_IPE_* numbers; upstream IPE (6.12) took 1420-1422
 * from the MAC range, which 6.1 leaves unused, and ipevm uses the same ones
 * with the same meaning so that tools written for IPE find the records.
 */
#define AUDIT_IPEVM_ACCESS		1420	/* a decision */
#define AUDIT_IPEVM_CONFIG_CHANGE	1421	/* activation, deletion */
#define AUDIT_IPEVM_POLICY_LOAD		1422	/* a load, success or not */

const char *ipevm_op_name(u32 op);
const char *ipevm_hook_name(enum ipevm_hook hook);

void ipevm_audit_access(const struct ipevm_ctx *ctx,
			const struct ipevm_policy *pol,
			const struct ipevm_decision *d, enum ipevm_err err,
			bool enforcing);
void ipevm_audit_policy_load(const struct ipevm_policy *p,
			     const u8 *artifact_digest, int err);
void ipevm_audit_activate(const struct ipevm_policy *old,
			  const struct ipevm_policy *new, int err);
void ipevm_audit_delete(const struct ipevm_policy *p);
void ipevm_audit_enforce(bool enforcing, bool old_enforcing,
			 const struct ipevm_policy *active);

#endif /* _SECURITY_IPEVM_AUDIT_H */
