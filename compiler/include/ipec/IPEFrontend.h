//===- IPEFrontend.h - Upstream Linux IPE text policies ---------*- C++ -*-===//
//
// Reads the policy text that upstream Linux IPE's kernel parser reads
// (security/ipe/policy_parser.c), line by line and token by token as it does,
// and gives it exactly the kernel's meaning and verdict. Every error names
// the errno the kernel returns for the same text; texts the kernel accepts
// but that are almost certainly mistakes get warnings. docs/ipe-compat.md is
// the contract.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_IPEFRONTEND_H
#define IPEC_IPEFRONTEND_H

#include "ipec/Diagnostics.h"
#include "ipec/IR/Policy.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace ipec {

/// What ipec made of an upstream policy.
struct IPEParseResult {
  /// The policy, when ipec accepts the text (no error was reported).
  std::optional<ir::Policy> Policy;
  /// What the kernel returns when this text is written to
  /// /sys/kernel/security/ipe/new_policy (parse, then load): 0 when it
  /// accepts it, else a positive errno (EBADMSG, EINVAL, ERANGE, EACCES or
  /// ENAMETOOLONG). It can be 0 while ipec refuses the text (a NUL byte).
  int KernelErrno = 0;
  /// For each rule of Policy, why its meaning deserves a remark (a warning
  /// was reported for it): one sentence each, in source order.
  std::vector<std::vector<std::string>> RuleNotes;
  /// Where the policy name was written (for later diagnostics).
  llvm::SMRange NameRange;
};

/// Parses the upstream IPE policy in buffer BufferID of Diags' SourceMgr.
/// Every problem is reported to Diags; the policy is returned only when there
/// was no error.
std::optional<ir::Policy> parseIPE(unsigned BufferID, DiagnosticEngine &Diags);

/// parseIPE, plus the kernel's verdict and the remarks about each rule.
IPEParseResult parseIPEDetailed(unsigned BufferID, DiagnosticEngine &Diags);

/// True when Source looks like an upstream IPE policy: its first line that is
/// not empty or a comment starts (after blanks) with "policy_name=".
bool looksLikeIPE(llvm::StringRef Source);

/// The errno's symbolic name ("EBADMSG"), or "0".
llvm::StringRef ipeErrnoName(int Errno);

/// Translates the upstream IPE policy in buffer BufferID to IPL source that
/// compiles to the same decisions: ir::print's output, with a comment header
/// naming the source and, before each rule, the upstream line it comes from
/// and, when it was warned about, why. Problems go to Diags; returns nullopt
/// when there was an error (including a policy name IPL cannot spell).
std::optional<std::string> translateIPEToIPL(unsigned BufferID,
                                             DiagnosticEngine &Diags);

} // namespace ipec

#endif // IPEC_IPEFRONTEND_H
