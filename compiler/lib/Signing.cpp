//===- Signing.cpp - CMS/PKCS#7 signing of compiled policies --------------===//
//
// The kernel side is crypto/asymmetric_keys/pkcs7_{parser,verify,trust}.c and
// lib/asn1_decoder.c (Linux 6.1). What they accept, and so what signPayload()
// must emit:
//  - at most 65535 bytes in all;
//  - SignedData version 1 or 3, SignerInfo version matching it;
//  - signature algorithm rsaEncryption (6.1 does not know
//    sha256WithRSAEncryption there), digest sha256;
//  - eContentType id-data, content attached (IPE passes no detached data),
//    or detached in our envelope (ipevm_bc.h), which the kernel hands to
//    verify_pkcs7_signature() as data: the 64 KiB limit is the blob's;
//  - no authenticated attributes, or all of them; an sMIMECapabilities
//    attribute is refused outside Authenticode. We emit none.
// OpenSSL's CMS code gives exactly that for an RSA key with issuer and serial
// as signer id; the kernel's own scripts/sign-file.c signs modules the same
// way. `openssl smime -sign -noattr` (the PKCS7 API) differs only in giving
// the sha256 AlgorithmIdentifiers NULL parameters; the signature is the same.
//
//===----------------------------------------------------------------------===//

#include "ipec/Signing.h"

#include "ipevm_bc.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <memory>
#include <optional>
#include <string>

using namespace ipec;
using namespace llvm;

