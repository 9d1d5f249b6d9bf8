// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - policies: load, verify, keep by name, activate
 *
 * A policy arrives as a PKCS#7 SignedData whose attached content is ipevm
 * bytecode. Loading checks the signature against the builtin and secondary
 * trusted keyrings, copies the content and runs the verifier over it, which
 * proves every decision ends within CONFIG_SECURITY_IPEVM_COST_LIMIT steps.
 *
 * Loaded policies are kept by name; at most one is active. The rollback
 * rules are upstream IPE's (6.12):
 *  - loading a policy whose name is loaded replaces it, and needs a strictly
 *    higher version (-ESTALE otherwise); if it was active, the new version is
 *    active at once;
 *  - activation is refused (-EINVAL) for a version lower than the active
 *    policy's, whatever its name;
 *  - the active policy cannot be deleted (-EPERM).
 * The floor is not persistent: it restarts at "nothing active" every boot.
 */

#define pr_fmt(fmt) "ipevm: " fmt

#include <crypto/sha2.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/verification.h>

#include "audit.h"
#include "fs.h"
#include "lsm.h"
#include "policy.h"

/* Serialises changes to the policy list and the active pointer. */
DEFINE_MUTEX(ipevm_policy_mutex);
struct ipevm_policy __rcu *ipevm_active_policy;
static LIST_HEAD(ipevm_policies);

int ipevm_version_cmp(const u16 a[3], const u16 b[3])
{
	int i;

	for (i = 0; i < 3; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* Replacing a loaded policy: a version names one content, so equal fails. */
int ipevm_check_replace(const struct ipevm_policy *old,
			const struct ipevm_policy *new)
{
	if (ipevm_version_cmp(new->prog.version, old->prog.version) <= 0)
		return -ESTALE;
	return 0;
}

/* Activating: never below the active policy's version (equal is fine). */
int ipevm_check_activate(const struct ipevm_policy *active,
			 const struct ipevm_policy *new)
{
	if (active &&
	    ipevm_version_cmp(new->prog.version, active->prog.version) < 0)
		return -EINVAL;
	return 0;
}

/* The errno for each verifier verdict, as docs/bytecode.md documents. */
int ipevm_verify_errno(enum ipevm_err err)
{
	switch (err) {
	case IPEVM_E_OK:
		return 0;
	case IPEVM_E_BAD_FORMAT_VERSION:
	case IPEVM_E_UNKNOWN_SECTION:
		return -EPROTONOSUPPORT;
	case IPEVM_E_COST_LIMIT:
		return -E2BIG;
	case IPEVM_E_BAD_NAME:
		return -EINVAL;
	case IPEVM_E_SCRATCH:
		return -ENOMEM;
	default:
		return -EBADMSG;
	}
}

/*
 * The verifier refuses NUL, '/', "." and ".."; a name also lands in audit
 * records and in a securityfs path, so refuse space, '#' and control bytes
 * as the IPL language does.
 */
int ipevm_check_name(const u8 *name, u32 len)
{
	u32 i;

	if (!len || len > IPEVM_MAX_POLICY_NAME)
		return -EINVAL;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] == 0x7f || name[i] == '/' ||
		    name[i] == '#')
			return -EINVAL;
	}
	return 0;
}

void ipevm_policy_free(struct ipevm_policy *p)
{
	if (!p)
		return;
	kvfree(p->bytecode);
	kfree(p);
}

/* Keep a copy of the bytecode in p: every kind of artifact ends here. */
static int copy_bytecode(struct ipevm_policy *p, const void *data, size_t len)
{
	p->bytecode = kvmalloc(len, GFP_KERNEL);
	if (!p->bytecode)
		return -ENOMEM;
	memcpy(p->bytecode, data, len);
	p->len = len;
	return 0;
}

/* view_content callback of verify_pkcs7_signature(): keep the content. */
static int copy_content(void *ctx, const void *data, size_t len,
			size_t asn1hdrlen)
{
	if (!len)
		return -EBADMSG;
	return copy_bytecode(ctx, data, len);
}

static void explain_signature_error(int rc)
{
	switch (rc) {
	case -EBADMSG:
		pr_warn("policy rejected: not a valid PKCS#7 message (unsigned or corrupt artifact?)\n");
		break;
	case -ENOKEY:
		pr_warn("policy rejected: signed by a key in neither the builtin nor the secondary trusted keyring\n");
		break;
	case -EKEYREJECTED:
		pr_warn("policy rejected: the signature does not match the content (tampered artifact?)\n");
		break;
	case -ENODATA:
		pr_warn("policy rejected: the signature carries no content (detached signature?)\n");
		break;
	case -ENOPKG:
		pr_warn("policy rejected: signature algorithm not supported by this kernel\n");
		break;
	default:
		pr_warn("policy rejected: signature check failed (%d)\n", rc);
		break;
	}
}

