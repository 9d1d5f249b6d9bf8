//===- CodeGen.cpp - Policy IR to ipevm bytecode --------------------------===//
//
// After the policy passes (ir/Passes.h) the program is a decision graph:
// nodes are instructions whose successors are other nodes, hash-consed so
// that identical sub-graphs exist once, and created successors first, so a
// node's id is always larger than its successors' ids. Laying the live nodes
// out in descending id order therefore makes every branch point forward, as
// the format requires.
//
//   lower         Per operation, the rules that name it, from the last to
//                 the first, by short-circuit lowering: cond(E, T, F) is a
//                 node that reaches T when E holds and F otherwise. Digest
//                 memberships become sorted lookup tables, one per algorithm
//                 and length.
//   decision-dag  Specialises every node on what the path to it has already
//                 learnt: a boolean property tested once is never tested
//                 again below, and a digest lookup whose answer follows from
//                 earlier lookups (subset or disjoint sets) is skipped.
//   merge-tables  A chain of lookups of one digest property, each deciding
//                 for a rule on a hit and falling through to the next on a
//                 miss (an allow-list of thousands of per-file digests, as
//                 upstream IPE policies are written), becomes LOOKUP_RULE
//                 instructions over rule tables: one binary search decides
//                 for the whole run and still names the rule that matched.
//
//===----------------------------------------------------------------------===//

#include "ipec/CodeGen.h"
#include "ipec/Artifact.h"
#include "ipec/Disassembler.h"
#include "ipec/IR/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

using namespace ipec;
using namespace ipec::ir;

namespace {

const PassInfo Passes[] = {
    {"normalize", 1,
     "negations pushed to properties, and/or flattened, memberships of one "
     "property merged, operands in canonical order"},
    {"constfold", 1, "true and false propagated; x and not x folded"},
    {"dead-rules", 1,
     "rules (and digests) that earlier rules always decide first removed "
     "per operation"},
    {"lower", 0,
     "rules to a shared decision graph by short-circuit lowering; digest "
     "sets to sorted tables"},
    {"decision-dag", 2,
     "each path tests a boolean property at most once; digest lookups "
     "implied by earlier ones skipped"},
    {"merge-tables", 1,
     "chains of digest lookups that each decide a rule merged into rule "
     "tables"},
};

using NodeId = uint32_t;
constexpr NodeId NoNode = ~NodeId(0);

/// An instruction whose branch targets are NodeIds and whose table is an
/// index into Graph::Tables (32 bits: before merging there may be more
/// tables than the format's 16 bits can name).
struct Node {
  uint8_t Code = 0;
  uint8_t Prop = 0;
  uint16_t Flags = 0; ///< DECIDE, LOOKUP_RULE: IPEVM_DF_* bits.
  uint32_t Table = 0; ///< LOOKUP, LOOKUP_RULE.
  uint32_t X = 0;     ///< BR_BOOL, LOOKUP: hit. DECIDE: rule id.
  uint32_t Y = 0;     ///< BR_BOOL, LOOKUP: miss. LOOKUP_RULE: miss.

  auto key() const { return std::make_tuple(Code, Prop, Flags, Table, X, Y); }
  bool isRuleDecision() const {
    return Code == IPEVM_DECIDE && ((Flags & IPEVM_DF_ORIGIN_MASK) >>
                                    IPEVM_DF_ORIGIN_SHIFT) == IPEVM_ORIGIN_RULE;
  }
};

uint16_t decideFlags(Action A, ipevm_origin Origin) {
  return uint16_t((A.Allow ? IPEVM_DF_ALLOW : 0) |
                  (A.Audit ? IPEVM_DF_AUDIT : 0) |
                  (unsigned(Origin) << IPEVM_DF_ORIGIN_SHIFT));
}

/// splitmix64's finaliser: every input bit affects every output bit.
uint64_t mix(uint64_t X) {
  X += 0x9e3779b97f4a7c15ull;
  X = (X ^ (X >> 30)) * 0xbf58476d1ce4e5b9ull;
  X = (X ^ (X >> 27)) * 0x94d049bb133111ebull;
  return X ^ (X >> 31);
}

/// Hash-consing keys. No real node has Code 0xff or 0xfe.
struct NodeInfo {
  static Node getEmptyKey() { return Node{0xff, 0, 0, 0, 0, 0}; }
  static Node getTombstoneKey() { return Node{0xfe, 0, 0, 0, 0, 0}; }
  static unsigned getHashValue(const Node &N) {
    uint64_t H = mix(uint64_t(N.Code) | uint64_t(N.Prop) << 8 |
                     uint64_t(N.Flags) << 16 | uint64_t(N.Table) << 32);
    H = mix(H ^ N.X);
    return unsigned(mix(H ^ (uint64_t(N.Y) << 32)));
  }
  static bool isEqual(const Node &A, const Node &B) {
    return A.key() == B.key();
  }
};

struct Graph {
  std::vector<Node> Nodes;
  /// Per node, a bit per property tested at it or below it.
  std::vector<uint8_t> Below;
  llvm::DenseMap<Node, NodeId, NodeInfo> Unique;
  std::vector<bc::Table> Tables;
  /// Tables by their content (algorithm, then the keys' bytes).
  std::unordered_map<std::string, unsigned> SetTables;
  std::array<NodeId, IPEVM_OP_COUNT> Entry{};