namespace {

template <typename T, void (*Free)(T *)> struct OpenSSLDeleter {
  void operator()(T *P) const { Free(P); }
};
using BIOPtr = std::unique_ptr<BIO, OpenSSLDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSSLDeleter<X509, X509_free>>;
using KeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSSLDeleter<EVP_PKEY, EVP_PKEY_free>>;
using CMSPtr =
    std::unique_ptr<CMS_ContentInfo,
                    OpenSSLDeleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using StorePtr =
    std::unique_ptr<X509_STORE, OpenSSLDeleter<X509_STORE, X509_STORE_free>>;
// sk_X509_free is a macro in OpenSSL 3, so it cannot be a template argument.
// The stack never owns its certificates here.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * S) const { sk_X509_free(S); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// CMS_BINARY: the payload is bytecode; without it OpenSSL would translate
// line endings as for S/MIME text. CMS_NOATTR: no signing time, so the output
// is deterministic and the kernel's "all or no authattrs" rule is met.
constexpr unsigned SignFlags = CMS_BINARY | CMS_NOATTR | CMS_NOSMIMECAP;

Error makeError(const Twine &Msg) {
  return createStringError(inconvertibleErrorCode(), Msg);
}

/// Drains OpenSSL's thread-local error queue into one readable line, so that
/// a failure here never leaks stale reasons into a later, unrelated call.
std::string takeOpenSSLErrors() {
  std::string Text;
  const char *Data = nullptr;
  int Flags = 0;
  while (unsigned long Code =
             ERR_get_error_all(nullptr, nullptr, nullptr, &Data, &Flags)) {
    std::string One;
    if (const char *Reason = ERR_reason_error_string(Code)) {
      One = Reason;
    } else {
      char Buf[256];
      ERR_error_string_n(Code, Buf, sizeof(Buf));
      One = Buf;
    }
    if ((Flags & ERR_TXT_STRING) && Data && *Data)
      One += std::string(" (") + Data + ")";
    // Nested OpenSSL calls often push the same reason twice.
    if (Text.size() >= One.size() && StringRef(Text).endswith(One))
      continue;
    if (!Text.empty())
      Text += "; ";
    Text += One;
  }
  ERR_clear_error();
  return Text.empty() ? "unknown OpenSSL error" : Text;
}

/// A mem BIO over Bytes. OpenSSL refuses a null buffer even when empty, which
/// an empty ArrayRef may have.
BIOPtr readOnlyBIO(ArrayRef<uint8_t> Bytes) {
  static const uint8_t Empty = 0;
  const void *Data = Bytes.empty() ? &Empty : Bytes.data();
  return BIOPtr(BIO_new_mem_buf(Data, static_cast<int>(Bytes.size())));
}

std::vector<uint8_t> drainBIO(BIO *B) {
  char *Data = nullptr;
  long Len = BIO_get_mem_data(B, &Data);
  if (Len <= 0 || !Data)
    return {};
  return std::vector<uint8_t>(Data, Data + Len);
}

/// The contents of a key or certificate file, and whether they are PEM.
struct CryptoFile {
  std::unique_ptr<MemoryBuffer> Buffer;
  bool IsPEM;
};

/// Reads Path and checks that it can hold What, so that the user is told so
/// in plain words where OpenSSL would say "not enough data" or "unsupported".
/// PemLabel ends every PEM header that may hold What ("PRIVATE KEY" matches
/// "RSA PRIVATE KEY" too).
Expected<CryptoFile> readCryptoFile(StringRef What, StringRef Path,
                                    StringRef PemLabel) {
  auto BufOr = MemoryBuffer::getFile(Path, /*IsText=*/false,
                                     /*RequiresNullTerminator=*/false);
  if (!BufOr)
    return createStringError(BufOr.getError(), "cannot read %s '%s': %s",
                             What.str().c_str(), Path.str().c_str(),
                             BufOr.getError().message().c_str());
  StringRef Text = (*BufOr)->getBuffer();
  auto Fail = [&](const Twine &Why) {
    return makeError("cannot read " + What + " '" + Path + "': " + Why);
  };
  if (Text.empty())
    return Fail("the file is empty");
  if (Text.size() > static_cast<size_t>(INT_MAX))
    return Fail("the file is too large");
  if (Text.contains("-----BEGIN ")) {
    if (!Text.contains(" " + PemLabel.str() + "-----"))
      return Fail("the file has no PEM block '" + PemLabel + "'");
    return CryptoFile{std::move(*BufOr), true};
  }
  if (Text[0] != 0x30)
    return Fail("the file is neither PEM nor DER");
  return CryptoFile{std::move(*BufOr), false};
}

// Never let OpenSSL prompt on the terminal for a passphrase.
int refusePassphrase(char *, int, int, void *) { return -1; }

Expected<KeyPtr> loadPrivateKey(StringRef Path) {
  auto FileOr = readCryptoFile("private key", Path, "PRIVATE KEY");
  if (!FileOr)
    return FileOr.takeError();
  StringRef Text = FileOr->Buffer->getBuffer();
  BIOPtr In = readOnlyBIO(arrayRefFromStringRef(Text));
  KeyPtr Key;
  if (In)
    Key.reset(FileOr->IsPEM ? PEM_read_bio_PrivateKey(In.get(), nullptr,
                                                      refusePassphrase, nullptr)
                            : d2i_PrivateKey_bio(In.get(), nullptr));
  if (!Key) {
    std::string Reason = takeOpenSSLErrors();
    if (Text.contains("ENCRYPTED"))
      Reason = "the key is encrypted; ipec needs an unencrypted key";
    return makeError("cannot read private key '" + Path + "': " + Reason);
  }
  // The kernel's PKCS#7 parser in 6.1 takes RSA only as rsaEncryption with
  // PKCS#1 v1.5 padding; RSA-PSS keys are a different type and are refused.
  if (!EVP_PKEY_is_a(Key.get(), "RSA")) {
    const char *Type = EVP_PKEY_get0_type_name(Key.get());
    return makeError("private key '" + Path + "' is not an RSA key (it is " +
                     (Type ? Type : "of an unknown type") + ")");
  }
  return Key;
}

Expected<X509Ptr> loadCertificate(StringRef Path) {
  auto FileOr = readCryptoFile("certificate", Path, "CERTIFICATE");
  if (!FileOr)
    return FileOr.takeError();
  BIOPtr In = readOnlyBIO(arrayRefFromStringRef(FileOr->Buffer->getBuffer()));
  X509Ptr Cert;
  if (In)
    Cert.reset(FileOr->IsPEM
                   ? PEM_read_bio_X509(In.get(), nullptr, nullptr, nullptr)
                   : d2i_X509_bio(In.get(), nullptr));
  if (!Cert)
    return makeError("cannot read certificate '" + Path +
                     "': " + takeOpenSSLErrors());
  return Cert;
}

std::string oidText(const ASN1_OBJECT *Obj) {
  if (!Obj)
    return "none";
  char Buf[128];
  int Len = OBJ_obj2txt(Buf, sizeof(Buf), Obj, /*no_name=*/1);
  if (Len <= 0)
    return "unknown";
  std::string Text(Buf);
  if (const char *Name = OBJ_nid2sn(OBJ_obj2nid(Obj)))
    Text = std::string(Name) + " " + Text;
  return Text;
}

/// Parses Der as a complete CMS ContentInfo whose content is SignedData.
Expected<CMSPtr> parseSignedData(ArrayRef<uint8_t> Der) {
  if (Der.empty() || Der[0] != 0x30)
    return makeError("artifact is not a CMS SignedData blob");
  const unsigned char *P = Der.data();
  CMSPtr Cms(d2i_CMS_ContentInfo(nullptr, &P, static_cast<long>(Der.size())));
  if (!Cms)
    return makeError("artifact is not a CMS SignedData blob: " +
                     takeOpenSSLErrors());
  if (OBJ_obj2nid(CMS_get0_type(Cms.get())) != NID_pkcs7_signed)
    return makeError("artifact is not a CMS SignedData blob (its content is " +
                     oidText(CMS_get0_type(Cms.get())) + ")");
  size_t Used = static_cast<size_t>(P - Der.data());
  if (Used != Der.size())
    return makeError("artifact has " + Twine(Der.size() - Used) +
                     " bytes of trailing data after the CMS SignedData");
  return Cms;
}

Expected<std::vector<uint8_t>> attachedContent(CMS_ContentInfo *Cms) {
  ASN1_OCTET_STRING **Content = CMS_get0_content(Cms);
  if (!Content || !*Content)
    return makeError("artifact has detached content; the payload must be "
                     "attached to the signature");
  const unsigned char *Data = ASN1_STRING_get0_data(*Content);
  int Len = ASN1_STRING_length(*Content);
  if (Len <= 0 || !Data)
    return std::vector<uint8_t>();
  return std::vector<uint8_t>(Data, Data + Len);
}

} // namespace

