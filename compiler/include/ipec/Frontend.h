//===- Frontend.h - IPL source to policy IR ---------------------*- C++ -*-===//
#ifndef IPEC_FRONTEND_H
#define IPEC_FRONTEND_H

#include "ipec/Diagnostics.h"
#include "ipec/IR/Policy.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ipec {

struct FrontendOptions {
  /// Where include <file.ipl> looks, in order (-I, then the stdlib).
  std::vector<std::string> IncludeDirs;
  /// -D NAME=VALUE, in order: VALUE is alg:hex, or @FILE, a digest list.
  std::vector<std::pair<std::string, std::string>> Defines;
};

/// Parses and checks the IPL source in buffer BufferID of Diags' SourceMgr,
/// and every file it includes. Every problem is reported to Diags (parsing
/// recovers and goes on); the policy is returned only when there was no
/// error.
std::optional<ir::Policy> parseIPL(unsigned BufferID, DiagnosticEngine &Diags,
                                   const FrontendOptions &Opts = {});

} // namespace ipec

#endif // IPEC_FRONTEND_H
