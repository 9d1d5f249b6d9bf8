//===- Decompiler.cpp - Verified bytecode back to IPL ---------------------===//
//
// Every path from an operation's entry to a decision becomes one rule whose
// condition is the conjunction of the tests on the path. Paths of one DAG
// are mutually exclusive (each event follows exactly one), so the rules mean
// exactly what the code means in any order; rules with the same action and
// condition are merged across operations. Works from the bytes alone.
//
//===----------------------------------------------------------------------===//

#include "ipec/Decompiler.h"
#include "ipec/Artifact.h"
#include "ipec/IR/Policy.h"

#include <map>

using namespace ipec;
using namespace llvm;

namespace {

struct TableView {
  std::string Alg;
  uint32_t KeyLen, Count, KeysOff, ValsOff, Flags;
};

class Decompiler {
public:
  explicit Decompiler(const ipevm_prog &P) : P(P) {}
  Expected<ir::Policy> run(size_t MaxRules);

private:
  TableView table(unsigned I) const;
  std::vector<ir::Digest> keys(const TableView &T,
                               std::optional<uint32_t> Value = {}) const;
  Error walk(unsigned Op, uint32_t Pc, std::vector<ir::Expr> &Path);
  void emit(unsigned Op, ir::Action A, ipevm_origin Origin,
            const std::vector<ir::Expr> &Path);

  const ipevm_prog &P;
  size_t MaxRules = 0;
  /// (action, audit, condition text) -> rule index, to merge operations.
  std::map<std::tuple<bool, bool, std::string>, size_t> RuleIndex;
  ir::Policy Out;
};

} // namespace

TableView Decompiler::table(unsigned I) const {
  const uint8_t *D = P.tables + 4 + size_t(I) * IPEVM_TABLE_SIZE;
  return {std::string(reinterpret_cast<const char *>(P.strtab) +
                          ipevm_rd32(D),
                      ipevm_rd32(D + 4)),
          ipevm_rd32(D + 8),  ipevm_rd32(D + 12), ipevm_rd32(D + 16),
          ipevm_rd32(D + 20), ipevm_rd32(D + 28)};
}

/// The keys of T, or only those whose value is Value.
std::vector<ir::Digest> Decompiler::keys(const TableView &T,
                                         std::optional<uint32_t> Value) const {
  std::vector<ir::Digest> Out;
  for (uint32_t K = 0; K < T.Count; ++K) {
    if (Value && ipevm_rd32(P.tables + T.ValsOff + 4 * K) != *Value)
      continue;
    const uint8_t *Key = P.tables + T.KeysOff + size_t(K) * T.KeyLen;
    Out.push_back({T.Alg, std::vector<uint8_t>(Key, Key + T.KeyLen)});
  }
  return Out;
}

void Decompiler::emit(unsigned Op, ir::Action A, ipevm_origin Origin,
                      const std::vector<ir::Expr> &Path) {
  if (Origin != IPEVM_ORIGIN_RULE) {
    // A default is reached when no rule matched; its path is the negation of
    // every rule, so it needs no condition of its own.
    ir::Default &D = Origin == IPEVM_ORIGIN_GLOBAL_DEFAULT ? Out.Global
                                                           : Out.PerOp[Op];
    D.Present = true;
    D.Act = A;
    return;
  }
  ir::Expr Cond = ir::Expr::constant(true);
  for (const ir::Expr &E : Path)
    Cond = Cond.K == ir::Expr::True ? E : ir::Expr::makeAnd(Cond, E);
  std::string Text;
  raw_string_ostream OS(Text);
  ir::print(Cond, OS);
  OS.flush();
  auto [It, New] = RuleIndex.try_emplace({A.Allow, A.Audit, Text},
                                         Out.Rules.size());
  if (New) {
    ir::Rule R;
    R.Act = A;
    R.Cond = std::move(Cond);
    Out.Rules.push_back(std::move(R));
  }
  Out.Rules[It->second].Ops |= 1u << Op;
}

