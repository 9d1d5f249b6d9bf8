/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - LSM hooks
 */

#ifndef _SECURITY_IPEVM_HOOKS_H
#define _SECURITY_IPEVM_HOOKS_H

#include <linux/init.h>

#include "policy.h"
#include "props.h"

void __init ipevm_add_hooks(void);
int ipevm_decide(struct ipevm_ctx *ctx);
enum ipevm_err ipevm_verdict(struct ipevm_ctx *ctx,
			     const struct ipevm_policy *pol, bool fail_closed,
			     struct ipevm_decision *d);

#endif /* _SECURITY_IPEVM_HOOKS_H */
