// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - KUnit tests of the glue: property gathering, the securityfs
 * new_policy protocol, the rollback rules and the boot policy's fail-closed
 * path. The interpreter has its own
 * tests in user space (the ipec repository's test/unit/); these run at
 * boot, before init, so they must leave no global state behind.
 */

#include <kunit/test.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/shmem_fs.h>
#include <linux/uio.h>

#include "audit.h"
#include "boot.h"
#include "fs.h"
#include "hooks.h"
#include "policy.h"
#include "props.h"

/* ---------------------------------------------------------------------- */
/* Property gathering                                                     */
/* ---------------------------------------------------------------------- */

static void fetch_all(struct kunit *test, struct ipevm_ctx *ctx)
{
	u32 prop;

	for (prop = 0; prop < IPEVM_PROP_COUNT; prop++) {
		KUNIT_EXPECT_EQ(test, ctx->ev.fetch(&ctx->ev, prop), 0);
		KUNIT_EXPECT_TRUE(test, ctx->ev.have & BIT(prop));
	}
}

static bool has(const struct ipevm_ctx *ctx, u32 prop)
{
	return ctx->ev.bools & BIT(prop);
}

static const struct ipevm_digest *digest(const struct ipevm_ctx *ctx,
					 u32 prop)
{
	return &ctx->ev.digest[prop - IPEVM_PROP_FIRST_DIGEST];
}

/* Anonymous memory: only writable may hold; no digest is present. */
static void props_no_file(struct kunit *test)
{
	struct ipevm_ctx ctx;

	ipevm_ctx_init(&ctx, IPEVM_OP_MPROTECT_EXEC, IPEVM_HOOK_MPROTECT, NULL,
		       true);
	KUNIT_EXPECT_EQ(test, ctx.ev.have, 0U);
	KUNIT_EXPECT_PTR_EQ(test, (void *)ctx.ev.fetch,
			    (void *)ipevm_props_fetch);
	fetch_all(test, &ctx);
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_HAS_FILE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_BOOT_VERIFIED));
	KUNIT_EXPECT_TRUE(test, has(&ctx, IPEVM_PROP_WRITABLE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_FSVERITY_SIGNATURE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_DMVERITY_SIGNATURE));
	KUNIT_EXPECT_NULL(test, digest(&ctx, IPEVM_PROP_FSVERITY_DIGEST)->bytes);
	KUNIT_EXPECT_NULL(test,
			  digest(&ctx, IPEVM_PROP_DMVERITY_ROOTHASH)->bytes);
}

/* A tmpfs file: a file, not boot verified, no verity of any kind. */
static void props_tmpfs_file(struct kunit *test)
{
	struct ipevm_ctx ctx;
	struct file *file;

	file = shmem_kernel_file_setup("ipevm-kunit", PAGE_SIZE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	ipevm_ctx_init(&ctx, IPEVM_OP_MMAP_EXEC, IPEVM_HOOK_MMAP, file, false);
	fetch_all(test, &ctx);
	KUNIT_EXPECT_TRUE(test, has(&ctx, IPEVM_PROP_HAS_FILE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_BOOT_VERIFIED));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_WRITABLE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_FSVERITY_SIGNATURE));
	KUNIT_EXPECT_FALSE(test, has(&ctx, IPEVM_PROP_DMVERITY_SIGNATURE));
	KUNIT_EXPECT_NULL(test, digest(&ctx, IPEVM_PROP_FSVERITY_DIGEST)->bytes);
	KUNIT_EXPECT_NULL(test,
			  digest(&ctx, IPEVM_PROP_DMVERITY_ROOTHASH)->bytes);
	fput(file);
}

/* One device-mapper lookup answers both dm-verity properties. */
static void props_dmverity_fetched_together(struct kunit *test)
{
	struct ipevm_ctx ctx;

	ipevm_ctx_init(&ctx, IPEVM_OP_EXECUTE, IPEVM_HOOK_BPRM_CHECK, NULL,
		       false);
	KUNIT_EXPECT_EQ(test,
			ctx.ev.fetch(&ctx.ev, IPEVM_PROP_DMVERITY_ROOTHASH), 0);
	KUNIT_EXPECT_EQ(test, ctx.ev.have,
			(u32)(BIT(IPEVM_PROP_DMVERITY_ROOTHASH) |
			      BIT(IPEVM_PROP_DMVERITY_SIGNATURE)));
}

