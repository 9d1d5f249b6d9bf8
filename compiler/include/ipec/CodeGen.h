//===- CodeGen.h - Policy IR to ipevm bytecode ------------------*- C++ -*-===//
//
// The optimising middle and back end. generateCode() runs a pipeline of named
// passes, chosen by the optimisation level:
//
//   policy passes (ir/Passes.h)  normalize, constfold, dead-rules
//   decision-graph passes        lower, decision-dag, merge-tables
//
// and lays the final graph out as a bytecode module. passPipeline() lists the
// passes of a level; CodeGenOptions::PrintAfter dumps the program after any
// of them (the policy as IPL with rule ids, the graph as the disassembler
// shows code). No pass changes a decision.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_CODEGEN_H
#define IPEC_CODEGEN_H

#include "ipec/Bytecode.h"
#include "ipec/IR/Policy.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace ipec {

struct PassInfo {
  llvm::StringRef Name;
  unsigned MinLevel; ///< The lowest -O level that runs it.
  llvm::StringRef Description;
};

/// Every pass, in pipeline order.
llvm::ArrayRef<PassInfo> allPasses();
/// The passes that -O<Level> runs, in order.
std::vector<llvm::StringRef> passPipeline(unsigned OptLevel);
constexpr unsigned MaxOptLevel = 2;

struct CodeGenOptions {
  bool EmitSourceMap = true;
  /// Embed the policy as canonical IPL (ir::print of the policy as given,
  /// before any pass) in the artifact.
  bool EmbedSource = false;
  /// 0: rules lowered as written, one test after another. 1: the policy
  /// passes and rule tables. 2: also the decision DAG that tests each
  /// boolean property at most once on any path.
  unsigned OptLevel = MaxOptLevel;
  /// Pass names after which the program is printed to PrintStream; "all"
  /// prints after every pass.
  std::vector<std::string> PrintAfter;
  llvm::raw_ostream *PrintStream = nullptr;
};

/// Lowers P to a bytecode module. Per operation, the rules that apply to it
/// become a decision DAG in rule order (first match wins) ending in the
/// operation's default; identical nodes are shared across rules and
/// operations. Rule ids are indices into P.Rules. Fails only when the policy
/// exceeds a limit of the format.
llvm::Expected<bc::Module> generateCode(const ir::Policy &P,
                                        const CodeGenOptions &Opts = {});
/// The same, consuming P (the passes then work on it in place).
llvm::Expected<bc::Module> generateCode(ir::Policy &&P,
                                        const CodeGenOptions &Opts = {});

} // namespace ipec

#endif // IPEC_CODEGEN_H
