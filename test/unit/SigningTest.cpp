//===- SigningTest.cpp - CMS signing and verification ---------------------===//
//
// Keys and certificates are made here with OpenSSL, so the test needs no
// openssl binary and no files from the tree.
//
//===----------------------------------------------------------------------===//

#include "ipec/Signing.h"
#include "ipevm_bc.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace ipec;
using namespace llvm;

namespace {

template <typename T, void (*Free)(T *)> struct Deleter {
  void operator()(T *P) const { Free(P); }
};
using BIOPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CMSPtr = std::unique_ptr<CMS_ContentInfo,
                               Deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using PKCS7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7, PKCS7_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION,
                               Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * S) const { sk_X509_pop_free(S, X509_free); }
};

std::vector<uint8_t> bytes(StringRef S) {
  return std::vector<uint8_t>(S.begin(), S.end());
}

std::string errorText(Error E) { return toString(std::move(E)); }

using Extensions = std::vector<std::pair<int, const char *>>;

/// The extensions of the kernel's certs/default_x509.genkey.
const Extensions KernelSigningExts = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "digitalSignature"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

struct CertSpec {
  const char *CommonName = "ipec test signer";
  long Serial = 1;
  long ValidFrom = -60; // Seconds from now.
  long ValidTo = 3600L * 24 * 365;
  Extensions Exts = KernelSigningExts;
  X509 *Issuer = nullptr; // Self-signed if null.
  EVP_PKEY *IssuerKey = nullptr;
};

X509Ptr makeCert(EVP_PKEY *Key, const CertSpec &Spec) {
  X509Ptr Cert(X509_new());
  if (!Cert || !X509_set_version(Cert.get(), X509_VERSION_3) ||
      !ASN1_INTEGER_set(X509_get_serialNumber(Cert.get()), Spec.Serial) ||
      !X509_gmtime_adj(X509_getm_notBefore(Cert.get()), Spec.ValidFrom) ||
      !X509_gmtime_adj(X509_getm_notAfter(Cert.get()), Spec.ValidTo))
    return nullptr;
  X509_NAME *Name = X509_get_subject_name(Cert.get());
  X509 *Issuer = Spec.Issuer ? Spec.Issuer : Cert.get();
  if (!X509_NAME_add_entry_by_txt(
          Name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char *>(Spec.CommonName), -1, -1,
          0) ||
      !X509_set_issuer_name(Cert.get(), X509_get_subject_name(Issuer)) ||
      !X509_set_pubkey(Cert.get(), Key))
    return nullptr;
  X509V3_CTX Ctx;
  X509V3_set_ctx_nodb(&Ctx);
  X509V3_set_ctx(&Ctx, Issuer, Cert.get(), nullptr, nullptr, 0);
  for (const auto &[Nid, Value] : Spec.Exts) {
    ExtPtr Ext(X509V3_EXT_conf_nid(nullptr, &Ctx, Nid, Value));
    if (!Ext || !X509_add_ext(Cert.get(), Ext.get(), -1))
      return nullptr;
  }
  EVP_PKEY *SigningKey = Spec.IssuerKey ? Spec.IssuerKey : Key;
  if (!X509_sign(Cert.get(), SigningKey, EVP_sha256()))
    return nullptr;
  return Cert;
}

bool writeKey(const std::string &Path, EVP_PKEY *Key) {
  BIOPtr Out(BIO_new_file(Path.c_str(), "w"));
  return Out && PEM_write_bio_PrivateKey(Out.get(), Key, nullptr, nullptr, 0,
                                         nullptr, nullptr) == 1;
}

bool appendCert(const std::string &Path, X509 *Cert) {
  BIOPtr Out(BIO_new_file(Path.c_str(), "a"));
  return Out && PEM_write_bio_X509(Out.get(), Cert) == 1;
}

bool writeBytes(const std::string &Path, ArrayRef<uint8_t> Bytes) {
  std::error_code EC;
  raw_fd_ostream OS(Path, EC);
  if (EC)
    return false;
  OS.write(reinterpret_cast<const char *>(Bytes.data()), Bytes.size());
  return !OS.has_error();
}

CMSPtr parseCMS(ArrayRef<uint8_t> Der) {
  const unsigned char *P = Der.data();
  return CMSPtr(
      d2i_CMS_ContentInfo(nullptr, &P, static_cast<long>(Der.size())));
}

