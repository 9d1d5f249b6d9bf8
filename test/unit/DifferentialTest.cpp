//===- DifferentialTest.cpp - Compiled bytecode vs. the reference ---------===//
//
// Random policies (seeded, reproducible) are compiled, serialized, verified
// by the C verifier and run by the C interpreter on random events; every
// decision must equal the reference evaluator's: same action, audit flag,
// origin and rule. A failure prints the policy as IPL and the event.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Bytecode.h"
#include "ipec/CodeGen.h"
#include "ipec/Decompiler.h"
#include "ipec/IR/Analysis.h"
#include "ipec/IR/Evaluate.h"

#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

using namespace ipec;
using namespace ipec::ir;

namespace {

const unsigned BoolProps[] = {
    IPEVM_PROP_BOOT_VERIFIED, IPEVM_PROP_HAS_FILE, IPEVM_PROP_WRITABLE,
    IPEVM_PROP_FSVERITY_SIGNATURE, IPEVM_PROP_DMVERITY_SIGNATURE};

class RandomPolicies {
public:
  /// OneAlgorithm: only sha256 digests in policies (events still carry
  /// others).
  explicit RandomPolicies(uint32_t Seed, bool OneAlgorithm = false)
      : Rng(Seed) {
    // A small pool so that rules and events collide often; one sha512 digest
    // so that algorithm and length mismatches are exercised.
    for (int I = 0; I < 6; ++I)
      Pool.push_back(digest("sha256", 32));
    if (!OneAlgorithm)
      Pool.push_back(digest("sha512", 64));
  }

  Policy policy() {
    Policy P;
    P.Name = "random";
    P.Version = {1, 0, 0};
    if (chance(70))
      P.Global = {true, action(), {}};
    for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
      if (!P.Global.Present || chance(20))
        P.PerOp[Op] = {true, action(), {}};
    unsigned N = pick(14);
    for (unsigned I = 0; I < N; ++I) {
      Rule R;
      R.Ops = chance(30) ? AllOps & ~0u : 0;
      while (!R.Ops)
        R.Ops = uint32_t(Rng()) & AllOps & uint32_t(Rng());
      R.Act = action();
      // Often a pure digest rule, so that runs of them get merged.
      R.Cond = chance(10)   ? Expr::constant(true)
               : chance(35) ? digestSet(IPEVM_PROP_FIRST_DIGEST + pick(2))
               : chance(30)
                   ? Expr::makeAnd(guard(),
                                   digestSet(IPEVM_PROP_FIRST_DIGEST + pick(2)))
                   : expr(3);
      P.Rules.push_back(std::move(R));
    }
    return P;
  }

  Facts facts() {
    Facts F;
    for (unsigned B : BoolProps)
      if (chance(50))
        F.Bools |= 1u << B;
    for (auto &D : F.Digests) {
      unsigned C = pick(10);
      if (C < 7)
        D = Pool[pick(unsigned(Pool.size()))];
      else if (C < 9)
        D = digest("sha256", 32);
    }
    return F;
  }

  unsigned pick(unsigned N) { return unsigned(Rng() % N); }
  bool chance(unsigned Percent) { return pick(100) < Percent; }

private:
  Digest digest(const char *Alg, unsigned Len) {
    Digest D{Alg, {}};
    for (unsigned I = 0; I < Len; ++I)
      D.Bytes.push_back(uint8_t(Rng()));
    return D;
  }
  Action action() { return {chance(50), chance(25)}; }
  /// A guard shared by several digest rules: one or two boolean tests.
  Expr guard() {
    Expr G = Expr::boolProp(BoolProps[pick(2)]);
    if (chance(30))
      G = Expr::makeAnd(std::move(G),
                        Expr::makeNot(Expr::boolProp(BoolProps[2 + pick(3)])));
    return G;
  }
  /// One to three digests of the pool.
  Expr digestSet(unsigned Prop) {
    std::vector<Digest> Set;
    for (unsigned N = 1 + pick(3); N; --N)
      Set.push_back(Pool[pick(unsigned(Pool.size()))]);
    return Expr::digestIn(Prop, std::move(Set));
  }
  Expr expr(unsigned Depth) {
    unsigned K = pick(Depth ? 10 : 6);
    if (K < 3)
      return Expr::boolProp(BoolProps[pick(5)]);
    if (K < 5)
      return digestSet(IPEVM_PROP_FIRST_DIGEST + pick(2));
    if (K < 6)
      return Expr::constant(chance(50));
    if (K < 7)
      return Expr::makeNot(expr(Depth - 1));
    if (K < 9)
      return Expr::makeAnd(expr(Depth - 1), expr(Depth - 1));
    return Expr::makeOr(expr(Depth - 1), expr(Depth - 1));
  }

