// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - gathering the properties of an event
 *
 * A policy tests only some properties, and some cost something to gather
 * (a digest copy, a device-mapper table lookup). So the hooks describe an
 * event by its file alone, and the interpreter calls ipevm_props_fetch()
 * the first time the program tests a property it does not have; it never
 * asks twice in one evaluation. Everything here runs inside the RCU read
 * section of an evaluation: nothing may sleep or allocate.
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <crypto/hash_info.h>
#include <linux/dcache.h>
#include <linux/dm-verity-lsm.h>
#include <linux/err.h>
#include <linux/fsverity.h>
#include <linux/mount.h>
#include <linux/string.h>

#include "lsm.h"
#include "props.h"

/*
 * boot_verified follows LoadPin and the IPE RFCs before v12: the superblock
 * of the first program executed after boot is trusted. On a system that
 * boots from an initramfs that is the initramfs; without one it is the root
 * filesystem, so the root must itself be trustworthy (read-only media,
 * dm-verity). Linux 6.1 has no security_initramfs_populated() hook to mark
 * the initramfs instead (mainline 6.12 does).
 *
 * boot_sb is NULL until the first exec, then that superblock; once that
 * superblock is freed it becomes ERR_PTR(-EIO) and nothing is pinned again,
 * so a later filesystem allocated at the same address is never trusted.
 * The pointer is only compared, never dereferenced, so a plain cmpxchg is
 * all the synchronisation it needs.
 */
static struct super_block *boot_sb;

/* Pin sb in *slot if nothing was pinned yet; true if this call pinned it. */
bool ipevm_sb_pin(struct super_block **slot, struct super_block *sb)
{
	if (likely(READ_ONCE(*slot)))
		return false;
	return !cmpxchg(slot, NULL, sb);
}

/* Unpin sb for good; true if it was the pinned one. */
bool ipevm_sb_forget(struct super_block **slot, const struct super_block *sb)
{
	if (READ_ONCE(*slot) != sb)
		return false;
	return cmpxchg(slot, (struct super_block *)sb, ERR_PTR(-EIO)) == sb;
}

bool ipevm_sb_is_pinned(struct super_block *const *slot,
			const struct super_block *sb)
{
	return sb && READ_ONCE(*slot) == sb;
}

void ipevm_boot_sb_pin(const struct file *file)
{
	struct super_block *sb = file->f_path.mnt->mnt_sb;

	if (ipevm_sb_pin(&boot_sb, sb))
		pr_info("boot_verified: trusting the filesystem of the first program executed, %pD (dev %s, %s)\n",
			file, sb->s_id, sb->s_type->name);
}

void ipevm_boot_sb_forget(const struct super_block *sb)
{
	if (ipevm_sb_forget(&boot_sb, sb))
		pr_info("boot_verified: the boot filesystem (dev %s) is gone; boot_verified is false from now on\n",
			sb->s_id);
}

bool ipevm_boot_sb_is(const struct super_block *sb)
{
	return ipevm_sb_is_pinned(&boot_sb, sb);
}

void ipevm_inode_set_fsverity_signed(const struct inode *inode, bool signed_ok)
{
	if (inode->i_security)
		WRITE_ONCE(ipevm_inode(inode)->fsverity_signed, signed_ok);
}

void ipevm_ctx_init(struct ipevm_ctx *ctx, u32 op, enum ipevm_hook hook,
		    struct file *file, bool writable)
{
	memset(&ctx->ev, 0, sizeof(ctx->ev));
	ctx->ev.op = op;
	ctx->ev.fetch = ipevm_props_fetch;
	ctx->ev.ctx = ctx;
	ctx->hook = hook;
	ctx->file = file;
	ctx->writable = writable;
}

static void set_bool(struct ipevm_event *ev, u32 prop, bool value)
{
	ev->have |= BIT(prop);
	if (value)
		ev->bools |= BIT(prop);
}

static struct ipevm_digest *digest_of(struct ipevm_event *ev, u32 prop)
{
	return &ev->digest[prop - IPEVM_PROP_FIRST_DIGEST];
}