std::vector<uint8_t> encodeCMS(CMS_ContentInfo *Cms) {
  int Len = i2d_CMS_ContentInfo(Cms, nullptr);
  if (Len <= 0)
    return {};
  std::vector<uint8_t> Der(Len);
  unsigned char *P = Der.data();
  i2d_CMS_ContentInfo(Cms, &P);
  return Der;
}

class SigningTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    ASSERT_FALSE(sys::fs::createUniqueDirectory("ipec-signing-test", Dir));
    auto Path = [](const char *Name) {
      SmallString<128> P(Dir);
      sys::path::append(P, Name);
      return std::string(P.str());
    };
    KeyA = Path("a-key.pem");
    CertA = Path("a-cert.pem");
    KeyB = Path("b-key.pem");
    CertB = Path("b-cert.pem");
    KeyEC = Path("ec-key.pem");
    Combined = Path("combined.pem");
    CertADer = Path("a-cert.der");
    CertACodeSigning = Path("a-codesigning-cert.pem");
    CertAExpired = Path("a-expired-cert.pem");
    CertAByCA = Path("a-by-ca-cert.pem");
    CertCA = Path("ca-cert.pem");

    KeyPtr A(EVP_RSA_gen(2048));
    KeyPtr B(EVP_RSA_gen(2048));
    KeyPtr EC(EVP_EC_gen("P-256"));
    ASSERT_TRUE(A && B && EC);
    ASSERT_TRUE(writeKey(KeyA, A.get()));
    ASSERT_TRUE(writeKey(KeyB, B.get()));
    ASSERT_TRUE(writeKey(KeyEC, EC.get()));

    X509Ptr CA = makeCert(A.get(), CertSpec());
    // B impersonates A by name and serial: only the key tells them apart.
    X509Ptr CB = makeCert(B.get(), CertSpec());
    ASSERT_TRUE(CA && CB);
    ASSERT_TRUE(appendCert(CertA, CA.get()));
    ASSERT_TRUE(appendCert(CertB, CB.get()));
    // Like the kernel's certs/signing_key.pem: key and certificate in one.
    ASSERT_TRUE(writeKey(Combined, A.get()) && appendCert(Combined, CA.get()));
    unsigned char *Der = nullptr;
    int DerLen = i2d_X509(CA.get(), &Der);
    ASSERT_GT(DerLen, 0);
    CertADerBytes.assign(Der, Der + DerLen);
    OPENSSL_free(Der);
    ASSERT_TRUE(writeBytes(CertADer, CertADerBytes));

    // An S/MIME purpose check would refuse this one (no emailProtection).
    CertSpec CodeSigning;
    CodeSigning.Serial = 2;
    CodeSigning.Exts.push_back({NID_ext_key_usage, "codeSigning"});
    X509Ptr CACode = makeCert(A.get(), CodeSigning);
    ASSERT_TRUE(CACode && appendCert(CertACodeSigning, CACode.get()));

    CertSpec Expired;
    Expired.Serial = 3;
    Expired.ValidFrom = -2 * 24 * 3600;
    Expired.ValidTo = -24 * 3600;
    X509Ptr CAExpired = makeCert(A.get(), Expired);
    ASSERT_TRUE(CAExpired && appendCert(CertAExpired, CAExpired.get()));

    // B as a CA that issued a certificate for A.
    CertSpec Authority;
    Authority.CommonName = "ipec test CA";
    Authority.Serial = 4;
    Authority.Exts = {{NID_basic_constraints, "critical,CA:TRUE"},
                      {NID_key_usage, "keyCertSign,digitalSignature"},
                      {NID_subject_key_identifier, "hash"}};
    X509Ptr Root = makeCert(B.get(), Authority);
    ASSERT_TRUE(Root && appendCert(CertCA, Root.get()));
    CertSpec Leaf;
    Leaf.Serial = 5;
    Leaf.Issuer = Root.get();
    Leaf.IssuerKey = B.get();
    X509Ptr CAByCA = makeCert(A.get(), Leaf);
    ASSERT_TRUE(CAByCA && appendCert(CertAByCA, CAByCA.get()));
  }

  static void TearDownTestSuite() {
    if (!Dir.empty())
      sys::fs::remove_directories(Dir);
  }

  void TearDown() override {
    // Every failure path must drain OpenSSL's error queue.
    EXPECT_EQ(ERR_peek_error(), 0UL);
  }

  std::vector<uint8_t> signA(ArrayRef<uint8_t> Payload) {
    auto SignedOr = signPayload(Payload, KeyA, CertA);
    if (!SignedOr) {
      ADD_FAILURE() << errorText(SignedOr.takeError());
      return {};
    }
    return *SignedOr;
  }

  /// Signs with OpenSSL directly, for artifacts signPayload never makes.
  static std::vector<uint8_t> signRaw(ArrayRef<uint8_t> Payload, unsigned Flags,
                                      const ASN1_OBJECT *ContentType) {
    BIOPtr KeyIn(BIO_new_file(KeyA.c_str(), "r"));
    BIOPtr CertIn(BIO_new_file(CertA.c_str(), "r"));
    KeyPtr Key(PEM_read_bio_PrivateKey(KeyIn.get(), nullptr, nullptr, nullptr));
    X509Ptr Cert(PEM_read_bio_X509(CertIn.get(), nullptr, nullptr, nullptr));
    CMSPtr Cms(
        CMS_sign(nullptr, nullptr, nullptr, nullptr, Flags | CMS_PARTIAL));
    if (!Key || !Cert || !Cms)
      return {};
    if (ContentType && !CMS_set1_eContentType(Cms.get(), ContentType))
      return {};
    if (!CMS_add1_signer(Cms.get(), Cert.get(), Key.get(), EVP_sha256(), Flags))
      return {};
    BIOPtr In(
        BIO_new_mem_buf(Payload.data(), static_cast<int>(Payload.size())));
    if (!CMS_final(Cms.get(), In.get(), nullptr, Flags))
      return {};
    return encodeCMS(Cms.get());
  }

  static SmallString<128> Dir;
  static std::string KeyA, CertA, KeyB, CertB, KeyEC, Combined, CertADer,
      CertACodeSigning, CertAExpired, CertAByCA, CertCA;
  static std::vector<uint8_t> CertADerBytes;
};

