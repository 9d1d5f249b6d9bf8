//===- InterpreterTest.cpp - ipevm_eval on verified programs --------------===//
//
// Programs are built with ipec::bc::serialize and verified first; every
// evaluation is checked against the verifier's bound (steps <= op_cost), and
// random programs are checked against a reference evaluator over the Module.
//
//===----------------------------------------------------------------------===//

#include "ipec/Bytecode.h"
#include "ipevm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace ipec::bc;

namespace {

using Bytes = std::vector<uint8_t>;

/// A verified program over its own copy of the artifact. Not copyable: the
/// program views the bytes in place.
class Program {
public:
  explicit Program(const Module &M)
      : Artifact(serialize(M)),
        Scratch(IPEVM_VERIFY_SCRATCH_WORDS(Artifact.size())) {
    Err = ipevm_verify(Artifact.data(), uint32_t(Artifact.size()), 0,
                       Scratch.data(), uint32_t(Scratch.size()), &Prog, &Diag);
  }
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;

  Bytes Artifact;
  std::vector<uint32_t> Scratch;
  ipevm_err Err;
  ipevm_prog Prog;
  ipevm_diag Diag;
};

#define ASSERT_VERIFIED(P)                                                     \
  ASSERT_EQ((P).Err, IPEVM_E_OK)                                               \
      << ipevm_strerror((P).Err) << " at " << (P).Diag.offset

/// An event whose digests point into storage it owns. Not copyable.
class Event {
public:
  explicit Event(uint32_t Op) {
    std::memset(&E, 0, sizeof(E));
    E.op = Op;
  }
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;

  Event &boolean(unsigned Prop, bool V) {
    E.have |= 1u << Prop;
    if (V)
      E.bools |= 1u << Prop;
    else
      E.bools &= ~(1u << Prop);
    return *this;
  }

  Event &digest(unsigned Prop, const std::string &A, const Bytes &D) {
    unsigned I = Prop - IPEVM_PROP_FIRST_DIGEST;
    Alg[I] = A;
    Data[I] = D;
    E.have |= 1u << Prop;
    E.digest[I].alg = reinterpret_cast<const uint8_t *>(Alg[I].data());
    E.digest[I].alg_len = uint32_t(Alg[I].size());
    E.digest[I].bytes = Data[I].data();
    E.digest[I].len = uint32_t(Data[I].size());
    return *this;
  }

  ipevm_event E;

private:
  std::string Alg[IPEVM_DIGEST_PROPS];
  Bytes Data[IPEVM_DIGEST_PROPS];
};

struct Result {
  ipevm_err Err;
  ipevm_decision D;
};

/// Evaluates and checks the cost bound.
Result eval(const Program &P, Event &Ev) {
  Result R;
  std::memset(&R.D, 0xa5, sizeof(R.D));
  R.Err = ipevm_eval(&P.Prog, &Ev.E, &R.D);
  if (R.Err == IPEVM_E_OK) {
    EXPECT_GE(R.D.steps, 1u);
    EXPECT_LE(R.D.steps, P.Prog.op_cost[Ev.E.op]);
  } else {
    EXPECT_FALSE(R.D.allow) << "an error must leave a deny";
  }
  return R;
}

/// A fetch callback over a complete "truth" for the event, counting calls.
struct Fetcher {
  unsigned Calls[IPEVM_PROP_COUNT] = {};
  uint32_t Bools = 0;
  ipevm_digest Digests[IPEVM_DIGEST_PROPS] = {};
  int FailOn = -1;      ///< Property whose fetch fails.
  bool SetsHave = true; ///< False: a fetch that learns nothing.

  void attach(Event &Ev) {
    Ev.E.fetch = &Fetcher::fetch;
    Ev.E.ctx = this;
  }