static void props_unknown_prop(struct kunit *test)
{
	struct ipevm_ctx ctx;

	ipevm_ctx_init(&ctx, IPEVM_OP_EXECUTE, IPEVM_HOOK_BPRM_CHECK, NULL,
		       false);
	KUNIT_EXPECT_LT(test, ctx.ev.fetch(&ctx.ev, IPEVM_PROP_COUNT), 0);
}

/* The first superblock pinned stays; once it goes, nothing is pinned. */
static void props_boot_pinning(struct kunit *test)
{
	struct super_block *slot = NULL;
	struct super_block *a = (struct super_block *)0x1000;
	struct super_block *b = (struct super_block *)0x2000;

	KUNIT_EXPECT_FALSE(test, ipevm_sb_is_pinned(&slot, a));
	KUNIT_EXPECT_TRUE(test, ipevm_sb_pin(&slot, a));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_pin(&slot, b));
	KUNIT_EXPECT_TRUE(test, ipevm_sb_is_pinned(&slot, a));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_is_pinned(&slot, b));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_is_pinned(&slot, NULL));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_forget(&slot, b));
	KUNIT_EXPECT_TRUE(test, ipevm_sb_is_pinned(&slot, a));
	KUNIT_EXPECT_TRUE(test, ipevm_sb_forget(&slot, a));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_is_pinned(&slot, a));
	/* Never pinned again, even at the same address. */
	KUNIT_EXPECT_FALSE(test, ipevm_sb_pin(&slot, a));
	KUNIT_EXPECT_FALSE(test, ipevm_sb_is_pinned(&slot, a));
}

static struct kunit_case props_cases[] = {
	KUNIT_CASE(props_no_file),
	KUNIT_CASE(props_tmpfs_file),
	KUNIT_CASE(props_dmverity_fetched_together),
	KUNIT_CASE(props_unknown_prop),
	KUNIT_CASE(props_boot_pinning),
	{}
};

static struct kunit_suite props_suite = {
	.name = "ipevm_props",
	.test_cases = props_cases,
};

/* ---------------------------------------------------------------------- */
/* securityfs: the new_policy protocol                                    */
/* ---------------------------------------------------------------------- */

static void der_length(struct kunit *test)
{
	static const u8 short_form[] = { 0x30, 0x05 };
	static const u8 long_form[] = { 0x30, 0x82, 0x01, 0x00 };
	static const u8 indefinite[] = { 0x30, 0x80 };
	static const u8 unsigned_bc[] = { 'I', 'P', 'E', 'B' };
	static const u8 huge[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff };
	static const u8 five[] = { 0x30, 0x85, 0, 0, 0, 1 };
	size_t total = 0;

	KUNIT_EXPECT_EQ(test, ipevm_der_length(short_form, 0, 100, &total), 0);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(short_form, 1, 100, &total), 0);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(short_form, 2, 100, &total), 1);
	KUNIT_EXPECT_EQ(test, total, (size_t)7);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(long_form, 3, 1000, &total), 0);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(long_form, 4, 1000, &total), 1);
	KUNIT_EXPECT_EQ(test, total, (size_t)260);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(long_form, 4, 259, &total),
			-EFBIG);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(indefinite, 2, 100, &total),
			-EBADMSG);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(unsigned_bc, 1, 100, &total),
			-EBADMSG);
	KUNIT_EXPECT_EQ(test,
			ipevm_der_length(huge, 6, IPEVM_MAX_ARTIFACT, &total),
			-EFBIG);
	KUNIT_EXPECT_EQ(test, ipevm_der_length(five, 6, 100, &total),
			-EBADMSG);
}