  std::mt19937 Rng;
  std::vector<Digest> Pool;
};

std::string describe(const Policy &P, unsigned Op, const Facts &F) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  print(P, OS);
  OS << "event: op " << opName(Op);
  for (unsigned B : BoolProps)
    OS << " " << propName(B) << "=" << ((F.Bools >> B) & 1);
  for (unsigned I = 0; I < IPEVM_DIGEST_PROPS; ++I)
    if (F.Digests[I])
      OS << " " << propName(IPEVM_PROP_FIRST_DIGEST + I) << "="
         << F.Digests[I]->str();
  return OS.str();
}

/// Fills the event lazily from Facts, recording how often each property was
/// asked for.
struct LazyFacts {
  const Facts *F;
  unsigned Calls[IPEVM_PROP_COUNT] = {};
};

int fetchFromFacts(ipevm_event *Ev, u32 Prop) {
  auto *L = static_cast<LazyFacts *>(Ev->ctx);
  ++L->Calls[Prop];
  if (ipevm_prop_is_digest(Prop)) {
    const auto &D = L->F->Digests[Prop - IPEVM_PROP_FIRST_DIGEST];
    ipevm_digest &Out = Ev->digest[Prop - IPEVM_PROP_FIRST_DIGEST];
    if (D) {
      Out.alg = reinterpret_cast<const u8 *>(D->Alg.data());
      Out.alg_len = u32(D->Alg.size());
      Out.bytes = D->Bytes.data();
      Out.len = u32(D->Bytes.size());
    }
  } else if (L->F->Bools & (1u << Prop)) {
    Ev->bools |= 1u << Prop;
  }
  Ev->have |= 1u << Prop;
  return 0;
}

/// Runs P on an event of Op whose properties come lazily from L.
ipevm_err decideLazily(const ipevm_prog &P, unsigned Op, LazyFacts &L,
                       ipevm_decision &Out) {
  ipevm_event Ev{};
  Ev.op = Op;
  Ev.fetch = fetchFromFacts;
  Ev.ctx = &L;
  return ipevm_eval(&P, &Ev, &Out);
}

std::string disagreement(const ipevm_prog &Prog, const Policy &P, unsigned Op,
                         const Facts &F);

/// Why compiled P disagrees with the reference on (Op, F), or "" if it
/// does not: a different decision, a run over its verified bound, a
/// property fetched twice, or a policy that fails to compile or verify.
std::string disagreement(const Policy &P, const CodeGenOptions &Opts,
                         unsigned Op, const Facts &F) {
  auto M = generateCode(P, Opts);
  if (!M)
    return "codegen failed: " + llvm::toString(M.takeError());
  auto A = Artifact::fromBytes(bc::serialize(*M));
  if (!A)
    return "verifier refused: " + llvm::toString(A.takeError());
  return disagreement(A->prog(), P, Op, F);
}

