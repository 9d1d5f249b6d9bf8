//===- IPEFrontend.cpp - Read upstream Linux IPE text policies ------------===//
//
// A hand-written replica of the kernel's parser (security/ipe/policy_parser.c
// and digest.c): the text is split into lines at each '\n' and each '\r',
// '#' cuts the rest of a line, trailing kernel-isspace bytes are trimmed and
// empty lines skipped; the first line left is the header, every other one a
// DEFAULT or a rule, whose tokens are separated by spaces and tabs. Each
// check below is the kernel's, in the kernel's order, so the first error
// reported is the one the kernel stops at, and it names the kernel's errno.
// Where the kernel accepts a text that cannot mean what its author wanted,
// ipec accepts it with the same meaning and warns. docs/ipe-compat.md is the
// contract.
//
//===----------------------------------------------------------------------===//

#include "ipec/IPEFrontend.h"
#include "ipec/Frontend.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cerrno>
#include <climits>

using namespace ipec;
using llvm::ArrayRef;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::StringRef;

namespace {

/// The kernel's isspace() (lib/ctype.c): the C locale's six, and 0xA0.
bool kernelIsSpace(char C) {
  switch ((unsigned char)C) {
  case ' ':
  case '\t':
  case '\n':
  case '\v':
  case '\f':
  case '\r':
  case 0xA0:
    return true;
  default:
    return false;
  }
}

/// Calls F on each line the kernel parses, in order: split at each '\n' and
/// '\r', cut at the first '#', trailing kernel-isspace bytes trimmed, empty
/// lines skipped. Each line points into Text.
template <typename Fn> void forEachLine(StringRef Text, Fn F) {
  size_t Start = 0;
  while (Start <= Text.size()) {
    size_t End = Text.find_first_of("\n\r", Start);
    if (End == StringRef::npos)
      End = Text.size();
    StringRef Line = Text.slice(Start, End);
    Line = Line.take_front(Line.find('#'));
    while (!Line.empty() && kernelIsSpace(Line.back()))
      Line = Line.drop_back();
    if (!Line.empty())
      F(Line);
    Start = End + 1;
  }
}

/// The tokens of a line: separated by each space or tab, empty ones skipped.
llvm::SmallVector<StringRef, 8> tokensOf(StringRef Line) {
  llvm::SmallVector<StringRef, 8> Toks;
  size_t Start = 0;
  while (Start <= Line.size()) {
    size_t End = Line.find_first_of(" \t", Start);
    if (End == StringRef::npos)
      End = Line.size();
    if (End > Start)
      Toks.push_back(Line.slice(Start, End));
    Start = End + 1;
  }
  return Toks;
}

/// Bytes as a message or comment can show them: printable ASCII as is, every
/// other byte as \xHH.
std::string printable(StringRef S, bool KeepTabs = false) {
  std::string Out;
  for (char C : S) {
    unsigned char U = (unsigned char)C;
    if ((U >= 0x20 && U < 0x7f) || (KeepTabs && C == '\t')) {
      Out += C;
      continue;
    }
    Out += "\\x";
    Out += llvm::hexdigit(U >> 4, /*LowerCase=*/false);
    Out += llvm::hexdigit(U & 15, /*LowerCase=*/false);
  }
  return Out;
}

/// kstrtou16(S, 10, ...) of lib/kstrtox.c: 0, EINVAL or ERANGE.
int kstrtou16(StringRef S, uint16_t &Out) {
  if (S.startswith("+"))
    S = S.drop_front();
  unsigned long long Res = 0;
  bool Overflow = false;
  size_t N = 0;
  for (; N < S.size() && llvm::isDigit(S[N]); ++N) {
    unsigned D = unsigned(S[N] - '0');
    if (Overflow || Res > (ULLONG_MAX - D) / 10)
      Overflow = true;
    else
      Res = Res * 10 + D;
  }
  if (Overflow)
    return ERANGE;
  if (N == 0)
    return EINVAL;
  S = S.drop_front(N);
  if (S.startswith("\n"))
    S = S.drop_front();
  if (!S.empty())
    return EINVAL;
  if (Res > 0xffff)
    return ERANGE;
  Out = uint16_t(Res);
  return 0;
}

/// Upstream operations, in the kernel's enum order, and what they mean here.
struct UpstreamOp {
  StringRef Token; ///< "op=EXECUTE"
  ir::OpMask Ops;
};
const UpstreamOp UpstreamOps[] = {
    {"op=EXECUTE", (1u << IPEVM_OP_EXECUTE) | (1u << IPEVM_OP_MMAP_EXEC) |
                       (1u << IPEVM_OP_MPROTECT_EXEC)},
    {"op=FIRMWARE", 1u << IPEVM_OP_FIRMWARE},
    {"op=KMODULE", 1u << IPEVM_OP_KMODULE},
    {"op=KEXEC_IMAGE", 1u << IPEVM_OP_KEXEC_IMAGE},
    {"op=KEXEC_INITRAMFS", 1u << IPEVM_OP_KEXEC_INITRAMFS},
    {"op=POLICY", 1u << IPEVM_OP_POLICY},
    {"op=X509_CERT", 1u << IPEVM_OP_X509_CERT},
};
constexpr unsigned NumUpstreamOps = 7;

/// Upstream properties and the IR property each tests.
struct UpstreamProp {
  StringRef Key; ///< "boot_verified"
  unsigned Prop;
};
const UpstreamProp UpstreamProps[] = {
    {"boot_verified", IPEVM_PROP_BOOT_VERIFIED},
    {"dmverity_roothash", IPEVM_PROP_DMVERITY_ROOTHASH},
    {"dmverity_signature", IPEVM_PROP_DMVERITY_SIGNATURE},
    {"fsverity_digest", IPEVM_PROP_FSVERITY_DIGEST},
    {"fsverity_signature", IPEVM_PROP_FSVERITY_SIGNATURE},
};

const UpstreamProp *propByKey(StringRef Key) {
  for (const UpstreamProp &P : UpstreamProps)
    if (P.Key == Key)
      return &P;
  return nullptr;
}

/// A case-insensitive match first (keywords are case-sensitive, so a
/// mis-cased one is the likeliest mistake), then a plausible typo.
StringRef suggest(StringRef Name, ArrayRef<StringRef> Candidates) {
  for (StringRef C : Candidates)
    if (Name.equals_insensitive(C))
      return C;
  return suggestName(Name, Candidates);
}

/// A parsed property of a rule (or, wrongly, of a DEFAULT line).
struct Prop {
  StringRef Tok;
  unsigned IRProp = 0;
  bool Bool = false; ///< For boolean properties: TRUE.
  ir::Digest Digest; ///< For digest properties.
  StringRef AlgText, HexText;
};

class IPEParser {
public:
  IPEParser(StringRef Text, DiagnosticEngine &Diags, std::string File)
      : Text(Text), Diags(Diags), File(std::move(File)) {}

