//===- VerifierTest.cpp - ipevm_verify on good and corrupted artifacts ----===//
//
// Each test builds a small module with ipec::bc::serialize, corrupts it in
// one way and checks that ipevm_verify names the right reason (and the byte
// it concerns). The verifier always reads from an exactly-sized heap copy, so
// AddressSanitizer reports any read past the artifact.
//
//===----------------------------------------------------------------------===//

#include "ipec/Bytecode.h"
#include "ipevm.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace ipec::bc;

namespace {

using Bytes = std::vector<uint8_t>;

uint32_t get32(const Bytes &B, size_t At) {
  return uint32_t(B[At]) | uint32_t(B[At + 1]) << 8 |
         uint32_t(B[At + 2]) << 16 | uint32_t(B[At + 3]) << 24;
}

void put32(Bytes &B, size_t At, uint32_t V) {
  for (int I = 0; I < 4; ++I)
    B[At + I] = uint8_t(V >> (8 * I));
}

void put16(Bytes &B, size_t At, uint16_t V) {
  B[At] = uint8_t(V);
  B[At + 1] = uint8_t(V >> 8);
}

/// The verifier's view of one artifact, kept alive with the bytes it views.
class Verified {
public:
  explicit Verified(const Bytes &B, uint32_t CostLimit = 0, size_t Misalign = 0)
      : Storage(new uint8_t[B.size() + Misalign]) {
    Base = Storage.get() + Misalign;
    if (!B.empty())
      std::memcpy(Base, B.data(), B.size());
    Scratch.resize(IPEVM_VERIFY_SCRATCH_WORDS(B.size()));
    std::memset(&Prog, 0, sizeof(Prog));
    Diag.err = IPEVM_E_COUNT;
    Diag.offset = ~0u;
    Err = ipevm_verify(Base, uint32_t(B.size()), CostLimit, Scratch.data(),
                       uint32_t(Scratch.size()), &Prog, &Diag);
  }

  ipevm_err Err;
  ipevm_diag Diag;
  ipevm_prog Prog;

private:
  std::unique_ptr<uint8_t[]> Storage;
  uint8_t *Base;
  std::vector<uint32_t> Scratch;
};

Bytes key(uint8_t Seed, uint32_t Len = 32) {
  Bytes K(Len);
  for (uint32_t I = 0; I < Len; ++I)
    K[I] = uint8_t(Seed + I);
  return K;
}

/// Nine instructions: a boolean branch, an unvalued lookup, a valued lookup
/// (a multiway branch) and decisions of every origin.
///
///   0: br_bool boot_verified ? 1 : 2
///   1: decide allow rule 0
///   2: lookup fsverity_digest in table 0 ? 3 : 4
///   3: decide allow audit rule 1
///   4: lookup dmverity_roothash in table 1 -> {5, 6} : 7
///   5: decide allow rule 2
///   6: decide deny audit rule 3
///   7: decide deny (op default)
///   8: decide deny (global default)
Module baseModule() {
  Module M;
  M.Name = "base";
  M.Version = {1, 2, 3};
  M.RuleCount = 4;
  M.Code = {
      Insn::brBool(IPEVM_PROP_BOOT_VERIFIED, 1, 2),
      Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
      Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 3, 4),
      Insn::decide(true, true, IPEVM_ORIGIN_RULE, 1),
      Insn::lookup(IPEVM_PROP_DMVERITY_ROOTHASH, 1, 7, 7),
      Insn::decide(true, false, IPEVM_ORIGIN_RULE, 2),
      Insn::decide(false, true, IPEVM_ORIGIN_RULE, 3),
      Insn::decide(false, false, IPEVM_ORIGIN_OP_DEFAULT, 0),
      Insn::decide(false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0),
  };
  M.Entry.fill(8);
  M.Entry[IPEVM_OP_EXECUTE] = 0;
  M.Entry[IPEVM_OP_MMAP_EXEC] = 4;
  M.Entry[IPEVM_OP_POLICY] = 7;

  Table T0;
  T0.Alg = "sha256";
  T0.KeyLen = 32;
  T0.Keys = {key(0x10), key(0x20), key(0x30)};
  Table T1;
  T1.Alg = "sha256";
  T1.KeyLen = 32;
  T1.Keys = {key(0x40), key(0x50)};
  T1.Values = {5, 6};
  T1.Owner = 4;
  M.Tables = {T0, T1};

  for (uint32_t R = 0; R < M.RuleCount; ++R)
    M.SourceMap.push_back({"base.ipl", R + 2, 1, "rule " + std::to_string(R)});
  return M;
}

Bytes baseBytes() { return serialize(baseModule()); }

/// Offset of the section table entry with this id.
size_t sectionEntry(const Bytes &B, uint32_t Id) {
  uint32_t Count = get32(B, IPEVM_HDR_SECTION_COUNT);
  for (uint32_t I = 0; I < Count; ++I) {
    size_t At = IPEVM_HEADER_SIZE + I * IPEVM_SECTION_SIZE;
    if (get32(B, At) == Id)
      return At;
  }
  ADD_FAILURE() << "no section " << Id;
  return 0;
}

size_t sectionOffset(const Bytes &B, uint32_t Id) {
  return get32(B, sectionEntry(B, Id) + offsetof(ipevm_section, offset));
}

size_t insnAt(const Bytes &B, uint32_t I) {
  return sectionOffset(B, IPEVM_SEC_CODE) + I * IPEVM_INSN_SIZE;
}

size_t tableAt(const Bytes &B, uint32_t T) {
  return sectionOffset(B, IPEVM_SEC_TABLES) + 4 + T * IPEVM_TABLE_SIZE;
}

/// A section payload, for re-laying out a container by hand.
struct RawSection {
  uint32_t Id;
  Bytes Data;
};

std::vector<RawSection> sectionsOf(const Bytes &B) {
  std::vector<RawSection> S;
  uint32_t Count = get32(B, IPEVM_HDR_SECTION_COUNT);
  for (uint32_t I = 0; I < Count; ++I) {
    size_t At = IPEVM_HEADER_SIZE + I * IPEVM_SECTION_SIZE;
    uint32_t Off = get32(B, At + 4), Size = get32(B, At + 8);
    S.push_back({get32(B, At), Bytes(B.begin() + Off, B.begin() + Off + Size)});
  }
  return S;
}

/// B's header with the sections S, each 4-byte aligned, in order. An empty
/// section still takes 4 bytes so that offsets stay strictly ascending.
Bytes container(const Bytes &B, const std::vector<RawSection> &S) {
  Bytes Out(B.begin(), B.begin() + IPEVM_HEADER_SIZE);
  put32(Out, IPEVM_HDR_SECTION_COUNT, uint32_t(S.size()));
  uint32_t Off = uint32_t(IPEVM_HEADER_SIZE + S.size() * IPEVM_SECTION_SIZE);
  Bytes Payload;
  for (const RawSection &R : S) {
    Bytes E(IPEVM_SECTION_SIZE, 0);
    put32(E, 0, R.Id);
    put32(E, 4, Off + uint32_t(Payload.size()));
    put32(E, 8, uint32_t(R.Data.size()));
    Out.insert(Out.end(), E.begin(), E.end());
    Payload.insert(Payload.end(), R.Data.begin(), R.Data.end());
    do
      Payload.push_back(0);
    while (Payload.size() % 4);
  }
  Out.insert(Out.end(), Payload.begin(), Payload.end());
  put32(Out, IPEVM_HDR_TOTAL_SIZE, uint32_t(Out.size()));
  return Out;
}

