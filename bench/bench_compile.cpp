//===- bench_compile.cpp - Compile time, memory and size per rule ---------===//
//
// Compiles the digest policy of N rules (bench/BenchPolicies.h) from IPL text
// in-process, phase by phase, and prints one "key=value" line per result:
//
//   parse_s codegen_s serialize_s verify_s total_s   CPU seconds
//   peak_rss_mb            the process's peak resident set (getrusage), which
//                          includes the policy text itself (text_mb)
//   parse_peak_rss_mb      the same when parsing has ended
//   bytes bytes_per_rule   the artifact, with its source map (ipec's default)
//   stripped_bytes stripped_bytes_per_rule   with --strip-source-map
//   codegen_error          when codegen refused the policy
//
//   bench_compile N                    measure
//   bench_compile N --write-ipl FILE   only write the policy text to FILE
//
// Run one process per N: peak RSS is per process. scripts/bench.sh also times
// the ipec binary itself on the written text (/usr/bin/time).
//
//===----------------------------------------------------------------------===//

#include "BenchPolicies.h"

#include "ipec/Artifact.h"
#include "ipec/Bytecode.h"
#include "ipec/CodeGen.h"
#include "ipec/Frontend.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

using namespace ipec;

namespace {

constexpr uint64_t Seed = 20261123;

double peakRssMB() {
  struct rusage U;
  getrusage(RUSAGE_SELF, &U);
  return double(U.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

/// CPU time of the process: on a shared machine, far steadier than the
/// wall clock.
class Timer {
public:
  double lap() {
    double Now = cpuSeconds();
    double S = Now - Last;
    Last = Now;
    return S;
  }

private:
  static double cpuSeconds() {
    struct timespec T;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &T);
    return double(T.tv_sec) + double(T.tv_nsec) / 1e9;
  }
  double Last = cpuSeconds();
};

int usage() {
  std::fprintf(stderr, "usage: bench_compile N [--write-ipl FILE]\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--write-ipl") == 0))
    return usage();
  char *End;
  size_t N = std::strtoull(argv[1], &End, 10);
  if (*End || N == 0)
    return usage();
  std::string Text =
      bench::digestPolicyText(bench::randomDigests(N, Seed + N));
  if (argc == 4) {
    std::ofstream Out(argv[3], std::ios::binary);
    Out << Text;
    return Out.good() ? 0 : 1;
  }

  std::printf("rules=%zu\ntext_mb=%.1f\n", N, double(Text.size()) / 1e6);
  Timer T;
  llvm::SourceMgr SM;
  DiagnosticEngine Diags(SM, llvm::errs());
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(Text, "bench.ipl"), llvm::SMLoc());
  std::optional<ir::Policy> P = parseIPL(Id, Diags);
  double Parse = T.lap();
  std::printf("parse_s=%.3f\nparse_peak_rss_mb=%.1f\n", Parse, peakRssMB());
  if (!P || Diags.hasErrors()) {
    std::printf("error=the generated policy did not parse\n");
    return 1;
  }

  llvm::Expected<bc::Module> M = generateCode(*P);
  double Codegen = T.lap();
  std::printf("codegen_s=%.3f\n", Codegen);
  if (!M) {
    std::printf("codegen_error=%s\npeak_rss_mb=%.1f\n",
                llvm::toString(M.takeError()).c_str(), peakRssMB());
    return 0;
  }
  std::vector<uint8_t> Bytes = bc::serialize(*M);
  double Serialize = T.lap();
  size_t Size = Bytes.size();
  llvm::Expected<Artifact> A = Artifact::fromBytes(std::move(Bytes));
  double Verify = T.lap();
  if (!A) {
    std::printf("error=%s\n", llvm::toString(A.takeError()).c_str());
    return 1;
  }
  std::printf("serialize_s=%.3f\nverify_s=%.3f\ntotal_s=%.3f\n", Serialize,
              Verify, Parse + Codegen + Serialize + Verify);
  std::printf("peak_rss_mb=%.1f\n", peakRssMB());
  std::printf("max_cost=%u\n", unsigned(A->prog().max_cost));
  std::printf("bytes=%zu\nbytes_per_rule=%.1f\n", Size, double(Size) / N);

  CodeGenOptions Stripped;
  Stripped.EmitSourceMap = false;
  llvm::Expected<bc::Module> MS = generateCode(*P, Stripped);
  if (!MS) {
    llvm::consumeError(MS.takeError());
    return 1;
  }
  size_t SSize = bc::serialize(*MS).size();
  std::printf("stripped_bytes=%zu\nstripped_bytes_per_rule=%.1f\n", SSize,
              double(SSize) / N);
  return 0;
}
