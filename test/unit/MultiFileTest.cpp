//===- MultiFileTest.cpp - A policy over files equals its flat form -------===//
//
// test/unit/Inputs/multifile/main.ipl spreads a policy over files: a
// relative include and a <...> one found through -I, sets (one from a digest
// list, one including others), -D values (a digest and a list) and macros
// (rule and condition, from two files). flat.ipl is the same policy written
// out by hand. Both are compiled and decide every event (every operation,
// every combination of boolean properties, each digest in and out of each
// set, each root hash) alike: the same action, audit flag, origin and rule.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Compiler.h"
#include "ipec/Event.h"
#include "ipec/IR/Policy.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <set>

using namespace ipec;

namespace {

const std::string Dir = IPEC_SOURCE_DIR "/test/unit/Inputs/multifile/";

std::string digest(char C) { return "sha256:" + std::string(64, C); }

/// Compiles Source (named Name, for relative paths) to a verified program.
std::optional<Artifact> compile(const std::string &Name, llvm::StringRef Source,
                                const FrontendOptions &Frontend) {
  llvm::SourceMgr SM;
  std::string Errors;
  llvm::raw_string_ostream OS(Errors);
  DiagnosticEngine Diags(SM, OS);
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(Source, Name), llvm::SMLoc());
  CompileOptions Opts;
  Opts.Frontend = Frontend;
  auto Bytes = compileToBytecode(Id, Diags, Opts);
  Diags.finish();
  EXPECT_TRUE(Bytes) << Name << ":\n" << OS.str();
  EXPECT_EQ(Diags.warningCount(), 0u) << OS.str();
  if (!Bytes)
    return std::nullopt;
  auto A = Artifact::fromBytes(*Bytes);
  EXPECT_TRUE(bool(A));
  if (!A) {
    llvm::consumeError(A.takeError());
    return std::nullopt;
  }
  return std::move(*A);
}

std::string readFile(const std::string &Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  EXPECT_TRUE(bool(Buf)) << Path;
  return Buf ? (*Buf)->getBuffer().str() : std::string();
}

FrontendOptions mainOptions() {
  FrontendOptions O;
  O.IncludeDirs = {Dir + "include"};
  O.Defines = {{"revoked", digest('4')},
               {"release_root", digest('a')},
               {"late_files", "@" + Dir + "lists/late.digests"}};
  return O;
}

/// Every event that tells the policies apart: each operation; anonymous
/// memory; and with a file, every combination of the boolean properties,
/// every digest of the policy (and one of none) or none, each root hash.
std::vector<std::pair<std::string, std::vector<std::string>>> allEvents() {
  std::vector<std::pair<std::string, std::vector<std::string>>> Events;
  const char *Bools[] = {"boot_verified", "writable", "fsverity.signature",
                         "dmverity.signature"};
  std::vector<std::string> FileDigests = {""};
  for (char C : {'1', '2', '3', '4', '5', '6', '7'})
    FileDigests.push_back(digest(C));
  std::vector<std::string> Roots = {"", digest('a'), digest('b')};
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    std::string OpName = ir::opName(Op).str();
    Events.push_back({OpName, {"file=false"}});
    for (unsigned Mask = 0; Mask < 16; ++Mask)
      for (const std::string &FD : FileDigests)
        for (const std::string &Root : Roots) {
          std::vector<std::string> Props;
          for (unsigned B = 0; B < 4; ++B)
            Props.push_back(std::string(Bools[B]) + "=" +
                            ((Mask >> B) & 1 ? "true" : "false"));
          if (!FD.empty())
            Props.push_back("fsverity.digest=" + FD);
          if (!Root.empty())
            Props.push_back("dmverity.roothash=" + Root);
          Events.push_back({OpName, Props});
        }
  }
  return Events;
}

/// The number of events that A and B decide differently; Allowed counts
/// A's allows, and the rules of A that decided some event.
unsigned differences(const Artifact &A, const Artifact &B, unsigned &Allowed,
                     std::set<uint32_t> &Rules, std::string &First) {
  unsigned Diff = 0;
  for (const auto &[Op, Props] : allEvents()) {
    auto Spec = EventSpec::parse(Op, Props);
    EXPECT_TRUE(bool(Spec)) << llvm::toString(Spec.takeError());
    if (!Spec)
      continue;
    ipevm_event EA = Spec->event(), EB = Spec->event();
    ipevm_decision DA{}, DB{};
    EXPECT_EQ(ipevm_eval(&A.prog(), &EA, &DA), IPEVM_E_OK);
    EXPECT_EQ(ipevm_eval(&B.prog(), &EB, &DB), IPEVM_E_OK);
    Allowed += DA.allow;
    if (DA.origin == IPEVM_ORIGIN_RULE)
      Rules.insert(DA.rule);
    bool Same = DA.allow == DB.allow && DA.audit == DB.audit &&
                DA.origin == DB.origin &&
                (DA.origin != IPEVM_ORIGIN_RULE || DA.rule == DB.rule);
    if (!Same && !Diff++) {
      First = Op;
      for (const std::string &P : Props)
        First += " " + P;
    }
  }
  return Diff;
}

TEST(MultiFile, DecidesLikeItsFlatForm) {
  auto Split =
      compile(Dir + "main.ipl", readFile(Dir + "main.ipl"), mainOptions());
  auto Flat = compile(Dir + "flat.ipl", readFile(Dir + "flat.ipl"), {});
  ASSERT_TRUE(Split && Flat);
  unsigned Allowed = 0;
  std::set<uint32_t> Rules;
  std::string First;
  EXPECT_EQ(differences(*Split, *Flat, Allowed, Rules, First), 0u)
      << "first event decided differently: " << First;
  // The events exercise the policy: allows, and every one of its 8 rules.
  EXPECT_GT(Allowed, 0u);
  EXPECT_EQ(Rules.size(), 8u);
}

// The comparison can fail: a flat form with one digest left out of a set
// differs from the split policy.
TEST(MultiFile, ComparisonSeesADifference) {
  auto Split =
      compile(Dir + "main.ipl", readFile(Dir + "main.ipl"), mainOptions());
  std::string Flat = readFile(Dir + "flat.ipl");
  std::string Gone = digest('3') + ", ";
  size_t At = Flat.find(Gone);
  ASSERT_NE(At, std::string::npos);
  Flat.erase(At, Gone.size());
  auto Mutant = compile(Dir + "flat.ipl", Flat, {});
  ASSERT_TRUE(Split && Mutant);
  unsigned Allowed = 0;
  std::set<uint32_t> Rules;
  std::string First;
  EXPECT_GT(differences(*Split, *Mutant, Allowed, Rules, First), 0u);
  EXPECT_NE(First.find(digest('3')), std::string::npos) << First;
}

} // namespace
