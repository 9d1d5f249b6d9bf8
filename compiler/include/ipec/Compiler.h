//===- Compiler.h - The ipec pipeline as library calls ----------*- C++ -*-===//
//
// What the ipec driver does, so that tests and other tools can do it too:
// source -> IR -> bytecode (verified) -> signed artifact -> file.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_COMPILER_H
#define IPEC_COMPILER_H

#include "ipec/Artifact.h"
#include "ipec/CodeGen.h"
#include "ipec/Diagnostics.h"
#include "ipec/Frontend.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <vector>

namespace ipec {

/// The language of a source: IPL, or upstream Linux IPE's policy text.
enum class InputFormat {
  Auto, ///< IPE if the first line that is not empty or a comment starts
        ///< with "policy_name=" (looksLikeIPE), else IPL.
  IPL,
  IPE,
};

struct CompileOptions {
  CodeGenOptions CodeGen;
  bool WarningsAsErrors = false;
  InputFormat Format = InputFormat::Auto;
  FrontendOptions Frontend;
  /// The worst-case cost the target kernel accepts
  /// (CONFIG_SECURITY_IPEVM_COST_LIMIT); a policy above it is an error.
  uint32_t CostLimit = DefaultCostLimit;
};

/// The format of Source: Format itself, unless it is Auto.
InputFormat resolveInputFormat(llvm::StringRef Source, InputFormat Format);

/// Compiles the source in buffer BufferID of Diags' SourceMgr (IPL or an
/// upstream IPE policy, per Opts.Format) to bytecode, which the C verifier
/// has accepted. Problems in the source go to Diags; returns nullopt if there
/// was any error.
std::optional<std::vector<uint8_t>>
compileToBytecode(unsigned BufferID, DiagnosticEngine &Diags,
                  const CompileOptions &Opts);

/// Writes Bytes to Path through a temporary file and a rename, so Path is
/// never left half-written.
llvm::Error writeFileAtomically(llvm::StringRef Path,
                                llvm::ArrayRef<uint8_t> Bytes);

} // namespace ipec

#endif // IPEC_COMPILER_H
