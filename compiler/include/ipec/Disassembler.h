//===- Disassembler.h - Human-readable view of verified bytecode -*- C++ -*-=//
#ifndef IPEC_DISASSEMBLER_H
#define IPEC_DISASSEMBLER_H

#include "ipec/Artifact.h"

#include "llvm/Support/raw_ostream.h"

namespace ipec {

/// Prints the header, entry points, code, tables and, per rule, where it was
/// written. Works from the verified bytes alone.
void disassemble(const Artifact &A, llvm::raw_ostream &OS);

/// "allow execute" style mnemonic for a decision: "rule 3", "default for
/// 'execute'" or "global default", with the rule's source when known.
std::string describeDecision(const ipevm_prog &P, unsigned Op,
                             const ipevm_decision &D);

} // namespace ipec

#endif // IPEC_DISASSEMBLER_H
