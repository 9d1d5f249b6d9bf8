//===- Artifact.h - Load and check a .ipeb artifact -------------*- C++ -*-===//
//
// An artifact on disk is a CMS SignedData blob whose content is the
// bytecode, an envelope (ipevm_bc.h) of the bytecode and a detached
// SignedData, or (only when written with --unsigned) the raw bytecode. Loading
// always runs the C verifier: a program is never looked at, disassembled or
// evaluated before ipevm_verify() has accepted it.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_ARTIFACT_H
#define IPEC_ARTIFACT_H

#include "ipevm.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipec {

/// The default cost limit ipec verifies with, and the one the kernel uses.
constexpr uint32_t DefaultCostLimit = 1u << 20;

class Artifact {
public:
  /// Loads Bytes (the contents of a file). With a CertPath the CMS signature
  /// must verify against that certificate; without one a signed artifact's
  /// content is read unverified.
  static llvm::Expected<Artifact>
  fromBytes(std::vector<uint8_t> Bytes, llvm::StringRef CertPath = "",
            uint32_t CostLimit = DefaultCostLimit);
  static llvm::Expected<Artifact>
  fromFile(llvm::StringRef Path, llvm::StringRef CertPath = "",
           uint32_t CostLimit = DefaultCostLimit);

  const ipevm_prog &prog() const { return *Prog; }
  llvm::ArrayRef<uint8_t> bytecode() const { return *Code; }
  bool isSigned() const { return Signed; }
  /// Signed in the envelope form (bytecode + detached signature).
  bool isEnvelope() const { return Envelope; }
  size_t fileSize() const { return FileSize; }

private:
  Artifact() = default;
  // The program points into Code, so both live on the heap and move along.
  std::unique_ptr<std::vector<uint8_t>> Code;
  std::unique_ptr<ipevm_prog> Prog;
  bool Signed = false;
  bool Envelope = false;
  size_t FileSize = 0;
};

/// The errno the kernel returns for a verifier rejection, by name ("EBADMSG").
llvm::StringRef errnoNameFor(ipevm_err E);

/// Rule and source-map accessors over a verified program.
struct RuleSource {
  std::string File;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string Text;
};
/// The source of rule Rule, or nothing when the source map was stripped.
std::optional<RuleSource> ruleSource(const ipevm_prog &P, uint32_t Rule);
std::string policyName(const ipevm_prog &P);

} // namespace ipec

#endif // IPEC_ARTIFACT_H
