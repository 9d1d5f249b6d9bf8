//===- fuzz_seedgen.cpp - Verifier seeds that codegen does not emit -------===//
//
// Writes a few valid artifacts built directly as bc::Modules, for the parts
// of the format that ipec's codegen does not produce today (valued LOOKUP
// tables: a multiway branch on a digest; tables of several algorithms and
// key lengths), so that fuzz_verifier starts next to them. Each is checked
// by Artifact::fromBytes before it is written. make-corpus.sh runs it.
//
//   fuzz_seedgen DIR
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Bytecode.h"

#include "llvm/Support/Error.h"

#include <cstdio>
#include <fstream>
#include <string>

using namespace ipec;

namespace {

std::vector<uint8_t> key(unsigned Len, uint8_t Fill) {
  return std::vector<uint8_t>(Len, Fill);
}

/// A multiway branch on fsverity.digest for the execution operations, a
/// plain sha512 table for firmware, a default for the rest.
bc::Module valued(bool SourceMap) {
  bc::Module M;
  M.Name = "seed-valued";
  M.Version = {1, 2, 3};
  M.RuleCount = 3;
  bc::Table T0;
  T0.Alg = "sha256";
  T0.KeyLen = 32;
  T0.Keys = {key(32, 0x11), key(32, 0x22), key(32, 0x33)};
  T0.Values = {1, 2, 3};
  T0.Owner = 0;
  bc::Table T1;
  T1.Alg = "sha512";
  T1.KeyLen = 64;
  T1.Keys = {key(64, 0x01), key(64, 0xfe)};
  M.Tables = {T0, T1};
  M.Code = {
      bc::Insn::lookup(IPEVM_PROP_FSVERITY_DIGEST, 0, 1, 4), // hits: T0's targets
      bc::Insn::brBool(IPEVM_PROP_BOOT_VERIFIED, 2, 4),
      bc::Insn::decide(true, false, IPEVM_ORIGIN_RULE, 0),
      bc::Insn::decide(false, true, IPEVM_ORIGIN_RULE, 1),
      bc::Insn::lookup(IPEVM_PROP_DMVERITY_ROOTHASH, 1, 5, 6),
      bc::Insn::decide(true, true, IPEVM_ORIGIN_RULE, 2),
      bc::Insn::decide(false, false, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0),
  };
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    M.Entry[Op] = Op <= IPEVM_OP_MPROTECT_EXEC ? 0
                  : Op == IPEVM_OP_FIRMWARE    ? 4
                                               : 6;
  if (SourceMap)
    for (unsigned R = 0; R < M.RuleCount; ++R)
      M.SourceMap.push_back({"seed.ipl", R + 1, 1, "rule " + std::to_string(R)});
  return M;
}

bool write(const std::string &Dir, const std::string &Name,
           const bc::Module &M) {
  std::vector<uint8_t> Bytes = bc::serialize(M);
  llvm::Expected<Artifact> A = Artifact::fromBytes(Bytes);
  if (!A) {
    std::fprintf(stderr, "fuzz_seedgen: %s: %s\n", Name.c_str(),
                 llvm::toString(A.takeError()).c_str());
    return false;
  }
  std::ofstream Out(Dir + "/" + Name, std::ios::binary);
  Out.write(reinterpret_cast<const char *>(Bytes.data()),
            std::streamsize(Bytes.size()));
  return Out.good();
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seedgen DIR\n");
    return 2;
  }
  bool Ok = write(argv[1], "seedgen-valued.ipeb", valued(true)) &&
            write(argv[1], "seedgen-valued-stripped.ipeb", valued(false));
  return Ok ? 0 : 1;
}