Bytes &payloadOf(std::vector<RawSection> &S, uint32_t Id) {
  for (RawSection &R : S)
    if (R.Id == Id)
      return R.Data;
  ADD_FAILURE() << "no section " << Id;
  return S.front().Data;
}

#define EXPECT_REJECT(Artifact, Reason)                                        \
  do {                                                                         \
    Verified V_(Artifact);                                                     \
    EXPECT_EQ(V_.Err, Reason) << ipevm_strerror(V_.Err);                       \
    EXPECT_EQ(V_.Diag.err, Reason);                                            \
  } while (0)

#define EXPECT_REJECT_AT(Artifact, Reason, Offset)                             \
  do {                                                                         \
    Verified V_(Artifact);                                                     \
    EXPECT_EQ(V_.Err, Reason) << ipevm_strerror(V_.Err);                       \
    EXPECT_EQ(V_.Diag.err, Reason);                                            \
    EXPECT_EQ(V_.Diag.offset, uint32_t(Offset));                               \
  } while (0)

#define EXPECT_ACCEPT(Artifact)                                                \
  do {                                                                         \
    Verified V_(Artifact);                                                     \
    EXPECT_EQ(V_.Err, IPEVM_E_OK)                                              \
        << ipevm_strerror(V_.Err) << " at " << V_.Diag.offset;                 \
  } while (0)

/// Evaluates a few events for every operation: each must decide, within the
/// verified cost.
void evalStaysWithinCost(const ipevm_prog &P) {
  static const Bytes Keys[] = {key(0x10), key(0x20), key(0x30),
                               key(0x40), key(0x50), key(0x11)};
  static const char Alg[] = "sha256";
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    for (uint32_t Variant = 0; Variant < 12; ++Variant) {
      ipevm_event E;
      std::memset(&E, 0, sizeof(E));
      E.op = Op;
      E.have = Variant & 1 ? ~0u : 0u;
      E.bools = Variant & 2 ? ~0u : 0u;
      for (auto &D : E.digest) {
        const Bytes &K = Keys[Variant % 6];
        D.alg = reinterpret_cast<const uint8_t *>(Alg);
        D.alg_len = 6;
        D.bytes = K.data();
        D.len = uint32_t(K.size());
      }
      ipevm_decision Out;
      ASSERT_EQ(ipevm_eval(&P, &E, &Out), IPEVM_E_OK);
      EXPECT_GE(Out.steps, 1u);
      EXPECT_LE(Out.steps, P.op_cost[Op]);
      EXPECT_LE(P.op_cost[Op], P.max_cost);
    }
  }
}

//===----------------------------------------------------------------------===//
// Accepting
//===----------------------------------------------------------------------===//

TEST(Verifier, AcceptsBaseModule) {
  Bytes B = baseBytes();
  Verified V(B);
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  EXPECT_EQ(V.Diag.err, IPEVM_E_OK);
  const ipevm_prog &P = V.Prog;
  EXPECT_EQ(P.size, B.size());
  EXPECT_EQ(P.version[0], 1);
  EXPECT_EQ(P.version[1], 2);
  EXPECT_EQ(P.version[2], 3);
  EXPECT_EQ(P.rule_count, 4u);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(P.name), P.name_len),
            "base");
  EXPECT_EQ(P.insn_count, 9u);
  EXPECT_EQ(P.table_count, 2u);
  EXPECT_EQ(P.tables_size, get32(B, sectionEntry(B, IPEVM_SEC_TABLES) + 8));
  EXPECT_EQ(P.strtab_size, get32(B, sectionEntry(B, IPEVM_SEC_STRTAB) + 8));
  EXPECT_EQ(P.code - P.base, ptrdiff_t(sectionOffset(B, IPEVM_SEC_CODE)));
  EXPECT_EQ(P.entry - P.base, ptrdiff_t(sectionOffset(B, IPEVM_SEC_ENTRY)));
  EXPECT_EQ(P.tables - P.base, ptrdiff_t(sectionOffset(B, IPEVM_SEC_TABLES)));
  EXPECT_EQ(P.srcmap - P.base, ptrdiff_t(sectionOffset(B, IPEVM_SEC_SRCMAP)));
  EXPECT_EQ(P.props_used, (1u << IPEVM_PROP_BOOT_VERIFIED) |
                              (1u << IPEVM_PROP_FSVERITY_DIGEST) |
                              (1u << IPEVM_PROP_DMVERITY_ROOTHASH));
  // Tables of 3 and 2 keys cost 1 + 2 probes per lookup:
  // cost[4] = 3 + 1, cost[2] = 3 + cost[4], cost[0] = 1 + cost[2].
  EXPECT_EQ(P.op_cost[IPEVM_OP_EXECUTE], 8u);
  EXPECT_EQ(P.op_cost[IPEVM_OP_MMAP_EXEC], 4u);
  EXPECT_EQ(P.op_cost[IPEVM_OP_POLICY], 1u);
  EXPECT_EQ(P.op_cost[IPEVM_OP_FIRMWARE], 1u);
  EXPECT_EQ(P.max_cost, 8u);
  evalStaysWithinCost(P);
}

TEST(Verifier, AcceptsAtAnyAlignment) {
  Bytes B = baseBytes();
  for (size_t Misalign = 0; Misalign < 8; ++Misalign) {
    Verified V(B, 0, Misalign);
    ASSERT_EQ(V.Err, IPEVM_E_OK) << Misalign;
    EXPECT_EQ(V.Prog.max_cost, 8u);
    evalStaysWithinCost(V.Prog);
  }
}

TEST(Verifier, DiagMayBeNull) {
  Bytes B = baseBytes();
  std::vector<uint32_t> Scratch(IPEVM_VERIFY_SCRATCH_WORDS(B.size()));
  ipevm_prog P;
  EXPECT_EQ(ipevm_verify(B.data(), uint32_t(B.size()), 0, Scratch.data(),
                         uint32_t(Scratch.size()), &P, nullptr),
            IPEVM_E_OK);
  B[0] = 'X';
  EXPECT_EQ(ipevm_verify(B.data(), uint32_t(B.size()), 0, Scratch.data(),
                         uint32_t(Scratch.size()), &P, nullptr),
            IPEVM_E_BAD_MAGIC);
}