Error Decompiler::walk(unsigned Op, uint32_t Pc, std::vector<ir::Expr> &Path) {
  if (Out.Rules.size() > MaxRules)
    return createStringError(std::errc::value_too_large,
                             "more than %zu rules; the decision graph has too "
                             "many paths to print",
                             MaxRules);
  const uint8_t *In = P.code + size_t(Pc) * IPEVM_INSN_SIZE;
  unsigned Prop = In[1];
  uint16_t B = ipevm_rd16(In + 2);
  uint32_t X = ipevm_rd32(In + 4), Y = ipevm_rd32(In + 8);
  switch (In[0]) {
  case IPEVM_DECIDE:
    emit(Op, {bool(B & IPEVM_DF_ALLOW), bool(B & IPEVM_DF_AUDIT)},
         ipevm_origin((B & IPEVM_DF_ORIGIN_MASK) >> IPEVM_DF_ORIGIN_SHIFT),
         Path);
    return Error::success();
  case IPEVM_BR_BOOL: {
    Path.push_back(ir::Expr::boolProp(Prop));
    if (Error E = walk(Op, X, Path))
      return E;
    Path.back() = ir::Expr::makeNot(ir::Expr::boolProp(Prop));
    Error E = walk(Op, Y, Path);
    Path.pop_back();
    return E;
  }
  case IPEVM_LOOKUP:
  case IPEVM_LOOKUP_RULE: {
    TableView T = table(B);
    ir::Expr Member = ir::Expr::digestIn(Prop, keys(T));
    if (In[0] == IPEVM_LOOKUP_RULE) {
      // Each rule id of the table is a rule of its own.
      std::map<uint32_t, bool> Ids;
      for (uint32_t K = 0; K < T.Count; ++K)
        Ids[ipevm_rd32(P.tables + T.ValsOff + 4 * K)] = true;
      for (auto &[Id, Unused] : Ids) {
        (void)Unused;
        Path.push_back(ir::Expr::digestIn(Prop, keys(T, Id)));
        uint32_t Flags =
            (T.Flags & IPEVM_TF_ACTIONS) ? Id >> IPEVM_RV_FLAGS_SHIFT : X;
        emit(Op, {bool(Flags & IPEVM_DF_ALLOW), bool(Flags & IPEVM_DF_AUDIT)},
             IPEVM_ORIGIN_RULE, Path);
        Path.pop_back();
      }
    } else if (T.Flags & IPEVM_TF_VALUED) {
      std::map<uint32_t, bool> Targets;
      for (uint32_t K = 0; K < T.Count; ++K)
        Targets[ipevm_rd32(P.tables + T.ValsOff + 4 * K)] = true;
      for (auto &[Target, Unused] : Targets) {
        (void)Unused;
        Path.push_back(ir::Expr::digestIn(Prop, keys(T, Target)));
        if (Error E = walk(Op, Target, Path))
          return E;
        Path.pop_back();
      }
    } else {
      Path.push_back(Member);
      if (Error E = walk(Op, X, Path))
        return E;
      Path.pop_back();
    }
    Path.push_back(ir::Expr::makeNot(std::move(Member)));
    Error E = walk(Op, Y, Path);
    Path.pop_back();
    return E;
  }
  }
  return createStringError(std::errc::bad_message, "unknown opcode %u",
                           unsigned(In[0]));
}

Expected<ir::Policy> Decompiler::run(size_t Max) {
  MaxRules = Max;
  Out.Name = policyName(P);
  Out.Version = {P.version[0], P.version[1], P.version[2]};
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    std::vector<ir::Expr> Path;
    if (Error E = walk(Op, ipevm_rd32(P.entry + 4 * Op), Path))
      return E;
  }
  // The global default must be spelled out when an operation has no
  // default of its own and never reaches one (every path decides by rule).
  bool AllPerOp = true;
  for (const ir::Default &D : Out.PerOp)
    AllPerOp &= D.Present;
  if (!Out.Global.Present && !AllPerOp)
    Out.Global = {true, {false, false}, {}};
  return std::move(Out);
}

Expected<ir::Policy> ipec::decompile(const ipevm_prog &P, size_t MaxRules) {
  return Decompiler(P).run(MaxRules);
}
