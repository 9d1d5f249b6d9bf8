//===- Event.h - Events for simulation, from NAME=VALUE text ----*- C++ -*-===//
#ifndef IPEC_EVENT_H
#define IPEC_EVENT_H

#include "ipevm.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <string>
#include <vector>

namespace ipec {

/// An event described on the command line; owns the digest bytes that the
/// ipevm_event it produces points to.
class EventSpec {
public:
  /// Op is an operation name; each Prop is NAME=VALUE, for example
  /// boot_verified=true or fsverity_digest=sha256:<hex>. An event has a file
  /// unless file=false is given.
  static llvm::Expected<EventSpec> parse(llvm::StringRef Op,
                                         llvm::ArrayRef<std::string> Props);

  unsigned op() const { return Op; }
  /// A complete event (every property known); valid while *this lives.
  ipevm_event event() const;

private:
  unsigned Op = 0;
  uint32_t Bools = 1u << IPEVM_PROP_HAS_FILE;
  struct DigestValue {
    bool Present = false;
    std::string Alg;
    std::vector<uint8_t> Bytes;
  };
  std::array<DigestValue, IPEVM_DIGEST_PROPS> Digests;
};

} // namespace ipec

#endif // IPEC_EVENT_H
