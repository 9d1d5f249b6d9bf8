//===- Evaluate.h - Reference evaluator over the policy IR ------*- C++ -*-===//
//
// Upstream IPE's semantics, written as directly as possible and independent
// of codegen: rules of the operation in source order, first whose condition
// holds decides, then the operation's default, then the global one. Tests
// compare compiled bytecode against it.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_IR_EVALUATE_H
#define IPEC_IR_EVALUATE_H

#include "ipec/IR/Policy.h"

#include <optional>

namespace ipec {
namespace ir {

/// The facts of one event.
struct Facts {
  uint32_t Bools = 0; ///< Bit per boolean enum ipevm_prop.
  std::array<std::optional<Digest>, IPEVM_DIGEST_PROPS> Digests;
};

struct Decision {
  Action Act;
  ipevm_origin Origin = IPEVM_ORIGIN_GLOBAL_DEFAULT;
  uint32_t Rule = 0; ///< Index into Policy::Rules when Origin is a rule.
};

bool holds(const Expr &E, const Facts &F);
/// Decides Op for F. The policy must have a default for Op.
Decision evaluate(const Policy &P, unsigned Op, const Facts &F);

} // namespace ir
} // namespace ipec

#endif // IPEC_IR_EVALUATE_H
