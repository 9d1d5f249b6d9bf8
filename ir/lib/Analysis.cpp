//===- Analysis.cpp -------------------------------------------------------===//

#include "ipec/IR/Analysis.h"

#include <map>
#include <optional>

using namespace ipec;
using namespace ipec::ir;

std::vector<ShadowedRule> ir::findShadowedRules(const Policy &P) {
  std::vector<ShadowedRule> Out;
  // Per operation: the first rule that matches everything, and which rule
  // first claimed each digest (by property) among pure digest rules.
  std::array<std::optional<size_t>, IPEVM_OP_COUNT> Always;
  std::array<std::map<std::pair<unsigned, Digest>, size_t>, IPEVM_OP_COUNT>
      Claimed;
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const Rule &R = P.Rules[I];
    bool Pure = R.Cond.K == Expr::DigestIn;
    bool Shadowed = true, ByAlways = false;
    size_t By = 0;
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT && Shadowed; ++Op) {
      if (!(R.Ops & (1u << Op)))
        continue;
      if (Always[Op]) {
        By = *Always[Op];
        ByAlways = true;
        continue;
      }
      if (!Pure) {
        Shadowed = false;
        break;
      }
      for (const Digest &D : R.Cond.Set) {
        auto It = Claimed[Op].find({R.Cond.Prop, D});
        if (It == Claimed[Op].end()) {
          Shadowed = false;
          break;
        }
        if (!ByAlways)
          By = It->second;
      }
    }
    if (Shadowed && R.Ops) {
      Out.push_back({I, By, ByAlways});
      continue;
    }
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
      if (!(R.Ops & (1u << Op)) || Always[Op])
        continue;
      if (R.Cond.K == Expr::True)
        Always[Op] = I;
      else if (Pure)
        for (const Digest &D : R.Cond.Set)
          Claimed[Op].try_emplace({R.Cond.Prop, D}, I);
    }
  }
  return Out;
}