/// Why program Prog, compiled from P, disagrees with the reference on
/// (Op, F), or "".
std::string disagreement(const ipevm_prog &Prog, const Policy &P, unsigned Op,
                         const Facts &F) {
  Decision Want = evaluate(P, Op, F);
  LazyFacts L{&F, {}};
  ipevm_decision Got{};
  if (decideLazily(Prog, Op, L, Got) != IPEVM_E_OK)
    return "evaluation failed";
  if (Got.allow != Want.Act.Allow || Got.audit != Want.Act.Audit ||
      Got.origin != Want.Origin ||
      (Want.Origin == IPEVM_ORIGIN_RULE && Got.rule != Want.Rule))
    return "bytecode decided allow=" + std::to_string(Got.allow) +
           " audit=" + std::to_string(Got.audit) +
           " origin=" + std::to_string(Got.origin) +
           " rule=" + std::to_string(Got.rule) +
           "; the reference allow=" + std::to_string(Want.Act.Allow) +
           " audit=" + std::to_string(Want.Act.Audit) +
           " origin=" + std::to_string(Want.Origin) +
           " rule=" + std::to_string(Want.Rule);
  if (Got.steps > Prog.op_cost[Op])
    return "took " + std::to_string(Got.steps) + " steps, over the bound " +
           std::to_string(Prog.op_cost[Op]);
  for (unsigned Prop = 0; Prop < IPEVM_PROP_COUNT; ++Prop)
    if (L.Calls[Prop] > 1)
      return "property " + propName(Prop).str() + " fetched twice";
  return "";
}

/// Every expression one simplification away from E: a node replaced by one
/// of its operands or by a constant, or a set with one digest fewer.
void simpler(const Expr &E, std::vector<Expr> &Out) {
  if (E.K != Expr::True && E.K != Expr::False) {
    Out.push_back(Expr::constant(false));
    Out.push_back(Expr::constant(true));
  }
  for (const Expr &Sub : E.Ops)
    Out.push_back(Sub);
  if (E.K == Expr::DigestIn && E.Set.size() > 1)
    for (size_t I = 0; I < E.Set.size(); ++I) {
      std::vector<Digest> Fewer = E.Set;
      Fewer.erase(Fewer.begin() + I);
      Out.push_back(Expr::digestIn(E.Prop, std::move(Fewer)));
    }
  for (size_t I = 0; I < E.Ops.size(); ++I) {
    std::vector<Expr> Subs;
    simpler(E.Ops[I], Subs);
    for (Expr &S : Subs) {
      Expr Copy = E;
      Copy.Ops[I] = std::move(S);
      Out.push_back(std::move(Copy));
    }
  }
}

/// Shrinks P, greedily and to a fixpoint, while StillFails holds: rules
/// dropped, operations narrowed to Op, conditions simplified.
Policy minimize(Policy P, unsigned Op,
                const std::function<bool(const Policy &)> &StillFails) {
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (size_t I = P.Rules.size(); I-- > 0;) {
      Policy Q = P;
      Q.Rules.erase(Q.Rules.begin() + I);
      if (StillFails(Q)) {
        P = std::move(Q);
        Changed = true;
      }
    }
    for (Rule &R : P.Rules) {
      if (R.Ops != (1u << Op) && (R.Ops & (1u << Op))) {
        OpMask Old = R.Ops;
        R.Ops = 1u << Op;
        if (StillFails(P))
          Changed = true;
        else
          R.Ops = Old;
      }
      std::vector<Expr> Candidates;
      simpler(R.Cond, Candidates);
      for (Expr &C : Candidates) {
        Expr Old = R.Cond;
        R.Cond = std::move(C);
        if (StillFails(P)) {
          Changed = true;
          break;
        }
        R.Cond = std::move(Old);
      }
    }
  }
  return P;
}

/// The report for a disagreement: the reason, a minimal policy that still
/// shows it, and the original.
std::string report(const Policy &P, const CodeGenOptions &Opts, unsigned Op,
                   const Facts &F, const std::string &Why) {
  Policy Small = minimize(P, Op, [&](const Policy &Q) {
    return !disagreement(Q, Opts, Op, F).empty();
  });
  return Why + "\n-- minimal policy (-O" + std::to_string(Opts.OptLevel) +
         ") and event:\n" + describe(Small, Op, F) + "\n-- original policy:\n" +
         describe(P, Op, F);
}