  void run();
  int kernelErrno() const { return ParseErrno ? ParseErrno : LoadErrno; }
  IPEParseResult take();

private:
  SMLoc loc(StringRef S) const { return SMLoc::getFromPointer(S.data()); }
  SMRange range(StringRef S) const {
    return SMRange(loc(S), SMLoc::getFromPointer(S.end()));
  }
  /// Reports an error at S that the kernel answers with Errno (appended to
  /// Args as its name). Load-time errors count only if parsing succeeds.
  void error(DiagID Id, StringRef S, std::vector<std::string> Args, int Errno,
             bool LoadTime = false);
  void note(DiagID Id, StringRef S, std::vector<std::string> Args = {}) {
    Diags.report(Id, loc(S), Args);
  }
  void warn(DiagID Id, StringRef At, std::vector<std::string> Args) {
    Diags.report(Id, loc(At), Args, {range(At)});
  }

  bool header(ArrayRef<StringRef> Toks);
  bool version(StringRef Ver);
  void checkName(StringRef NameTok);
  void rule(StringRef Line, ArrayRef<StringRef> Toks);
  void badOperation(StringRef T, bool IsDefault);
  std::optional<Prop> property(StringRef T);
  std::optional<ir::Digest> digest(StringRef Value, Prop &P);
  ir::Expr digestExpr(const Prop &P, std::vector<std::string> &Notes);
  void analyse(ArrayRef<Prop> Props, std::vector<std::string> &Notes);
  void validate();
  ir::SourceLoc sourceLoc(StringRef S) const {
    auto LC = Diags.sourceMgr().getLineAndColumn(loc(S));
    return {File, LC.first, LC.second};
  }

  StringRef Text;
  DiagnosticEngine &Diags;
  std::string File;

  bool HeaderSeen = false;
  bool Failed = false;
  int ParseErrno = 0;
  int LoadErrno = 0;
  StringRef HeaderLine, NameTok;
  ir::Policy P;
  std::vector<std::vector<std::string>> RuleNotes;
  StringRef GlobalAt;
  std::array<StringRef, NumUpstreamOps> PerOpAt;
  std::array<bool, NumUpstreamOps> PerOpSet = {};
};

} // namespace

