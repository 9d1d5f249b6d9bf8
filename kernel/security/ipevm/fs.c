// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - securityfs interface, /sys/kernel/security/ipevm/
 *
 *   new_policy            0200  load signed policies (protocol below)
 *   enforce               0600  "1" enforcing, "0" permissive
 *   counters              0444  decision and load counters, "name value"
 *   policies/<name>/
 *     version             0444  "major.minor.patch"
 *     active              0600  "1" if active; write 1 to activate it
 *     cost                0444  worst-case steps, "max N" then per operation
 *     digest              0444  sha256:<hex> of the signed artifact (of the
 *                               bytecode, for the boot policy)
 *     delete              0200  write 1 to delete it (not the active one)
 *
 * Every write needs CAP_MAC_ADMIN (-EPERM otherwise); reads need nothing.
 *
 * The new_policy protocol. An artifact is a DER PKCS#7 SignedData, whose
 * first bytes (a SEQUENCE tag and length) say how long it is, or a signature
 * envelope (ipevm_bc.h: the bytecode and a detached SignedData, for policies
 * past the 64 KiB the kernel's ASN.1 decoder takes), whose 20-byte header
 * says how long it is. So:
 *  - open new_policy for writing, then write(2) the artifact in as many
 *    pieces as you like, in order (the file is a stream: no seeking);
 *  - the write(2) that completes an artifact loads it and returns its
 *    result: the byte count on success, or the load's errno;
 *  - further artifacts may follow on the same file descriptor, so
 *    `cat a.ipeb b.ipeb > new_policy` loads both, stopping at a failure;
 *  - a write(2) of zero bytes commits: it ends the pending artifact, which
 *    at that point can only be truncated, so it fails with -EBADMSG (and
 *    returns 0 when nothing is pending);
 *  - close(2) with a pending artifact does the same, but close cannot
 *    return the error: it is only logged and audited.
 * Bytes that can start neither (for example the "IPEB" magic of unsigned
 * bytecode) fail at once with -EBADMSG, and a length above
 * IPEVM_MAX_ARTIFACT with -EFBIG, before anything is buffered.
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "audit.h"
#include "fs.h"
#include "lsm.h"
#include "policy.h"

static struct dentry *root_dir, *policies_dir;

/* ---------------------------------------------------------------------- */
/* new_policy                                                             */
/* ---------------------------------------------------------------------- */

/*
 * The length of the DER element starting at p[0..n): 1 and *total when
 * known, 0 when more bytes are needed, -EBADMSG when p cannot start a
 * definite-length SEQUENCE, -EFBIG when it is longer than max.
 */
int ipevm_der_length(const u8 *p, size_t n, size_t max, size_t *total)
{
	size_t hdr, len = 0, nb, i;

	if (n < 1)
		return 0;
	if (p[0] != 0x30)
		return -EBADMSG;
	if (n < 2)
		return 0;
	if (p[1] < 0x80) {
		hdr = 2;
		len = p[1];
	} else {
		nb = p[1] & 0x7f;
		/* 0 is BER's indefinite length; DER never uses it. */
		if (!nb || nb > IPEVM_DER_HEAD_MAX - 2)
			return -EBADMSG;
		hdr = 2 + nb;
		if (n < hdr)
			return 0;
		for (i = 0; i < nb; i++)
			len = len << 8 | p[2 + i];
	}
	if (hdr > max || len > max - hdr)
		return -EFBIG;
	*total = hdr + len;
	return 1;
}

/*
 * The length of the artifact starting at p[0..n): a DER SignedData or a
 * signature envelope. Returns as ipevm_der_length().
 */
int ipevm_artifact_length(const u8 *p, size_t n, size_t max, size_t *total)
{
	u32 payload, sig, size;

	if (n < 1 || p[0] == 0x30)
		return ipevm_der_length(p, n, max, total);
	if (!ipevm_envelope_magic(p, n))
		return -EBADMSG;
	if (n < IPEVM_ENVELOPE_HDR_SIZE)
		return 0;
	size = ipevm_envelope_size(p, &payload, &sig);
	if (!size)
		return -EBADMSG;
	if (size > max)
		return -EFBIG;
	*total = size;
	return 1;
}

void ipevm_loader_init(struct ipevm_loader *ld,
		       int (*load)(void *ctx, const u8 *artifact, size_t len),
		       void (*reject)(void *ctx, int err), void *ctx)
{
	memset(ld, 0, sizeof(*ld));
	mutex_init(&ld->lock);
	ld->load = load;
	ld->reject = reject;
	ld->ctx = ctx;
}

static void loader_reset(struct ipevm_loader *ld)
{
	kvfree(ld->buf);
	ld->buf = NULL;
	ld->head_len = 0;
	ld->size = 0;
	ld->have = 0;
}

static int loader_reject(struct ipevm_loader *ld, int err)
{
	loader_reset(ld);
	if (ld->reject)
		ld->reject(ld->ctx, err);
	return err;
}

/* Take header bytes one at a time until the artifact's length is known. */
static int loader_head(struct ipevm_loader *ld, struct iov_iter *from)
{
	size_t total;
	int rc;

	if (!copy_from_iter_full(ld->head + ld->head_len, 1, from))
		return loader_reject(ld, -EFAULT);
	ld->head_len++;
	rc = ipevm_artifact_length(ld->head, ld->head_len, IPEVM_MAX_ARTIFACT,
				   &total);
	if (rc == -EBADMSG) {
		if (ld->head_len == 4 && ld->head[3] == IPEVM_MAGIC3)
			pr_warn("new_policy: unsigned bytecode; sign it (ipec --key --cert)\n");
		else if (ld->head_len == IPEVM_ENVELOPE_HDR_SIZE)
			pr_warn("new_policy: bad signature envelope header\n");
		else
			pr_warn("new_policy: neither a DER PKCS#7 SignedData nor a signature envelope\n");
		return loader_reject(ld, rc);
	}
	if (rc == -EFBIG) {
		pr_warn("new_policy: artifact larger than %u bytes\n",
			IPEVM_MAX_ARTIFACT);
		return loader_reject(ld, rc);
	}
	if (rc == 0)
		return 0;
	ld->buf = kvmalloc(total, GFP_KERNEL);
	if (!ld->buf)
		return loader_reject(ld, -ENOMEM);
	memcpy(ld->buf, ld->head, ld->head_len);
	ld->size = total;
	ld->have = ld->head_len;
	return 0;
}

/*
 * Feed one write(2). Returns the whole count once every completed artifact
 * in it loaded, or the first error (the pending artifact is dropped).
 */
ssize_t ipevm_loader_write(struct ipevm_loader *ld, struct iov_iter *from)
{
	size_t count = iov_iter_count(from);
	size_t n;
	int rc;

	if (!count)
		return ipevm_loader_finish(ld);
	while (iov_iter_count(from)) {
		if (!ld->buf) {
			rc = loader_head(ld, from);
			if (rc)
				return rc;
		} else {
			n = min(iov_iter_count(from), ld->size - ld->have);
			if (!copy_from_iter_full(ld->buf + ld->have, n, from))
				return loader_reject(ld, -EFAULT);
			ld->have += n;
		}
		if (ld->buf && ld->have == ld->size) {
			rc = ld->load(ld->ctx, ld->buf, ld->size);
			loader_reset(ld);
			if (rc)
				return rc;
		}
	}
	return count;
}

/* End the pending artifact: 0 if there is none, else it is truncated. */
int ipevm_loader_finish(struct ipevm_loader *ld)
{
	if (!ld->head_len)
		return 0;
	if (ld->buf)
		pr_warn("new_policy: truncated artifact, %zu of %zu bytes\n",
			ld->have, ld->size);
	else
		pr_warn("new_policy: truncated artifact, %zu header bytes\n",
			ld->head_len);
	return loader_reject(ld, -EBADMSG);
}

void ipevm_loader_destroy(struct ipevm_loader *ld)
{
	loader_reset(ld);
	mutex_destroy(&ld->lock);
}

static int load_artifact(void *ctx, const u8 *artifact, size_t len)
{
	return ipevm_policy_load(artifact, len);
}

static void reject_artifact(void *ctx, int err)
{
	ipevm_count(policy_load_failures);
	ipevm_audit_policy_load(NULL, NULL, err);
}

static bool may_admin(struct file *f)
{
	return file_ns_capable(f, &init_user_ns, CAP_MAC_ADMIN);
}

static int new_policy_open(struct inode *inode, struct file *f)
{
	struct ipevm_loader *ld;

	if (!may_admin(f))
		return -EPERM;
	ld = kmalloc(sizeof(*ld), GFP_KERNEL);
	if (!ld)
		return -ENOMEM;
	ipevm_loader_init(ld, load_artifact, reject_artifact, NULL);
	f->private_data = ld;
	return stream_open(inode, f);
}

static ssize_t new_policy_write(struct kiocb *iocb, struct iov_iter *from)
{
	struct ipevm_loader *ld = iocb->ki_filp->private_data;
	ssize_t rc;

	if (!may_admin(iocb->ki_filp))
		return -EPERM;
	mutex_lock(&ld->lock);
	rc = ipevm_loader_write(ld, from);
	mutex_unlock(&ld->lock);
	return rc;
}

static int new_policy_release(struct inode *inode, struct file *f)
{
	struct ipevm_loader *ld = f->private_data;

	ipevm_loader_finish(ld);
	ipevm_loader_destroy(ld);
	kfree(ld);
	return 0;
}

static const struct file_operations new_policy_fops = {
	.open = new_policy_open,
	.write_iter = new_policy_write,
	.release = new_policy_release,
	.llseek = no_llseek,
};

/* ---------------------------------------------------------------------- */
/* enforce and counters                                                   */
/* ---------------------------------------------------------------------- */

static ssize_t enforce_read(struct file *f, char __user *buf, size_t len,
			    loff_t *ppos)
{
	char tmp[3];
	int n = scnprintf(tmp, sizeof(tmp), "%d\n", READ_ONCE(ipevm_enforce));

	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static ssize_t enforce_write(struct file *f, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	bool value, old;
	int rc;

	if (!may_admin(f))
		return -EPERM;
	rc = kstrtobool_from_user(buf, len, &value);
	if (rc)
		return rc;
	mutex_lock(&ipevm_policy_mutex);
	old = READ_ONCE(ipevm_enforce);
	if (value != old) {
		WRITE_ONCE(ipevm_enforce, value);
		ipevm_audit_enforce(value, old, ipevm_policy_active_locked());
		pr_info("now %s\n", value ? "enforcing" : "permissive");
	}
	mutex_unlock(&ipevm_policy_mutex);
	return len;
}

static const struct file_operations enforce_fops = {
	.read = enforce_read,
	.write = enforce_write,
	.llseek = generic_file_llseek,
};

static ssize_t counters_read(struct file *f, char __user *buf, size_t len,
			     loff_t *ppos)
{
	struct ipevm_counters c;
	char tmp[512];
	int n;

	ipevm_counters_sum(&c);
	n = scnprintf(tmp, sizeof(tmp),
		      "evaluations %lu\nallowed %lu\ndenied %lu\npermissive %lu\nerrors %lu\naudited %lu\nsteps %lu\npolicy_loads %lu\npolicy_load_failures %lu\n",
		      c.evaluations, c.allowed, c.denied, c.permissive,
		      c.errors, c.audited, c.steps, c.policy_loads,
		      c.policy_load_failures);
	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static const struct file_operations counters_fops = {
	.read = counters_read,
	.llseek = generic_file_llseek,
};

/* ---------------------------------------------------------------------- */
/* policies/<name>/                                                       */
/* ---------------------------------------------------------------------- */

enum { PF_VERSION, PF_ACTIVE, PF_COST, PF_DIGEST, PF_DELETE, PF_COUNT };

/*
 * The directory of one policy name. Its files reach the policy by name, so
 * a replacement (a higher version of the same name) shows through at once.
 * The files' i_private points here; it is cleared, under
 * ipevm_policy_mutex, before the directory goes, so a file still open then
 * finds nothing (-ENOENT) instead of freed memory.
 */
struct ipevm_policy_dir {
	struct list_head list;
	struct dentry *dir;
	struct dentry *files[PF_COUNT];
	char name[];
};

static LIST_HEAD(policy_dirs);

/* The policy behind a policies/<name>/ file; ipevm_policy_mutex held. */
static struct ipevm_policy *policy_of(struct file *f)
{
	struct ipevm_policy_dir *pd = file_inode(f)->i_private;

	lockdep_assert_held(&ipevm_policy_mutex);
	return pd ? ipevm_policy_find(pd->name) : NULL;
}

static const char *const op_file_names[IPEVM_OP_COUNT] = {
	"execute", "mmap_exec", "mprotect_exec", "firmware", "kmodule",
	"kexec_image", "kexec_initramfs", "policy", "x509_cert",
};

static int format_file(struct ipevm_policy *p, int which, char *tmp,
		       size_t size)
{
	const u16 *v = p->prog.version;
	int n, op;

	switch (which) {
	case PF_VERSION:
		return scnprintf(tmp, size, "%u.%u.%u\n", v[0], v[1], v[2]);
	case PF_ACTIVE:
		return scnprintf(tmp, size, "%d\n",
				 ipevm_policy_active_locked() == p);
	case PF_COST:
		n = scnprintf(tmp, size, "max %u\n", p->prog.max_cost);
		for (op = 0; op < IPEVM_OP_COUNT; op++)
			n += scnprintf(tmp + n, size - n, "%s %u\n",
				       op_file_names[op], p->prog.op_cost[op]);
		return n;
	case PF_DIGEST:
		return scnprintf(tmp, size, "sha256:%*phN\n",
				 (int)sizeof(p->digest), p->digest);
	default:
		return -EINVAL;
	}
}

static ssize_t policy_file_read(struct file *f, char __user *buf, size_t len,
				loff_t *ppos, int which)
{
	struct ipevm_policy *p;
	char tmp[512];
	int n;

	mutex_lock(&ipevm_policy_mutex);
	p = policy_of(f);
	n = p ? format_file(p, which, tmp, sizeof(tmp)) : -ENOENT;
	mutex_unlock(&ipevm_policy_mutex);
	if (n < 0)
		return n;
	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static ssize_t version_read(struct file *f, char __user *buf, size_t len,
			    loff_t *ppos)
{
	return policy_file_read(f, buf, len, ppos, PF_VERSION);
}

static ssize_t active_read(struct file *f, char __user *buf, size_t len,
			   loff_t *ppos)
{
	return policy_file_read(f, buf, len, ppos, PF_ACTIVE);
}

static ssize_t cost_read(struct file *f, char __user *buf, size_t len,
			 loff_t *ppos)
{
	return policy_file_read(f, buf, len, ppos, PF_COST);
}

static ssize_t digest_read(struct file *f, char __user *buf, size_t len,
			   loff_t *ppos)
{
	return policy_file_read(f, buf, len, ppos, PF_DIGEST);
}

/* Writes to active and delete take a boolean, and only "true" means it. */
static int admin_true(struct file *f, const char __user *buf, size_t len)
{
	bool value;
	int rc;

	if (!may_admin(f))
		return -EPERM;
	rc = kstrtobool_from_user(buf, len, &value);
	if (rc)
		return rc;
	return value ? 0 : -EINVAL;
}

static ssize_t active_write(struct file *f, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	struct ipevm_policy *p;
	int rc = admin_true(f, buf, len);

	if (rc)
		return rc;
	mutex_lock(&ipevm_policy_mutex);
	p = policy_of(f);
	rc = p ? ipevm_policy_activate(p) : -ENOENT;
	mutex_unlock(&ipevm_policy_mutex);
	return rc ? rc : len;
}

/*
 * Remove a policy's directory. Its files may still be open (delete_write()
 * runs in one of them): clear their i_private first, then remove the whole
 * directory with securityfs_recursive_remove() (patch 0004), which, unlike
 * securityfs_remove(), also works while a file in it is open.
 */
static void remove_policy_dir(struct ipevm_policy_dir *pd)
{
	int i;

	for (i = 0; i < PF_COUNT; i++) {
		if (!IS_ERR_OR_NULL(pd->files[i]))
			d_inode(pd->files[i])->i_private = NULL;
	}
	securityfs_recursive_remove(pd->dir);
	list_del(&pd->list);
	kfree(pd);
}

static ssize_t delete_write(struct file *f, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	struct ipevm_policy_dir *pd;
	struct ipevm_policy *p;
	int rc = admin_true(f, buf, len);

	if (rc)
		return rc;
	mutex_lock(&ipevm_policy_mutex);
	pd = file_inode(f)->i_private;
	p = policy_of(f);
	rc = p ? ipevm_policy_delete(p) : -ENOENT;
	if (!rc)
		remove_policy_dir(pd);
	mutex_unlock(&ipevm_policy_mutex);
	if (rc)
		return rc;
	/* A hook may still be deciding with it, were it active just now. */
	synchronize_rcu();
	ipevm_policy_free(p);
	return len;
}

static const struct file_operations policy_fops[PF_COUNT] = {
	[PF_VERSION] = { .read = version_read, .llseek = generic_file_llseek },
	[PF_ACTIVE] = { .read = active_read, .write = active_write,
			.llseek = generic_file_llseek },
	[PF_COST] = { .read = cost_read, .llseek = generic_file_llseek },
	[PF_DIGEST] = { .read = digest_read, .llseek = generic_file_llseek },
	[PF_DELETE] = { .write = delete_write, .llseek = generic_file_llseek },
};

static const struct {
	const char *name;
	umode_t mode;
} policy_files[PF_COUNT] = {
	[PF_VERSION] = { "version", 0444 },
	[PF_ACTIVE] = { "active", 0600 },
	[PF_COST] = { "cost", 0444 },
	[PF_DIGEST] = { "digest", 0444 },
	[PF_DELETE] = { "delete", 0200 },
};

/* Give a newly loaded name its directory; ipevm_policy_mutex held. */
int ipevm_fs_add_policy(struct ipevm_policy *p)
{
	struct ipevm_policy_dir *pd;
	int i, rc;

	lockdep_assert_held(&ipevm_policy_mutex);
	if (!policies_dir)
		return -ENODEV;
	pd = kzalloc(struct_size(pd, name, strlen(p->name) + 1), GFP_KERNEL);
	if (!pd)
		return -ENOMEM;
	strcpy(pd->name, p->name);
	INIT_LIST_HEAD(&pd->list);
	pd->dir = securityfs_create_dir(pd->name, policies_dir);
	if (IS_ERR(pd->dir)) {
		rc = PTR_ERR(pd->dir);
		kfree(pd);
		return rc;
	}
	for (i = 0; i < PF_COUNT; i++) {
		pd->files[i] = securityfs_create_file(policy_files[i].name,
						      policy_files[i].mode,
						      pd->dir, pd,
						      &policy_fops[i]);
		if (IS_ERR(pd->files[i])) {
			rc = PTR_ERR(pd->files[i]);
			remove_policy_dir(pd);
			return rc;
		}
	}
	list_add_tail(&pd->list, &policy_dirs);
	return 0;
}

static int __init ipevm_fs_init(void)
{
	struct ipevm_policy *p;
	struct dentry *d;
	int rc;

	if (!ipevm_enabled)
		return 0;
	root_dir = securityfs_create_dir(IPEVM_NAME, NULL);
	if (IS_ERR(root_dir))
		goto fail;
	d = securityfs_create_file("new_policy", 0200, root_dir, NULL,
				   &new_policy_fops);
	if (IS_ERR(d))
		goto fail;
	d = securityfs_create_file("enforce", 0600, root_dir, NULL,
				   &enforce_fops);
	if (IS_ERR(d))
		goto fail;
	d = securityfs_create_file("counters", 0444, root_dir, NULL,
				   &counters_fops);
	if (IS_ERR(d))
		goto fail;
	policies_dir = securityfs_create_dir("policies", root_dir);
	if (IS_ERR(policies_dir)) {
		policies_dir = NULL;
		goto fail;
	}
	/* Only the boot policy can have been loaded before us. */
	mutex_lock(&ipevm_policy_mutex);
	p = ipevm_policy_active_locked();
	rc = p ? ipevm_fs_add_policy(p) : 0;
	mutex_unlock(&ipevm_policy_mutex);
	if (rc)
		pr_err("cannot list the boot policy in securityfs (%d)\n", rc);
	return 0;
fail:
	/* Policies can only be loaded through here: none will ever be. */
	pr_err("cannot create /sys/kernel/security/%s; no policy can be loaded\n",
	       IPEVM_NAME);
	return -ENOMEM;
}

fs_initcall(ipevm_fs_init);