TEST(Verifier, StrerrorNamesEveryCode) {
  std::set<std::string> Names;
  for (int E = 0; E < IPEVM_E_COUNT; ++E) {
    const char *S = ipevm_strerror(ipevm_err(E));
    ASSERT_NE(S, nullptr);
    EXPECT_GT(std::strlen(S), 0u) << E;
    EXPECT_TRUE(Names.insert(S).second) << "duplicate name " << S;
  }
  EXPECT_EQ(std::string(ipevm_strerror(IPEVM_E_OK)), "ok");
  for (int E : {int(IPEVM_E_COUNT), 1000, -1}) {
    const char *S = ipevm_strerror(ipevm_err(E));
    ASSERT_NE(S, nullptr);
    EXPECT_GT(std::strlen(S), 0u);
    EXPECT_EQ(Names.count(S), 0u);
  }
}

//===----------------------------------------------------------------------===//
// Damage anywhere: truncation and bit flips
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsEveryTruncation) {
  Bytes B = baseBytes();
  for (size_t Len = 0; Len < B.size(); ++Len) {
    Bytes T(B.begin(), B.begin() + Len);
    Verified V(T);
    EXPECT_TRUE(V.Err == IPEVM_E_TRUNCATED || V.Err == IPEVM_E_BAD_SIZE)
        << Len << ": " << ipevm_strerror(V.Err);
    EXPECT_EQ(V.Err,
              Len < IPEVM_HEADER_SIZE ? IPEVM_E_TRUNCATED : IPEVM_E_BAD_SIZE);
  }
}

// The same, with total_size patched to the new length, so that the section
// and payload checks see the short artifact.
TEST(Verifier, RejectsEveryTruncationWithConsistentSize) {
  Bytes B = baseBytes();
  for (size_t Len = IPEVM_HEADER_SIZE; Len < B.size(); ++Len) {
    Bytes T(B.begin(), B.begin() + Len);
    put32(T, IPEVM_HDR_TOTAL_SIZE, uint32_t(Len));
    Verified V(T);
    EXPECT_NE(V.Err, IPEVM_E_OK) << Len;
    EXPECT_LT(int(V.Err), int(IPEVM_E_COUNT));
    EXPECT_LE(V.Diag.offset, Len);
  }
}

void checkDamaged(const Bytes &D, const std::string &What) {
  Verified V(D);
  if (V.Err != IPEVM_E_OK) {
    EXPECT_GT(int(V.Err), int(IPEVM_E_OK)) << What;
    EXPECT_LT(int(V.Err), int(IPEVM_E_COUNT)) << What;
    EXPECT_EQ(V.Diag.err, V.Err) << What;
    EXPECT_LE(V.Diag.offset, D.size()) << What;
    EXPECT_GT(std::strlen(ipevm_strerror(V.Err)), 0u);
    return;
  }
  // Accepted (a flip in a version, a key, a string byte...): it must still
  // be safe and bounded to run.
  SCOPED_TRACE(What);
  evalStaysWithinCost(V.Prog);
}

TEST(Verifier, EveryBitFlipIsRejectedOrSafe) {
  Bytes B = baseBytes();
  for (size_t At = 0; At < B.size(); ++At) {
    for (int Bit = 0; Bit < 8; ++Bit) {
      Bytes D = B;
      D[At] ^= uint8_t(1u << Bit);
      checkDamaged(D, "flip byte " + std::to_string(At) + " bit " +
                          std::to_string(Bit));
    }
  }
}

TEST(Verifier, EveryByteValueChangeIsRejectedOrSafe) {
  Bytes B = baseBytes();
  for (size_t At = 0; At < B.size(); ++At) {
    for (uint8_t V : {uint8_t(0), uint8_t(0xff), uint8_t(B[At] + 1),
                      uint8_t(B[At] - 1), uint8_t(0x80)}) {
      Bytes D = B;
      D[At] = V;
      checkDamaged(D, "byte " + std::to_string(At) + " = " + std::to_string(V));
    }
  }
}

TEST(Verifier, RandomMultiByteDamageIsRejectedOrSafe) {
  Bytes B = baseBytes();
  std::mt19937 Rng(5);
  for (int I = 0; I < 5000; ++I) {
    Bytes D = B;
    for (uint32_t J = 0, N = 1 + Rng() % 4; J < N; ++J)
      D[Rng() % D.size()] = uint8_t(Rng());
    checkDamaged(D, "random damage " + std::to_string(I));
  }
}

//===----------------------------------------------------------------------===//
// Header
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsBadMagic) {
  for (int I = 0; I < 4; ++I) {
    Bytes B = baseBytes();
    B[I] ^= 0x20;
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_MAGIC, 0);
  }
}

TEST(Verifier, RejectsOtherFormatVersions) {
  for (uint16_t Version : {0, 2, 0x100, 0xffff}) {
    Bytes B = baseBytes();
    put16(B, IPEVM_HDR_FORMAT_VERSION, Version);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_FORMAT_VERSION, IPEVM_HDR_FORMAT_VERSION);
  }
}

TEST(Verifier, RejectsBadHeaderSize) {
  Bytes B = baseBytes();
  put16(B, IPEVM_HDR_HEADER_SIZE, IPEVM_HEADER_SIZE + 4);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_HEADER, IPEVM_HDR_HEADER_SIZE);
}

TEST(Verifier, RejectsNonZeroReserved) {
  Bytes B = baseBytes();
  put16(B, IPEVM_HDR_RESERVED0, 1);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_HEADER, IPEVM_HDR_RESERVED0);
  B = baseBytes();
  put32(B, IPEVM_HDR_RESERVED1, 0x80000000u);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_HEADER, IPEVM_HDR_RESERVED1);
}

TEST(Verifier, RejectsUnknownHeaderFlags) {
  for (int Bit = 0; Bit < 32; ++Bit) {
    Bytes B = baseBytes();
    put32(B, IPEVM_HDR_FLAGS, 1u << Bit);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_HEADER, IPEVM_HDR_FLAGS);
  }
}

TEST(Verifier, RejectsTotalSizeMismatch) {
  Bytes B = baseBytes();
  B.push_back(0);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SIZE, IPEVM_HDR_TOTAL_SIZE);
  B = baseBytes();
  put32(B, IPEVM_HDR_TOTAL_SIZE, get32(B, IPEVM_HDR_TOTAL_SIZE) - 4);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SIZE, IPEVM_HDR_TOTAL_SIZE);
}

//===----------------------------------------------------------------------===//
// Section table
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsSectionCountOutOfRange) {
  for (uint32_t Count : {0u, uint32_t(IPEVM_MAX_SECTIONS + 1), 0xffffffffu}) {
    Bytes B = baseBytes();
    put32(B, IPEVM_HDR_SECTION_COUNT, Count);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, IPEVM_HDR_SECTION_COUNT);
  }
}