StringRef ipec::ipeErrnoName(int Errno) {
  switch (Errno) {
  case 0:
    return "0";
  case EBADMSG:
    return "EBADMSG";
  case EINVAL:
    return "EINVAL";
  case ERANGE:
    return "ERANGE";
  case EACCES:
    return "EACCES";
  case ENAMETOOLONG:
    return "ENAMETOOLONG";
  default:
    return "E?";
  }
}

void IPEParser::error(DiagID Id, StringRef S, std::vector<std::string> Args,
                      int Errno, bool LoadTime) {
  Args.push_back(ipeErrnoName(Errno).str());
  if (S.empty())
    Diags.report(Id, loc(S), Args);
  else
    Diags.report(Id, loc(S), Args, {range(S)});
  Failed = true;
  int &Slot = LoadTime ? LoadErrno : ParseErrno;
  if (!Slot)
    Slot = Errno;
}

void IPEParser::run() {
  if (Text.empty()) {
    error(DiagID::err_ipe_empty, Text, {}, EBADMSG);
    return;
  }
  forEachLine(Text, [&](StringRef Line) {
    auto Toks = tokensOf(Line);
    if (!HeaderSeen) {
      HeaderSeen = true;
      HeaderLine = Line;
      header(Toks);
      return;
    }
    rule(Line, Toks);
  });
  if (!HeaderSeen) {
    error(DiagID::err_ipe_no_header, Text.take_front(0), {}, EBADMSG);
    Diags.report(DiagID::note_ipe_header_form, loc(Text));
    return;
  }
  // The kernel validates the defaults only after every line parsed; the
  // name matters only when the parsed policy is loaded.
  if (!ParseErrno)
    validate();
  if (!NameTok.empty())
    checkName(NameTok);
}

bool IPEParser::header(ArrayRef<StringRef> Toks) {
  static const StringRef NameKey = "policy_name=", VerKey = "policy_version=";
  unsigned Idx = 0;
  for (StringRef T : Toks) {
    if (Idx >= 2) {
      error(DiagID::err_ipe_header_extra, T, {printable(T)}, EBADMSG);
      return false;
    }
    // match_token(): "%s" needs a non-empty remainder.
    unsigned Which = 2;
    if (T.startswith(NameKey) && T.size() > NameKey.size())
      Which = 0;
    else if (T.startswith(VerKey) && T.size() > VerKey.size())
      Which = 1;
    if (Which != Idx) {
      StringRef Key = Idx == 0 ? NameKey : VerKey;
      if (T == Key) {
        error(DiagID::err_ipe_header_empty_value, T, {Key.str()}, EBADMSG);
      } else {
        error(
            DiagID::err_ipe_header_token, T,
            {Idx == 0 ? "policy_name=NAME" : "policy_version=MAJOR.MINOR.PATCH",
             Idx == 0 ? "first" : "second", printable(T)},
            EBADMSG);
        Diags.report(DiagID::note_ipe_header_form, loc(T));
      }
      return false;
    }
    if (Idx == 0) {
      NameTok = T; // Checked once the header parsed.
      P.Name = T.drop_front(NameKey.size()).str();
    } else if (!version(T.drop_front(VerKey.size()))) {
      return false;
    }
    ++Idx;
  }
  if (Idx != 2) {
    NameTok = StringRef();
    error(DiagID::err_ipe_header_missing_version, Toks.back(), {}, EBADMSG);
    if (Toks.back().drop_front(NameKey.size()).contains(VerKey))
      Diags.report(DiagID::note_ipe_missing_space, loc(Toks.back()));
    return false;
  }
  return true;
}

bool IPEParser::version(StringRef Ver) {
  static const char *const Ordinal[] = {"one component", "two components"};
  unsigned Count = 0;
  size_t Start = 0;
  while (true) {
    size_t Dot = Ver.find('.', Start);
    StringRef Comp =
        Ver.slice(Start, Dot == StringRef::npos ? Ver.size() : Dot);
    if (Count >= 3) {
      // The kernel stops at the fourth component, before parsing it.
      StringRef Rest(Comp.data(), Ver.end() - Comp.data());
      error(DiagID::err_ipe_version_too_many, Rest, {printable(Ver)}, EBADMSG);
      return false;
    }
    uint16_t V = 0;
    int Rc = kstrtou16(Comp, V);
    if (Rc == ERANGE) {
      error(DiagID::err_ipe_version_range, Comp, {printable(Comp)}, ERANGE);
      return false;
    }
    if (Rc && Comp.empty()) {
      static const char *const Nth[] = {"first", "second", "third"};
      error(DiagID::err_ipe_version_empty_component, Comp, {Nth[Count]},
            EINVAL);
      return false;
    }
    if (Rc) {
      error(DiagID::err_ipe_version_invalid, Comp, {printable(Comp)}, EINVAL);
      return false;
    }
    P.Version[Count++] = V;
    if (Dot == StringRef::npos)
      break;
    Start = Dot + 1;
  }
  if (Count != 3) {
    error(DiagID::err_ipe_version_too_few, Ver,
          {printable(Ver), Ordinal[Count - 1]}, EBADMSG);
    return false;
  }
  return true;
}