static void put_le32(u8 *p, u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void artifact_length(struct kunit *test)
{
	u8 env[IPEVM_ENVELOPE_HDR_SIZE];
	static const u8 unsigned_bc[] = { 'I', 'P', 'E', 'B' };
	static const u8 der[] = { 0x30, 0x05 };
	size_t total = 0;

	memcpy(env, IPEVM_ENVELOPE_MAGIC, IPEVM_ENVELOPE_MAGIC_LEN);
	put_le32(env + 8, IPEVM_ENVELOPE_VERSION);
	put_le32(env + 12, 100000);
	put_le32(env + 16, 1500);
	/* A prefix of the magic, then of the header: more bytes needed. */
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 3, 1 << 24, &total),
			0);
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 19, 1 << 24, &total),
			0);
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 20, 1 << 24, &total),
			1);
	KUNIT_EXPECT_EQ(test, total, (size_t)(20 + 100000 + 1500));
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 20, 100000, &total),
			-EFBIG);
	/* Unsigned bytecode parts from the magic at its fourth byte. */
	KUNIT_EXPECT_EQ(test,
			ipevm_artifact_length(unsigned_bc, 3, 1 << 24, &total),
			0);
	KUNIT_EXPECT_EQ(test,
			ipevm_artifact_length(unsigned_bc, 4, 1 << 24, &total),
			-EBADMSG);
	/* DER goes the old way. */
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(der, 2, 100, &total), 1);
	KUNIT_EXPECT_EQ(test, total, (size_t)7);
	/* Unknown version, empty payload or signature, overflow. */
	put_le32(env + 8, 2);
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 20, 1 << 24, &total),
			-EBADMSG);
	put_le32(env + 8, IPEVM_ENVELOPE_VERSION);
	put_le32(env + 16, 0);
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 20, 1 << 24, &total),
			-EBADMSG);
	put_le32(env + 16, 0xfffffff0u);
	KUNIT_EXPECT_EQ(test, ipevm_artifact_length(env, 20, 1 << 24, &total),
			-EBADMSG);
}

struct fake_loads {
	int loads;
	size_t len[4];
	u8 last[4];		/* last byte of each artifact */
	int rc;			/* what load returns */
	int rejects;
	int reject_err;
};

static int fake_load(void *ctx, const u8 *artifact, size_t len)
{
	struct fake_loads *f = ctx;

	if (f->loads < ARRAY_SIZE(f->len)) {
		f->len[f->loads] = len;
		f->last[f->loads] = artifact[len - 1];
	}
	f->loads++;
	return f->rc;
}

static void fake_reject(void *ctx, int err)
{
	struct fake_loads *f = ctx;

	f->rejects++;
	f->reject_err = err;
}

static ssize_t feed(struct ipevm_loader *ld, const u8 *data, size_t len)
{
	struct kvec kv = { .iov_base = (void *)data, .iov_len = len };
	struct iov_iter it;

	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	return ipevm_loader_write(ld, &it);
}

/* Two artifacts of 7 and 4 bytes, the first ending in AA, the second BB. */
static const u8 two[] = { 0x30, 0x05, 1, 2, 3, 4, 0xaa, 0x30, 0x02, 5, 0xbb };

static void loader_pieces(struct kunit *test)
{
	struct fake_loads f = { 0 };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 1), 1);
	KUNIT_EXPECT_EQ(test, feed(&ld, two + 1, 2), 2);
	KUNIT_EXPECT_EQ(test, f.loads, 0);
	KUNIT_EXPECT_EQ(test, feed(&ld, two + 3, 4), 4);
	KUNIT_EXPECT_EQ(test, f.loads, 1);
	KUNIT_EXPECT_EQ(test, f.len[0], (size_t)7);
	KUNIT_EXPECT_EQ(test, f.last[0], 0xaa);
	/* Nothing pending: a zero-length commit is a no-op. */
	KUNIT_EXPECT_EQ(test, feed(&ld, NULL, 0), 0);
	KUNIT_EXPECT_EQ(test, f.rejects, 0);
	ipevm_loader_destroy(&ld);
}

