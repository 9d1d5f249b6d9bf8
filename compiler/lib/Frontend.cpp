//===- Frontend.cpp - Parse IPL with ANTLR and lower it to the IR ---------===//
//
// ANTLR builds the parse tree; this file turns syntax errors into located
// diagnostics, resolves names, checks values and builds ir::Policy. It is the
// only file that sees ANTLR types.
//
//===----------------------------------------------------------------------===//

#include "ipec/Frontend.h"
#include "ipec/IR/Analysis.h"

#include "IPLParse.h"

#include <map>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/ADT/StringExtras.h"

using namespace ipec;
using namespace ipec::grammar;
using namespace ipec::detail;
using llvm::SmallString;
using llvm::SmallVector;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::StringRef;

namespace {

/// Names that stand for several operations.
struct OpGroup {
  StringRef Name;
  ir::OpMask Ops;
};
const OpGroup BuiltinGroups[] = {
    {"exec_any", (1u << IPEVM_OP_EXECUTE) | (1u << IPEVM_OP_MMAP_EXEC) |
                     (1u << IPEVM_OP_MPROTECT_EXEC)},
};

/// Lowers parse trees without syntax errors to the IR.
///
/// Streaming, each file is parsed a statement at a time and each statement
/// lowered before the next is parsed, so that the trees and tokens of a large
/// policy are never all in memory. A syntax error anywhere abandons the
/// whole run (aborted()): the caller then lowers again without streaming,
/// which parses each file whole and reports the errors.
class Lowering {
public:
  Lowering(DiagnosticEngine &Diags, const FrontendOptions &Opts, bool Stream)
      : Diags(Diags), Opts(Opts), Stream(Stream) {}

  /// Lowers the policy in MainBuffer and everything it includes.
  void run(unsigned MainBuffer);
  bool aborted() const { return Aborted; }
  /// The policy, unless there were errors.
  std::optional<ir::Policy> result();

private:
  std::unique_ptr<ParsedFile> open(unsigned BufferID, ParseAs As);
  void statements(ParsedFile &F);
  void statement(IPLParser::StatementContext *S);
  void includeDecl(IPLParser::IncludeDeclContext *I);
  const SourceText &text() const { return *Cur->Text; }
  void header(IPLParser::HeaderContext *H);
  void defaultDecl(IPLParser::DefaultDeclContext *D);
  void ruleDecl(IPLParser::RuleDeclContext *R);
  void setDecl(IPLParser::SetDeclContext *S);
  void groupDecl(IPLParser::GroupDeclContext *G);
  void macroDecl(IPLParser::MacroDeclContext *M);
  void macroStmt(IPLParser::MacroStmtContext *S);
  std::optional<ir::Expr> callCond(IPLParser::MacroCallContext *Call);
  void checkUnusedMacros();
  std::optional<std::vector<ir::Digest>>
  setLiteral(IPLParser::SetLiteralContext *L);
  std::optional<std::vector<ir::Digest>> setRef(IPLParser::SetRefContext *R);
  std::optional<std::vector<ir::Digest>> namedSet(antlr4::Token *Name);
  std::optional<std::vector<ir::Digest>> constant(antlr4::Token *Name);
  std::optional<ir::Expr> inCond(IPLParser::InCondContext *C);
  void checkUnusedSets();
  void checkShadowedRules();
  std::optional<ir::OpMask> opList(IPLParser::OpListContext *L);
  std::optional<ir::OpMask> opName(antlr4::Token *T);
  std::optional<ir::Expr> cond(IPLParser::CondContext *C);
  std::optional<ir::Expr> compare(IPLParser::CompareCondContext *C);
  std::optional<unsigned> property(IPLParser::PropRefContext *P);
  std::optional<ir::Digest> digest(antlr4::Token *T);
  std::optional<ir::Digest> digestText(StringRef Whole);
  std::optional<std::vector<ir::Digest>> digestList(StringRef Path, SMLoc From,
                                                    SMRange Range);
  void defines();
  void checkDefaults();
  ir::SourceLoc sourceLoc(antlr4::Token *T) const;
  ir::SourceLoc sourceLoc(SMLoc L) const;
  std::string oneLine(antlr4::ParserRuleContext *Ctx) const;
  static ir::Action action(IPLParser::ActionContext *A, antlr4::Token *Audit) {
    return {A->getStart()->getText() == "allow", Audit != nullptr};
  }

  DiagnosticEngine &Diags;
  const FrontendOptions &Opts;
  const bool Stream;
  /// Streaming found a syntax error.
  bool Aborted = false;
  /// The main file's header.
  SMRange HeaderRange;
  /// The file being lowered; every file stays alive until the end.
  ParsedFile *Cur = nullptr;
  std::vector<std::unique_ptr<ParsedFile>> Files;
  /// Real paths of files included so far, and of those being included now.
  llvm::StringSet<> Included;
  std::vector<std::string> IncludeStack;
  ir::Policy P;
  /// Each set and group is numbered in order of declaration (from 1; -D
  /// values are 0) so that a macro's body sees only those declared before
  /// the macro.
  unsigned DeclSeq = 0;
  struct Group {
    ir::OpMask Ops;
    SMLoc Loc;
    unsigned Seq;
  };
  /// User-defined operation groups.
  llvm::StringMap<Group> Groups;
  /// Where each rule of P was written.
  std::vector<SMRange> RuleRanges;
  std::array<SMLoc, IPEVM_OP_COUNT> PerOpLoc;
  SMLoc GlobalLoc;

  struct NamedSet {
    std::vector<ir::Digest> Digests;
    SMRange Name; ///< Where it was declared (a token's file may be gone).
    bool Used = false;
    unsigned Seq = 0;
  };
  /// Sets in order of declaration, and by name.
  std::vector<std::string> SetOrder;
  llvm::StringMap<NamedSet> Sets;

  // Macros. A body is lowered at each use, in the scope of its definition;
  // each parameter is bound to its argument, which is resolved in the scope
  // of the call, once per kind of use.
  struct MacroDef {
    IPLParser::MacroDeclContext *Decl;
    ParsedFile *File;
    std::vector<std::string> Params;
    unsigned Scope; ///< Sees the sets and groups numbered below this.
    SMRange Name;
    bool Used = false;
  };
  std::vector<std::string> MacroOrder;
  llvm::StringMap<MacroDef> Macros;