/// The name becomes a securityfs directory when the policy is loaded:
/// lookup_one_len() refuses '.', '..' and '/', simple_lookup() long names.
void IPEParser::checkName(StringRef Tok) {
  StringRef Name = P.Name;
  StringRef At = Tok.drop_front(StringRef("policy_name=").size());
  if (Name == "." || Name == "..")
    error(DiagID::err_ipe_name_unloadable, At, {"must not be '.' or '..'"},
          EACCES, /*LoadTime=*/true);
  else if (Name.contains('/'))
    error(DiagID::err_ipe_name_unloadable, At, {"must not contain '/'"}, EACCES,
          /*LoadTime=*/true);
  else if (Name.size() > 255)
    error(DiagID::err_ipe_name_unloadable, At, {"is longer than 255 bytes"},
          ENAMETOOLONG, /*LoadTime=*/true);
}

void IPEParser::badOperation(StringRef T, bool IsDefault) {
  llvm::SmallVector<StringRef, 8> OpTokens;
  for (const UpstreamOp &O : UpstreamOps)
    OpTokens.push_back(O.Token);
  if (T.startswith("op=")) {
    error(DiagID::err_ipe_unknown_op, T, {printable(T)}, EBADMSG);
    StringRef S = suggest(T, OpTokens);
    if (!S.empty())
      Diags.report(DiagID::note_did_you_mean, loc(T), {S.str()});
    else
      Diags.report(DiagID::note_ipe_ops, loc(T));
    return;
  }
  StringRef Key = T.take_front(T.find('='));
  bool LooksLikeProp = T.contains('=') && propByKey(Key);
  if (IsDefault && LooksLikeProp) {
    error(DiagID::err_ipe_default_properties, T, {}, EBADMSG);
    return;
  }
  if (!IsDefault && (LooksLikeProp || T.startswith("action="))) {
    error(DiagID::err_ipe_op_not_first, T, {printable(T)}, EBADMSG);
    return;
  }
  if (!IsDefault &&
      (T.startswith("policy_name=") || T.startswith("policy_version="))) {
    error(DiagID::err_ipe_second_header, T, {}, EBADMSG);
    return;
  }
  error(DiagID::err_ipe_expected_op, T, {printable(T)}, EBADMSG);
  StringRef S = suggest(T, OpTokens);
  if (!S.empty())
    Diags.report(DiagID::note_did_you_mean, loc(T), {S.str()});
}

std::optional<ir::Digest> IPEParser::digest(StringRef Value, Prop &Pr) {
  size_t Colon = Value.find(':');
  if (Colon == StringRef::npos) {
    error(DiagID::err_ipe_digest_no_colon, Value, {printable(Value)}, EBADMSG);
    return std::nullopt;
  }
  StringRef Alg = Value.take_front(Colon), Hex = Value.drop_front(Colon + 1);
  // hex2bin() over (len + 1) / 2 pairs: a bad digit, or the terminating NUL
  // read as the last digit of an odd count, gives EINVAL.
  for (size_t I = 0; I < Hex.size(); ++I)
    if (!llvm::isHexDigit(Hex[I])) {
      error(DiagID::err_ipe_digest_not_hex, Hex.substr(I, 1),
            {printable(Hex.substr(I, 1))}, EINVAL);
      return std::nullopt;
    }
  if (Hex.size() % 2) {
    error(DiagID::err_ipe_digest_odd, Hex, {std::to_string(Hex.size())},
          EINVAL);
    return std::nullopt;
  }
  Pr.AlgText = Alg;
  Pr.HexText = Hex;
  ir::Digest D;
  D.Alg = Alg.str();
  std::string Bytes = llvm::fromHex(Hex);
  D.Bytes.assign(Bytes.begin(), Bytes.end());
  return D;
}

