//===- fuzz_frontend.cpp - Arbitrary text into the policy front ends -----===//
//
// Feeds arbitrary text to compileToBytecode() with diagnostics going to a
// null stream. It must never crash, leak or hang, whatever the text. The
// text is IPL, or an upstream IPE policy when it starts like one
// (resolveInputFormat), so both front ends are fuzzed. Then, independently,
// the same text goes through parseIPL() or parseIPE(), generateCode() and
// bc::serialize(), and the fuzzer traps unless:
//
//   - the two agree: compileToBytecode() succeeds exactly when the front end
//     accepts the source, and then returns the very same bytes (codegen is
//     deterministic);
//   - the bytecode passes Artifact::fromBytes() (the C verifier) -- an
//     "internal error" of ipec is a crash here;
//   - on events built from the policy's own digests and from random ones,
//     for every operation, ipevm_eval() decides exactly as the reference
//     evaluator ir::evaluate() (action, audit, origin and rule), within the
//     verified cost, fetching each property at most once;
//   - for an IPE policy, translateIPEToIPL() gives IPL that compiles and
//     decides as the IPE policy does (unless it refuses, e.g. for a name IPL
//     cannot spell).
//
// The buffer is named in a directory that does not exist, so a relative
// include finds nothing; absolute includes of regular files still work.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Bytecode.h"
#include "ipec/CodeGen.h"
#include "ipec/Compiler.h"
#include "ipec/Frontend.h"
#include "ipec/IPEFrontend.h"
#include "ipec/IR/Evaluate.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

#include "FuzzSupport.h"
#include <vector>

using namespace ipec;

using namespace ipec::fuzz;