TEST(Verifier, RejectsSectionTableBeyondArtifact) {
  // Sixteen entries would not fit in the header plus a tiny payload.
  Bytes B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  Bytes C = container(B, S);
  C.resize(IPEVM_HEADER_SIZE + 4 * IPEVM_SECTION_SIZE);
  put32(C, IPEVM_HDR_TOTAL_SIZE, uint32_t(C.size()));
  put32(C, IPEVM_HDR_SECTION_COUNT, IPEVM_MAX_SECTIONS);
  EXPECT_REJECT_AT(C, IPEVM_E_BAD_SECTION, IPEVM_HDR_SECTION_COUNT);
}

TEST(Verifier, AcceptsSectionsInAnyIdOrder) {
  Bytes B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  std::swap(S[0], S[3]);
  std::swap(S[1], S[4]);
  Verified V(container(B, S));
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  EXPECT_EQ(V.Prog.max_cost, 8u);
  evalStaysWithinCost(V.Prog);
}

TEST(Verifier, RejectsUnknownRequiredSection) {
  for (uint32_t Id : {0u, 5u, 0x7fu}) {
    Bytes B = baseBytes();
    size_t At = sectionEntry(B, IPEVM_SEC_TABLES);
    put32(B, At, Id);
    EXPECT_REJECT_AT(B, IPEVM_E_UNKNOWN_SECTION, At);
  }
}

TEST(Verifier, SkipsUnknownOptionalSections) {
  Bytes B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  S.insert(S.begin() + 2, RawSection{0x82, {'h', 'e', 'l', 'l', 'o'}});
  S.push_back(RawSection{0xffffffffu, Bytes(7, 0xee)});
  S.push_back(RawSection{0x82, {}}); // repeats of unknown ids are fine
  Verified V(container(B, S));
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  EXPECT_NE(V.Prog.srcmap, nullptr);
  EXPECT_EQ(V.Prog.max_cost, 8u);

  // Relabelling the source map as another optional section strips it.
  Bytes R = baseBytes();
  put32(R, sectionEntry(R, IPEVM_SEC_SRCMAP), 0x99);
  Verified W(R);
  ASSERT_EQ(W.Err, IPEVM_E_OK);
  EXPECT_EQ(W.Prog.srcmap, nullptr);
}

TEST(Verifier, RejectsDuplicateSection) {
  Bytes B = baseBytes();
  size_t At = sectionEntry(B, IPEVM_SEC_ENTRY);
  put32(B, At, IPEVM_SEC_STRTAB);
  EXPECT_REJECT_AT(B, IPEVM_E_DUP_SECTION, At);

  std::vector<RawSection> S = sectionsOf(baseBytes());
  S.push_back({IPEVM_SEC_SRCMAP, payloadOf(S, IPEVM_SEC_SRCMAP)});
  EXPECT_REJECT_AT(container(B, S), IPEVM_E_DUP_SECTION,
                   IPEVM_HEADER_SIZE + (S.size() - 1) * IPEVM_SECTION_SIZE);
}

TEST(Verifier, RejectsMissingSection) {
  for (uint32_t Id :
       {IPEVM_SEC_STRTAB, IPEVM_SEC_ENTRY, IPEVM_SEC_CODE, IPEVM_SEC_TABLES}) {
    Bytes B = baseBytes();
    put32(B, sectionEntry(B, Id), 0x90); // now an unknown optional section
    EXPECT_REJECT_AT(B, IPEVM_E_MISSING_SECTION, IPEVM_HDR_SECTION_COUNT);
  }
}

TEST(Verifier, RejectsOverlappingSections) {
  Bytes B = baseBytes();
  // Move ENTRY 4 bytes back, into STRTAB.
  size_t At = sectionEntry(B, IPEVM_SEC_ENTRY) + 4;
  put32(B, At, get32(B, At) - 4);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At);

  // Two sections at the same offset, one of them empty.
  B = baseBytes();
  size_t Code = sectionEntry(B, IPEVM_SEC_CODE);
  put32(B, Code + 4, get32(B, sectionEntry(B, IPEVM_SEC_ENTRY) + 4));
  put32(B, sectionEntry(B, IPEVM_SEC_ENTRY) + 8, 0);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, Code + 4);
}

TEST(Verifier, RejectsSectionsOutOfOrder) {
  Bytes B = baseBytes();
  size_t Entry = sectionEntry(B, IPEVM_SEC_ENTRY);
  size_t Code = sectionEntry(B, IPEVM_SEC_CODE);
  // Swap the two table entries but not the payloads: offsets now descend.
  for (int I = 0; I < IPEVM_SECTION_SIZE; ++I)
    std::swap(B[Entry + I], B[Code + I]);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, Code + 4);
}

TEST(Verifier, RejectsMisplacedSections) {
  Bytes B = baseBytes();
  size_t At = sectionEntry(B, IPEVM_SEC_STRTAB);
  put32(B, At + 4, get32(B, At + 4) + 2); // misaligned
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 4);

  B = baseBytes();
  put32(B, At + 4, IPEVM_HEADER_SIZE); // inside the section table
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 4);

  B = baseBytes();
  At = sectionEntry(B, IPEVM_SEC_SRCMAP);
  put32(B, At + 8, get32(B, At + 8) + 1); // runs past the end
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 8);
  put32(B, At + 8, 0xfffffff0u); // offset + size overflows
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 8);
  put32(B, At + 4, 0xfffffffcu);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 4);

  B = baseBytes();
  At = sectionEntry(B, IPEVM_SEC_CODE);
  put32(B, At + 12, 1); // reserved
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SECTION, At + 12);
}

//===----------------------------------------------------------------------===//
// Strings and the policy name
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsNameOutsideStrtab) {
  Bytes B = baseBytes();
  uint32_t Size = get32(B, sectionEntry(B, IPEVM_SEC_STRTAB) + 8);
  put32(B, IPEVM_HDR_NAME, Size);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_STRING, IPEVM_HDR_NAME);
  put32(B, IPEVM_HDR_NAME, 0xffffffffu); // off + len overflows
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_STRING, IPEVM_HDR_NAME);
  put32(B, IPEVM_HDR_NAME, 0);
  put32(B, IPEVM_HDR_NAME + 4, Size + 1);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_STRING, IPEVM_HDR_NAME);
}

TEST(Verifier, RejectsBadNames) {
  for (std::string Name :
       {std::string(""), std::string("."), std::string(".."),
        std::string("a/b"), std::string("/"), std::string("trailing/"),
        std::string("nul\0inside", 10), std::string(256, 'n')}) {
    Module M = baseModule();
    M.Name = Name;
    EXPECT_REJECT(serialize(M), IPEVM_E_BAD_NAME);
  }
}

TEST(Verifier, RejectsNameWithSlashAtTheSlash) {
  Module M = baseModule();
  M.Name = "ab/c";
  Bytes B = serialize(M);
  size_t Strtab = sectionOffset(B, IPEVM_SEC_STRTAB);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_NAME, Strtab + get32(B, IPEVM_HDR_NAME) + 2);
}