static void loader_straddling(struct kunit *test)
{
	struct fake_loads f = { 0 };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 8), 8);
	KUNIT_EXPECT_EQ(test, f.loads, 1);
	KUNIT_EXPECT_EQ(test, feed(&ld, two + 8, 3), 3);
	KUNIT_EXPECT_EQ(test, f.loads, 2);
	KUNIT_EXPECT_EQ(test, f.len[1], (size_t)4);
	KUNIT_EXPECT_EQ(test, f.last[1], 0xbb);
	/* Both in one write. */
	KUNIT_EXPECT_EQ(test, feed(&ld, two, sizeof(two)), (ssize_t)sizeof(two));
	KUNIT_EXPECT_EQ(test, f.loads, 4);
	ipevm_loader_destroy(&ld);
}

/* The write completing an artifact returns its load error. */
static void loader_load_error(struct kunit *test)
{
	struct fake_loads f = { .rc = -ESTALE };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 3), 3);
	KUNIT_EXPECT_EQ(test, feed(&ld, two + 3, 4), -ESTALE);
	f.rc = 0;
	KUNIT_EXPECT_EQ(test, feed(&ld, two + 7, 4), 4);
	KUNIT_EXPECT_EQ(test, f.loads, 2);
	ipevm_loader_destroy(&ld);
}

static void loader_unsigned(struct kunit *test)
{
	static const u8 bytecode[] = { 'I', 'P', 'E', 'B', 1, 0 };
	struct fake_loads f = { 0 };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, bytecode, sizeof(bytecode)), -EBADMSG);
	KUNIT_EXPECT_EQ(test, f.loads, 0);
	KUNIT_EXPECT_EQ(test, f.rejects, 1);
	KUNIT_EXPECT_EQ(test, f.reject_err, -EBADMSG);
	/* The loader starts over after a refusal. */
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 7), 7);
	KUNIT_EXPECT_EQ(test, f.loads, 1);
	ipevm_loader_destroy(&ld);
}

static void loader_truncated_commit(struct kunit *test)
{
	struct fake_loads f = { 0 };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 5), 5);
	KUNIT_EXPECT_EQ(test, feed(&ld, NULL, 0), -EBADMSG);
	KUNIT_EXPECT_EQ(test, f.rejects, 1);
	KUNIT_EXPECT_EQ(test, f.loads, 0);
	/* Only a header byte pending: truncated too. */
	KUNIT_EXPECT_EQ(test, feed(&ld, two, 1), 1);
	KUNIT_EXPECT_EQ(test, ipevm_loader_finish(&ld), -EBADMSG);
	KUNIT_EXPECT_EQ(test, f.rejects, 2);
	KUNIT_EXPECT_EQ(test, ipevm_loader_finish(&ld), 0);
	ipevm_loader_destroy(&ld);
}

static void loader_too_big(struct kunit *test)
{
	static const u8 big[] = { 0x30, 0x84, 0x7f, 0, 0, 0 };
	struct fake_loads f = { 0 };
	struct ipevm_loader ld;

	ipevm_loader_init(&ld, fake_load, fake_reject, &f);
	KUNIT_EXPECT_EQ(test, feed(&ld, big, sizeof(big)), -EFBIG);
	KUNIT_EXPECT_EQ(test, f.reject_err, -EFBIG);
	ipevm_loader_destroy(&ld);
}

static struct kunit_case fs_cases[] = {
	KUNIT_CASE(der_length),
	KUNIT_CASE(artifact_length),
	KUNIT_CASE(loader_pieces),
	KUNIT_CASE(loader_straddling),
	KUNIT_CASE(loader_load_error),
	KUNIT_CASE(loader_unsigned),
	KUNIT_CASE(loader_truncated_commit),
	KUNIT_CASE(loader_too_big),
	{}
};

static struct kunit_suite fs_suite = {
	.name = "ipevm_fs",
	.test_cases = fs_cases,
};

/* ---------------------------------------------------------------------- */
/* Policy rules                                                           */
/* ---------------------------------------------------------------------- */