namespace {

/// Signs Payload: CMS SignedData, SHA-256, RSA, no attributes; the content
/// attached, or left out (Detached) for the envelope. No size limit here.
Expected<std::vector<uint8_t>> signCMS(ArrayRef<uint8_t> Payload,
                                       StringRef KeyPemPath,
                                       StringRef CertPemPath, bool Detached) {
  ERR_clear_error();
  auto KeyOr = loadPrivateKey(KeyPemPath);
  if (!KeyOr)
    return KeyOr.takeError();
  auto CertOr = loadCertificate(CertPemPath);
  if (!CertOr)
    return CertOr.takeError();
  EVP_PKEY *Key = KeyOr->get();
  X509 *Cert = CertOr->get();
  if (X509_check_private_key(Cert, Key) != 1) {
    ERR_clear_error();
    return makeError("private key '" + KeyPemPath +
                     "' does not match certificate '" + CertPemPath + "'");
  }

  // Partial, then one explicit signer, so the digest is SHA-256 by choice and
  // not by OpenSSL's default for the key type.
  unsigned Flags = SignFlags | (Detached ? CMS_DETACHED : 0);
  CMSPtr Cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, Flags | CMS_PARTIAL));
  if (!Cms)
    return makeError("cannot create CMS SignedData: " + takeOpenSSLErrors());
  if (!CMS_add1_signer(Cms.get(), Cert, Key, EVP_sha256(), Flags))
    return makeError("cannot add signer '" + CertPemPath +
                     "': " + takeOpenSSLErrors());
  BIOPtr In = readOnlyBIO(Payload);
  if (!In || CMS_final(Cms.get(), In.get(), nullptr, Flags) != 1)
    return makeError("signing failed: " + takeOpenSSLErrors());

  BIOPtr Out(BIO_new(BIO_s_mem()));
  if (!Out || i2d_CMS_bio(Out.get(), Cms.get()) != 1)
    return makeError("cannot encode CMS SignedData: " + takeOpenSSLErrors());
  return drainBIO(Out.get());
}