  NodeId node(const Node &N) {
    auto [It, Inserted] = Unique.try_emplace(N, NodeId(Nodes.size()));
    if (Inserted) {
      uint8_t B = 0;
      switch (N.Code) {
      case IPEVM_BR_BOOL:
      case IPEVM_LOOKUP:
        B = uint8_t(1u << N.Prop) | Below[N.X] | Below[N.Y];
        break;
      case IPEVM_LOOKUP_RULE:
        B = uint8_t(1u << N.Prop) | Below[N.Y];
        break;
      }
      Nodes.push_back(N);
      Below.push_back(B);
    }
    return It->second;
  }
  NodeId brBool(unsigned Prop, NodeId T, NodeId F) {
    if (T == F)
      return T;
    return node({IPEVM_BR_BOOL, uint8_t(Prop), 0, 0, T, F});
  }
  NodeId lookup(unsigned Prop, unsigned Table, NodeId T, NodeId F) {
    if (T == F)
      return T;
    return node({IPEVM_LOOKUP, uint8_t(Prop), 0, Table, T, F});
  }
  NodeId decide(Action A, ipevm_origin Origin, uint32_t Rule) {
    return node({IPEVM_DECIDE, 0, decideFlags(A, Origin), 0, Rule, 0});
  }
  /// Keys: sorted, unique, one algorithm and length. Equal sets share.
  unsigned setTable(const std::vector<Digest> &Keys) {
    std::string Content = Keys[0].Alg;
    Content.push_back('\0');
    for (const Digest &D : Keys)
      Content.append(D.Bytes.begin(), D.Bytes.end());
    auto [It, Inserted] =
        SetTables.try_emplace(std::move(Content), unsigned(Tables.size()));
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
};

//===----------------------------------------------------------------------===//
// lower
//===----------------------------------------------------------------------===//

NodeId digestIn(Graph &G, unsigned Prop, const std::vector<Digest> &Set,
                NodeId T, NodeId F) {
  if (Set.size() == 1)
    return G.lookup(Prop, G.setTable(Set), T, F);
  // One table per (algorithm, length); an event's digest can be in at most
  // one of them, so their order does not matter.
  std::map<std::pair<std::string, size_t>, std::vector<Digest>> Groups;
  for (const Digest &D : Set)
    Groups[{D.Alg, D.Bytes.size()}].push_back(D);
  NodeId Next = F;
  for (auto It = Groups.rbegin(); It != Groups.rend(); ++It)
    Next = G.lookup(Prop, G.setTable(It->second), T, Next);
  return Next;
}

NodeId cond(Graph &G, const Expr &E, NodeId T, NodeId F) {
  if (T == F)
    return T;
  switch (E.K) {
  case Expr::True:
    return T;
  case Expr::False:
    return F;
  case Expr::Not:
    return cond(G, E.Ops[0], F, T);
  case Expr::And: {
    NodeId Next = T;
    for (size_t I = E.Ops.size(); I-- > 0;)
      Next = cond(G, E.Ops[I], Next, F);
    return Next;
  }
  case Expr::Or: {
    NodeId Next = F;
    for (size_t I = E.Ops.size(); I-- > 0;)
      Next = cond(G, E.Ops[I], T, Next);
    return Next;
  }
  case Expr::BoolProp:
    return G.brBool(E.Prop, T, F);
  case Expr::DigestIn:
    return digestIn(G, E.Prop, E.Set, T, F);
  }
  llvm_unreachable("bad expression kind");
}

void lower(Graph &G, const Policy &P) {
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    NodeId Next = P.PerOp[Op].Present
                      ? G.decide(P.PerOp[Op].Act, IPEVM_ORIGIN_OP_DEFAULT, 0)
                      : G.decide(P.Global.Act, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0);
    for (size_t I = P.Rules.size(); I-- > 0;) {
      const Rule &R = P.Rules[I];
      if (R.Ops & (1u << Op))
        Next = cond(G, R.Cond, G.decide(R.Act, IPEVM_ORIGIN_RULE, uint32_t(I)),
                    Next);
    }
    G.Entry[Op] = Next;
  }
}

//===----------------------------------------------------------------------===//
// decision-dag
//===----------------------------------------------------------------------===//

/// What the path to a node has learnt. Digest facts name FactSets: the
/// digest is in In, and in none of NotIn. Only small sets are tracked.
struct PathFacts {
  uint8_t Known = 0, Value = 0;
  std::array<int32_t, IPEVM_DIGEST_PROPS> In;
  std::array<std::array<int32_t, 2>, IPEVM_DIGEST_PROPS> NotIn;
  PathFacts() {
    In.fill(-1);
    for (auto &N : NotIn)
      N.fill(-1);
  }
  bool empty() const {
    if (Known)
      return false;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D)
      if (In[D] >= 0 || NotIn[D][0] >= 0 || NotIn[D][1] >= 0)
        return false;
    return true;
  }
  void restrict(uint8_t Props) {
    Known &= Props;
    Value &= Known;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D)
      if (!(Props & (1u << (IPEVM_PROP_FIRST_DIGEST + D)))) {
        In[D] = -1;
        NotIn[D].fill(-1);
      }
  }
  std::array<int32_t, 3 + 3 * IPEVM_DIGEST_PROPS> key(NodeId N) const {
    std::array<int32_t, 3 + 3 * IPEVM_DIGEST_PROPS> K;
    K[0] = int32_t(N);
    K[1] = Known;
    K[2] = Value;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D) {
      K[3 + 3 * D] = In[D];
      K[4 + 3 * D] = NotIn[D][0];
      K[5 + 3 * D] = NotIn[D][1];
    }
    return K;
  }
};