static void set_version(struct ipevm_policy *p, u16 a, u16 b, u16 c)
{
	p->prog.version[0] = a;
	p->prog.version[1] = b;
	p->prog.version[2] = c;
}

static void version_order(struct kunit *test)
{
	static const u16 v100[3] = { 1, 0, 0 }, v099[3] = { 0, 9, 9 };
	static const u16 v1_0_1[3] = { 1, 0, 1 }, v1_1_0[3] = { 1, 1, 0 };

	KUNIT_EXPECT_EQ(test, ipevm_version_cmp(v100, v100), 0);
	KUNIT_EXPECT_EQ(test, ipevm_version_cmp(v099, v100), -1);
	KUNIT_EXPECT_EQ(test, ipevm_version_cmp(v100, v099), 1);
	KUNIT_EXPECT_EQ(test, ipevm_version_cmp(v1_0_1, v1_1_0), -1);
	KUNIT_EXPECT_EQ(test, ipevm_version_cmp(v1_1_0, v1_0_1), 1);
}

static void replace_needs_higher_version(struct kunit *test)
{
	struct ipevm_policy *old, *new;

	old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);
	new = kunit_kzalloc(test, sizeof(*new), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_NOT_NULL(test, new);
	set_version(old, 1, 2, 3);
	set_version(new, 1, 2, 3);
	KUNIT_EXPECT_EQ(test, ipevm_check_replace(old, new), -ESTALE);
	set_version(new, 1, 2, 2);
	KUNIT_EXPECT_EQ(test, ipevm_check_replace(old, new), -ESTALE);
	set_version(new, 0, 65535, 65535);
	KUNIT_EXPECT_EQ(test, ipevm_check_replace(old, new), -ESTALE);
	set_version(new, 1, 2, 4);
	KUNIT_EXPECT_EQ(test, ipevm_check_replace(old, new), 0);
	set_version(new, 2, 0, 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_replace(old, new), 0);
}

static void activate_never_lower(struct kunit *test)
{
	struct ipevm_policy *active, *new;

	active = kunit_kzalloc(test, sizeof(*active), GFP_KERNEL);
	new = kunit_kzalloc(test, sizeof(*new), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, active);
	KUNIT_ASSERT_NOT_NULL(test, new);
	set_version(new, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, ipevm_check_activate(NULL, new), 0);
	set_version(active, 2, 0, 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_activate(active, new), -EINVAL);
	set_version(new, 1, 9, 9);
	KUNIT_EXPECT_EQ(test, ipevm_check_activate(active, new), -EINVAL);
	set_version(new, 2, 0, 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_activate(active, new), 0);
	set_version(new, 2, 0, 1);
	KUNIT_EXPECT_EQ(test, ipevm_check_activate(active, new), 0);
}

static void verifier_errnos(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_OK), 0);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_BAD_MAGIC), -EBADMSG);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_TRUNCATED), -EBADMSG);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_BAD_JUMP), -EBADMSG);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_BAD_FORMAT_VERSION),
			-EPROTONOSUPPORT);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_UNKNOWN_SECTION),
			-EPROTONOSUPPORT);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_COST_LIMIT), -E2BIG);
	KUNIT_EXPECT_EQ(test, ipevm_verify_errno(IPEVM_E_BAD_NAME), -EINVAL);
}

static void policy_names(struct kunit *test)
{
	static u8 long_name[IPEVM_MAX_POLICY_NAME + 1];

	memset(long_name, 'a', sizeof(long_name));
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"fw-appliance", 12), 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a", 1), 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"...", 3), 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_name(long_name, 255), 0);
	KUNIT_EXPECT_EQ(test, ipevm_check_name(long_name, 256), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"", 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)".", 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"..", 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a/b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a#b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a\nb", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipevm_check_name((const u8 *)"a\0b", 3), -EINVAL);
}

