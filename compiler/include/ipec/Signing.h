//===- Signing.h - CMS/PKCS#7 signing of compiled policies ------*- C++ -*-===//
//
// The kernel loads a policy only as a PKCS#7 SignedData blob that it checks
// with verify_pkcs7_signature() against a trusted keyring. These functions
// produce that blob with the same shape as upstream IPE's recipe
// (`openssl smime -sign -noattr -nodetach -nosmimecap -binary -outform der`):
// SHA-256, RSA PKCS#1 v1.5 (rsaEncryption), the payload attached as id-data,
// no signed attributes, the signer certificate included, and the signer named
// by issuer and serial number. With no signing time, signing is deterministic.
//
// All errors are returned as llvm::Error with OpenSSL's reasons in the text;
// OpenSSL's thread-local error queue is left empty.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_SIGNING_H
#define IPEC_SIGNING_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipec {

/// The largest signed artifact the kernel can load: Linux's ASN.1 decoder
/// (lib/asn1_decoder.c) refuses a larger blob with -EMSGSIZE. With a 3072-bit
/// RSA certificate embedded, about 1.7 KiB of it is signature overhead.
constexpr size_t MaxSignedArtifactSize = 65535;

/// The largest bytecode an envelope may carry: the kernel's new_policy file
/// takes at most 16 MiB.
constexpr size_t MaxEnvelopePayloadSize = 16u << 20;

/// How the signature travels with the bytecode.
enum class SignatureForm {
  Auto,     ///< Attached when that fits the kernel's limit, else Envelope.
  Attached, ///< A CMS SignedData with the bytecode as content.
  Envelope, ///< The envelope of ipevm_bc.h: bytecode + detached SignedData.
};

/// Signs Payload in the given form (see signPayload, signPayloadEnvelope).
llvm::Expected<std::vector<uint8_t>>
signArtifact(llvm::ArrayRef<uint8_t> Payload, llvm::StringRef KeyPemPath,
             llvm::StringRef CertPemPath, SignatureForm Form);

/// The envelope (ipevm_bc.h, "IPEVMSIG"): Payload followed by a SignedData
/// like signPayload's but with the content detached. For payloads whose
/// attached form would exceed MaxSignedArtifactSize; up to
/// MaxEnvelopePayloadSize.
llvm::Expected<std::vector<uint8_t>>
signPayloadEnvelope(llvm::ArrayRef<uint8_t> Payload, llvm::StringRef KeyPemPath,
                    llvm::StringRef CertPemPath);

/// Wraps Payload in a DER CMS/PKCS#7 SignedData: SHA-256, RSA, payload
/// attached as id-data content, no signed attributes (so no signing time: the
/// output is deterministic), no S/MIME capabilities, signer certificate
/// included, signer identified by issuerAndSerialNumber.
///
/// KeyPemPath holds an unencrypted RSA private key; CertPemPath its X.509
/// certificate (PEM, or DER). Both may name the same file, as with the
/// kernel's combined certs/signing_key.pem. Fails if the result would exceed
/// MaxSignedArtifactSize.
llvm::Expected<std::vector<uint8_t>>
signPayload(llvm::ArrayRef<uint8_t> Payload, llvm::StringRef KeyPemPath,
            llvm::StringRef CertPemPath);

/// Verifies a signed artifact (attached, or an envelope) with CertPemPath as
/// the only trust anchor and returns the payload. Fails on a bad signature,
/// tampered content, a different signer, detached content, or content type
/// other than id-data.
///
/// Like the kernel, this refuses artifacts over MaxSignedArtifactSize, checks
/// no certificate purpose and no validity dates (the kernel checks dates only
/// against a signing-time attribute, which these artifacts do not carry), and
/// does not need the signer certificate to be embedded.
llvm::Expected<std::vector<uint8_t>>
verifySignedArtifact(llvm::ArrayRef<uint8_t> Der, llvm::StringRef CertPemPath);

/// Returns the payload of a signed artifact (attached, or an envelope)
/// WITHOUT verifying the signature (for dump/eval of artifacts).
llvm::Expected<std::vector<uint8_t>>
extractSignedPayload(llvm::ArrayRef<uint8_t> Der);

/// True if Bytes starts like a DER SEQUENCE (0x30) that parses as CMS
/// SignedData, with nothing after it, or starts with the envelope's magic
/// (checked further when its payload is read).
bool isSignedArtifact(llvm::ArrayRef<uint8_t> Bytes);

/// True if Bytes starts with the envelope's magic "IPEVMSIG".
bool isEnvelope(llvm::ArrayRef<uint8_t> Bytes);

} // namespace ipec

#endif // IPEC_SIGNING_H