  static int fetch(ipevm_event *E, uint32_t Prop) {
    auto *F = static_cast<Fetcher *>(E->ctx);
    EXPECT_LT(Prop, uint32_t(IPEVM_PROP_COUNT));
    EXPECT_FALSE(E->have & (1u << Prop)) << "fetch of a known property";
    ++F->Calls[Prop];
    if (int(Prop) == F->FailOn)
      return -5;
    if (!F->SetsHave)
      return 0;
    E->have |= 1u << Prop;
    if (Prop < IPEVM_PROP_FIRST_DIGEST)
      E->bools |= F->Bools & (1u << Prop);
    else
      E->digest[Prop - IPEVM_PROP_FIRST_DIGEST] =
          F->Digests[Prop - IPEVM_PROP_FIRST_DIGEST];
    return 0;
  }
};

Bytes randomBytes(std::mt19937 &Rng, size_t Len) {
  Bytes B(Len);
  for (uint8_t &C : B)
    C = uint8_t(Rng());
  return B;
}

//===----------------------------------------------------------------------===//
// Boolean branches and decisions
//===----------------------------------------------------------------------===//

/// br_bool Prop ? allow rule 0 : deny (operation default).
Module boolModule(unsigned Prop) {
  Module M;
  M.Name = "bool";
  M.RuleCount = 1;
  M.Code = {Insn::brBool(Prop, 1, 2),
            Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
            Insn::decide(false, false, IPEVM_ORIGIN_OP_DEFAULT, 0)};
  return M;
}

TEST(Interpreter, BoolBranchBothWays) {
  for (unsigned Prop = 0; Prop < IPEVM_PROP_FIRST_DIGEST; ++Prop) {
    Program P(boolModule(Prop));
    ASSERT_VERIFIED(P);
    EXPECT_EQ(P.Prog.op_cost[IPEVM_OP_EXECUTE], 2u);
    EXPECT_EQ(P.Prog.props_used, 1u << Prop);

    Event True(IPEVM_OP_EXECUTE);
    True.boolean(Prop, true);
    Result R = eval(P, True);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_TRUE(R.D.allow);
    EXPECT_FALSE(R.D.audit);
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_RULE);
    EXPECT_EQ(R.D.rule, 0u);
    EXPECT_EQ(R.D.steps, 2u);

    Event False(IPEVM_OP_EXECUTE);
    False.boolean(Prop, false);
    R = eval(P, False);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_FALSE(R.D.allow);
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_OP_DEFAULT);
    EXPECT_EQ(R.D.steps, 2u);

    // Other properties do not matter.
    Event Others(IPEVM_OP_EXECUTE);
    Others.E.have = ~(1u << Prop);
    Others.E.bools = ~0u;
    R = eval(P, Others);
    EXPECT_FALSE(R.D.allow);
  }
}

TEST(Interpreter, UnknownPropertyIsFalse) {
  Program P(boolModule(IPEVM_PROP_BOOT_VERIFIED));
  ASSERT_VERIFIED(P);
  Event Ev(IPEVM_OP_EXECUTE);
  Ev.E.bools = ~0u; // values without have bits are not known
  Result R = eval(P, Ev);
  ASSERT_EQ(R.Err, IPEVM_E_OK);
  EXPECT_FALSE(R.D.allow);
}

TEST(Interpreter, OriginRuleAndAuditFields) {
  for (bool Allow : {false, true})
    for (bool Audit : {false, true})
      for (ipevm_origin Origin : {IPEVM_ORIGIN_RULE, IPEVM_ORIGIN_OP_DEFAULT,
                                  IPEVM_ORIGIN_GLOBAL_DEFAULT}) {
        Module M;
        M.Name = "fields";
        M.RuleCount = 70000;
        uint32_t Rule = Origin == IPEVM_ORIGIN_RULE ? 69999 : 0;
        M.Code = {Insn::decide(Allow, Audit, Origin, Rule)};
        Program P(M);
        ASSERT_VERIFIED(P);
        for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
          Event Ev(Op);
          Result R = eval(P, Ev);
          ASSERT_EQ(R.Err, IPEVM_E_OK);
          EXPECT_EQ(R.D.allow, Allow);
          EXPECT_EQ(R.D.audit, Audit);
          EXPECT_EQ(R.D.origin, uint8_t(Origin));
          EXPECT_EQ(R.D.rule, Rule);
          EXPECT_EQ(R.D.steps, 1u);
        }
      }
}

