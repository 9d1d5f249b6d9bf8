/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The ipevm bytecode format: the one definition.
 *
 * The compiler (ipec), the verifier and interpreter (kvm-interp/), the kernel
 * LSM and every dump tool include this header; docs/bytecode.md explains it.
 *
 * An artifact is a little-endian container:
 *
 *   struct ipevm_header                    (IPEVM_HEADER_SIZE bytes)
 *   struct ipevm_section[section_count]    (the section table)
 *   section payloads, each 4-byte aligned, in table order, not overlapping
 *
 * Every multi-byte integer is little-endian and is read with the byte
 * accessors below, never by casting a pointer: an artifact is valid on any
 * host and at any alignment. The structs document the layout; their sizes
 * are asserted at the end of this file.
 *
 * Control flow is forward-only: every branch target is a larger instruction
 * index than the branch itself, so a run visits each instruction at most once
 * and its cost is bounded by construction. The verifier computes the exact
 * worst case (the longest path, with table probes counted).
 */
#ifndef IPEVM_BC_H
#define IPEVM_BC_H

#include "ipevm_compat.h"

#define IPEVM_MAGIC0 'I'
#define IPEVM_MAGIC1 'P'
#define IPEVM_MAGIC2 'E'
#define IPEVM_MAGIC3 'B'

/* Bumped on any incompatible change; a reader rejects versions it lacks. */
#define IPEVM_FORMAT_VERSION 1

/* ---------------------------------------------------------------------- */
/* Operations: the event kinds a policy decides.                          */
/* ---------------------------------------------------------------------- */

/*
 * The numbering is part of the format. The three execution operations split
 * upstream IPE's op=EXECUTE by hook; the other six are upstream's.
 */
enum ipevm_op {
	IPEVM_OP_EXECUTE = 0,		/* exec of a program (bprm_check) */
	IPEVM_OP_MMAP_EXEC = 1,		/* mmap with PROT_EXEC */
	IPEVM_OP_MPROTECT_EXEC = 2,	/* mprotect adding PROT_EXEC */
	IPEVM_OP_FIRMWARE = 3,
	IPEVM_OP_KMODULE = 4,
	IPEVM_OP_KEXEC_IMAGE = 5,
	IPEVM_OP_KEXEC_INITRAMFS = 6,
	IPEVM_OP_POLICY = 7,
	IPEVM_OP_X509_CERT = 8,
	IPEVM_OP_COUNT = 9,
};

/* ---------------------------------------------------------------------- */
/* Properties: the facts of an event that code may test.                  */
/* ---------------------------------------------------------------------- */

/*
 * Boolean properties are false when the event has no file, as in upstream
 * IPE. Digest properties are absent (never match) when there is no file or
 * the file has no such digest.
 */
enum ipevm_prop {
	IPEVM_PROP_BOOT_VERIFIED = 0,	  /* file on the superblock trusted at boot */
	IPEVM_PROP_HAS_FILE = 1,	  /* the event has a backing file */
	IPEVM_PROP_WRITABLE = 2,	  /* the mapping is also writable */
	IPEVM_PROP_FSVERITY_SIGNATURE = 3, /* fs-verity builtin signature valid */
	IPEVM_PROP_DMVERITY_SIGNATURE = 4, /* dm-verity root hash signature valid */
	IPEVM_PROP_FSVERITY_DIGEST = 5,	  /* digest: fs-verity file digest */
	IPEVM_PROP_DMVERITY_ROOTHASH = 6, /* digest: dm-verity root hash */
	IPEVM_PROP_COUNT = 7,
};

#define IPEVM_PROP_FIRST_DIGEST IPEVM_PROP_FSVERITY_DIGEST
#define IPEVM_DIGEST_PROPS (IPEVM_PROP_COUNT - IPEVM_PROP_FIRST_DIGEST)

static inline bool ipevm_prop_is_digest(u32 prop)
{
	return prop >= IPEVM_PROP_FIRST_DIGEST && prop < IPEVM_PROP_COUNT;
}

/* ---------------------------------------------------------------------- */
/* Container                                                              */
/* ---------------------------------------------------------------------- */

