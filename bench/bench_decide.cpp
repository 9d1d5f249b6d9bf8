//===- bench_decide.cpp - Cost of one decision: bytecode vs. linear -------===//
//
// For digest policies of 10, 1,000, 10,000 and 100,000 rules, and for mixed
// policies, measures the time of one decision by
//
//   bytecode  the compiled program, ipevm_eval() (what the kernel runs), on
//             an event whose properties are all known up front;
//   linear    the reference evaluator ir::evaluate(): rules in order, the
//             first that holds decides -- upstream IPE's algorithm;
//
// on the same events: "hit" events carry the digest of a rule chosen
// uniformly (a linear scan reads half the rules on average), "miss" events
// an unknown digest (a linear scan reads them all). The policy is compiled
// through the public API (generateCode, bc::serialize, Artifact::fromBytes)
// with default options, so this measures whatever codegen produces; when it
// cannot compile a policy, the bytecode benchmark reports the reason as its
// error ("codegen limit: ...") instead of a time.
//
// Counters: "steps" is ipevm_eval's own cost count per decision (instructions
// plus table probes: the verifier's cost model, free of timing noise);
// "rules" the rules the linear scan reads per decision. After the runs, a
// summary prints each bytecode/linear pair and the speedup.
//
//   bench_decide [benchmark options]
//   bench_decide --instructions NAME COUNT   run COUNT decisions of benchmark
//                                            NAME (for callgrind; see
//                                            scripts/bench.sh)
//
//===----------------------------------------------------------------------===//

#include "BenchPolicies.h"

#include "ipec/Artifact.h"
#include "ipec/Bytecode.h"
#include "ipec/CodeGen.h"
#include "ipec/IR/Evaluate.h"

#include "llvm/Support/Error.h"

#include <benchmark/benchmark.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace ipec;

namespace {

constexpr uint64_t Seed = 20261123;
constexpr size_t PoolSize = 1024; // events per pool; a power of two
constexpr size_t CheckedEvents = 128;

const size_t DigestSizes[] = {10, 1000, 10000, 100000};
const size_t MixedSizes[] = {1000, 10000};

/// Events for both evaluators: the facts, and ipevm events pointing into
/// them with every property known.
struct Pool {
  std::vector<bench::Event> Events;
  std::vector<ipevm_event> Ev;