  enum class ArgKind { Cond, Ops, Digest, Set };
  struct Frame;
  struct Binding {
    std::string Param, Macro;
    IPLParser::MacroArgContext *Arg;
    ParsedFile *File; ///< Where the argument was written,
    Frame *Env;       ///< and in which macro's body (null: outside any).
    std::optional<std::optional<ir::Expr>> Cond;
    std::optional<std::optional<ir::OpMask>> Ops;
    std::optional<std::optional<std::vector<ir::Digest>>> Digest, Set;
  };
  struct Frame {
    const MacroDef *Macro;
    std::string Name;
    SMLoc CallLoc;
    std::vector<Binding *> Args;
    std::vector<std::unique_ptr<Binding>> Owned;
  };
  /// The macro whose body is being lowered (its parameters and scope apply).
  Frame *Env = nullptr;
  /// The expansions in progress, outermost first.
  std::vector<Frame *> Expanding;
  /// The expansion context of each rule of P, for warnings found later.
  std::vector<std::vector<DiagnosticEngine::ContextNote>> RuleContexts;

  bool visible(unsigned Seq) const { return !Env || Seq < Env->Macro->Scope; }
  void reportDeclaredAfterMacro(StringRef Name, SMLoc Decl);
  Binding *param(StringRef Name) const;
  template <typename Fn> auto inArgScope(Binding &B, Fn F) -> decltype(F());
  void wrongArgKind(Binding &B, ArgKind K, SMLoc Use);
  std::optional<ir::Expr> argCond(Binding &B, SMLoc Use);
  std::optional<ir::OpMask> argOps(Binding &B, SMLoc Use);
  std::optional<std::vector<ir::Digest>> argDigests(Binding &B, ArgKind K,
                                                    SMLoc Use);
  const MacroDef *beginExpansion(IPLParser::MacroCallContext *Call, bool Rule,
                                 Frame &F);
  void endExpansion(ParsedFile *File, Frame *OldEnv);
};

/// The single name an argument or condition is, if it is one: 'x' or '(x)'.
antlr4::Token *singleName(IPLParser::CondContext *C) {
  while (auto *P = dynamic_cast<IPLParser::ParenCondContext *>(C))
    C = P->cond();
  auto *B = dynamic_cast<IPLParser::BoolCondContext *>(C);
  if (!B || B->propRef()->IDENT().size() != 1)
    return nullptr;
  return B->propRef()->IDENT(0)->getSymbol();
}

antlr4::Token *singleName(IPLParser::MacroArgContext *A) {
  auto *C = dynamic_cast<IPLParser::CondArgContext *>(A);
  return C ? singleName(C->cond()) : nullptr;
}

} // namespace

ir::SourceLoc Lowering::sourceLoc(antlr4::Token *T) const {
  auto LC = Diags.sourceMgr().getLineAndColumn(text().loc(T));
  return {Cur->Name, LC.first, LC.second};
}

ir::SourceLoc Lowering::sourceLoc(SMLoc L) const {
  llvm::SourceMgr &SM = Diags.sourceMgr();
  auto LC = SM.getLineAndColumn(L);
  return {SM.getMemoryBuffer(SM.FindBufferContainingLoc(L))
              ->getBufferIdentifier()
              .str(),
          LC.first, LC.second};
}

