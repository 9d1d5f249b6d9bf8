//===- Disassembler.cpp ---------------------------------------------------===//

#include "ipec/Disassembler.h"
#include "ipec/IR/Policy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

using namespace ipec;
using namespace llvm;

namespace {

struct TableView {
  std::string Alg;
  uint32_t KeyLen, Count, KeysOff, ValsOff, Owner, Flags;
};

TableView table(const ipevm_prog &P, unsigned I) {
  const uint8_t *D = P.tables + 4 + size_t(I) * IPEVM_TABLE_SIZE;
  uint32_t AlgOff = ipevm_rd32(D), AlgLen = ipevm_rd32(D + 4);
  return {
      std::string(reinterpret_cast<const char *>(P.strtab) + AlgOff, AlgLen),
      ipevm_rd32(D + 8),
      ipevm_rd32(D + 12),
      ipevm_rd32(D + 16),
      ipevm_rd32(D + 20),
      ipevm_rd32(D + 24),
      ipevm_rd32(D + 28)};
}

std::string origin(const ipevm_prog &P, unsigned Flags, uint32_t Rule) {
  switch ((Flags & IPEVM_DF_ORIGIN_MASK) >> IPEVM_DF_ORIGIN_SHIFT) {
  case IPEVM_ORIGIN_RULE:
    (void)P;
    return "rule " + std::to_string(Rule);
  case IPEVM_ORIGIN_OP_DEFAULT:
    return "op default";
  default:
    return "global default";
  }
}

} // namespace

