//===- ipec.cpp - The ipec command line -----------------------------------===//
//
// Parses the command line and calls the libraries; nothing else lives here.
// Exit status: 0 success, 1 a user error (bad input, rejected artifact),
// 2 a usage error. docs/ipec.md documents every command.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Compiler.h"
#include "ipec/Decompiler.h"
#include "ipec/Disassembler.h"
#include "ipec/Event.h"
#include "ipec/Formatter.h"
#include "ipec/IPEFrontend.h"
#include "ipec/Signing.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
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
cl::SubCommand
    DecompileCmd("decompile",
                 "Print IPL that decides exactly as an artifact's bytecode");
cl::SubCommand FmtCmd("fmt", "Print IPL sources in canonical layout");
cl::SubCommand TranslateCmd("translate",
                            "Translate an upstream IPE policy to IPL with "
                            "the same decisions");

// Compile (the top-level command).
cl::opt<std::string> Input(cl::Positional, cl::desc("<policy.ipl>"),
                           cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<std::string> Output("o",
                            cl::desc("Write the artifact (translate: the "
                                     "IPL source) to <file>"),
                            cl::value_desc("file"), cl::cat(IpecCat),
                            cl::sub(*cl::TopLevelSubCommand),
                            cl::sub(TranslateCmd));
cl::opt<InputFormat> Format(
    "input-format", cl::desc("Language of the source (default: auto)"),
    cl::values(clEnumValN(InputFormat::Auto, "auto",
                          "upstream IPE if the first line that is not empty "
                          "or a comment starts with 'policy_name=', else IPL"),
               clEnumValN(InputFormat::IPL, "ipl", "IPL"),
               clEnumValN(InputFormat::IPE, "ipe",
                          "an upstream Linux IPE text policy")),
    cl::init(InputFormat::Auto), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand));