/// The tokens of Ctx joined as written, with each run of blanks and comments
/// between two tokens reduced to one space.
std::string Lowering::oneLine(antlr4::ParserRuleContext *Ctx) const {
  std::string Out;
  size_t Prev = 0;
  bool First = true;
  for (size_t I = Ctx->getStart()->getTokenIndex();
       I <= Ctx->getStop()->getTokenIndex(); ++I) {
    antlr4::Token *T = Cur->Tokens->get(I);
    if (T->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    if (!First && T->getStartIndex() > Prev + 1)
      Out += ' ';
    Out += text().slice(T->getStartIndex(), T->getStopIndex()).str();
    Prev = T->getStopIndex();
    First = false;
  }
  return Out;
}

std::unique_ptr<ParsedFile> Lowering::open(unsigned BufferID, ParseAs As) {
  if (!Stream)
    return parseFile(BufferID, As, Diags);
  auto F = streamFile(BufferID, As == ParseAs::Policy, Diags);
  if (F->Failed) {
    Aborted = true;
    return nullptr;
  }
  return F;
}

void Lowering::run(unsigned MainBuffer) {
  auto Main = open(MainBuffer, ParseAs::Policy);
  if (!Main)
    return;
  Cur = Main.get();
  Files.push_back(std::move(Main));
  SmallString<256> Real;
  if (!llvm::sys::fs::real_path(Cur->Name, Real))
    Included.insert(Real);
  IncludeStack.push_back(Cur->Name);
  defines();
  header(Cur->Header);
  statements(*Cur);
  if (Aborted)
    return;
  Cur = Files.front().get();
  checkDefaults();
  checkUnusedSets();
  checkUnusedMacros();
  checkShadowedRules();
}

std::optional<ir::Policy> Lowering::result() {
  if (Aborted || Diags.hasErrors() || Files.empty())
    return std::nullopt;
  return std::move(P);
}

void Lowering::statements(ParsedFile &F) {
  if (!F.Streaming) {
    for (auto *S : F.Statements) {
      Cur = &F;
      statement(S);
    }
    return;
  }
  while (auto *S = F.nextStatement()) {
    Cur = &F;
    statement(S);
    if (Aborted)
      return;
  }
  if (F.Failed)
    Aborted = true;
}

void Lowering::statement(IPLParser::StatementContext *S) {
  if (auto *D = S->defaultDecl())
    defaultDecl(D);
  else if (auto *R = S->ruleDecl())
    ruleDecl(R);
  else if (auto *Set = S->setDecl())
    setDecl(Set);
  else if (auto *G = S->groupDecl())
    groupDecl(G);
  else if (auto *I = S->includeDecl())
    includeDecl(I);
  else if (auto *M = S->macroDecl())
    macroDecl(M);
  else if (auto *MS = S->macroStmt())
    macroStmt(MS);
}

void Lowering::includeDecl(IPLParser::IncludeDeclContext *I) {
  bool System = I->syspath != nullptr;
  antlr4::Token *Tok = System ? I->syspath : I->path;
  std::string Spelled = Tok->getText();
  Spelled = Spelled.substr(1, Spelled.size() - 2);
  SMLoc Loc = text().loc(Tok);
  SMRange Range = text().range(Tok);

  // "file" is relative to the including file; <file> is looked up in the
  // include directories, in order.
  SmallVector<std::string, 4> Candidates;
  if (!System) {
    SmallString<256> Path(Spelled);
    if (!llvm::sys::path::is_absolute(Path)) {
      Path = llvm::sys::path::parent_path(Cur->Name);
      llvm::sys::path::append(Path, Spelled);
    }
    Candidates.push_back(std::string(Path));
  } else {
    for (const std::string &Dir : Opts.IncludeDirs) {
      SmallString<256> Path(Dir);
      llvm::sys::path::append(Path, Spelled);
      Candidates.push_back(std::string(Path));
    }
  }
  std::string Found;
  for (const std::string &C : Candidates)
    if (llvm::sys::fs::is_regular_file(C)) {
      Found = C;
      break;
    }
  if (Found.empty()) {
    Diags.report(DiagID::err_include_not_found, Loc, {Spelled}, {Range});
    if (System)
      Diags.report(DiagID::note_include_search, Loc,
                   {Opts.IncludeDirs.empty()
                        ? std::string("no include directories; add -I DIR")
                        : "searched " + llvm::join(Opts.IncludeDirs, ", ")});
    return;
  }
  SmallString<256> Real;
  if (llvm::sys::fs::real_path(Found, Real))
    Real = Found;
  for (size_t K = 0; K < IncludeStack.size(); ++K) {
    SmallString<256> Other;
    if (llvm::sys::fs::real_path(IncludeStack[K], Other) || Other != Real)
      continue;
    std::string Chain;
    for (size_t J = K; J < IncludeStack.size(); ++J)
      Chain += IncludeStack[J] + " -> ";
    Chain += Found;
    Diags.report(DiagID::err_include_cycle, Loc, {Chain}, {Range});
    return;
  }
  // Each file is included once.
  if (!Included.insert(Real).second)
    return;

  auto Buf = llvm::MemoryBuffer::getFile(Found, /*IsText=*/false);
  if (!Buf) {
    Diags.report(DiagID::err_cannot_open, Loc,
                 {Found, Buf.getError().message()}, {Range});
    return;
  }
  unsigned Id = addSourceBuffer(Diags.sourceMgr(), std::move(*Buf), Loc);
  auto F = open(Id, ParseAs::Module);
  if (!F)
    return;
  ParsedFile *Parent = Cur;
  ParsedFile &Child = *F;
  Child.System = System || Parent->System;
  Files.push_back(std::move(F));
  IncludeStack.push_back(Found);
  statements(Child);
  IncludeStack.pop_back();
  Cur = Parent;
}

static bool unescape(StringRef Quoted, std::string &Out, char &BadEscape) {
  StringRef S = Quoted.drop_front().drop_back();
  for (size_t I = 0; I < S.size(); ++I) {
    if (S[I] != '\\') {
      Out += S[I];
      continue;
    }
    char C = S[++I];
    switch (C) {
    case '\\':
    case '"':
      Out += C;
      break;
    default:
      BadEscape = C;
      return false;
    }
  }
  return true;
}

void Lowering::header(IPLParser::HeaderContext *H) {
  HeaderRange = text().range(H);
  antlr4::Token *NameTok = H->name;
  char Bad = 0;
  if (!unescape(NameTok->getText(), P.Name, Bad)) {
    Diags.report(DiagID::err_bad_escape, text().loc(NameTok),
                 {std::string(1, Bad)}, {text().range(NameTok)});
  } else if (P.Name.empty()) {
    Diags.report(DiagID::err_empty_name, text().loc(NameTok), {},
                 {text().range(NameTok)});
  } else {
    // The name becomes a securityfs directory: the kernel's rules apply.
    const char *Why = nullptr;
    if (P.Name.size() > 255)
      Why = "is longer than 255 bytes";
    else if (P.Name == "." || P.Name == "..")
      Why = "must not be '.' or '..'";
    else if (StringRef(P.Name).contains('/'))
      Why = "must not contain '/'";
    else if (llvm::any_of(P.Name, [](char C) {
               return (unsigned char)C < 0x20 || C == ' ' || C == '#';
             }))
      Why = "must not contain spaces, '#' or control characters";
    if (Why)
      Diags.report(DiagID::err_bad_name, text().loc(NameTok), {Why},
                   {text().range(NameTok)});
  }

  antlr4::Token *Ver = H->ver;
  StringRef V = text().slice(Ver->getStartIndex(), Ver->getStopIndex());
  size_t Start = 0;
  for (int I = 0; I < 3; ++I) {
    size_t End = I < 2 ? V.find('.', Start) : V.size();
    StringRef Comp = V.slice(Start, End);
    unsigned Value = 0;
    if (Comp.getAsInteger(10, Value) || Value > 65535) {
      const char *At = V.data() + Start;
      Diags.report(DiagID::err_version_component, SMLoc::getFromPointer(At),
                   {Comp.str()},
                   {SMRange(SMLoc::getFromPointer(At),
                            SMLoc::getFromPointer(At + Comp.size()))});
    } else {
      P.Version[I] = uint16_t(Value);
    }
    Start = End + 1;
  }
}

std::optional<ir::OpMask> Lowering::opList(IPLParser::OpListContext *L) {
  ir::OpMask Mask = 0;
  bool Ok = true;
  for (auto *OpCtx : L->opName()) {
    antlr4::Token *T = OpCtx->getStart();
    std::string Name = T->getText();
    std::optional<ir::OpMask> M;
    if (Binding *B = param(Name))
      M = argOps(*B, text().loc(T));
    else
      M = opName(T);
    if (!M) {
      Ok = false;
      continue;
    }
    if (Mask & *M)
      Diags.report(DiagID::warn_duplicate_operation, text().loc(T), {Name},
                   {text().range(T)});
    Mask |= *M;
  }
  if (!Ok)
    return std::nullopt;
  return Mask;
}

/// An operation or a group, by name.
std::optional<ir::OpMask> Lowering::opName(antlr4::Token *T) {
  std::string Name = T->getText();
  if (auto Op = ir::opByName(Name))
    return 1u << *Op;
  for (const OpGroup &G : BuiltinGroups)
    if (G.Name == Name)
      return G.Ops;
  auto It = Groups.find(Name);
  if (It != Groups.end() && visible(It->second.Seq))
    return It->second.Ops;
  Diags.report(DiagID::err_unknown_operation, text().loc(T), {Name},
               {text().range(T)});
  if (It != Groups.end()) {
    reportDeclaredAfterMacro(Name, It->second.Loc);
    return std::nullopt;
  }
  llvm::SmallVector<StringRef, 16> Names;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op)
    Names.push_back(ir::opName(Op));
  for (const OpGroup &G : BuiltinGroups)
    Names.push_back(G.Name);
  for (const auto &G : Groups)
    if (visible(G.getValue().Seq))
      Names.push_back(G.getKey());
  StringRef S = suggestName(Name, Names);
  if (!S.empty())
    Diags.report(DiagID::note_did_you_mean, text().loc(T), {S.str()});
  return std::nullopt;
}