TEST(Verifier, AcceptsUnusualButSafeNames) {
  for (std::string Name :
       {std::string("..."), std::string(".hidden"), std::string("a..b"),
        std::string(255, 'n'), std::string("\xe2\x9c\x93 policy")}) {
    Module M = baseModule();
    M.Name = Name;
    Verified V(serialize(M));
    ASSERT_EQ(V.Err, IPEVM_E_OK) << Name;
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(V.Prog.name),
                          V.Prog.name_len),
              Name);
  }
}

//===----------------------------------------------------------------------===//
// Entry points and code size
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsEntryOutOfRange) {
  Module M = baseModule();
  M.Entry[IPEVM_OP_KEXEC_IMAGE] = 9;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_ENTRY,
                   sectionOffset(B, IPEVM_SEC_ENTRY) +
                       4 * IPEVM_OP_KEXEC_IMAGE);
}

TEST(Verifier, RejectsEntryOfWrongSize) {
  Bytes B = baseBytes();
  for (int Delta : {-4, 4}) {
    std::vector<RawSection> S = sectionsOf(B);
    Bytes &E = payloadOf(S, IPEVM_SEC_ENTRY);
    E.resize(E.size() + Delta);
    Bytes C = container(B, S);
    EXPECT_REJECT_AT(C, IPEVM_E_BAD_ENTRY,
                     sectionEntry(C, IPEVM_SEC_ENTRY) + 8);
  }
}

TEST(Verifier, RejectsCodeSizeNotWholeInstructions) {
  Bytes B = baseBytes();
  for (int Delta : {-1, 1, -11}) {
    std::vector<RawSection> S = sectionsOf(B);
    Bytes &C = payloadOf(S, IPEVM_SEC_CODE);
    C.resize(C.size() + Delta);
    Bytes D = container(B, S);
    EXPECT_REJECT_AT(D, IPEVM_E_BAD_CODE_SIZE,
                     sectionEntry(D, IPEVM_SEC_CODE) + 8);
  }
}

TEST(Verifier, RejectsEmptyCode) {
  Bytes B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  payloadOf(S, IPEVM_SEC_CODE).clear();
  EXPECT_REJECT(container(B, S), IPEVM_E_BAD_CODE_SIZE);
}

TEST(Verifier, RejectsTooLittleScratch) {
  Bytes B = baseBytes();
  std::vector<uint32_t> Scratch(9);
  ipevm_prog P;
  ipevm_diag D;
  EXPECT_EQ(
      ipevm_verify(B.data(), uint32_t(B.size()), 0, Scratch.data(), 8, &P, &D),
      IPEVM_E_SCRATCH);
  EXPECT_EQ(D.err, IPEVM_E_SCRATCH);
  EXPECT_EQ(ipevm_verify(B.data(), uint32_t(B.size()), 0, nullptr, 100, &P, &D),
            IPEVM_E_SCRATCH);
  EXPECT_EQ(
      ipevm_verify(B.data(), uint32_t(B.size()), 0, Scratch.data(), 9, &P, &D),
      IPEVM_E_OK);
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsUnknownOpcode) {
  for (uint8_t Code : {0, 5, 0x80, 0xff}) {
    Module M = baseModule();
    M.Code[3].Code = Code;
    Bytes B = serialize(M);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPCODE, insnAt(B, 3));
  }
}

TEST(Verifier, RejectsBackwardJump) {
  Module M = baseModule();
  M.Code[2].Y = 1;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 2) + 8);
}

TEST(Verifier, RejectsJumpToSelf) {
  Module M = baseModule();
  M.Code[0].X = 0;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 0) + 4);
  M = baseModule();
  M.Code[2].Y = 2;
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 2) + 8);
}

TEST(Verifier, RejectsJumpOutOfRange) {
  for (uint32_t Target : {9u, 10u, 0xffffffffu}) {
    Module M = baseModule();
    M.Code[0].Y = Target;
    Bytes B = serialize(M);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 0) + 8);
  }
  // A valued lookup's x is unused but must still be a valid target.
  Module M = baseModule();
  M.Code[4].X = 100;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 4) + 4);
}

TEST(Verifier, RejectsBranchAsLastInstruction) {
  Module M = baseModule();
  M.Code.push_back(Insn::brBool(IPEVM_PROP_HAS_FILE, 9, 9));
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_JUMP, insnAt(B, 9) + 4);
}

TEST(Verifier, RejectsBadProp) {
  // A boolean branch on a digest or unknown property.
  for (uint8_t Prop : {uint8_t(IPEVM_PROP_FSVERITY_DIGEST),
                       uint8_t(IPEVM_PROP_DMVERITY_ROOTHASH),
                       uint8_t(IPEVM_PROP_COUNT), uint8_t(0xff)}) {
    Module M = baseModule();
    M.Code[0].A = Prop;
    Bytes B = serialize(M);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_PROP, insnAt(B, 0) + 1);
  }
  // A lookup of a boolean or unknown property.
  for (uint8_t Prop : {uint8_t(IPEVM_PROP_BOOT_VERIFIED),
                       uint8_t(IPEVM_PROP_DMVERITY_SIGNATURE),
                       uint8_t(IPEVM_PROP_COUNT), uint8_t(0x80)}) {
    Module M = baseModule();
    M.Code[2].A = Prop;
    Bytes B = serialize(M);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_PROP, insnAt(B, 2) + 1);
  }
}

TEST(Verifier, RejectsBadOperands) {
  Module M = baseModule();
  M.Code[0].B = 1; // br_bool b must be 0
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 0) + 2);

  M = baseModule();
  M.Code[1].A = 1; // decide a must be 0
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 1) + 1);

  M = baseModule();
  M.Code[1].Y = 2; // decide y must be 0
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 1) + 8);

  for (uint16_t Flag = 0x10; Flag; Flag <<= 1) { // unknown decision flags
    M = baseModule();
    M.Code[1].B |= Flag;
    B = serialize(M);
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 1) + 2);
  }

  M = baseModule();
  M.Code[1].B |= 3 << IPEVM_DF_ORIGIN_SHIFT; // origin 3
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 1) + 2);

  M = baseModule();
  M.Code[7].X = 1; // a default names no rule
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 7) + 4);
  M = baseModule();
  M.Code[8].X = 1;
  B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_OPERAND, insnAt(B, 8) + 4);
}

TEST(Verifier, RejectsBadRuleId) {
  Module M = baseModule();
  M.Code[6].X = 4; // rule_count is 4
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_RULE, insnAt(B, 6) + 4);

  M = baseModule();
  M.RuleCount = 0;
  M.SourceMap.clear();
  B = serialize(M);
  EXPECT_REJECT(B, IPEVM_E_BAD_RULE);
}

TEST(Verifier, AcceptsDecisionFlagsCombinations) {
  for (bool Allow : {false, true})
    for (bool Audit : {false, true}) {
      Module M = baseModule();
      M.Code[1] = Insn::decide(Allow, Audit, IPEVM_ORIGIN_RULE, 3);
      M.Code[7] = Insn::decide(Allow, Audit, IPEVM_ORIGIN_OP_DEFAULT, 0);
      EXPECT_ACCEPT(serialize(M));
    }
}

