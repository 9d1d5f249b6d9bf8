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
//                 again below. The first lookup of a digest property on a
//                 path becomes, when the lookups below it use few sets, one
//                 multiway lookup (a valued table) whose keys lead to the
//                 graph specialised on their membership, so the property is
//                 looked up once; otherwise a lookup whose answer follows
//                 from earlier ones (subset or disjoint sets) is skipped.
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
  llvm::DenseMap<uint64_t, llvm::SmallVector<unsigned, 1>> SetTables;
  std::array<NodeId, IPEVM_OP_COUNT> Entry{};

  /// Targets: the properties tested below a multiway lookup's table
  /// targets, which N itself does not show.
  NodeId node(const Node &N, uint8_t Targets = 0) {
    auto [It, Inserted] = Unique.try_emplace(N, NodeId(Nodes.size()));
    if (Inserted) {
      uint8_t B = Targets;
      switch (N.Code) {
      case IPEVM_BR_BOOL:
      case IPEVM_LOOKUP:
        B |= uint8_t(1u << N.Prop) | Below[N.X] | Below[N.Y];
        break;
      case IPEVM_LOOKUP_RULE:
        B |= uint8_t(1u << N.Prop) | Below[N.Y];
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
    uint64_t H = mix(Keys.size());
    for (char C : Keys[0].Alg)
      H = mix(H ^ uint8_t(C));
    for (const Digest &D : Keys)
      for (size_t I = 0; I < D.Bytes.size(); I += 8) {
        uint64_t W = 0;
        for (size_t J = I; J < I + 8 && J < D.Bytes.size(); ++J)
          W = W << 8 | D.Bytes[J];
        H = mix(H ^ W);
      }
    // The top bit is cleared: DenseMap reserves two keys near ~0.
    llvm::SmallVector<unsigned, 1> &Same = SetTables[H >> 1];
    for (unsigned T : Same) {
      const bc::Table &Tab = Tables[T];
      if (Tab.Alg == Keys[0].Alg && Tab.Keys.size() == Keys.size() &&
          std::equal(Keys.begin(), Keys.end(), Tab.Keys.begin(),
                     [](const Digest &D, const std::vector<uint8_t> &K) {
                       return D.Bytes == K;
                     }))
        return T;
    }
    bc::Table T;
    T.Alg = Keys[0].Alg;
    T.KeyLen = uint32_t(Keys[0].Bytes.size());
    T.Keys.reserve(Keys.size());
    for (const Digest &D : Keys)
      T.Keys.push_back(D.Bytes);
    Same.push_back(unsigned(Tables.size()));
    Tables.push_back(std::move(T));
    return Same.back();
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
/// digest is in In, and in none of NotIn (only small sets are tracked), and
/// in none of the tables of dispatch group Outside.
struct PathFacts {
  uint8_t Known = 0, Value = 0;
  std::array<int32_t, IPEVM_DIGEST_PROPS> In;
  std::array<std::array<int32_t, 2>, IPEVM_DIGEST_PROPS> NotIn;
  std::array<int32_t, IPEVM_DIGEST_PROPS> Outside;
  PathFacts() {
    In.fill(-1);
    Outside.fill(-1);
    for (auto &N : NotIn)
      N.fill(-1);
  }
  bool empty() const {
    if (Known)
      return false;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D)
      if (In[D] >= 0 || NotIn[D][0] >= 0 || NotIn[D][1] >= 0 || Outside[D] >= 0)
        return false;
    return true;
  }
  void restrict(uint8_t Props) {
    Known &= Props;
    Value &= Known;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D)
      if (!(Props & (1u << (IPEVM_PROP_FIRST_DIGEST + D)))) {
        In[D] = -1;
        Outside[D] = -1;
        NotIn[D].fill(-1);
      }
  }
  using Key = std::array<int32_t, 3 + 4 * IPEVM_DIGEST_PROPS>;
  Key key(NodeId N) const {
    Key K;
    K[0] = int32_t(N);
    K[1] = Known;
    K[2] = Value;
    for (unsigned D = 0; D < IPEVM_DIGEST_PROPS; ++D) {
      K[3 + 4 * D] = In[D];
      K[4 + 4 * D] = NotIn[D][0];
      K[5 + 4 * D] = NotIn[D][1];
      K[6 + 4 * D] = Outside[D];
    }
    return K;
  }
};

class Specializer {
public:
  explicit Specializer(Graph &G) : G(G) {}
  void run();

private:
  void runWithin();

public:
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

  /// What specialising a node needs: nothing (Done), one node to become
  /// (Forward), both branches (Branch), the miss of a LOOKUP_RULE (Rule), or
  /// a multiway lookup with a target per key class and one for a miss
  /// (Dispatch: Kids are the classes' targets, then the miss).
  struct Plan {
    enum { Done, Forward, Branch, Rule, Dispatch } Kind = Done;
    NodeId Result = 0;
    std::vector<std::pair<NodeId, PathFacts>> Kids;
    int32_t Group = -1; ///< Dispatch: the index into Groups.
  };
  Plan plan(NodeId N, const PathFacts &F);
  /// The tables of the digest lookups on Prop at or below N, if a multiway
  /// lookup can stand for them (see DispatchGroup); else -1.
  int32_t dispatchGroup(NodeId N, unsigned Prop);
  /// Tables of one algorithm and length whose lookups one multiway lookup
  /// answers: the union of their keys, sorted, each key's class (the keys
  /// with the same membership in every table) and each class's fact.
  struct DispatchGroup {
    std::vector<unsigned> Tabs; ///< Sorted.
    bool Usable = false;        ///< Within the class and key limits.
    std::vector<std::vector<uint8_t>> Keys;
    std::vector<uint32_t> ClassOf;
    std::vector<int32_t> ClassFacts;
  };
  void classify(DispatchGroup &DG);
  static constexpr size_t MaxDispatchTables = 32, MaxDispatchClasses = 32,
                          MaxDispatchKeys = 1u << 16;

public:
  /// Valued tables made by dispatch; appended to G.Tables after run(), so
  /// that views into G.Tables stay valid meanwhile.
  std::vector<bc::Table> NewTables;

private:
  Graph &G;
  std::vector<DispatchGroup> Groups;
  std::map<std::vector<unsigned>, int32_t> GroupIds;
  std::unordered_map<NodeId, int32_t> GroupOfNode;
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
    P.Kids.push_back({N.Y, F});
    return P;
  case IPEVM_BR_BOOL: {
    uint8_t Bit = uint8_t(1u << N.Prop);
    if (F.Known & Bit) {
      P.Kind = Plan::Forward;
      P.Kids.push_back({(F.Value & Bit) ? N.X : N.Y, F});
      return P;
    }
    P.Kind = Plan::Branch;
    P.Kids.push_back({N.X, F});
    P.Kids.push_back({N.Y, F});
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
  // Known to be in none of a group of tables that holds T: a miss.
  if (F.Outside[D] >= 0 &&
      std::binary_search(Groups[F.Outside[D]].Tabs.begin(),
                         Groups[F.Outside[D]].Tabs.end(), N.Table)) {
    P.Kind = Plan::Forward;
    P.Kids.push_back({N.Y, F});
    return P;
  }
  // The first test of the property on this path, with more lookups of it
  // below: one multiway lookup over all their tables answers them all.
  // Keys with the same membership in those tables form a class; each class
  // leads to this node specialised on "the digest is in the class", the miss
  // to it specialised on "in none of the tables".
  if (F.In[D] < 0 && F.Outside[D] < 0 && F.NotIn[D][0] < 0) {
    if (int32_t Group = dispatchGroup(Id, N.Prop); Group >= 0) {
      P.Kind = Plan::Dispatch;
      P.Group = Group;
      for (int32_t Class : Groups[Group].ClassFacts) {
        PathFacts In = F;
        In.In[D] = Class;
        P.Kids.push_back({Id, In});
      }
      PathFacts Out = F;
      Out.Outside[D] = Group;
      P.Kids.push_back({Id, Out});
      return P;
    }
  }
  // Known not to be in a superset of T: a miss.
  for (int32_t Not : F.NotIn[D]) {
    if (Not < 0)
      continue;
    const FactView &V = Facts[Not];
    if (*V.Alg == T.Alg && V.Len == T.KeyLen &&
        std::includes(V.Keys->begin(), V.Keys->end(), T.Keys.begin(),
                      T.Keys.end())) {
      P.Kind = Plan::Forward;
      P.Kids.push_back({N.Y, F});
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
      P.Kids.push_back({OutT.empty() ? N.X : N.Y, F});
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
  P.Kids.push_back({N.X, Hit});
  P.Kids.push_back({N.Y, Miss});
  return P;
}

int32_t Specializer::dispatchGroup(NodeId Start, unsigned Prop) {
  auto [Cached, New] = GroupOfNode.try_emplace(Start, -1);
  if (!New)
    return Cached->second;
  // Depth-first over the original graph, giving up early.
  constexpr size_t MaxVisits = 1u << 14;
  std::vector<unsigned> Tabs;
  std::vector<NodeId> Work{Start};
  std::unordered_set<NodeId> Seen{Start};
  uint8_t Bit = uint8_t(1u << Prop);
  while (!Work.empty()) {
    if (Seen.size() > MaxVisits || Tabs.size() > MaxDispatchTables)
      return -1;
    NodeId I = Work.back();
    Work.pop_back();
    const Node &N = G.Nodes[I];
    if (!(G.Below[I] & Bit))
      continue;
    if (N.Code == IPEVM_LOOKUP_RULE)
      return -1;
    if (N.Code == IPEVM_LOOKUP && N.Prop == Prop) {
      const bc::Table &T = G.Tables[N.Table];
      const bc::Table &First = G.Tables[Tabs.empty() ? N.Table : Tabs[0]];
      if (!T.Values.empty() || T.Alg != First.Alg || T.KeyLen != First.KeyLen)
        return -1;
      if (!llvm::is_contained(Tabs, N.Table))
        Tabs.push_back(N.Table);
    }
    if (N.Code == IPEVM_BR_BOOL || N.Code == IPEVM_LOOKUP)
      for (NodeId S : {N.X, N.Y})
        if (Seen.insert(S).second)
          Work.push_back(S);
  }
  if (Tabs.size() < 2 || Tabs.size() > MaxDispatchTables)
    return -1;
  llvm::sort(Tabs);
  auto [It, Inserted] = GroupIds.try_emplace(Tabs, int32_t(Groups.size()));
  if (Inserted) {
    Groups.emplace_back();
    Groups.back().Tabs = std::move(Tabs);
    classify(Groups.back());
  }
  if (Groups[It->second].Usable)
    Cached->second = It->second;
  return Cached->second;
}

void Specializer::classify(DispatchGroup &DG) {
  std::map<std::vector<uint8_t>, uint32_t> Member;
  for (size_t I = 0; I < DG.Tabs.size(); ++I)
    for (const auto &K : G.Tables[DG.Tabs[I]].Keys)
      Member[K] |= 1u << I;
  if (Member.size() > MaxDispatchKeys)
    return;
  std::map<uint32_t, uint32_t> ClassIndex;
  std::vector<std::vector<std::vector<uint8_t>>> ClassKeys;
  for (auto &[K, Mask] : Member) {
    auto [It, New] = ClassIndex.try_emplace(Mask, ClassKeys.size());
    if (New)
      ClassKeys.emplace_back();
    ClassKeys[It->second].push_back(K);
    DG.Keys.push_back(K);
    DG.ClassOf.push_back(It->second);
  }
  if (ClassKeys.size() > MaxDispatchClasses)
    return;
  const bc::Table &Model = G.Tables[DG.Tabs[0]];
  for (auto &Keys : ClassKeys)
    DG.ClassFacts.push_back(intern({Model.Alg, Model.KeyLen, std::move(Keys)}));
  DG.Usable = true;
}

void Specializer::run() {
  runWithin();
  for (bc::Table &T : NewTables)
    G.Tables.push_back(std::move(T));
  NewTables.clear();
}

void Specializer::runWithin() {
  // Iterative depth-first specialisation (a chain of 100,000 rules would
  // overflow the stack), memoised on (node, facts restricted to the
  // properties tested below the node). Gives up, leaving the graph as it
  // was, if the graph would grow past a budget.
  const size_t Budget = 4 * G.Nodes.size() + 65536;
  // Most visits know nothing that matters below: a flat table for those.
  std::vector<NodeId> Plain(G.Nodes.size(), NoNode);
  std::map<PathFacts::Key, NodeId> Memo;
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
    unsigned Stage = 0; ///< 0: not planned; then 1 + kids done.
    std::vector<NodeId> Results;
  };
  std::vector<Frame> Stack;
  std::array<NodeId, IPEVM_OP_COUNT> NewEntry;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    NodeId Ret = 0;
    Stack.push_back({G.Entry[Op], PathFacts(), {}, 0, {}});
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
        Stack.push_back({Kid.first, Kid.second, {}, 0, {}});
        continue;
      }
      Top.Results.push_back(Ret);
      if (Top.Stage < Top.P.Kids.size()) {
        auto Kid = Top.P.Kids[Top.Stage++];
        Stack.push_back({Kid.first, Kid.second, {}, 0, {}});
        continue;
      }
      const Node N = G.Nodes[Top.N];
      const std::vector<NodeId> &R = Top.Results;
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
        Ret = N.Code == IPEVM_BR_BOOL ? G.brBool(N.Prop, R[0], R[1])
                                      : G.lookup(N.Prop, N.Table, R[0], R[1]);
        break;
      case Plan::Dispatch: {
        // Every class and the miss may have come to the same node.
        NodeId Miss = R.back();
        if (llvm::all_of(R, [&](NodeId X) { return X == Miss; })) {
          Ret = Miss;
          break;
        }
        const DispatchGroup &DG = Groups[Top.P.Group];
        const bc::Table &Model = G.Tables[DG.Tabs[0]];
        bc::Table T;
        T.Alg = Model.Alg;
        T.KeyLen = Model.KeyLen;
        T.Keys = DG.Keys;
        for (uint32_t C : DG.ClassOf)
          T.Values.push_back(R[C]);
        unsigned Index = unsigned(G.Tables.size() + NewTables.size());
        NewTables.push_back(std::move(T));
        uint8_t Targets = 0;
        for (NodeId X : R)
          Targets |= G.Below[X];
        Ret = G.node({IPEVM_LOOKUP, N.Prop, 0, Index, Miss, Miss}, Targets);
        break;
      }
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

/// The successors of N: its branches and, for a multiway lookup, its
/// table's targets.
template <typename Fn>
void forEachSuccessor(const Graph &G, const Node &N, Fn F) {
  switch (N.Code) {
  case IPEVM_DECIDE:
    return;
  case IPEVM_LOOKUP_RULE:
    F(N.Y);
    return;
  case IPEVM_LOOKUP:
    for (uint32_t V : G.Tables[N.Table].Values)
      F(V);
    break;
  }
  F(N.X);
  F(N.Y);
}

bool isMultiway(const Graph &G, const Node &N) {
  return N.Code == IPEVM_LOOKUP && !G.Tables[N.Table].Values.empty();
}

/// Nodes reachable from an entry.
std::vector<bool> liveNodes(const Graph &G) {
  std::vector<bool> Live(G.Nodes.size());
  for (NodeId E : G.Entry)
    Live[E] = true;
  for (size_t I = G.Nodes.size(); I-- > 0;)
    if (Live[I])
      forEachSuccessor(G, G.Nodes[I], [&](NodeId S) { Live[S] = true; });
  return Live;
}

void mergeTables(Graph &G) {
  // A member decides for a rule on a hit. A chain runs along members' miss
  // edges; it starts at a member reached some other way (or from two
  // chains) and stops before the next such head, so no key is copied twice.
  auto Member = [&](NodeId I) {
    const Node &N = G.Nodes[I];
    return N.Code == IPEVM_LOOKUP && !isMultiway(G, N) &&
           G.Nodes[N.X].isRuleDecision();
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
    if (isMultiway(G, N)) {
      forEachSuccessor(G, N, [&](NodeId S) { ++OtherIn[S]; });
      continue;
    }
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
      if (RuleIds.size() > 1 && *RuleIds.rbegin() <= IPEVM_RV_RULE_MASK) {
        // The first rule to list a digest decides it; keys are grouped by
        // algorithm, length and that rule's action.
        // One table per (algorithm, length), keys sorted below. Its rules
        // have one action, which the LOOKUP_RULE carries, or several, and
        // then each value carries its own (IPEVM_TF_ACTIONS): one lookup
        // decides the whole run either way.
        struct Entry {
          const std::vector<uint8_t> *Key;
          uint32_t Rule;
          uint16_t Act;
        };
        std::map<std::pair<std::string, size_t>, std::vector<Entry>> Entries;
        std::unordered_set<std::string> Seen;
        for (NodeId C : Chain) {
          const Node &Dec = G.Nodes[G.Nodes[C].X];
          const bc::Table &T = G.Tables[G.Nodes[C].Table];
          uint16_t Act = Dec.Flags & (IPEVM_DF_ALLOW | IPEVM_DF_AUDIT);
          auto &Group = Entries[{T.Alg, T.KeyLen}];
          for (const auto &K : T.Keys) {
            std::string Id = T.Alg;
            Id.push_back('\0');
            Id.append(K.begin(), K.end());
            if (Seen.insert(std::move(Id)).second)
              Group.push_back({&K, Dec.X, Act});
          }
        }
        NodeId Next = New[End];
        for (auto It = Entries.rbegin(); It != Entries.rend(); ++It) {
          std::vector<Entry> &List = It->second;
          llvm::sort(List, [](const Entry &A, const Entry &B) {
            return *A.Key < *B.Key;
          });
          bool OneAction = llvm::all_of(
              List, [&](const Entry &E) { return E.Act == List[0].Act; });
          bc::Table T;
          T.Alg = It->first.first;
          T.KeyLen = uint32_t(It->first.second);
          T.Rules = true;
          T.Actions = !OneAction;
          for (const Entry &E : List) {
            T.Keys.push_back(*E.Key);
            T.Values.push_back(
                OneAction ? E.Rule
                          : E.Rule | uint32_t(E.Act) << IPEVM_RV_FLAGS_SHIFT);
          }
          unsigned Index = unsigned(G.Tables.size());
          G.Tables.push_back(std::move(T));
          Next =
              G.node({IPEVM_LOOKUP_RULE, N.Prop,
                      uint16_t(OneAction ? List[0].Act : 0), Index, 0, Next});
        }
        New[I] = Next;
        continue;
      }
    }
    if (isMultiway(G, N)) {
      bc::Table T = G.Tables[N.Table];
      bool Same = N.X == New[N.X];
      for (uint32_t &V : T.Values) {
        Same &= V == New[V];
        V = New[V];
      }
      if (!Same) {
        N.Table = unsigned(G.Tables.size());
        G.Tables.push_back(std::move(T));
      }
    }
    if (N.Code != IPEVM_DECIDE) {
      if (N.Code != IPEVM_LOOKUP_RULE)
        N.X = New[N.X];
      N.Y = New[N.Y];
    }
    uint8_t Targets = 0;
    if (isMultiway(G, N))
      forEachSuccessor(G, N, [&](NodeId S) { Targets |= G.Below[S]; });
    New[I] = G.node(N, Targets);
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
      bc::Table &T = M.Tables[Table];
      if (N.Code == IPEVM_LOOKUP_RULE) {
        T.Owner = uint32_t(M.Code.size());
      } else if (!T.Values.empty()) {
        // A multiway lookup's table is its own: targets become indices.
        T.Owner = uint32_t(M.Code.size());
        for (uint32_t &V : T.Values)
          V = Index[V];
      }
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

llvm::Expected<bc::Module> ipec::generateCode(const Policy &P,
                                              const CodeGenOptions &Opts) {
  return generateCode(Policy(P), Opts);
}

llvm::Expected<bc::Module> ipec::generateCode(Policy &&P,
                                              const CodeGenOptions &Opts) {
  // The passes keep every rule's id, location and text: the source map and
  // the header come from P after them; the embedded source from before.
  std::string Source;
  if (Opts.EmbedSource) {
    llvm::raw_string_ostream OS(Source);
    print(P, OS);
  }
  Graph G;
  for (llvm::StringRef Pass : passPipeline(Opts.OptLevel)) {
    bool IsPolicyPass = true;
    if (Pass == "normalize")
      normalize(P);
    else if (Pass == "constfold")
      constantFold(P);
    else if (Pass == "dead-rules")
      removeDeadRules(P);
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
        printGraph(G, P, Opts, OS);
    }
  }
  llvm::Expected<bc::Module> M = layOut(G, P, Opts);
  if (M)
    M->Source = std::move(Source);
  return M;
}
