//===- BenchPolicies.cpp - Seeded policies and events for benchmarks ------===//

#include "BenchPolicies.h"

#include <algorithm>
#include <random>
#include <set>

using namespace ipec;
using namespace ipec::ir;

namespace {

constexpr OpMask ExecAny = (1u << IPEVM_OP_EXECUTE) |
                           (1u << IPEVM_OP_MMAP_EXEC) |
                           (1u << IPEVM_OP_MPROTECT_EXEC);

Digest randomDigest(std::mt19937_64 &Rng) {
  Digest D{"sha256", std::vector<uint8_t>(32)};
  for (size_t I = 0; I < 32; I += 8) {
    uint64_t V = Rng();
    for (size_t J = 0; J < 8; ++J)
      D.Bytes[I + J] = uint8_t(V >> (8 * J));
  }
  return D;
}

Rule makeRule(OpMask Ops, bool Allow, bool Audit, Expr Cond,
              std::string Text, uint32_t Line) {
  Rule R;
  R.Ops = Ops;
  R.Act = {Allow, Audit};
  R.Cond = std::move(Cond);
  R.Loc = {"bench.ipl", Line, 1};
  R.Text = std::move(Text);
  return R;
}

std::string digestRuleText(const Digest &D) {
  return "allow exec_any if fsverity.digest == " + D.str() + ";";
}

} // namespace

std::vector<Digest> bench::randomDigests(size_t N, uint64_t Seed) {
  std::mt19937_64 Rng(Seed);
  std::vector<Digest> Out;
  Out.reserve(N);
  std::set<Digest> Seen;
  while (Out.size() < N) {
    Digest D = randomDigest(Rng);
    if (Seen.insert(D).second)
      Out.push_back(std::move(D));
  }
  return Out;
}

Policy bench::digestPolicy(const std::vector<Digest> &Digests) {
  Policy P;
  P.Name = "bench";
  P.Version = {1, 0, 0};
  P.Global = {true, {false, false}, {"bench.ipl", 2, 1}};
  P.Rules.reserve(Digests.size());
  for (size_t I = 0; I < Digests.size(); ++I)
    P.Rules.push_back(makeRule(ExecAny, true, false,
                               Expr::digestEq(IPEVM_PROP_FSVERITY_DIGEST,
                                              Digests[I]),
                               digestRuleText(Digests[I]), uint32_t(I + 3)));
  return P;
}

std::string bench::digestPolicyText(const std::vector<Digest> &Digests) {
  std::string S = "policy \"bench\" version 1.0.0;\ndefault deny;\n";
  S.reserve(S.size() + Digests.size() * 104);
  for (const Digest &D : Digests)
    S += digestRuleText(D) + "\n";
  return S;
}

