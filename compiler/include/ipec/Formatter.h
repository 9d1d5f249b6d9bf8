//===- Formatter.h - Canonical layout of IPL source -------------*- C++ -*-===//
//
// ipec fmt: one statement per line, canonical spacing, a rule macro's body
// indented, every comment kept where it was (on its own line or after a
// token). Idempotent; the formatted source compiles to the same bytecode.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_FORMATTER_H
#define IPEC_FORMATTER_H

#include "ipec/Diagnostics.h"

#include <optional>
#include <string>

namespace ipec {

/// Formats the IPL in buffer BufferID of Diags' SourceMgr: a policy, or a
/// module for include (told by whether it starts with 'policy'). Includes
/// are not followed. Returns nullopt after syntax errors, reported to Diags.
std::optional<std::string> formatIPL(unsigned BufferID,
                                     DiagnosticEngine &Diags);

} // namespace ipec

#endif // IPEC_FORMATTER_H