void Lowering::defaultDecl(IPLParser::DefaultDeclContext *D) {
  ir::Default Def;
  Def.Present = true;
  Def.Act = action(D->action(), D->audit);
  Def.Loc = Expanding.empty() ? sourceLoc(D->getStart())
                              : sourceLoc(Expanding.front()->CallLoc);
  SMLoc Here = text().loc(D->getStart());
  SMRange Whole = text().range(D);

  if (!D->opList()) {
    if (P.Global.Present) {
      Diags.report(DiagID::err_duplicate_default, Here, {"global default"},
                   {Whole});
      Diags.report(DiagID::note_previous_default, GlobalLoc);
      return;
    }
    P.Global = Def;
    GlobalLoc = Here;
    return;
  }
  auto Mask = opList(D->opList());
  if (!Mask)
    return;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    if (!(*Mask & (1u << Op)))
      continue;
    if (P.PerOp[Op].Present) {
      Diags.report(DiagID::err_duplicate_default, Here,
                   {"default for '" + ir::opName(Op).str() + "'"}, {Whole});
      Diags.report(DiagID::note_previous_default, PerOpLoc[Op]);
      continue;
    }
    P.PerOp[Op] = Def;
    PerOpLoc[Op] = Here;
  }
}

void Lowering::groupDecl(IPLParser::GroupDeclContext *G) {
  antlr4::Token *Name = G->name;
  std::string N = Name->getText();
  bool Builtin = ir::opByName(N).has_value() ||
                 llvm::any_of(BuiltinGroups,
                              [&](const OpGroup &B) { return B.Name == N; });
  if (Builtin) {
    Diags.report(DiagID::err_group_shadows_op, text().loc(Name), {N},
                 {text().range(Name)});
    return;
  }
  if (auto It = Groups.find(N); It != Groups.end()) {
    Diags.report(DiagID::err_group_redefined, text().loc(Name), {N},
                 {text().range(Name)});
    Diags.report(DiagID::note_previous_set, It->second.Loc);
    return;
  }
  if (auto Mask = opList(G->opList()))
    Groups[N] = {*Mask, text().loc(Name), ++DeclSeq};
}

void Lowering::ruleDecl(IPLParser::RuleDeclContext *R) {
  auto Mask = opList(R->opList());
  std::optional<ir::Expr> Cond = ir::Expr::constant(true);
  if (R->cond())
    Cond = cond(R->cond());
  if (!Mask || !Cond)
    return;
  if (Cond->K == ir::Expr::False)
    Diags.report(DiagID::warn_never_matches, text().loc(R->cond()->getStart()),
                 {}, {text().range(R->cond())});
  ir::Rule Rule;
  Rule.Ops = *Mask;
  Rule.Act = action(R->action(), R->audit);
  Rule.Cond = std::move(*Cond);
  Rule.Loc = sourceLoc(R->getStart());
  Rule.Text = oneLine(R);
  if (!Expanding.empty()) {
    // A rule from a macro takes its place, in order, at the outermost call;
    // its text says which macros it came through and where it is written.
    ir::SourceLoc Body = Rule.Loc;
    Rule.Loc = sourceLoc(Expanding.front()->CallLoc);
    std::string Chain;
    for (const Frame *F : Expanding)
      Chain += (Chain.empty() ? "" : " -> ") + F->Name;
    Rule.Text += " [macro " + Chain + ", " + Body.File + ":" +
                 std::to_string(Body.Line) + ":" + std::to_string(Body.Column) +
                 "]";
  }
  P.Rules.push_back(std::move(Rule));
  RuleRanges.push_back(text().range(R));
  RuleContexts.push_back(Diags.context());
}

std::optional<unsigned> Lowering::property(IPLParser::PropRefContext *Ref) {
  std::string Name = text().slice(Ref->getStart()->getStartIndex(),
                                Ref->getStop()->getStopIndex())
                         .str();
  if (auto Prop = ir::propByName(Name))
    return Prop;
  Diags.report(DiagID::err_unknown_property, text().loc(Ref->getStart()), {Name},
               {text().range(Ref)});
  llvm::SmallVector<StringRef, 8> Names;
  for (unsigned I = 0; I < IPEVM_PROP_COUNT; ++I)
    Names.push_back(ir::propName(I));
  StringRef S = suggestName(Name, Names);
  if (!S.empty())
    Diags.report(DiagID::note_did_you_mean, text().loc(Ref->getStart()),
                 {S.str()});
  return std::nullopt;
}

std::optional<ir::Digest> Lowering::digest(antlr4::Token *T) {
  return digestText(text().slice(T->getStartIndex(), T->getStopIndex()));
}

/// Whole is "alg:hex" inside a SourceMgr buffer, so errors can point in it.
std::optional<ir::Digest> Lowering::digestText(StringRef Whole) {
  auto [Alg, Hex] = Whole.split(':');
  SMLoc Start = SMLoc::getFromPointer(Whole.data());
  SMRange All(Start, SMLoc::getFromPointer(Whole.end()));
  if (!Whole.contains(':') || Alg.empty()) {
    Diags.report(DiagID::err_bad_digest, Start, {Whole.str()}, {All});
    return std::nullopt;
  }
  if (!llvm::all_of(Hex, llvm::isHexDigit)) {
    Diags.report(DiagID::err_bad_digest, Start, {Whole.str()}, {All});
    return std::nullopt;
  }
  auto Len = ir::digestLength(Alg);
  if (!Len) {
    Diags.report(DiagID::err_unknown_algorithm, Start, {Alg.str()},
                 {SMRange(All.Start, SMLoc::getFromPointer(Alg.end()))});
    llvm::SmallVector<StringRef, 8> Known = {"sha256", "sha384", "sha512",
                                             "sha1",   "sha224", "sm3"};
    StringRef S = suggestName(Alg, Known);
    if (!S.empty())
      Diags.report(DiagID::note_did_you_mean, Start, {S.str()});
    return std::nullopt;
  }
  SMLoc HexLoc = SMLoc::getFromPointer(Hex.data());
  SMRange HexRange(HexLoc, All.End);
  if (Hex.size() % 2) {
    Diags.report(DiagID::err_digest_odd, HexLoc, {std::to_string(Hex.size())},
                 {HexRange});
    return std::nullopt;
  }
  if (Hex.size() != *Len * 2) {
    Diags.report(DiagID::err_digest_length, HexLoc,
                 {Alg.str(), std::to_string(*Len * 2),
                  std::to_string(Hex.size())},
                 {HexRange});
    return std::nullopt;
  }
  ir::Digest D;
  D.Alg = Alg.str();
  std::string Bytes = llvm::fromHex(Hex);
  D.Bytes.assign(Bytes.begin(), Bytes.end());
  return D;
}

