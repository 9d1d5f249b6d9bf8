//===- CodeGen.cpp - Policy IR to ipevm bytecode --------------------------===//
//
// Conditions compile by short-circuit lowering: cond(E, T, F) yields a node
// that reaches T when E holds and F otherwise. Built from the last rule to the
// first, every node's successors exist before it does, so numbering nodes in
// reverse creation order makes every branch point forward, as the format
// requires.
//
//===----------------------------------------------------------------------===//

#include "ipec/CodeGen.h"

#include <map>
#include <tuple>

using namespace ipec;
using namespace ipec::ir;

namespace {

class Generator {
public:
  explicit Generator(const Policy &P) : P(P) {}
  bc::Module run(const CodeGenOptions &Opts);
  size_t tableCount() const { return Tables.size(); }

private:
  using NodeId = uint32_t;

  NodeId node(const bc::Insn &I);
  NodeId cond(const Expr &E, NodeId T, NodeId F);
  NodeId table(const Digest &D);
  NodeId decide(Action A, ipevm_origin Origin, uint32_t Rule) {
    return node(bc::Insn::decide(A.Allow, A.Audit, Origin, Rule));
  }

  const Policy &P;
  /// Nodes in creation order; branch operands are NodeIds.
  std::vector<bc::Insn> Nodes;
  std::map<std::tuple<uint8_t, uint8_t, uint16_t, uint32_t, uint32_t>, NodeId>
      Unique;
  std::vector<bc::Table> Tables;
  std::map<Digest, unsigned> TableOf;
};

} // namespace

Generator::NodeId Generator::node(const bc::Insn &I) {
  auto Key = std::make_tuple(I.Code, I.A, I.B, I.X, I.Y);
  auto [It, Inserted] = Unique.try_emplace(Key, NodeId(Nodes.size()));
  if (Inserted)
    Nodes.push_back(I);
  return It->second;
}

Generator::NodeId Generator::table(const Digest &D) {
  auto [It, Inserted] = TableOf.try_emplace(D, unsigned(Tables.size()));
  if (Inserted) {
    bc::Table T;
    T.Alg = D.Alg;
    T.KeyLen = uint32_t(D.Bytes.size());
    T.Keys.push_back(D.Bytes);
    Tables.push_back(std::move(T));
  }
  return It->second;
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
  case Expr::DigestEq:
    return node(bc::Insn::lookup(E.Prop, table(E.Value), T, F));
  }
  llvm_unreachable("bad expression kind");
}

bc::Module Generator::run(const CodeGenOptions &Opts) {
  std::array<NodeId, IPEVM_OP_COUNT> Entry;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    NodeId Next = P.PerOp[Op].Present
                      ? decide(P.PerOp[Op].Act, IPEVM_ORIGIN_OP_DEFAULT, 0)
                      : decide(P.Global.Act, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0);
    for (size_t R = P.Rules.size(); R-- > 0;) {
      const Rule &Rule = P.Rules[R];
      if (!(Rule.Ops & (1u << Op)))
        continue;
      Next = cond(Rule.Cond, decide(Rule.Act, IPEVM_ORIGIN_RULE, uint32_t(R)),
                  Next);
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
    Live[Nodes[I].X] = Live[Nodes[I].Y] = true;
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
    if (Insn.Code != IPEVM_DECIDE) {
      Insn.X = Index[Insn.X];
      Insn.Y = Index[Insn.Y];
    }
    M.Code.push_back(Insn);
  }
  // Drop tables no live instruction uses, renumbering the rest in order.
  std::vector<int> TableIndex(Tables.size(), -1);
  for (const bc::Insn &I : M.Code)
    if (I.Code == IPEVM_LOOKUP)
      TableIndex[I.B] = 0;
  unsigned NT = 0;
  for (size_t T = 0; T < Tables.size(); ++T)
    if (TableIndex[T] == 0) {
      TableIndex[T] = int(NT++);
      M.Tables.push_back(Tables[T]);
    }
  for (bc::Insn &I : M.Code)
    if (I.Code == IPEVM_LOOKUP)
      I.B = uint16_t(TableIndex[I.B]);

  if (Opts.EmitSourceMap)
    for (const Rule &R : P.Rules)
      M.SourceMap.push_back({R.Loc.File, R.Loc.Line, R.Loc.Column, R.Text});
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
