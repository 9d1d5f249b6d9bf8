// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm LSM - audit records
 *
 * Record formats follow upstream IPE's (security/ipe/audit.c), with ipevm_
 * field prefixes and the facts a bytecode policy has instead of rule text:
 *
 * 1420 AUDIT_IPEVM_ACCESS, every denial and every allow whose rule says
 *      "audit" (a DECIDE with IPEVM_DF_AUDIT):
 *   ipevm_op=EXECUTE ipevm_hook=BPRM_CHECK enforcing=1 pid=42 comm="sh"
 *   path="/mnt/x" dev="tmpfs" ino=3 policy_name="p" policy_version=1.0.0
 *   rule=4 rule_line=12 rule_text="deny execute, mmap_exec;" action=DENY
 *   (path=? dev=? ino=? without a file; rule=default or rule=op_default
 *   when a default decided; rule_line and rule_text only when the policy
 *   has its source map; error="..." when the evaluation failed;
 *   policy_name=? policy_version=? rule=? error="no policy: ..." when
 *   failing closed because the boot policy was rejected, see boot.c)
 *
 * 1422 AUDIT_IPEVM_POLICY_LOAD, every load attempt:
 *   policy_name="p" policy_version=1.0.0 policy_digest=sha256:<artifact>
 *   auid=0 ses=1 lsm=ipevm res=1 errno=0
 *
 * 1421 AUDIT_IPEVM_CONFIG_CHANGE, activations (and refusals) and deletions:
 *   old_active_pol_name="a" old_active_pol_version=1.0.0
 *   old_policy_digest=sha256:... new_active_pol_name="b" ... res=1 errno=0
 *   op=delete policy_name="b" policy_version=... policy_digest=... res=1
 *
 * 1404 AUDIT_MAC_STATUS, enforce changes, as upstream IPE.
 *
 * The digest is SHA-256 of the signed artifact as written to new_policy (of
 * the embedded bytecode for the boot policy).
 */

#include <linux/audit.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/sched.h>

#include "audit.h"
#include "lsm.h"

#define IPEVM_AUDIT_RULE_TEXT_MAX 256

static const char *const op_names[IPEVM_OP_COUNT] = {
	[IPEVM_OP_EXECUTE] = "EXECUTE",
	[IPEVM_OP_MMAP_EXEC] = "MMAP_EXEC",
	[IPEVM_OP_MPROTECT_EXEC] = "MPROTECT_EXEC",
	[IPEVM_OP_FIRMWARE] = "FIRMWARE",
	[IPEVM_OP_KMODULE] = "KMODULE",
	[IPEVM_OP_KEXEC_IMAGE] = "KEXEC_IMAGE",
	[IPEVM_OP_KEXEC_INITRAMFS] = "KEXEC_INITRAMFS",
	[IPEVM_OP_POLICY] = "POLICY",
	[IPEVM_OP_X509_CERT] = "X509_CERT",
};

static const char *const hook_names[IPEVM_HOOK_COUNT] = {
	[IPEVM_HOOK_BPRM_CHECK] = "BPRM_CHECK",
	[IPEVM_HOOK_MMAP] = "MMAP",
	[IPEVM_HOOK_MPROTECT] = "MPROTECT",
	[IPEVM_HOOK_KERNEL_READ] = "KERNEL_READ",
	[IPEVM_HOOK_KERNEL_LOAD] = "KERNEL_LOAD",
};

const char *ipevm_op_name(u32 op)
{
	return op < IPEVM_OP_COUNT ? op_names[op] : "UNKNOWN";
}

const char *ipevm_hook_name(enum ipevm_hook hook)
{
	return (unsigned int)hook < IPEVM_HOOK_COUNT ? hook_names[hook] :
						       "UNKNOWN";
}

static void log_file(struct audit_buffer *ab, const struct file *file)
{
	if (!file) {
		audit_log_format(ab, " path=? dev=? ino=?");
		return;
	}
	audit_log_d_path(ab, " path=", &file->f_path);
	audit_log_format(ab, " dev=");
	audit_log_untrustedstring(ab, file_inode(file)->i_sb->s_id);
	audit_log_format(ab, " ino=%lu", file_inode(file)->i_ino);
}

