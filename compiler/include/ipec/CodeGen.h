//===- CodeGen.h - Policy IR to ipevm bytecode ------------------*- C++ -*-===//
#ifndef IPEC_CODEGEN_H
#define IPEC_CODEGEN_H

#include "ipec/Bytecode.h"
#include "ipec/IR/Policy.h"

#include "llvm/Support/Error.h"

namespace ipec {

struct CodeGenOptions {
  bool EmitSourceMap = true;
  /// Merge runs of digest rules into rule tables (-O1 and up).
  bool MergeDigestRules = true;
  /// Embed the policy as canonical IPL (ir::print) in the artifact.
  bool EmbedSource = false;
};

/// Lowers P to a bytecode module. Per operation, the rules that apply to it
/// become a decision DAG in rule order (first match wins) ending in the
/// operation's default; identical nodes are shared across rules and
/// operations. Rule ids are indices into P.Rules. Fails only when the policy
/// exceeds a limit of the format.
llvm::Expected<bc::Module> generateCode(const ir::Policy &P, const CodeGenOptions &Opts = {});

} // namespace ipec

#endif // IPEC_CODEGEN_H
