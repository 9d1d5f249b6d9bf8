//===- Passes.cpp - Policy-level optimisation passes ----------------------===//

#include "ipec/IR/Passes.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <map>
#include <unordered_map>

using namespace ipec;
using namespace ipec::ir;

namespace {

/// Canonical operand order: cheap boolean tests first, digest lookups last.
int rank(const Expr &E) {
  switch (E.K) {
  case Expr::True:
  case Expr::False:
    return 0;
  case Expr::BoolProp:
    return 1;
  case Expr::Not:
    return E.Ops[0].K == Expr::BoolProp   ? 1
           : E.Ops[0].K == Expr::DigestIn ? 4
                                          : 3;
  case Expr::And:
  case Expr::Or:
    return 3;
  case Expr::DigestIn:
    return 4;
  }
  return 3;
}

/// The property a literal (a property or its negation) tests.
unsigned literalProp(const Expr &E) {
  return E.K == Expr::Not && !E.Ops.empty() ? E.Ops[0].Prop : E.Prop;
}

/// A strict total order on expressions (for sorting and deduplication):
/// by rank, then by property, a property before its negation.
int compare(const Expr &A, const Expr &B) {
  if (int RA = rank(A), RB = rank(B); RA != RB)
    return RA < RB ? -1 : 1;
  if (unsigned PA = literalProp(A), PB = literalProp(B); PA != PB)
    return PA < PB ? -1 : 1;
  if (bool NA = A.K == Expr::Not, NB = B.K == Expr::Not; NA != NB)
    return NA ? 1 : -1;
  if (A.K != B.K)
    return A.K < B.K ? -1 : 1;
  if (A.Prop != B.Prop)
    return A.Prop < B.Prop ? -1 : 1;
  if (A.Set != B.Set)
    return A.Set < B.Set ? -1 : 1;
  for (size_t I = 0; I < A.Ops.size() && I < B.Ops.size(); ++I)
    if (int C = compare(A.Ops[I], B.Ops[I]))
      return C;
  if (A.Ops.size() != B.Ops.size())
    return A.Ops.size() < B.Ops.size() ? -1 : 1;
  return 0;
}

std::vector<Digest> unite(const std::vector<Digest> &A,
                          const std::vector<Digest> &B) {
  std::vector<Digest> Out;
  std::set_union(A.begin(), A.end(), B.begin(), B.end(),
                 std::back_inserter(Out));
  return Out;
}

std::vector<Digest> intersect(const std::vector<Digest> &A,
                              const std::vector<Digest> &B) {
  std::vector<Digest> Out;
  std::set_intersection(A.begin(), A.end(), B.begin(), B.end(),
                        std::back_inserter(Out));
  return Out;
}

Expr negated(Expr E) {
  Expr N{Expr::Not, 0, {}, {}};
  N.Ops.push_back(std::move(E));
  return N;
}

/// An and/or of Ops (already normalised): memberships of one property merged,
/// duplicates dropped, operands sorted.
Expr combine(Expr::Kind K, std::vector<Expr> Ops) {
  bool IsAnd = K == Expr::And;
  // Positive and negated memberships per digest property. In an or, p in A
  // or p in B is p in A|B and not p in A or not p in B is not p in A&B; in an
  // and the other way round.
  std::map<unsigned, std::vector<Digest>> Pos, Neg;
  std::vector<Expr> Rest;
  for (Expr &E : Ops) {
    if (E.K == Expr::DigestIn) {
      auto [It, New] = Pos.try_emplace(E.Prop, E.Set);
      if (!New)
        It->second =
            IsAnd ? intersect(It->second, E.Set) : unite(It->second, E.Set);
    } else if (E.K == Expr::Not && E.Ops[0].K == Expr::DigestIn) {
      const Expr &In = E.Ops[0];
      auto [It, New] = Neg.try_emplace(In.Prop, In.Set);
      if (!New)
        It->second =
            IsAnd ? unite(It->second, In.Set) : intersect(It->second, In.Set);
    } else {
      Rest.push_back(std::move(E));
    }
  }
  for (auto &[Prop, Set] : Pos)
    Rest.push_back(Expr::digestIn(Prop, std::move(Set)));
  for (auto &[Prop, Set] : Neg)
    Rest.push_back(Expr::makeNot(Expr::digestIn(Prop, std::move(Set))));
  llvm::sort(Rest,
             [](const Expr &A, const Expr &B) { return compare(A, B) < 0; });
  Rest.erase(std::unique(Rest.begin(), Rest.end(),
                         [](const Expr &A, const Expr &B) {
                           return compare(A, B) == 0;
                         }),
             Rest.end());
  if (Rest.empty())
    return Expr::constant(IsAnd);
  if (Rest.size() == 1)
    return std::move(Rest[0]);
  Expr N{K, 0, {}, {}};
  N.Ops = std::move(Rest);
  return N;
}

/// E, negated if Neg, with negations only on properties.
Expr normal(const Expr &E, bool Neg) {
  switch (E.K) {
  case Expr::True:
  case Expr::False:
    return Expr::constant((E.K == Expr::True) != Neg);
  case Expr::BoolProp:
  case Expr::DigestIn:
    return Neg ? negated(E) : E;
  case Expr::Not:
    return normal(E.Ops[0], !Neg);
  case Expr::And:
  case Expr::Or: {
    Expr::Kind K = (E.K == Expr::And) != Neg ? Expr::And : Expr::Or;
    std::vector<Expr> Ops;
    for (const Expr &Sub : E.Ops) {
      Expr S = normal(Sub, Neg);
      if (S.K == K)
        for (Expr &Inner : S.Ops)
          Ops.push_back(std::move(Inner));
      else
        Ops.push_back(std::move(S));
    }
    return combine(K, std::move(Ops));
  }
  }
  return E;
}

Expr fold(const Expr &E) {
  switch (E.K) {
  case Expr::Not:
    return Expr::makeNot(fold(E.Ops[0]));
  case Expr::And:
  case Expr::Or: {
    bool IsAnd = E.K == Expr::And;
    std::vector<Expr> Ops;
    for (const Expr &Sub : E.Ops) {
      Expr S = fold(Sub);
      if (S.K == (IsAnd ? Expr::False : Expr::True))
        return S;
      if (S.K == (IsAnd ? Expr::True : Expr::False))
        continue;
      Ops.push_back(std::move(S));
    }
    // x and not x is false; x or not x is true.
    for (const Expr &O : Ops)
      if (O.K == Expr::Not && llvm::any_of(Ops, [&](const Expr &X) {
            return compare(X, O.Ops[0]) == 0;
          }))
        return Expr::constant(!IsAnd);
    if (Ops.empty())
      return Expr::constant(IsAnd);
    if (Ops.size() == 1)
      return std::move(Ops[0]);
    Expr N{E.K, 0, {}, {}};
    N.Ops = std::move(Ops);
    return N;
  }
  default:
    return E;
  }
}

bool isTombstone(const Rule &R) { return R.Ops == 0; }

void kill(Rule &R) {
  R.Ops = 0;
  R.Cond = Expr::constant(false);
}

// Three-valued evaluation over one assignment of the boolean properties;
// digest memberships are unknown.
enum Tri { No, Yes, Maybe };

constexpr unsigned BoolPropCount = IPEVM_PROP_FIRST_DIGEST;
constexpr unsigned Assignments = 1u << BoolPropCount;

Tri eval3(const Expr &E, unsigned A) {
  switch (E.K) {
  case Expr::True:
    return Yes;
  case Expr::False:
    return No;
  case Expr::BoolProp:
    return (A >> E.Prop) & 1 ? Yes : No;
  case Expr::DigestIn:
    return Maybe;
  case Expr::Not: {
    Tri T = eval3(E.Ops[0], A);
    return T == Maybe ? Maybe : T == Yes ? No : Yes;
  }
  case Expr::And:
  case Expr::Or: {
    bool IsAnd = E.K == Expr::And;
    Tri Out = IsAnd ? Yes : No;
    for (const Expr &Sub : E.Ops) {
      Tri T = eval3(Sub, A);
      if (T == (IsAnd ? No : Yes))
        return T;
      if (T == Maybe)
        Out = Maybe;
    }
    return Out;
  }
  }
  return Maybe;
}

std::string claimKey(const Digest &D) {
  std::string K = D.Alg;
  K.push_back('\0');
  K.append(D.Bytes.begin(), D.Bytes.end());
  return K;
}

using Claims =
    std::array<std::unordered_map<std::string, OpMask>, IPEVM_DIGEST_PROPS>;

/// Drops from every membership in E the digests earlier rules decide for all
/// of Ops. Returns whether anything changed.
bool dropClaimed(Expr &E, const Claims &C, OpMask Ops) {
  bool Changed = false;
  if (E.K == Expr::DigestIn) {
    const auto &Map = C[E.Prop - IPEVM_PROP_FIRST_DIGEST];
    if (Map.empty())
      return false;
    std::vector<Digest> Keep;
    for (const Digest &D : E.Set) {
      auto It = Map.find(claimKey(D));
      if (It == Map.end() || (It->second & Ops) != Ops)
        Keep.push_back(D);
    }
    if (Keep.size() != E.Set.size()) {
      E = Expr::digestIn(E.Prop, std::move(Keep));
      Changed = true;
    }
    return Changed;
  }
  for (Expr &Sub : E.Ops)
    Changed |= dropClaimed(Sub, C, Ops);
  return Changed;
}

} // namespace