/*
 * Verify p->bytecode (the verifier proves the cost bound) and take the
 * policy's name from it. Shared by signed artifacts and the boot policy.
 */
static int verify_bytecode(struct ipevm_policy *p)
{
	struct ipevm_diag diag = { 0 };
	enum ipevm_err err;
	u32 words, *scratch;
	int rc;

	words = IPEVM_VERIFY_SCRATCH_WORDS(p->len);
	scratch = kvmalloc_array(words, sizeof(*scratch), GFP_KERNEL);
	if (!scratch)
		return -ENOMEM;
	err = ipevm_verify(p->bytecode, p->len,
			   CONFIG_SECURITY_IPEVM_COST_LIMIT, scratch, words,
			   &p->prog, &diag);
	kvfree(scratch);
	if (err != IPEVM_E_OK) {
		pr_warn("policy rejected: bytecode %s (at byte %u of the content)\n",
			ipevm_strerror(err), diag.offset);
		return ipevm_verify_errno(err);
	}

	rc = ipevm_check_name(p->prog.name, p->prog.name_len);
	if (rc) {
		pr_warn("policy rejected: invalid policy name \"%.*s\"\n",
			(int)p->prog.name_len, p->prog.name);
		return rc;
	}
	memcpy(p->name, p->prog.name, p->prog.name_len);
	p->name[p->prog.name_len] = '\0';
	return 0;
}

/*
 * The envelope form: the bytecode followed by a SignedData over it with the
 * content detached, which verify_pkcs7_signature() takes as data, so only
 * the small signature meets the ASN.1 decoder and its 64 KiB limit.
 */
static int verify_envelope(struct ipevm_policy *p, const u8 *artifact,
			   size_t len)
{
	u32 plen, slen;
	const u8 *payload = artifact + IPEVM_ENVELOPE_HDR_SIZE;
	int rc;

	if (len < IPEVM_ENVELOPE_HDR_SIZE ||
	    ipevm_envelope_size(artifact, &plen, &slen) != len) {
		pr_warn("policy rejected: bad signature envelope header\n");
		return -EBADMSG;
	}
	rc = verify_pkcs7_signature(payload, plen, payload + plen, slen,
				    VERIFY_USE_SECONDARY_KEYRING,
				    VERIFYING_UNSPECIFIED_SIGNATURE, NULL, NULL);
	if (rc == -EINVAL) {
		/* pkcs7_supply_detached_data(): the content was attached. */
		pr_warn("policy rejected: the envelope's signature carries content; it must be detached\n");
		return -EBADMSG;
	}
	if (rc) {
		explain_signature_error(rc);
		return rc;
	}
	return copy_bytecode(p, payload, plen);
}

/* Check a signed artifact and build a policy from it; loads nothing. */
int ipevm_policy_parse(const u8 *artifact, size_t len,
		       struct ipevm_policy **out)
{
	struct ipevm_policy *p;
	int rc;

	*out = NULL;
	if (!len || len > IPEVM_MAX_ARTIFACT) {
		pr_warn("policy rejected: %zu bytes (limit %u)\n", len,
			IPEVM_MAX_ARTIFACT);
		return len ? -EFBIG : -EBADMSG;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	sha256(artifact, len, p->digest);

	if (ipevm_envelope_magic(artifact, len)) {
		rc = verify_envelope(p, artifact, len);
		if (rc)
			goto fail;
	} else {
		rc = verify_pkcs7_signature(NULL, 0, artifact, len,
					    VERIFY_USE_SECONDARY_KEYRING,
					    VERIFYING_UNSPECIFIED_SIGNATURE,
					    copy_content, p);
		if (rc) {
			explain_signature_error(rc);
			goto fail;
		}
	}
	rc = verify_bytecode(p);
	if (rc)
		goto fail;
	*out = p;
	return 0;

fail:
	ipevm_policy_free(p);
	return rc;
}

/*
 * Build a policy from bare bytecode that needs no signature: the boot
 * policy, which is part of the kernel image and as trusted as the kernel.
 * It is still verified like any policy. The digest is the bytecode's.
 */
int ipevm_policy_parse_unsigned(const u8 *bytecode, size_t len,
				struct ipevm_policy **out)
{
	struct ipevm_policy *p;
	int rc;