//===----------------------------------------------------------------------===//
// Tables
//===----------------------------------------------------------------------===//

TEST(Verifier, RejectsLookupOfMissingTable) {
  Module M = baseModule();
  M.Code[2].B = 2;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE, insnAt(B, 2) + 2);
}

TEST(Verifier, RejectsUnsortedTable) {
  Module M = baseModule();
  std::swap(M.Tables[0].Keys[1], M.Tables[0].Keys[2]);
  Bytes B = serialize(M);
  uint32_t Keys = get32(B, tableAt(B, 0) + offsetof(ipevm_table, keys_off));
  EXPECT_REJECT_AT(B, IPEVM_E_UNSORTED_TABLE,
                   sectionOffset(B, IPEVM_SEC_TABLES) + Keys + 2 * 32);
}

TEST(Verifier, RejectsDuplicateKey) {
  Module M = baseModule();
  M.Tables[0].Keys[1] = M.Tables[0].Keys[0];
  Bytes B = serialize(M);
  uint32_t Keys = get32(B, tableAt(B, 0) + offsetof(ipevm_table, keys_off));
  EXPECT_REJECT_AT(B, IPEVM_E_UNSORTED_TABLE,
                   sectionOffset(B, IPEVM_SEC_TABLES) + Keys + 32);
}

TEST(Verifier, KeyOrderIsUnsignedBytewise) {
  Module M = baseModule();
  Bytes Low(32, 0x7f), High(32, 0x7f);
  High[31] = 0x80; // 0x80 sorts after 0x7f (unsigned, as memcmp)
  M.Tables[0].Keys = {Low, High};
  EXPECT_ACCEPT(serialize(M));
  M.Tables[0].Keys = {High, Low};
  EXPECT_REJECT(serialize(M), IPEVM_E_UNSORTED_TABLE);
}

TEST(Verifier, RejectsOwnerMismatch) {
  Module M = baseModule();
  M.Tables[1].Owner = 2;
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE, insnAt(B, 4) + 2);
}

TEST(Verifier, RejectsValuedTableSharedByTwoLookups) {
  Module M = baseModule();
  M.Code[2].B = 1; // also use table 1 (owned by insn 4)
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
}

TEST(Verifier, AcceptsUnvaluedTableSharedByTwoLookups) {
  Module M = baseModule();
  M.Code[4] = Insn::lookup(IPEVM_PROP_DMVERITY_ROOTHASH, 0, 5, 7);
  M.Tables[1].Values.clear();
  EXPECT_ACCEPT(serialize(M));
}

TEST(Verifier, RejectsValuedTableNotUsedByItsOwner) {
  Module M = baseModule();
  Table T = M.Tables[1];
  T.Owner = 2; // insn 2 looks up table 0, not this one
  M.Tables.push_back(T);
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE,
                   tableAt(B, 2) + offsetof(ipevm_table, owner));
}

TEST(Verifier, RejectsBadTableValues) {
  for (uint32_t V : {0u, 3u, 4u, 9u, 0xffffffffu}) {
    Module M = baseModule();
    M.Tables[1].Values[1] = V;
    Bytes B = serialize(M);
    uint32_t Vals = get32(B, tableAt(B, 1) + offsetof(ipevm_table, vals_off));
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE,
                     sectionOffset(B, IPEVM_SEC_TABLES) + Vals + 4);
  }
  Module M = baseModule();
  M.Tables[1].Owner = 9; // owner past the code
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE,
                   tableAt(B, 1) + offsetof(ipevm_table, owner));
}

TEST(Verifier, RejectsBadTableShape) {
  Module M = baseModule();
  M.Tables[0].Keys.clear(); // count 0
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);

  M = baseModule();
  M.Tables[0].KeyLen = 0;
  M.Tables[0].Keys = {Bytes()};
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);

  M = baseModule();
  M.Tables[0].KeyLen = IPEVM_MAX_DIGEST + 1;
  M.Tables[0].Keys = {Bytes(IPEVM_MAX_DIGEST + 1, 1)};
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);

  M = baseModule();
  M.Tables[0].KeyLen = IPEVM_MAX_DIGEST;
  M.Tables[0].Keys = {Bytes(IPEVM_MAX_DIGEST, 1)};
  EXPECT_ACCEPT(serialize(M));

  M = baseModule();
  M.Tables[0].Alg = "";
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);

  M = baseModule();
  M.Tables[0].Alg = std::string(IPEVM_MAX_ALG_NAME + 1, 'a');
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);

  M = baseModule();
  M.Tables[0].Alg = std::string(IPEVM_MAX_ALG_NAME, 'a');
  EXPECT_ACCEPT(serialize(M));
}

TEST(Verifier, RejectsBadTableDescriptors) {
  auto Patched = [](size_t Field, uint32_t Table, auto Edit) {
    Bytes B = baseBytes();
    size_t At = tableAt(B, Table) + Field;
    put32(B, At, Edit(get32(B, At)));
    EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE, At);
  };
  size_t Alg = offsetof(ipevm_table, alg);
  size_t Keys = offsetof(ipevm_table, keys_off);
  size_t Vals = offsetof(ipevm_table, vals_off);
  size_t Owner = offsetof(ipevm_table, owner);
  size_t Flags = offsetof(ipevm_table, flags);
  Patched(Alg, 0, [](uint32_t) { return 0xfffffffeu; }); // alg off
  Patched(Keys, 0, [](uint32_t) { return 0xffffff00u; });
  uint32_t TablesSize =
      get32(baseBytes(), sectionEntry(baseBytes(), IPEVM_SEC_TABLES) + 8);
  // Table 1's two keys would run one byte past the section.
  Patched(Keys, 1, [&](uint32_t) { return TablesSize - 2 * 32 + 1; });
  Patched(Vals, 0, [](uint32_t) { return 8u; });  // unvalued: vals 0
  Patched(Owner, 0, [](uint32_t) { return 1u; }); // unvalued: owner 0
  Patched(Flags, 0, [](uint32_t) { return 2u; }); // unknown flag
  Patched(Flags, 1, [](uint32_t V) { return V | 0x100; });
  Patched(Vals, 1, [](uint32_t V) { return V - 2; }); // misaligned
  Patched(Vals, 1, [](uint32_t) { return 0xfffffffcu; });

  // Valued with no room for the values.
  Bytes B = baseBytes();
  size_t At = tableAt(B, 0);
  put32(B, At + Flags, IPEVM_TF_VALUED);
  put32(B, At + Vals, get32(B, sectionEntry(B, IPEVM_SEC_TABLES) + 8));
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE, At + Vals);
}