cl::opt<std::string> Key("key", cl::desc("Private key (PEM) to sign with"),
                         cl::value_desc("key.pem"), cl::cat(IpecCat),
                         cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> Unsigned("unsigned",
                       cl::desc("Write an unsigned artifact (the kernel "
                                "refuses it; for tests and inspection)"),
                       cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<SignatureForm> SigForm(
    "signature", cl::desc("How the signature travels (default: auto)"),
    cl::values(
        clEnumValN(SignatureForm::Auto, "auto",
                   "attached if the artifact fits the kernel's 64 KiB limit "
                   "on a PKCS#7 blob, else the envelope"),
        clEnumValN(SignatureForm::Attached, "attached",
                   "a PKCS#7 SignedData with the bytecode inside"),
        clEnumValN(SignatureForm::Envelope, "envelope",
                   "the bytecode followed by a detached PKCS#7 signature")),
    cl::init(SignatureForm::Auto), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> SyntaxOnly("fsyntax-only",
                         cl::desc("Check the source and write nothing"),
                         cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::list<std::string> IncludeDirs(
    "I", cl::Prefix,
    cl::desc("Add <dir> to the directories searched by include <file.ipl>"),
    cl::value_desc("dir"), cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::list<std::string> Defines(
    "D", cl::Prefix,
    cl::desc("Define NAME as a digest (NAME=sha256:<hex>) or as the set in a "
             "digest-list file (NAME=@FILE)"),
    cl::value_desc("NAME=VALUE"), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand));
cl::list<std::string> WarningOptions(
    "W", cl::Prefix,
    cl::desc("Warnings: -W<group> enables, -Wno-<group> disables, -Werror "
             "makes all errors, -Werror=<group> one group"),
    cl::value_desc("option"), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand), cl::sub(TranslateCmd));
cl::opt<unsigned>
    ErrorLimit("ferror-limit",
               cl::desc("Stop reporting after <n> errors (0: no limit)"),
               cl::init(20), cl::value_desc("n"), cl::cat(IpecCat),
               cl::sub(*cl::TopLevelSubCommand), cl::sub(TranslateCmd));
cl::opt<DiagnosticFormat> DiagFormat(
    "diagnostics-format", cl::desc("How diagnostics are printed"),
    cl::values(clEnumValN(DiagnosticFormat::Text, "text",
                          "file:line:col: error: ..., with source and caret"),
               clEnumValN(DiagnosticFormat::JSON, "json",
                          "one JSON object per line, with ranges and notes")),
    cl::init(DiagnosticFormat::Text), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand), cl::sub(TranslateCmd));
cl::opt<bool> EmbedSource(
    "embed-source",
    cl::desc("Keep the policy as canonical IPL inside the signed artifact "
             "(shown by dump and decompile)"),
    cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> StripSourceMap(
    "strip-source-map",
    cl::desc("Leave out the rule-to-source map (file:line of each rule)"),
    cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));

cl::opt<unsigned> OptLevel(
    "O", cl::Prefix,
    cl::desc("Optimisation level: -O0 (rules as written), -O1, -O2 (default)"),
    cl::init(MaxOptLevel), cl::value_desc("level"), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand));
cl::list<std::string> PrintAfter(
    "print-after", cl::CommaSeparated,
    cl::desc("Print the program to standard output after the named passes "
             "(--print-passes lists them)"),
    cl::value_desc("pass,..."), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> PrintAfterAll("print-after-all",
                            cl::desc("Print the program after every pass"),
                            cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));
cl::opt<bool> PrintPasses(
    "print-passes",
    cl::desc("List the passes, in order, with the levels that run them"),
    cl::cat(IpecCat), cl::sub(*cl::TopLevelSubCommand));

// Shared by compile, verify, dump and eval.
cl::opt<std::string>
    Cert("cert",
         cl::desc("Certificate (PEM): signs with --key, or verifies the "
                  "artifact's signature"),
         cl::value_desc("cert.pem"), cl::cat(IpecCat),
         cl::sub(*cl::TopLevelSubCommand), cl::sub(VerifyCmd), cl::sub(DumpCmd),
         cl::sub(EvalCmd), cl::sub(DecompileCmd));
cl::opt<std::string> DecompileInput(cl::Positional, cl::Required,
                                    cl::desc("<artifact.ipeb>"),
                                    cl::cat(IpecCat), cl::sub(DecompileCmd));

cl::opt<std::string> VerifyInput(cl::Positional, cl::Required,
                                 cl::desc("<artifact.ipeb>"), cl::cat(IpecCat),
                                 cl::sub(VerifyCmd));
cl::opt<unsigned> CostLimit(
    "cost-limit", cl::desc("Reject programs whose worst-case cost is higher"),
    cl::init(DefaultCostLimit), cl::cat(IpecCat),
    cl::sub(*cl::TopLevelSubCommand), cl::sub(VerifyCmd));

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
              cl::value_desc("name=value"), cl::cat(IpecCat), cl::sub(EvalCmd));

enum class TranslateTarget { IPL };
cl::opt<std::string> TranslateInput(cl::Positional, cl::Required,
                                    cl::desc("<policy.pol>"), cl::cat(IpecCat),
                                    cl::sub(TranslateCmd));
cl::opt<TranslateTarget>
    TranslateTo("to", cl::desc("Language to translate to (default: ipl)"),
                cl::values(clEnumValN(TranslateTarget::IPL, "ipl", "IPL")),
                cl::init(TranslateTarget::IPL), cl::cat(IpecCat),
                cl::sub(TranslateCmd));

cl::list<std::string> FmtInputs(cl::Positional, cl::OneOrMore,
                                cl::desc("<policy.ipl>..."), cl::cat(IpecCat),
                                cl::sub(FmtCmd));
cl::opt<bool> FmtInPlace("i", cl::desc("Rewrite each file in place"),
                         cl::cat(IpecCat), cl::sub(FmtCmd));
cl::opt<bool> FmtCheck("check",
                       cl::desc("Write nothing; name the files that are not "
                                "formatted and exit 1 if there are any"),
                       cl::cat(IpecCat), cl::sub(FmtCmd));

/// The standard library: beside the build tree's sources, or installed
/// under share/ipec/stdlib next to the binary's prefix.
std::string stdlibDir() {
  std::string Exe = sys::fs::getMainExecutable(nullptr, (void *)&stdlibDir);
  SmallString<256> Installed(
      sys::path::parent_path(sys::path::parent_path(Exe)));
  sys::path::append(Installed, "share", "ipec", "stdlib");
  if (sys::fs::is_directory(Installed))
    return std::string(Installed);
  return IPEC_STDLIB_DIR;
}