	*out = NULL;
	if (!len || len > IPEVM_MAX_ARTIFACT)
		return len ? -EFBIG : -ENODATA;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	sha256(bytecode, len, p->digest);
	rc = copy_bytecode(p, bytecode, len);
	if (rc)
		goto fail;
	rc = verify_bytecode(p);
	if (rc)
		goto fail;
	*out = p;
	return 0;

fail:
	ipevm_policy_free(p);
	return rc;
}

struct ipevm_policy *ipevm_policy_active_locked(void)
{
	return rcu_dereference_protected(ipevm_active_policy,
					 lockdep_is_held(&ipevm_policy_mutex));
}

struct ipevm_policy *ipevm_policy_find(const char *name)
{
	struct ipevm_policy *p;

	lockdep_assert_held(&ipevm_policy_mutex);
	list_for_each_entry(p, &ipevm_policies, list) {
		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

/* "major.minor.patch" of p, in buf. */
#define VERSION_LEN sizeof("65535.65535.65535")
static const char *ver(const struct ipevm_policy *p, char buf[VERSION_LEN])
{
	snprintf(buf, VERSION_LEN, "%u.%u.%u", p->prog.version[0],
		 p->prog.version[1], p->prog.version[2]);
	return buf;
}

/*
 * Add p to the loaded policies, replacing a lower version of the same
 * name, which is returned in *old (the caller frees it after
 * synchronize_rcu()). If *old was active, p is active now.
 */
int ipevm_policy_install(struct ipevm_policy *p, struct ipevm_policy **old)
{
	struct ipevm_policy *cur = ipevm_policy_find(p->name);
	char v1[VERSION_LEN], v2[VERSION_LEN];
	int rc;

	*old = NULL;
	if (!cur) {
		list_add_tail(&p->list, &ipevm_policies);
		return 0;
	}
	rc = ipevm_check_replace(cur, p);
	if (rc) {
		pr_warn("policy \"%s\" rejected: version %s is not higher than the loaded %s\n",
			p->name, ver(p, v1), ver(cur, v2));
		return rc;
	}
	list_replace(&cur->list, &p->list);
	if (ipevm_policy_active_locked() == cur) {
		rcu_assign_pointer(ipevm_active_policy, p);
		ipevm_audit_activate(cur, p, 0);
	}
	*old = cur;
	return 0;
}

/* Undo ipevm_policy_install() of a new name (p was never active). */
void ipevm_policy_uninstall(struct ipevm_policy *p, struct ipevm_policy *old)
{
	WARN_ON_ONCE(old || ipevm_policy_active_locked() == p);
	list_del(&p->list);
}

int ipevm_policy_activate(struct ipevm_policy *p)
{
	struct ipevm_policy *active = ipevm_policy_active_locked();
	char v1[VERSION_LEN], v2[VERSION_LEN];
	int rc;

	if (active == p)
		return 0;
	rc = ipevm_check_activate(active, p);
	if (rc) {
		pr_warn("policy \"%s\" not activated: version %s is lower than the active \"%s\" %s\n",
			p->name, ver(p, v1), active->name, ver(active, v2));
		ipevm_audit_activate(active, p, rc);
		return rc;
	}
	rcu_assign_pointer(ipevm_active_policy, p);
	ipevm_audit_activate(active, p, 0);
	pr_info("policy \"%s\" %s is active\n", p->name, ver(p, v1));
	return 0;
}

/* Unlink p; the caller frees it after synchronize_rcu(). */
int ipevm_policy_delete(struct ipevm_policy *p)
{
	if (ipevm_policy_active_locked() == p) {
		pr_warn("policy \"%s\" not deleted: it is active\n", p->name);
		return -EPERM;
	}
	list_del(&p->list);
	ipevm_audit_delete(p);
	return 0;
}

/*
 * Load one signed artifact (from securityfs new_policy): verify it, add it
 * by name, give a new name its securityfs directory. Audited either way.
 */
int ipevm_policy_load(const u8 *artifact, size_t len)
{
	struct ipevm_policy *p = NULL, *old = NULL;
	u8 digest[SHA256_DIGEST_SIZE];
	char v1[VERSION_LEN];
	int rc;

	sha256(artifact, len, digest);
	rc = ipevm_policy_parse(artifact, len, &p);
	if (!rc) {
		mutex_lock(&ipevm_policy_mutex);
		rc = ipevm_policy_install(p, &old);
		if (!rc && !old) {
			rc = ipevm_fs_add_policy(p);
			if (rc)
				ipevm_policy_uninstall(p, old);
		}
		mutex_unlock(&ipevm_policy_mutex);
	}
	ipevm_audit_policy_load(p, digest, rc);
	if (rc) {
		ipevm_count(policy_load_failures);
		ipevm_policy_free(p);
		return rc;
	}
	ipevm_count(policy_loads);
	pr_info("policy \"%s\" %s loaded%s\n", p->name, ver(p, v1),
		old ? " (replacing an older version)" : "");
	if (old) {
		synchronize_rcu();
		ipevm_policy_free(old);
	}
	return 0;
}