SmallString<128> SigningTest::Dir;
std::string SigningTest::KeyA, SigningTest::CertA, SigningTest::KeyB,
    SigningTest::CertB, SigningTest::KeyEC, SigningTest::Combined,
    SigningTest::CertADer, SigningTest::CertACodeSigning,
    SigningTest::CertAExpired, SigningTest::CertAByCA, SigningTest::CertCA;
std::vector<uint8_t> SigningTest::CertADerBytes;

const char PolicyText[] = "policy_name=Test policy_version=1.0.0\n"
                          "DEFAULT action=ALLOW\n";

TEST_F(SigningTest, SignThenVerifyReturnsPayload) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Signed = signA(Payload);
  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, BinaryPayloadIsNotTranslated) {
  // Every byte value, and line endings S/MIME text mode would rewrite.
  std::vector<uint8_t> Payload = bytes("IPEB\r\n\n\r\0x");
  for (unsigned I = 0; I < 256; ++I)
    Payload.push_back(static_cast<uint8_t>(I));
  auto PayloadOr = verifySignedArtifact(signA(Payload), CertA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, SigningIsDeterministic) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> First = signA(Payload);
  std::vector<uint8_t> Second = signA(Payload);
  EXPECT_FALSE(First.empty());
  EXPECT_EQ(First, Second);
}