TEST(Interpreter, PerOperationEntryPoints) {
  Module M;
  M.Name = "ops";
  M.RuleCount = IPEVM_OP_COUNT;
  // Operation k starts at insn 2k: a branch into its own decision or the
  // global default at the end.
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    M.Entry[Op] = 2 * Op;
    M.Code.push_back(
        Insn::brBool(IPEVM_PROP_HAS_FILE, 2 * Op + 1, 2 * IPEVM_OP_COUNT));
    M.Code.push_back(Insn::decide(Op % 2, false, IPEVM_ORIGIN_RULE, Op));
  }
  M.Code.push_back(Insn::decide(false, true, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0));
  Program P(M);
  ASSERT_VERIFIED(P);
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    EXPECT_EQ(P.Prog.op_cost[Op], 2u);
    Event With(Op);
    With.boolean(IPEVM_PROP_HAS_FILE, true);
    Result R = eval(P, With);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_EQ(R.D.rule, Op);
    EXPECT_EQ(R.D.allow, bool(Op % 2));
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_RULE);

    Event Without(Op);
    R = eval(P, Without);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_GLOBAL_DEFAULT);
    EXPECT_TRUE(R.D.audit);
    EXPECT_FALSE(R.D.allow);
  }
}

TEST(Interpreter, RejectsUnknownOperation) {
  Program P(boolModule(IPEVM_PROP_BOOT_VERIFIED));
  ASSERT_VERIFIED(P);
  for (uint32_t Op :
       {uint32_t(IPEVM_OP_COUNT), 100u, 0x80000000u, 0xffffffffu}) {
    Event Ev(Op);
    Fetcher F;
    F.attach(Ev);
    ipevm_decision D;
    std::memset(&D, 0xa5, sizeof(D));
    EXPECT_EQ(ipevm_eval(&P.Prog, &Ev.E, &D), IPEVM_E_BAD_OP);
    EXPECT_FALSE(D.allow);
    EXPECT_EQ(F.Calls[IPEVM_PROP_BOOT_VERIFIED], 0u);
  }
}

//===----------------------------------------------------------------------===//
// Lazy property fetch
//===----------------------------------------------------------------------===//

///   0: br_bool boot_verified ? 1 : 2
///   1: br_bool has_file ? 2 : 2
///   2: br_bool boot_verified ? 3 : 4      (tested again)
///   3: lookup fsverity_digest ? 6 : 4
///   4: lookup fsverity_digest ? 6 : 5     (tested again)
///   5: br_bool dmverity_signature ? 6 : 7
///   6: decide allow rule 0
///   7: decide deny rule 1
Module fetchModule() {
  Module M;
  M.Name = "fetch";
  M.RuleCount = 2;
  M.Code = {Insn::brBool(IPEVM_PROP_BOOT_VERIFIED, 1, 2),
            Insn::brBool(IPEVM_PROP_HAS_FILE, 2, 2),
            Insn::brBool(IPEVM_PROP_BOOT_VERIFIED, 3, 4),
            Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 6, 4),
            Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 6, 5),
            Insn::brBool(IPEVM_PROP_DMVERITY_SIGNATURE, 6, 7),
            Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
            Insn::decide(false, false, IPEVM_ORIGIN_RULE, 1)};
  Table T;
  T.Alg = "sha256";
  T.KeyLen = 4;
  T.Keys = {{1, 2, 3, 4}};
  M.Tables = {T};
  return M;
}