/*
 * Where the deciding rule was written, from the optional source map (the
 * verifier checked its strings): rule_line=N rule_text="...", the text as
 * the author wrote it, like the rule string of upstream IPE's records.
 */
static void log_rule_source(struct audit_buffer *ab,
			    const struct ipevm_prog *prog, u32 rule)
{
	const char *text;
	const u8 *e;
	u32 off, len, i;

	if (!prog->srcmap || rule >= prog->rule_count)
		return;
	e = prog->srcmap + rule * IPEVM_SRCMAP_SIZE;
	off = ipevm_rd32(e + offsetof(struct ipevm_srcmap, text) +
			 offsetof(struct ipevm_str, off));
	len = ipevm_rd32(e + offsetof(struct ipevm_srcmap, text) +
			 offsetof(struct ipevm_str, len));
	text = (const char *)prog->strtab + off;
	/* A rule listing many digests is long: keep the record readable. */
	len = min_t(u32, len, IPEVM_AUDIT_RULE_TEXT_MAX);
	audit_log_format(ab, " rule_line=%u rule_text=",
			 ipevm_rd32(e + offsetof(struct ipevm_srcmap, line)));
	/*
	 * Quoted as is, spaces included, like upstream's rule="..." (the text
	 * comes from a signed policy); hex, as audit does for untrusted
	 * strings, if it holds a quote or a control character.
	 */
	for (i = 0; i < len; i++) {
		if (text[i] == '"' || text[i] < ' ' || text[i] == 0x7f)
			break;
	}
	if (i == len)
		audit_log_format(ab, "\"%.*s\"", (int)len, text);
	else
		audit_log_n_hex(ab, text, len);
}

/* Called inside the evaluation's RCU read section: must not sleep. */
void ipevm_audit_access(const struct ipevm_ctx *ctx,
			const struct ipevm_policy *pol,
			const struct ipevm_decision *d, enum ipevm_err err,
			bool enforcing)
{
	char comm[sizeof(current->comm)];
	struct audit_buffer *ab;

	ab = audit_log_start(audit_context(), GFP_ATOMIC | __GFP_NOWARN,
			     AUDIT_IPEVM_ACCESS);
	if (!ab)
		return;
	ipevm_count(audited);
	audit_log_format(ab, "ipevm_op=%s ipevm_hook=%s enforcing=%d pid=%d comm=",
			 ipevm_op_name(ctx->ev.op), ipevm_hook_name(ctx->hook),
			 enforcing, task_tgid_nr(current));
	audit_log_untrustedstring(ab, get_task_comm(comm, current));
	log_file(ab, ctx->file);
	if (!pol) {
		/* Failing closed (boot.c): no policy, everything denied. */
		audit_log_format(ab, " policy_name=? policy_version=? rule=?");
		audit_log_format(ab, " error=\"%s\" action=DENY",
				 "no policy: the boot policy was rejected");
		audit_log_end(ab);
		return;
	}
	audit_log_format(ab, " policy_name=");
	audit_log_untrustedstring(ab, pol->name);
	audit_log_format(ab, " policy_version=%u.%u.%u", pol->prog.version[0],
			 pol->prog.version[1], pol->prog.version[2]);
	if (err != IPEVM_E_OK)
		audit_log_format(ab, " rule=? error=\"%s\"",
				 ipevm_strerror(err));
	else if (d->origin == IPEVM_ORIGIN_RULE)
		audit_log_format(ab, " rule=%u", d->rule);
	if (err == IPEVM_E_OK && d->origin == IPEVM_ORIGIN_RULE)
		log_rule_source(ab, &pol->prog, d->rule);
	else if (d->origin == IPEVM_ORIGIN_OP_DEFAULT)
		audit_log_format(ab, " rule=op_default");
	else
		audit_log_format(ab, " rule=default");
	audit_log_format(ab, " action=%s", d->allow ? "ALLOW" : "DENY");
	audit_log_end(ab);
}