  void finish() {
    Ev.clear();
    for (const bench::Event &E : Events) {
      ipevm_event V{};
      V.op = E.Op;
      V.have = (1u << IPEVM_PROP_COUNT) - 1;
      V.bools = E.F.Bools;
      for (unsigned I = 0; I < IPEVM_DIGEST_PROPS; ++I)
        if (const auto &D = E.F.Digests[I]) {
          V.digest[I].alg = reinterpret_cast<const u8 *>(D->Alg.data());
          V.digest[I].alg_len = u32(D->Alg.size());
          V.digest[I].bytes = D->Bytes.data();
          V.digest[I].len = u32(D->Bytes.size());
        }
      Ev.push_back(V);
    }
  }
};

/// A policy, its compiled program (or why there is none), and event pools.
struct Case {
  ir::Policy P;
  std::optional<Artifact> A;
  std::string Error;
  std::map<std::string, Pool> Pools;
};

bool sameDecision(const ir::Decision &W, const ipevm_decision &G) {
  return W.Act.Allow == G.allow && W.Act.Audit == G.audit &&
         W.Origin == G.origin &&
         (W.Origin != IPEVM_ORIGIN_RULE || W.Rule == G.rule);
}

/// Compiles C.P and checks the program against the reference on the first
/// events of every pool, so that a wrong program is never timed.
void compile(Case &C) {
  llvm::Expected<bc::Module> M = generateCode(C.P);
  if (!M) {
    C.Error = "codegen limit: " + llvm::toString(M.takeError());
    return;
  }
  llvm::Expected<Artifact> A = Artifact::fromBytes(bc::serialize(*M));
  if (!A) {
    C.Error = "verifier refused the program: " + llvm::toString(A.takeError());
    return;
  }
  C.A.emplace(std::move(*A));
  for (auto &[Name, Pool] : C.Pools)
    for (size_t I = 0; I < Pool.Ev.size() && I < CheckedEvents; ++I) {
      ipevm_decision D{};
      ipevm_event Ev = Pool.Ev[I];
      const bench::Event &E = Pool.Events[I];
      if (ipevm_eval(&C.A->prog(), &Ev, &D) != IPEVM_E_OK ||
          !sameDecision(ir::evaluate(C.P, E.Op, E.F), D)) {
        C.Error = "bytecode disagrees with ir::evaluate on a " + Name +
                  " event";
        C.A.reset();
        return;
      }
    }
}

/// The cases, built on first use: a filtered run builds only what it needs.
Case &getCase(const std::string &Policy, size_t N) {
  static std::map<std::string, std::unique_ptr<Case>> Cases;
  std::string Key = Policy + "/" + std::to_string(N);
  std::unique_ptr<Case> &C = Cases[Key];
  if (C)
    return *C;
  C = std::make_unique<Case>();
  if (Policy == "digests") {
    // One extra set of digests for the misses, from the same generator so
    // that they are distinct from the policy's.
    std::vector<ir::Digest> D = bench::randomDigests(N + PoolSize, Seed + N);
    std::vector<ir::Digest> Misses(D.begin() + N, D.end());
    D.resize(N);
    C->P = bench::digestPolicy(D);
    std::mt19937_64 Rng(Seed);
    Pool &Hit = C->Pools["hit"], &Miss = C->Pools["miss"];
    for (size_t I = 0; I < PoolSize; ++I) {
      bench::Event H, M;
      H.F.Bools = M.F.Bools = 1u << IPEVM_PROP_HAS_FILE;
      H.F.Digests[0] = D[Rng() % N];
      M.F.Digests[0] = Misses[I];
      Hit.Events.push_back(std::move(H));
      Miss.Events.push_back(std::move(M));
    }
  } else {
    bench::Mixed M = bench::mixedPolicy(N, PoolSize, Seed + N);
    C->P = std::move(M.P);
    C->Pools["mix"].Events = std::move(M.Events);
  }
  for (auto &KV : C->Pools)
    KV.second.finish();
  compile(*C);
  return *C;
}

void bytecode(benchmark::State &State, std::string Policy, size_t N,
              std::string Kind) {
  Case &C = getCase(Policy, N);
  if (!C.A) {
    State.SkipWithError(C.Error.c_str());
    return;
  }
  const ipevm_prog &Prog = C.A->prog();
  std::vector<ipevm_event> &Ev = C.Pools.at(Kind).Ev;
  uint64_t Steps = 0;
  for (ipevm_event E : Ev) {
    ipevm_decision D{};
    ipevm_eval(&Prog, &E, &D);
    Steps += D.steps;
  }
  size_t I = 0;
  for (auto _ : State) {
    ipevm_decision D;
    ipevm_eval(&Prog, &Ev[I++ & (PoolSize - 1)], &D);
    benchmark::DoNotOptimize(D);
  }
  State.counters["steps"] = double(Steps) / double(Ev.size());
  State.counters["bytes"] = double(C.A->bytecode().size());
  State.counters["cost"] = double(Prog.max_cost);
}

void linear(benchmark::State &State, std::string Policy, size_t N,
            std::string Kind) {
  Case &C = getCase(Policy, N);
  const std::vector<bench::Event> &Ev = C.Pools.at(Kind).Events;
  uint64_t Rules = 0;
  for (const bench::Event &E : Ev) {
    ir::Decision D = ir::evaluate(C.P, E.Op, E.F);
    Rules += D.Origin == IPEVM_ORIGIN_RULE ? D.Rule + 1 : C.P.Rules.size();
  }
  size_t I = 0;
  for (auto _ : State) {
    const bench::Event &E = Ev[I++ & (PoolSize - 1)];
    ir::Decision D = ir::evaluate(C.P, E.Op, E.F);
    benchmark::DoNotOptimize(D);
  }
  State.counters["rules"] = double(Rules) / double(Ev.size());
}

/// Every benchmark: its name and how to run it.
struct Spec {
  std::string Name, Policy, Kind;
  size_t N;
  bool Bytecode;
};

std::vector<Spec> specs() {
  std::vector<Spec> S;
  for (size_t N : DigestSizes)
    for (const char *Kind : {"hit", "miss"})
      for (bool B : {true, false})
        S.push_back({"digests/" + std::to_string(N) + "/" + Kind +
                         (B ? "/bytecode" : "/linear"),
                     "digests", Kind, N, B});
  for (size_t N : MixedSizes)
    for (bool B : {true, false})
      S.push_back({"mixed/" + std::to_string(N) + "/mix" +
                       (B ? "/bytecode" : "/linear"),
                   "mixed", "mix", N, B});
  return S;
}

/// The console output, then a summary of bytecode/linear pairs.
class SummaryReporter : public benchmark::ConsoleReporter {
public:
  SummaryReporter() : ConsoleReporter(OO_None) {}