TEST(Interpreter, FetchesEachPropertyOnceWhenNeeded) {
  Program P(fetchModule());
  ASSERT_VERIFIED(P);
  static const char Alg[] = "sha256";
  static const uint8_t Key[] = {1, 2, 3, 4};

  // boot_verified true, digest a miss: 0 1 2 3 4 5 7; boot_verified and
  // the digest are each tested twice but fetched once.
  {
    Event Ev(IPEVM_OP_EXECUTE);
    Fetcher F;
    F.Bools = 1u << IPEVM_PROP_BOOT_VERIFIED;
    F.attach(Ev);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_FALSE(R.D.allow);
    EXPECT_EQ(R.D.rule, 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_BOOT_VERIFIED], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_HAS_FILE], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_FSVERITY_DIGEST], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_DMVERITY_SIGNATURE], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_WRITABLE], 0u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_DMVERITY_ROOTHASH], 0u);
  }
  // boot_verified true, digest a hit: dmverity_signature is never reached.
  {
    Event Ev(IPEVM_OP_EXECUTE);
    Fetcher F;
    F.Bools = 1u << IPEVM_PROP_BOOT_VERIFIED;
    F.Digests[0] = {reinterpret_cast<const uint8_t *>(Alg), 6, Key, 4};
    F.attach(Ev);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_TRUE(R.D.allow);
    EXPECT_EQ(F.Calls[IPEVM_PROP_BOOT_VERIFIED], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_FSVERITY_DIGEST], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_DMVERITY_SIGNATURE], 0u);
  }
  // boot_verified false: has_file is never reached.
  {
    Event Ev(IPEVM_OP_EXECUTE);
    Fetcher F;
    F.attach(Ev);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_EQ(F.Calls[IPEVM_PROP_BOOT_VERIFIED], 1u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_HAS_FILE], 0u);
    EXPECT_EQ(F.Calls[IPEVM_PROP_FSVERITY_DIGEST], 1u);
  }
  // Known properties are not fetched.
  {
    Event Ev(IPEVM_OP_EXECUTE);
    Ev.boolean(IPEVM_PROP_BOOT_VERIFIED, true);
    Ev.boolean(IPEVM_PROP_HAS_FILE, true);
    Ev.digest(IPEVM_PROP_FSVERITY_DIGEST, "sha256", {1, 2, 3, 4});
    Fetcher F;
    F.attach(Ev);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_TRUE(R.D.allow);
    for (unsigned C : F.Calls)
      EXPECT_EQ(C, 0u);
  }
}

TEST(Interpreter, FetchThatLearnsNothingIsStillCalledOnce) {
  Program P(fetchModule());
  ASSERT_VERIFIED(P);
  Event Ev(IPEVM_OP_EXECUTE);
  Fetcher F;
  F.SetsHave = false;
  F.Bools = ~0u; // ignored: the fetch does not set have
  F.attach(Ev);
  Result R = eval(P, Ev);
  ASSERT_EQ(R.Err, IPEVM_E_OK);
  EXPECT_FALSE(R.D.allow); // unknown reads as false / absent
  EXPECT_EQ(F.Calls[IPEVM_PROP_BOOT_VERIFIED], 1u);
  EXPECT_EQ(F.Calls[IPEVM_PROP_FSVERITY_DIGEST], 1u);
  EXPECT_EQ(F.Calls[IPEVM_PROP_DMVERITY_SIGNATURE], 1u);
  EXPECT_EQ(F.Calls[IPEVM_PROP_HAS_FILE], 0u);
}

TEST(Interpreter, FetchFailureAborts) {
  Program P(fetchModule());
  ASSERT_VERIFIED(P);
  for (int Fail :
       {int(IPEVM_PROP_BOOT_VERIFIED), int(IPEVM_PROP_FSVERITY_DIGEST),
        int(IPEVM_PROP_DMVERITY_SIGNATURE)}) {
    Event Ev(IPEVM_OP_EXECUTE);
    Fetcher F;
    F.FailOn = Fail;
    F.attach(Ev);
    Result R = eval(P, Ev);
    EXPECT_EQ(R.Err, IPEVM_E_FETCH) << Fail;
    EXPECT_EQ(F.Calls[Fail], 1u);
  }
  // A failing fetch of a property that is never reached does no harm.
  Event Ev(IPEVM_OP_EXECUTE);
  Fetcher F;
  F.FailOn = IPEVM_PROP_HAS_FILE;
  F.attach(Ev);
  Result R = eval(P, Ev);
  EXPECT_EQ(R.Err, IPEVM_E_OK);
  EXPECT_EQ(F.Calls[IPEVM_PROP_HAS_FILE], 0u);
}

//===----------------------------------------------------------------------===//
// Digest lookups
//===----------------------------------------------------------------------===//

class InterpreterDigest : public ::testing::Test {
protected:
  static constexpr uint32_t KeyLen = 32;