class Specializer {
public:
  explicit Specializer(Graph &G) : G(G) {}
  void run();

private:
  /// A set of digests of one algorithm and length, sorted.
  using KeySet =
      std::tuple<std::string, uint32_t, std::vector<std::vector<uint8_t>>>;
  static constexpr size_t MaxFactKeys = 256;

  /// A fact's set: a table's keys or a derived set, not copied.
  struct FactView {
    const std::string *Alg;
    uint32_t Len;
    const std::vector<std::vector<uint8_t>> *Keys;
  };

  /// A derived set (an intersection or difference), deduplicated.
  int32_t intern(KeySet S) {
    auto [It, Inserted] =
        FactIds.try_emplace(std::move(S), int32_t(Facts.size()));
    if (Inserted)
      Facts.push_back({&std::get<0>(It->first), std::get<1>(It->first),
                       &std::get<2>(It->first)});
    return It->second;
  }
  /// The fact "in table T", if T is small enough to reason about. (No
  /// table is added while the specializer runs, so views stay valid.)
  int32_t tableFact(unsigned T) {
    if (TableFacts.empty())
      TableFacts.assign(G.Tables.size(), -2);
    int32_t &F = TableFacts[T];
    if (F == -2) {
      const bc::Table &Tab = G.Tables[T];
      F = -1;
      if (Tab.Keys.size() <= MaxFactKeys) {
        F = int32_t(Facts.size());
        Facts.push_back({&Tab.Alg, Tab.KeyLen, &Tab.Keys});
      }
    }
    return F;
  }
  static bool inTable(const bc::Table &T, const std::string &Alg, uint32_t Len,
                      const std::vector<uint8_t> &Key) {
    return T.Alg == Alg && T.KeyLen == Len &&
           std::binary_search(T.Keys.begin(), T.Keys.end(), Key);
  }

  struct Plan {
    enum { Done, Forward, Branch, Rule } Kind = Done;
    NodeId Result = 0;
    std::array<std::pair<NodeId, PathFacts>, 2> Kids;
  };
  Plan plan(NodeId N, const PathFacts &F);

