//===- ipec.cpp - The ipec command line -----------------------------------===//
//
// Parses the command line and calls the libraries; nothing else lives here.
// Exit status: 0 success, 1 a user error (bad input, rejected artifact),
// 2 a usage error. docs/ipec.md documents every command.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Compiler.h"
#include "ipec/Disassembler.h"
#include "ipec/Event.h"
#include "ipec/Signing.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace ipec;

namespace {

enum ExitCode { ExitOk = 0, ExitUserError = 1, ExitUsage = 2 };

cl::OptionCategory IpecCat("ipec options");

cl::SubCommand VerifyCmd("verify",
                         "Check an artifact's signature and its bytecode");
cl::SubCommand DumpCmd("dump", "Print an artifact's header, code, tables and "
                               "the source of each rule");
cl::SubCommand EvalCmd("eval", "Decide one event with an artifact");

// Compile (the top-level command).
cl::opt<std::string> Input(cl::Positional, cl::desc("<policy.ipl>"),
                           cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<std::string> Output("o", cl::desc("Write the artifact to <file>"),
                            cl::value_desc("file"), cl::cat(IpecCat),
                            cl::sub(*cl::TopLevelSubCommand));
cl::opt<std::string> Key("key", cl::desc("Private key (PEM) to sign with"),
                         cl::value_desc("key.pem"), cl::cat(IpecCat),
                         cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> Unsigned("unsigned",
                       cl::desc("Write an unsigned artifact (the kernel "
                                "refuses it; for tests and inspection)"),
                       cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> SyntaxOnly("fsyntax-only",
                         cl::desc("Check the source and write nothing"),
                         cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> WError("Werror", cl::desc("Treat warnings as errors"),
                     cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> StripSourceMap(
    "strip-source-map",
    cl::desc("Leave out the rule-to-source map (file:line of each rule)"),
    cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));

// Shared by compile, verify, dump and eval.
cl::opt<std::string>
    Cert("cert",
         cl::desc("Certificate (PEM): signs with --key, or verifies the "
                  "artifact's signature"),
         cl::value_desc("cert.pem"), cl::cat(IpecCat),
         cl::sub(*cl::TopLevelSubCommand), cl::sub(VerifyCmd),
         cl::sub(DumpCmd), cl::sub(EvalCmd));

cl::opt<std::string> VerifyInput(cl::Positional, cl::Required,
                                 cl::desc("<artifact.ipeb>"), cl::cat(IpecCat),
                                 cl::sub(VerifyCmd));
cl::opt<unsigned> CostLimit(
    "cost-limit", cl::desc("Reject programs whose worst-case cost is higher"),
    cl::init(DefaultCostLimit), cl::cat(IpecCat), cl::sub(VerifyCmd));

cl::opt<std::string> DumpInput(cl::Positional, cl::Required,
                               cl::desc("<artifact.ipeb>"), cl::cat(IpecCat),
                               cl::sub(DumpCmd));

cl::opt<std::string> EvalInput(cl::Positional, cl::Required,
                               cl::desc("<artifact.ipeb>"), cl::cat(IpecCat),
                               cl::sub(EvalCmd));
cl::opt<std::string>
    EvalOp("op", cl::Required,
           cl::desc("Operation: execute, mmap_exec, mprotect_exec, firmware, "
                    "kmodule, kexec_image, kexec_initramfs, policy, "
                    "x509_cert"),
           cl::value_desc("op"), cl::cat(IpecCat), cl::sub(EvalCmd));
cl::list<std::string>
    EvalProps("prop",
              cl::desc("A property of the event, NAME=VALUE (repeatable): "
                       "boot_verified=true, fsverity_digest=sha256:<hex>, "
                       "file=false, ..."),
              cl::value_desc("name=value"), cl::cat(IpecCat),
              cl::sub(EvalCmd));

int userError(StringRef Context, const Twine &Msg) {
  WithColor::error(errs(), Context) << Msg << "\n";
  return ExitUserError;
}

int usageError(const Twine &Msg) {
  WithColor::error(errs(), "ipec") << Msg << "\n";
  errs() << "run 'ipec --help' for usage\n";
  return ExitUsage;
}

int runCompile() {
  if (Input.empty())
    return usageError("no input file");
  if (!SyntaxOnly) {
    if (Unsigned && (!Key.empty() || !Cert.empty()))
      return usageError("--unsigned cannot be combined with --key or --cert");
    if (!Unsigned && (Key.empty() || Cert.empty()))
      return usageError(
          "signing needs both --key and --cert (or --unsigned to write an "
          "unsigned artifact)");
  }

  auto Buf = MemoryBuffer::getFileOrSTDIN(Input, /*IsText=*/false);
  if (!Buf)
    return userError("ipec", "cannot open '" + Input +
                                 "': " + Buf.getError().message());
  SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(std::move(*Buf), SMLoc());
  DiagnosticEngine Diags(SM, errs());
  CompileOptions Opts;
  Opts.WarningsAsErrors = WError;
  Opts.CodeGen.EmitSourceMap = !StripSourceMap;
  auto Bytecode = compileToBytecode(Id, Diags, Opts);
  if (!Bytecode) {
    if (Diags.errorCount())
      errs() << Diags.errorCount() << " error"
             << (Diags.errorCount() == 1 ? "" : "s") << " generated.\n";
    return ExitUserError;
  }
  if (SyntaxOnly)
    return ExitOk;

  std::vector<uint8_t> Out = std::move(*Bytecode);
  if (!Unsigned) {
    auto SignedBlob = signPayload(Out, Key, Cert);
    if (!SignedBlob)
      return userError("ipec", toString(SignedBlob.takeError()));
    Out = std::move(*SignedBlob);
  }
  std::string OutPath = Output;
  if (OutPath.empty()) {
    SmallString<256> P(Input == "-" ? std::string("a.ipeb") : Input.getValue());
    sys::path::replace_extension(P, "ipeb");
    OutPath = std::string(P);
  }
  if (Error E = writeFileAtomically(OutPath, Out))
    return userError("ipec", toString(std::move(E)));
  return ExitOk;
}

int runVerify() {
  if (Cert.empty())
    return usageError("verify needs --cert");
  auto A = Artifact::fromFile(VerifyInput, Cert, CostLimit);
  if (!A)
    return userError(VerifyInput, toString(A.takeError()));
  const ipevm_prog &P = A->prog();
  outs() << VerifyInput << ": OK: signature valid, bytecode valid; policy \""
         << policyName(P) << "\" version " << P.version[0] << "."
         << P.version[1] << "." << P.version[2] << ", worst-case cost "
         << P.max_cost << "\n";
  return ExitOk;
}

int runDump() {
  auto A = Artifact::fromFile(DumpInput, Cert);
  if (!A)
    return userError(DumpInput, toString(A.takeError()));
  disassemble(*A, outs());
  return ExitOk;
}

int runEval() {
  auto Spec = EventSpec::parse(EvalOp, EvalProps);
  if (!Spec)
    return usageError(toString(Spec.takeError()));
  auto A = Artifact::fromFile(EvalInput, Cert);
  if (!A)
    return userError(EvalInput, toString(A.takeError()));
  ipevm_event Ev = Spec->event();
  ipevm_decision D{};
  ipevm_err E = ipevm_eval(&A->prog(), &Ev, &D);
  if (E != IPEVM_E_OK)
    return userError(EvalInput, Twine("evaluation failed: ") +
                                    ipevm_strerror(E));
  outs() << describeDecision(A->prog(), Spec->op(), D) << "\n";
  return ExitOk;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  cl::HideUnrelatedOptions(IpecCat);
  cl::SetVersionPrinter([](raw_ostream &OS) { OS << "ipec 0.1.0\n"; });
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "ipec: compile IPL integrity policies to signed ipevm bytecode\n\n"
          "  ipec FILE.ipl -o OUT.ipeb --key KEY.pem --cert CERT.pem\n"
          "  ipec -fsyntax-only FILE.ipl\n"
          "  ipec verify --cert CERT.pem FILE.ipeb\n"
          "  ipec dump FILE.ipeb\n"
          "  ipec eval FILE.ipeb --op OP [--prop NAME=VALUE]...\n",
          &errs()))
    return ExitUsage;

  if (VerifyCmd)
    return runVerify();
  if (DumpCmd)
    return runDump();
  if (EvalCmd)
    return runEval();
  return runCompile();
}