  void SetUp() override {
    std::mt19937 Rng(1234);
    while (Keys.size() < 1000)
      Keys.insert(randomBytes(Rng, KeyLen));
    Module M;
    M.Name = "digests";
    M.RuleCount = 2;
    Table T;
    T.Alg = "sha256";
    T.KeyLen = KeyLen;
    T.Keys.assign(Keys.begin(), Keys.end()); // std::set order is memcmp order
    M.Tables = {T};
    M.Code = {Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 1, 2),
              Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
              Insn::decide(false, false, IPEVM_ORIGIN_RULE, 1)};
    P = std::make_unique<Program>(M);
    ASSERT_VERIFIED(*P);
    // 1 + bit length of 1000 (10 probes) + 1.
    ASSERT_EQ(P->Prog.op_cost[IPEVM_OP_EXECUTE], 12u);
  }

  /// Whether the digest (Alg, D) is found, checking the steps.
  bool found(const std::string &Alg, const Bytes &D) {
    Event Ev(IPEVM_OP_EXECUTE);
    Ev.digest(IPEVM_PROP_FSVERITY_DIGEST, Alg, D);
    Result R = eval(*P, Ev);
    EXPECT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_EQ(R.D.rule, R.D.allow ? 0u : 1u);
    return R.D.allow;
  }

  std::set<Bytes> Keys;
  std::unique_ptr<Program> P;
};

TEST_F(InterpreterDigest, FindsEveryKey) {
  for (const Bytes &K : Keys)
    EXPECT_TRUE(found("sha256", K));
}

TEST_F(InterpreterDigest, MatchesASetOnRandomDigests) {
  std::mt19937 Rng(99);
  for (int I = 0; I < 3000; ++I) {
    Bytes D = randomBytes(Rng, KeyLen);
    EXPECT_EQ(found("sha256", D), Keys.count(D) == 1);
  }
  // Near misses: each key with one byte changed, and its neighbours in order.
  for (const Bytes &K : Keys) {
    Bytes D = K;
    D[Rng() % KeyLen] ^= uint8_t(1u << (Rng() % 8));
    EXPECT_EQ(found("sha256", D), Keys.count(D) == 1);
  }
  EXPECT_EQ(found("sha256", Bytes(KeyLen, 0)),
            Keys.count(Bytes(KeyLen, 0)) == 1);
  EXPECT_EQ(found("sha256", Bytes(KeyLen, 0xff)),
            Keys.count(Bytes(KeyLen, 0xff)) == 1);
}

TEST_F(InterpreterDigest, CountsProbesWithinTheBound) {
  unsigned MaxSteps = 0;
  for (const Bytes &K : Keys) {
    Event Ev(IPEVM_OP_EXECUTE);
    Ev.digest(IPEVM_PROP_FSVERITY_DIGEST, "sha256", K);
    Result R = eval(*P, Ev);
    ASSERT_TRUE(R.D.allow);
    EXPECT_GE(R.D.steps, 3u); // lookup, at least one probe, decide
    MaxSteps = std::max(MaxSteps, unsigned(R.D.steps));
  }
  EXPECT_EQ(MaxSteps, 12u); // some key needs all ten probes
  // An absent digest makes no probe.
  Event Ev(IPEVM_OP_EXECUTE);
  Result R = eval(*P, Ev);
  EXPECT_FALSE(R.D.allow);
  EXPECT_EQ(R.D.steps, 2u);
}

TEST_F(InterpreterDigest, AlgorithmMustMatch) {
  const Bytes &K = *Keys.begin();
  for (const std::string &Alg :
       {std::string("sha512"), std::string("sha25"), std::string("sha2566"),
        std::string("SHA256"), std::string(), std::string("sha256 "),
        std::string("sha256\0", 7)})
    EXPECT_FALSE(found(Alg, K)) << Alg;
  EXPECT_TRUE(found("sha256", K));
}

TEST_F(InterpreterDigest, LengthMustMatch) {
  for (const Bytes &K : {*Keys.begin(), *Keys.rbegin()}) {
    Bytes Short(K.begin(), K.end() - 1);
    Bytes Long = K;
    Long.push_back(0);
    EXPECT_FALSE(found("sha256", Short));
    EXPECT_FALSE(found("sha256", Long));
    EXPECT_FALSE(found("sha256", Bytes()));
  }
}

