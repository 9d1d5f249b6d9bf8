//===- IPECompatTest.cpp - Upstream IPE policies: verdicts and meaning ----===//
//
// 1. Verdicts: a table of upstream policy texts (the kernel's KUnit cases,
//    the test suite's malformed policies, and every rule of the reference's
//    section 1) with the kernel's answer; ipec must accept exactly what the
//    kernel accepts (a NUL byte aside) and name the kernel's errno.
// 2. Meaning: the bytecode compiled from upstream text decides every
//    (operation, event) as a small upstream evaluator written here, straight
//    from the kernel's eval.c, does, including events without a file.
// 3. Round trip: `translate` to IPL, then compiling the IPL, decides as
//    compiling the upstream text does, for random policies.
//
//===----------------------------------------------------------------------===//

#include "ipec/Artifact.h"
#include "ipec/Compiler.h"
#include "ipec/IPEFrontend.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace ipec;
using namespace std::string_literals;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

struct Parsed {
  bool Accepted = false;
  int KernelErrno = 0;
  size_t Rules = 0;
  std::array<uint16_t, 3> Version = {0, 0, 0};
  std::string Name;
  std::string Diags;
  std::string FirstError; ///< The first "error:" line.
};

Parsed parse(const std::string &Text, bool Werror = false) {
  llvm::SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(Text, "t.pol"), llvm::SMLoc());
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  DiagnosticEngine Diags(SM, OS);
  Diags.setWarningsAsErrors(Werror);
  IPEParseResult R = parseIPEDetailed(Id, Diags);
  OS.flush();
  Parsed P;
  P.Accepted = R.Policy.has_value();
  P.KernelErrno = R.KernelErrno;
  if (R.Policy) {
    P.Rules = R.Policy->Rules.size();
    P.Version = R.Policy->Version;
    P.Name = R.Policy->Name;
  }
  P.Diags = Out;
  size_t E = Out.find("error:");
  if (E != std::string::npos)
    P.FirstError = Out.substr(E, Out.find('\n', E) - E);
  return P;
}

const std::string H = "policy_name=t policy_version=0.0.0\n";
const std::string HD = H + "DEFAULT action=ALLOW\n";

//===----------------------------------------------------------------------===//
// 1. Verdicts
//===----------------------------------------------------------------------===//

struct VerdictCase {
  const char *Desc;
  std::string Text;
  int Kernel; ///< What the kernel returns: 0 or an errno.
  bool Ipec;  ///< Whether ipec accepts it.
};

