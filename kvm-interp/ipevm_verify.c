// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Verify an untrusted ipevm artifact (format in ipevm_bc.h).
 *
 * The checks run in the order a reader needs them: header, section table,
 * strings, code size, entry points, tables, source map, then one backward
 * pass over the code. Because every branch goes forward, instruction i only
 * reaches larger indices, so walking the code from the end both checks each
 * instruction against parts already checked and computes its worst-case cost
 * from the costs of its successors: the longest path falls out of one linear
 * pass, as in classic BPF's checker.
 *
 * Every multi-byte field is read with ipevm_rd16/ipevm_rd32 at an offset
 * computed from the structs of ipevm_bc.h, and every offset + size is checked
 * in a form that cannot overflow (size <= len - off).
 */
#include "ipevm.h"

#define IPEVM_U32_MAX 0xffffffffu
/* Instruction indices must fit in 24 bits. */
#define IPEVM_MAX_INSNS 0x1000000u
/* The policy name is a securityfs directory name. */
#define IPEVM_MAX_NAME 255

/* Field offsets, from the structs that document the layout. */
#define STR_FIELD(f) ((u32)offsetof(struct ipevm_str, f))
#define SEC_FIELD(f) ((u32)offsetof(struct ipevm_section, f))
#define INSN_FIELD(f) ((u32)offsetof(struct ipevm_insn, f))
#define TABLE_FIELD(f) ((u32)offsetof(struct ipevm_table, f))
#define SRCMAP_FIELD(f) ((u32)offsetof(struct ipevm_srcmap, f))

/* In enum order: the table and the enum come from the same X-macro. */
#define IPEVM_ERR_TEXT(name, text) text,
static const char *const ipevm_err_text[IPEVM_E_COUNT] = {
	IPEVM_ERRORS(IPEVM_ERR_TEXT)
};

#undef IPEVM_ERR_TEXT

const char *ipevm_strerror(enum ipevm_err err)
{
	if ((u32)err >= IPEVM_E_COUNT)
		return "unknown error";
	return ipevm_err_text[err];
}

/* A section found in the section table. */
struct vsec {
	u32 at;			/* offset of its section table entry */
	u32 off;		/* payload offset in the artifact */
	u32 size;		/* payload bytes */
};

/* What the verifier knows so far. Offsets are from the artifact start. */
struct vstate {
	const u8 *base;
	u32 len;
	struct ipevm_diag *diag;
	u32 seen;		/* bit per required section id found */
	bool has_srcmap;
	bool has_source;
	struct vsec strtab;
	struct vsec entry;
	struct vsec code;
	struct vsec tables;
	struct vsec srcmap;
	struct vsec source;
	u32 rule_count;
	u32 insn_count;
	u32 table_count;
	u32 props_used;
};

static enum ipevm_err reject(struct vstate *st, enum ipevm_err err, u32 off)
{
	if (st->diag) {
		st->diag->err = err;
		st->diag->offset = off;
	}
	return err;
}

static u32 max_u32(u32 a, u32 b)
{
	return a > b ? a : b;
}

static u32 sat_add(u32 a, u32 b)
{
	return a > IPEVM_U32_MAX - b ? IPEVM_U32_MAX : a + b;
}