  Graph &G;
  std::map<KeySet, int32_t> FactIds;
  std::vector<FactView> Facts;
  std::vector<int32_t> TableFacts;
};

Specializer::Plan Specializer::plan(NodeId Id, const PathFacts &F) {
  const Node N = G.Nodes[Id];
  Plan P;
  switch (N.Code) {
  case IPEVM_DECIDE:
    P.Result = Id;
    return P;
  case IPEVM_LOOKUP_RULE:
    P.Kind = Plan::Rule;
    P.Kids[0] = {N.Y, F};
    return P;
  case IPEVM_BR_BOOL: {
    uint8_t Bit = uint8_t(1u << N.Prop);
    if (F.Known & Bit) {
      P.Kind = Plan::Forward;
      P.Kids[0] = {(F.Value & Bit) ? N.X : N.Y, F};
      return P;
    }
    P.Kind = Plan::Branch;
    P.Kids[0] = {N.X, F};
    P.Kids[1] = {N.Y, F};
    P.Kids[0].second.Known |= Bit;
    P.Kids[0].second.Value |= Bit;
    P.Kids[1].second.Known |= Bit;
    return P;
  }
  case IPEVM_LOOKUP:
    break;
  }
  unsigned D = N.Prop - IPEVM_PROP_FIRST_DIGEST;
  const bc::Table &T = G.Tables[N.Table];
  PathFacts Hit = F, Miss = F;
  // Known not to be in a superset of T: a miss.
  for (int32_t Not : F.NotIn[D]) {
    if (Not < 0)
      continue;
    const FactView &V = Facts[Not];
    if (*V.Alg == T.Alg && V.Len == T.KeyLen &&
        std::includes(V.Keys->begin(), V.Keys->end(), T.Keys.begin(),
                      T.Keys.end())) {
      P.Kind = Plan::Forward;
      P.Kids[0] = {N.Y, F};
      return P;
    }
  }
  if (F.In[D] >= 0) {
    // Known to be in S: the lookup answers S's keys' membership in T.
    const FactView &V = Facts[F.In[D]];
    std::string Alg = *V.Alg;
    uint32_t Len = V.Len;
    std::vector<std::vector<uint8_t>> InT, OutT;
    for (const auto &K : *V.Keys)
      (inTable(T, Alg, Len, K) ? InT : OutT).push_back(K);
    if (OutT.empty() || InT.empty()) {
      P.Kind = Plan::Forward;
      P.Kids[0] = {OutT.empty() ? N.X : N.Y, F};
      return P;
    }
    Hit.In[D] = intern({Alg, Len, std::move(InT)});
    Miss.In[D] = intern({Alg, Len, std::move(OutT)});
  } else {
    // Worth knowing only where the property is tested again.
    uint8_t Bit = uint8_t(1u << N.Prop);
    if (G.Below[N.X] & Bit)
      Hit.In[D] = tableFact(N.Table);
    int32_t Fact = (G.Below[N.Y] & Bit) ? tableFact(N.Table) : -1;
    if (Fact >= 0) {
      auto &Not = Miss.NotIn[D];
      if (Not[0] != Fact && Not[1] != Fact) {
        Not[1] = Not[0];
        Not[0] = Fact;
        if (Not[1] >= 0 && Not[1] < Not[0])
          std::swap(Not[0], Not[1]);
      }
    }
  }
  P.Kind = Plan::Branch;
  P.Kids[0] = {N.X, Hit};
  P.Kids[1] = {N.Y, Miss};
  return P;
}