TEST_F(SigningTest, HasKernelShape) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Signed = signA(Payload);
  CMSPtr Cms = parseCMS(Signed);
  ASSERT_TRUE(Cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(Cms.get())), NID_pkcs7_signed);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_eContentType(Cms.get())), NID_pkcs7_data);

  ASN1_OCTET_STRING **Content = CMS_get0_content(Cms.get());
  ASSERT_TRUE(Content && *Content) << "content must be attached";
  const unsigned char *Data = ASN1_STRING_get0_data(*Content);
  EXPECT_EQ(std::vector<uint8_t>(Data, Data + ASN1_STRING_length(*Content)),
            Payload);

  STACK_OF(CMS_SignerInfo) *Signers = CMS_get0_SignerInfos(Cms.get());
  ASSERT_EQ(sk_CMS_SignerInfo_num(Signers), 1);
  CMS_SignerInfo *SI = sk_CMS_SignerInfo_value(Signers, 0);
  EXPECT_LE(CMS_signed_get_attr_count(SI), 0) << "no signed attributes";
  EXPECT_LE(CMS_unsigned_get_attr_count(SI), 0);

  X509_ALGOR *Digest = nullptr, *Sig = nullptr;
  CMS_SignerInfo_get0_algs(SI, nullptr, nullptr, &Digest, &Sig);
  ASSERT_TRUE(Digest && Sig);
  const ASN1_OBJECT *Oid = nullptr;
  X509_ALGOR_get0(&Oid, nullptr, nullptr, Digest);
  EXPECT_EQ(OBJ_obj2nid(Oid), NID_sha256);
  // The 6.1 kernel knows RSA only as rsaEncryption, not
  // sha256WithRSAEncryption.
  X509_ALGOR_get0(&Oid, nullptr, nullptr, Sig);
  EXPECT_EQ(OBJ_obj2nid(Oid), NID_rsaEncryption);

  ASN1_OCTET_STRING *KeyId = nullptr;
  X509_NAME *Issuer = nullptr;
  ASN1_INTEGER *Serial = nullptr;
  ASSERT_EQ(CMS_SignerInfo_get0_signer_id(SI, &KeyId, &Issuer, &Serial), 1);
  EXPECT_EQ(KeyId, nullptr) << "signer must be named by issuer and serial";
  EXPECT_NE(Issuer, nullptr);
  EXPECT_NE(Serial, nullptr);

  std::unique_ptr<STACK_OF(X509), X509StackDeleter> Certs(
      CMS_get1_certs(Cms.get()));
  ASSERT_TRUE(Certs);
  ASSERT_EQ(sk_X509_num(Certs.get()), 1);
  const unsigned char *P = CertADerBytes.data();
  X509Ptr Expected(
      d2i_X509(nullptr, &P, static_cast<long>(CertADerBytes.size())));
  ASSERT_TRUE(Expected);
  EXPECT_EQ(X509_cmp(sk_X509_value(Certs.get(), 0), Expected.get()), 0);
}

