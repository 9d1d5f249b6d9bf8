//===- Passes.h - Policy-level optimisation passes --------------*- C++ -*-===//
//
// Each pass rewrites a Policy in place and never changes a decision: for
// every operation and event the same rule (by id), default and audit flag
// decide before and after. Rule ids are indices into Policy::Rules, which
// name rules in audit records and the source map, so passes never renumber
// rules: a rule that can no longer decide anything keeps its slot with an
// empty operation set.
//
// Codegen (compiler/lib/CodeGen.cpp) runs these passes first and its own
// decision-graph passes after them; passPipeline() there lists the whole
// pipeline for each -O level.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_IR_PASSES_H
#define IPEC_IR_PASSES_H

#include "ipec/IR/Policy.h"

namespace ipec {
namespace ir {

/// "normalize": negations pushed down to properties (De Morgan, double
/// negation), nested and/or flattened, memberships of one digest property
/// merged (p in A or p in B == p in A|B; p in A and p in B == p in A&B),
/// duplicate operands dropped, and operands put in a canonical order: boolean
/// properties first, digest lookups last.
void normalize(Policy &P);

/// "constfold": true and false propagated through and, or and not; a
/// property and its negation in one and (false) or one or (true).
void constantFold(Policy &P);

/// "dead-rules": per operation, a rule is dropped from an operation when
/// earlier rules of that operation decide every event it could match, judged
/// over all assignments of the boolean properties, and for digest
/// memberships by the digests earlier plain membership rules already decide.
/// Such digests are also removed from later rules' sets. A rule left with no
/// operation is kept as a tombstone (no operations, condition false).
void removeDeadRules(Policy &P);

/// Prints P like print(), but every rule with its id and tombstones as
/// comments: the dump that --print-after shows.
void dump(const Policy &P, llvm::raw_ostream &OS);

} // namespace ir
} // namespace ipec

#endif // IPEC_IR_PASSES_H