void Specializer::run() {
  // Iterative depth-first specialisation (a chain of 100,000 rules would
  // overflow the stack), memoised on (node, facts restricted to the
  // properties tested below the node). Gives up, leaving the graph as it
  // was, if the graph would grow past a budget.
  const size_t Budget = 4 * G.Nodes.size() + 65536;
  // Most visits know nothing that matters below: a flat table for those.
  std::vector<NodeId> Plain(G.Nodes.size(), NoNode);
  std::map<std::array<int32_t, 3 + 3 * IPEVM_DIGEST_PROPS>, NodeId> Memo;
  auto Lookup = [&](NodeId N, const PathFacts &F) -> NodeId {
    if (F.empty())
      return Plain[N];
    auto It = Memo.find(F.key(N));
    return It == Memo.end() ? NoNode : It->second;
  };
  auto Remember = [&](NodeId N, const PathFacts &F, NodeId R) {
    if (F.empty())
      Plain[N] = R;
    else
      Memo[F.key(N)] = R;
  };
  struct Frame {
    NodeId N;
    PathFacts F;
    Plan P;
    unsigned Stage = 0;
    NodeId R0 = 0;
  };
  std::vector<Frame> Stack;
  std::array<NodeId, IPEVM_OP_COUNT> NewEntry;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    NodeId Ret = 0;
    Stack.push_back({G.Entry[Op], PathFacts(), {}, 0, 0});
    while (!Stack.empty()) {
      if (G.Nodes.size() > Budget)
        return;
      Frame &Top = Stack.back();
      if (Top.Stage == 0) {
        Top.F.restrict(G.Below[Top.N]);
        if (NodeId Known = Lookup(Top.N, Top.F); Known != NoNode) {
          Ret = Known;
          Stack.pop_back();
          continue;
        }
        Top.P = plan(Top.N, Top.F);
        if (Top.P.Kind == Plan::Done) {
          Ret = Top.P.Result;
          Remember(Top.N, Top.F, Ret);
          Stack.pop_back();
          continue;
        }
        Top.Stage = 1;
        auto Kid = Top.P.Kids[0];
        Stack.push_back({Kid.first, Kid.second, {}, 0, 0});
        continue;
      }
      if (Top.Stage == 1 && Top.P.Kind == Plan::Branch) {
        Top.R0 = Ret;
        Top.Stage = 2;
        auto Kid = Top.P.Kids[1];
        Stack.push_back({Kid.first, Kid.second, {}, 0, 0});
        continue;
      }
      const Node N = G.Nodes[Top.N];
      switch (Top.P.Kind) {
      case Plan::Forward:
        break;
      case Plan::Rule: {
        Node New = N;
        New.Y = Ret;
        Ret = G.node(New);
        break;
      }
      case Plan::Branch:
        Ret = N.Code == IPEVM_BR_BOOL ? G.brBool(N.Prop, Top.R0, Ret)
                                      : G.lookup(N.Prop, N.Table, Top.R0, Ret);
        break;
      case Plan::Done:
        llvm_unreachable("handled at stage 0");
      }
      Remember(Top.N, Top.F, Ret);
      Stack.pop_back();
    }
    NewEntry[Op] = Ret;
  }
  G.Entry = NewEntry;
}

//===----------------------------------------------------------------------===//
// merge-tables
//===----------------------------------------------------------------------===//

/// Nodes reachable from an entry.
std::vector<bool> liveNodes(const Graph &G) {
  std::vector<bool> Live(G.Nodes.size());
  for (NodeId E : G.Entry)
    Live[E] = true;
  for (size_t I = G.Nodes.size(); I-- > 0;) {
    const Node &N = G.Nodes[I];
    if (!Live[I] || N.Code == IPEVM_DECIDE)
      continue;
    if (N.Code != IPEVM_LOOKUP_RULE)
      Live[N.X] = true;
    Live[N.Y] = true;
  }
  return Live;
}