void decidesLikeReference(const CodeGenOptions &Opts, uint32_t Seed) {
  constexpr unsigned Policies = 2000, Events = 40;
  RandomPolicies Gen(Seed);
  unsigned Compared = 0;
  for (unsigned I = 0; I < Policies; ++I) {
    Policy P = Gen.policy();
    auto M = generateCode(P, Opts);
    ASSERT_TRUE(bool(M)) << llvm::toString(M.takeError());
    auto A = Artifact::fromBytes(bc::serialize(*M));
    ASSERT_TRUE(bool(A)) << llvm::toString(A.takeError()) << "\n"
                         << describe(P, 0, {});
    for (unsigned J = 0; J < Events; ++J) {
      unsigned Op = Gen.pick(IPEVM_OP_COUNT);
      Facts F = Gen.facts();
      std::string Why = disagreement(A->prog(), P, Op, F);
      if (!Why.empty())
        FAIL() << report(P, Opts, Op, F, Why);
      ++Compared;
    }
  }
  EXPECT_EQ(Compared, Policies * Events);
}

// The minimiser keeps only what the failure needs: here "rule 3 (marked by
// its line) decides the event" shrinks to that one rule, unconditional, for
// the event's operation alone.
TEST(Differential, MinimizerKeepsOnlyTheCulprit) {
  RandomPolicies Gen(5);
  unsigned Tries = 0;
  for (unsigned Seed = 0; Seed < 50; ++Seed) {
    Policy P = Gen.policy();
    if (P.Rules.size() < 6)
      continue;
    P.Rules[3].Loc.Line = 3333;
    for (unsigned E = 0; E < 200; ++E) {
      unsigned Op = Gen.pick(IPEVM_OP_COUNT);
      Facts F = Gen.facts();
      auto DecidedByMarked = [&](const Policy &Q) {
        Decision D = evaluate(Q, Op, F);
        return D.Origin == IPEVM_ORIGIN_RULE &&
               Q.Rules[D.Rule].Loc.Line == 3333;
      };
      if (!DecidedByMarked(P))
        continue;
      Policy Small = minimize(P, Op, DecidedByMarked);
      ASSERT_EQ(Small.Rules.size(), 1u) << describe(Small, Op, F);
      EXPECT_EQ(Small.Rules[0].Loc.Line, 3333u);
      EXPECT_EQ(Small.Rules[0].Ops, 1u << Op);
      EXPECT_EQ(Small.Rules[0].Cond.K, Expr::True) << describe(Small, Op, F);
      ++Tries;
      break;
    }
  }
  EXPECT_GT(Tries, 5u);
}

TEST(Differential, BytecodeDecidesLikeReferenceAtO2) {
  decidesLikeReference(CodeGenOptions(), 20261123);
}

TEST(Differential, BytecodeDecidesLikeReferenceAtO1) {
  CodeGenOptions Opts;
  Opts.OptLevel = 1;
  decidesLikeReference(Opts, 20261124);
}

TEST(Differential, BytecodeDecidesLikeReferenceAtO0) {
  CodeGenOptions Opts;
  Opts.OptLevel = 0;
  decidesLikeReference(Opts, 20261125);
}

/// Whether some path from Entry tests a property in Props twice (a branch
/// on a boolean, a lookup of a digest); depth-first over (instruction,
/// properties tested so far), each pair visited once.
bool testsAPropertyTwice(const bc::Module &M, uint32_t Entry, uint32_t Props) {
  std::set<std::pair<uint32_t, uint32_t>> Seen;
  std::vector<std::pair<uint32_t, uint32_t>> Work{{Entry, 0}};
  while (!Work.empty()) {
    auto [Pc, Tested] = Work.back();
    Work.pop_back();
    if (!Seen.insert({Pc, Tested}).second)
      continue;
    const bc::Insn &I = M.Code[Pc];
    if (I.Code == IPEVM_DECIDE)
      continue;
    uint32_t Bit = 1u << I.A;
    if (Tested & Bit & Props)
      return true;
    Tested |= Bit;
    switch (I.Code) {
    case IPEVM_BR_BOOL:
      Work.push_back({I.X, Tested});
      Work.push_back({I.Y, Tested});
      break;
    case IPEVM_LOOKUP:
      for (uint32_t V : M.Tables[I.B].Values)
        Work.push_back({V, Tested});
      Work.push_back({I.X, Tested});
      Work.push_back({I.Y, Tested});
      break;
    case IPEVM_LOOKUP_RULE:
      Work.push_back({I.Y, Tested});
      break;
    }
  }
  return false;
}