TEST(Verifier, RejectsBadTableCount) {
  for (uint32_t Count : {3u, 1000u, 0x08000000u, 0xffffffffu}) {
    Bytes B = baseBytes();
    size_t At = sectionOffset(B, IPEVM_SEC_TABLES);
    put32(B, At, Count);
    Verified V(B);
    EXPECT_EQ(V.Err, IPEVM_E_BAD_TABLE) << Count;
  }
  // Fewer tables than lookups need.
  Bytes B = baseBytes();
  size_t At = sectionOffset(B, IPEVM_SEC_TABLES);
  put32(B, At, 1);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_TABLE, insnAt(B, 4) + 2);
}

TEST(Verifier, RejectsTablesSectionWithoutCount) {
  Bytes B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  payloadOf(S, IPEVM_SEC_TABLES).resize(3);
  EXPECT_REJECT(container(B, S), IPEVM_E_BAD_TABLE);
}

TEST(Verifier, AcceptsNoTables) {
  Module M;
  M.Name = "empty";
  M.Code = {Insn::decide(true, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0)};
  Verified V(serialize(M));
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  EXPECT_EQ(V.Prog.table_count, 0u);
  EXPECT_EQ(V.Prog.props_used, 0u);
  EXPECT_EQ(V.Prog.max_cost, 1u);
  EXPECT_EQ(V.Prog.srcmap, nullptr);
}

//===----------------------------------------------------------------------===//
// Source map
//===----------------------------------------------------------------------===//

TEST(Verifier, AcceptsMissingSrcmap) {
  Module M = baseModule();
  M.SourceMap.clear();
  Verified V(serialize(M));
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  EXPECT_EQ(V.Prog.srcmap, nullptr);
  EXPECT_EQ(V.Prog.max_cost, 8u);
}

TEST(Verifier, RejectsWrongSrcmapSize) {
  Module M = baseModule();
  M.SourceMap.pop_back();
  Bytes B = serialize(M);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SRCMAP,
                   sectionEntry(B, IPEVM_SEC_SRCMAP) + 8);
  M = baseModule();
  M.SourceMap.push_back(M.SourceMap.back());
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_SRCMAP);

  B = baseBytes();
  std::vector<RawSection> S = sectionsOf(B);
  payloadOf(S, IPEVM_SEC_SRCMAP).push_back(0);
  EXPECT_REJECT(container(B, S), IPEVM_E_BAD_SRCMAP);
}

TEST(Verifier, RejectsSrcmapStringOutOfBounds) {
  Bytes B = baseBytes();
  size_t Entry = sectionOffset(B, IPEVM_SEC_SRCMAP) + 2 * IPEVM_SRCMAP_SIZE;
  size_t Text = Entry + offsetof(ipevm_srcmap, text);
  put32(B, Text + 4, 0xffffffffu);
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SRCMAP, Text);
  B = baseBytes();
  put32(B, Entry, 0x7fffffffu); // file
  EXPECT_REJECT_AT(B, IPEVM_E_BAD_SRCMAP, Entry);
}

//===----------------------------------------------------------------------===//
// Cost
//===----------------------------------------------------------------------===//

TEST(Verifier, EnforcesCostLimit) {
  Bytes B = baseBytes();
  for (uint32_t Limit : {1u, 4u, 7u}) {
    Verified V(B, Limit);
    EXPECT_EQ(V.Err, IPEVM_E_COST_LIMIT) << Limit;
    EXPECT_EQ(V.Diag.err, IPEVM_E_COST_LIMIT);
    // EXECUTE (cost 8) is the first operation over the limit.
    EXPECT_EQ(V.Diag.offset,
              sectionOffset(B, IPEVM_SEC_ENTRY) + 4 * IPEVM_OP_EXECUTE);
  }
  for (uint32_t Limit : {0u, 8u, 9u, 0xffffffffu}) {
    Verified V(B, Limit);
    EXPECT_EQ(V.Err, IPEVM_E_OK) << Limit;
  }
}

TEST(Verifier, CostCountsEveryProbeOfALargeTable) {
  // 1000 keys: a binary search makes at most 10 probes.
  Module M;
  M.Name = "big";
  M.RuleCount = 1;
  Table T;
  T.Alg = "sha256";
  T.KeyLen = 4;
  for (uint32_t I = 0; I < 1000; ++I)
    T.Keys.push_back(
        {uint8_t(I >> 24), uint8_t(I >> 16), uint8_t(I >> 8), uint8_t(I)});
  M.Tables = {T};
  M.Code = {Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 1, 2),
            Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
            Insn::decide(false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0)};
  M.Entry.fill(0);
  M.Entry[IPEVM_OP_POLICY] = 2;
  Verified V(serialize(M));
  ASSERT_EQ(V.Err, IPEVM_E_OK);
  EXPECT_EQ(V.Prog.op_cost[IPEVM_OP_EXECUTE], 1u + 10u + 1u);
  EXPECT_EQ(V.Prog.op_cost[IPEVM_OP_POLICY], 1u);
  EXPECT_EQ(V.Prog.max_cost, 12u);
}

TEST(Verifier, CostIsTheLongestPathOfAChain) {
  // A diamond chain: each branch's two targets are the next two insns, so the
  // number of paths doubles per level but the pass stays linear.
  Module M;
  M.Name = "chain";
  const uint32_t N = 2000;
  for (uint32_t I = 0; I + 2 < N; ++I)
    M.Code.push_back(Insn::brBool(I % 5, I + 1, I + 2));
  M.Code.push_back(Insn::decide(true, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0));
  M.Code.push_back(Insn::decide(false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0));
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    M.Entry[Op] = Op;
  Verified V(serialize(M));
  ASSERT_EQ(V.Err, IPEVM_E_OK);
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    EXPECT_EQ(V.Prog.op_cost[Op], N - 1 - Op);
  EXPECT_EQ(V.Prog.max_cost, N - 1);
  EXPECT_EQ(V.Prog.props_used, 0x1fu);
}

} // namespace

//===----------------------------------------------------------------------===//
// LOOKUP_RULE and rule tables
//===----------------------------------------------------------------------===//

namespace {

/// An execute event whose fs-verity digest is the sha256 D, every property
/// known.
ipevm_event execWithDigest(const Bytes &D) {
  ipevm_event E;
  std::memset(&E, 0, sizeof(E));
  E.op = IPEVM_OP_EXECUTE;
  E.have = ~0u;
  E.digest[0].alg = reinterpret_cast<const uint8_t *>("sha256");
  E.digest[0].alg_len = 6;
  E.digest[0].bytes = D.data();
  E.digest[0].len = 32;
  return E;
}

/// execute: LOOKUP_RULE over {0x10 -> rule 1, 0x20 -> rule 2}, miss -> @1.
Module ruleTableModule() {
  Module M;
  M.Name = "rules";
  M.RuleCount = 3;
  M.Code = {Insn::lookupRule(IPEVM_PROP_FSVERITY_DIGEST, 0, true, true, 1),
            Insn::decide(false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0)};
  M.Entry.fill(1);
  M.Entry[IPEVM_OP_EXECUTE] = 0;
  Table T;
  T.Alg = "sha256";
  T.KeyLen = 32;
  T.Keys = {key(0x10), key(0x20)};
  T.Values = {1, 2};
  T.Rules = true;
  T.Owner = 0;
  M.Tables = {T};
  return M;
}

} // namespace