/* A string: a byte range of the STRTAB section (not NUL-terminated). */
struct ipevm_str {
	u32 off;
	u32 len;
};

struct ipevm_header {
	u8 magic[4];		 /* "IPEB" */
	u16 format_version;	 /* IPEVM_FORMAT_VERSION */
	u16 header_size;	 /* IPEVM_HEADER_SIZE */
	u16 version[3];		 /* policy version: major, minor, patch */
	u16 reserved0;		 /* 0 */
	u32 flags;		 /* IPEVM_HF_*; unknown bits are rejected */
	u32 total_size;		 /* bytes of the whole artifact */
	u32 section_count;	 /* entries in the section table */
	struct ipevm_str name;	 /* policy name, in STRTAB */
	u32 rule_count;		 /* rule ids are 0 .. rule_count-1 */
	u32 reserved1;		 /* 0 */
};

#define IPEVM_HEADER_SIZE 44
#define IPEVM_HF_KNOWN 0u	/* no header flags are defined yet */

/* Section ids. Ids from IPEVM_SEC_FIRST_OPTIONAL up may be skipped. */
enum ipevm_section_id {
	IPEVM_SEC_STRTAB = 1,	/* bytes referenced by struct ipevm_str */
	IPEVM_SEC_ENTRY = 2,	/* u32[IPEVM_OP_COUNT]: first insn per op */
	IPEVM_SEC_CODE = 3,	/* struct ipevm_insn[] */
	IPEVM_SEC_TABLES = 4,	/* u32 count, struct ipevm_table[count], data */
	IPEVM_SEC_FIRST_OPTIONAL = 0x80,
	IPEVM_SEC_SRCMAP = 0x80, /* struct ipevm_srcmap[rule_count] */
	IPEVM_SEC_SOURCE = 0x81, /* the policy as canonical IPL text */
};

/* Sections the verifier requires: each exactly once. */
#define IPEVM_SEC_REQUIRED_MASK                                           \
	((1u << IPEVM_SEC_STRTAB) | (1u << IPEVM_SEC_ENTRY) |               \
	 (1u << IPEVM_SEC_CODE) | (1u << IPEVM_SEC_TABLES))

struct ipevm_section {
	u32 id;		/* enum ipevm_section_id */
	u32 offset;	/* from the start of the artifact; 4-byte aligned */
	u32 size;	/* bytes */
	u32 reserved;	/* 0 */
};

#define IPEVM_SECTION_SIZE 16
#define IPEVM_MAX_SECTIONS 16

/* ---------------------------------------------------------------------- */
/* Code                                                                   */
/* ---------------------------------------------------------------------- */

/*
 * An instruction is 12 bytes: code, a, b, then two u32 operands.
 * Branch targets are absolute instruction indices, strictly greater than the
 * index of the branch.
 */
struct ipevm_insn {
	u8 code;	/* enum ipevm_opcode */
	u8 a;		/* property (branches) or 0 */
	u16 b;		/* table index (LOOKUP), decision flags (DECIDE) or 0 */
	u32 x;		/* true target, or rule id (DECIDE) */
	u32 y;		/* false target, or 0 (DECIDE) */
};

#define IPEVM_INSN_SIZE 12

enum ipevm_opcode {
	/* BR_BOOL a=prop: pc = event.bool[prop] ? x : y */
	IPEVM_BR_BOOL = 1,
	/*
	 * LOOKUP a=prop b=table: if the event has digest prop and
	 * (alg, bytes) is a key of table b: pc = the entry's target (a valued
	 * table) or x; otherwise pc = y.
	 */
	IPEVM_LOOKUP = 2,
	/* DECIDE b=flags x=rule: stop with the decision in b (IPEVM_DF_*) */
	IPEVM_DECIDE = 3,
	/*
	 * LOOKUP_RULE a=prop b=table x=flags: if the event's digest prop is a
	 * key of table b (a rule table), stop with the decision in x
	 * (IPEVM_DF_ALLOW, IPEVM_DF_AUDIT; origin rule) for the rule id the
	 * key maps to, or, when the table has IPEVM_TF_ACTIONS (and x is 0),
	 * with the action the key's value carries; otherwise pc = y. One
	 * instruction decides for a whole allow-list of digest rules, each
	 * still named in audit.
	 */
	IPEVM_LOOKUP_RULE = 4,
};