void ipec::disassemble(const Artifact &A, raw_ostream &OS) {
  const ipevm_prog &P = A.prog();
  OS << "policy \"";
  OS.write_escaped(policyName(P));
  OS << "\" version " << P.version[0] << "." << P.version[1] << "."
     << P.version[2] << "\n";
  OS << "format " << IPEVM_FORMAT_VERSION << ", " << P.size
     << " bytes of bytecode"
     << (A.isSigned()
             ? std::string(A.isEnvelope() ? ", signed, envelope ("
                                          : ", signed (") +
                   std::to_string(A.fileSize()) + " bytes with signature)"
             : std::string(", unsigned"))
     << "\n";
  OS << "rules " << P.rule_count << ", instructions " << P.insn_count
     << ", tables " << P.table_count << ", source map "
     << (P.srcmap ? "present" : "stripped") << "\n";
  OS << "worst-case cost " << P.max_cost << "\n";

  OS << "\nentry points:\n";
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    OS << "  " << left_justify(ir::opName(Op), 16) << " @"
       << ipevm_rd32(P.entry + 4 * Op) << "  cost " << P.op_cost[Op] << "\n";

  OS << "\ncode:\n";
  for (uint32_t I = 0; I < P.insn_count; ++I) {
    const uint8_t *In = P.code + size_t(I) * IPEVM_INSN_SIZE;
    uint8_t Code = In[0], Prop = In[1];
    uint16_t B = ipevm_rd16(In + 2);
    uint32_t X = ipevm_rd32(In + 4), Y = ipevm_rd32(In + 8);
    OS << format_decimal(I, 6) << ": ";
    switch (Code) {
    case IPEVM_BR_BOOL:
      OS << "br_bool " << ir::propName(Prop) << " ? @" << X << " : @" << Y;
      break;
    case IPEVM_LOOKUP:
      OS << "lookup  " << ir::propName(Prop) << " in t" << B << " ? ";
      if (B < P.table_count && (table(P, B).Flags & IPEVM_TF_VALUED))
        OS << "(target from table)";
      else
        OS << "@" << X;
      OS << " : @" << Y;
      break;
    case IPEVM_LOOKUP_RULE:
      OS << "lookup_rule " << ir::propName(Prop) << " in t" << B << " ? ";
      if (B < P.table_count && (table(P, B).Flags & IPEVM_TF_ACTIONS))
        OS << "(rule and action from table)";
      else
        OS << ((X & IPEVM_DF_ALLOW) ? "allow" : "deny")
           << ((X & IPEVM_DF_AUDIT) ? " audit" : "") << " (rule from table)";
      OS << " : @" << Y;
      break;
    case IPEVM_DECIDE: {
      OS << "decide  " << ((B & IPEVM_DF_ALLOW) ? "allow" : "deny")
         << ((B & IPEVM_DF_AUDIT) ? " audit" : "") << " (" << origin(P, B, X)
         << ")";
      if ((B & IPEVM_DF_ORIGIN_MASK) == 0)
        if (auto S = ruleSource(P, X))
          OS << "  ; " << S->File << ":" << S->Line;
      break;
    }
    }
    OS << "\n";
  }

  if (P.table_count) {
    OS << "\ntables:\n";
    for (uint32_t T = 0; T < P.table_count; ++T) {
      TableView V = table(P, T);
      OS << "  t" << T << ": " << V.Alg << ", " << V.Count << " key"
         << (V.Count == 1 ? "" : "s") << " of " << V.KeyLen << " bytes"
         << ((V.Flags & IPEVM_TF_ACTIONS)  ? ", rule ids and actions"
             : (V.Flags & IPEVM_TF_RULES) ? ", rule ids"
             : (V.Flags & IPEVM_TF_VALUED) ? ", valued"
                                           : "")
         << "\n";
      uint32_t Shown = std::min<uint32_t>(V.Count, 8);
      for (uint32_t K = 0; K < Shown; ++K) {
        ArrayRef<uint8_t> Key(P.tables + V.KeysOff + size_t(K) * V.KeyLen,
                              V.KeyLen);
        OS << "      " << V.Alg << ":" << toHex(Key, /*LowerCase=*/true);
        uint32_t Val = V.Flags & IPEVM_TF_VALUED
                           ? ipevm_rd32(P.tables + V.ValsOff + 4 * K)
                           : 0;
        if (V.Flags & IPEVM_TF_ACTIONS)
          OS << " -> rule " << (Val & IPEVM_RV_RULE_MASK) << " "
             << (((Val >> IPEVM_RV_FLAGS_SHIFT) & IPEVM_DF_ALLOW) ? "allow"
                                                                  : "deny")
             << (((Val >> IPEVM_RV_FLAGS_SHIFT) & IPEVM_DF_AUDIT) ? " audit"
                                                                  : "");
        else if (V.Flags & IPEVM_TF_VALUED)
          OS << ((V.Flags & IPEVM_TF_RULES) ? " -> rule " : " -> @") << Val;
        OS << "\n";
      }
      if (Shown < V.Count)
        OS << "      ... " << (V.Count - Shown) << " more\n";
    }
  }

  if (P.source) {
    OS << "\nembedded source (canonical IPL, " << P.source_size << " bytes):\n";
    OS << StringRef(reinterpret_cast<const char *>(P.source), P.source_size);
  }

  OS << "\nrules:\n";
  if (!P.srcmap) {
    OS << "  (source map stripped)\n";
    return;
  }
  for (uint32_t R = 0; R < P.rule_count; ++R) {
    auto S = ruleSource(P, R);
    OS << "  rule " << R << ": " << S->File << ":" << S->Line << ":"
       << S->Column << ": " << S->Text << "\n";
  }
}

std::string ipec::describeDecision(const ipevm_prog &P, unsigned Op,
                                   const ipevm_decision &D) {
  std::string S = D.allow ? "allow" : "deny";
  switch (D.origin) {
  case IPEVM_ORIGIN_RULE: {
    S += " (rule " + std::to_string(D.rule);
    if (auto Src = ruleSource(P, D.rule))
      S += ", " + Src->File + ":" + std::to_string(Src->Line) + ":" +
           std::to_string(Src->Column) + ": " + Src->Text;
    S += ")";
    break;
  }
  case IPEVM_ORIGIN_OP_DEFAULT:
    S += " (default for '" + ir::opName(Op).str() + "')";
    break;
  default:
    S += " (global default)";
    break;
  }
  if (D.audit)
    S += " [audit]";
  return S;
}