TEST(VerifierRuleTable, AcceptsAndDecidesByRuleId) {
  Bytes B = serialize(ruleTableModule());
  Verified V(B);
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  // 1 + two probes for two keys, then the miss decision.
  EXPECT_EQ(V.Prog.op_cost[IPEVM_OP_EXECUTE], 4u);
  Bytes Hit = key(0x20), Miss = key(0x30);
  for (const Bytes *D : {&Hit, &Miss}) {
    ipevm_event E = execWithDigest(*D);
    ipevm_decision Out;
    ASSERT_EQ(ipevm_eval(&V.Prog, &E, &Out), IPEVM_E_OK);
    EXPECT_LE(Out.steps, V.Prog.op_cost[IPEVM_OP_EXECUTE]);
    if (D == &Hit) {
      EXPECT_TRUE(Out.allow);
      EXPECT_TRUE(Out.audit);
      EXPECT_EQ(Out.origin, IPEVM_ORIGIN_RULE);
      EXPECT_EQ(Out.rule, 2u);
    } else {
      EXPECT_FALSE(Out.allow);
      EXPECT_EQ(Out.origin, IPEVM_ORIGIN_GLOBAL_DEFAULT);
    }
  }
}

TEST(VerifierRuleTable, RejectsRuleIdOutOfRange) {
  Module M = ruleTableModule();
  M.Tables[0].Values[1] = 3;
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
}

TEST(VerifierRuleTable, RejectsRuleTableUsedByPlainLookup) {
  Module M = ruleTableModule();
  M.Code[0] = Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 1, 1);
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
}

TEST(VerifierRuleTable, RejectsLookupRuleOverTargetTable) {
  Module M = ruleTableModule();
  M.Tables[0].Rules = false;
  M.Tables[0].Values = {1, 1};
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
}

TEST(VerifierRuleTable, RejectsOriginOrUnknownFlags) {
  for (uint32_t Flags :
       {uint32_t(IPEVM_ORIGIN_OP_DEFAULT << IPEVM_DF_ORIGIN_SHIFT), 0x10u,
        0x10000u}) {
    Module M = ruleTableModule();
    M.Code[0].X = Flags;
    EXPECT_REJECT(serialize(M), IPEVM_E_BAD_OPERAND);
  }
}

TEST(VerifierRuleTable, RejectsBackwardMiss) {
  Module M = ruleTableModule();
  M.Code[0].Y = 0;
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_JUMP);
}

TEST(VerifierRuleTable, RejectsBoolProperty) {
  Module M = ruleTableModule();
  M.Code[0].A = IPEVM_PROP_BOOT_VERIFIED;
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_PROP);
}

TEST(VerifierRuleTable, RejectsRulesFlagWithoutValues) {
  Module M = ruleTableModule();
  Bytes B = serialize(M);
  // Clear VALUED but keep RULES in the descriptor's flags (last field).
  size_t Flags = sectionOffset(B, IPEVM_SEC_TABLES) + 4 + 28;
  B[Flags] = IPEVM_TF_RULES;
  EXPECT_REJECT(B, IPEVM_E_BAD_TABLE);
}

/// The rule table with actions: 0x10 -> rule 1 deny audit, 0x20 -> rule 2
/// allow; the LOOKUP_RULE's own flags are 0.
Module actionTableModule() {
  Module M = ruleTableModule();
  M.Code[0] = Insn::lookupRule(IPEVM_PROP_FSVERITY_DIGEST, 0, false, false, 1);
  M.Tables[0].Actions = true;
  M.Tables[0].Values = {1u | (IPEVM_DF_AUDIT << IPEVM_RV_FLAGS_SHIFT),
                        2u | (IPEVM_DF_ALLOW << IPEVM_RV_FLAGS_SHIFT)};
  return M;
}

TEST(VerifierRuleTable, ActionsTableDecidesEachKeyWithItsAction) {
  Bytes B = serialize(actionTableModule());
  Verified V(B);
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  struct {
    uint8_t Key;
    bool Allow, Audit;
    uint8_t Origin;
    uint32_t Rule;
  } Cases[] = {{0x10, false, true, IPEVM_ORIGIN_RULE, 1},
               {0x20, true, false, IPEVM_ORIGIN_RULE, 2},
               {0x30, false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0}};
  for (const auto &C : Cases) {
    Bytes D = key(C.Key);
    ipevm_event E = execWithDigest(D);
    ipevm_decision Out;
    ASSERT_EQ(ipevm_eval(&V.Prog, &E, &Out), IPEVM_E_OK);
    EXPECT_EQ(Out.allow, C.Allow) << int(C.Key);
    EXPECT_EQ(Out.audit, C.Audit) << int(C.Key);
    EXPECT_EQ(Out.origin, C.Origin) << int(C.Key);
    EXPECT_EQ(Out.rule, C.Rule) << int(C.Key);
  }
}

TEST(VerifierRuleTable, ActionsTableRejectsBadActionsAndRules) {
  // An origin or unknown bit in a value's action.
  Module M = actionTableModule();
  M.Tables[0].Values[0] = 1u | (0x4u << IPEVM_RV_FLAGS_SHIFT);
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
  // A rule id out of range below the action bits.
  M = actionTableModule();
  M.Tables[0].Values[1] = 3u | (IPEVM_DF_ALLOW << IPEVM_RV_FLAGS_SHIFT);
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_TABLE);
  // The instruction must leave the action to the table.
  M = actionTableModule();
  M.Code[0].X = IPEVM_DF_ALLOW;
  EXPECT_REJECT(serialize(M), IPEVM_E_BAD_OPERAND);
  // ACTIONS needs RULES: on a target table it is refused.
  M = actionTableModule();
  Bytes B = serialize(M);
  size_t Flags = sectionOffset(B, IPEVM_SEC_TABLES) + 4 + 28;
  B[Flags] = IPEVM_TF_VALUED | IPEVM_TF_ACTIONS;
  EXPECT_REJECT(B, IPEVM_E_BAD_TABLE);
}

TEST(Verifier, EmbeddedSourceIsOptionalAndUnique) {
  Module M = baseModule();
  M.Source = "policy \"base\" version 1.2.3;\n";
  Bytes B = serialize(M);
  Verified V(B);
  ASSERT_EQ(V.Err, IPEVM_E_OK) << ipevm_strerror(V.Err);
  ASSERT_NE(V.Prog.source, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(V.Prog.source),
                        V.Prog.source_size),
            M.Source);
  EXPECT_EQ(Verified(baseBytes()).Prog.source, nullptr);

  std::vector<RawSection> S = sectionsOf(B);
  S.push_back(RawSection{IPEVM_SEC_SOURCE, {'x'}});
  EXPECT_REJECT(container(B, S), IPEVM_E_DUP_SECTION);
}