TEST_F(SigningTest, SignatureMatchesUpstreamSmimeRecipe) {
  // `openssl smime -sign -noattr -nodetach -nosmimecap -binary` goes through
  // the PKCS7 API. The two encodings differ only in whether the sha256
  // AlgorithmIdentifier carries NULL parameters; the signature is the same.
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Signed = signA(Payload);

  BIOPtr KeyIn(BIO_new_file(KeyA.c_str(), "r"));
  BIOPtr CertIn(BIO_new_file(CertA.c_str(), "r"));
  KeyPtr Key(PEM_read_bio_PrivateKey(KeyIn.get(), nullptr, nullptr, nullptr));
  X509Ptr Cert(PEM_read_bio_X509(CertIn.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(Key && Cert);
  BIOPtr In(BIO_new_mem_buf(Payload.data(), static_cast<int>(Payload.size())));
  PKCS7Ptr Upstream(PKCS7_sign(Cert.get(), Key.get(), nullptr, In.get(),
                               PKCS7_BINARY | PKCS7_NOATTR | PKCS7_NOSMIMECAP));
  ASSERT_TRUE(Upstream);

  const unsigned char *P = Signed.data();
  PKCS7Ptr Ours(d2i_PKCS7(nullptr, &P, static_cast<long>(Signed.size())));
  ASSERT_TRUE(Ours) << "output must parse as PKCS#7 too";
  ASSERT_TRUE(PKCS7_type_is_signed(Ours.get()));
  auto SignatureOf = [](PKCS7 *P7) {
    PKCS7_SIGNER_INFO *SI =
        sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(P7), 0);
    return std::vector<uint8_t>(SI->enc_digest->data,
                                SI->enc_digest->data + SI->enc_digest->length);
  };
  EXPECT_EQ(SignatureOf(Ours.get()), SignatureOf(Upstream.get()));

  unsigned char *UpDer = nullptr;
  int UpLen = i2d_PKCS7(Upstream.get(), &UpDer);
  ASSERT_GT(UpLen, 0);
  std::vector<uint8_t> UpBytes(UpDer, UpDer + UpLen);
  OPENSSL_free(UpDer);
  auto PayloadOr = verifySignedArtifact(UpBytes, CertA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, TamperedPayloadFailsVerification) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Signed = signA(Payload);
  auto It =
      std::search(Signed.begin(), Signed.end(), Payload.begin(), Payload.end());
  ASSERT_NE(It, Signed.end());
  It[Payload.size() / 2] ^= 0x01;

  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(
      errorText(PayloadOr.takeError()).find("signature verification failed"),
      std::string::npos);
  // Extraction does not verify, so it sees the tampered bytes.
  auto RawOr = extractSignedPayload(Signed);
  ASSERT_TRUE(bool(RawOr)) << errorText(RawOr.takeError());
  EXPECT_NE(*RawOr, Payload);
  EXPECT_EQ(RawOr->size(), Payload.size());
}

TEST_F(SigningTest, TamperedSignatureFailsVerification) {
  std::vector<uint8_t> Signed = signA(bytes(PolicyText));
  // With no unsigned attributes, the signature value ends the blob.
  Signed.back() ^= 0x80;
  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(
      errorText(PayloadOr.takeError()).find("signature verification failed"),
      std::string::npos);
}

TEST_F(SigningTest, OtherCertificateIsNotTrusted) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  // CertB has the same subject and serial as CertA, but another key.
  auto PayloadOr = verifySignedArtifact(signA(Payload), CertB);
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(
      errorText(PayloadOr.takeError()).find("signature verification failed"),
      std::string::npos);

  auto SignedByB = signPayload(Payload, KeyB, CertB);
  ASSERT_TRUE(bool(SignedByB)) << errorText(SignedByB.takeError());
  PayloadOr = verifySignedArtifact(*SignedByB, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(
      errorText(PayloadOr.takeError()).find("signature verification failed"),
      std::string::npos);
}

TEST_F(SigningTest, ExtractNeedsNoCertificate) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  auto PayloadOr = extractSignedPayload(signA(Payload));
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, RecognisesSignedArtifacts) {
  std::vector<uint8_t> Signed = signA(bytes(PolicyText));
  EXPECT_TRUE(isSignedArtifact(Signed));

  EXPECT_FALSE(isSignedArtifact(bytes("IPEB\x01\x00\x00\x00 bytecode")));
  EXPECT_FALSE(isSignedArtifact({}));
  EXPECT_FALSE(isSignedArtifact(bytes("0")));
  EXPECT_FALSE(isSignedArtifact(CertADerBytes)) << "a certificate is not CMS";
  EXPECT_FALSE(isSignedArtifact(ArrayRef<uint8_t>(Signed).drop_back(1)));
  std::vector<uint8_t> Trailing = Signed;
  Trailing.push_back(0);
  EXPECT_FALSE(isSignedArtifact(Trailing));
}

TEST_F(SigningTest, NotCMSIsReported) {
  auto PayloadOr = extractSignedPayload(bytes("IPEB\x01\x00\x00\x00"));
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(errorText(PayloadOr.takeError())
                .find("artifact is not a CMS SignedData blob"),
            std::string::npos);

  PayloadOr = verifySignedArtifact(CertADerBytes, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(errorText(PayloadOr.takeError())
                .find("artifact is not a CMS SignedData blob"),
            std::string::npos);

  // Valid CMS, but plain data rather than SignedData.
  std::vector<uint8_t> Payload = bytes(PolicyText);
  BIOPtr In(BIO_new_mem_buf(Payload.data(), static_cast<int>(Payload.size())));
  CMSPtr Data(CMS_data_create(In.get(), CMS_BINARY));
  ASSERT_TRUE(Data);
  PayloadOr = extractSignedPayload(encodeCMS(Data.get()));
  ASSERT_FALSE(bool(PayloadOr));
  EXPECT_NE(errorText(PayloadOr.takeError())
                .find("artifact is not a CMS SignedData blob"),
            std::string::npos);
}

TEST_F(SigningTest, MissingKeyFileNamesThePath) {
  std::string Missing = (Dir + "/no-such-key.pem").str();
  auto SignedOr = signPayload(bytes(PolicyText), Missing, CertA);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("cannot read private key '" + Missing + "'"),
            std::string::npos)
      << Msg;
}