void ir::normalize(Policy &P) {
  for (Rule &R : P.Rules)
    if (!isTombstone(R))
      R.Cond = normal(R.Cond, false);
}

void ir::constantFold(Policy &P) {
  for (Rule &R : P.Rules)
    if (!isTombstone(R))
      R.Cond = fold(R.Cond);
}

void ir::removeDeadRules(Policy &P) {
  // Per operation, the boolean assignments under which an earlier rule always
  // decides; per digest property, the operations for which an earlier plain
  // membership rule decides each digest.
  std::array<uint32_t, IPEVM_OP_COUNT> Covered{};
  Claims C;
  for (Rule &R : P.Rules) {
    if (isTombstone(R))
      continue;
    if (R.Cond.K == Expr::False) {
      kill(R);
      continue;
    }
    if (dropClaimed(R.Cond, C, R.Ops))
      R.Cond = fold(R.Cond);
    uint32_t Possible = 0, Always = 0;
    for (unsigned A = 0; A < Assignments; ++A) {
      Tri T = eval3(R.Cond, A);
      if (T != No)
        Possible |= 1u << A;
      if (T == Yes)
        Always |= 1u << A;
    }
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
      if ((R.Ops & (1u << Op)) && (Possible & ~Covered[Op]) == 0)
        R.Ops &= ~(1u << Op);
    if (R.Ops == 0) {
      kill(R);
      continue;
    }
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
      if (R.Ops & (1u << Op))
        Covered[Op] |= Always;
    if (R.Cond.K == Expr::DigestIn) {
      auto &Map = C[R.Cond.Prop - IPEVM_PROP_FIRST_DIGEST];
      for (const Digest &D : R.Cond.Set)
        Map[claimKey(D)] |= R.Ops;
    }
  }
}

void ir::dump(const Policy &P, llvm::raw_ostream &OS) {
  Policy Head;
  Head.Name = P.Name;
  Head.Version = P.Version;
  Head.Global = P.Global;
  Head.PerOp = P.PerOp;
  print(Head, OS);
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const Rule &R = P.Rules[I];
    if (isTombstone(R)) {
      OS << "# rule " << I << ": never decides\n";
      continue;
    }
    print(R, OS);
    OS << "  # rule " << I << "\n";
  }
}