std::optional<ir::Expr> Lowering::compare(IPLParser::CompareCondContext *C) {
  auto Prop = property(C->propRef());
  if (!Prop)
    return std::nullopt;
  std::string PName = ir::propName(*Prop).str();
  bool Negate = C->op->getText() == "!=";
  auto *V = C->value();
  SMLoc VLoc = text().loc(V->getStart());
  std::optional<ir::Expr> E;
  if (ipevm_prop_is_digest(*Prop)) {
    auto *DV = dynamic_cast<IPLParser::DigestValueContext *>(V);
    if (auto *NV = dynamic_cast<IPLParser::NameValueContext *>(V)) {
      // A constant: a set of exactly one digest (often from -D).
      antlr4::Token *N = NV->IDENT()->getSymbol();
      std::optional<std::vector<ir::Digest>> Set;
      if (Binding *B = param(N->getText()))
        Set = argDigests(*B, ArgKind::Digest, text().loc(N));
      else
        Set = constant(N);
      if (!Set)
        return std::nullopt;
      E = ir::Expr::digestIn(*Prop, std::move(*Set));
      return Negate ? ir::Expr::makeNot(std::move(*E)) : std::move(*E);
    }
    if (!DV) {
      Diags.report(DiagID::err_expected_digest, VLoc, {PName},
                   {text().range(V)});
      return std::nullopt;
    }
    auto D = digest(DV->DIGEST()->getSymbol());
    if (!D)
      return std::nullopt;
    E = ir::Expr::digestEq(*Prop, std::move(*D));
  } else {
    auto *BV = dynamic_cast<IPLParser::BoolValueContext *>(V);
    if (!BV) {
      Diags.report(DiagID::err_property_is_boolean, VLoc, {PName},
                   {text().range(V)});
      return std::nullopt;
    }
    E = ir::Expr::boolProp(*Prop);
    if (BV->getStart()->getText() == "false")
      Negate = !Negate;
  }
  return Negate ? ir::Expr::makeNot(std::move(*E)) : std::move(*E);
}

std::optional<ir::Expr> Lowering::cond(IPLParser::CondContext *C) {
  if (auto *N = dynamic_cast<IPLParser::NotCondContext *>(C)) {
    auto E = cond(N->cond());
    return E ? std::optional(ir::Expr::makeNot(std::move(*E))) : std::nullopt;
  }
  if (auto *A = dynamic_cast<IPLParser::AndCondContext *>(C)) {
    auto L = cond(A->cond(0)), R = cond(A->cond(1));
    if (!L || !R)
      return std::nullopt;
    return ir::Expr::makeAnd(std::move(*L), std::move(*R));
  }
  if (auto *O = dynamic_cast<IPLParser::OrCondContext *>(C)) {
    auto L = cond(O->cond(0)), R = cond(O->cond(1));
    if (!L || !R)
      return std::nullopt;
    return ir::Expr::makeOr(std::move(*L), std::move(*R));
  }
  if (auto *Paren = dynamic_cast<IPLParser::ParenCondContext *>(C))
    return cond(Paren->cond());
  if (auto *Cmp = dynamic_cast<IPLParser::CompareCondContext *>(C))
    return compare(Cmp);
  if (auto *In = dynamic_cast<IPLParser::InCondContext *>(C))
    return inCond(In);
  if (auto *Call = dynamic_cast<IPLParser::CallCondContext *>(C))
    return callCond(Call->macroCall());
  if (auto *B = dynamic_cast<IPLParser::BoolCondContext *>(C)) {
    if (antlr4::Token *N = singleName(B))
      if (Binding *Bd = param(N->getText()))
        return argCond(*Bd, text().loc(N));
    auto Prop = property(B->propRef());
    if (!Prop)
      return std::nullopt;
    if (ipevm_prop_is_digest(*Prop)) {
      Diags.report(DiagID::err_property_not_boolean,
                   text().loc(B->getStart()), {ir::propName(*Prop).str()},
                   {text().range(B)});
      return std::nullopt;
    }
    return ir::Expr::boolProp(*Prop);
  }
  if (auto *K = dynamic_cast<IPLParser::ConstCondContext *>(C))
    return ir::Expr::constant(K->getStart()->getText() == "true");
  llvm_unreachable("unhandled condition form");
}

/// A name compared with '==': a set of exactly one digest.
std::optional<std::vector<ir::Digest>> Lowering::constant(antlr4::Token *N) {
  auto Set = namedSet(N);
  if (Set && Set->size() != 1) {
    Diags.report(DiagID::err_not_one_digest, text().loc(N),
                 {N->getText(), std::to_string(Set->size())},
                 {text().range(N)});
    return std::nullopt;
  }
  return Set;
}

std::optional<std::vector<ir::Digest>>
Lowering::namedSet(antlr4::Token *Name) {
  if (Binding *B = param(Name->getText()))
    return argDigests(*B, ArgKind::Set, text().loc(Name));
  auto It = Sets.find(Name->getText());
  if (It != Sets.end() && visible(It->second.Seq)) {
    It->second.Used = true;
    return It->second.Digests;
  }
  Diags.report(DiagID::err_unknown_set, text().loc(Name), {Name->getText()},
               {text().range(Name)});
  if (It != Sets.end()) {
    reportDeclaredAfterMacro(Name->getText(), It->second.Name.Start);
    return std::nullopt;
  }
  llvm::SmallVector<StringRef, 8> Names;
  for (const std::string &N : SetOrder)
    if (visible(Sets[N].Seq))
      Names.push_back(N);
  StringRef S = suggestName(Name->getText(), Names);
  if (!S.empty())
    Diags.report(DiagID::note_did_you_mean, text().loc(Name), {S.str()});
  else
    Diags.report(DiagID::note_define_with_D, text().loc(Name),
                 {Name->getText()});
  return std::nullopt;
}