/* The inode holding the file's data, below any overlayfs. */
static struct inode *real_inode(const struct ipevm_ctx *ctx)
{
	return ctx->file ? d_real_inode(ctx->file->f_path.dentry) : NULL;
}

static void fetch_fsverity_digest(struct ipevm_ctx *ctx)
{
	struct ipevm_digest *d = digest_of(&ctx->ev, IPEVM_PROP_FSVERITY_DIGEST);
	struct inode *inode = real_inode(ctx);
	enum hash_algo alg;

	BUILD_BUG_ON(sizeof(ctx->fsverity_digest) < FS_VERITY_MAX_DIGEST_SIZE);
	ctx->ev.have |= BIT(IPEVM_PROP_FSVERITY_DIGEST);
	/* In 6.1 this returns 0 on success (mainline: the digest size). */
	if (!inode || fsverity_get_digest(inode, ctx->fsverity_digest, &alg))
		return;
	d->alg = (const u8 *)hash_algo_name[alg];
	d->alg_len = strlen(hash_algo_name[alg]);
	d->bytes = ctx->fsverity_digest;
	d->len = hash_digest_size[alg];
}

static bool fsverity_signed(const struct ipevm_ctx *ctx)
{
	struct inode *inode = real_inode(ctx);

	/* The flag outlives a failed FS_IOC_ENABLE_VERITY: check both. */
	return inode && inode->i_security && fsverity_active(inode) &&
	       READ_ONCE(ipevm_inode(inode)->fsverity_signed);
}

/* Both dm-verity properties come from one device-mapper lookup. */
static void fetch_dmverity(struct ipevm_ctx *ctx)
{
	struct ipevm_digest *d = digest_of(&ctx->ev, IPEVM_PROP_DMVERITY_ROOTHASH);
	struct inode *inode = real_inode(ctx);
	struct dm_verity_lsm_info info;
	bool sig = false;

	BUILD_BUG_ON(sizeof(ctx->dmverity_digest) < sizeof(info.root_digest));
	BUILD_BUG_ON(sizeof(ctx->dmverity_alg) < sizeof(info.alg));
	if (inode && !dm_verity_lsm_bdev_info(inode->i_sb->s_bdev, &info)) {
		memcpy(ctx->dmverity_digest, info.root_digest, info.digest_size);
		strscpy(ctx->dmverity_alg, info.alg, sizeof(ctx->dmverity_alg));
		d->alg = (const u8 *)ctx->dmverity_alg;
		d->alg_len = strlen(ctx->dmverity_alg);
		d->bytes = ctx->dmverity_digest;
		d->len = info.digest_size;
		sig = info.signature_verified;
	}
	ctx->ev.have |= BIT(IPEVM_PROP_DMVERITY_ROOTHASH);
	set_bool(&ctx->ev, IPEVM_PROP_DMVERITY_SIGNATURE, sig);
}

/*
 * The interpreter's fetch callback. Every property of an event without a
 * file reads false (digests absent), as in upstream IPE, except writable,
 * which describes the mapping: anonymous W+X memory is writable.
 */
int ipevm_props_fetch(struct ipevm_event *ev, u32 prop)
{
	struct ipevm_ctx *ctx = container_of(ev, struct ipevm_ctx, ev);
	struct file *file = ctx->file;

	switch (prop) {
	case IPEVM_PROP_BOOT_VERIFIED:
		set_bool(ev, prop,
			 file && ipevm_boot_sb_is(file->f_path.mnt->mnt_sb));
		break;
	case IPEVM_PROP_HAS_FILE:
		set_bool(ev, prop, file);
		break;
	case IPEVM_PROP_WRITABLE:
		set_bool(ev, prop, ctx->writable);
		break;
	case IPEVM_PROP_FSVERITY_SIGNATURE:
		set_bool(ev, prop, fsverity_signed(ctx));
		break;
	case IPEVM_PROP_DMVERITY_SIGNATURE:
	case IPEVM_PROP_DMVERITY_ROOTHASH:
		fetch_dmverity(ctx);
		break;
	case IPEVM_PROP_FSVERITY_DIGEST:
		fetch_fsverity_digest(ctx);
		break;
	default:
		/* The verifier refuses unknown properties: not reached. */
		return -EINVAL;
	}
	return 0;
}
