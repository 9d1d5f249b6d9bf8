//===- Policy.h - The policy IR ---------------------------------*- C++ -*-===//
//
// A policy after parsing and name resolution: rules in source order, each
// with an operation set, an action and a boolean condition over properties.
// Its meaning is upstream IPE's: per operation, the first rule whose
// condition holds decides; otherwise the operation's default, otherwise the
// global default. Front ends produce it; passes and codegen consume it.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_IR_POLICY_H
#define IPEC_IR_POLICY_H

#include "ipevm_bc.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipec {
namespace ir {

/// Operation names as written in IPL, indexed by enum ipevm_op.
llvm::StringRef opName(unsigned Op);
/// The operation called Name, if any.
std::optional<unsigned> opByName(llvm::StringRef Name);
/// Property names as written in IPL, indexed by enum ipevm_prop.
llvm::StringRef propName(unsigned Prop);
std::optional<unsigned> propByName(llvm::StringRef Name);

/// A bit per enum ipevm_op.
using OpMask = uint32_t;
constexpr OpMask AllOps = (1u << IPEVM_OP_COUNT) - 1;

struct Digest {
  std::string Alg;
  std::vector<uint8_t> Bytes;

  bool operator==(const Digest &O) const {
    return Alg == O.Alg && Bytes == O.Bytes;
  }
  bool operator<(const Digest &O) const {
    return Alg != O.Alg ? Alg < O.Alg : Bytes < O.Bytes;
  }
  /// "alg:hex", lower-case hex.
  std::string str() const;
};

/// The byte length of a known digest algorithm, or nullopt.
std::optional<unsigned> digestLength(llvm::StringRef Alg);

/// A condition. Value semantics; small trees.
struct Expr {
  enum Kind { True, False, Not, And, Or, BoolProp, DigestIn };
  Kind K = True;
  unsigned Prop = 0;       ///< BoolProp, DigestIn.
  std::vector<Digest> Set; ///< DigestIn: sorted, no duplicates, not empty.
  std::vector<Expr> Ops;   ///< Not (1), And and Or (2 or more).

  static Expr constant(bool V) { return Expr{V ? True : False, 0, {}, {}}; }
  static Expr boolProp(unsigned P) { return Expr{BoolProp, P, {}, {}}; }
  /// Digest property P is one of Set (sorted and deduplicated here); an
  /// empty set is false.
  static Expr digestIn(unsigned P, std::vector<Digest> Set);
  static Expr digestEq(unsigned P, Digest D) {
    return digestIn(P, std::vector<Digest>{std::move(D)});
  }
  static Expr makeNot(Expr E);
  static Expr makeAnd(Expr L, Expr R);
  static Expr makeOr(Expr L, Expr R);
};

/// Where a rule or default was written.
struct SourceLoc {
  std::string File;
  uint32_t Line = 0;
  uint32_t Column = 0;
};

struct Action {
  bool Allow = false;
  bool Audit = false;
};

struct Rule {
  OpMask Ops = 0;
  Action Act;
  Expr Cond;
  SourceLoc Loc;
  std::string Text; ///< The rule as written, on one line.
};

struct Default {
  bool Present = false;
  Action Act;
  SourceLoc Loc;
};

struct Policy {
  std::string Name;
  std::array<uint16_t, 3> Version = {0, 0, 0};
  std::vector<Rule> Rules;
  Default Global;
  std::array<Default, IPEVM_OP_COUNT> PerOp;
};

/// Prints P as IPL text: the IR dump used by tests and --print-ir.
void print(const Policy &P, llvm::raw_ostream &OS);
void print(const Expr &E, llvm::raw_ostream &OS);
/// One rule as an IPL statement, without a newline.
void print(const Rule &R, llvm::raw_ostream &OS);

} // namespace ir
} // namespace ipec

#endif // IPEC_IR_POLICY_H