/* DECIDE flags (insn.b). */
#define IPEVM_DF_ALLOW 0x1u	/* allow; clear means deny */
#define IPEVM_DF_AUDIT 0x2u	/* log this decision even when it allows */
#define IPEVM_DF_ORIGIN_SHIFT 2
#define IPEVM_DF_ORIGIN_MASK 0xcu
#define IPEVM_DF_KNOWN 0xfu

/* Where a decision came from (DECIDE flags, bits 2-3). */
enum ipevm_origin {
	IPEVM_ORIGIN_RULE = 0,		/* x is a rule id < rule_count */
	IPEVM_ORIGIN_OP_DEFAULT = 1,	/* the operation's default; x = 0 */
	IPEVM_ORIGIN_GLOBAL_DEFAULT = 2, /* the global default; x = 0 */
};

/* ---------------------------------------------------------------------- */
/* Lookup tables                                                          */
/* ---------------------------------------------------------------------- */

/*
 * A table is a set of digests of one algorithm and one length, sorted in
 * strictly ascending memcmp order so that a lookup is a binary search.
 * A valued table maps each key to a branch target (a multiway branch). It
 * belongs to exactly one LOOKUP, its owner, and every target is greater than
 * the owner's index; so the verifier reads each table's targets once.
 * A rule table (IPEVM_TF_VALUED | IPEVM_TF_RULES) maps each key to a rule id
 * instead; it belongs to exactly one LOOKUP_RULE. With IPEVM_TF_ACTIONS too,
 * each value also carries its rule's action (IPEVM_RV_*), so one table and
 * one lookup decide a run of rules that allow and deny.
 */
struct ipevm_table {
	struct ipevm_str alg;	/* algorithm name, e.g. "sha256" */
	u32 key_len;		/* digest bytes, 1 .. IPEVM_MAX_DIGEST */
	u32 count;		/* keys, >= 1 */
	u32 keys_off;		/* within TABLES: count * key_len bytes */
	u32 vals_off;		/* within TABLES: u32[count] values, or 0 */
	u32 owner;		/* valued: index of the one LOOKUP using it; else 0 */
	u32 flags;		/* IPEVM_TF_*; unknown bits are rejected */
};

#define IPEVM_TABLE_SIZE 32
#define IPEVM_TF_VALUED 0x1u
#define IPEVM_TF_RULES 0x2u	/* values are rule ids; needs IPEVM_TF_VALUED */
/* rule table values carry their action; needs IPEVM_TF_RULES */
#define IPEVM_TF_ACTIONS 0x4u
#define IPEVM_TF_KNOWN 0x7u
/* An IPEVM_TF_ACTIONS value: rule id in bits 0-27, DECIDE flags above. */
#define IPEVM_RV_RULE_MASK 0x0fffffffu
#define IPEVM_RV_FLAGS_SHIFT 28
#define IPEVM_MAX_DIGEST 64
#define IPEVM_MAX_ALG_NAME 64

/* ---------------------------------------------------------------------- */
/* Source map (optional, strippable)                                      */
/* ---------------------------------------------------------------------- */

/* One entry per rule id: where the rule was written and what it said. */
struct ipevm_srcmap {
	struct ipevm_str file;
	u32 line;
	u32 column;
	struct ipevm_str text;	/* the rule as written, on one line */
};

#define IPEVM_SRCMAP_SIZE 24

/* ---------------------------------------------------------------------- */
/* Byte accessors                                                         */
/* ---------------------------------------------------------------------- */

static inline u16 ipevm_rd16(const u8 *p)
{
	return (u16)(p[0] | (u16)p[1] << 8);
}

