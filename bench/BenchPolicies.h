//===- BenchPolicies.h - Seeded policies and events for benchmarks -*- C++ -*-===//
//
// The policies the benchmarks measure, generated in memory from a seed so
// that every run and every machine sees the same ones:
//
//   digest policy  N rules "allow exec_any if fsverity.digest == sha256:<r>;",
//                  each its own rule, after "default deny;" -- the shape of
//                  upstream's gen_fsverity_hash_policy.py, and the case that
//                  is linear in N for upstream IPE;
//   mixed policy   N rules of the kinds a real appliance has: a JIT/W^X deny,
//                  revoked digests, boot_verified, dm-verity root hashes,
//                  dm-verity signatures, signed and plain fs-verity digests.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_BENCH_BENCHPOLICIES_H
#define IPEC_BENCH_BENCHPOLICIES_H

#include "ipec/IR/Evaluate.h"
#include "ipec/IR/Policy.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ipec {
namespace bench {

/// N distinct random sha256 digests.
std::vector<ir::Digest> randomDigests(size_t N, uint64_t Seed);

/// The digest policy over Digests, as IR (one rule per digest, in order).
ir::Policy digestPolicy(const std::vector<ir::Digest> &Digests);

/// The same policy as IPL text; parsing it gives digestPolicy(Digests).
std::string digestPolicyText(const std::vector<ir::Digest> &Digests);

/// One event: an operation and its facts.
struct Event {
  unsigned Op = IPEVM_OP_EXECUTE;
  ir::Facts F;
};

/// A mixed policy of N rules (N >= 100) and events that exercise it: hits of
/// every kind of rule, and misses.
struct Mixed {
  ir::Policy P;
  std::vector<Event> Events;
};
Mixed mixedPolicy(size_t N, size_t NumEvents, uint64_t Seed);

} // namespace bench
} // namespace ipec

#endif // IPEC_BENCH_BENCHPOLICIES_H
