//===- CodeGen.cpp - Policy IR to ipevm bytecode --------------------------===//
//
// Conditions compile by short-circuit lowering: cond(E, T, F) yields a node
// that reaches T when E holds and F otherwise. Built from the last rule to the
// first, every node's successors exist before it does, so numbering nodes in
// reverse creation order makes every branch point forward, as the format
// requires.
//
// Digest sets become sorted lookup tables (one per algorithm and length), so
// a membership test costs a binary search, not a scan. A run of consecutive
// rules whose whole condition is membership of the same digest property (an
// allow-list of thousands of per-file digests, as upstream IPE policies are
// written) becomes LOOKUP_RULE instructions over rule tables: one binary
// search decides for the whole run and still names the rule that matched.
//
//===----------------------------------------------------------------------===//

#include "ipec/CodeGen.h"

#include <map>
#include <optional>
#include <tuple>

using namespace ipec;
using namespace ipec::ir;

namespace {

/// Digests that share a table: same algorithm, same length.
using TableKey = std::pair<std::string, size_t>;

class Generator {
public:
  explicit Generator(const Policy &P) : P(P) {}
  bc::Module run(const CodeGenOptions &Opts);
  size_t tableCount() const { return Tables.size(); }

private:
  using NodeId = uint32_t;

  NodeId node(const bc::Insn &I);
  NodeId cond(const Expr &E, NodeId T, NodeId F);
  NodeId digestIn(unsigned Prop, const std::vector<Digest> &Set, NodeId T,
                  NodeId F);
  unsigned setTable(const std::vector<Digest> &Keys);
  NodeId ruleRun(unsigned Prop, llvm::ArrayRef<uint32_t> Rules, NodeId Miss);
  NodeId decide(Action A, ipevm_origin Origin, uint32_t Rule) {
    return node(bc::Insn::decide(A.Allow, A.Audit, Origin, Rule));
  }
  /// A rule that decides when Guard holds and digest Member->Prop is in
  /// Member->Set: its condition is the membership, or a conjunction that
  /// ends with it. Such rules with equal guards merge into rule tables.
  struct DigestRule {
    Expr Guard;
    const Expr *Member;
  };
  static std::optional<DigestRule> digestRule(const Rule &R) {
    if (R.Cond.K == Expr::DigestIn)
      return DigestRule{Expr::constant(true), &R.Cond};
    if (R.Cond.K != Expr::And || R.Cond.Ops.back().K != Expr::DigestIn)
      return std::nullopt;
    Expr Guard = R.Cond.Ops[0];
    for (size_t I = 1; I + 1 < R.Cond.Ops.size(); ++I)
      Guard = Expr::makeAnd(std::move(Guard), R.Cond.Ops[I]);
    return DigestRule{std::move(Guard), &R.Cond.Ops.back()};
  }
  static bool sameExpr(const Expr &A, const Expr &B) {
    if (A.K != B.K || A.Prop != B.Prop || A.Set != B.Set ||
        A.Ops.size() != B.Ops.size())
      return false;
    for (size_t I = 0; I < A.Ops.size(); ++I)
      if (!sameExpr(A.Ops[I], B.Ops[I]))
        return false;
    return true;
  }

  const Policy &P;
  /// Nodes in creation order; branch operands are NodeIds.
  std::vector<bc::Insn> Nodes;
  std::map<std::tuple<uint8_t, uint8_t, uint16_t, uint32_t, uint32_t>, NodeId>
      Unique;
  std::vector<bc::Table> Tables;
  std::map<std::vector<Digest>, unsigned> SetTables;
  /// Rule runs already emitted: operations with the same run (exec_any
  /// rules) share its instructions and tables.
  std::map<std::tuple<unsigned, std::vector<uint32_t>, NodeId>, NodeId> Runs;
};

} // namespace

Generator::NodeId Generator::node(const bc::Insn &I) {
  auto Key = std::make_tuple(I.Code, I.A, I.B, I.X, I.Y);
  auto [It, Inserted] = Unique.try_emplace(Key, NodeId(Nodes.size()));
  if (Inserted)
    Nodes.push_back(I);
  return It->second;
}