constexpr uint32_t BoolMask = (1u << IPEVM_PROP_FIRST_DIGEST) - 1;
constexpr uint32_t AllProps = (1u << IPEVM_PROP_COUNT) - 1;

/// Compiles P at -O1 and -O2: -O2 must test no property of Props twice on
/// any path (a failure stops the test); returns how many operations -O1
/// did test one twice in, and sets M2 to the -O2 module.
unsigned checkTestedOnce(const Policy &P, uint32_t Props, bc::Module &M2) {
  CodeGenOptions O1;
  O1.OptLevel = 1;
  auto Low = generateCode(P, O1), High = generateCode(P);
  EXPECT_TRUE(Low && High);
  if (!Low || !High)
    return 0;
  unsigned TwiceAtO1 = 0;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    EXPECT_FALSE(testsAPropertyTwice(*High, High->Entry[Op], Props))
        << "operation " << opName(Op).str() << "\n"
        << describe(P, Op, {});
    TwiceAtO1 += testsAPropertyTwice(*Low, Low->Entry[Op], Props);
  }
  M2 = std::move(*High);
  return TwiceAtO1;
}

// -O2's decision DAG tests each boolean property at most once on any path;
// -O1 does not (so the check can fail).
TEST(Differential, DecisionDagTestsEachBoolOnce) {
  RandomPolicies Gen(31337);
  unsigned TwiceAtO1 = 0;
  for (unsigned I = 0; I < 2000 && !HasFailure(); ++I) {
    bc::Module M2;
    TwiceAtO1 += checkTestedOnce(Gen.policy(), BoolMask, M2);
  }
  EXPECT_GT(TwiceAtO1, 100u) << "the generator should need the DAG";
}

// With digests of one algorithm and few sets, -O2 also looks each digest
// property up at most once on any path: one multiway lookup over all the
// sets below answers every later membership test. Decisions stay exact.
TEST(Differential, DecisionDagTestsEveryPropertyOnce) {
  RandomPolicies Gen(4711, /*OneAlgorithm=*/true);
  unsigned TwiceAtO1 = 0, Multiway = 0;
  for (unsigned I = 0; I < 2000 && !HasFailure(); ++I) {
    Policy P = Gen.policy();
    bc::Module M2;
    TwiceAtO1 += checkTestedOnce(P, AllProps, M2);
    for (const bc::Table &T : M2.Tables)
      Multiway += !T.Values.empty() && !T.Rules;
    auto A = Artifact::fromBytes(bc::serialize(M2));
    ASSERT_TRUE(bool(A)) << llvm::toString(A.takeError());
    for (unsigned J = 0; J < 20; ++J) {
      unsigned Op = Gen.pick(IPEVM_OP_COUNT);
      Facts F = Gen.facts();
      std::string Why = disagreement(A->prog(), P, Op, F);
      if (!Why.empty())
        FAIL() << report(P, CodeGenOptions(), Op, F, Why);
    }
  }
  EXPECT_GT(TwiceAtO1, 100u);
  EXPECT_GT(Multiway, 100u) << "the generator should need multiway lookups";
}

