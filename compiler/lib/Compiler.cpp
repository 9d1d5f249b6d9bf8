//===- Compiler.cpp -------------------------------------------------------===//

#include "ipec/Compiler.h"
#include "ipec/Artifact.h"
#include "ipec/Frontend.h"
#include "ipec/IPEFrontend.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace ipec;
using namespace llvm;

InputFormat ipec::resolveInputFormat(StringRef Source, InputFormat Format) {
  if (Format != InputFormat::Auto)
    return Format;
  return looksLikeIPE(Source) ? InputFormat::IPE : InputFormat::IPL;
}

std::optional<std::vector<uint8_t>>
ipec::compileToBytecode(unsigned BufferID, DiagnosticEngine &Diags,
                        const CompileOptions &Opts) {
  if (Opts.WarningsAsErrors)
    Diags.setWarningsAsErrors(true);
  StringRef Source = Diags.sourceMgr().getMemoryBuffer(BufferID)->getBuffer();
  std::optional<ir::Policy> P =
      resolveInputFormat(Source, Opts.Format) == InputFormat::IPE
          ? parseIPE(BufferID, Diags)
          : parseIPL(BufferID, Diags, Opts.Frontend);
  if (!P || Diags.hasErrors())
    return std::nullopt;
  Expected<bc::Module> M = generateCode(std::move(*P), Opts.CodeGen);
  if (!M) {
    Diags.report(DiagID::err_codegen, SMLoc(), {toString(M.takeError())});
    return std::nullopt;
  }
  std::vector<uint8_t> Bytes = bc::serialize(*M);
  // Never hand out what the kernel would refuse. The verifier's costs
  // saturate, so checking without a limit first tells a policy that is too
  // costly for this kernel (the author's problem) from bad bytecode (ours).
  Expected<Artifact> A = Artifact::fromBytes(Bytes, "", UINT32_MAX);
  if (!A) {
    Diags.report(DiagID::err_internal_verify, SMLoc(),
                 {toString(A.takeError())});
    return std::nullopt;
  }
  if (A->prog().max_cost > Opts.CostLimit) {
    Diags.report(DiagID::err_cost_limit, SMLoc(),
                 {std::to_string(A->prog().max_cost),
                  std::to_string(Opts.CostLimit)});
    return std::nullopt;
  }
  return Bytes;
}

Error ipec::writeFileAtomically(StringRef Path, ArrayRef<uint8_t> Bytes) {
  SmallString<256> Model(Path);
  Model += ".tmp-%%%%%%%%";
  int FD;
  SmallString<256> Temp;
  if (std::error_code EC = sys::fs::createUniqueFile(Model, FD, Temp))
    return createStringError(EC, "cannot create '%s': %s", Model.c_str(),
                             EC.message().c_str());
  {
    raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS.write(reinterpret_cast<const char *>(Bytes.data()), Bytes.size());
    OS.close();
    if (OS.has_error()) {
      std::error_code EC = OS.error();
      OS.clear_error();
      sys::fs::remove(Temp);
      return createStringError(EC, "cannot write '%s': %s", Path.str().c_str(),
                               EC.message().c_str());
    }
  }
  if (std::error_code EC = sys::fs::rename(Temp, Path)) {
    sys::fs::remove(Temp);
    return createStringError(EC, "cannot write '%s': %s", Path.str().c_str(),
                             EC.message().c_str());
  }
  return Error::success();
}
