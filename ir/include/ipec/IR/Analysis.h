//===- Analysis.h - Facts about a policy that do not change it --*- C++ -*-===//
#ifndef IPEC_IR_ANALYSIS_H
#define IPEC_IR_ANALYSIS_H

#include "ipec/IR/Policy.h"

#include <vector>

namespace ipec {
namespace ir {

/// A rule that can never decide: for every operation it names, earlier rules
/// decide every event it would match.
struct ShadowedRule {
  size_t Rule;
  /// An earlier rule responsible: one that matches every event of an
  /// operation (Unconditional), or one that lists a digest of this rule.
  size_t By;
  bool Unconditional;
};

/// Finds shadowed rules, in rule order. Two forms are recognised: an earlier
/// rule without condition for the operation, and, for a rule that only tests
/// digest membership, earlier such rules on the same property that together
/// list all of its digests.
std::vector<ShadowedRule> findShadowedRules(const Policy &P);

} // namespace ir
} // namespace ipec

#endif // IPEC_IR_ANALYSIS_H