// A rule reported as shadowed must never be the one that decides.
TEST(Differential, ShadowedRulesNeverDecide) {
  RandomPolicies Gen(99);
  unsigned Found = 0;
  for (unsigned I = 0; I < 2000; ++I) {
    Policy P = Gen.policy();
    std::vector<bool> Shadowed(P.Rules.size());
    for (const ShadowedRule &S : findShadowedRules(P)) {
      ASSERT_LT(S.By, S.Rule);
      Shadowed[S.Rule] = true;
      ++Found;
    }
    for (unsigned J = 0; J < 100; ++J) {
      unsigned Op = Gen.pick(IPEVM_OP_COUNT);
      Facts F = Gen.facts();
      Decision D = evaluate(P, Op, F);
      if (D.Origin == IPEVM_ORIGIN_RULE) {
        ASSERT_FALSE(Shadowed[D.Rule]) << describe(P, Op, F);
      }
    }
  }
  EXPECT_GT(Found, 100u) << "the generator should produce shadowed rules";
}

// findShadowedRules as first written (ordered maps, one per operation): the
// specification that the hashed version must match exactly.
static std::vector<ShadowedRule> shadowedRulesReference(const Policy &P) {
  std::vector<ShadowedRule> Out;
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

// The shadowed rules, and the rule named for each, are those of the
// reference.
TEST(Differential, ShadowedRulesMatchReference) {
  RandomPolicies Gen(7);
  unsigned Found = 0;
  for (unsigned I = 0; I < 3000; ++I) {
    Policy P = Gen.policy();
    std::vector<ShadowedRule> Want = shadowedRulesReference(P),
                              Got = findShadowedRules(P);
    ASSERT_EQ(Want.size(), Got.size()) << describe(P, 0, {});
    for (size_t J = 0; J < Want.size(); ++J) {
      EXPECT_EQ(Want[J].Rule, Got[J].Rule);
      EXPECT_EQ(Want[J].By, Got[J].By) << describe(P, 0, {});
      EXPECT_EQ(Want[J].Unconditional, Got[J].Unconditional);
    }
    Found += Want.size();
  }
  EXPECT_GT(Found, 100u) << "the generator should produce shadowed rules";
}

// compile -> decompile -> compile decides every event as the original does.
TEST(Differential, DecompileRoundTrip) {
  RandomPolicies Gen(4242);
  for (unsigned I = 0; I < 1000; ++I) {
    Policy P = Gen.policy();
    auto M = generateCode(P);
    ASSERT_TRUE(bool(M));
    auto A = Artifact::fromBytes(bc::serialize(*M));
    ASSERT_TRUE(bool(A));
    auto Back = decompile(A->prog());
    ASSERT_TRUE(bool(Back)) << llvm::toString(Back.takeError());
    auto M2 = generateCode(*Back);
    ASSERT_TRUE(bool(M2));
    auto A2 = Artifact::fromBytes(bc::serialize(*M2));
    ASSERT_TRUE(bool(A2)) << llvm::toString(A2.takeError());
    for (unsigned J = 0; J < 40; ++J) {
      unsigned Op = Gen.pick(IPEVM_OP_COUNT);
      Facts F = Gen.facts();
      Decision Want = evaluate(P, Op, F);
      LazyFacts L{&F, {}};
      ipevm_decision Got{};
      ASSERT_EQ(decideLazily(A2->prog(), Op, L, Got), IPEVM_E_OK);
      std::string Text;
      llvm::raw_string_ostream OS(Text);
      print(*Back, OS);
      ASSERT_EQ(Got.allow, Want.Act.Allow)
          << describe(P, Op, F) << "\ndecompiled:\n"
          << OS.str();
      ASSERT_EQ(Got.audit, Want.Act.Audit)
          << describe(P, Op, F) << "\ndecompiled:\n"
          << OS.str();
      ASSERT_EQ(Got.origin == IPEVM_ORIGIN_RULE,
                Want.Origin == IPEVM_ORIGIN_RULE)
          << describe(P, Op, F) << "\ndecompiled:\n"
          << OS.str();
    }
  }
}

TEST(Differential, CodegenIsDeterministic) {
  RandomPolicies Gen(7);
  for (unsigned I = 0; I < 200; ++I) {
    Policy P = Gen.policy();
    auto M1 = generateCode(P), M2 = generateCode(P);
    ASSERT_TRUE(M1 && M2);
    EXPECT_EQ(bc::serialize(*M1), bc::serialize(*M2));
  }
}

} // namespace