std::optional<Prop> IPEParser::property(StringRef T) {
  Prop Pr;
  Pr.Tok = T;
  auto [Key, Value] = T.split('=');
  const UpstreamProp *U = T.contains('=') ? propByKey(Key) : nullptr;
  if (U) {
    Pr.IRProp = U->Prop;
    if (ipevm_prop_is_digest(U->Prop)) {
      if (Value.empty()) {
        error(DiagID::err_ipe_digest_value_missing, T, {Key.str()}, EBADMSG);
        return std::nullopt;
      }
      auto D = digest(Value, Pr);
      if (!D)
        return std::nullopt;
      Pr.Digest = std::move(*D);
      return Pr;
    }
    if (Value == "TRUE" || Value == "FALSE") {
      Pr.Bool = Value == "TRUE";
      return Pr;
    }
    error(DiagID::err_ipe_bool_value, T, {Key.str(), printable(Value)},
          EBADMSG);
    if (Value.equals_insensitive("true") || Value.equals_insensitive("false"))
      Diags.report(DiagID::note_did_you_mean, loc(T),
                   {(Key + "=" + Value.upper()).str()});
    return std::nullopt;
  }
  if (T.startswith("op=")) {
    error(DiagID::err_ipe_misplaced, T,
          {printable(T), "is a second operation: a rule has one 'op=', first"},
          EBADMSG);
    return std::nullopt;
  }
  if (T.startswith("action=")) {
    error(DiagID::err_ipe_misplaced, T,
          {printable(T), "must be the last token of the line"}, EBADMSG);
    return std::nullopt;
  }
  if (T == "DEFAULT") {
    error(DiagID::err_ipe_misplaced, T,
          {"DEFAULT", "must be the first token of the line"}, EBADMSG);
    return std::nullopt;
  }
  error(DiagID::err_ipe_unknown_property, T, {printable(T)}, EBADMSG);
  llvm::SmallVector<StringRef, 8> Keys;
  for (const UpstreamProp &UP : UpstreamProps)
    Keys.push_back(UP.Key);
  StringRef S = suggest(Key, Keys);
  if (!S.empty())
    Diags.report(DiagID::note_did_you_mean, loc(T), {S.str()});
  return std::nullopt;
}

void IPEParser::rule(StringRef Line, ArrayRef<StringRef> Toks) {
  // parse_rule(): every token but the last is DEFAULT (first only), the
  // operation, or a property; the last is the action, checked after them.
  bool IsDefault = false;
  int Op = -1;
  llvm::SmallVector<Prop, 4> Props;
  for (size_t I = 0; I + 1 < Toks.size(); ++I) {
    StringRef T = Toks[I];
    if (I == 0 && T == "DEFAULT") {
      IsDefault = true;
      continue;
    }
    if (Op < 0) {
      for (unsigned O = 0; O < NumUpstreamOps; ++O)
        if (T == UpstreamOps[O].Token)
          Op = int(O);
      if (Op < 0) {
        badOperation(T, IsDefault);
        return;
      }
      continue;
    }
    auto Pr = property(T);
    if (!Pr)
      return;
    Props.push_back(std::move(*Pr));
  }

  StringRef ActTok = Toks.back();
  if (ActTok != "action=ALLOW" && ActTok != "action=DENY") {
    error(DiagID::err_ipe_expected_action, ActTok, {printable(ActTok)},
          EBADMSG);
    if (ActTok.startswith("action=")) {
      StringRef S = suggest(ActTok, {"action=ALLOW", "action=DENY"});
      if (!S.empty())
        Diags.report(DiagID::note_did_you_mean, loc(ActTok), {S.str()});
    }
    return;
  }
  ir::Action Act{ActTok == "action=ALLOW", false};

  if (IsDefault) {
    if (!Props.empty()) {
      StringRef All(Props.front().Tok.data(),
                    Props.back().Tok.end() - Props.front().Tok.data());
      error(DiagID::err_ipe_default_properties, All, {}, EBADMSG);
      return;
    }
    ir::Default Def{true, Act, sourceLoc(Toks.front())};
    if (Op < 0) {
      if (P.Global.Present) {
        error(DiagID::err_ipe_duplicate_default, Line, {"global default"},
              EBADMSG);
        note(DiagID::note_ipe_previous_default, GlobalAt);
        return;
      }
      P.Global = Def;
      GlobalAt = Toks.front();
      return;
    }
    if (PerOpSet[Op]) {
      error(DiagID::err_ipe_duplicate_default, Line,
            {"default for '" + UpstreamOps[Op].Token.str() + "'"}, EBADMSG);
      note(DiagID::note_ipe_previous_default, PerOpAt[Op]);
      return;
    }
    PerOpSet[Op] = true;
    PerOpAt[Op] = Toks.front();
    for (unsigned IROp = 0; IROp < IPEVM_OP_COUNT; ++IROp)
      if (UpstreamOps[Op].Ops & (1u << IROp))
        P.PerOp[IROp] = Def;
    return;
  }
  if (Op < 0) {
    error(DiagID::err_ipe_missing_op, ActTok, {}, EBADMSG);
    return;
  }

  // A rule: its properties ANDed in order; none matches every event.
  std::vector<std::string> Notes;
  std::optional<ir::Expr> Cond;
  for (const Prop &Pr : Props) {
    ir::Expr E;
    if (ipevm_prop_is_digest(Pr.IRProp))
      E = digestExpr(Pr, Notes);
    else if (Pr.Bool)
      E = ir::Expr::boolProp(Pr.IRProp);
    else
      // Upstream's X=FALSE is true for an event without a file; the IR's
      // booleans are false then, so their negation is too.
      E = ir::Expr::makeNot(ir::Expr::boolProp(Pr.IRProp));
    Cond =
        Cond ? ir::Expr::makeAnd(std::move(*Cond), std::move(E)) : std::move(E);
  }
  analyse(Props, Notes);

  ir::Rule R;
  R.Ops = UpstreamOps[Op].Ops;
  R.Act = Act;
  R.Cond = Cond ? std::move(*Cond) : ir::Expr::constant(true);
  R.Loc = sourceLoc(Toks.front());
  R.Text =
      StringRef(Toks.front().data(), Line.end() - Toks.front().data()).str();
  P.Rules.push_back(std::move(R));
  RuleNotes.push_back(std::move(Notes));
}