  void ReportRuns(const std::vector<Run> &Runs) override {
    ConsoleReporter::ReportRuns(Runs);
    for (const Run &R : Runs) {
      if (R.run_type != Run::RT_Iteration)
        continue;
      Result &Res = Results[R.benchmark_name()];
      Res.Error = R.error_occurred ? R.error_message : "";
      Res.Ns = R.error_occurred ? 0 : R.GetAdjustedCPUTime();
      for (const auto &[Name, C] : R.counters)
        Res.Counters[Name] = C.value;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-22s %12s %8s %14s %10s %10s\n", "policy/events",
                "bytecode ns", "steps", "linear ns", "rules", "speedup");
    for (const Spec &S : specs()) {
      if (!S.Bytecode)
        continue;
      std::string Base = S.Name.substr(0, S.Name.rfind('/'));
      auto B = Results.find(Base + "/bytecode");
      auto L = Results.find(Base + "/linear");
      if (B == Results.end() && L == Results.end())
        continue;
      std::printf("%-22s ", Base.c_str());
      if (B == Results.end())
        std::printf("%12s %8s ", "-", "-");
      else if (!B->second.Error.empty())
        std::printf("%12s %8s ", "error", "-");
      else
        std::printf("%12.1f %8.1f ", B->second.Ns,
                    B->second.Counters["steps"]);
      if (L == Results.end() || !L->second.Error.empty())
        std::printf("%14s %10s ", "-", "-");
      else
        std::printf("%14.1f %10.1f ", L->second.Ns,
                    L->second.Counters["rules"]);
      if (B != Results.end() && L != Results.end() &&
          B->second.Error.empty() && L->second.Error.empty() &&
          B->second.Ns > 0)
        std::printf("%9.1fx", L->second.Ns / B->second.Ns);
      std::printf("\n");
      if (B != Results.end() && !B->second.Error.empty())
        std::printf("  %s\n", B->second.Error.c_str());
    }
  }

private:
  struct Result {
    double Ns = 0;
    std::string Error;
    std::map<std::string, double> Counters;
  };
  std::map<std::string, Result> Results;
};

__attribute__((noinline)) uint64_t runDecisions(const Spec &S, Case &C,
                                                uint64_t Count) {
  uint64_t Allowed = 0;
  Pool &P = C.Pools.at(S.Kind);
  for (uint64_t I = 0; I < Count; ++I) {
    size_t K = I & (PoolSize - 1);
    if (S.Bytecode) {
      ipevm_decision D;
      ipevm_eval(&C.A->prog(), &P.Ev[K], &D);
      Allowed += D.allow;
    } else {
      Allowed += ir::evaluate(C.P, P.Events[K].Op, P.Events[K].F).Act.Allow;
    }
  }
  return Allowed;
}

/// --instructions NAME COUNT: COUNT decisions of one benchmark, outside the
/// benchmark library, so that callgrind can count the instructions of
/// runDecisions alone.
int instructions(const char *Name, const char *CountArg) {
  for (const Spec &S : specs()) {
    if (S.Name != Name)
      continue;
    Case &C = getCase(S.Policy, S.N);
    if (S.Bytecode && !C.A) {
      std::printf("error: %s\n", C.Error.c_str());
      return 1;
    }
    uint64_t Count = std::strtoull(CountArg, nullptr, 10);
    uint64_t Allowed = runDecisions(S, C, Count);
    std::printf("%s: %" PRIu64 " decisions, %" PRIu64 " allowed\n", Name,
                Count, Allowed);
    return 0;
  }
  std::fprintf(stderr, "bench_decide: no benchmark named '%s'\n", Name);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 4 && std::string(argv[1]) == "--instructions")
    return instructions(argv[2], argv[3]);
  for (const Spec &S : specs()) {
    auto *B = S.Bytecode
                  ? benchmark::RegisterBenchmark(S.Name.c_str(), bytecode,
                                                 S.Policy, S.N, S.Kind)
                  : benchmark::RegisterBenchmark(S.Name.c_str(), linear,
                                                 S.Policy, S.N, S.Kind);
    B->Unit(benchmark::kNanosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 2;
  SummaryReporter Display;
  benchmark::RunSpecifiedBenchmarks(&Display);
  benchmark::Shutdown();
  return 0;
}
