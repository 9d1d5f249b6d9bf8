//===- Artifact.cpp -------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Signing.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace ipec;
using namespace llvm;

StringRef ipec::errnoNameFor(ipevm_err E) {
  switch (E) {
  case IPEVM_E_OK:
    return "0";
  case IPEVM_E_BAD_FORMAT_VERSION:
  case IPEVM_E_UNKNOWN_SECTION:
    return "EPROTONOSUPPORT";
  case IPEVM_E_COST_LIMIT:
    return "E2BIG";
  case IPEVM_E_BAD_NAME:
    return "EINVAL";
  case IPEVM_E_SCRATCH:
    return "ENOMEM";
  default:
    return "EBADMSG";
  }
}

Expected<Artifact> Artifact::fromBytes(std::vector<uint8_t> Bytes,
                                       StringRef CertPath, uint32_t CostLimit) {
  Artifact A;
  A.FileSize = Bytes.size();
  if (isSignedArtifact(Bytes)) {
    A.Signed = true;
    A.Envelope = ipec::isEnvelope(Bytes);
    auto Payload = CertPath.empty() ? extractSignedPayload(Bytes)
                                    : verifySignedArtifact(Bytes, CertPath);
    if (!Payload)
      return Payload.takeError();
    A.Code = std::make_unique<std::vector<uint8_t>>(std::move(*Payload));
  } else {
    if (!CertPath.empty())
      return createStringError(std::errc::permission_denied,
                               "artifact is not signed (EBADMSG)");
    A.Code = std::make_unique<std::vector<uint8_t>>(std::move(Bytes));
  }
  if (A.Code->size() > UINT32_MAX)
    return createStringError(std::errc::file_too_large,
                             "artifact is larger than 4 GiB (EFBIG)");

  std::vector<uint32_t> Scratch(IPEVM_VERIFY_SCRATCH_WORDS(A.Code->size()));
  A.Prog = std::make_unique<ipevm_prog>();
  ipevm_diag Diag{};
  ipevm_err E = ipevm_verify(A.Code->data(), uint32_t(A.Code->size()),
                             CostLimit, Scratch.data(),
                             uint32_t(Scratch.size()), A.Prog.get(), &Diag);
  if (E != IPEVM_E_OK)
    return createStringError(std::errc::bad_message,
                             "invalid bytecode: %s at offset %u (%s)",
                             ipevm_strerror(E), unsigned(Diag.offset),
                             errnoNameFor(E).str().c_str());
  return A;
}

Expected<Artifact> Artifact::fromFile(StringRef Path, StringRef CertPath,
                                      uint32_t CostLimit) {
  auto Buf = MemoryBuffer::getFileOrSTDIN(Path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!Buf)
    return createStringError(Buf.getError(), "cannot open '%s': %s",
                             Path.str().c_str(),
                             Buf.getError().message().c_str());
  StringRef Data = (*Buf)->getBuffer();
  return fromBytes(std::vector<uint8_t>(Data.begin(), Data.end()), CertPath,
                   CostLimit);
}

static std::string str(const ipevm_prog &P, const uint8_t *Ref) {
  uint32_t Off = ipevm_rd32(Ref), Len = ipevm_rd32(Ref + 4);
  return std::string(reinterpret_cast<const char *>(P.strtab) + Off, Len);
}

std::optional<RuleSource> ipec::ruleSource(const ipevm_prog &P, uint32_t Rule) {
  if (!P.srcmap || Rule >= P.rule_count)
    return std::nullopt;
  const uint8_t *E = P.srcmap + size_t(Rule) * IPEVM_SRCMAP_SIZE;
  return RuleSource{str(P, E), ipevm_rd32(E + 8), ipevm_rd32(E + 12),
                    str(P, E + 16)};
}

std::string ipec::policyName(const ipevm_prog &P) {
  return std::string(reinterpret_cast<const char *>(P.name), P.name_len);
}
