//===- Decompiler.h - Verified bytecode back to IPL -------------*- C++ -*-===//
#ifndef IPEC_DECOMPILER_H
#define IPEC_DECOMPILER_H

#include "ipevm.h"
#include "ipec/IR/Policy.h"

#include "llvm/Support/Error.h"

namespace ipec {

/// A policy that decides every event exactly as the verified program P does
/// (action and audit flag; rule numbering may differ), rebuilt from the
/// bytecode alone. Fails if it would need more than MaxRules rules.
llvm::Expected<ir::Policy> decompile(const ipevm_prog &P,
                                     size_t MaxRules = 100000);

} // namespace ipec

#endif // IPEC_DECOMPILER_H