/* The most probes a binary search over count keys makes: its bit length. */
static u32 max_probes(u32 count)
{
	u32 n = 0;

	while (count) {
		n++;
		count >>= 1;
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* Container                                                              */
/* ---------------------------------------------------------------------- */

static enum ipevm_err check_header(struct vstate *st)
{
	const u8 *p = st->base;

	if (st->len < IPEVM_HEADER_SIZE)
		return reject(st, IPEVM_E_TRUNCATED, st->len);
	if (p[0] != IPEVM_MAGIC0 || p[1] != IPEVM_MAGIC1 ||
	    p[2] != IPEVM_MAGIC2 || p[3] != IPEVM_MAGIC3)
		return reject(st, IPEVM_E_BAD_MAGIC, 0);
	if (ipevm_rd16(p + IPEVM_HDR_FORMAT_VERSION) != IPEVM_FORMAT_VERSION)
		return reject(st, IPEVM_E_BAD_FORMAT_VERSION,
			      IPEVM_HDR_FORMAT_VERSION);
	if (ipevm_rd16(p + IPEVM_HDR_HEADER_SIZE) != IPEVM_HEADER_SIZE)
		return reject(st, IPEVM_E_BAD_HEADER, IPEVM_HDR_HEADER_SIZE);
	if (ipevm_rd16(p + IPEVM_HDR_RESERVED0))
		return reject(st, IPEVM_E_BAD_HEADER, IPEVM_HDR_RESERVED0);
	if (ipevm_rd32(p + IPEVM_HDR_FLAGS) & ~IPEVM_HF_KNOWN)
		return reject(st, IPEVM_E_BAD_HEADER, IPEVM_HDR_FLAGS);
	if (ipevm_rd32(p + IPEVM_HDR_RESERVED1))
		return reject(st, IPEVM_E_BAD_HEADER, IPEVM_HDR_RESERVED1);
	if (ipevm_rd32(p + IPEVM_HDR_TOTAL_SIZE) != st->len)
		return reject(st, IPEVM_E_BAD_SIZE, IPEVM_HDR_TOTAL_SIZE);
	st->rule_count = ipevm_rd32(p + IPEVM_HDR_RULE_COUNT);
	return IPEVM_E_OK;
}

/* Where a section id is recorded, or NULL for ids that are skipped. */
static struct vsec *section_slot(struct vstate *st, u32 id)
{
	switch (id) {
	case IPEVM_SEC_STRTAB:
		return &st->strtab;
	case IPEVM_SEC_ENTRY:
		return &st->entry;
	case IPEVM_SEC_CODE:
		return &st->code;
	case IPEVM_SEC_TABLES:
		return &st->tables;
	case IPEVM_SEC_SRCMAP:
		return &st->srcmap;
	case IPEVM_SEC_SOURCE:
		return &st->source;
	default:
		return NULL;
	}
}

static enum ipevm_err check_sections(struct vstate *st)
{
	u32 count = ipevm_rd32(st->base + IPEVM_HDR_SECTION_COUNT);
	u32 next;		/* the lowest offset for the next section */
	u32 i;

	if (count < 1 || count > IPEVM_MAX_SECTIONS ||
	    count * IPEVM_SECTION_SIZE > st->len - IPEVM_HEADER_SIZE)
		return reject(st, IPEVM_E_BAD_SECTION, IPEVM_HDR_SECTION_COUNT);
	next = IPEVM_HEADER_SIZE + count * IPEVM_SECTION_SIZE;
	for (i = 0; i < count; i++) {
		u32 at = IPEVM_HEADER_SIZE + i * IPEVM_SECTION_SIZE;
		const u8 *p = st->base + at;
		u32 id = ipevm_rd32(p + SEC_FIELD(id));
		u32 off = ipevm_rd32(p + SEC_FIELD(offset));
		u32 size = ipevm_rd32(p + SEC_FIELD(size));
		struct vsec *slot;

		if (ipevm_rd32(p + SEC_FIELD(reserved)))
			return reject(st, IPEVM_E_BAD_SECTION,
				      at + SEC_FIELD(reserved));
		/* Aligned, ascending, after the table and the previous one. */
		if (off % 4 || off < next || off > st->len)
			return reject(st, IPEVM_E_BAD_SECTION,
				      at + SEC_FIELD(offset));
		if (size > st->len - off)
			return reject(st, IPEVM_E_BAD_SECTION,
				      at + SEC_FIELD(size));
		/* off <= len - 4 here, so neither sum overflows. */
		next = size ? off + size : off + 1;

		if (id < IPEVM_SEC_FIRST_OPTIONAL &&
		    (id < IPEVM_SEC_STRTAB || id > IPEVM_SEC_TABLES))
			return reject(st, IPEVM_E_UNKNOWN_SECTION,
				      at + SEC_FIELD(id));
		slot = section_slot(st, id);
		if (!slot)
			continue;	/* an optional section for others */
		if (id == IPEVM_SEC_SRCMAP || id == IPEVM_SEC_SOURCE) {
			bool *has = id == IPEVM_SEC_SRCMAP ? &st->has_srcmap :
							     &st->has_source;

			if (*has)
				return reject(st, IPEVM_E_DUP_SECTION,
					      at + SEC_FIELD(id));
			*has = true;
		} else {
			if (st->seen & (1u << id))
				return reject(st, IPEVM_E_DUP_SECTION,
					      at + SEC_FIELD(id));
			st->seen |= 1u << id;
		}
		slot->at = at;
		slot->off = off;
		slot->size = size;
	}
	if ((st->seen & IPEVM_SEC_REQUIRED_MASK) != IPEVM_SEC_REQUIRED_MASK)
		return reject(st, IPEVM_E_MISSING_SECTION,
			      IPEVM_HDR_SECTION_COUNT);
	return IPEVM_E_OK;
}

/* Does the struct ipevm_str at ref lie inside STRTAB? */
static bool str_ok(const struct vstate *st, const u8 *ref)
{
	u32 off = ipevm_rd32(ref + STR_FIELD(off));
	u32 len = ipevm_rd32(ref + STR_FIELD(len));

	return off <= st->strtab.size && len <= st->strtab.size - off;
}

/* The policy name becomes a securityfs directory: a safe path component. */
static enum ipevm_err check_name(struct vstate *st)
{
	const u8 *ref = st->base + IPEVM_HDR_NAME;
	u32 off = ipevm_rd32(ref + STR_FIELD(off));
	u32 len = ipevm_rd32(ref + STR_FIELD(len));
	const u8 *name;
	u32 i;

	if (!str_ok(st, ref))
		return reject(st, IPEVM_E_BAD_STRING, IPEVM_HDR_NAME);
	if (len < 1 || len > IPEVM_MAX_NAME)
		return reject(st, IPEVM_E_BAD_NAME,
			      IPEVM_HDR_NAME + STR_FIELD(len));
	name = st->base + st->strtab.off + off;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return reject(st, IPEVM_E_BAD_NAME, st->strtab.off + off);
	for (i = 0; i < len; i++) {
		if (name[i] == '\0' || name[i] == '/')
			return reject(st, IPEVM_E_BAD_NAME,
				      st->strtab.off + off + i);
	}
	return IPEVM_E_OK;
}

static enum ipevm_err check_code_size(struct vstate *st)
{
	u32 size = st->code.size;

	if (size % IPEVM_INSN_SIZE || size < IPEVM_INSN_SIZE ||
	    size / IPEVM_INSN_SIZE >= IPEVM_MAX_INSNS)
		return reject(st, IPEVM_E_BAD_CODE_SIZE,
			      st->code.at + SEC_FIELD(size));
	st->insn_count = size / IPEVM_INSN_SIZE;
	return IPEVM_E_OK;
}

static enum ipevm_err check_entry(struct vstate *st)
{
	u32 op;

	if (st->entry.size != IPEVM_OP_COUNT * 4)
		return reject(st, IPEVM_E_BAD_ENTRY,
			      st->entry.at + SEC_FIELD(size));
	for (op = 0; op < IPEVM_OP_COUNT; op++) {
		u32 at = st->entry.off + 4 * op;

		if (ipevm_rd32(st->base + at) >= st->insn_count)
			return reject(st, IPEVM_E_BAD_ENTRY, at);
	}
	return IPEVM_E_OK;
}

/* ---------------------------------------------------------------------- */
/* Lookup tables                                                          */
/* ---------------------------------------------------------------------- */

/* Offset in the artifact of table index's descriptor. */
static u32 table_at(const struct vstate *st, u32 index)
{
	return st->tables.off + 4 + index * IPEVM_TABLE_SIZE;
}

static u32 table_field(const struct vstate *st, u32 index, u32 field)
{
	return ipevm_rd32(st->base + table_at(st, index) + field);
}

/* Keys strictly ascending: sorted for binary search, and no duplicates. */
static enum ipevm_err check_keys(struct vstate *st, u32 keys, u32 key_len,
				 u32 count)
{
	const u8 *p = st->base + keys;
	u32 k;

	for (k = 1; k < count; k++) {
		if (ipevm_cmp_bytes(p + (k - 1) * key_len, p + k * key_len,
			      key_len) >= 0)
			return reject(st, IPEVM_E_UNSORTED_TABLE,
				      keys + k * key_len);
	}
	return IPEVM_E_OK;
}

/*
 * The values of a valued table: targets forward of the owner and inside the
 * code, or, for a rule table, rule ids.
 */
static enum ipevm_err check_values(struct vstate *st, u32 vals, u32 owner,
				   u32 count, u32 flags)
{
	u32 k, v, rule, action;

	for (k = 0; k < count; k++) {
		v = ipevm_rd32(st->base + vals + 4 * k);
		rule = v;
		action = 0;
		if (flags & IPEVM_TF_ACTIONS) {
			rule = v & IPEVM_RV_RULE_MASK;
			action = v >> IPEVM_RV_FLAGS_SHIFT;
		}
		if (action & ~(IPEVM_DF_ALLOW | IPEVM_DF_AUDIT))
			return reject(st, IPEVM_E_BAD_TABLE, vals + 4 * k);
		if ((flags & IPEVM_TF_RULES) ? rule >= st->rule_count :
					       v <= owner || v >= st->insn_count)
			return reject(st, IPEVM_E_BAD_TABLE, vals + 4 * k);
	}
	return IPEVM_E_OK;
}

static enum ipevm_err check_table(struct vstate *st, u32 index)
{
	u32 at = table_at(st, index);
	const u8 *p = st->base + at;
	u32 size = st->tables.size;
	u32 alg_len = ipevm_rd32(p + TABLE_FIELD(alg.len));
	u32 key_len = ipevm_rd32(p + TABLE_FIELD(key_len));
	u32 count = ipevm_rd32(p + TABLE_FIELD(count));
	u32 keys_off = ipevm_rd32(p + TABLE_FIELD(keys_off));
	u32 vals_off = ipevm_rd32(p + TABLE_FIELD(vals_off));
	u32 owner = ipevm_rd32(p + TABLE_FIELD(owner));
	u32 flags = ipevm_rd32(p + TABLE_FIELD(flags));
	enum ipevm_err err;

	if (!str_ok(st, p + TABLE_FIELD(alg)) || alg_len < 1 ||
	    alg_len > IPEVM_MAX_ALG_NAME)
		return reject(st, IPEVM_E_BAD_TABLE, at + TABLE_FIELD(alg));
	if (key_len < 1 || key_len > IPEVM_MAX_DIGEST)
		return reject(st, IPEVM_E_BAD_TABLE, at + TABLE_FIELD(key_len));
	if (count < 1)
		return reject(st, IPEVM_E_BAD_TABLE, at + TABLE_FIELD(count));
	if ((flags & ~IPEVM_TF_KNOWN) ||
	    ((flags & IPEVM_TF_RULES) && !(flags & IPEVM_TF_VALUED)) ||
	    ((flags & IPEVM_TF_ACTIONS) && !(flags & IPEVM_TF_RULES)))
		return reject(st, IPEVM_E_BAD_TABLE, at + TABLE_FIELD(flags));
	if (keys_off > size || (u64)count * key_len > size - keys_off)
		return reject(st, IPEVM_E_BAD_TABLE,
			      at + TABLE_FIELD(keys_off));
	if (flags & IPEVM_TF_VALUED) {
		if (vals_off % 4 || vals_off > size ||
		    count > (size - vals_off) / 4)
			return reject(st, IPEVM_E_BAD_TABLE,
				      at + TABLE_FIELD(vals_off));
		if (owner >= st->insn_count)
			return reject(st, IPEVM_E_BAD_TABLE,
				      at + TABLE_FIELD(owner));
	} else {
		if (vals_off)
			return reject(st, IPEVM_E_BAD_TABLE,
				      at + TABLE_FIELD(vals_off));
		if (owner)
			return reject(st, IPEVM_E_BAD_TABLE,
				      at + TABLE_FIELD(owner));
	}
	err = check_keys(st, st->tables.off + keys_off, key_len, count);
	if (err)
		return err;
	if (flags & IPEVM_TF_VALUED)
		return check_values(st, st->tables.off + vals_off, owner,
				    count, flags);
	return IPEVM_E_OK;
}

static enum ipevm_err check_tables(struct vstate *st)
{
	u32 size = st->tables.size;
	u32 count, i;
	enum ipevm_err err;

	if (size < 4)
		return reject(st, IPEVM_E_BAD_TABLE,
			      st->tables.at + SEC_FIELD(size));
	count = ipevm_rd32(st->base + st->tables.off);
	if (count > (size - 4) / IPEVM_TABLE_SIZE)
		return reject(st, IPEVM_E_BAD_TABLE, st->tables.off);
	st->table_count = count;
	for (i = 0; i < count; i++) {
		err = check_table(st, i);
		if (err)
			return err;
	}
	return IPEVM_E_OK;
}

/* ---------------------------------------------------------------------- */
/* Source map                                                             */
/* ---------------------------------------------------------------------- */

static enum ipevm_err check_srcmap(struct vstate *st)
{
	u32 size = st->srcmap.size;
	u32 r;

	if (!st->has_srcmap)
		return IPEVM_E_OK;
	if (size % IPEVM_SRCMAP_SIZE ||
	    size / IPEVM_SRCMAP_SIZE != st->rule_count)
		return reject(st, IPEVM_E_BAD_SRCMAP,
			      st->srcmap.at + SEC_FIELD(size));
	for (r = 0; r < st->rule_count; r++) {
		u32 at = st->srcmap.off + r * IPEVM_SRCMAP_SIZE;
		const u8 *p = st->base + at;

		if (!str_ok(st, p + SRCMAP_FIELD(file)))
			return reject(st, IPEVM_E_BAD_SRCMAP,
				      at + SRCMAP_FIELD(file));
		if (!str_ok(st, p + SRCMAP_FIELD(text)))
			return reject(st, IPEVM_E_BAD_SRCMAP,
				      at + SRCMAP_FIELD(text));
	}
	return IPEVM_E_OK;
}

/* ---------------------------------------------------------------------- */
/* Code: one backward pass that checks and costs each instruction         */
/* ---------------------------------------------------------------------- */

static u32 insn_at(const struct vstate *st, u32 i)
{
	return st->code.off + i * IPEVM_INSN_SIZE;
}

/* Both targets strictly forward and inside the code. */
static enum ipevm_err check_jumps(struct vstate *st, u32 i)
{
	u32 at = insn_at(st, i);
	u32 x = ipevm_rd32(st->base + at + INSN_FIELD(x));
	u32 y = ipevm_rd32(st->base + at + INSN_FIELD(y));

	if (x <= i || x >= st->insn_count)
		return reject(st, IPEVM_E_BAD_JUMP, at + INSN_FIELD(x));
	if (y <= i || y >= st->insn_count)
		return reject(st, IPEVM_E_BAD_JUMP, at + INSN_FIELD(y));
	return IPEVM_E_OK;
}

static enum ipevm_err check_br_bool(struct vstate *st, u32 i, u32 *cost)
{
	u32 at = insn_at(st, i);
	const u8 *p = st->base + at;
	enum ipevm_err err;

	if (p[INSN_FIELD(a)] >= IPEVM_PROP_FIRST_DIGEST)
		return reject(st, IPEVM_E_BAD_PROP, at + INSN_FIELD(a));
	if (ipevm_rd16(p + INSN_FIELD(b)))
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(b));
	err = check_jumps(st, i);
	if (err)
		return err;
	st->props_used |= 1u << p[INSN_FIELD(a)];
	cost[i] = sat_add(1, max_u32(cost[ipevm_rd32(p + INSN_FIELD(x))],
				     cost[ipevm_rd32(p + INSN_FIELD(y))]));
	return IPEVM_E_OK;
}

/*
 * A valued table's targets are its successors instead of x. Only its owner
 * (a single index) gets here, so each table's values are read once.
 */
static enum ipevm_err check_lookup(struct vstate *st, u32 i, u32 *cost)
{
	u32 at = insn_at(st, i);
	const u8 *p = st->base + at;
	u32 table = ipevm_rd16(p + INSN_FIELD(b));
	u32 succ, count, vals, k;
	enum ipevm_err err;

	if (!ipevm_prop_is_digest(p[INSN_FIELD(a)]))
		return reject(st, IPEVM_E_BAD_PROP, at + INSN_FIELD(a));
	if (table >= st->table_count)
		return reject(st, IPEVM_E_BAD_TABLE, at + INSN_FIELD(b));
	err = check_jumps(st, i);
	if (err)
		return err;
	st->props_used |= 1u << p[INSN_FIELD(a)];
	count = table_field(st, table, TABLE_FIELD(count));
	succ = cost[ipevm_rd32(p + INSN_FIELD(y))];
	if (table_field(st, table, TABLE_FIELD(flags)) & IPEVM_TF_RULES)
		return reject(st, IPEVM_E_BAD_TABLE, at + INSN_FIELD(b));
	if (table_field(st, table, TABLE_FIELD(flags)) & IPEVM_TF_VALUED) {
		if (table_field(st, table, TABLE_FIELD(owner)) != i)
			return reject(st, IPEVM_E_BAD_TABLE,
				      at + INSN_FIELD(b));
		vals = st->tables.off +
		       table_field(st, table, TABLE_FIELD(vals_off));
		for (k = 0; k < count; k++) {
			u32 v = ipevm_rd32(st->base + vals + 4 * k);

			succ = max_u32(succ, cost[v]);
		}
	} else {
		succ = max_u32(succ, cost[ipevm_rd32(p + INSN_FIELD(x))]);
	}
	cost[i] = sat_add(1 + max_probes(count), succ);
	return IPEVM_E_OK;
}

/*
 * LOOKUP_RULE: a hit decides, so only the miss branch y is a successor; x
 * holds the decision flags, which name no origin (it is always a rule).
 */
static enum ipevm_err check_lookup_rule(struct vstate *st, u32 i, u32 *cost)
{
	u32 at = insn_at(st, i);
	const u8 *p = st->base + at;
	u32 table = ipevm_rd16(p + INSN_FIELD(b));
	u32 flags = ipevm_rd32(p + INSN_FIELD(x));
	u32 y = ipevm_rd32(p + INSN_FIELD(y));
	u32 tflags;

	if (!ipevm_prop_is_digest(p[INSN_FIELD(a)]))
		return reject(st, IPEVM_E_BAD_PROP, at + INSN_FIELD(a));
	if (table >= st->table_count)
		return reject(st, IPEVM_E_BAD_TABLE, at + INSN_FIELD(b));
	tflags = table_field(st, table, TABLE_FIELD(flags));
	if (!(tflags & IPEVM_TF_RULES) ||
	    table_field(st, table, TABLE_FIELD(owner)) != i)
		return reject(st, IPEVM_E_BAD_TABLE, at + INSN_FIELD(b));
	/* A table that carries actions leaves nothing for x to say. */
	if ((flags & ~(IPEVM_DF_ALLOW | IPEVM_DF_AUDIT)) ||
	    ((tflags & IPEVM_TF_ACTIONS) && flags))
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(x));
	if (y <= i || y >= st->insn_count)
		return reject(st, IPEVM_E_BAD_JUMP, at + INSN_FIELD(y));
	st->props_used |= 1u << p[INSN_FIELD(a)];
	cost[i] = sat_add(1 + max_probes(table_field(st, table,
						    TABLE_FIELD(count))),
			  cost[y]);
	return IPEVM_E_OK;
}