/// The digests of a set literal, in order, warning about duplicates.
std::optional<std::vector<ir::Digest>>
Lowering::setLiteral(IPLParser::SetLiteralContext *L) {
  std::vector<ir::Digest> Out;
  std::map<ir::Digest, antlr4::Token *> Seen;
  bool Ok = true;
  for (auto *Item : L->setItem()) {
    std::optional<std::vector<ir::Digest>> Part;
    if (auto *D = dynamic_cast<IPLParser::DigestItemContext *>(Item)) {
      if (auto Dg = digest(D->DIGEST()->getSymbol()))
        Part = std::vector<ir::Digest>{std::move(*Dg)};
    } else {
      Part = namedSet(
          static_cast<IPLParser::SetNameItemContext *>(Item)->IDENT()
              ->getSymbol());
    }
    if (!Part) {
      Ok = false;
      continue;
    }
    for (ir::Digest &D : *Part) {
      auto [It, New] = Seen.try_emplace(D, Item->getStart());
      if (!New) {
        Diags.report(DiagID::warn_duplicate_digest,
                     text().loc(Item->getStart()), {D.str()},
                     {text().range(Item)});
        Diags.report(DiagID::note_first_listed, text().loc(It->second));
        continue;
      }
      Out.push_back(std::move(D));
    }
  }
  if (!Ok)
    return std::nullopt;
  return Out;
}

std::optional<std::vector<ir::Digest>>
Lowering::setRef(IPLParser::SetRefContext *R) {
  if (auto *N = dynamic_cast<IPLParser::NamedSetContext *>(R))
    return namedSet(N->IDENT()->getSymbol());
  return setLiteral(
      static_cast<IPLParser::LiteralSetContext *>(R)->setLiteral());
}

void Lowering::setDecl(IPLParser::SetDeclContext *S) {
  antlr4::Token *Name = S->name;
  std::optional<std::vector<ir::Digest>> Digests;
  if (S->setLiteral()) {
    Digests = setLiteral(S->setLiteral());
  } else {
    // from "list.txt": relative to this file.
    std::string Rel;
    char Bad = 0;
    unescape(S->path->getText(), Rel, Bad);
    SmallString<256> Path(Rel);
    if (!llvm::sys::path::is_absolute(Path)) {
      Path = llvm::sys::path::parent_path(Cur->Name);
      llvm::sys::path::append(Path, Rel);
    }
    Digests = digestList(Path, text().loc(S->path), text().range(S->path));
  }
  auto It = Sets.find(Name->getText());
  if (It != Sets.end()) {
    Diags.report(DiagID::err_set_redefined, text().loc(Name), {Name->getText()},
                 {text().range(Name)});
    if (It->second.Name.Start.isValid())
      Diags.report(DiagID::note_previous_set, It->second.Name.Start);
    else
      Diags.report(DiagID::note_defined_on_command_line, SMLoc(),
                   {Name->getText()});
    return;
  }
  if (!Digests)
    Digests.emplace();
  SetOrder.push_back(Name->getText());
  Sets[Name->getText()] =
      NamedSet{std::move(*Digests), text().range(Name), false, ++DeclSeq};
}

std::optional<ir::Expr> Lowering::inCond(IPLParser::InCondContext *C) {
  auto Prop = property(C->propRef());
  auto Set = setRef(C->setRef());
  if (!Prop || !Set)
    return std::nullopt;
  if (!ipevm_prop_is_digest(*Prop)) {
    Diags.report(DiagID::err_in_needs_digest, text().loc(C->getStart()),
                 {ir::propName(*Prop).str()}, {text().range(C->propRef())});
    return std::nullopt;
  }
  return ir::Expr::digestIn(*Prop, std::move(*Set));
}

/// Reads a digest list: one alg:hex per line; '#' starts a comment. The
/// file joins the SourceMgr so that errors point into it.
std::optional<std::vector<ir::Digest>>
Lowering::digestList(StringRef Path, SMLoc From, SMRange Range) {
  auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false);
  if (!Buf) {
    if (From.isValid())
      Diags.report(DiagID::err_cannot_open, From,
                   {Path.str(), Buf.getError().message()}, {Range});
    else
      Diags.reportNoLoc(DiagID::err_cannot_open,
                        {Path.str(), Buf.getError().message()});
    return std::nullopt;
  }
  unsigned Id = addSourceBuffer(Diags.sourceMgr(), std::move(*Buf), From);
  StringRef Text = Diags.sourceMgr().getMemoryBuffer(Id)->getBuffer();
  std::vector<ir::Digest> Out;
  bool Ok = true;
  while (!Text.empty()) {
    auto [Line, Rest] = Text.split('\n');
    Text = Rest;
    Line = Line.split('#').first.trim();
    if (Line.empty())
      continue;
    if (auto D = digestText(Line))
      Out.push_back(std::move(*D));
    else
      Ok = false;
  }
  if (!Ok)
    return std::nullopt;
  return Out;
}

/// -D NAME=alg:hex and -D NAME=@FILE: sets known before the first line.
void Lowering::defines() {
  for (const auto &[Name, Value] : Opts.Defines) {
    std::optional<std::vector<ir::Digest>> Set;
    if (StringRef(Value).startswith("@")) {
      Set = digestList(StringRef(Value).drop_front(), SMLoc(), SMRange());
    } else {
      // Give the value a buffer of its own so a bad digest can be shown.
      auto Buf = llvm::MemoryBuffer::getMemBufferCopy(
          Value, "<command line -D " + Name + ">");
      unsigned Id = Diags.sourceMgr().AddNewSourceBuffer(std::move(Buf),
                                                          SMLoc());
      if (auto D = digestText(
              Diags.sourceMgr().getMemoryBuffer(Id)->getBuffer()))
        Set = std::vector<ir::Digest>{std::move(*D)};
    }
    if (!Set)
      continue;
    SetOrder.push_back(Name);
    // Unused -D values are the build's business, not a warning.
    Sets[Name] = NamedSet{std::move(*Set), SMRange(), /*Used=*/true};
  }
}