void mergeTables(Graph &G) {
  // A member decides for a rule on a hit. A chain runs along members' miss
  // edges; it starts at a member reached some other way (or from two
  // chains) and stops before the next such head, so no key is copied twice.
  auto Member = [&](NodeId I) {
    const Node &N = G.Nodes[I];
    return N.Code == IPEVM_LOOKUP && G.Nodes[N.X].isRuleDecision();
  };
  // I's miss edge continues a chain: to a member on the same property.
  auto Chained = [&](NodeId I) {
    const Node &N = G.Nodes[I];
    return Member(I) && Member(N.Y) && G.Nodes[N.Y].Prop == N.Prop;
  };
  std::vector<bool> Live = liveNodes(G);
  size_t Count = G.Nodes.size();
  std::vector<uint32_t> ChainIn(Count), OtherIn(Count);
  for (NodeId E : G.Entry)
    ++OtherIn[E];
  for (NodeId I = 0; I < Count; ++I) {
    const Node &N = G.Nodes[I];
    if (!Live[I] || N.Code == IPEVM_DECIDE)
      continue;
    if (N.Code != IPEVM_LOOKUP_RULE)
      ++OtherIn[N.X];
    ++(Chained(I) ? ChainIn : OtherIn)[N.Y];
  }
  auto Head = [&](NodeId I) {
    return Member(I) && (OtherIn[I] > 0 || ChainIn[I] != 1);
  };

  std::vector<NodeId> New(Count);
  for (NodeId I = 0; I < Count; ++I) {
    if (!Live[I])
      continue;
    Node N = G.Nodes[I];
    if (Head(I)) {
      std::vector<NodeId> Chain{I};
      NodeId End = N.Y;
      while (Chained(Chain.back()) && !Head(End)) {
        Chain.push_back(End);
        End = G.Nodes[End].Y;
      }
      std::set<uint32_t> RuleIds;
      for (NodeId C : Chain)
        RuleIds.insert(G.Nodes[G.Nodes[C].X].X);
      if (RuleIds.size() > 1) {
        // The first rule to list a digest decides it; keys are grouped by
        // algorithm, length and that rule's action.
        // Tables by (algorithm, length, action); keys are sorted below.
        using GroupKey = std::tuple<std::string, size_t, uint16_t>;
        std::map<GroupKey,
                 std::vector<std::pair<const std::vector<uint8_t> *, uint32_t>>>
            Entries;
        std::unordered_set<std::string> Seen;
        for (NodeId C : Chain) {
          const Node &Dec = G.Nodes[G.Nodes[C].X];
          const bc::Table &T = G.Tables[G.Nodes[C].Table];
          uint16_t Act = Dec.Flags & (IPEVM_DF_ALLOW | IPEVM_DF_AUDIT);
          auto &Group = Entries[{T.Alg, T.KeyLen, Act}];
          for (const auto &K : T.Keys) {
            std::string Id = T.Alg;
            Id.push_back('\0');
            Id.append(K.begin(), K.end());
            if (Seen.insert(std::move(Id)).second)
              Group.push_back({&K, Dec.X});
          }
        }
        std::map<GroupKey, bc::Table> Groups;
        for (auto &[Key, List] : Entries) {
          if (List.empty())
            continue;
          llvm::sort(List, [](const auto &A, const auto &B) {
            return *A.first < *B.first;
          });
          bc::Table &T = Groups[Key];
          for (auto &[K, Rule] : List) {
            T.Keys.push_back(*K);
            T.Values.push_back(Rule);
          }
        }
        NodeId Next = New[End];
        for (auto It = Groups.rbegin(); It != Groups.rend(); ++It) {
          bc::Table T = std::move(It->second);
          T.Alg = std::get<0>(It->first);
          T.KeyLen = uint32_t(std::get<1>(It->first));
          T.Rules = true;
          unsigned Index = unsigned(G.Tables.size());
          G.Tables.push_back(std::move(T));
          Next = G.node({IPEVM_LOOKUP_RULE, N.Prop, std::get<2>(It->first),
                         Index, 0, Next});
        }
        New[I] = Next;
        continue;
      }
    }
    if (N.Code != IPEVM_DECIDE) {
      if (N.Code != IPEVM_LOOKUP_RULE)
        N.X = New[N.X];
      N.Y = New[N.Y];
    }
    New[I] = G.node(N);
  }
  for (NodeId &E : G.Entry)
    E = New[E];
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

llvm::Expected<bc::Module> layOut(const Graph &G, const Policy &P,
                                  const CodeGenOptions &Opts) {
  std::vector<bool> Live = liveNodes(G);
  std::vector<uint32_t> Index(G.Nodes.size());
  uint32_t Count = 0;
  for (size_t I = G.Nodes.size(); I-- > 0;)
    if (Live[I])
      Index[I] = Count++;

  bc::Module M;
  M.Name = P.Name;
  M.Version = P.Version;
  M.RuleCount = uint32_t(P.Rules.size());
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    M.Entry[Op] = Index[G.Entry[Op]];
  // Tables are numbered in order of first use.
  std::map<uint32_t, uint32_t> TableIndex;
  for (size_t I = G.Nodes.size(); I-- > 0;) {
    if (!Live[I])
      continue;
    const Node &N = G.Nodes[I];
    uint16_t Table = 0;
    if (N.Code == IPEVM_LOOKUP || N.Code == IPEVM_LOOKUP_RULE) {
      auto [It, Inserted] =
          TableIndex.try_emplace(N.Table, uint32_t(M.Tables.size()));
      if (Inserted) {
        if (M.Tables.size() >= 0xffff)
          return llvm::createStringError(
              std::errc::value_too_large,
              "policy needs more than 65535 lookup tables, the format's "
              "limit (rules testing many digests one by one merge into few "
              "tables from -O1)");
        M.Tables.push_back(G.Tables[N.Table]);
      }
      Table = uint16_t(It->second);
      if (N.Code == IPEVM_LOOKUP_RULE)
        M.Tables[Table].Owner = uint32_t(M.Code.size());
    }
    switch (N.Code) {
    case IPEVM_BR_BOOL:
      M.Code.push_back(bc::Insn::brBool(N.Prop, Index[N.X], Index[N.Y]));
      break;
    case IPEVM_LOOKUP:
      M.Code.push_back(bc::Insn::lookup(N.Prop, Table, Index[N.X], Index[N.Y]));
      break;
    case IPEVM_LOOKUP_RULE:
      M.Code.push_back(
          bc::Insn::lookupRule(N.Prop, Table, N.Flags & IPEVM_DF_ALLOW,
                               N.Flags & IPEVM_DF_AUDIT, Index[N.Y]));
      break;
    case IPEVM_DECIDE: {
      bc::Insn In;
      In.Code = IPEVM_DECIDE;
      In.B = N.Flags;
      In.X = N.X;
      M.Code.push_back(In);
      break;
    }
    }
  }
  if (Opts.EmitSourceMap)
    for (const Rule &R : P.Rules)
      M.SourceMap.push_back({R.Loc.File, R.Loc.Line, R.Loc.Column, R.Text});
  return M;
}

bool printsAfter(const CodeGenOptions &Opts, llvm::StringRef Pass) {
  return Opts.PrintStream &&
         llvm::any_of(Opts.PrintAfter, [&](const std::string &Name) {
           return Name == Pass || Name == "all";
         });
}

void printGraph(const Graph &G, const Policy &P, const CodeGenOptions &Opts,
                llvm::raw_ostream &OS) {
  llvm::Expected<bc::Module> M = layOut(G, P, Opts);
  if (!M) {
    OS << "(cannot lay out: " << llvm::toString(M.takeError()) << ")\n";
    return;
  }
  llvm::Expected<Artifact> A = Artifact::fromBytes(bc::serialize(*M));
  if (!A) {
    OS << "(not verifiable: " << llvm::toString(A.takeError()) << ")\n";
    return;
  }
  disassemble(*A, OS);
}

} // namespace