static enum ipevm_err check_decide(struct vstate *st, u32 i, u32 *cost)
{
	u32 at = insn_at(st, i);
	const u8 *p = st->base + at;
	u32 flags = ipevm_rd16(p + INSN_FIELD(b));
	u32 rule = ipevm_rd32(p + INSN_FIELD(x));

	if (p[INSN_FIELD(a)])
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(a));
	if (ipevm_rd32(p + INSN_FIELD(y)))
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(y));
	if (flags & ~IPEVM_DF_KNOWN)
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(b));
	switch ((flags & IPEVM_DF_ORIGIN_MASK) >> IPEVM_DF_ORIGIN_SHIFT) {
	case IPEVM_ORIGIN_RULE:
		if (rule >= st->rule_count)
			return reject(st, IPEVM_E_BAD_RULE,
				      at + INSN_FIELD(x));
		break;
	case IPEVM_ORIGIN_OP_DEFAULT:
	case IPEVM_ORIGIN_GLOBAL_DEFAULT:
		/* A default is no rule: x must be 0. */
		if (rule)
			return reject(st, IPEVM_E_BAD_OPERAND,
				      at + INSN_FIELD(x));
		break;
	default:
		return reject(st, IPEVM_E_BAD_OPERAND, at + INSN_FIELD(b));
	}
	cost[i] = 1;
	return IPEVM_E_OK;
}