/// Keys must be sorted, unique and of one algorithm and length. Identical
/// sets share one table.
unsigned Generator::setTable(const std::vector<Digest> &Keys) {
  auto [It, Inserted] = SetTables.try_emplace(Keys, unsigned(Tables.size()));
  if (Inserted) {
    bc::Table T;
    T.Alg = Keys[0].Alg;
    T.KeyLen = uint32_t(Keys[0].Bytes.size());
    for (const Digest &D : Keys)
      T.Keys.push_back(D.Bytes);
    Tables.push_back(std::move(T));
  }
  return It->second;
}

Generator::NodeId Generator::digestIn(unsigned Prop,
                                      const std::vector<Digest> &Set,
                                      NodeId T, NodeId F) {
  // One table per (algorithm, length); an event's digest can be in at most
  // one of them, so their order does not matter.
  std::map<TableKey, std::vector<Digest>> Groups;
  for (const Digest &D : Set)
    Groups[{D.Alg, D.Bytes.size()}].push_back(D);
  NodeId Next = F;
  for (auto It = Groups.rbegin(); It != Groups.rend(); ++It)
    Next = node(bc::Insn::lookup(Prop, setTable(It->second), T, Next));
  return Next;
}

Generator::NodeId Generator::cond(const Expr &E, NodeId T, NodeId F) {
  if (T == F)
    return T;
  switch (E.K) {
  case Expr::True:
    return T;
  case Expr::False:
    return F;
  case Expr::Not:
    return cond(E.Ops[0], F, T);
  case Expr::And: {
    NodeId Next = T;
    for (size_t I = E.Ops.size(); I-- > 0;)
      Next = cond(E.Ops[I], Next, F);
    return Next;
  }
  case Expr::Or: {
    NodeId Next = F;
    for (size_t I = E.Ops.size(); I-- > 0;)
      Next = cond(E.Ops[I], T, Next);
    return Next;
  }
  case Expr::BoolProp:
    return node(bc::Insn::brBool(E.Prop, T, F));
  case Expr::DigestIn:
    return digestIn(E.Prop, E.Set, T, F);
  }
  llvm_unreachable("bad expression kind");
}

/// Rules (ids, in source order) each decide when digest Prop is in their set.
/// A digest decides by the first rule that lists it; keys are split into
/// rule tables by algorithm, length and that rule's action.
Generator::NodeId Generator::ruleRun(unsigned Prop,
                                     llvm::ArrayRef<uint32_t> Rules,
                                     NodeId Miss) {
  auto Key = std::make_tuple(Prop, Rules.vec(), Miss);
  if (auto It = Runs.find(Key); It != Runs.end())
    return It->second;
  std::map<Digest, uint32_t> Winner;
  for (uint32_t R : Rules)
    for (const Digest &D : digestRule(P.Rules[R])->Member->Set)
      Winner.try_emplace(D, R);
  using GroupKey = std::tuple<std::string, size_t, bool, bool>;
  std::map<GroupKey, std::vector<std::pair<Digest, uint32_t>>> Groups;
  for (auto &[D, R] : Winner) {
    const Action &A = P.Rules[R].Act;
    Groups[{D.Alg, D.Bytes.size(), A.Allow, A.Audit}].push_back({D, R});
  }
  NodeId Next = Miss;
  for (auto It = Groups.rbegin(); It != Groups.rend(); ++It) {
    bc::Table T;
    T.Alg = std::get<0>(It->first);
    T.KeyLen = uint32_t(std::get<1>(It->first));
    T.Rules = true;
    for (auto &[D, R] : It->second) {
      T.Keys.push_back(D.Bytes);
      T.Values.push_back(R);
    }
    unsigned Index = unsigned(Tables.size());
    Tables.push_back(std::move(T));
    Next = node(bc::Insn::lookupRule(Prop, Index, std::get<2>(It->first),
                                     std::get<3>(It->first), Next));
  }
  Runs[Key] = Next;
  return Next;
}