llvm::ArrayRef<PassInfo> ipec::allPasses() { return Passes; }

std::vector<llvm::StringRef> ipec::passPipeline(unsigned OptLevel) {
  std::vector<llvm::StringRef> Out;
  for (const PassInfo &P : Passes)
    if (P.MinLevel <= OptLevel)
      Out.push_back(P.Name);
  return Out;
}

llvm::Expected<bc::Module> ipec::generateCode(const Policy &Original,
                                              const CodeGenOptions &Opts) {
  std::optional<Policy> Optimized;
  if (Opts.OptLevel > 0)
    Optimized = Original;
  const Policy &P = Optimized ? *Optimized : Original;
  Graph G;
  for (llvm::StringRef Pass : passPipeline(Opts.OptLevel)) {
    bool IsPolicyPass = true;
    if (Pass == "normalize")
      normalize(*Optimized);
    else if (Pass == "constfold")
      constantFold(*Optimized);
    else if (Pass == "dead-rules")
      removeDeadRules(*Optimized);
    else {
      IsPolicyPass = false;
      if (Pass == "lower")
        lower(G, P);
      else if (Pass == "decision-dag")
        Specializer(G).run();
      else if (Pass == "merge-tables")
        mergeTables(G);
      else
        llvm_unreachable("unknown pass");
    }
    if (printsAfter(Opts, Pass)) {
      llvm::raw_ostream &OS = *Opts.PrintStream;
      OS << "# *** IR after " << Pass << " ***\n";
      if (IsPolicyPass)
        dump(P, OS);
      else
        printGraph(G, Original, Opts, OS);
    }
  }
  llvm::Expected<bc::Module> M = layOut(G, Original, Opts);
  if (M && Opts.EmbedSource) {
    llvm::raw_string_ostream OS(M->Source);
    print(Original, OS);
  }
  return M;
}
