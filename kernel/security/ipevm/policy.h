/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - policies: load, verify, keep by name, activate
 */

#ifndef _SECURITY_IPEVM_POLICY_H
#define _SECURITY_IPEVM_POLICY_H

#include <crypto/sha2.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "ipevm.h"

/* Largest signed artifact new_policy accepts. */
#define IPEVM_MAX_ARTIFACT (16U << 20)
/* The verifier's bound on a policy name; a securityfs directory name. */
#define IPEVM_MAX_POLICY_NAME 255

/*
 * A loaded policy. Immutable once loaded: the active one is read under RCU
 * by every hook, so a change is a new policy, published with
 * rcu_assign_pointer() and the old one freed after synchronize_rcu().
 */
struct ipevm_policy {
	struct ipevm_prog prog;		/* a view over bytecode */
	u8 *bytecode;			/* verified (the PKCS#7 content) */
	size_t len;
	char name[IPEVM_MAX_POLICY_NAME + 1];
	u8 digest[SHA256_DIGEST_SIZE];	/* of the artifact as loaded */
	struct list_head list;		/* ipevm_policies, by name */
};

/* Serialises every change to the policy set and the active pointer. */
extern struct mutex ipevm_policy_mutex;
extern struct ipevm_policy __rcu *ipevm_active_policy;

int ipevm_policy_load(const u8 *artifact, size_t len);
int ipevm_policy_parse(const u8 *artifact, size_t len,
		       struct ipevm_policy **out);
int ipevm_policy_parse_unsigned(const u8 *bytecode, size_t len,
				struct ipevm_policy **out);
void ipevm_policy_free(struct ipevm_policy *p);

/* These need ipevm_policy_mutex. */
struct ipevm_policy *ipevm_policy_find(const char *name);
int ipevm_policy_install(struct ipevm_policy *p, struct ipevm_policy **old);
void ipevm_policy_uninstall(struct ipevm_policy *p, struct ipevm_policy *old);
int ipevm_policy_activate(struct ipevm_policy *p);
int ipevm_policy_delete(struct ipevm_policy *p);
struct ipevm_policy *ipevm_policy_active_locked(void);

/* The rules, as pure functions (KUnit tests them). */
int ipevm_version_cmp(const u16 a[3], const u16 b[3]);
int ipevm_check_replace(const struct ipevm_policy *old,
			const struct ipevm_policy *new);
int ipevm_check_activate(const struct ipevm_policy *active,
			 const struct ipevm_policy *new);
int ipevm_verify_errno(enum ipevm_err err);
int ipevm_check_name(const u8 *name, u32 len);

#endif /* _SECURITY_IPEVM_POLICY_H */