static void log_subject(struct audit_buffer *ab)
{
	audit_log_format(ab, " auid=%u ses=%u lsm=%s",
			 from_kuid(&init_user_ns, audit_get_loginuid(current)),
			 audit_get_sessionid(current), IPEVM_NAME);
}

static void log_digest(struct audit_buffer *ab, const char *field,
		       const u8 *digest)
{
	audit_log_format(ab, " %s=", field);
	if (!digest) {
		audit_log_format(ab, "?");
		return;
	}
	audit_log_format(ab, "sha256:");
	audit_log_n_hex(ab, digest, SHA256_DIGEST_SIZE);
}

/*
 * name="n" version=1.2.3 digest=sha256:..., or ? for each without p; with a
 * leading space unless it starts the record.
 */
static void log_policy(struct audit_buffer *ab, bool first, const char *name_f,
		       const char *version_f, const char *digest_f,
		       const struct ipevm_policy *p, const u8 *digest)
{
	audit_log_format(ab, "%s%s=", first ? "" : " ", name_f);
	if (p) {
		audit_log_untrustedstring(ab, p->name);
		audit_log_format(ab, " %s=%u.%u.%u", version_f,
				 p->prog.version[0], p->prog.version[1],
				 p->prog.version[2]);
	} else {
		audit_log_format(ab, "? %s=?", version_f);
	}
	log_digest(ab, digest_f, p ? p->digest : digest);
}

void ipevm_audit_policy_load(const struct ipevm_policy *p,
			     const u8 *artifact_digest, int err)
{
	struct audit_buffer *ab;

	ab = audit_log_start(audit_context(), GFP_KERNEL,
			     AUDIT_IPEVM_POLICY_LOAD);
	if (!ab)
		return;
	log_policy(ab, true, "policy_name", "policy_version", "policy_digest",
		   p, artifact_digest);
	log_subject(ab);
	audit_log_format(ab, " res=%d errno=%d", !err, err);
	audit_log_end(ab);
}

void ipevm_audit_activate(const struct ipevm_policy *old,
			  const struct ipevm_policy *new, int err)
{
	struct audit_buffer *ab;

	ab = audit_log_start(audit_context(), GFP_KERNEL,
			     AUDIT_IPEVM_CONFIG_CHANGE);
	if (!ab)
		return;
	audit_log_format(ab, "op=activate");
	log_policy(ab, false, "old_active_pol_name", "old_active_pol_version",
		   "old_policy_digest", old, NULL);
	log_policy(ab, false, "new_active_pol_name", "new_active_pol_version",
		   "new_policy_digest", new, NULL);
	log_subject(ab);
	audit_log_format(ab, " res=%d errno=%d", !err, err);
	audit_log_end(ab);
}

void ipevm_audit_delete(const struct ipevm_policy *p)
{
	struct audit_buffer *ab;

	ab = audit_log_start(audit_context(), GFP_KERNEL,
			     AUDIT_IPEVM_CONFIG_CHANGE);
	if (!ab)
		return;
	audit_log_format(ab, "op=delete");
	log_policy(ab, false, "policy_name", "policy_version", "policy_digest",
		   p, NULL);
	log_subject(ab);
	audit_log_format(ab, " res=1 errno=0");
	audit_log_end(ab);
}

/* The caller holds ipevm_policy_mutex, which keeps active alive. */
void ipevm_audit_enforce(bool enforcing, bool old_enforcing,
			 const struct ipevm_policy *active)
{
	struct audit_buffer *ab;

	ab = audit_log_start(audit_context(), GFP_KERNEL, AUDIT_MAC_STATUS);
	if (!ab)
		return;
	audit_log_format(ab, "enforcing=%d old_enforcing=%d", enforcing,
			 old_enforcing);
	log_subject(ab);
	audit_log_format(ab, " enabled=1 old-enabled=1");
	log_policy(ab, false, "policy_name", "policy_version", "policy_digest",
		   active, NULL);
	audit_log_format(ab, " res=1");
	audit_log_end(ab);
}