TEST_F(InterpreterDigest, AbsentOrUnknownDigestDoesNotMatch) {
  const Bytes &K = *Keys.begin();
  // Known, but the file has no such digest.
  Event NoBytes(IPEVM_OP_EXECUTE);
  NoBytes.digest(IPEVM_PROP_FSVERITY_DIGEST, "sha256", K);
  NoBytes.E.digest[0].bytes = nullptr;
  EXPECT_FALSE(eval(*P, NoBytes).D.allow);
  // Filled in but not marked known.
  Event Unknown(IPEVM_OP_EXECUTE);
  Unknown.digest(IPEVM_PROP_FSVERITY_DIGEST, "sha256", K);
  Unknown.E.have = 0;
  EXPECT_FALSE(eval(*P, Unknown).D.allow);
  // Another digest property.
  Event Other(IPEVM_OP_EXECUTE);
  Other.digest(IPEVM_PROP_DMVERITY_ROOTHASH, "sha256", K);
  EXPECT_FALSE(eval(*P, Other).D.allow);
}

TEST(Interpreter, ValuedTableIsAMultiwayBranch) {
  std::mt19937 Rng(7);
  std::set<Bytes> KeySet;
  while (KeySet.size() < 50)
    KeySet.insert(randomBytes(Rng, 20));
  std::vector<Bytes> Keys(KeySet.begin(), KeySet.end());

  // 0: lookup dmverity_roothash -> {1 .. 50} : 51; k: decide rule k - 1.
  Module M;
  M.Name = "multiway";
  M.RuleCount = 50;
  Table T;
  T.Alg = "sha1";
  T.KeyLen = 20;
  T.Keys = Keys;
  T.Owner = 0;
  for (uint32_t K = 0; K < 50; ++K)
    T.Values.push_back(1 + K);
  M.Tables = {T};
  M.Code.push_back(Insn::lookup(IPEVM_PROP_DMVERITY_ROOTHASH, 0, 51, 51));
  for (uint32_t K = 0; K < 50; ++K)
    M.Code.push_back(Insn::decide(K % 3 != 0, K % 2, IPEVM_ORIGIN_RULE, K));
  M.Code.push_back(Insn::decide(false, false, IPEVM_ORIGIN_OP_DEFAULT, 0));
  Program P(M);
  ASSERT_VERIFIED(P);
  EXPECT_EQ(P.Prog.op_cost[IPEVM_OP_EXECUTE], 1u + 6u + 1u);

  for (uint32_t K = 0; K < 50; ++K) {
    Event Ev(IPEVM_OP_EXECUTE);
    Ev.digest(IPEVM_PROP_DMVERITY_ROOTHASH, "sha1", Keys[K]);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_RULE);
    EXPECT_EQ(R.D.rule, K);
    EXPECT_EQ(R.D.allow, K % 3 != 0);
    EXPECT_EQ(R.D.audit, bool(K % 2));
  }
  for (int I = 0; I < 200; ++I) {
    Event Ev(IPEVM_OP_EXECUTE);
    Bytes D = randomBytes(Rng, 20);
    Ev.digest(IPEVM_PROP_DMVERITY_ROOTHASH, "sha1", D);
    Result R = eval(P, Ev);
    ASSERT_EQ(R.Err, IPEVM_E_OK);
    if (KeySet.count(D))
      continue;
    EXPECT_EQ(R.D.origin, IPEVM_ORIGIN_OP_DEFAULT);
  }
  Event Ev(IPEVM_OP_EXECUTE);
  Ev.digest(IPEVM_PROP_DMVERITY_ROOTHASH, "sha256", Keys[3]);
  EXPECT_EQ(eval(P, Ev).D.origin, IPEVM_ORIGIN_OP_DEFAULT);
}

TEST(Interpreter, DoesNotWriteTheProgram) {
  Module M = fetchModule();
  Program P(M);
  ASSERT_VERIFIED(P);
  Bytes Before = P.Artifact;
  ipevm_prog ProgBefore = P.Prog;
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    for (uint32_t Bools = 0; Bools < 32; ++Bools) {
      Event Ev(Op);
      Ev.E.have = 0x1f;
      Ev.E.bools = Bools;
      Ev.digest(IPEVM_PROP_FSVERITY_DIGEST, "sha256", {1, 2, 3, 4});
      eval(P, Ev);
    }
  EXPECT_EQ(P.Artifact, Before);
  EXPECT_EQ(std::memcmp(&ProgBefore, &P.Prog, sizeof(ProgBefore)), 0);
}