/// Applies the diagnostic options; false (after a message) on a bad one.
bool configureDiagnostics(DiagnosticEngine &Diags) {
  for (const std::string &W : WarningOptions)
    if (Error E = Diags.applyWarningOption(W)) {
      WithColor::error(errs(), "ipec") << toString(std::move(E)) << "\n";
      return false;
    }
  Diags.setErrorLimit(ErrorLimit);
  Diags.setFormat(DiagFormat);
  return true;
}

/// Ends a run with errors: clang's closing count, for people.
int sourceErrors(DiagnosticEngine &Diags) {
  Diags.finish();
  if (Diags.errorCount() && DiagFormat == DiagnosticFormat::Text)
    errs() << Diags.errorCount() << " error"
           << (Diags.errorCount() == 1 ? "" : "s") << " generated.\n";
  return 1;
}

/// Reads a source file (or - for standard input) into SM.
Expected<unsigned> addSource(SourceMgr &SM, StringRef Path) {
  auto Buf = MemoryBuffer::getFileOrSTDIN(Path, /*IsText=*/false);
  if (!Buf)
    return createStringError(Buf.getError(), "cannot open '%s': %s",
                             Path.str().c_str(),
                             Buf.getError().message().c_str());
  return SM.AddNewSourceBuffer(std::move(*Buf), SMLoc());
}

int userError(StringRef Context, const Twine &Msg) {
  WithColor::error(errs(), Context) << Msg << "\n";
  return ExitUserError;
}

int usageError(const Twine &Msg) {
  WithColor::error(errs(), "ipec") << Msg << "\n";
  errs() << "run 'ipec --help' for usage\n";
  return ExitUsage;
}

int printPasses() {
  for (const PassInfo &P : allPasses())
    outs() << left_justify(P.Name, 14) << " -O" << P.MinLevel << "+  "
           << P.Description << "\n";
  return ExitOk;
}