/*
 * The last instruction cannot branch (no target is beyond it), so it is a
 * DECIDE, and every path ends in a decision. Walking backwards, the last of
 * several bad instructions is the one reported.
 */
static enum ipevm_err check_code(struct vstate *st, u32 *cost)
{
	u32 i = st->insn_count;
	enum ipevm_err err;

	while (i--) {
		u32 at = insn_at(st, i);

		switch (st->base[at + INSN_FIELD(code)]) {
		case IPEVM_BR_BOOL:
			err = check_br_bool(st, i, cost);
			break;
		case IPEVM_LOOKUP:
			err = check_lookup(st, i, cost);
			break;
		case IPEVM_DECIDE:
			err = check_decide(st, i, cost);
			break;
		case IPEVM_LOOKUP_RULE:
			err = check_lookup_rule(st, i, cost);
			break;
		default:
			err = reject(st, IPEVM_E_BAD_OPCODE,
				     at + INSN_FIELD(code));
			break;
		}
		if (err)
			return err;
	}
	return IPEVM_E_OK;
}

/*
 * A valued table belongs to the one LOOKUP that it names as owner, a rule
 * table to the one LOOKUP_RULE.
 */
static enum ipevm_err check_owners(struct vstate *st)
{
	u32 t, flags, want;
	const u8 *p;