TEST_F(SigningTest, MissingCertificateFileNamesThePath) {
  std::string Missing = (Dir + "/no-such-cert.pem").str();
  auto SignedOr = signPayload(bytes(PolicyText), KeyA, Missing);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("cannot read certificate '" + Missing + "'"),
            std::string::npos)
      << Msg;

  auto PayloadOr = verifySignedArtifact(signA(bytes(PolicyText)), Missing);
  ASSERT_FALSE(bool(PayloadOr));
  Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("cannot read certificate '" + Missing + "'"),
            std::string::npos)
      << Msg;
}

TEST_F(SigningTest, FileWithoutKeyNamesThePath) {
  auto SignedOr = signPayload(bytes(PolicyText), CertA, CertA);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("cannot read private key '" + CertA + "': "),
            std::string::npos)
      << Msg;
}

TEST_F(SigningTest, MismatchedKeyAndCertificate) {
  auto SignedOr = signPayload(bytes(PolicyText), KeyB, CertA);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("does not match certificate"), std::string::npos) << Msg;
}

TEST_F(SigningTest, NonRSAKeyIsRefused) {
  auto SignedOr = signPayload(bytes(PolicyText), KeyEC, CertA);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("is not an RSA key"), std::string::npos) << Msg;
}

TEST_F(SigningTest, KernelStyleCombinedPemAndDerCertificate) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  auto SignedOr = signPayload(Payload, Combined, Combined);
  ASSERT_TRUE(bool(SignedOr)) << errorText(SignedOr.takeError());
  EXPECT_EQ(*SignedOr, signA(Payload));
  auto PayloadOr = verifySignedArtifact(*SignedOr, CertADer);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, EmptyPayloadSignsAndVerifies) {
  std::vector<uint8_t> Signed = signA({});
  ASSERT_FALSE(Signed.empty());
  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_TRUE(PayloadOr->empty());
  auto RawOr = extractSignedPayload(Signed);
  ASSERT_TRUE(bool(RawOr)) << errorText(RawOr.takeError());
  EXPECT_TRUE(RawOr->empty());
}

TEST_F(SigningTest, DetachedContentIsRejected) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Detached =
      signRaw(Payload, CMS_BINARY | CMS_NOATTR | CMS_DETACHED, nullptr);
  ASSERT_FALSE(Detached.empty());
  EXPECT_TRUE(isSignedArtifact(Detached));

  auto PayloadOr = verifySignedArtifact(Detached, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  std::string Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("detached"), std::string::npos) << Msg;

  PayloadOr = extractSignedPayload(Detached);
  ASSERT_FALSE(bool(PayloadOr));
  Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("detached"), std::string::npos) << Msg;
}

TEST_F(SigningTest, ContentTypeOtherThanDataIsRejected) {
  using ObjPtr =
      std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
  ObjPtr Other(OBJ_txt2obj("1.3.6.1.4.1.311.2.1.4", /*no_name=*/1));
  ASSERT_TRUE(Other);
  std::vector<uint8_t> Signed =
      signRaw(bytes(PolicyText), CMS_BINARY | CMS_NOATTR, Other.get());
  ASSERT_FALSE(Signed.empty());
  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  std::string Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("content type is not id-data"), std::string::npos) << Msg;
}

TEST_F(SigningTest, SignerCertificateNeedNotBeEmbedded) {
  // The kernel finds the signer in its keyring; so do we, in CertPemPath.
  std::vector<uint8_t> Payload = bytes(PolicyText);
  std::vector<uint8_t> Signed =
      signRaw(Payload, CMS_BINARY | CMS_NOATTR | CMS_NOCERTS, nullptr);
  ASSERT_FALSE(Signed.empty());
  auto PayloadOr = verifySignedArtifact(Signed, CertA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, CodeSigningCertificateIsAccepted) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  auto SignedOr = signPayload(Payload, KeyA, CertACodeSigning);
  ASSERT_TRUE(bool(SignedOr)) << errorText(SignedOr.takeError());
  auto PayloadOr = verifySignedArtifact(*SignedOr, CertACodeSigning);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, ExpiredCertificateStillVerifiesAsInTheKernel) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  auto SignedOr = signPayload(Payload, KeyA, CertAExpired);
  ASSERT_TRUE(bool(SignedOr)) << errorText(SignedOr.takeError());
  auto PayloadOr = verifySignedArtifact(*SignedOr, CertAExpired);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
}