/// Checks Cms's signature with CertPemPath as the only trust anchor, over
/// its attached content or over DetachedContent; returns the content.
Expected<std::vector<uint8_t>>
verifyCMS(CMS_ContentInfo *Cms, StringRef CertPemPath,
          std::optional<ArrayRef<uint8_t>> DetachedContent) {
  // The kernel refuses anything else for VERIFYING_UNSPECIFIED_SIGNATURE.
  const ASN1_OBJECT *Type = CMS_get0_eContentType(Cms);
  if (OBJ_obj2nid(Type) != NID_pkcs7_data)
    return makeError("content type is not id-data (it is " + oidText(Type) +
                     ")");
  ASN1_OCTET_STRING **Content = CMS_get0_content(Cms);
  bool Attached = Content && *Content;
  // Checked before CMS_verify, which would only say "no content".
  if (!DetachedContent && !Attached)
    return makeError("artifact has detached content; the payload must be "
                     "attached to the signature");
  if (DetachedContent && Attached)
    return makeError("the envelope's signature has content attached; it "
                     "must be detached");

  auto CertOr = loadCertificate(CertPemPath);
  if (!CertOr)
    return CertOr.takeError();
  X509 *Cert = CertOr->get();

  // The store holds only Cert, and no default paths are loaded, so any chain
  // that verifies ends at Cert. PARTIAL_CHAIN lets Cert anchor trust even if
  // it is not self-signed, as a key in the kernel's keyring does.
  // NO_CHECK_TIME and PURPOSE_ANY match the kernel, which checks neither.
  StorePtr Store(X509_STORE_new());
  if (!Store || X509_STORE_add_cert(Store.get(), Cert) != 1)
    return makeError("cannot set up trust store: " + takeOpenSSLErrors());
  X509_VERIFY_PARAM *Param = X509_STORE_get0_param(Store.get());
  if (X509_VERIFY_PARAM_set_purpose(Param, X509_PURPOSE_ANY) != 1 ||
      X509_VERIFY_PARAM_set_flags(Param, X509_V_FLAG_PARTIAL_CHAIN |
                                             X509_V_FLAG_NO_CHECK_TIME) != 1)
    return makeError("cannot set up trust store: " + takeOpenSSLErrors());

  // Offer Cert as an untrusted candidate too, so artifacts signed without the
  // certificate embedded (openssl -nocerts) verify, as in the kernel.
  X509StackPtr Extra(sk_X509_new_null());
  if (!Extra || !sk_X509_push(Extra.get(), Cert))
    return makeError("cannot set up trust store: " + takeOpenSSLErrors());

  BIOPtr Out(BIO_new(BIO_s_mem()));
  BIOPtr Data = DetachedContent ? readOnlyBIO(*DetachedContent) : nullptr;
  if (!Out || (DetachedContent && !Data))
    return makeError("out of memory: " + takeOpenSSLErrors());
  if (CMS_verify(Cms, Extra.get(), Store.get(), Data.get(), Out.get(),
                 CMS_BINARY) != 1) {
    unsigned long Last = ERR_peek_last_error();
    if (ERR_GET_LIB(Last) == ERR_LIB_CMS &&
        ERR_GET_REASON(Last) == CMS_R_CERTIFICATE_VERIFY_ERROR)
      return makeError("signature verification failed: the signer is not "
                       "trusted by certificate '" +
                       CertPemPath + "': " + takeOpenSSLErrors());
    return makeError("signature verification failed: " + takeOpenSSLErrors());
  }
  return drainBIO(Out.get());
}

/// The payload and signature of an envelope, after checking its header.
struct EnvelopeParts {
  ArrayRef<uint8_t> Payload, Signature;
};

Expected<EnvelopeParts> splitEnvelope(ArrayRef<uint8_t> Bytes) {
  if (Bytes.size() < IPEVM_ENVELOPE_HDR_SIZE ||
      !ipevm_envelope_magic(Bytes.data(), uint32_t(Bytes.size())))
    return makeError("artifact is not a signature envelope");
  uint32_t PayloadLen = 0, SigLen = 0;
  uint32_t Total = ipevm_envelope_size(Bytes.data(), &PayloadLen, &SigLen);
  if (!Total)
    return makeError("signature envelope has a bad header (version " +
                     Twine(ipevm_rd32(Bytes.data() + 8)) + ", payload " +
                     Twine(ipevm_rd32(Bytes.data() + 12)) +
                     " bytes, signature " +
                     Twine(ipevm_rd32(Bytes.data() + 16)) + " bytes; EBADMSG)");
  if (Total != Bytes.size())
    return makeError("signature envelope declares " + Twine(Total) +
                     " bytes but the artifact has " + Twine(Bytes.size()) +
                     " (EBADMSG)");
  return EnvelopeParts{Bytes.slice(IPEVM_ENVELOPE_HDR_SIZE, PayloadLen),
                       Bytes.slice(IPEVM_ENVELOPE_HDR_SIZE + PayloadLen)};
}

void put32(std::vector<uint8_t> &Out, uint32_t V) {
  for (int I = 0; I < 4; ++I)
    Out.push_back(uint8_t(V >> (8 * I)));
}

} // namespace

Expected<std::vector<uint8_t>> ipec::signPayload(ArrayRef<uint8_t> Payload,
                                                 StringRef KeyPemPath,
                                                 StringRef CertPemPath) {
  // Checked again on the encoded result; this only spares the work.
  if (Payload.size() > MaxSignedArtifactSize)
    return makeError("payload of " + Twine(Payload.size()) +
                     " bytes is too large: the kernel loads signed artifacts "
                     "of at most " +
                     Twine(MaxSignedArtifactSize) +
                     " bytes with the signature attached (use the envelope)");
  auto Der = signCMS(Payload, KeyPemPath, CertPemPath, /*Detached=*/false);
  if (!Der)
    return Der.takeError();
  if (Der->size() > MaxSignedArtifactSize)
    return makeError("signed artifact would be " + Twine(Der->size()) +
                     " bytes (payload " + Twine(Payload.size()) +
                     " bytes); the kernel loads at most " +
                     Twine(MaxSignedArtifactSize) +
                     " with the signature attached (use the envelope)");
  return Der;
}

