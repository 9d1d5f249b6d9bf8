//===- Bytecode.h - In-memory ipevm module and its serializer ---*- C++ -*-===//
//
// The C++ view of the format defined in kvm-interp/ipevm_bc.h. Codegen fills
// a Module; serialize() lays it out byte for byte, deterministically. Nothing
// here checks validity: the C verifier (ipevm_verify) is the judge, and ipec
// runs it on everything it writes.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_BYTECODE_H
#define IPEC_BYTECODE_H

#include "ipevm_bc.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ipec {
namespace bc {

struct Insn {
  uint8_t Code = 0;
  uint8_t A = 0;
  uint16_t B = 0;
  uint32_t X = 0;
  uint32_t Y = 0;

  static Insn brBool(unsigned Prop, uint32_t T, uint32_t F) {
    return {IPEVM_BR_BOOL, uint8_t(Prop), 0, T, F};
  }
  static Insn lookup(unsigned Prop, unsigned Table, uint32_t T, uint32_t F) {
    return {IPEVM_LOOKUP, uint8_t(Prop), uint16_t(Table), T, F};
  }
  /// Decides for the rule a hit maps to (Table must be a rule table).
  static Insn lookupRule(unsigned Prop, unsigned Table, bool Allow, bool Audit,
                         uint32_t Miss) {
    uint32_t Flags = (Allow ? IPEVM_DF_ALLOW : 0) | (Audit ? IPEVM_DF_AUDIT : 0);
    return {IPEVM_LOOKUP_RULE, uint8_t(Prop), uint16_t(Table), Flags, Miss};
  }
  static Insn decide(bool Allow, bool Audit, ipevm_origin Origin,
                     uint32_t Rule) {
    uint16_t Flags = (Allow ? IPEVM_DF_ALLOW : 0) |
                     (Audit ? IPEVM_DF_AUDIT : 0) |
                     uint16_t(unsigned(Origin) << IPEVM_DF_ORIGIN_SHIFT);
    return {IPEVM_DECIDE, 0, Flags, Rule, 0};
  }
};

/// A digest set; keys must be sorted and unique (the verifier checks).
struct Table {
  std::string Alg;
  uint32_t KeyLen = 0;
  std::vector<std::vector<uint8_t>> Keys;
  /// Empty, or one value per key: a branch target, or a rule id in a rule
  /// table.
  std::vector<uint32_t> Values;
  bool Rules = false;  ///< Values are rule ids (for LOOKUP_RULE).
  /// Rule values carry their rule's action (IPEVM_TF_ACTIONS).
  bool Actions = false;
  uint32_t Owner = 0;  ///< The instruction that uses a valued table.
};

struct SourceLocation {
  std::string File;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string Text;
};

struct Module {
  std::string Name;
  std::array<uint16_t, 3> Version = {0, 0, 0};
  uint32_t RuleCount = 0;
  std::array<uint32_t, IPEVM_OP_COUNT> Entry{};
  std::vector<Insn> Code;
  std::vector<Table> Tables;
  /// Empty when stripped; otherwise exactly RuleCount entries.
  std::vector<SourceLocation> SourceMap;
  /// The policy as canonical IPL, embedded when not empty.
  std::string Source;
};

/// Lays M out as an artifact. The same Module always gives the same bytes.
std::vector<uint8_t> serialize(const Module &M);

} // namespace bc
} // namespace ipec

#endif // IPEC_BYTECODE_H