/// A digest as the IR tests it. The bytecode's tables hold algorithm names
/// and digests of 1 to 64 bytes; the kernel never reports a digest outside
/// those bounds (no hash is longer than 64 bytes, no name is empty), so such
/// a digest never matches and is lowered to false: the same meaning.
ir::Expr IPEParser::digestExpr(const Prop &Pr,
                               std::vector<std::string> &Notes) {
  const ir::Digest &D = Pr.Digest;
  std::string Shown = "'" + printable(Pr.Tok) + "'";
  StringRef Value = Pr.Tok.drop_front(Pr.Tok.find('=') + 1);
  if (D.Alg.empty()) {
    warn(DiagID::warn_ipe_empty_algorithm, Value, {});
    Notes.push_back(Shown + " has no algorithm name: it never matches");
    return ir::Expr::constant(false);
  }
  if (D.Alg.size() > IPEVM_MAX_ALG_NAME) {
    warn(DiagID::warn_ipe_unknown_algorithm, Pr.AlgText,
         {printable(Pr.AlgText)});
    Notes.push_back(Shown + " names an unknown algorithm: it never matches");
    return ir::Expr::constant(false);
  }
  if (D.Bytes.empty()) {
    warn(DiagID::warn_ipe_digest_empty, Value, {printable(Value)});
    Notes.push_back(Shown + " is an empty digest: it never matches");
    return ir::Expr::constant(false);
  }
  if (D.Bytes.size() > IPEVM_MAX_DIGEST) {
    warn(DiagID::warn_ipe_digest_too_long, Pr.HexText,
         {std::to_string(D.Bytes.size())});
    Notes.push_back(Shown + " is longer than any hash: it never matches");
    return ir::Expr::constant(false);
  }
  // The kernel compares names with strcmp() and lengths exactly; ipec keeps
  // that comparison, and warns.
  auto Len = ir::digestLength(D.Alg);
  if (!Len) {
    warn(DiagID::warn_ipe_unknown_algorithm, Pr.AlgText,
         {printable(Pr.AlgText)});
    StringRef Known[] = {
        "sha1",        "sha224",      "sha256",   "sha384",      "sha512",
        "sha3-224",    "sha3-256",    "sha3-384", "sha3-512",    "sm3",
        "blake2b-512", "blake2s-256", "rmd160",   "streebog256", "streebog512"};
    StringRef S = suggest(Pr.AlgText, Known);
    if (!S.empty())
      Diags.report(DiagID::note_did_you_mean, loc(Pr.AlgText), {S.str()});
    Notes.push_back(Shown + " names an unknown algorithm, '" +
                    printable(D.Alg) + "': it never matches");
  } else if (*Len != D.Bytes.size()) {
    warn(DiagID::warn_ipe_digest_length, Pr.HexText,
         {printable(D.Alg), std::to_string(D.Bytes.size()),
          std::to_string(*Len)});
    Notes.push_back(Shown + " is a " + D.Alg + " digest of " +
                    std::to_string(D.Bytes.size()) + " bytes, not " +
                    std::to_string(*Len) + ": it never matches");
  }
  return ir::Expr::digestEq(Pr.IRProp, D);
}

