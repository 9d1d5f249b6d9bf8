//===- fuzz_verifier.cpp - Untrusted bytes into ipevm_verify/ipevm_eval ---===//
//
// The kernel hands ipevm_verify() whatever a (signed) policy blob contains,
// then runs ipevm_eval() on every exec and mmap. This fuzzer feeds arbitrary
// bytes to the verifier and, when it accepts them, evaluates events derived
// from the input and traps unless every promise of ipevm.h holds:
//
//   - ipevm_verify never reads or writes out of bounds (ASan: the artifact
//     and the scratch buffer are exactly sized heap blocks), accepts with an
//     exactly sized scratch buffer, refuses a smaller one, and its cost bound
//     is tight: the same bytes are refused one below max_cost;
//   - ipevm_eval decides every operation within prog.op_cost[op] steps,
//     names a rule below rule_count, refuses an unknown operation, and never
//     writes to the program (hashed before and after);
//   - the lazy fetch callback is called only for a property the program
//     tests and the event lacks, at most once per property, and a lazily
//     filled event decides exactly as the same event filled up front;
//   - a property the event does not know reads as false or absent, and a
//     failing fetch aborts the evaluation or was never needed.
//
// Events are derived from a hash of the input, and their digests mostly from
// the program's own tables, so lookups hit as well as miss.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipevm.h"

#include <array>
#include <cstdint>

#include "FuzzSupport.h"
#include <cstring>
#include <vector>

using namespace ipec::fuzz;