int runCompile() {
  if (PrintPasses)
    return printPasses();
  if (Input.empty())
    return usageError("no input file");
  if (OptLevel > MaxOptLevel)
    return usageError("unknown optimisation level -O" + Twine(OptLevel) +
                      " (use -O0, -O1 or -O2)");
  for (StringRef Name : PrintAfter)
    if (!llvm::any_of(allPasses(),
                      [&](const PassInfo &P) { return P.Name == Name; }))
      return usageError("--print-after: no pass named '" + Name +
                        "' (--print-passes lists them)");
  if (!SyntaxOnly) {
    if (Unsigned && (!Key.empty() || !Cert.empty()))
      return usageError("--unsigned cannot be combined with --key or --cert");
    if (!Unsigned && (Key.empty() || Cert.empty()))
      return usageError(
          "signing needs both --key and --cert (or --unsigned to write an "
          "unsigned artifact)");
  }

  SourceMgr SM;
  auto Id = addSource(SM, Input);
  if (!Id)
    return userError("ipec", toString(Id.takeError()));
  DiagnosticEngine Diags(SM, errs());
  if (!configureDiagnostics(Diags))
    return ExitUsage;
  CompileOptions Opts;
  Opts.Format = Format;
  Opts.CodeGen.EmitSourceMap = !StripSourceMap;
  Opts.CodeGen.EmbedSource = EmbedSource;
  Opts.CodeGen.OptLevel = OptLevel;
  Opts.CodeGen.PrintAfter.assign(PrintAfter.begin(), PrintAfter.end());
  if (PrintAfterAll)
    Opts.CodeGen.PrintAfter.push_back("all");
  Opts.CodeGen.PrintStream = &outs();
  Opts.CostLimit = CostLimit;
  Opts.Frontend.IncludeDirs.assign(IncludeDirs.begin(), IncludeDirs.end());
  Opts.Frontend.IncludeDirs.push_back(stdlibDir());
  for (StringRef D : Defines) {
    auto [Name, Value] = D.split('=');
    if (!D.contains('=') || Name.empty() || Value.empty())
      return usageError("-D needs NAME=VALUE, got '" + D + "'");
    Opts.Frontend.Defines.push_back({Name.str(), Value.str()});
  }
  auto Bytecode = compileToBytecode(*Id, Diags, Opts);
  Diags.finish();
  if (!Bytecode)
    return sourceErrors(Diags);
  if (SyntaxOnly)
    return ExitOk;

  std::vector<uint8_t> Out = std::move(*Bytecode);
  if (!Unsigned) {
    auto SignedBlob = signArtifact(Out, Key, Cert, SigForm);
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

int runTranslate() {
  SourceMgr SM;
  auto Id = addSource(SM, TranslateInput);
  if (!Id)
    return userError("ipec", toString(Id.takeError()));
  DiagnosticEngine Diags(SM, errs());
  if (!configureDiagnostics(Diags))
    return ExitUsage;
  std::optional<std::string> IPL = translateIPEToIPL(*Id, Diags);
  Diags.finish();
  if (!IPL || Diags.hasErrors())
    return sourceErrors(Diags);
  if (Output.empty() || Output == "-") {
    outs() << *IPL;
    return ExitOk;
  }
  if (Error E = writeFileAtomically(
          Output,
          ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(IPL->data()),
                            IPL->size())))
    return userError("ipec", toString(std::move(E)));
  return ExitOk;
}

int runFmt() {
  if (FmtInPlace && FmtCheck)
    return usageError("-i cannot be combined with --check");
  if (FmtInPlace && llvm::is_contained(FmtInputs, "-"))
    return usageError("-i cannot rewrite standard input");
  // Every file is formatted before anything is written or printed, so a
  // syntax error anywhere leaves every file and the output untouched.
  SourceMgr SM;
  DiagnosticEngine Diags(SM, errs());
  std::vector<std::pair<std::string, bool>> Results; // text, changed
  for (const std::string &Path : FmtInputs) {
    auto Id = addSource(SM, Path);
    if (!Id)
      return userError("ipec", toString(Id.takeError()));
    auto Text = formatIPL(*Id, Diags);
    if (!Text)
      continue;
    bool Changed = *Text != SM.getMemoryBuffer(*Id)->getBuffer();
    Results.push_back({std::move(*Text), Changed});
  }
  if (Diags.hasErrors())
    return sourceErrors(Diags);
  int Status = ExitOk;
  for (size_t I = 0; I < Results.size(); ++I) {
    const auto &[Text, Changed] = Results[I];
    if (FmtCheck) {
      if (Changed) {
        outs() << FmtInputs[I] << "\n";
        Status = ExitUserError;
      }
    } else if (FmtInPlace) {
      if (!Changed)
        continue;
      if (Error E = writeFileAtomically(
              FmtInputs[I],
              ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(Text.data()),
                                Text.size())))
        return userError("ipec", toString(std::move(E)));
    } else {
      outs() << Text;
    }
  }
  return Status;
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

int runDecompile() {
  auto A = Artifact::fromFile(DecompileInput, Cert);
  if (!A)
    return userError(DecompileInput, toString(A.takeError()));
  auto P = decompile(A->prog());
  if (!P)
    return userError(DecompileInput, toString(P.takeError()));
  outs() << "# Decompiled from " << DecompileInput
         << " by ipec: decides every event exactly as its bytecode does.\n";
  ir::print(*P, outs());
  if (const ipevm_prog &Prog = A->prog(); Prog.source) {
    // What the signer compiled, kept by --embed-source; as comments, so the
    // output still compiles.
    outs() << "\n# Embedded source (ipec --embed-source), as signed:\n";
    StringRef Src(reinterpret_cast<const char *>(Prog.source),
                  Prog.source_size);
    SmallVector<StringRef, 64> Lines;
    Src.rtrim('\n').split(Lines, '\n');
    for (StringRef L : Lines)
      outs() << "#   " << L << "\n";
  }
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
    return userError(EvalInput,
                     Twine("evaluation failed: ") + ipevm_strerror(E));
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
          "  ipec translate --to=ipl FILE.pol [-o OUT.ipl]\n"
          "  ipec fmt [-i | --check] FILE.ipl...\n"
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
  if (DecompileCmd)
    return runDecompile();
  if (TranslateCmd)
    return runTranslate();
  if (FmtCmd)
    return runFmt();
  return runCompile();
}