	for (t = 0; t < st->table_count; t++) {
		flags = table_field(st, t, TABLE_FIELD(flags));
		/* Unvalued tables have owner 0, always a valid index. */
		if (!(flags & IPEVM_TF_VALUED))
			continue;
		want = flags & IPEVM_TF_RULES ? IPEVM_LOOKUP_RULE :
						IPEVM_LOOKUP;
		p = st->base +
		    insn_at(st, table_field(st, t, TABLE_FIELD(owner)));
		if (p[INSN_FIELD(code)] != want ||
		    ipevm_rd16(p + INSN_FIELD(b)) != t)
			return reject(st, IPEVM_E_BAD_TABLE,
				      table_at(st, t) + TABLE_FIELD(owner));
	}
	return IPEVM_E_OK;
}

static u32 entry_of(const struct vstate *st, u32 op)
{
	return ipevm_rd32(st->base + st->entry.off + 4 * op);
}

static enum ipevm_err check_cost(struct vstate *st, const u32 *cost,
				 u32 cost_limit)
{
	u32 op;

	if (!cost_limit)
		return IPEVM_E_OK;
	for (op = 0; op < IPEVM_OP_COUNT; op++) {
		if (cost[entry_of(st, op)] > cost_limit)
			return reject(st, IPEVM_E_COST_LIMIT,
				      st->entry.off + 4 * op);
	}
	return IPEVM_E_OK;
}