namespace {

constexpr uint32_t AllProps = (1u << IPEVM_PROP_COUNT) - 1;

/// One digest fact. Bytes and Alg point into the program or into Own.
struct DigestFact {
  bool Present = false;
  const uint8_t *Alg = nullptr;
  uint32_t AlgLen = 0;
  const uint8_t *Bytes = nullptr;
  uint32_t Len = 0;
  std::array<uint8_t, IPEVM_MAX_DIGEST + 1> Own{};
};

/// The truth about an event, from which every variant below is built.
struct Facts {
  uint32_t Op = 0;
  uint32_t Bools = 0;
  std::array<DigestFact, IPEVM_DIGEST_PROPS> Digests;
};

const uint8_t Sha256[] = {'s', 'h', 'a', '2', '5', '6'};

/// A table of P, read through the format's accessors.
struct TableView {
  const uint8_t *Alg;
  uint32_t AlgLen, KeyLen, Count;
  const uint8_t *Keys;
};

TableView tableAt(const ipevm_prog &P, uint32_t T) {
  const uint8_t *D = P.tables + 4 + T * IPEVM_TABLE_SIZE;
  TableView V;
  V.Alg = P.strtab + ipevm_rd32(D + offsetof(ipevm_table, alg) +
                                offsetof(ipevm_str, off));
  V.AlgLen = ipevm_rd32(D + offsetof(ipevm_table, alg) +
                        offsetof(ipevm_str, len));
  V.KeyLen = ipevm_rd32(D + offsetof(ipevm_table, key_len));
  V.Count = ipevm_rd32(D + offsetof(ipevm_table, count));
  V.Keys = P.tables + ipevm_rd32(D + offsetof(ipevm_table, keys_off));
  return V;
}

/// A digest for an event: usually a key of one of the program's tables
/// (sometimes altered so that it narrowly misses), else random or absent.
void makeDigest(const ipevm_prog &P, Rng &R, DigestFact &D) {
  D = DigestFact();
  unsigned Kind = R.below(10);
  if (Kind == 0)
    return; // absent
  D.Present = true;
  if (P.table_count == 0 || Kind == 1) {
    D.Alg = Sha256;
    D.AlgLen = sizeof(Sha256);
    D.Len = R.chance(80) ? 32 : R.below(IPEVM_MAX_DIGEST + 1);
    for (uint32_t I = 0; I < D.Len; ++I)
      D.Own[I] = uint8_t(R.next());
    D.Bytes = D.Own.data();
    return;
  }
  TableView T = tableAt(P, R.below(P.table_count));
  const uint8_t *Key = T.Keys + size_t(R.below(T.Count)) * T.KeyLen;
  D.Alg = T.Alg;
  D.AlgLen = T.AlgLen;
  D.Len = T.KeyLen;
  D.Bytes = Key;
  switch (Kind) {
  case 2: // same bytes, one bit off
    std::memcpy(D.Own.data(), Key, T.KeyLen);
    D.Own[R.below(T.KeyLen)] ^= uint8_t(1u << R.below(8));
    D.Bytes = D.Own.data();
    break;
  case 3: // a prefix or one byte more
    std::memcpy(D.Own.data(), Key, T.KeyLen);
    D.Len = R.chance(50) ? T.KeyLen - 1 : T.KeyLen + 1;
    D.Bytes = D.Own.data();
    break;
  case 4: // the key under another algorithm name
    D.Alg = Sha256;
    D.AlgLen = R.chance(50) ? sizeof(Sha256) : R.below(sizeof(Sha256));
    break;
  default: // a hit
    break;
  }
}

Facts makeFacts(const ipevm_prog &P, Rng &R, uint32_t Op) {
  Facts F;
  F.Op = Op;
  // Random bits, including ones above the properties: eval must ignore them.
  F.Bools = R.next();
  if (R.chance(20))
    F.Bools &= ~(1u << IPEVM_PROP_HAS_FILE);
  for (DigestFact &D : F.Digests)
    makeDigest(P, R, D);
  return F;
}

void fillDigest(ipevm_event &Ev, const Facts &F, uint32_t Prop) {
  const DigestFact &D = F.Digests[Prop - IPEVM_PROP_FIRST_DIGEST];
  ipevm_digest &Out = Ev.digest[Prop - IPEVM_PROP_FIRST_DIGEST];
  if (D.Present) {
    Out.alg = D.Alg;
    Out.alg_len = D.AlgLen;
    Out.bytes = D.Bytes;
    Out.len = D.Len;
  } else {
    Out = ipevm_digest{};
  }
}

/// Every property of F known up front, except those outside Known, which
/// read as false or absent.
ipevm_event eagerEvent(const Facts &F, uint32_t Known) {
  ipevm_event Ev{};
  Ev.op = F.Op;
  Ev.have = Known;
  Ev.bools = F.Bools & Known;
  for (uint32_t P = IPEVM_PROP_FIRST_DIGEST; P < IPEVM_PROP_COUNT; ++P)
    if (Known & (1u << P))
      fillDigest(Ev, F, P);
  return Ev;
}

/// The state a fetch callback sees through ev->ctx.
struct Lazy {
  const Facts *F;
  const ipevm_prog *Prog;
  uint32_t Calls[IPEVM_PROP_COUNT] = {};
  uint32_t FailProp = ~0u;    ///< fetch of this property fails
  uint32_t UnknownProp = ~0u; ///< fetch of this property leaves it unknown
};

int fetch(ipevm_event *Ev, u32 Prop) {
  auto *L = static_cast<Lazy *>(Ev->ctx);
  // Only a property the program tests and the event lacks, once.
  CHECK(Prop < IPEVM_PROP_COUNT);
  CHECK(L->Prog->props_used & (1u << Prop));
  CHECK(!(Ev->have & (1u << Prop)));
  CHECK(++L->Calls[Prop] == 1);
  if (Prop == L->FailProp)
    return -1;
  if (Prop == L->UnknownProp)
    return 0;
  // Fill the property, overwriting whatever stale value the event held.
  if (ipevm_prop_is_digest(Prop))
    fillDigest(*Ev, *L->F, Prop);
  else
    Ev->bools = (Ev->bools & ~(1u << Prop)) | (L->F->Bools & (1u << Prop));
  Ev->have |= 1u << Prop;
  return 0;
}

bool sameDecision(const ipevm_decision &A, const ipevm_decision &B) {
  return A.allow == B.allow && A.audit == B.audit && A.origin == B.origin &&
         A.rule == B.rule && A.steps == B.steps;
}

/// Evaluates Ev and checks what holds of every decision.
ipevm_err run(const ipevm_prog &P, ipevm_event &Ev, ipevm_decision &Out) {
  uint32_t Op = Ev.op;
  ipevm_err E = ipevm_eval(&P, &Ev, &Out);
  CHECK(E == IPEVM_E_OK || E == IPEVM_E_FETCH);
  CHECK(Ev.op == Op);
  if (E != IPEVM_E_OK) {
    CHECK(!Out.allow); // an error leaves a deny behind
    return E;
  }
  CHECK(Out.steps >= 1 && Out.steps <= P.op_cost[Op]);
  switch (Out.origin) {
  case IPEVM_ORIGIN_RULE:
    CHECK(Out.rule < P.rule_count);
    break;
  case IPEVM_ORIGIN_OP_DEFAULT:
  case IPEVM_ORIGIN_GLOBAL_DEFAULT:
    CHECK(Out.rule == 0);
    break;
  default:
    CHECK(false);
  }
  return E;
}

/// Decides the event F in every way the API allows; all must agree.
void checkEvent(const ipevm_prog &P, const Facts &F, Rng &R) {
  // Everything known up front: the reference decision.
  ipevm_event Eager = eagerEvent(F, AllProps);
  ipevm_decision Want{};
  CHECK(run(P, Eager, Want) == IPEVM_E_OK);
  CHECK(Eager.have == AllProps); // no fetch: the event is not changed

  // Nothing known, everything fetched lazily: the same decision.
  {
    Lazy L{&F, &P};
    ipevm_event Ev = eagerEvent(F, 0);
    Ev.fetch = fetch;
    Ev.ctx = &L;
    ipevm_decision Got{};
    CHECK(run(P, Ev, Got) == IPEVM_E_OK);
    CHECK(sameDecision(Got, Want));
  }

  // Some properties known, the rest fetched; stale bits in bools and in the
  // digests of unknown properties must be ignored.
  {
    Lazy L{&F, &P};
    uint32_t Known = R.next() & AllProps;
    ipevm_event Ev = eagerEvent(F, Known);
    Ev.bools |= R.next() & ~Known;
    Ev.fetch = fetch;
    Ev.ctx = &L;
    ipevm_decision Got{};
    CHECK(run(P, Ev, Got) == IPEVM_E_OK);
    CHECK(sameDecision(Got, Want));
    for (uint32_t Prop = 0; Prop < IPEVM_PROP_COUNT; ++Prop)
      if (Known & (1u << Prop))
        CHECK(L.Calls[Prop] == 0);
  }

  // Some properties unknown and no fetch: they read as false or absent.
  {
    uint32_t Known = R.next() & AllProps;
    Facts Masked = F;
    Masked.Bools &= Known;
    for (uint32_t Prop = IPEVM_PROP_FIRST_DIGEST; Prop < IPEVM_PROP_COUNT;
         ++Prop)
      if (!(Known & (1u << Prop)))
        Masked.Digests[Prop - IPEVM_PROP_FIRST_DIGEST].Present = false;
    ipevm_event Ref = eagerEvent(Masked, AllProps);
    ipevm_decision RefD{};
    CHECK(run(P, Ref, RefD) == IPEVM_E_OK);

    ipevm_event Ev = eagerEvent(F, Known);
    Ev.bools |= R.next() & ~Known;
    for (uint32_t Prop = IPEVM_PROP_FIRST_DIGEST; Prop < IPEVM_PROP_COUNT;
         ++Prop)
      if (!(Known & (1u << Prop)))
        fillDigest(Ev, F, Prop); // present but not known: ignored
    ipevm_decision Got{};
    CHECK(run(P, Ev, Got) == IPEVM_E_OK);
    CHECK(sameDecision(Got, RefD));

    // A fetch that leaves a property unknown is the same as not knowing it.
    uint32_t Prop = R.below(IPEVM_PROP_COUNT);
    Facts Without = F;
    if (ipevm_prop_is_digest(Prop))
      Without.Digests[Prop - IPEVM_PROP_FIRST_DIGEST].Present = false;
    else
      Without.Bools &= ~(1u << Prop);
    ipevm_event WRef = eagerEvent(Without, AllProps);
    ipevm_decision WantW{};
    CHECK(run(P, WRef, WantW) == IPEVM_E_OK);
    Lazy L{&F, &P};
    L.UnknownProp = Prop;
    ipevm_event WEv = eagerEvent(F, 0);
    WEv.fetch = fetch;
    WEv.ctx = &L;
    CHECK(run(P, WEv, Got) == IPEVM_E_OK);
    CHECK(sameDecision(Got, WantW));
  }

  // A failing fetch aborts, unless the property was never needed.
  {
    Lazy L{&F, &P};
    L.FailProp = R.below(IPEVM_PROP_COUNT);
    ipevm_event Ev = eagerEvent(F, 0);
    Ev.fetch = fetch;
    Ev.ctx = &L;
    ipevm_decision Got{};
    if (run(P, Ev, Got) == IPEVM_E_OK) {
      CHECK(L.Calls[L.FailProp] == 0);
      CHECK(sameDecision(Got, Want));
    } else {
      CHECK(L.Calls[L.FailProp] == 1);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size > (1u << 24))
    return 0;
  // Exactly sized copies, so that ASan sees any read past the end.
  std::vector<uint8_t> Buf(Data, Data + Size);
  const uint64_t Before = fnv1a(Buf.data(), Buf.size());
  uint32_t Len = uint32_t(Size);
  std::vector<uint32_t> Scratch(IPEVM_VERIFY_SCRATCH_WORDS(Len));
  ipevm_prog P{};
  ipevm_diag Diag{};
  ipevm_err E = ipevm_verify(Buf.data(), Len, ipec::DefaultCostLimit,
                             Scratch.data(), uint32_t(Scratch.size()), &P,
                             &Diag);
  CHECK(E < IPEVM_E_COUNT && Diag.err == E);
  CHECK(E == IPEVM_E_OK || Diag.offset <= Len);
  if (E != IPEVM_E_OK)
    return 0;

  // What verification promises about the program.
  CHECK(P.base == Buf.data() && P.size == Len);
  CHECK(P.insn_count >= 1 && P.max_cost <= ipec::DefaultCostLimit);
  uint32_t Max = 0;
  for (uint32_t C : P.op_cost) {
    CHECK(C >= 1);
    Max = C > Max ? C : Max;
  }
  CHECK(Max == P.max_cost);
  CHECK(!(P.props_used & ~AllProps));

  // An exactly sized scratch buffer suffices, a smaller one is refused, the
  // cost bound is tight, and verification is deterministic.
  {
    std::vector<uint32_t> Exact(P.insn_count);
    ipevm_prog Q{};
    CHECK(ipevm_verify(Buf.data(), Len, P.max_cost, Exact.data(),
                       uint32_t(Exact.size()), &Q, nullptr) == IPEVM_E_OK);
    CHECK(std::memcmp(&P, &Q, sizeof(P)) == 0);
    std::vector<uint32_t> Short(P.insn_count - 1);
    CHECK(ipevm_verify(Buf.data(), Len, 0, Short.data(),
                       uint32_t(Short.size()), &Q,
                       nullptr) == IPEVM_E_SCRATCH);
    if (P.max_cost > 1)
      CHECK(ipevm_verify(Buf.data(), Len, P.max_cost - 1, Scratch.data(),
                         uint32_t(Scratch.size()), &Q,
                         nullptr) == IPEVM_E_COST_LIMIT);
  }

  ipevm_prog Saved;
  std::memcpy(&Saved, &P, sizeof(P));
  Rng R(fnv1a(Data, Size));
  ipevm_decision D{};
  for (uint32_t Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    for (unsigned I = 0; I < 4; ++I)
      checkEvent(P, makeFacts(P, R, Op), R);
  for (uint32_t Op : {uint32_t(IPEVM_OP_COUNT), ~0u}) {
    ipevm_event Ev{};
    Ev.op = Op;
    CHECK(ipevm_eval(&P, &Ev, &D) == IPEVM_E_BAD_OP && !D.allow);
  }
  // Neither ipevm_verify nor ipevm_eval writes to the artifact, and
  // ipevm_eval leaves the program's description alone.
  CHECK(fnv1a(Buf.data(), Buf.size()) == Before);
  CHECK(std::memcmp(&Saved, &P, sizeof(P)) == 0);
  return 0;
}