TEST_F(SigningTest, TrustAnchorMayBeTheIssuerOrTheSignerItself) {
  std::vector<uint8_t> Payload = bytes(PolicyText);
  auto SignedOr = signPayload(Payload, KeyA, CertAByCA);
  ASSERT_TRUE(bool(SignedOr)) << errorText(SignedOr.takeError());

  auto PayloadOr = verifySignedArtifact(*SignedOr, CertCA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);
  // A key in the kernel's keyring is trusted whoever issued it.
  PayloadOr = verifySignedArtifact(*SignedOr, CertAByCA);
  ASSERT_TRUE(bool(PayloadOr)) << errorText(PayloadOr.takeError());
  EXPECT_EQ(*PayloadOr, Payload);

  // Same key, but CertA did not issue CertAByCA and is not it.
  PayloadOr = verifySignedArtifact(*SignedOr, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  std::string Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("is not trusted by certificate '" + CertA + "'"),
            std::string::npos)
      << Msg;
}

TEST_F(SigningTest, ArtifactMustFitTheKernelDecoder) {
  std::vector<uint8_t> Payload(60000, 'x');
  auto SignedOr = signPayload(Payload, KeyA, CertA);
  ASSERT_TRUE(bool(SignedOr)) << errorText(SignedOr.takeError());
  EXPECT_LE(SignedOr->size(), MaxSignedArtifactSize);

  // Fits on its own, but not with the signature around it.
  Payload.resize(MaxSignedArtifactSize - 100);
  SignedOr = signPayload(Payload, KeyA, CertA);
  ASSERT_FALSE(bool(SignedOr));
  std::string Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("the kernel loads at most 65535"), std::string::npos)
      << Msg;

  Payload.resize(MaxSignedArtifactSize + 1);
  SignedOr = signPayload(Payload, KeyA, CertA);
  ASSERT_FALSE(bool(SignedOr));
  Msg = errorText(SignedOr.takeError());
  EXPECT_NE(Msg.find("65535"), std::string::npos) << Msg;

  auto PayloadOr = verifySignedArtifact(Payload, CertA);
  ASSERT_FALSE(bool(PayloadOr));
  Msg = errorText(PayloadOr.takeError());
  EXPECT_NE(Msg.find("the kernel loads at most 65535"), std::string::npos)
      << Msg;
}

// The envelope: bytecode + detached signature, for artifacts the kernel's
// 64 KiB PKCS#7 limit would refuse.
TEST_F(SigningTest, EnvelopeSignsLargePayloads) {
  std::vector<uint8_t> Payload(200000);
  for (size_t I = 0; I < Payload.size(); ++I)
    Payload[I] = uint8_t(I * 131 + 7);
  auto Env = signPayloadEnvelope(Payload, KeyA, CertA);
  ASSERT_TRUE(bool(Env)) << errorText(Env.takeError());
  // Header, then the payload verbatim, then the signature.
  ASSERT_GT(Env->size(), IPEVM_ENVELOPE_HDR_SIZE + Payload.size());
  EXPECT_TRUE(std::equal(Env->begin(), Env->begin() + 8, "IPEVMSIG"));
  EXPECT_TRUE(std::equal(Payload.begin(), Payload.end(),
                         Env->begin() + IPEVM_ENVELOPE_HDR_SIZE));
  ArrayRef<uint8_t> Sig = ArrayRef<uint8_t>(*Env).drop_front(
      IPEVM_ENVELOPE_HDR_SIZE + Payload.size());
  EXPECT_LT(Sig.size(), 4096u) << "the signature carries no content";
  EXPECT_TRUE(isSignedArtifact(*Env));
  EXPECT_TRUE(isEnvelope(*Env));

  auto Verified = verifySignedArtifact(*Env, CertA);
  ASSERT_TRUE(bool(Verified)) << errorText(Verified.takeError());
  EXPECT_EQ(*Verified, Payload);
  auto Extracted = extractSignedPayload(*Env);
  ASSERT_TRUE(bool(Extracted)) << errorText(Extracted.takeError());
  EXPECT_EQ(*Extracted, Payload);

  // Deterministic, like the attached form.
  auto Again = signPayloadEnvelope(Payload, KeyA, CertA);
  ASSERT_TRUE(bool(Again));
  EXPECT_EQ(*Env, *Again);
}