static void fill_prog(const struct vstate *st, const u32 *cost,
		      struct ipevm_prog *prog)
{
	const u8 *p = st->base;
	u32 name_off = ipevm_rd32(p + IPEVM_HDR_NAME +
				  STR_FIELD(off));
	u32 op, c;

	prog->base = p;
	prog->size = st->len;
	prog->version[0] = ipevm_rd16(p + IPEVM_HDR_VERSION);
	prog->version[1] = ipevm_rd16(p + IPEVM_HDR_VERSION + 2);
	prog->version[2] = ipevm_rd16(p + IPEVM_HDR_VERSION + 4);
	prog->rule_count = st->rule_count;
	prog->name = p + st->strtab.off + name_off;
	prog->name_len = ipevm_rd32(p + IPEVM_HDR_NAME +
				    STR_FIELD(len));
	prog->strtab = p + st->strtab.off;
	prog->strtab_size = st->strtab.size;
	prog->entry = p + st->entry.off;
	prog->code = p + st->code.off;
	prog->insn_count = st->insn_count;
	prog->tables = p + st->tables.off;
	prog->tables_size = st->tables.size;
	prog->table_count = st->table_count;
	prog->srcmap = st->has_srcmap ? p + st->srcmap.off : NULL;
	/* Any bytes: the text is for people and is never interpreted. */
	prog->source = st->has_source ? p + st->source.off : NULL;
	prog->source_size = st->has_source ? st->source.size : 0;
	prog->props_used = st->props_used;
	prog->max_cost = 0;
	for (op = 0; op < IPEVM_OP_COUNT; op++) {
		c = cost[entry_of(st, op)];
		prog->op_cost[op] = c;
		prog->max_cost = max_u32(prog->max_cost, c);
	}
}