/// Repeated and contradictory properties: the kernel ANDs them as written.
void IPEParser::analyse(ArrayRef<Prop> Props, std::vector<std::string> &Notes) {
  std::array<const Prop *, IPEVM_PROP_COUNT> First = {};
  for (const Prop &Pr : Props) {
    const Prop *&F = First[Pr.IRProp];
    if (!F) {
      F = &Pr;
      continue;
    }
    bool Same = ipevm_prop_is_digest(Pr.IRProp) ? Pr.Digest == F->Digest
                                                : Pr.Bool == F->Bool;
    std::string Mine = printable(Pr.Tok), Theirs = printable(F->Tok);
    if (Same) {
      warn(DiagID::warn_ipe_duplicate_property, Pr.Tok, {Mine});
      Notes.push_back("'" + Mine + "' is repeated: no effect");
    } else {
      warn(DiagID::warn_ipe_never_matches, Pr.Tok, {Mine, Theirs});
      Notes.push_back("'" + Mine + "' contradicts '" + Theirs +
                      "': this rule never matches");
    }
    note(DiagID::note_ipe_given_here, F->Tok, {Theirs});
  }
}

void IPEParser::validate() {
  if (P.Global.Present)
    return;
  std::string Missing;
  for (unsigned O = 0; O < NumUpstreamOps; ++O)
    if (!PerOpSet[O])
      Missing +=
          (Missing.empty() ? "'" : ", '") + UpstreamOps[O].Token.str() + "'";
  if (Missing.empty())
    return;
  error(DiagID::err_ipe_missing_default, HeaderLine, {Missing}, EBADMSG);
  Diags.report(DiagID::note_ipe_add_default, loc(HeaderLine));
}

IPEParseResult IPEParser::take() {
  IPEParseResult R;
  R.KernelErrno = kernelErrno();
  if (!NameTok.empty())
    R.NameRange = range(NameTok.drop_front(StringRef("policy_name=").size()));
  if (!Failed) {
    R.Policy = std::move(P);
    R.RuleNotes = std::move(RuleNotes);
  }
  return R;
}

IPEParseResult ipec::parseIPEDetailed(unsigned BufferID,
                                      DiagnosticEngine &Diags) {
  llvm::SourceMgr &SM = Diags.sourceMgr();
  const llvm::MemoryBuffer *Buf = SM.getMemoryBuffer(BufferID);
  StringRef Src = Buf->getBuffer();
  std::string File = Buf->getBufferIdentifier().str();
  unsigned ErrorsBefore = Diags.errorCount();

  size_t Nul = Src.find('\0');
  if (Nul != StringRef::npos) {
    // The kernel parses a C string: everything after the NUL is ignored,
    // even in a signed policy whose securityfs copy shows it. Say what the
    // kernel would make of the part it reads, then refuse.
    llvm::raw_null_ostream Null;
    DiagnosticEngine Quiet(SM, Null);
    IPEParser Prefix(Src.take_front(Nul), Quiet, File);
    Prefix.run();
    IPEParseResult R;
    R.KernelErrno = Prefix.kernelErrno();
    std::string What = R.KernelErrno ? "and then refuses the policy with " +
                                           ipeErrnoName(R.KernelErrno).str()
                                     : "and accepts the text before it";
    Diags.report(DiagID::err_ipe_nul_byte,
                 SMLoc::getFromPointer(Src.data() + Nul), {What});
    return R;
  }

  IPEParser Parser(Src, Diags, File);
  Parser.run();
  IPEParseResult R = Parser.take();
  if (Diags.errorCount() != ErrorsBefore) {
    // -Werror turned a warning into an error.
    R.Policy.reset();
    R.RuleNotes.clear();
  }
  return R;
}

std::optional<ir::Policy> ipec::parseIPE(unsigned BufferID,
                                         DiagnosticEngine &Diags) {
  return parseIPEDetailed(BufferID, Diags).Policy;
}

bool ipec::looksLikeIPE(StringRef Source) {
  bool Result = false, Done = false;
  forEachLine(Source, [&](StringRef Line) {
    if (Done)
      return;
    Done = true;
    Result = Line.ltrim(" \t").startswith("policy_name=");
  });
  return Result;
}

//===----------------------------------------------------------------------===//
// Translation to IPL
//===----------------------------------------------------------------------===//