TEST_F(SigningTest, EnvelopeTamperingIsDetected) {
  std::vector<uint8_t> Payload(100000, 'p');
  auto Env = signPayloadEnvelope(Payload, KeyA, CertA);
  ASSERT_TRUE(bool(Env)) << errorText(Env.takeError());
  auto Fails = [&](std::vector<uint8_t> Bytes, const char *Expect) {
    auto R = verifySignedArtifact(Bytes, CertA);
    ASSERT_FALSE(bool(R)) << Expect;
    std::string Msg = errorText(R.takeError());
    EXPECT_NE(Msg.find(Expect), std::string::npos) << Msg;
  };
  std::vector<uint8_t> T = *Env;
  T[IPEVM_ENVELOPE_HDR_SIZE + 5000] ^= 1;
  Fails(T, "signature verification failed");
  T = *Env;
  T.back() ^= 0x80;
  Fails(T, "signature verification failed");
  // Wrong key.
  auto R = verifySignedArtifact(*Env, CertB);
  EXPECT_FALSE(bool(R));
  consumeError(R.takeError());
  // Lengths that do not add up, a bad version, truncation.
  T = *Env;
  T.push_back(0);
  Fails(T, "declares");
  T = *Env;
  T.resize(T.size() - 10);
  Fails(T, "declares");
  T = *Env;
  T[8] = 2;
  Fails(T, "bad header (version 2");
  T = *Env;
  T[12] = T[13] = T[14] = T[15] = 0;
  Fails(T, "bad header");
  T.assign(Env->begin(), Env->begin() + 12);
  Fails(T, "not a signature envelope");
  // An attached signature inside an envelope is refused, as the kernel does.
  std::vector<uint8_t> Small = bytes(PolicyText);
  std::vector<uint8_t> Attached = signA(Small);
  const char Magic[] = IPEVM_ENVELOPE_MAGIC;
  std::vector<uint8_t> Mixed(Magic, Magic + IPEVM_ENVELOPE_MAGIC_LEN);
  for (uint32_t V : {uint32_t(IPEVM_ENVELOPE_VERSION), uint32_t(Small.size()),
                     uint32_t(Attached.size())})
    for (int I = 0; I < 4; ++I)
      Mixed.push_back(uint8_t(V >> (8 * I)));
  Mixed.insert(Mixed.end(), Small.begin(), Small.end());
  Mixed.insert(Mixed.end(), Attached.begin(), Attached.end());
  Fails(Mixed, "must be detached");
}

TEST_F(SigningTest, AutoFormPicksAttachedWhenItFits) {
  std::vector<uint8_t> Small(1000, 's'), Large(70000, 'l');
  auto A = signArtifact(Small, KeyA, CertA, SignatureForm::Auto);
  ASSERT_TRUE(bool(A)) << errorText(A.takeError());
  EXPECT_FALSE(isEnvelope(*A));
  EXPECT_EQ(*A, signA(Small));
  auto B = signArtifact(Large, KeyA, CertA, SignatureForm::Auto);
  ASSERT_TRUE(bool(B)) << errorText(B.takeError());
  EXPECT_TRUE(isEnvelope(*B));
  // Near the limit: the payload fits, the attached blob would not.
  std::vector<uint8_t> Edge(MaxSignedArtifactSize - 100, 'e');
  auto C = signArtifact(Edge, KeyA, CertA, SignatureForm::Auto);
  ASSERT_TRUE(bool(C)) << errorText(C.takeError());
  EXPECT_TRUE(isEnvelope(*C));
  auto D = signArtifact(Large, KeyA, CertA, SignatureForm::Attached);
  ASSERT_FALSE(bool(D));
  EXPECT_NE(errorText(D.takeError()).find("use the envelope"),
            std::string::npos);
  auto E = signArtifact(Small, KeyA, CertA, SignatureForm::Envelope);
  ASSERT_TRUE(bool(E));
  EXPECT_TRUE(isEnvelope(*E));
}

} // namespace