static inline u32 ipevm_rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* memcmp order, without libc: the order of table keys. */
static inline int ipevm_cmp_bytes(const u8 *a, const u8 *b, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* Field offsets within the header, for readers that do not cast. */
#define IPEVM_HDR_FORMAT_VERSION 4
#define IPEVM_HDR_HEADER_SIZE 6
#define IPEVM_HDR_VERSION 8
#define IPEVM_HDR_RESERVED0 14
#define IPEVM_HDR_FLAGS 16
#define IPEVM_HDR_TOTAL_SIZE 20
#define IPEVM_HDR_SECTION_COUNT 24
#define IPEVM_HDR_NAME 28
#define IPEVM_HDR_RULE_COUNT 36
#define IPEVM_HDR_RESERVED1 40

/* ---------------------------------------------------------------------- */
/* The signature envelope.                                                */
/* ---------------------------------------------------------------------- */

/*
 * A signed artifact is either a DER PKCS#7/CMS SignedData with the bytecode
 * attached as its id-data content, or, when that blob would exceed the
 * 65,535 bytes Linux's ASN.1 decoder accepts, an envelope that carries the
 * bytecode next to a SignedData whose content is detached (as module
 * signatures are):
 *
 *   0        magic "IPEVMSIG"
 *   8        le32 envelope version (IPEVM_ENVELOPE_VERSION)
 *   12       le32 payload length P: the bytecode, from its "IPEB" magic
 *   16       le32 signature length S: DER SignedData without content
 *   20       the payload, P bytes
 *   20 + P   the signature, S bytes; nothing follows
 *
 * The signature covers exactly the payload bytes.
 */
#define IPEVM_ENVELOPE_MAGIC "IPEVMSIG"
#define IPEVM_ENVELOPE_MAGIC_LEN 8
#define IPEVM_ENVELOPE_VERSION 1
#define IPEVM_ENVELOPE_HDR_SIZE 20

/* Whether buf (len bytes, possibly only a prefix) starts with the magic. */
static inline int ipevm_envelope_magic(const u8 *buf, u32 len)
{
	u32 i;

	for (i = 0; i < IPEVM_ENVELOPE_MAGIC_LEN && i < len; i++)
		if (buf[i] != (u8)IPEVM_ENVELOPE_MAGIC[i])
			return 0;
	return 1;
}

/*
 * Reads an envelope header (at least IPEVM_ENVELOPE_HDR_SIZE bytes). Returns
 * the envelope's total length, or 0 if the magic or version is wrong or the
 * lengths are zero or overflow 32 bits.
 */
static inline u32 ipevm_envelope_size(const u8 *hdr, u32 *payload_len,
				      u32 *sig_len)
{
	u32 p = ipevm_rd32(hdr + 12), s = ipevm_rd32(hdr + 16);

	if (!ipevm_envelope_magic(hdr, IPEVM_ENVELOPE_MAGIC_LEN) ||
	    ipevm_rd32(hdr + 8) != IPEVM_ENVELOPE_VERSION || !p || !s ||
	    s > 0xffffffffu - IPEVM_ENVELOPE_HDR_SIZE ||
	    p > 0xffffffffu - IPEVM_ENVELOPE_HDR_SIZE - s)
		return 0;
	*payload_len = p;
	*sig_len = s;
	return IPEVM_ENVELOPE_HDR_SIZE + p + s;
}

#ifdef __cplusplus
static_assert(sizeof(struct ipevm_header) == IPEVM_HEADER_SIZE, "header");
static_assert(sizeof(struct ipevm_section) == IPEVM_SECTION_SIZE, "section");
static_assert(sizeof(struct ipevm_insn) == IPEVM_INSN_SIZE, "insn");
static_assert(sizeof(struct ipevm_table) == IPEVM_TABLE_SIZE, "table");
static_assert(sizeof(struct ipevm_srcmap) == IPEVM_SRCMAP_SIZE, "srcmap");
#else
_Static_assert(sizeof(struct ipevm_header) == IPEVM_HEADER_SIZE, "header");
_Static_assert(sizeof(struct ipevm_section) == IPEVM_SECTION_SIZE, "section");
_Static_assert(sizeof(struct ipevm_insn) == IPEVM_INSN_SIZE, "insn");
_Static_assert(sizeof(struct ipevm_table) == IPEVM_TABLE_SIZE, "table");
_Static_assert(sizeof(struct ipevm_srcmap) == IPEVM_SRCMAP_SIZE, "srcmap");
#endif

#endif /* IPEVM_BC_H */