enum ipevm_err ipevm_verify(const void *buf, u32 len, u32 cost_limit,
			    u32 *scratch, u32 scratch_words,
			    struct ipevm_prog *prog, struct ipevm_diag *diag)
{
	struct vstate st;
	enum ipevm_err err;

	st.base = buf;
	st.len = len;
	st.diag = diag;
	st.seen = 0;
	st.has_srcmap = false;
	st.has_source = false;
	st.rule_count = 0;
	st.insn_count = 0;
	st.table_count = 0;
	st.props_used = 0;

	err = check_header(&st);
	if (!err)
		err = check_sections(&st);
	if (!err)
		err = check_name(&st);
	if (!err)
		err = check_code_size(&st);
	if (!err)
		err = check_entry(&st);
	if (!err)
		err = check_tables(&st);
	if (!err)
		err = check_srcmap(&st);
	if (!err && (!scratch || scratch_words < st.insn_count))
		err = reject(&st, IPEVM_E_SCRATCH,
			     st.code.at + SEC_FIELD(size));
	if (!err)
		err = check_code(&st, scratch);
	if (!err)
		err = check_owners(&st);
	if (!err)
		err = check_cost(&st, scratch, cost_limit);
	if (err)
		return err;

	fill_prog(&st, scratch, prog);
	if (diag) {
		diag->err = IPEVM_E_OK;
		diag->offset = 0;
	}
	return IPEVM_E_OK;
}