void Lowering::checkShadowedRules() {
  for (const ir::ShadowedRule &S : ir::findShadowedRules(P)) {
    const ir::Rule &R = P.Rules[S.Rule];
    // A rule from a macro is reported with the calls that made it.
    auto Outer = Diags.swapContext(RuleContexts[S.Rule]);
    bool DenyAfterAllowAll =
        S.Unconditional && !R.Act.Allow && P.Rules[S.By].Act.Allow;
    Diags.report(DenyAfterAllowAll ? DiagID::warn_deny_after_allow_all
                                   : DiagID::warn_shadowed,
                 RuleRanges[S.Rule].Start, {}, {RuleRanges[S.Rule]});
    Diags.report(S.Unconditional ? DiagID::note_shadowed_by_always
                                 : DiagID::note_shadowed_by_digests,
                 RuleRanges[S.By].Start);
    Diags.swapContext(std::move(Outer));
  }
}

void Lowering::checkUnusedSets() {
  for (const std::string &Name : SetOrder) {
    const NamedSet &S = Sets[Name];
    if (!S.Used)
      Diags.report(DiagID::warn_unused_set, S.Name.Start, {Name}, {S.Name});
  }
}

void Lowering::checkDefaults() {
  if (P.Global.Present)
    return;
  std::string Missing;
  for (unsigned Op = 0; Op < IPEVM_OP_COUNT; ++Op) {
    if (P.PerOp[Op].Present)
      continue;
    Missing += (Missing.empty() ? "'" : ", '") + ir::opName(Op).str() + "'";
  }
  if (Missing.empty())
    return;
  Diags.report(DiagID::err_missing_default, HeaderRange.Start, {Missing},
               {HeaderRange});
  Diags.report(DiagID::note_add_default, HeaderRange.Start);
}

//===----------------------------------------------------------------------===//
// Macros
//===----------------------------------------------------------------------===//

void Lowering::macroDecl(IPLParser::MacroDeclContext *M) {
  antlr4::Token *Name = M->name;
  std::string N = Name->getText();
  if (auto It = Macros.find(N); It != Macros.end()) {
    Diags.report(DiagID::err_macro_redefined, text().loc(Name), {N},
                 {text().range(Name)});
    Diags.report(DiagID::note_previous_set, It->second.Name.Start, {},
                 {It->second.Name});
    return;
  }
  MacroDef Def{M, Cur, {}, DeclSeq + 1, text().range(Name)};
  // A library's macros are there to be picked from: no unused warning.
  Def.Used = Cur->System;
  if (auto *Ps = M->macroParams()) {
    for (auto *P : Ps->IDENT()) {
      std::string PN = P->getText();
      if (llvm::is_contained(Def.Params, PN)) {
        Diags.report(DiagID::err_macro_duplicate_param,
                     text().loc(P->getSymbol()), {PN},
                     {text().range(P->getSymbol())});
        continue;
      }
      Def.Params.push_back(PN);
    }
  }
  MacroOrder.push_back(N);
  Macros[N] = std::move(Def);
}

void Lowering::reportDeclaredAfterMacro(StringRef Name, SMLoc Decl) {
  Diags.report(DiagID::note_declared_after_macro, Decl,
               {Name.str(), Env->Name});
}

Lowering::Binding *Lowering::param(StringRef Name) const {
  if (!Env)
    return nullptr;
  const std::vector<std::string> &Ps = Env->Macro->Params;
  for (size_t I = 0; I < Ps.size() && I < Env->Args.size(); ++I)
    if (Ps[I] == Name)
      return Env->Args[I];
  return nullptr;
}

/// Runs F where argument B was written: its file, its macro's scope.
template <typename Fn>
auto Lowering::inArgScope(Binding &B, Fn F) -> decltype(F()) {
  ParsedFile *OldCur = Cur;
  Frame *OldEnv = Env;
  Cur = B.File;
  Env = B.Env;
  auto R = F();
  Cur = OldCur;
  Env = OldEnv;
  return R;
}

void Lowering::wrongArgKind(Binding &B, ArgKind K, SMLoc Use) {
  static const char *const Wanted[] = {
      "a condition",
      ("operations: an operation, a group, or a list such as "
       "(execute, mmap_exec)"),
      "a digest such as sha256:<hex>, or the name of a constant",
      "a set: {...}, the name of a set, or a digest"};
  static const char *const UsedAs[] = {"a condition", "operations", "a digest",
                                       "a set"};
  inArgScope(B, [&] {
    Diags.report(DiagID::err_macro_arg_kind, text().loc(B.Arg->getStart()),
                 {B.Param, B.Macro, Wanted[unsigned(K)]},
                 {text().range(B.Arg)});
    return 0;
  });
  // The parameter used may be another macro's, which passed B on.
  std::string Used = B.Param;
  for (size_t I = 0; Env && I < Env->Args.size(); ++I)
    if (Env->Args[I] == &B)
      Used = Env->Macro->Params[I];
  Diags.report(DiagID::note_param_used_as, Use, {Used, UsedAs[unsigned(K)]});
}

std::optional<ir::Expr> Lowering::argCond(Binding &B, SMLoc Use) {
  if (!B.Cond) {
    auto *C = dynamic_cast<IPLParser::CondArgContext *>(B.Arg);
    if (!C) {
      wrongArgKind(B, ArgKind::Cond, Use);
      B.Cond.emplace();
    } else {
      B.Cond = inArgScope(B, [&] { return cond(C->cond()); });
    }
  }
  return *B.Cond;
}

std::optional<ir::OpMask> Lowering::argOps(Binding &B, SMLoc Use) {
  if (!B.Ops) {
    if (auto *L = dynamic_cast<IPLParser::OpsArgContext *>(B.Arg)) {
      B.Ops = inArgScope(B, [&] { return opList(L->opList()); });
    } else if (antlr4::Token *N = singleName(B.Arg)) {
      B.Ops = inArgScope(B, [&]() -> std::optional<ir::OpMask> {
        if (Binding *Outer = param(N->getText()))
          return argOps(*Outer, text().loc(N));
        return opName(N);
      });
    } else {
      wrongArgKind(B, ArgKind::Ops, Use);
      B.Ops.emplace();
    }
  }
  return *B.Ops;
}