//===----------------------------------------------------------------------===//
// Random programs against a reference evaluator
//===----------------------------------------------------------------------===//

/// The facts of an event in plain C++.
struct Truth {
  uint32_t Bools = 0;
  bool HasDigest[IPEVM_DIGEST_PROPS] = {};
  std::string Alg[IPEVM_DIGEST_PROPS];
  Bytes Digest[IPEVM_DIGEST_PROPS];
};

struct Expected {
  bool Allow, Audit;
  uint8_t Origin;
  uint32_t Rule, Steps, Tested;
};

/// The semantics of ipevm_bc.h, straight from the Module.
Expected reference(const Module &M, uint32_t Op, const Truth &T) {
  Expected E{};
  uint32_t Pc = M.Entry[Op];
  for (;;) {
    const Insn &I = M.Code.at(Pc);
    ++E.Steps;
    if (I.Code == IPEVM_DECIDE) {
      E.Allow = I.B & IPEVM_DF_ALLOW;
      E.Audit = I.B & IPEVM_DF_AUDIT;
      E.Origin = uint8_t((I.B & IPEVM_DF_ORIGIN_MASK) >> IPEVM_DF_ORIGIN_SHIFT);
      E.Rule = I.X;
      return E;
    }
    E.Tested |= 1u << I.A;
    if (I.Code == IPEVM_BR_BOOL) {
      Pc = (T.Bools >> I.A) & 1 ? I.X : I.Y;
      continue;
    }
    const Table &Tab = M.Tables.at(I.B);
    unsigned D = I.A - IPEVM_PROP_FIRST_DIGEST;
    uint32_t Next = I.Y;
    if (T.HasDigest[D] && T.Alg[D] == Tab.Alg &&
        T.Digest[D].size() == Tab.KeyLen) {
      // The same binary search, to count probes exactly.
      size_t Lo = 0, Hi = Tab.Keys.size();
      while (Lo < Hi) {
        size_t Mid = Lo + (Hi - Lo) / 2;
        ++E.Steps;
        if (T.Digest[D] == Tab.Keys[Mid]) {
          Next = Tab.Values.empty() ? I.X : Tab.Values[Mid];
          break;
        }
        if (T.Digest[D] < Tab.Keys[Mid])
          Hi = Mid;
        else
          Lo = Mid + 1;
      }
    }
    Pc = Next;
  }
}

struct RandomCase {
  Module M;
  std::vector<std::string> Algs;
};

RandomCase randomModule(std::mt19937 &Rng) {
  auto Below = [&](uint32_t N) { return uint32_t(Rng() % N); };
  RandomCase C;
  Module &M = C.M;
  M.Name = "random";
  M.RuleCount = 1 + Below(20);
  uint32_t N = 2 + Below(60);
  uint32_t Decides = 1 + Below(std::min(N, 8u));
  C.Algs = {"sha256", "sha1"};
  std::vector<uint32_t> Unvalued;
  for (uint32_t I = 0; I < N; ++I) {
    auto Target = [&] { return I + 1 + Below(N - I - 1); };
    if (I >= N - Decides) {
      auto Origin = ipevm_origin(Below(3));
      M.Code.push_back(
          Insn::decide(Below(2), Below(2), Origin,
                       Origin == IPEVM_ORIGIN_RULE ? Below(M.RuleCount) : 0));
      continue;
    }
    if (Below(2)) {
      M.Code.push_back(
          Insn::brBool(Below(IPEVM_PROP_FIRST_DIGEST), Target(), Target()));
      continue;
    }
    unsigned Prop = IPEVM_PROP_FIRST_DIGEST + Below(IPEVM_DIGEST_PROPS);
    if (!Unvalued.empty() && Below(3) == 0) {
      uint32_t Tab = Unvalued[Below(uint32_t(Unvalued.size()))];
      M.Code.push_back(Insn::lookup(Prop, Tab, Target(), Target()));
      continue;
    }
    Table T;
    T.Alg = C.Algs[Below(2)];
    static const uint32_t Lens[] = {1, 2, 20, 32};
    T.KeyLen = Lens[Below(4)];
    std::set<Bytes> Keys;
    uint32_t Want = 1 + Below(40);
    for (uint32_t K = 0; K < 4 * Want && Keys.size() < Want; ++K) {
      Bytes Key(T.KeyLen);
      for (uint8_t &B : Key)
        B = uint8_t(Below(4)); // a small alphabet, so that events hit
      Keys.insert(Key);
    }
    T.Keys.assign(Keys.begin(), Keys.end());
    bool Valued = Below(2);
    if (Valued) {
      T.Owner = I;
      for (size_t K = 0; K < T.Keys.size(); ++K)
        T.Values.push_back(Target());
    } else {
      Unvalued.push_back(uint32_t(M.Tables.size()));
    }
    M.Code.push_back(
        Insn::lookup(Prop, uint32_t(M.Tables.size()), Target(), Target()));
    M.Tables.push_back(std::move(T));
  }
  for (uint32_t &E : M.Entry)
    E = Below(N);
  return C;
}