// clang-format off
const VerdictCase Verdicts[] = {
  // KUnit (security/ipe/policy_tests.c), K01..K32, in order. The kernel test
  // passes strlen(text), so its NUL cases are truncated before parsing;
  // here the NUL stays in the text, and ipec refuses it.
  {"K01 basic", "policy_name=allowall policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},
  {"K02 trailing comment", "policy_name=trailing_comment policy_version=152.0.0 #This is comment\nDEFAULT action=ALLOW", 0, true},
  {"K03 trailing newline", "policy_name=allowallnewline policy_version=0.2.0\nDEFAULT action=ALLOW\n\n", 0, true},
  {"K04 crlf newline", "policy_name=carriagereturnlinefeed policy_version=0.0.1\nDEFAULT action=ALLOW\n\r\n", 0, true},
  {"K05 various whitespace and nested default",
   "policy_name=whitespace policy_version=0.0.0\n"
   "DEFAULT\taction=ALLOW\n"
   "     \t     DEFAULT \t    op=EXECUTE      action=DENY\n"
   "op=EXECUTE boot_verified=TRUE action=ALLOW\n"
   "# this is a\tcomment\t\t\t\t\n"
   "DEFAULT \t op=KMODULE\t\t\t  action=DENY\r\n"
   "op=KMODULE boot_verified=TRUE action=ALLOW\n", 0, true},
  {"K06 negative version", "policy_name=boot_verified policy_version=-1236.0.0\nDEFAULT\taction=ALLOW\n", EINVAL, false},
  {"K07 special characters", "policy_name=$@!*&^%\\:;{}() policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},
  {"K08 overflow version", "policy_name=test policy_version=999999.0.0\nDEFAULT action=ALLOW", ERANGE, false},
  {"K09 incomplete version", "policy_name=test policy_version=255.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"K10 extra version", "policy_name=test policy_version=111.0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"K11 0-length policy", "", EBADMSG, false},
  {"K12 random null in header", "policy_name=test\0policy_version=0.0.0\nDEFAULT action=ALLOW"s, EBADMSG, false},
  {"K13 incomplete policy from NULL", "policy_name=test policy_version=0.0.0\n\0DEFAULT action=ALLOW"s, EBADMSG, false},
  {"K14 NULL truncates policy", "policy_name=test policy_version=0.0.0\nDEFAULT action=DENY\n\0op=EXECUTE dmverity_signature=TRUE action=ALLOW\n"s, 0, false},
  {"K15 invalid property type", HD + "op=EXECUTE dmverity_signature=abc action=ALLOW", EBADMSG, false},
  {"K16 missing policy header", "DEFAULT action=ALLOW", EBADMSG, false},
  {"K17 missing default definition", H, EBADMSG, false},
  {"K18 invalid rule ordering", HD + "dmverity_signature=TRUE op=EXECUTE action=ALLOW", EBADMSG, false},
  {"K19 invalid rule ordering (2)", HD + "action=ALLOW op=EXECUTE dmverity_signature=TRUE", EBADMSG, false},
  {"K20 invalid version", "policy_name=test policy_version=0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW", EBADMSG, false},
  {"K21 unknown operation", HD + "op=UNKNOWN dmverity_signature=TRUE action=ALLOW", EBADMSG, false},
  {"K22 missing space after policy name", "policy_name=asdvpolicy_version=0.0.0\nDEFAULT action=ALLOW\n", EBADMSG, false},
  {"K23 expanded ascii", "policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW", 0, true},
  {"K24 invalid property value (2)", "policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=GOOD_DOG action=ALLOW", EBADMSG, false},
  {"K25 double header", "policy_name=test policy_version=0.0.0\npolicy_name=test policy_version=0.1.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"K26 double default", HD + "DEFAULT action=ALLOW\n", EBADMSG, false},
  {"K27 double operation default", HD + "DEFAULT op=EXECUTE action=DENY\nDEFAULT op=EXECUTE action=ALLOW\n", EBADMSG, false},
  {"K28 invalid action value", HD + "DEFAULT op=EXECUTE action=DEN\n", EBADMSG, false},
  {"K29 invalid action value (2)", HD + "DEFAULT op=EXECUTE action\n", EBADMSG, false},
  {"K30 unrecognized statement", HD + "UNKNOWN value=true\n", EBADMSG, false},
  {"K31 old-style digest", HD + "op=EXECUTE dmverity_roothash=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n", EBADMSG, false},
  {"K32 old-style digest", HD + "op=EXECUTE fsverity_digest=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n", EBADMSG, false},
  {"widestring (UTF-16)", "p\0o\0l\0i\0c\0y\0_\0n\0a\0m\0e\0=\0T\0"s, EBADMSG, false},

  // 1.1 Lexical rules.
  {"NUL at the very start", "\0policy_name=a policy_version=0.0.0\nDEFAULT action=ALLOW"s, EBADMSG, false},
  {"LF only", "policy_name=a policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE action=DENY\n", 0, true},
  {"CRLF everywhere", "policy_name=a policy_version=0.0.0\r\nDEFAULT action=ALLOW\r\nop=EXECUTE action=DENY\r\n", 0, true},
  {"CR only (old Mac)", "policy_name=a policy_version=0.0.0\rDEFAULT action=ALLOW\rop=EXECUTE action=DENY\r", 0, true},
  {"lone CR splits a line", HD + "op=EXECUTE\raction=DENY\n", EBADMSG, false},
  {"lone CR in the header", "policy_name=a\rpolicy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"# in the header name cuts it", "policy_name=a#b policy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"# right after the header", "policy_name=a policy_version=0.0.0#x\nDEFAULT action=ALLOW", 0, true},
  {"# cuts the action off", HD + "op=EXECUTE #action=DENY\n", EBADMSG, false},
  {"# after the action", HD + "op=EXECUTE action=DENY# comment\n", 0, true},
  {"comment and blank lines before the header", "# c\n\n   \n\t# c2\npolicy_name=a policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},
  {"trailing \\v \\f \\xA0 trimmed", HD + "op=EXECUTE action=DENY \v\f\xA0\t\n", 0, true},
  {"trailing \\xA0 after the version", "policy_name=a policy_version=0.0.0\xA0\nDEFAULT action=ALLOW", 0, true},
  {"\\v inside a line is part of a token", HD + "op=EXECUTE\vaction=DENY\n", EBADMSG, false},
  {"\\xA0 inside a line is part of a token", HD + "op=EXECUTE\xA0" "action=DENY\n", EBADMSG, false},
  {"\\f between header tokens", "policy_name=a\fpolicy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"tabs and runs of blanks", "\t policy_name=a \t\t policy_version=0.0.0 \t\n \t DEFAULT\t\t action=ALLOW", 0, true},
  {"keywords are case-sensitive: default", H + "default action=ALLOW", EBADMSG, false},
  {"keywords are case-sensitive: ALLOW", H + "DEFAULT action=allow", EBADMSG, false},
  {"keywords are case-sensitive: op", HD + "op=execute action=DENY", EBADMSG, false},
  {"keywords are case-sensitive: OP=", HD + "OP=EXECUTE action=DENY", EBADMSG, false},
  {"keywords are case-sensitive: header", "Policy_name=a policy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"keywords are case-sensitive: TRUE", HD + "op=EXECUTE boot_verified=True action=DENY", EBADMSG, false},
  {"high bytes and = in the name", "policy_name=\xC3\xA9t\xC3\xA9=x\x01\x7F policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},

  // 1.2 Header.
  {"header: name only", "policy_name=a\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: version only", "policy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: swapped", "policy_version=0.0.0 policy_name=a\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: extra token (malformedheader3)", "policy_name=a policy_version=0.0.0 unknown_header=fail\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: misspelled key", "policy_nam=a policy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: empty name", "policy_name= policy_version=0.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: empty version", "policy_name=a policy_version=\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: name twice", "policy_name=a policy_name=b\nDEFAULT action=ALLOW", EBADMSG, false},
  {"header: bad version then extra token", "policy_name=a policy_version=1.2.99999 extra\nDEFAULT action=ALLOW", ERANGE, false},
  {"header: name with policy_version= inside", "policy_name=policy_version=1.0.0\nDEFAULT action=ALLOW", EBADMSG, false},
  {"name '.' loads with EACCES", "policy_name=. policy_version=0.0.0\nDEFAULT action=ALLOW", EACCES, false},
  {"name '..' loads with EACCES", "policy_name=.. policy_version=0.0.0\nDEFAULT action=ALLOW", EACCES, false},
  {"name with '/' loads with EACCES", "policy_name=a/b policy_version=0.0.0\nDEFAULT action=ALLOW", EACCES, false},
  {"name of 256 bytes: ENAMETOOLONG", "policy_name=" + std::string(256, 'n') + " policy_version=0.0.0\nDEFAULT action=ALLOW", ENAMETOOLONG, false},
  {"name of 255 bytes", "policy_name=" + std::string(255, 'n') + " policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},
  {"name '...' is fine", "policy_name=... policy_version=0.0.0\nDEFAULT action=ALLOW", 0, true},
  {"parse errors win over load errors", "policy_name=a/b policy_version=0.0.0\n", EBADMSG, false},

  // Versions (parse_version(), kstrtou16()).
  {"version: leading + and zeros", "policy_name=a policy_version=+1.007.3\nDEFAULT action=ALLOW", 0, true},
  {"version: 65535 with zeros", "policy_name=a policy_version=00065535.0.65535\nDEFAULT action=ALLOW", 0, true},
  {"version: 65536", "policy_name=a policy_version=65536.0.0\nDEFAULT action=ALLOW", ERANGE, false},
  {"version: 70000 in the middle", "policy_name=a policy_version=1.70000.3\nDEFAULT action=ALLOW", ERANGE, false},
  {"version: u64 overflow", "policy_name=a policy_version=99999999999999999999999.0.0\nDEFAULT action=ALLOW", ERANGE, false},
  {"version: u64 overflow then junk", "policy_name=a policy_version=99999999999999999999999x.0.0\nDEFAULT action=ALLOW", ERANGE, false},
  {"version: 70000 then junk is EINVAL", "policy_name=a policy_version=70000x.0.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: non-digit", "policy_name=a policy_version=1.x.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: hex", "policy_name=a policy_version=0x1.0.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: lone +", "policy_name=a policy_version=+.0.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: ++1", "policy_name=a policy_version=++1.0.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: -0", "policy_name=a policy_version=-0.0.0\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: empty component", "policy_name=a policy_version=1..3\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: leading dot", "policy_name=a policy_version=.1.2\nDEFAULT action=ALLOW", EINVAL, false},
  {"version: one component", "policy_name=a policy_version=1\nDEFAULT action=ALLOW", EBADMSG, false},
  {"version: trailing dot (4th empty)", "policy_name=a policy_version=1.2.3.\nDEFAULT action=ALLOW", EBADMSG, false},
  {"version: 4th component not parsed", "policy_name=a policy_version=1.2.3.x\nDEFAULT action=ALLOW", EBADMSG, false},
  {"version: range error before the 4th", "policy_name=a policy_version=1.2.70000.4\nDEFAULT action=ALLOW", ERANGE, false},
  {"version: 2 components and empty 3rd", "policy_name=a policy_version=1.0. 0\nDEFAULT action=ALLOW", EINVAL, false},

  // 1.3 Rules and DEFAULT lines.
  {"action not last", HD + "op=EXECUTE action=ALLOW boot_verified=TRUE", EBADMSG, false},
  {"two actions", HD + "op=EXECUTE action=ALLOW action=DENY", EBADMSG, false},
  {"lone action", HD + "action=ALLOW", EBADMSG, false},
  {"lone op", HD + "op=EXECUTE", EBADMSG, false},
  {"lone DEFAULT", HD + "DEFAULT", EBADMSG, false},
  {"op and property, no action", HD + "op=EXECUTE boot_verified=TRUE", EBADMSG, false},
  {"bad digest as last token is a bad action", HD + "op=EXECUTE fsverity_digest=sha256:0", EBADMSG, false},
  {"bad digest before a bad action", HD + "op=EXECUTE fsverity_digest=sha256:0 action=MAYBE", EINVAL, false},
  {"second op", HD + "op=EXECUTE op=KMODULE action=ALLOW", EBADMSG, false},
  {"DEFAULT not first", HD + "op=EXECUTE DEFAULT action=ALLOW", EBADMSG, false},
  {"DEFAULT twice", H + "DEFAULT DEFAULT action=ALLOW", EBADMSG, false},
  {"DEFAULT with property (defaultwithproperty0)", H + "DEFAULT op=EXECUTE boot_verified=TRUE action=ALLOW\nDEFAULT action=DENY", EBADMSG, false},
  {"DEFAULT with property (defaultwithproperty1)", H + "DEFAULT boot_verified=TRUE action=ALLOW", EBADMSG, false},
  {"DEFAULT with a bad digest", H + "DEFAULT op=EXECUTE fsverity_digest=sha256:0 action=ALLOW", EINVAL, false},
  {"DEFAULT with an unknown token", H + "DEFAULT op=EXECUTE foo action=ALLOW", EBADMSG, false},
  {"DEFAULT anywhere", H + "op=EXECUTE boot_verified=TRUE action=ALLOW\nop=KMODULE action=DENY\nDEFAULT action=DENY\nop=FIRMWARE action=ALLOW\n", 0, true},
  {"DEFAULT op=EXECUTE then global", H + "DEFAULT op=EXECUTE action=ALLOW\nDEFAULT action=DENY", 0, true},
  {"duplicate op default after other ops", H + "DEFAULT op=KMODULE action=DENY\nDEFAULT op=FIRMWARE action=DENY\nDEFAULT op=KMODULE action=ALLOW\nDEFAULT action=DENY", EBADMSG, false},
  {"all seven op defaults, no global",
   H + "DEFAULT op=EXECUTE action=ALLOW\nDEFAULT op=FIRMWARE action=DENY\nDEFAULT op=KMODULE action=DENY\n"
       "DEFAULT op=KEXEC_IMAGE action=DENY\nDEFAULT op=KEXEC_INITRAMFS action=DENY\nDEFAULT op=POLICY action=DENY\n"
       "DEFAULT op=X509_CERT action=ALLOW\n", 0, true},
  {"six op defaults, no global",
   H + "DEFAULT op=EXECUTE action=ALLOW\nDEFAULT op=FIRMWARE action=DENY\nDEFAULT op=KMODULE action=DENY\n"
       "DEFAULT op=KEXEC_IMAGE action=DENY\nDEFAULT op=KEXEC_INITRAMFS action=DENY\nDEFAULT op=POLICY action=DENY\n", EBADMSG, false},
  {"only an EXECUTE default", H + "DEFAULT op=EXECUTE action=DENY", EBADMSG, false},
  {"rules but no default", H + "op=EXECUTE action=ALLOW", EBADMSG, false},
  {"unknown token in a rule", HD + "op=EXECUTE foo=bar action=ALLOW", EBADMSG, false},
  {"unknown op KERNEL_READ (RFC era)", HD + "op=KERNEL_READ action=ALLOW", EBADMSG, false},
  {"op= without a value", HD + "op= action=ALLOW", EBADMSG, false},
  {"every op", HD + "op=EXECUTE action=ALLOW\nop=FIRMWARE action=ALLOW\nop=KMODULE action=ALLOW\nop=KEXEC_IMAGE action=ALLOW\n"
                    "op=KEXEC_INITRAMFS action=ALLOW\nop=POLICY action=ALLOW\nop=X509_CERT action=ALLOW\n", 0, true},
  {"first error wins across lines", HD + "op=EXECUTE fsverity_digest=sha256:0 action=ALLOW\nop=BAD action=ALLOW\n", EINVAL, false},
  {"header error wins", "policy_name=a policy_version=1.70000.0\nop=BAD action=ALLOW\n", ERANGE, false},

  // 1.5 Properties.
  {"every boolean property, both values", HD +
   "op=EXECUTE boot_verified=TRUE boot_verified=FALSE dmverity_signature=TRUE dmverity_signature=FALSE "
   "fsverity_signature=TRUE fsverity_signature=FALSE action=ALLOW", 0, true},
  {"boolean without value", HD + "op=EXECUTE boot_verified= action=ALLOW", EBADMSG, false},
  {"boolean without =", HD + "op=EXECUTE boot_verified action=ALLOW", EBADMSG, false},
  {"property with a trailing blank-like byte", HD + "op=EXECUTE boot_verified=TRUE\v action=ALLOW", EBADMSG, false},

  // 1.6 Digests.
  {"digest: lower-case hex", HD + "op=EXECUTE fsverity_digest=sha256:" + std::string(64, 'a') + " action=ALLOW", 0, true},
  {"digest: upper-case hex", HD + "op=EXECUTE dmverity_roothash=sha256:" + std::string(64, 'A') + " action=ALLOW", 0, true},
  {"digest: no colon", HD + "op=EXECUTE fsverity_digest=sha256 action=ALLOW", EBADMSG, false},
  {"digest: no value", HD + "op=EXECUTE fsverity_digest= action=ALLOW", EBADMSG, false},
  {"digest: non-hex", HD + "op=EXECUTE fsverity_digest=sha256:zz action=ALLOW", EINVAL, false},
  {"digest: second colon", HD + "op=EXECUTE fsverity_digest=sha256:ab:cd action=ALLOW", EINVAL, false},
  {"digest: odd hex", HD + "op=EXECUTE dmverity_roothash=sha256:abc action=ALLOW", EINVAL, false},
  {"digest: 0x prefix", HD + "op=EXECUTE dmverity_roothash=sha256:0xab action=ALLOW", EINVAL, false},
  {"digest: empty hex", HD + "op=EXECUTE fsverity_digest=sha256: action=ALLOW", 0, true},
  {"digest: empty algorithm", HD + "op=EXECUTE fsverity_digest=:00 action=ALLOW", 0, true},
  {"digest: only a colon", HD + "op=EXECUTE fsverity_digest=: action=ALLOW", 0, true},
  {"digest: mis-cased algorithm", HD + "op=EXECUTE fsverity_digest=SHA256:" + std::string(64, '0') + " action=ALLOW", 0, true},
  {"digest: unknown algorithm", HD + "op=EXECUTE fsverity_digest=foo:00 action=ALLOW", 0, true},
  {"digest: admin-guide 56 hex digits for sha256", HD + "op=EXECUTE dmverity_roothash=sha256:a75c4f8d5d3d49b3e3a3a1df2e7b3c6b9a0c1e7c4a1a8c2f1e4a5d6b action=ALLOW", 0, true},
  {"digest: longer than any hash", HD + "op=EXECUTE fsverity_digest=sha512:" + std::string(130, '1') + " action=ALLOW", 0, true},
  {"digest: algorithm name of 65 bytes", HD + "op=EXECUTE fsverity_digest=" + std::string(65, 'a') + ":00 action=ALLOW", 0, true},
};
// clang-format on

TEST(IPECompat, VerdictsMatchTheKernel) {
  for (const VerdictCase &C : Verdicts) {
    SCOPED_TRACE(C.Desc);
    Parsed P = parse(C.Text);
    EXPECT_EQ(P.Accepted, C.Ipec) << P.Diags;
    EXPECT_EQ(P.KernelErrno, C.Kernel)
        << "kernel " << ipeErrnoName(C.Kernel).str() << ", ipec says "
        << ipeErrnoName(P.KernelErrno).str() << "\n"
        << P.Diags;
    if (!C.Ipec) {
      ASSERT_FALSE(P.FirstError.empty()) << P.Diags;
      // Every refusal names what the kernel does: its errno, or, for a NUL
      // byte, that the rest is ignored (and how the part before fares).
      if (C.Text.find('\0') != std::string::npos) {
        EXPECT_NE(P.FirstError.find("NUL byte"), std::string::npos);
        if (C.Kernel) {
          EXPECT_NE(P.FirstError.find(ipeErrnoName(C.Kernel).str()),
                    std::string::npos)
              << P.FirstError;
        }
      } else {
        EXPECT_NE(P.FirstError.find("(" + ipeErrnoName(C.Kernel).str() + ")"),
                  std::string::npos)
            << P.FirstError;
      }
    } else {
      EXPECT_TRUE(P.FirstError.empty()) << P.Diags;
    }
  }
}

TEST(IPECompat, HeaderValues) {
  Parsed P =
      parse("policy_name=a policy_version=+1.007.3\nDEFAULT action=ALLOW");
  ASSERT_TRUE(P.Accepted);
  EXPECT_EQ(P.Version, (std::array<uint16_t, 3>{1, 7, 3}));
  P = parse("policy_name=test\xFF\xEF policy_version=00065535.0.65535\n"
            "DEFAULT action=ALLOW");
  ASSERT_TRUE(P.Accepted);
  EXPECT_EQ(P.Name, "test\xFF\xEF");
  EXPECT_EQ(P.Version, (std::array<uint16_t, 3>{65535, 0, 65535}));
  P = parse("policy_name=$@!*&^%\\:;{}()=x policy_version=0.0.0\n"
            "DEFAULT action=ALLOW");
  EXPECT_EQ(P.Name, "$@!*&^%\\:;{}()=x");
}

TEST(IPECompat, RulesKeepTheirLineAndText) {
  llvm::SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          "# c\npolicy_name=a policy_version=0.0.0\r\n\r\n"
          "DEFAULT action=DENY\n"
          "  \top=KMODULE \t boot_verified=TRUE action=ALLOW \t# why\n"
          "op=EXECUTE action=DENY\n",
          "x.pol"),
      llvm::SMLoc());
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  DiagnosticEngine Diags(SM, OS);
  auto P = parseIPE(Id, Diags);
  ASSERT_TRUE(P) << OS.str();
  ASSERT_EQ(P->Rules.size(), 2u);
  EXPECT_EQ(P->Rules[0].Text, "op=KMODULE \t boot_verified=TRUE action=ALLOW");
  EXPECT_EQ(P->Rules[0].Loc.File, "x.pol");
  EXPECT_EQ(P->Rules[0].Loc.Line, 5u);
  EXPECT_EQ(P->Rules[0].Loc.Column, 4u);
  EXPECT_EQ(P->Rules[0].Ops, 1u << IPEVM_OP_KMODULE);
  EXPECT_EQ(P->Rules[1].Ops, (1u << IPEVM_OP_EXECUTE) |
                                 (1u << IPEVM_OP_MMAP_EXEC) |
                                 (1u << IPEVM_OP_MPROTECT_EXEC));
  EXPECT_EQ(P->Rules[1].Cond.K, ir::Expr::True);
  EXPECT_EQ(P->Global.Loc.Line, 4u);
}

struct WarningCase {
  const char *Desc;
  std::string Rule;
  const char *Group;
};

TEST(IPECompat, TrapsAreAcceptedWithAWarning) {
  const WarningCase Cases[] = {
      {"admin-guide sha256 of 28 bytes",
       "op=EXECUTE dmverity_roothash=sha256:" + std::string(56, 'a') +
           " action=ALLOW",
       "ipe-digest-length"},
      {"empty digest", "op=EXECUTE fsverity_digest=sha256: action=ALLOW",
       "ipe-digest-length"},
      {"digest of 65 bytes",
       "op=EXECUTE fsverity_digest=sha512:" + std::string(130, 'b') +
           " action=ALLOW",
       "ipe-digest-length"},
      {"mis-cased algorithm",
       "op=EXECUTE fsverity_digest=SHA256:" + std::string(64, 'c') +
           " action=ALLOW",
       "ipe-unknown-algorithm"},
      {"unknown algorithm", "op=EXECUTE fsverity_digest=md5:00 action=ALLOW",
       "ipe-unknown-algorithm"},
      {"empty algorithm", "op=EXECUTE fsverity_digest=:00 action=ALLOW",
       "ipe-unknown-algorithm"},
      {"contradiction",
       "op=EXECUTE boot_verified=TRUE boot_verified=FALSE action=ALLOW",
       "ipe-never-matches"},
      {"two different digests",
       "op=EXECUTE fsverity_digest=sha256:" + std::string(64, '1') +
           " fsverity_digest=sha256:" + std::string(64, '2') + " action=ALLOW",
       "ipe-never-matches"},
      {"duplicate property",
       "op=EXECUTE fsverity_signature=TRUE fsverity_signature=TRUE "
       "action=ALLOW",
       "ipe-duplicate-property"},
  };
  for (const WarningCase &C : Cases) {
    SCOPED_TRACE(C.Desc);
    Parsed P = parse(HD + C.Rule);
    EXPECT_TRUE(P.Accepted) << P.Diags;
    EXPECT_EQ(P.KernelErrno, 0);
    EXPECT_NE(P.Diags.find(std::string("warning: ")), std::string::npos);
    EXPECT_NE(P.Diags.find("[-W" + std::string(C.Group) + "]"),
              std::string::npos)
        << P.Diags;
    Parsed W = parse(HD + C.Rule, /*Werror=*/true);
    EXPECT_FALSE(W.Accepted) << "-Werror must refuse it";
    EXPECT_EQ(W.KernelErrno, 0);
  }
  // A clean policy has no warning at all.
  Parsed Clean =
      parse(HD + "op=EXECUTE fsverity_digest=sha256:" + std::string(64, 'd') +
            " boot_verified=FALSE "
            "action=ALLOW");
  EXPECT_TRUE(Clean.Accepted);
  EXPECT_EQ(Clean.Diags, "");
}

TEST(IPECompat, AutoDetection) {
  EXPECT_TRUE(looksLikeIPE("policy_name=a policy_version=0.0.0\n"));
  EXPECT_TRUE(looksLikeIPE("# c\n\r\n  \t policy_name=a # x\n"));
  EXPECT_TRUE(looksLikeIPE("#policy \"a\"\npolicy_name=a"));
  EXPECT_FALSE(looksLikeIPE("policy \"a\" version 1.0.0;\n"));
  EXPECT_FALSE(looksLikeIPE("// policy_name=a\npolicy \"a\" version 1.0.0;"));
  EXPECT_FALSE(looksLikeIPE("DEFAULT action=ALLOW\npolicy_name=a"));
  EXPECT_FALSE(looksLikeIPE(""));
  EXPECT_EQ(resolveInputFormat("policy_name=a", InputFormat::Auto),
            InputFormat::IPE);
  EXPECT_EQ(resolveInputFormat("policy \"a\"", InputFormat::Auto),
            InputFormat::IPL);
  EXPECT_EQ(resolveInputFormat("policy_name=a", InputFormat::IPL),
            InputFormat::IPL);
}

TEST(IPECompat, TranslateRefusesNamesIPLCannotSpell) {
  llvm::SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          "policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW",
          "k23.pol"),
      llvm::SMLoc());
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  DiagnosticEngine Diags(SM, OS);
  EXPECT_FALSE(translateIPEToIPL(Id, Diags));
  EXPECT_NE(OS.str().find("IPL cannot spell the policy name 'test\\xFF\\xEF' "
                          "(it is not valid UTF-8)"),
            std::string::npos)
      << OS.str();
}

//===----------------------------------------------------------------------===//
// 2. Meaning: an upstream evaluator, from security/ipe/eval.c
//===----------------------------------------------------------------------===//

/// The seven upstream operations, in the kernel's order, and the ipevm
/// operations (hooks) each stands for.
const char *const UpOps[7] = {"EXECUTE",     "FIRMWARE",        "KMODULE",
                              "KEXEC_IMAGE", "KEXEC_INITRAMFS", "POLICY",
                              "X509_CERT"};
const std::vector<unsigned> UpOpHooks[7] = {
    {IPEVM_OP_EXECUTE, IPEVM_OP_MMAP_EXEC, IPEVM_OP_MPROTECT_EXEC},
    {IPEVM_OP_FIRMWARE},
    {IPEVM_OP_KMODULE},
    {IPEVM_OP_KEXEC_IMAGE},
    {IPEVM_OP_KEXEC_INITRAMFS},
    {IPEVM_OP_POLICY},
    {IPEVM_OP_X509_CERT}};

struct UDigest {
  std::string Alg;
  std::vector<uint8_t> Bytes;
  bool operator==(const UDigest &O) const {
    return Alg == O.Alg && Bytes == O.Bytes;
  }
};

/// A parsed upstream rule, as struct ipe_rule: the op, the action, the
/// properties as written.
struct URule {
  int Op;
  bool Allow;
  std::vector<std::string> Props;
};

/// A well-formed upstream policy as the kernel holds it: per-op rule lists
/// in file order, per-op defaults and the global default. Written apart from
/// IPEFrontend so that a bug there shows up as a disagreement here.
struct UPolicy {
  int Global = -1; ///< -1 unset, 0 deny, 1 allow
  int OpDefault[7] = {-1, -1, -1, -1, -1, -1, -1};
  std::vector<URule> Rules; ///< File order; also the rule ids.
};

UPolicy parseUpstream(const std::string &Text) {
  UPolicy P;
  bool Header = false;
  std::string Line;
  auto Flush = [&](std::string L) {
    L = L.substr(0, L.find('#'));
    while (!L.empty() && strchr(" \t\n\v\f\r\xA0", L.back()))
      L.pop_back();
    if (L.empty())
      return;
    if (!Header) {
      Header = true;
      return;
    }
    std::vector<std::string> Toks;
    std::string Cur;
    for (char C : L + " ") {
      if (C == ' ' || C == '\t') {
        if (!Cur.empty())
          Toks.push_back(Cur);
        Cur.clear();
      } else {
        Cur += C;
      }
    }
    bool Allow = Toks.back() == "action=ALLOW";
    size_t I = 0;
    bool Default = Toks[0] == "DEFAULT";
    if (Default)
      ++I;
    int Op = -1;
    if (I + 1 < Toks.size())
      for (int O = 0; O < 7; ++O)
        if (Toks[I] == std::string("op=") + UpOps[O])
          Op = O;
    if (Default) {
      (Op < 0 ? P.Global : P.OpDefault[Op]) = Allow;
      return;
    }
    URule R{Op, Allow, {}};
    for (size_t J = I + 1; J + 1 < Toks.size(); ++J)
      R.Props.push_back(Toks[J]);
    P.Rules.push_back(R);
  };
  for (char C : Text) {
    if (C == '\n' || C == '\r') {
      Flush(Line);
      Line.clear();
    } else {
      Line += C;
    }
  }
  Flush(Line);
  return P;
}

/// What the kernel knows about an event (struct ipe_eval_ctx).
struct UEvent {
  bool HasFile = false;
  bool Initramfs = false; ///< ipe_sb(mnt_sb)->initramfs
  bool DmvSigned = false; ///< ipe_bdev->dm_verity_signed
  bool FsvSigned = false; ///< ipe_inode->fs_verity_signed
  std::optional<UDigest> RootHash, FsvDigest;
};

/// evaluate_property() of eval.c, for one property token.
bool upstreamProperty(const std::string &Tok, const UEvent &E) {
  auto Digest = [&](const std::string &Value, const std::optional<UDigest> &D) {
    size_t Colon = Value.find(':');
    UDigest Want{Value.substr(0, Colon), {}};
    std::string Bytes = llvm::fromHex(Value.substr(Colon + 1));
    Want.Bytes.assign(Bytes.begin(), Bytes.end());
    // ipe_digest_eval(): same length, strcmp() of the names, memcmp().
    return E.HasFile && D && *D == Want;
  };
  if (Tok == "boot_verified=TRUE")
    return E.HasFile && E.Initramfs;
  if (Tok == "boot_verified=FALSE")
    return !(E.HasFile && E.Initramfs);
  if (Tok == "dmverity_signature=TRUE")
    return E.HasFile && E.DmvSigned;
  if (Tok == "dmverity_signature=FALSE")
    return !(E.HasFile && E.DmvSigned);
  if (Tok == "fsverity_signature=TRUE")
    return E.HasFile && E.FsvSigned;
  if (Tok == "fsverity_signature=FALSE")
    return !(E.HasFile && E.FsvSigned);
  if (Tok.rfind("dmverity_roothash=", 0) == 0)
    return Digest(Tok.substr(18), E.RootHash);
  if (Tok.rfind("fsverity_digest=", 0) == 0)
    return Digest(Tok.substr(16), E.FsvDigest);
  ADD_FAILURE() << "unknown property " << Tok;
  return false;
}

struct UDecision {
  bool Allow;
  unsigned Origin; ///< enum ipevm_origin
  uint32_t Rule;
};

/// ipe_evaluate_event(): the op's rules in file order, first match; then the
/// op's default; then the global one.
UDecision upstreamEvaluate(const UPolicy &P, int Op, const UEvent &E) {
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const URule &R = P.Rules[I];
    if (R.Op != Op)
      continue;
    bool Match = true;
    for (const std::string &Prop : R.Props)
      if (!upstreamProperty(Prop, E)) {
        Match = false;
        break;
      }
    if (Match)
      return {R.Allow, IPEVM_ORIGIN_RULE, uint32_t(I)};
  }
  if (P.OpDefault[Op] >= 0)
    return {P.OpDefault[Op] == 1, IPEVM_ORIGIN_OP_DEFAULT, 0};
  return {P.Global == 1, IPEVM_ORIGIN_GLOBAL_DEFAULT, 0};
}

/// The ipevm event a kernel LSM builds for E: no file, no facts.
struct Event {
  ipevm_event Ev{};
  UEvent U;
  explicit Event(const UEvent &E) : U(E) {
    Ev.have = (1u << IPEVM_PROP_COUNT) - 1;
    if (!U.HasFile)
      return;
    Ev.bools = 1u << IPEVM_PROP_HAS_FILE;
    if (U.Initramfs)
      Ev.bools |= 1u << IPEVM_PROP_BOOT_VERIFIED;
    if (U.DmvSigned)
      Ev.bools |= 1u << IPEVM_PROP_DMVERITY_SIGNATURE;
    if (U.FsvSigned)
      Ev.bools |= 1u << IPEVM_PROP_FSVERITY_SIGNATURE;
    set(IPEVM_PROP_DMVERITY_ROOTHASH, U.RootHash);
    set(IPEVM_PROP_FSVERITY_DIGEST, U.FsvDigest);
  }
  Event(const Event &) = delete;

private:
  void set(unsigned Prop, const std::optional<UDigest> &D) {
    if (!D)
      return;
    ipevm_digest &Out = Ev.digest[Prop - IPEVM_PROP_FIRST_DIGEST];
    Out.alg = reinterpret_cast<const u8 *>(D->Alg.data());
    Out.alg_len = u32(D->Alg.size());
    Out.bytes = D->Bytes.data();
    Out.len = u32(D->Bytes.size());
  }
};

std::string describe(const UEvent &E) {
  std::string S = E.HasFile ? "file" : "no file";
  if (E.Initramfs)
    S += " initramfs";
  if (E.DmvSigned)
    S += " dmv-signed";
  if (E.FsvSigned)
    S += " fsv-signed";
  if (E.RootHash)
    S += " roothash=" + E.RootHash->Alg + ":" + llvm::toHex(E.RootHash->Bytes);
  if (E.FsvDigest)
    S += " fsv-digest=" + E.FsvDigest->Alg + ":" +
         llvm::toHex(E.FsvDigest->Bytes);
  return S;
}

std::optional<Artifact> compile(const std::string &Text, InputFormat F,
                                std::string *DiagOut = nullptr) {
  llvm::SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(Text, "p.pol"), llvm::SMLoc());
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  DiagnosticEngine Diags(SM, OS);
  CompileOptions Opts;
  Opts.Format = F;
  auto Bytes = compileToBytecode(Id, Diags, Opts);
  OS.flush();
  if (DiagOut)
    *DiagOut = Out;
  if (!Bytes) {
    ADD_FAILURE() << "does not compile:\n" << Text << "\n" << Out;
    return std::nullopt;
  }
  auto A = Artifact::fromBytes(std::move(*Bytes));
  if (!A) {
    ADD_FAILURE() << llvm::toString(A.takeError());
    return std::nullopt;
  }
  return std::move(*A);
}

ipevm_decision run(const Artifact &A, unsigned Op, const UEvent &U) {
  Event E(U);
  E.Ev.op = Op;
  ipevm_decision D{};
  EXPECT_EQ(ipevm_eval(&A.prog(), &E.Ev, &D), IPEVM_E_OK);
  return D;
}

/// Digests an event may carry: the kernel reports an algorithm name of 1 to
/// 64 bytes and a digest of 1 to 64 bytes. From the policy's own digests
/// (those of that shape), variants of them, and a few strangers.
std::vector<UDigest> eventDigests(const std::string &Text, std::mt19937 &Rng) {
  std::vector<UDigest> Pool;
  auto Add = [&](UDigest D) {
    if (D.Alg.empty() || D.Alg.size() > 64 || D.Bytes.empty() ||
        D.Bytes.size() > 64)
      return;
    for (const UDigest &E : Pool)
      if (E == D)
        return;
    Pool.push_back(D);
  };
  UPolicy P = parseUpstream(Text);
  for (const URule &R : P.Rules)
    for (const std::string &Prop : R.Props) {
      size_t Eq = Prop.find('=');
      if (Prop.compare(0, Eq, "fsverity_digest") &&
          Prop.compare(0, Eq, "dmverity_roothash"))
        continue;
      std::string V = Prop.substr(Eq + 1);
      size_t Colon = V.find(':');
      UDigest D{V.substr(0, Colon), {}};
      std::string Bytes = llvm::fromHex(V.substr(Colon + 1));
      D.Bytes.assign(Bytes.begin(), Bytes.end());
      Add(D);
      UDigest Other = D;
      Other.Alg = D.Alg == "sha256" ? "sha512" : "sha256";
      Add(Other);
      if (!D.Bytes.empty()) {
        UDigest Flipped = D;
        Flipped.Bytes.back() ^= 1;
        Add(Flipped);
      }
    }
  for (unsigned Len : {32u, 64u}) {
    UDigest D{Len == 32 ? "sha256" : "sha512", {}};
    for (unsigned I = 0; I < Len; ++I)
      D.Bytes.push_back(uint8_t(Rng()));
    Add(D);
  }
  return Pool;
}

/// Compares compiled bytecode with the upstream evaluator on every event
/// built from Pool (all of them when Exhaustive, else Samples random ones).
void checkMeaning(const std::string &Text, const Artifact &A,
                  const std::vector<UDigest> &Pool, std::mt19937 &Rng,
                  unsigned Samples) {
  UPolicy P = parseUpstream(Text);
  auto Check = [&](const UEvent &E) {
    for (int Op = 0; Op < 7; ++Op)
      for (unsigned Hook : UpOpHooks[Op]) {
        UDecision Want = upstreamEvaluate(P, Op, E);
        ipevm_decision Got = run(A, Hook, E);
        ASSERT_EQ(Got.allow, Want.Allow)
            << Text << "\nop " << UpOps[Op] << " hook " << Hook << ": "
            << describe(E);
        ASSERT_EQ(Got.origin, Want.Origin) << Text << "\n" << describe(E);
        ASSERT_FALSE(Got.audit);
        if (Want.Origin == IPEVM_ORIGIN_RULE) {
          ASSERT_EQ(Got.rule, Want.Rule) << Text << "\n" << describe(E);
        }
      }
  };
  auto Digest = [&](unsigned C) -> std::optional<UDigest> {
    if (C == 0)
      return std::nullopt;
    return Pool[C - 1];
  };
  if (!Samples) {
    UEvent NoFile;
    Check(NoFile);
    for (unsigned Bits = 0; Bits < 8; ++Bits)
      for (unsigned R = 0; R <= Pool.size(); ++R)
        for (unsigned F = 0; F <= Pool.size(); ++F) {
          UEvent E;
          E.HasFile = true;
          E.Initramfs = Bits & 1;
          E.DmvSigned = Bits & 2;
          E.FsvSigned = Bits & 4;
          E.RootHash = Digest(R);
          E.FsvDigest = Digest(F);
          Check(E);
          if (::testing::Test::HasFatalFailure())
            return;
        }
    return;
  }
  for (unsigned I = 0; I < Samples; ++I) {
    UEvent E;
    E.HasFile = Rng() % 8 != 0;
    if (E.HasFile) {
      E.Initramfs = Rng() & 1;
      E.DmvSigned = Rng() & 1;
      E.FsvSigned = Rng() & 1;
      E.RootHash = Digest(unsigned(Rng() % (Pool.size() + 1)));
      E.FsvDigest = Digest(unsigned(Rng() % (Pool.size() + 1)));
    }
    Check(E);
    if (::testing::Test::HasFatalFailure())
      return;
  }
}

const std::string S1 =
    "cd2c5bae7c6c579edaae4353049d58eb5f2e8be0244bf05345bc8e5ed257baff";
const std::string S2 =
    "401fcec5944823ae12f62726e8184407a5fa9599783f030dec146938b25b4bcb";

// clang-format off
const char *const SemanticPolicies[] = {
  // The admin guide's examples.
  "policy_name=Allow_All policy_version=0.0.0\nDEFAULT action=ALLOW\n",
  "policy_name=Allow_All_Initramfs policy_version=0.0.0\nDEFAULT action=DENY\n"
  "op=EXECUTE boot_verified=TRUE action=ALLOW\n",
  "policy_name=Allow_Signed_DMV_And_Roothash policy_version=0.0.0\nDEFAULT action=DENY\n"
  "op=EXECUTE dmverity_roothash=sha256:a75c4f8d5d3d49b3e3a3a1df2e7b3c6b9a0c1e7c4a1a8c2f1e4a5d6b action=ALLOW\n"
  "op=EXECUTE dmverity_signature=TRUE action=ALLOW\n",
  "policy_name=Allow_IPE_Policy_Execute policy_version=0.0.0\n"
  "DEFAULT op=EXECUTE action=ALLOW\nDEFAULT action=DENY\n"
  "op=KMODULE boot_verified=TRUE action=ALLOW\n",
  // The =FALSE forms hold for events without a file.
  "policy_name=false_forms policy_version=1.0.0\nDEFAULT action=ALLOW\n"
  "op=EXECUTE boot_verified=FALSE action=DENY\n"
  "op=FIRMWARE dmverity_signature=FALSE action=DENY\n"
  "op=KMODULE fsverity_signature=FALSE action=DENY\n"
  "op=KEXEC_IMAGE boot_verified=FALSE dmverity_signature=FALSE fsverity_signature=FALSE action=DENY\n"
  "op=POLICY boot_verified=TRUE fsverity_signature=FALSE action=ALLOW\nop=POLICY action=DENY\n",
  // Per-op defaults only; rules for every op; deny before allow.
  "policy_name=perop policy_version=0.0.1\n"
  "op=EXECUTE fsverity_digest=sha256:CD2C5BAE7C6C579EDAAE4353049D58EB5F2E8BE0244BF05345BC8E5ED257BAFF action=DENY\n"
  "DEFAULT op=EXECUTE action=DENY\nDEFAULT op=FIRMWARE action=ALLOW\nDEFAULT op=KMODULE action=DENY\n"
  "op=EXECUTE fsverity_signature=TRUE action=ALLOW\n"
  "DEFAULT op=KEXEC_IMAGE action=DENY\nDEFAULT op=KEXEC_INITRAMFS action=ALLOW\nDEFAULT op=POLICY action=DENY\n"
  "op=FIRMWARE dmverity_roothash=sha512:" "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff action=DENY\n"
  "DEFAULT op=X509_CERT action=ALLOW\n"
  "op=KMODULE dmverity_signature=TRUE boot_verified=TRUE action=ALLOW\n"
  "op=KEXEC_IMAGE action=ALLOW\nop=KEXEC_INITRAMFS boot_verified=TRUE action=DENY\n"
  "op=POLICY fsverity_signature=TRUE action=ALLOW\nop=X509_CERT fsverity_signature=FALSE action=DENY\n",
  // Traps: never-matching digests, contradictions, duplicates.
  "policy_name=traps policy_version=0.0.0\nDEFAULT action=DENY\n"
  "op=EXECUTE fsverity_digest=SHA256:cd2c5bae7c6c579edaae4353049d58eb5f2e8be0244bf05345bc8e5ed257baff action=ALLOW\n"
  "op=EXECUTE fsverity_digest=md5:00112233445566778899aabbccddeeff action=ALLOW\n"
  "op=EXECUTE fsverity_digest=sha256: action=ALLOW\n"
  "op=EXECUTE dmverity_roothash=:00 action=ALLOW\n"
  "op=EXECUTE boot_verified=TRUE boot_verified=FALSE action=ALLOW\n"
  "op=EXECUTE fsverity_signature=TRUE fsverity_signature=TRUE dmverity_signature=FALSE action=ALLOW\n"
  "op=KMODULE dmverity_roothash=sha256:00 dmverity_roothash=sha256:01 action=ALLOW\n"
  "op=KMODULE dmverity_roothash=sha384:00 action=ALLOW\n",
};
// clang-format on

TEST(IPECompat, BytecodeDecidesAsUpstream) {
  std::mt19937 Rng(424242);
  std::vector<std::string> Policies(std::begin(SemanticPolicies),
                                    std::end(SemanticPolicies));
  // Digests in both spellings and positions.
  Policies.push_back(
      "policy_name=digests policy_version=0.0.0\nDEFAULT action=ALLOW\n"
      "op=EXECUTE fsverity_digest=sha256:" +
      S1 +
      " action=DENY\n"
      "op=EXECUTE dmverity_roothash=sha256:" +
      S2 +
      " action=DENY\n"
      "op=EXECUTE dmverity_roothash=sha256:" +
      S1 + " fsverity_digest=sha256:" + S2 +
      " action=ALLOW\n"
      "op=EXECUTE fsverity_digest=sha256:" +
      std::string(S1).substr(0, 56) +
      " action=DENY\n"
      "op=FIRMWARE fsverity_digest=sha512:" +
      S1 + S2 +
      " action=DENY\n"
      "op=FIRMWARE fsverity_digest=" +
      std::string(65, 'x') +
      ":00 action=DENY\n"
      "op=FIRMWARE fsverity_digest=sha512:" +
      S1 + S2 + "00 action=DENY\n");
  for (const std::string &Text : Policies) {
    SCOPED_TRACE(Text);
    std::optional<Artifact> A = compile(Text, InputFormat::IPE);
    ASSERT_TRUE(A);
    checkMeaning(Text, *A, eventDigests(Text, Rng), Rng, /*Samples=*/0);
    if (HasFatalFailure())
      return;
  }
}

//===----------------------------------------------------------------------===//
// 3. Random upstream policies: meaning, and translate round trip
//===----------------------------------------------------------------------===//

class RandomUpstream {
public:
  explicit RandomUpstream(uint32_t Seed) : Rng(Seed) {
    for (int I = 0; I < 4; ++I)
      Digests.push_back("sha256:" + hex(32));
    Digests.push_back("sha512:" + hex(64));
    Digests.push_back("sha384:" + hex(48));
    // Digests the kernel accepts and that never match.
    Digests.push_back("sha256:" + hex(28));
    Digests.push_back("SHA256:" + hex(32));
    Digests.push_back("md5:" + hex(16));
    Digests.push_back("sha256:");
    Digests.push_back(":00");
    Digests.push_back("sha512:" + hex(65));
  }

  std::string policy() {
    std::vector<std::string> Lines;
    bool Global = chance(70);
    unsigned N = pick(12);
    for (unsigned I = 0; I < N; ++I)
      Lines.push_back(rule());
    auto Insert = [&](std::string L) {
      Lines.insert(Lines.begin() + pick(unsigned(Lines.size()) + 1), L);
    };
    if (Global)
      Insert(join({"DEFAULT", action()}));
    for (int Op = 0; Op < 7; ++Op)
      if (!Global || chance(25))
        Insert(join({"DEFAULT", std::string("op=") + UpOps[Op], action()}));
    std::string Name = "p";
    for (unsigned I = pick(8); I > 0; --I)
      Name += "abcXYZ019_-.:=$"[pick(15)];
    std::string Text;
    if (chance(30))
      Text += "# a comment" + eol();
    Text += blanks(true) + "policy_name=" + Name + sep() +
            "policy_version=" + std::to_string(pick(3)) + "." +
            std::to_string(pick(70000) % 65536) + ".0" + trailer() + eol();
    for (const std::string &L : Lines) {
      if (chance(10))
        Text += eol();
      if (chance(10))
        Text += blanks(true) + "# note" + eol();
      Text += blanks(true) + L + trailer() + eol();
    }
    return Text;
  }

  const std::vector<std::string> &digests() const { return Digests; }
  std::mt19937 &rng() { return Rng; }

private:
  unsigned pick(unsigned N) { return unsigned(Rng() % N); }
  bool chance(unsigned Percent) { return pick(100) < Percent; }
  std::string hex(unsigned Bytes) {
    std::string S;
    for (unsigned I = 0; I < Bytes * 2; ++I)
      S += "0123456789abcdef"[pick(16)];
    return S;
  }
  std::string action() { return chance(50) ? "action=ALLOW" : "action=DENY"; }
  std::string sep() {
    static const char *const Seps[] = {" ", " ", "\t", "  ", " \t "};
    return Seps[pick(5)];
  }
  std::string blanks(bool MayBeEmpty) {
    static const char *const B[] = {"", "", "", " ", "\t", " \t "};
    return MayBeEmpty ? B[pick(6)] : " ";
  }
  std::string trailer() {
    static const char *const T[] = {"",       "",   "",   " ",    "\t",
                                    " # why", "#x", "\v", "\xA0", " \f"};
    return T[pick(10)];
  }
  std::string eol() {
    static const char *const E[] = {"\n", "\n", "\n", "\r\n", "\r"};
    return E[pick(5)];
  }
  std::string join(std::vector<std::string> Toks) {
    std::string S;
    for (size_t I = 0; I < Toks.size(); ++I)
      S += (I ? sep() : "") + Toks[I];
    return S;
  }
  std::string rule() {
    std::vector<std::string> Toks = {std::string("op=") + UpOps[pick(7)]};
    static const char *const Bools[] = {"boot_verified", "dmverity_signature",
                                        "fsverity_signature"};
    for (unsigned I = pick(5); I > 0; --I) {
      if (chance(55)) {
        Toks.push_back(std::string(Bools[pick(3)]) +
                       (chance(50) ? "=TRUE" : "=FALSE"));
        continue;
      }
      std::string D =
          Digests[chance(80) ? pick(6) : pick(unsigned(Digests.size()))];
      if (chance(30)) // Upper-case hex digits.
        D = D.substr(0, D.find(':') + 1) +
            llvm::StringRef(D).substr(D.find(':') + 1).upper();
      Toks.push_back((chance(50) ? "fsverity_digest=" : "dmverity_roothash=") +
                     D);
    }
    Toks.push_back(action());
    return join(Toks);
  }

  std::mt19937 Rng;
  std::vector<std::string> Digests;
};

/// Digests a real kernel reports: a known algorithm with its length.
std::vector<UDigest> realisticDigests(const RandomUpstream &G,
                                      std::mt19937 &Rng) {
  std::vector<UDigest> Pool;
  for (const std::string &S : G.digests()) {
    size_t Colon = S.find(':');
    UDigest D{S.substr(0, Colon), {}};
    std::string B = llvm::fromHex(S.substr(Colon + 1));
    D.Bytes.assign(B.begin(), B.end());
    auto Len = ir::digestLength(D.Alg);
    if (Len && *Len == D.Bytes.size())
      Pool.push_back(D);
  }
  UDigest Stranger{"sha256", {}};
  for (int I = 0; I < 32; ++I)
    Stranger.Bytes.push_back(uint8_t(Rng()));
  Pool.push_back(Stranger);
  return Pool;
}

TEST(IPECompat, RandomPoliciesDecideAsUpstream) {
  RandomUpstream Gen(20260101);
  std::mt19937 Rng(99);
  for (unsigned I = 0; I < 300; ++I) {
    std::string Text = Gen.policy();
    SCOPED_TRACE(Text);
    Parsed P = parse(Text);
    ASSERT_TRUE(P.Accepted) << P.Diags;
    ASSERT_EQ(P.KernelErrno, 0);
    std::optional<Artifact> A = compile(Text, InputFormat::IPE);
    ASSERT_TRUE(A);
    checkMeaning(Text, *A, eventDigests(Text, Rng), Rng, /*Samples=*/150);
    if (HasFatalFailure())
      return;
  }
}

/// Whether IPL can name the 'policy' operation, which is also its header
/// keyword: translating any policy that mentions op=POLICY needs it.
bool iplCanNamePolicyOp() {
  llvm::SourceMgr SM;
  SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          "policy \"p\" version 1.0.0;\ndefault deny;\n"
          "default policy allow;\nallow policy if boot_verified;\n",
          "probe.ipl"),
      llvm::SMLoc());
  llvm::raw_null_ostream Null;
  DiagnosticEngine Diags(SM, Null);
  CompileOptions Opts;
  Opts.Format = InputFormat::IPL;
  return compileToBytecode(SM.getMainFileID(), Diags, Opts).has_value();
}

TEST(IPECompat, IPLCanNameEveryUpstreamOperation) {
  EXPECT_TRUE(iplCanNamePolicyOp())
      << "IPL cannot write the 'policy' operation ('default policy deny;' "
         "does not parse), so 'ipec translate' refuses upstream policies "
         "that use op=POLICY";
}

TEST(IPECompat, TranslateRoundTripDecidesTheSame) {
  RandomUpstream Gen(7);
  std::mt19937 Rng(1234);
  std::vector<UDigest> Pool = realisticDigests(Gen, Rng);
  unsigned Compared = 0, Translated = 0;
  for (unsigned I = 0; I < 300; ++I) {
    std::string Text = Gen.policy();
    SCOPED_TRACE(Text);
    std::optional<Artifact> Direct = compile(Text, InputFormat::IPE);
    ASSERT_TRUE(Direct);

    llvm::SourceMgr SM;
    unsigned Id = SM.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(Text, "r.pol"), llvm::SMLoc());
    std::string Out;
    llvm::raw_string_ostream OS(Out);
    DiagnosticEngine Diags(SM, OS);
    std::optional<std::string> IPL = translateIPEToIPL(Id, Diags);
    ASSERT_TRUE(IPL) << OS.str();
    ++Translated;
    std::string IPLDiags;
    std::optional<Artifact> Via = compile(*IPL, InputFormat::IPL, &IPLDiags);
    ASSERT_TRUE(Via) << *IPL;
    ASSERT_EQ(IPLDiags.find("error"), std::string::npos) << IPLDiags;
    ASSERT_EQ(Direct->prog().rule_count, Via->prog().rule_count);
    ASSERT_EQ(policyName(Direct->prog()), policyName(Via->prog()));
    for (unsigned V = 0; V < 3; ++V)
      ASSERT_EQ(Direct->prog().version[V], Via->prog().version[V]);

    for (unsigned J = 0; J < 100; ++J) {
      UEvent E;
      E.HasFile = Rng() % 8 != 0;
      if (E.HasFile) {
        E.Initramfs = Rng() & 1;
        E.DmvSigned = Rng() & 1;
        E.FsvSigned = Rng() & 1;
        unsigned R = unsigned(Rng() % (Pool.size() + 1));
        unsigned F = unsigned(Rng() % (Pool.size() + 1));
        if (R)
          E.RootHash = Pool[R - 1];
        if (F)
          E.FsvDigest = Pool[F - 1];
      }
      for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
        ipevm_decision Want = run(*Direct, Op, E), Got = run(*Via, Op, E);
        ASSERT_EQ(Got.allow, Want.allow)
            << *IPL << "\nop " << ir::opName(Op).str() << ": " << describe(E);
        ASSERT_EQ(Got.audit, Want.audit);
        ASSERT_EQ(Got.origin, Want.origin) << *IPL << "\n" << describe(E);
        ASSERT_EQ(Got.rule, Want.rule) << *IPL << "\n" << describe(E);
        ++Compared;
      }
    }
  }
  EXPECT_EQ(Translated, 300u);
  EXPECT_EQ(Compared, Translated * 100u * IPEVM_OP_COUNT);
}

} // namespace
