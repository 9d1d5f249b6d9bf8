// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - LSM hooks: each turns a kernel event into an ipevm event
 *
 *   bprm_check_security   EXECUTE          bprm->file (each binfmt round, so
 *                                          a #! script and its interpreter)
 *   mmap_file + PROT_EXEC MMAP_EXEC        the file, or none (anonymous)
 *   file_mprotect adding  MPROTECT_EXEC    vma->vm_file, or none; only when
 *   PROT_EXEC to a VMA                     the VMA is not executable yet
 *   without VM_EXEC
 *   kernel_read_file      FIRMWARE, KMODULE, KEXEC_IMAGE, KEXEC_INITRAMFS,
 *                         POLICY, X509_CERT by the read id
 *   kernel_load_data      the same, with no file (init_module, kexec_load)
 *
 * "writable" is true when the executable mapping being made is writable as
 * well: PROT_WRITE in the protection asked for, for mmap whether the mapping
 * is shared or private (a private W+X mapping is exactly what code
 * injection needs), for mprotect in the new protection. It is false for exec
 * and kernel reads.
 *
 * The hot path takes no lock: rcu_read_lock() around the evaluation of the
 * active policy, which is immutable; property gathering and auditing inside
 * it never sleep.
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <linux/binfmts.h>
#include <linux/fs.h>
#include <linux/kernel_read_file.h>
#include <linux/lsm_hooks.h>
#include <linux/mman.h>
#include <linux/rcupdate.h>
#include <linux/security.h>

#include "audit.h"
#include "boot.h"
#include "hooks.h"
#include "lsm.h"
#include "policy.h"
#include "props.h"

/*
 * The verdict on ctx: pol's decision (a failed evaluation denies), or, with
 * no active policy, allow - unless the boot policy failed (fail_closed):
 * then deny, so that a kernel built with a boot policy never runs without
 * one. No side effects; KUnit tests it.
 */
enum ipevm_err ipevm_verdict(struct ipevm_ctx *ctx,
			     const struct ipevm_policy *pol, bool fail_closed,
			     struct ipevm_decision *d)
{
	enum ipevm_err err;

	if (!pol) {
		memset(d, 0, sizeof(*d));
		d->allow = !fail_closed;
		return IPEVM_E_OK;
	}
	err = ipevm_eval(&pol->prog, &ctx->ev, d);
	if (err != IPEVM_E_OK)
		d->allow = false;
	return err;
}

/*
 * Decide ctx with the active policy: 0 to allow, -EACCES to refuse.
 * Without an active policy everything is allowed (unless the boot policy
 * failed, see boot.c). Denials, and allows by an "audit" rule, are audited.
 */
int ipevm_decide(struct ipevm_ctx *ctx)
{
	const struct ipevm_policy *pol;
	struct ipevm_decision d;
	enum ipevm_err err;
	bool enforcing, fail_closed = READ_ONCE(ipevm_boot_failed);

	rcu_read_lock();
	pol = rcu_dereference(ipevm_active_policy);
	if (!pol && likely(!fail_closed)) {
		rcu_read_unlock();
		return 0;
	}
	err = ipevm_verdict(ctx, pol, fail_closed, &d);
	if (err != IPEVM_E_OK)
		ipevm_count(errors);
	enforcing = READ_ONCE(ipevm_enforce);
	ipevm_count(evaluations);
	ipevm_count_add(steps, d.steps);
	if (d.allow)
		ipevm_count(allowed);
	else if (enforcing)
		ipevm_count(denied);
	else
		ipevm_count(permissive);
	if (!d.allow || d.audit)
		ipevm_audit_access(ctx, pol, &d, err, enforcing);
	rcu_read_unlock();

	return d.allow || !enforcing ? 0 : -EACCES;
}

static int decide(u32 op, enum ipevm_hook hook, struct file *file,
		  bool writable)
{
	struct ipevm_ctx ctx;

	ipevm_ctx_init(&ctx, op, hook, file, writable);
	return ipevm_decide(&ctx);
}

static int ipevm_bprm_check_security(struct linux_binprm *bprm)
{
	ipevm_boot_sb_pin(bprm->file);
	return decide(IPEVM_OP_EXECUTE, IPEVM_HOOK_BPRM_CHECK, bprm->file,
		      false);
}

/* prot is the effective protection: READ_IMPLIES_EXEC already applied. */
static int ipevm_mmap_file(struct file *file, unsigned long reqprot,
			   unsigned long prot, unsigned long flags)
{
	if (!(prot & PROT_EXEC))
		return 0;
	return decide(IPEVM_OP_MMAP_EXEC, IPEVM_HOOK_MMAP, file,
		      prot & PROT_WRITE);
}

/* An already executable VMA is not judged again (as upstream IPE). */
static int ipevm_file_mprotect(struct vm_area_struct *vma,
			       unsigned long reqprot, unsigned long prot)
{
	if (!(prot & PROT_EXEC) || (vma->vm_flags & VM_EXEC))
		return 0;
	return decide(IPEVM_OP_MPROTECT_EXEC, IPEVM_HOOK_MPROTECT,
		      vma->vm_file, prot & PROT_WRITE);
}

/*
 * The ipevm operation for a kernel read id. An id the format has no
 * operation for gives IPEVM_OP_COUNT, which the interpreter refuses: such
 * a read is denied (and audited) while a policy is active.
 */
static u32 read_id_op(enum kernel_read_file_id id)
{
	switch (id) {
	case READING_FIRMWARE:
		return IPEVM_OP_FIRMWARE;
	case READING_MODULE:
		return IPEVM_OP_KMODULE;
	case READING_KEXEC_IMAGE:
		return IPEVM_OP_KEXEC_IMAGE;
	case READING_KEXEC_INITRAMFS:
		return IPEVM_OP_KEXEC_INITRAMFS;
	case READING_POLICY:
		return IPEVM_OP_POLICY;
	case READING_X509_CERTIFICATE:
		return IPEVM_OP_X509_CERT;
	default:
		return IPEVM_OP_COUNT;
	}
}

static int ipevm_kernel_read_file(struct file *file,
				  enum kernel_read_file_id id, bool contents)
{
	return decide(read_id_op(id), IPEVM_HOOK_KERNEL_READ, file, false);
}

static int ipevm_kernel_load_data(enum kernel_load_data_id id, bool contents)
{
	/* kernel_load_data_id mirrors kernel_read_file_id (security.h). */
	return decide(read_id_op((enum kernel_read_file_id)id),
		      IPEVM_HOOK_KERNEL_LOAD, NULL, false);
}

static void ipevm_sb_free_security(struct super_block *sb)
{
	ipevm_boot_sb_forget(sb);
}

/* fs-verity checked a builtin signature (patch 0002, as mainline 6.12). */
static int ipevm_inode_setintegrity(const struct inode *inode,
				    enum lsm_integrity_type type,
				    const void *value, size_t size)
{
	if (type == LSM_INT_FSVERITY_BUILTINSIG_VALID)
		ipevm_inode_set_fsverity_signed(inode, value && size > 0);
	return 0;
}

static struct security_hook_list ipevm_hooks[] __lsm_ro_after_init = {
	LSM_HOOK_INIT(bprm_check_security, ipevm_bprm_check_security),
	LSM_HOOK_INIT(mmap_file, ipevm_mmap_file),
	LSM_HOOK_INIT(file_mprotect, ipevm_file_mprotect),
	LSM_HOOK_INIT(kernel_read_file, ipevm_kernel_read_file),
	LSM_HOOK_INIT(kernel_load_data, ipevm_kernel_load_data),
	LSM_HOOK_INIT(sb_free_security, ipevm_sb_free_security),
	LSM_HOOK_INIT(inode_setintegrity, ipevm_inode_setintegrity),
};

void __init ipevm_add_hooks(void)
{
	security_add_hooks(ipevm_hooks, ARRAY_SIZE(ipevm_hooks), IPEVM_NAME);
}
