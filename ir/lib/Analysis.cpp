//===- Analysis.cpp -------------------------------------------------------===//

#include "ipec/IR/Analysis.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/Support/MathExtras.h"

#include <optional>

using namespace ipec;
using namespace ipec::ir;

namespace {

/// A digest of a property, as a rule of the policy being analysed lists it:
/// the policy outlives the analysis, so keys point into it.
struct PropDigest {
  unsigned Prop;
  const Digest *D;
};

struct PropDigestInfo {
  static PropDigest getEmptyKey() {
    return {0, llvm::DenseMapInfo<const Digest *>::getEmptyKey()};
  }
  static PropDigest getTombstoneKey() {
    return {0, llvm::DenseMapInfo<const Digest *>::getTombstoneKey()};
  }
  static bool isSpecial(const PropDigest &K) {
    return K.D == getEmptyKey().D || K.D == getTombstoneKey().D;
  }
  static unsigned getHashValue(const PropDigest &K) {
    return unsigned(llvm::hash_combine(
        K.Prop, llvm::hash_value(llvm::StringRef(K.D->Alg)),
        llvm::hash_combine_range(K.D->Bytes.data(),
                                 K.D->Bytes.data() + K.D->Bytes.size())));
  }
  static bool isEqual(const PropDigest &A, const PropDigest &B) {
    if (isSpecial(A) || isSpecial(B))
      return A.D == B.D;
    return A.Prop == B.Prop && *A.D == *B.D;
  }
};

constexpr uint32_t Unclaimed = ~0u;

/// Per operation, the first pure digest rule that listed a digest.
struct Claims {
  std::array<uint32_t, IPEVM_OP_COUNT> By;
  Claims() { By.fill(Unclaimed); }
};

} // namespace

std::vector<ShadowedRule> ir::findShadowedRules(const Policy &P) {
  std::vector<ShadowedRule> Out;
  // Per operation: the first rule that matches everything, and which rule
  // first claimed each digest (by property) among pure digest rules. One
  // hash table serves every operation: a rule's digests are looked up once.
  std::array<std::optional<size_t>, IPEVM_OP_COUNT> Always;
  llvm::DenseMap<PropDigest, Claims, PropDigestInfo> Claimed;
  size_t Digests = 0;
  for (const Rule &R : P.Rules)
    if (R.Cond.K == Expr::DigestIn)
      Digests += R.Cond.Set.size();
  Claimed.reserve(Digests);
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const Rule &R = P.Rules[I];
    bool Pure = R.Cond.K == Expr::DigestIn;
    bool Shadowed = true, ByAlways = false;
    size_t By = 0;
    // Operations decided by an earlier unconditional rule; a pure rule is
    // shadowed for the others if earlier rules claimed all its digests.
    ir::OpMask Open = 0;
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
      if (!(R.Ops & (1u << Op)))
        continue;
      if (Always[Op]) {
        By = *Always[Op];
        ByAlways = true;
      } else {
        Open |= 1u << Op;
      }
    }
    if (Open && !Pure)
      Shadowed = false;
    // The digest-claimed case names the rule that claimed the last digest
    // for the last open operation, unless an unconditional rule was found.
    for (size_t J = 0; Open && Shadowed && J < R.Cond.Set.size(); ++J) {
      auto It = Claimed.find({R.Cond.Prop, &R.Cond.Set[J]});
      if (It == Claimed.end()) {
        Shadowed = false;
        break;
      }
      for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
        if (!(Open & (1u << Op)))
          continue;
        if (It->second.By[Op] == Unclaimed) {
          Shadowed = false;
          break;
        }
      }
    }
    if (Shadowed && Open && !ByAlways && !R.Cond.Set.empty())
      By = Claimed.find({R.Cond.Prop, &R.Cond.Set.back()})
               ->second.By[llvm::Log2_32(Open)];
    if (Shadowed && R.Ops) {
      Out.push_back({I, By, ByAlways});
      continue;
    }
    if (R.Cond.K == Expr::True) {
      for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
        if ((Open & (1u << Op)))
          Always[Op] = I;
    } else if (Pure && Open) {
      for (const Digest &D : R.Cond.Set) {
        Claims &C = Claimed[{R.Cond.Prop, &D}];
        for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
          if ((Open & (1u << Op)) && C.By[Op] == Unclaimed)
            C.By[Op] = uint32_t(I);
      }
    }
  }
  return Out;
}
