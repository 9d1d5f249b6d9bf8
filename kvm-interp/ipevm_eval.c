// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Decide one event with a verified ipevm program (format in ipevm_bc.h).
 *
 * The verifier has proved every branch forward and inside the code, every
 * operand in range and every table well formed, so the interpreter is a loop
 * over instructions whose pc only grows: it ends at a DECIDE after at most
 * insn_count steps. It keeps its state on the stack and never writes to the
 * program, so any number of evaluations may share one program.
 *
 * Steps are counted with the verifier's cost model (1 per instruction, plus 1
 * per binary-search probe), so a run's steps never exceed prog->op_cost[op].
 */
#include "ipevm.h"

/* Field offsets, from the structs that document the layout. */
#define STR_FIELD(f) ((u32)offsetof(struct ipevm_str, f))
#define INSN_FIELD(f) ((u32)offsetof(struct ipevm_insn, f))
#define TABLE_FIELD(f) ((u32)offsetof(struct ipevm_table, f))

/*
 * Gather prop if the event lacks it, at most once per evaluation (tried
 * remembers what was asked, even if fetch could not fill it). Returns
 * non-zero when fetch failed.
 */
static int need_prop(struct ipevm_event *ev, u32 prop, u32 *tried)
{
	u32 bit = 1u << prop;

	if ((ev->have & bit) || !ev->fetch || (*tried & bit))
		return 0;
	*tried |= bit;
	return ev->fetch(ev, prop);
}

/*
 * Binary search for the event digest d in the table described at desc.
 * Returns the key's index, or the table's count when d is not a key. Each
 * probe adds one to *steps: at most the bit length of count, as verified.
 */
static u32 find_key(const struct ipevm_prog *prog, const u8 *desc,
		    const struct ipevm_digest *d, u32 *steps)
{
	const u8 *alg = prog->strtab +
			ipevm_rd32(desc + TABLE_FIELD(alg) + STR_FIELD(off));
	u32 alg_len = ipevm_rd32(desc + TABLE_FIELD(alg) + STR_FIELD(len));
	u32 key_len = ipevm_rd32(desc + TABLE_FIELD(key_len));
	u32 count = ipevm_rd32(desc + TABLE_FIELD(count));
	const u8 *keys = prog->tables +
			 ipevm_rd32(desc + TABLE_FIELD(keys_off));
	u32 lo = 0, hi = count;

	if (!d->bytes || d->len != key_len || !d->alg ||
	    d->alg_len != alg_len || ipevm_cmp_bytes(d->alg, alg, alg_len))
		return count;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int c = ipevm_cmp_bytes(d->bytes, keys + mid * key_len, key_len);

		(*steps)++;
		if (!c)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return count;
}

/*
 * Look the event's digest for LOOKUP or LOOKUP_RULE p up in p's table.
 * Returns -1 if fetch failed, else 0 with *key the key's index, or the
 * table's count for a miss; *desc is the table's descriptor.
 */
static int lookup(const struct ipevm_prog *prog, struct ipevm_event *ev,
		  const u8 *p, u32 *tried, u32 *steps, const u8 **desc,
		  u32 *key)
{
	u32 prop = p[INSN_FIELD(a)];

	*desc = prog->tables + 4 +
		ipevm_rd16(p + INSN_FIELD(b)) * IPEVM_TABLE_SIZE;
	*key = ipevm_rd32(*desc + TABLE_FIELD(count));
	if (need_prop(ev, prop, tried))
		return -1;
	if (ev->have & (1u << prop))
		*key = find_key(prog, *desc,
				&ev->digest[prop - IPEVM_PROP_FIRST_DIGEST],
				steps);
	return 0;
}

/* The value of key k of a valued table. */
static u32 table_value(const struct ipevm_prog *prog, const u8 *desc, u32 k)
{
	return ipevm_rd32(prog->tables + 4 * k +
			  ipevm_rd32(desc + TABLE_FIELD(vals_off)));
}

static void decide(struct ipevm_decision *out, u32 flags, u32 rule,
		   u32 steps)
{
	out->allow = (flags & IPEVM_DF_ALLOW) != 0;
	out->audit = (flags & IPEVM_DF_AUDIT) != 0;
	out->origin = (u8)((flags & IPEVM_DF_ORIGIN_MASK) >>
			   IPEVM_DF_ORIGIN_SHIFT);
	out->rule = rule;
	out->steps = steps;
}

enum ipevm_err ipevm_eval(const struct ipevm_prog *prog,
			  struct ipevm_event *ev, struct ipevm_decision *out)
{
	u32 op = ev->op;
	u32 tried = 0;
	u32 steps = 0;
	u32 pc, next, prop, k;
	const u8 *p, *desc;

	/* Until a DECIDE says otherwise, the answer is deny. */
	out->allow = false;
	out->audit = false;
	out->origin = 0;
	out->rule = 0;
	out->steps = 0;
	if (op >= IPEVM_OP_COUNT)
		return IPEVM_E_BAD_OP;

	pc = ipevm_rd32(prog->entry + 4 * op);
	/* Verified: pc < insn_count and strictly grows; checked for free. */
	while (pc < prog->insn_count) {
		p = prog->code + pc * IPEVM_INSN_SIZE;
		prop = p[INSN_FIELD(a)];
		steps++;
		switch (p[INSN_FIELD(code)]) {
		case IPEVM_BR_BOOL:
			if (need_prop(ev, prop, &tried))
				return IPEVM_E_FETCH;
			if (ev->have & ev->bools & (1u << prop))
				next = ipevm_rd32(p + INSN_FIELD(x));
			else
				next = ipevm_rd32(p + INSN_FIELD(y));
			break;
		case IPEVM_LOOKUP:
			if (lookup(prog, ev, p, &tried, &steps, &desc, &k))
				return IPEVM_E_FETCH;
			if (k == ipevm_rd32(desc + TABLE_FIELD(count)))
				next = ipevm_rd32(p + INSN_FIELD(y));
			else if (ipevm_rd32(desc + TABLE_FIELD(flags)) &
				 IPEVM_TF_VALUED)
				next = table_value(prog, desc, k);
			else
				next = ipevm_rd32(p + INSN_FIELD(x));
			break;
		case IPEVM_LOOKUP_RULE:
			if (lookup(prog, ev, p, &tried, &steps, &desc, &k))
				return IPEVM_E_FETCH;
			if (k != ipevm_rd32(desc + TABLE_FIELD(count))) {
				u32 v = table_value(prog, desc, k);

				if (ipevm_rd32(desc + TABLE_FIELD(flags)) &
				    IPEVM_TF_ACTIONS)
					decide(out, v >> IPEVM_RV_FLAGS_SHIFT,
					       v & IPEVM_RV_RULE_MASK, steps);
				else
					decide(out, ipevm_rd32(p + INSN_FIELD(x)),
					       v, steps);
				return IPEVM_E_OK;
			}
			next = ipevm_rd32(p + INSN_FIELD(y));
			break;
		case IPEVM_DECIDE:
			decide(out, ipevm_rd16(p + INSN_FIELD(b)),
			       ipevm_rd32(p + INSN_FIELD(x)), steps);
			return IPEVM_E_OK;
		default:
			return IPEVM_E_BAD_OPCODE;
		}
		if (next <= pc)
			return IPEVM_E_BAD_JUMP;
		pc = next;
	}
	return IPEVM_E_BAD_JUMP;
}