bc::Module Generator::run(const CodeGenOptions &Opts) {
  std::array<NodeId, IPEVM_OP_COUNT> Entry;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    NodeId Next = P.PerOp[Op].Present
                      ? decide(P.PerOp[Op].Act, IPEVM_ORIGIN_OP_DEFAULT, 0)
                      : decide(P.Global.Act, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0);
    std::vector<uint32_t> Applies;
    for (uint32_t R = 0; R < P.Rules.size(); ++R)
      if (P.Rules[R].Ops & (1u << Op))
        Applies.push_back(R);
    for (size_t I = Applies.size(); I-- > 0;) {
      const Rule &R = P.Rules[Applies[I]];
      // The run of digest rules with the same guard and property ending
      // here.
      size_t First = I;
      std::optional<DigestRule> Last = digestRule(R);
      if (Opts.MergeDigestRules && Last)
        while (First > 0) {
          auto Prev = digestRule(P.Rules[Applies[First - 1]]);
          if (!Prev || Prev->Member->Prop != Last->Member->Prop ||
              !sameExpr(Prev->Guard, Last->Guard))
            break;
          --First;
        }
      if (First < I) {
        std::vector<uint32_t> Run(Applies.begin() + First,
                                  Applies.begin() + I + 1);
        Next = cond(Last->Guard, ruleRun(Last->Member->Prop, Run, Next), Next);
        I = First;
        continue;
      }
      Next = cond(R.Cond, decide(R.Act, IPEVM_ORIGIN_RULE, Applies[I]), Next);
    }
    Entry[Op] = Next;
  }

  // Keep the nodes reachable from an entry, then number them so that every
  // node comes before its successors: descending creation order.
  std::vector<bool> Live(Nodes.size());
  for (NodeId E : Entry)
    Live[E] = true;
  for (size_t I = Nodes.size(); I-- > 0;) {
    if (!Live[I] || Nodes[I].Code == IPEVM_DECIDE)
      continue;
    if (Nodes[I].Code != IPEVM_LOOKUP_RULE)
      Live[Nodes[I].X] = true;
    Live[Nodes[I].Y] = true;
  }
  std::vector<uint32_t> Index(Nodes.size());
  uint32_t N = 0;
  for (size_t I = Nodes.size(); I-- > 0;)
    if (Live[I])
      Index[I] = N++;

  bc::Module M;
  M.Name = P.Name;
  M.Version = P.Version;
  M.RuleCount = uint32_t(P.Rules.size());
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    M.Entry[Op] = Index[Entry[Op]];
  for (size_t I = Nodes.size(); I-- > 0;) {
    if (!Live[I])
      continue;
    bc::Insn Insn = Nodes[I];
    if (Insn.Code == IPEVM_BR_BOOL || Insn.Code == IPEVM_LOOKUP)
      Insn.X = Index[Insn.X];
    if (Insn.Code != IPEVM_DECIDE)
      Insn.Y = Index[Insn.Y];
    M.Code.push_back(Insn);
  }
  // Keep the tables live instructions use, numbered in order of first use,
  // and give rule tables their owner.
  std::vector<int> TableIndex(Tables.size(), -1);
  for (uint32_t I = 0; I < M.Code.size(); ++I) {
    bc::Insn &In = M.Code[I];
    if (In.Code != IPEVM_LOOKUP && In.Code != IPEVM_LOOKUP_RULE)
      continue;
    int &T = TableIndex[In.B];
    if (T < 0) {
      T = int(M.Tables.size());
      M.Tables.push_back(std::move(Tables[In.B]));
    }
    In.B = uint16_t(T);
    if (In.Code == IPEVM_LOOKUP_RULE)
      M.Tables[In.B].Owner = I;
  }

  if (Opts.EmitSourceMap)
    for (const Rule &R : P.Rules)
      M.SourceMap.push_back({R.Loc.File, R.Loc.Line, R.Loc.Column, R.Text});
  if (Opts.EmbedSource) {
    llvm::raw_string_ostream OS(M.Source);
    print(P, OS);
  }
  return M;
}

llvm::Expected<bc::Module> ipec::generateCode(const Policy &P,
                                              const CodeGenOptions &Opts) {
  Generator G(P);
  bc::Module M = G.run(Opts);
  // LOOKUP names its table in 16 bits.
  if (G.tableCount() > 0xffff)
    return llvm::createStringError(
        std::errc::value_too_large,
        "policy needs %zu lookup tables; the format allows 65535",
        G.tableCount());
  return M;
}