namespace {

/// IPL's front end refuses digests of unknown algorithms and of the wrong
/// length; upstream accepts them and they never match. Writes them as false.
ir::Expr lowerForIPL(const ir::Expr &E, std::vector<std::string> &Notes) {
  if (E.K == ir::Expr::DigestIn) {
    std::vector<ir::Digest> Kept;
    for (const ir::Digest &D : E.Set) {
      auto Len = ir::digestLength(D.Alg);
      if (Len && *Len == D.Bytes.size()) {
        Kept.push_back(D);
        continue;
      }
      Notes.push_back("IPL cannot write " + ir::propName(E.Prop).str() +
                      " == " + printable(D.Alg) + ":<" +
                      std::to_string(D.Bytes.size()) +
                      " bytes>, which never matches: written as false");
    }
    if (Kept.size() == E.Set.size())
      return E;
    return ir::Expr::digestIn(E.Prop, std::move(Kept));
  }
  ir::Expr Out = E;
  for (ir::Expr &Sub : Out.Ops)
    Sub = lowerForIPL(Sub, Notes);
  return Out;
}

/// Why IPL cannot spell Name, or "" if it can: IPL source is UTF-8 and its
/// names have no control characters.
std::string iplNameProblem(StringRef Name) {
  const llvm::UTF8 *Begin = reinterpret_cast<const llvm::UTF8 *>(Name.begin());
  const llvm::UTF8 *End = reinterpret_cast<const llvm::UTF8 *>(Name.end());
  if (!llvm::isLegalUTF8String(&Begin, End))
    return "it is not valid UTF-8";
  if (llvm::any_of(Name, [](char C) { return (unsigned char)C < 0x20; }))
    return "it contains a control character";
  return "";
}

} // namespace

std::optional<std::string> ipec::translateIPEToIPL(unsigned BufferID,
                                                   DiagnosticEngine &Diags) {
  IPEParseResult R = parseIPEDetailed(BufferID, Diags);
  if (!R.Policy)
    return std::nullopt;
  ir::Policy P = std::move(*R.Policy);
  std::string Why = iplNameProblem(P.Name);
  if (!Why.empty()) {
    Diags.report(DiagID::err_ipe_name_not_ipl, R.NameRange.Start,
                 {printable(P.Name), Why}, {R.NameRange});
    return std::nullopt;
  }

  std::vector<std::vector<std::string>> Notes = std::move(R.RuleNotes);
  Notes.resize(P.Rules.size());
  for (size_t I = 0; I < P.Rules.size(); ++I)
    P.Rules[I].Cond = lowerForIPL(P.Rules[I].Cond, Notes[I]);

  std::string Printed;
  llvm::raw_string_ostream PS(Printed);
  ir::print(P, PS);
  PS.flush();
  llvm::SmallVector<StringRef, 32> Lines;
  StringRef(Printed).split(Lines, '\n', -1, /*KeepEmpty=*/false);
  size_t Defaults = P.Global.Present ? 1 : 0;
  for (const ir::Default &D : P.PerOp)
    Defaults += D.Present;
  assert(Lines.size() == 1 + Defaults + P.Rules.size() &&
         "ir::print writes a header, then one line per default and rule");

  const llvm::MemoryBuffer *Buf = Diags.sourceMgr().getMemoryBuffer(BufferID);
  std::string Source = printable(Buf->getBufferIdentifier());
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  OS << "# Translated by ipec from the upstream IPE policy '" << Source
     << "'.\n"
     << "# Compiled, it makes the same decisions. Upstream's op=EXECUTE is\n"
     << "# execute, mmap_exec and mprotect_exec; X=FALSE is 'not X', which\n"
     << "# also holds for an event without a file.\n";
  // ir::print escapes the name for IPL's ASCII view; write it as IPL reads
  // it, UTF-8 and all.
  OS << "policy \"";
  for (char C : P.Name) {
    if (C == '"' || C == '\\')
      OS << '\\';
    OS << C;
  }
  OS << "\" version " << P.Version[0] << "." << P.Version[1] << "."
     << P.Version[2] << ";\n";
  for (size_t I = 1; I <= Defaults; ++I)
    OS << Lines[I] << "\n";
  for (size_t I = 0; I < P.Rules.size(); ++I) {
    const ir::Rule &Rule = P.Rules[I];
    OS << "\n# " << Source << ":" << Rule.Loc.Line << ": "
       << printable(Rule.Text, /*KeepTabs=*/true) << "\n";
    for (const std::string &N : Notes[I])
      OS << "# note: " << N << "\n";
    OS << Lines[1 + Defaults + I] << "\n";
  }
  OS.flush();

  // Never hand out IPL that does not compile: IPL may lack a spelling that
  // the translation needs.
  llvm::SourceMgr Check;
  Check.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(Out, Buf->getBufferIdentifier()),
      SMLoc());
  std::string CheckDiags;
  llvm::raw_string_ostream CS(CheckDiags);
  DiagnosticEngine CheckEngine(Check, CS);
  if (!parseIPL(Check.getMainFileID(), CheckEngine)) {
    CS.flush();
    StringRef First = StringRef(CheckDiags).split('\n').first;
    size_t At = First.find("error: ");
    Diags.report(
        DiagID::err_ipe_translation_invalid, SMLoc(),
        {At == StringRef::npos ? First.str() : First.drop_front(At + 7).str()});
    return std::nullopt;
  }
  return Out;
}