bench::Mixed bench::mixedPolicy(size_t N, size_t NumEvents, uint64_t Seed) {
  std::mt19937_64 Rng(Seed);
  auto Pct = [&](unsigned P) { return Rng() % 100 < P; };
  Mixed M;
  Policy &P = M.P;
  P.Name = "mixed";
  P.Version = {1, 0, 0};
  P.Global = {true, {false, false}, {"bench.ipl", 2, 1}};
  P.PerOp[IPEVM_OP_KEXEC_IMAGE] = {true, {false, true}, {"bench.ipl", 3, 1}};
  P.PerOp[IPEVM_OP_KEXEC_INITRAMFS] = {true, {false, true}, {"bench.ipl", 3, 1}};

  // About 1% revoked digests, 1% dm-verity root hashes, 10% signed digests,
  // the rest plain digests; the fixed rules in between.
  size_t Revoked = std::max<size_t>(1, N / 100);
  size_t Roots = std::max<size_t>(1, N / 100);
  size_t Signed = N / 10;
  size_t Fixed = 3;
  size_t Plain = N > Revoked + Roots + Signed + Fixed
                     ? N - Revoked - Roots - Signed - Fixed
                     : 0;
  std::vector<Digest> All = randomDigests(Revoked + Roots + Signed + Plain,
                                          Seed ^ 0x9e3779b97f4a7c15ull);
  size_t Next = 0;
  std::vector<Digest> FileDigests, RootHashes;
  uint32_t Line = 4;
  auto Add = [&](Rule R) { P.Rules.push_back(std::move(R)); ++Line; };

  Add(makeRule((1u << IPEVM_OP_MMAP_EXEC) | (1u << IPEVM_OP_MPROTECT_EXEC),
               false, false,
               Expr::makeOr(Expr::makeNot(Expr::boolProp(IPEVM_PROP_HAS_FILE)),
                            Expr::boolProp(IPEVM_PROP_WRITABLE)),
               "deny mmap_exec, mprotect_exec if not file or writable;", Line));
  for (size_t I = 0; I < Revoked; ++I, ++Next) {
    FileDigests.push_back(All[Next]);
    Add(makeRule(ExecAny, false, true,
                 Expr::digestEq(IPEVM_PROP_FSVERITY_DIGEST, All[Next]),
                 "audit deny exec_any if fsverity.digest == " +
                     All[Next].str() + ";",
                 Line));
  }
  Add(makeRule(ExecAny | (1u << IPEVM_OP_KMODULE) | (1u << IPEVM_OP_FIRMWARE),
               true, false, Expr::boolProp(IPEVM_PROP_BOOT_VERIFIED),
               "allow exec_any, kmodule, firmware if boot_verified;", Line));
  for (size_t I = 0; I < Roots; ++I, ++Next) {
    RootHashes.push_back(All[Next]);
    Add(makeRule((1u << IPEVM_OP_EXECUTE) | (1u << IPEVM_OP_MMAP_EXEC), true,
                 false, Expr::digestEq(IPEVM_PROP_DMVERITY_ROOTHASH, All[Next]),
                 "allow execute, mmap_exec if dmverity.roothash == " +
                     All[Next].str() + ";",
                 Line));
  }
  Add(makeRule((1u << IPEVM_OP_KMODULE) | (1u << IPEVM_OP_FIRMWARE), true,
               false, Expr::boolProp(IPEVM_PROP_DMVERITY_SIGNATURE),
               "allow kmodule, firmware if dmverity.signature;", Line));
  for (size_t I = 0; I < Signed; ++I, ++Next) {
    FileDigests.push_back(All[Next]);
    Add(makeRule(
        (1u << IPEVM_OP_EXECUTE) | (1u << IPEVM_OP_MMAP_EXEC), true, false,
        Expr::makeAnd(Expr::boolProp(IPEVM_PROP_FSVERITY_SIGNATURE),
                      Expr::digestEq(IPEVM_PROP_FSVERITY_DIGEST, All[Next])),
        "allow execute, mmap_exec if fsverity.signature and "
        "fsverity.digest == " +
            All[Next].str() + ";",
        Line));
  }
  for (size_t I = 0; I < Plain; ++I, ++Next) {
    FileDigests.push_back(All[Next]);
    Add(makeRule(ExecAny, true, false,
                 Expr::digestEq(IPEVM_PROP_FSVERITY_DIGEST, All[Next]),
                 digestRuleText(All[Next]), Line));
  }

  // Events: mostly execs and library mmaps, some module and firmware loads;
  // the files mostly named by the policy, some unknown.
  M.Events.reserve(NumEvents);
  for (size_t I = 0; I < NumEvents; ++I) {
    Event E;
    unsigned K = unsigned(Rng() % 100);
    E.Op = K < 50   ? IPEVM_OP_EXECUTE
           : K < 85 ? IPEVM_OP_MMAP_EXEC
           : K < 95 ? IPEVM_OP_KMODULE
                    : IPEVM_OP_FIRMWARE;
    if (Pct(95))
      E.F.Bools |= 1u << IPEVM_PROP_HAS_FILE;
    bool HasFile = E.F.Bools & (1u << IPEVM_PROP_HAS_FILE);
    if (HasFile) {
      if (Pct(20))
        E.F.Bools |= 1u << IPEVM_PROP_BOOT_VERIFIED;
      if (Pct(5))
        E.F.Bools |= 1u << IPEVM_PROP_WRITABLE;
      if (Pct(30))
        E.F.Bools |= 1u << IPEVM_PROP_FSVERITY_SIGNATURE;
      if (Pct(10))
        E.F.Bools |= 1u << IPEVM_PROP_DMVERITY_SIGNATURE;
      unsigned D = unsigned(Rng() % 10);
      auto &FD = E.F.Digests[IPEVM_PROP_FSVERITY_DIGEST -
                             IPEVM_PROP_FIRST_DIGEST];
      if (D < 6)
        FD = FileDigests[Rng() % FileDigests.size()];
      else if (D < 9)
        FD = randomDigest(Rng);
      unsigned R = unsigned(Rng() % 10);
      auto &RH = E.F.Digests[IPEVM_PROP_DMVERITY_ROOTHASH -
                             IPEVM_PROP_FIRST_DIGEST];
      if (R < 2)
        RH = RootHashes[Rng() % RootHashes.size()];
      else if (R < 5)
        RH = randomDigest(Rng);
    }
    M.Events.push_back(std::move(E));
  }
  return M;
}
