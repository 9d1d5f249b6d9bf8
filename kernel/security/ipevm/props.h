/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - the properties of an event
 */

#ifndef _SECURITY_IPEVM_PROPS_H
#define _SECURITY_IPEVM_PROPS_H

#include <linux/fs.h>
#include <linux/types.h>

#include "ipevm.h"

/* The LSM hook an event came from, for audit (upstream IPE's ipe_hook). */
enum ipevm_hook {
	IPEVM_HOOK_BPRM_CHECK,
	IPEVM_HOOK_MMAP,
	IPEVM_HOOK_MPROTECT,
	IPEVM_HOOK_KERNEL_READ,
	IPEVM_HOOK_KERNEL_LOAD,
	IPEVM_HOOK_COUNT,
};

/* Large enough for every digest the format can hold. */
#define IPEVM_CTX_DIGEST_MAX IPEVM_MAX_DIGEST
#define IPEVM_CTX_ALG_MAX 64

/*
 * One event being decided: lives on the hook's stack. The interpreter asks
 * for properties through ev.fetch (ipevm_props_fetch), which fills them in
 * from the file the first time a policy tests them; the buffers hold the
 * digests it fetched.
 */
struct ipevm_ctx {
	struct ipevm_event ev;
	enum ipevm_hook hook;
	struct file *file;		/* NULL: anonymous memory or a data load */
	bool writable;			/* decided by the hook (see hooks.c) */
	u8 fsverity_digest[IPEVM_CTX_DIGEST_MAX];
	u8 dmverity_digest[IPEVM_CTX_DIGEST_MAX];
	char dmverity_alg[IPEVM_CTX_ALG_MAX];
};

void ipevm_ctx_init(struct ipevm_ctx *ctx, u32 op, enum ipevm_hook hook,
		    struct file *file, bool writable);
int ipevm_props_fetch(struct ipevm_event *ev, u32 prop);

/* boot_verified: the superblock of the first program executed. */
void ipevm_boot_sb_pin(const struct file *file);
void ipevm_boot_sb_forget(const struct super_block *sb);
bool ipevm_boot_sb_is(const struct super_block *sb);

/* The pinning rules on any slot (KUnit tests them on their own). */
bool ipevm_sb_pin(struct super_block **slot, struct super_block *sb);
bool ipevm_sb_forget(struct super_block **slot, const struct super_block *sb);
bool ipevm_sb_is_pinned(struct super_block *const *slot,
			const struct super_block *sb);

void ipevm_inode_set_fsverity_signed(const struct inode *inode, bool signed_ok);

#endif /* _SECURITY_IPEVM_PROPS_H */
