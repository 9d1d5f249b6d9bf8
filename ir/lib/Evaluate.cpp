//===- Evaluate.cpp - Reference evaluator ---------------------------------===//

#include "ipec/IR/Evaluate.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace ipec;
using namespace ipec::ir;

bool ir::holds(const Expr &E, const Facts &F) {
  switch (E.K) {
  case Expr::True:
    return true;
  case Expr::False:
    return false;
  case Expr::Not:
    return !holds(E.Ops[0], F);
  case Expr::And:
    return llvm::all_of(E.Ops, [&](const Expr &O) { return holds(O, F); });
  case Expr::Or:
    return llvm::any_of(E.Ops, [&](const Expr &O) { return holds(O, F); });
  case Expr::BoolProp:
    return F.Bools & (1u << E.Prop);
  case Expr::DigestIn: {
    const auto &D = F.Digests[E.Prop - IPEVM_PROP_FIRST_DIGEST];
    return D && std::binary_search(E.Set.begin(), E.Set.end(), *D);
  }
  }
  return false;
}

Decision ir::evaluate(const Policy &P, unsigned Op, const Facts &F) {
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const Rule &R = P.Rules[I];
    if ((R.Ops & (1u << Op)) && holds(R.Cond, F))
      return {R.Act, IPEVM_ORIGIN_RULE, uint32_t(I)};
  }
  if (P.PerOp[Op].Present)
    return {P.PerOp[Op].Act, IPEVM_ORIGIN_OP_DEFAULT, 0};
  return {P.Global.Act, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0};
}