Expected<std::vector<uint8_t>>
ipec::signPayloadEnvelope(ArrayRef<uint8_t> Payload, StringRef KeyPemPath,
                          StringRef CertPemPath) {
  if (Payload.size() > MaxEnvelopePayloadSize)
    return makeError("payload of " + Twine(Payload.size()) +
                     " bytes is too large: the kernel loads at most " +
                     Twine(MaxEnvelopePayloadSize) + " bytes");
  auto Sig = signCMS(Payload, KeyPemPath, CertPemPath, /*Detached=*/true);
  if (!Sig)
    return Sig.takeError();
  static const char Magic[] = IPEVM_ENVELOPE_MAGIC;
  std::vector<uint8_t> Out(Magic, Magic + IPEVM_ENVELOPE_MAGIC_LEN);
  put32(Out, IPEVM_ENVELOPE_VERSION);
  put32(Out, uint32_t(Payload.size()));
  put32(Out, uint32_t(Sig->size()));
  Out.insert(Out.end(), Payload.begin(), Payload.end());
  Out.insert(Out.end(), Sig->begin(), Sig->end());
  return Out;
}

Expected<std::vector<uint8_t>> ipec::signArtifact(ArrayRef<uint8_t> Payload,
                                                  StringRef KeyPemPath,
                                                  StringRef CertPemPath,
                                                  SignatureForm Form) {
  switch (Form) {
  case SignatureForm::Attached:
    return signPayload(Payload, KeyPemPath, CertPemPath);
  case SignatureForm::Envelope:
    return signPayloadEnvelope(Payload, KeyPemPath, CertPemPath);
  case SignatureForm::Auto:
    break;
  }
  // Attached if the signed blob fits the kernel's limit (known only once
  // signed), else the envelope.
  if (Payload.size() <= MaxSignedArtifactSize) {
    auto Der = signCMS(Payload, KeyPemPath, CertPemPath, /*Detached=*/false);
    if (!Der || Der->size() <= MaxSignedArtifactSize)
      return Der;
  }
  return signPayloadEnvelope(Payload, KeyPemPath, CertPemPath);
}

Expected<std::vector<uint8_t>>
ipec::verifySignedArtifact(ArrayRef<uint8_t> Der, StringRef CertPemPath) {
  ERR_clear_error();
  if (isEnvelope(Der)) {
    auto Parts = splitEnvelope(Der);
    if (!Parts)
      return Parts.takeError();
    auto CmsOr = parseSignedData(Parts->Signature);
    if (!CmsOr)
      return CmsOr.takeError();
    return verifyCMS(CmsOr->get(), CertPemPath, Parts->Payload);
  }
  if (Der.size() > MaxSignedArtifactSize)
    return makeError("artifact is " + Twine(Der.size()) +
                     " bytes; the kernel loads at most " +
                     Twine(MaxSignedArtifactSize) +
                     " with the signature attached");
  auto CmsOr = parseSignedData(Der);
  if (!CmsOr)
    return CmsOr.takeError();
  return verifyCMS(CmsOr->get(), CertPemPath, std::nullopt);
}

Expected<std::vector<uint8_t>>
ipec::extractSignedPayload(ArrayRef<uint8_t> Der) {
  ERR_clear_error();
  if (isEnvelope(Der)) {
    auto Parts = splitEnvelope(Der);
    if (!Parts)
      return Parts.takeError();
    if (auto CmsOr = parseSignedData(Parts->Signature); !CmsOr)
      return CmsOr.takeError();
    return std::vector<uint8_t>(Parts->Payload.begin(), Parts->Payload.end());
  }
  auto CmsOr = parseSignedData(Der);
  if (!CmsOr)
    return CmsOr.takeError();
  return attachedContent(CmsOr->get());
}

bool ipec::isEnvelope(ArrayRef<uint8_t> Bytes) {
  return Bytes.size() >= IPEVM_ENVELOPE_MAGIC_LEN &&
         ipevm_envelope_magic(Bytes.data(), uint32_t(Bytes.size()));
}

bool ipec::isSignedArtifact(ArrayRef<uint8_t> Bytes) {
  ERR_clear_error();
  if (isEnvelope(Bytes))
    return true;
  auto CmsOr = parseSignedData(Bytes);
  if (!CmsOr) {
    consumeError(CmsOr.takeError());
    return false;
  }
  return true;
}