static struct kunit_case policy_cases[] = {
	KUNIT_CASE(version_order),
	KUNIT_CASE(replace_needs_higher_version),
	KUNIT_CASE(activate_never_lower),
	KUNIT_CASE(verifier_errnos),
	KUNIT_CASE(policy_names),
	{}
};

static struct kunit_suite policy_suite = {
	.name = "ipevm_policy",
	.test_cases = policy_cases,
};

/* ---------------------------------------------------------------------- */
/* The boot policy: fail closed                                           */
/* ---------------------------------------------------------------------- */

static void boot_policy_none(struct kunit *test)
{
	struct ipevm_policy *p = ERR_PTR(-EINVAL);

	KUNIT_EXPECT_EQ(test, ipevm_boot_policy_check(NULL, 0, false, &p), 0);
	KUNIT_EXPECT_NULL(test, p);
}

/* Configured, but the image holds nothing: an error, never "no policy". */
static void boot_policy_missing(struct kunit *test)
{
	static const u8 nothing[1];
	struct ipevm_policy *p = ERR_PTR(-EINVAL);

	KUNIT_EXPECT_EQ(test, ipevm_boot_policy_check(nothing, 0, true, &p),
			-ENODATA);
	KUNIT_EXPECT_NULL(test, p);
}

static void boot_policy_malformed(struct kunit *test)
{
	static const u8 garbage[] = "hello, this is not bytecode";
	static const u8 header_only[] = { 'I', 'P', 'E', 'B', 1, 0, 0, 0 };
	static const u8 signed_der[] = { 0x30, 0x82, 0x01, 0x00, 0x06, 0x09 };
	struct ipevm_policy *p = ERR_PTR(-EINVAL);

	KUNIT_EXPECT_EQ(test, ipevm_boot_policy_check(garbage, sizeof(garbage),
						      true, &p), -EBADMSG);
	KUNIT_EXPECT_NULL(test, p);
	KUNIT_EXPECT_LT(test, ipevm_boot_policy_check(header_only,
						      sizeof(header_only),
						      true, &p), 0);
	KUNIT_EXPECT_NULL(test, p);
	/* A signed artifact is not bytecode: the boot blob is never parsed as PKCS#7. */
	KUNIT_EXPECT_EQ(test, ipevm_boot_policy_check(signed_der,
						      sizeof(signed_der),
						      true, &p), -EBADMSG);
	KUNIT_EXPECT_NULL(test, p);
}

/* Without a policy: allow, unless failing closed; then deny every op. */
static void fail_closed_denies(struct kunit *test)
{
	struct ipevm_decision d;
	struct ipevm_ctx ctx;
	u32 op;

	for (op = 0; op < IPEVM_OP_COUNT; op++) {
		ipevm_ctx_init(&ctx, op, IPEVM_HOOK_MMAP, NULL, false);
		KUNIT_EXPECT_EQ(test, ipevm_verdict(&ctx, NULL, false, &d),
				IPEVM_E_OK);
		KUNIT_EXPECT_TRUE(test, d.allow);
		KUNIT_EXPECT_EQ(test, ipevm_verdict(&ctx, NULL, true, &d),
				IPEVM_E_OK);
		KUNIT_EXPECT_FALSE(test, d.allow);
		KUNIT_EXPECT_FALSE(test, d.audit);
	}
	/* The record of such a denial (kernel/run-tests checks its format). */
	ipevm_ctx_init(&ctx, IPEVM_OP_MMAP_EXEC, IPEVM_HOOK_MMAP, NULL, false);
	ipevm_verdict(&ctx, NULL, true, &d);
	ipevm_audit_access(&ctx, NULL, &d, IPEVM_E_OK, true);
}

static struct kunit_case boot_cases[] = {
	KUNIT_CASE(boot_policy_none),
	KUNIT_CASE(boot_policy_missing),
	KUNIT_CASE(boot_policy_malformed),
	KUNIT_CASE(fail_closed_denies),
	{}
};

static struct kunit_suite boot_suite = {
	.name = "ipevm_boot",
	.test_cases = boot_cases,
};

kunit_test_suites(&props_suite, &fs_suite, &policy_suite, &boot_suite);