namespace {

/// Policies this small cannot reach a limit of the format, so codegen must
/// not fail on them.
constexpr size_t SmallPolicyRules = 1000;

void collectDigests(const ir::Expr &E, std::vector<ir::Digest> &Out) {
  if (E.K == ir::Expr::DigestIn)
    Out.insert(Out.end(), E.Set.begin(), E.Set.end());
  for (const ir::Expr &O : E.Ops)
    collectDigests(O, Out);
}

/// Random facts, with digests mostly drawn from the policy's own.
ir::Facts makeFacts(const std::vector<ir::Digest> &Pool, Rng &R) {
  ir::Facts F;
  F.Bools = R.next() & ((1u << IPEVM_PROP_FIRST_DIGEST) - 1);
  for (auto &D : F.Digests) {
    unsigned Kind = R.below(8);
    if (Kind == 0)
      continue;
    if (Kind >= 3 && !Pool.empty()) {
      D = Pool[R.below(uint32_t(Pool.size()))];
      if (Kind == 3 && !D->Bytes.empty())
        D->Bytes.back() ^= 1; // a near miss
      continue;
    }
    D = ir::Digest{Kind == 1 ? "sha256" : "sha512", {}};
    D->Bytes.resize(Kind == 1 ? 32 : 64);
    for (uint8_t &B : D->Bytes)
      B = uint8_t(R.next());
  }
  return F;
}

struct Lazy {
  const ir::Facts *F;
  unsigned Calls[IPEVM_PROP_COUNT] = {};
};

int fetch(ipevm_event *Ev, u32 Prop) {
  auto *L = static_cast<Lazy *>(Ev->ctx);
  CHECK(Prop < IPEVM_PROP_COUNT && ++L->Calls[Prop] == 1);
  if (ipevm_prop_is_digest(Prop)) {
    const auto &D = L->F->Digests[Prop - IPEVM_PROP_FIRST_DIGEST];
    if (D) {
      ipevm_digest &Out = Ev->digest[Prop - IPEVM_PROP_FIRST_DIGEST];
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

/// Decides events by Prog and by the reference on P; Other, when given, is
/// another IR of the same policy that must decide the same.
void checkDecisions(const ir::Policy &P, const ipevm_prog &Prog,
                    uint64_t Seed, const ir::Policy *Other = nullptr) {
  std::vector<ir::Digest> Pool;
  for (const ir::Rule &Rule : P.Rules)
    collectDigests(Rule.Cond, Pool);
  Rng R(Seed);
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    for (unsigned I = 0; I < 6; ++I) {
      ir::Facts F = makeFacts(Pool, R);
      ir::Decision Want = ir::evaluate(P, Op, F);
      Lazy L{&F};
      ipevm_event Ev{};
      Ev.op = Op;
      Ev.fetch = fetch;
      Ev.ctx = &L;
      ipevm_decision Got{};
      CHECK(ipevm_eval(&Prog, &Ev, &Got) == IPEVM_E_OK);
      CHECK(Got.allow == Want.Act.Allow && Got.audit == Want.Act.Audit);
      CHECK(Got.origin == Want.Origin);
      CHECK(Want.Origin != IPEVM_ORIGIN_RULE || Got.rule == Want.Rule);
      CHECK(Got.steps <= Prog.op_cost[Op]);
      if (Other) {
        ir::Decision O = ir::evaluate(*Other, Op, F);
        CHECK(O.Act.Allow == Want.Act.Allow && O.Act.Audit == Want.Act.Audit);
        CHECK(O.Origin == Want.Origin && O.Rule == Want.Rule);
      }
    }
}

/// Text in a fresh source manager, with diagnostics discarded.
struct Source {
  llvm::SourceMgr SM;
  DiagnosticEngine Diags{SM, llvm::nulls()};
  unsigned Id;
  explicit Source(llvm::StringRef Text)
      : Id(SM.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(
                                     Text, "/nonexistent/ipec-fuzz/fuzz.ipl"),
                                 llvm::SMLoc())) {}
};

/// Translates the IPE policy Text to IPL and checks that the IPL means the
/// same as IPE (the IR the IPE front end made of Text).
void checkTranslation(llvm::StringRef Text, const ir::Policy &IPE,
                      uint64_t Seed) {
  std::optional<std::string> IPL;
  {
    Source S(Text);
    IPL = translateIPEToIPL(S.Id, S.Diags);
  }
  if (!IPL)
    return;
  Source T(*IPL);
  CompileOptions Opts;
  Opts.Format = InputFormat::IPL;
  std::optional<std::vector<uint8_t>> Bytes =
      compileToBytecode(T.Id, T.Diags, Opts);
  CHECK(Bytes && "the translation does not compile");
  Source U(*IPL);
  std::optional<ir::Policy> P = parseIPL(U.Id, U.Diags);
  CHECK(P && P->Rules.size() == IPE.Rules.size());
  llvm::Expected<Artifact> A = Artifact::fromBytes(*Bytes);
  if (!A) {
    llvm::consumeError(A.takeError());
    CHECK(false);
  }
  checkDecisions(*P, A->prog(), Seed, &IPE);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  uint64_t Seed = fnv1a(Data, Size);
  CompileOptions Opts;
  Opts.CodeGen.EmitSourceMap = Seed & 1;

  // The driver's path: must never crash, leak or hang.
  std::optional<std::vector<uint8_t>> Compiled;
  {
    Source C(Text);
    Compiled = compileToBytecode(C.Id, C.Diags, Opts);
    CHECK(Compiled.has_value() == !C.Diags.hasErrors());
  }

  // The same, step by step.
  bool IsIPE = resolveInputFormat(Text, InputFormat::Auto) == InputFormat::IPE;
  Source S(Text);
  std::optional<ir::Policy> P =
      IsIPE ? parseIPE(S.Id, S.Diags) : parseIPL(S.Id, S.Diags);
  if (!P || S.Diags.hasErrors()) {
    CHECK(!Compiled);
    return 0;
  }
  llvm::Expected<bc::Module> M = generateCode(*P, Opts.CodeGen);
  if (!M) {
    llvm::consumeError(M.takeError());
    CHECK(P->Rules.size() >= SmallPolicyRules && !Compiled);
    return 0;
  }
  std::vector<uint8_t> Bytes = bc::serialize(*M);
  CHECK(Compiled && *Compiled == Bytes);
  llvm::Expected<Artifact> A = Artifact::fromBytes(Bytes);
  if (!A) {
    llvm::consumeError(A.takeError());
    CHECK(false && "generated bytecode rejected by the verifier");
  }
  checkDecisions(*P, A->prog(), Seed);
  if (IsIPE)
    checkTranslation(Text, *P, Seed);
  return 0;
}
