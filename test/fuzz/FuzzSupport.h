//===- FuzzSupport.h - What both fuzzers need ------------------*- C++ -*-===//
#ifndef IPEC_FUZZ_SUPPORT_H
#define IPEC_FUZZ_SUPPORT_H

#include <cstddef>
#include <cstdint>

/// A property violation: trap, so libFuzzer records the input as a crash.
#define CHECK(Cond)                                                            \
  do {                                                                         \
    if (!(Cond))                                                               \
      __builtin_trap();                                                        \
  } while (0)

namespace ipec {
namespace fuzz {

inline uint64_t fnv1a(const uint8_t *P, size_t N) {
  uint64_t H = 0xcbf29ce484222325ull;
  for (size_t I = 0; I < N; ++I)
    H = (H ^ P[I]) * 0x100000001b3ull;
  return H;
}

/// xorshift64*: small, deterministic, seeded from the input.
class Rng {
public:
  explicit Rng(uint64_t Seed) : S(Seed | 1) {}
  uint32_t next() {
    S ^= S >> 12;
    S ^= S << 25;
    S ^= S >> 27;
    return uint32_t((S * 0x2545f4914f6cdd1dull) >> 32);
  }
  uint32_t below(uint32_t N) { return N ? next() % N : 0; }
  bool chance(unsigned Percent) { return below(100) < Percent; }

private:
  uint64_t S;
};

} // namespace fuzz
} // namespace ipec

#endif // IPEC_FUZZ_SUPPORT_H