std::optional<std::vector<ir::Digest>>
Lowering::argDigests(Binding &B, ArgKind K, SMLoc Use) {
  auto &Slot = K == ArgKind::Digest ? B.Digest : B.Set;
  if (Slot)
    return *Slot;
  if (auto *D = dynamic_cast<IPLParser::DigestArgContext *>(B.Arg)) {
    Slot = inArgScope(B, [&]() -> std::optional<std::vector<ir::Digest>> {
      auto Dg = digest(D->DIGEST()->getSymbol());
      if (!Dg)
        return std::nullopt;
      return std::vector<ir::Digest>{std::move(*Dg)};
    });
  } else if (auto *L = dynamic_cast<IPLParser::SetArgContext *>(B.Arg);
             L && K == ArgKind::Set) {
    Slot = inArgScope(B, [&] { return setLiteral(L->setLiteral()); });
  } else if (antlr4::Token *N = singleName(B.Arg)) {
    Slot = inArgScope(
        B, [&] { return K == ArgKind::Digest ? constant(N) : namedSet(N); });
  } else {
    wrongArgKind(B, K, Use);
    Slot.emplace();
  }
  return *Slot;
}

/// Checks a call and binds its arguments into F. Returns the macro, with
/// the expansion entered (Cur and Env are the macro's), or null after an
/// error.
const Lowering::MacroDef *
Lowering::beginExpansion(IPLParser::MacroCallContext *Call, bool Rule,
                         Frame &F) {
  antlr4::Token *Name = Call->name;
  std::string N = Name->getText();
  SMLoc Loc = text().loc(Name);
  SMRange Range = text().range(Call);
  auto It = Macros.find(N);
  if (It == Macros.end()) {
    Diags.report(DiagID::err_unknown_macro, Loc, {N}, {text().range(Name)});
    llvm::SmallVector<StringRef, 8> Names(MacroOrder.begin(), MacroOrder.end());
    StringRef S = suggestName(N, Names);
    if (!S.empty())
      Diags.report(DiagID::note_did_you_mean, Loc, {S.str()});
    return nullptr;
  }
  MacroDef &M = It->second;
  M.Used = true;
  bool IsRule = M.Decl->body == nullptr;
  if (IsRule != Rule) {
    Diags.report(IsRule ? DiagID::err_rule_macro_in_cond
                        : DiagID::err_cond_macro_as_stmt,
                 Loc, {N}, {Range});
    Diags.report(DiagID::note_macro_defined_here, M.Name.Start, {N}, {M.Name});
    return nullptr;
  }
  auto Args = Call->macroArg();
  if (Args.size() != M.Params.size()) {
    auto Count = [](size_t K, const char *One, const char *Many) {
      return std::to_string(K) + (K == 1 ? One : Many);
    };
    Diags.report(DiagID::err_macro_arity, Loc,
                 {N, Count(M.Params.size(), " argument", " arguments"),
                  Count(Args.size(), " was", " were")},
                 {Range});
    Diags.report(DiagID::note_macro_defined_here, M.Name.Start, {N}, {M.Name});
    return nullptr;
  }
  for (size_t K = 0; K < Expanding.size(); ++K) {
    if (Expanding[K]->Macro != &M)
      continue;
    std::string Chain;
    for (size_t J = K; J < Expanding.size(); ++J)
      Chain += Expanding[J]->Name + " -> ";
    Chain += N;
    Diags.report(DiagID::err_macro_recursion, Loc, {N, Chain}, {Range});
    return nullptr;
  }

  F.Macro = &M;
  F.Name = N;
  F.CallLoc = Loc;
  for (size_t I = 0; I < Args.size(); ++I) {
    // A parameter passed on as it is keeps its binding (and its scope).
    if (antlr4::Token *T = singleName(Args[I]))
      if (Binding *Outer = param(T->getText())) {
        F.Args.push_back(Outer);
        continue;
      }
    F.Owned.push_back(std::make_unique<Binding>(
        Binding{M.Params[I], N, Args[I], Cur, Env, {}, {}, {}, {}}));
    F.Args.push_back(F.Owned.back().get());
  }
  Diags.pushContext({DiagID::note_in_macro_expansion, Loc, {N}, Range});
  Expanding.push_back(&F);
  Cur = M.File;
  Env = &F;
  return &M;
}

void Lowering::endExpansion(ParsedFile *File, Frame *OldEnv) {
  Expanding.pop_back();
  Diags.popContext();
  Cur = File;
  Env = OldEnv;
}

void Lowering::macroStmt(IPLParser::MacroStmtContext *S) {
  ParsedFile *File = Cur;
  Frame *OldEnv = Env;
  Frame F;
  const MacroDef *M = beginExpansion(S->macroCall(), /*Rule=*/true, F);
  if (!M)
    return;
  for (auto *B : M->Decl->macroBodyStatement()) {
    if (auto *D = B->defaultDecl())
      defaultDecl(D);
    else if (auto *R = B->ruleDecl())
      ruleDecl(R);
    else if (auto *MS = B->macroStmt())
      macroStmt(MS);
  }
  endExpansion(File, OldEnv);
}

std::optional<ir::Expr> Lowering::callCond(IPLParser::MacroCallContext *Call) {
  ParsedFile *File = Cur;
  Frame *OldEnv = Env;
  Frame F;
  const MacroDef *M = beginExpansion(Call, /*Rule=*/false, F);
  if (!M)
    return std::nullopt;
  auto E = cond(M->Decl->body);
  endExpansion(File, OldEnv);
  return E;
}

void Lowering::checkUnusedMacros() {
  for (const std::string &Name : MacroOrder) {
    const MacroDef &M = Macros[Name];
    if (!M.Used)
      Diags.report(DiagID::warn_unused_macro, M.Name.Start, {Name}, {M.Name});
  }
}

std::optional<ir::Policy> ipec::parseIPL(unsigned BufferID,
                                         DiagnosticEngine &Diags,
                                         const FrontendOptions &Opts) {
  BufferID = withLineFeeds(Diags.sourceMgr(), BufferID);
  {
    // Diagnostics are held until every file is known to parse: a syntax
    // error means nothing but syntax errors is reported.
    Diags.hold();
    Lowering Streaming(Diags, Opts, /*Stream=*/true);
    Streaming.run(BufferID);
    if (!Streaming.aborted()) {
      Diags.releaseHeld();
      return Streaming.result();
    }
    Diags.dropHeld();
  }
  Lowering Whole(Diags, Opts, /*Stream=*/false);
  Whole.run(BufferID);
  return Whole.result();
}
