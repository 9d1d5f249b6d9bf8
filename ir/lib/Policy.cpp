//===- Policy.cpp - Policy IR helpers and printer -------------------------===//

#include "ipec/IR/Policy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>

using namespace ipec;
using namespace ipec::ir;
using llvm::StringRef;

static const StringRef OpNames[IPEVM_OP_COUNT] = {
    "execute", "mmap_exec",       "mprotect_exec", "firmware", "kmodule",
    "kexec_image", "kexec_initramfs", "policy",   "x509_cert"};

static const StringRef PropNames[IPEVM_PROP_COUNT] = {
    "boot_verified",      "file",           "writable",
    "fsverity.signature", "dmverity.signature", "fsverity.digest",
    "dmverity.roothash"};

StringRef ir::opName(unsigned Op) {
  return Op < IPEVM_OP_COUNT ? OpNames[Op] : "<unknown>";
}

std::optional<unsigned> ir::opByName(StringRef Name) {
  for (unsigned I = 0; I < IPEVM_OP_COUNT; ++I)
    if (OpNames[I] == Name)
      return I;
  return std::nullopt;
}

StringRef ir::propName(unsigned Prop) {
  return Prop < IPEVM_PROP_COUNT ? PropNames[Prop] : "<unknown>";
}

std::optional<unsigned> ir::propByName(StringRef Name) {
  for (unsigned I = 0; I < IPEVM_PROP_COUNT; ++I)
    if (PropNames[I] == Name)
      return I;
  return std::nullopt;
}

std::optional<unsigned> ir::digestLength(StringRef Alg) {
  struct {
    StringRef Name;
    unsigned Len;
  } static const Known[] = {
      {"sha1", 20},      {"sha224", 28},     {"sha256", 32},
      {"sha384", 48},    {"sha512", 64},     {"sha3-224", 28},
      {"sha3-256", 32},  {"sha3-384", 48},   {"sha3-512", 64},
      {"sm3", 32},       {"blake2b-512", 64}, {"blake2s-256", 32},
      {"rmd160", 20},    {"streebog256", 32}, {"streebog512", 64}};
  for (const auto &K : Known)
    if (K.Name == Alg)
      return K.Len;
  return std::nullopt;
}

std::string Digest::str() const {
  return Alg + ":" + llvm::toHex(Bytes, /*LowerCase=*/true);
}

Expr Expr::digestIn(unsigned P, std::vector<Digest> Set) {
  llvm::sort(Set);
  Set.erase(std::unique(Set.begin(), Set.end()), Set.end());
  if (Set.empty())
    return constant(false);
  return Expr{DigestIn, P, std::move(Set), {}};
}

Expr Expr::makeNot(Expr E) {
  if (E.K == True || E.K == False)
    return constant(E.K == False);
  Expr N{Not, 0, {}, {}};
  N.Ops.push_back(std::move(E));
  return N;
}

static Expr makeNary(Expr::Kind K, Expr L, Expr R) {
  Expr N{K, 0, {}, {}};
  for (Expr *E : {&L, &R}) {
    if (E->K == K)
      for (Expr &Sub : E->Ops)
        N.Ops.push_back(std::move(Sub));
    else
      N.Ops.push_back(std::move(*E));
  }
  return N;
}

Expr Expr::makeAnd(Expr L, Expr R) { return makeNary(And, std::move(L), std::move(R)); }
Expr Expr::makeOr(Expr L, Expr R) { return makeNary(Or, std::move(L), std::move(R)); }

static void printExpr(const Expr &E, llvm::raw_ostream &OS, int Outer) {
  // Precedence: or 1, and 2, not 3, atoms 4.
  switch (E.K) {
  case Expr::True:
    OS << "true";
    return;
  case Expr::False:
    OS << "false";
    return;
  case Expr::BoolProp:
    OS << propName(E.Prop);
    return;
  case Expr::DigestIn:
    if (E.Set.size() == 1) {
      OS << propName(E.Prop) << " == " << E.Set[0].str();
      return;
    }
    OS << propName(E.Prop) << " in {";
    for (size_t I = 0; I < E.Set.size(); ++I)
      OS << (I ? ", " : "") << E.Set[I].str();
    OS << "}";
    return;
  case Expr::Not: {
    const Expr &Sub = E.Ops[0];
    if (Sub.K == Expr::DigestIn && Sub.Set.size() == 1) {
      OS << propName(Sub.Prop) << " != " << Sub.Set[0].str();
      return;
    }
    OS << "not ";
    printExpr(Sub, OS, 3);
    return;
  }
  case Expr::And:
  case Expr::Or: {
    int Prec = E.K == Expr::Or ? 1 : 2;
    if (Prec < Outer)
      OS << "(";
    for (size_t I = 0; I < E.Ops.size(); ++I) {
      if (I)
        OS << (E.K == Expr::Or ? " or " : " and ");
      printExpr(E.Ops[I], OS, Prec + 1);
    }
    if (Prec < Outer)
      OS << ")";
    return;
  }
  }
}

void ir::print(const Expr &E, llvm::raw_ostream &OS) { printExpr(E, OS, 0); }

static void printAction(Action A, llvm::raw_ostream &OS) {
  if (A.Audit)
    OS << "audit ";
  OS << (A.Allow ? "allow" : "deny");
}

static void printOps(OpMask M, llvm::raw_ostream &OS) {
  bool First = true;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    if (!(M & (1u << Op)))
      continue;
    OS << (First ? "" : ", ") << opName(Op);
    First = false;
  }
}

void ir::print(const Policy &P, llvm::raw_ostream &OS) {
  OS << "policy \"";
  OS.write_escaped(P.Name);
  OS << "\" version " << P.Version[0] << "." << P.Version[1] << "."
     << P.Version[2] << ";\n";
  if (P.Global.Present) {
    OS << "default ";
    printAction(P.Global.Act, OS);
    OS << ";\n";
  }
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    if (!P.PerOp[Op].Present)
      continue;
    OS << "default " << opName(Op) << " ";
    printAction(P.PerOp[Op].Act, OS);
    OS << ";\n";
  }
  for (const Rule &R : P.Rules) {
    print(R, OS);
    OS << "\n";
  }
}

void ir::print(const Rule &R, llvm::raw_ostream &OS) {
  printAction(R.Act, OS);
  OS << " ";
  printOps(R.Ops, OS);
  if (R.Cond.K != Expr::True) {
    OS << " if ";
    print(R.Cond, OS);
  }
  OS << ";";
}