Truth randomTruth(std::mt19937 &Rng, const RandomCase &C) {
  Truth T;
  T.Bools = Rng() & 0x1f;
  for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D) {
    T.HasDigest[D] = Rng() % 4 != 0;
    T.Alg[D] = Rng() % 8 ? C.Algs[Rng() % 2] : "md5";
    if (!C.M.Tables.empty() && Rng() % 2) {
      const Table &Tab = C.M.Tables[Rng() % C.M.Tables.size()];
      T.Digest[D] = Tab.Keys[Rng() % Tab.Keys.size()];
    } else {
      static const size_t Lens[] = {0, 1, 2, 20, 32};
      T.Digest[D].resize(Lens[Rng() % 5]);
      for (uint8_t &B : T.Digest[D])
        B = uint8_t(Rng() % 4);
    }
  }
  return T;
}

TEST(Interpreter, RandomProgramsMatchTheReference) {
  std::mt19937 Rng(2024);
  for (int Case = 0; Case < 300; ++Case) {
    RandomCase C = randomModule(Rng);
    Program P(C.M);
    ASSERT_VERIFIED(P) << " in case " << Case;
    for (int Run = 0; Run < 40; ++Run) {
      Truth T = randomTruth(Rng, C);
      uint32_t Op = Rng() % IPEVM_OP_COUNT;
      Expected Want = reference(C.M, Op, T);

      // Some properties known up front, the rest fetched on demand.
      Event Ev(Op);
      Fetcher F;
      uint32_t Known = Rng() & 0x7f;
      F.Bools = T.Bools;
      for (unsigned Prop = 0; Prop < IPEVM_PROP_COUNT; ++Prop) {
        bool Up = Known & (1u << Prop);
        if (Prop < IPEVM_PROP_FIRST_DIGEST) {
          if (Up)
            Ev.boolean(Prop, T.Bools & (1u << Prop));
          continue;
        }
        unsigned D = Prop - IPEVM_PROP_FIRST_DIGEST;
        if (Up) {
          Ev.digest(Prop, T.Alg[D], T.Digest[D]);
          if (!T.HasDigest[D])
            Ev.E.digest[D].bytes = nullptr;
        }
        F.Digests[D].alg = reinterpret_cast<const uint8_t *>(T.Alg[D].data());
        F.Digests[D].alg_len = uint32_t(T.Alg[D].size());
        F.Digests[D].bytes = T.HasDigest[D] ? T.Digest[D].data() : nullptr;
        F.Digests[D].len = uint32_t(T.Digest[D].size());
      }
      F.attach(Ev);

      Result R = eval(P, Ev);
      ASSERT_EQ(R.Err, IPEVM_E_OK);
      EXPECT_EQ(R.D.allow, Want.Allow) << "case " << Case;
      EXPECT_EQ(R.D.audit, Want.Audit);
      EXPECT_EQ(R.D.origin, Want.Origin);
      EXPECT_EQ(R.D.rule, Want.Rule);
      EXPECT_EQ(R.D.steps, Want.Steps);
      for (unsigned Prop = 0; Prop < IPEVM_PROP_COUNT; ++Prop) {
        bool Fetched = (Want.Tested & (1u << Prop)) && !(Known & (1u << Prop));
        EXPECT_EQ(F.Calls[Prop], Fetched ? 1u : 0u) << "prop " << Prop;
      }
    }
  }
}

} // namespace
