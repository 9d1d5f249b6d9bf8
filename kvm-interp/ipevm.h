/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ipevm: verify and evaluate ipevm bytecode (format in ipevm_bc.h).
 *
 * Freestanding C11: no libc, no allocation, no recursion, no floating point.
 * The same source is built into the kernel LSM and into user space.
 *
 *   ipevm_verify()  one linear pass over an untrusted artifact; on success
 *                   fills a struct ipevm_prog (a view over the caller's bytes,
 *                   which must stay alive and unchanged) and the worst-case
 *                   cost of a run.
 *   ipevm_eval()    decides one event with a verified program. Constant
 *                   stack, no writes to the program: safe to call
 *                   concurrently over one program (RCU readers).
 */
#ifndef IPEVM_H
#define IPEVM_H

#include "ipevm_bc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Why an artifact was rejected. The names (ipevm_strerror) are stable and
 * appear in ipec's and the kernel's messages.
 */
#define IPEVM_ERRORS(X)                                                       \
	X(OK, "ok")                                                           \
	X(TRUNCATED, "truncated artifact")                                    \
	X(BAD_MAGIC, "bad magic")                                             \
	X(BAD_FORMAT_VERSION, "unsupported format version")                  \
	X(BAD_HEADER, "malformed header")                                     \
	X(BAD_SIZE, "total size does not match artifact length")              \
	X(BAD_SECTION, "malformed section table")                             \
	X(UNKNOWN_SECTION, "unknown required section")                        \
	X(DUP_SECTION, "duplicate section")                                   \
	X(MISSING_SECTION, "missing required section")                        \
	X(BAD_STRING, "string out of bounds")                                 \
	X(BAD_NAME, "invalid policy name")                                    \
	X(BAD_ENTRY, "bad operation entry point")                             \
	X(BAD_CODE_SIZE, "code size not a whole number of instructions")      \
	X(BAD_OPCODE, "unknown opcode")                                       \
	X(BAD_OPERAND, "bad instruction operand")                             \
	X(BAD_PROP, "unknown property")                                       \
	X(BAD_JUMP, "branch target not forward or out of range")              \
	X(BAD_RULE, "rule id out of range")                                   \
	X(BAD_TABLE, "malformed lookup table")                                \
	X(UNSORTED_TABLE, "lookup table keys not strictly ascending")         \
	X(BAD_SRCMAP, "malformed source map")                                 \
	X(COST_LIMIT, "worst-case cost exceeds the limit")                    \
	X(SCRATCH, "scratch buffer too small")                                \
	X(BAD_OP, "unknown operation")                                        \
	X(FETCH, "property could not be gathered")

#define IPEVM_ERR_ENUM(name, text) IPEVM_E_##name,
enum ipevm_err { IPEVM_ERRORS(IPEVM_ERR_ENUM) IPEVM_E_COUNT };
#undef IPEVM_ERR_ENUM

/* A stable, human-readable name for an error; never NULL. */
const char *ipevm_strerror(enum ipevm_err err);

/* Where verification failed: the reason and the byte offset it concerns. */
struct ipevm_diag {
	enum ipevm_err err;
	u32 offset;
};

/* A verified program: a view over the artifact bytes, plus derived facts. */
struct ipevm_prog {
	const u8 *base;
	u32 size;
	u16 version[3];
	u32 rule_count;
	const u8 *name;		/* not NUL-terminated */
	u32 name_len;
	const u8 *strtab;
	u32 strtab_size;
	const u8 *entry;	/* u32[IPEVM_OP_COUNT] */
	const u8 *code;
	u32 insn_count;
	const u8 *tables;	/* the TABLES section */
	u32 tables_size;
	u32 table_count;
	const u8 *srcmap;	/* NULL when stripped */
	const u8 *source;	/* embedded IPL text, or NULL */
	u32 source_size;
	u32 props_used;		/* bit per enum ipevm_prop tested anywhere */
	u32 op_cost[IPEVM_OP_COUNT]; /* worst-case cost per operation */
	u32 max_cost;		/* max of op_cost */
};

/*
 * The verifier needs one u32 of scratch per instruction; an artifact of
 * len bytes never holds more than this many.
 */
#define IPEVM_VERIFY_SCRATCH_WORDS(len) ((len) / IPEVM_INSN_SIZE + 1)

/*
 * Verify an untrusted artifact of len bytes. cost_limit bounds the worst-case
 * cost of one evaluation (0: no limit). scratch must hold
 * IPEVM_VERIFY_SCRATCH_WORDS(len) words. Returns IPEVM_E_OK and fills *prog,
 * or the reason for rejection (also in *diag when diag is not NULL).
 */
enum ipevm_err ipevm_verify(const void *buf, u32 len, u32 cost_limit,
			    u32 *scratch, u32 scratch_words,
			    struct ipevm_prog *prog, struct ipevm_diag *diag);

/* A digest property of an event: algorithm name and bytes. */
struct ipevm_digest {
	const u8 *alg;		/* not NUL-terminated */
	u32 alg_len;
	const u8 *bytes;	/* NULL: the event has no such digest */
	u32 len;
};

/*
 * One event. A property is known when its bit is set in have; boolean values
 * are bits of bools; digests are in digest[prop - IPEVM_PROP_FIRST_DIGEST].
 * When code tests a property that is not known and fetch is set, fetch is
 * called once to fill it (and set its have bit); so a property is gathered
 * only when the program needs it, and at most once per event. A non-zero
 * return from fetch aborts the evaluation with IPEVM_E_FETCH. A property that
 * stays unknown reads as false or absent.
 */
struct ipevm_event {
	u32 op;			/* enum ipevm_op */
	u32 have;
	u32 bools;
	struct ipevm_digest digest[IPEVM_DIGEST_PROPS];
	int (*fetch)(struct ipevm_event *ev, u32 prop);
	void *ctx;		/* for fetch */
};

struct ipevm_decision {
	bool allow;
	bool audit;
	u8 origin;		/* enum ipevm_origin */
	u32 rule;		/* rule id when origin is IPEVM_ORIGIN_RULE */
	u32 steps;		/* cost of this run; <= prog->op_cost[op] */
};

/*
 * Decide ev with a program that ipevm_verify() accepted. Returns IPEVM_E_OK
 * with *out filled, IPEVM_E_BAD_OP for an operation outside the format, or
 * IPEVM_E_FETCH; on error the caller must deny.
 */
enum ipevm_err ipevm_eval(const struct ipevm_prog *prog,
			  struct ipevm_event *ev, struct ipevm_decision *out);

#ifdef __cplusplus
}
#endif

#endif /* IPEVM_H */
