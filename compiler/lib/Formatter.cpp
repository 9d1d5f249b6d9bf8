//===- Formatter.cpp - ipec fmt -------------------------------------------===//
//
// Walks the statements of the parse tree for the layout and prints every
// token of each statement with canonical spacing. Comments are off the
// parser's channel: before each token, those between it and the previous
// token are printed, after that token if they were on its line, else on
// lines of their own. A comment after a token forces a line break; a run of
// blank lines becomes one.
//
//===----------------------------------------------------------------------===//

#include "ipec/Formatter.h"

#include "IPLParse.h"

using namespace ipec;
using namespace ipec::detail;
using namespace ipec::grammar;

namespace {

class Formatter {
public:
  explicit Formatter(ParsedFile &F) : F(F), Toks(*F.Tokens) {}

  std::string run() {
    if (F.Header)
      generic(F.Header, 0);
    for (auto *S : F.Statements)
      statement(S, 0);
    // Comments at the end of the file.
    flushComments(Toks.size() - 1, 0);
    newline();
    return Out;
  }

private:
  static constexpr unsigned IndentStep = 2, ContinuationStep = 4;

  bool isComment(antlr4::Token *T) const {
    return T->getType() == IPLLexer::LINE_COMMENT;
  }

  void newline() {
    Fresh = true;
    if (LineEmpty)
      return;
    Out += '\n';
    LineEmpty = true;
  }
  void blankLine() {
    newline();
    if (!Out.empty() && !llvm::StringRef(Out).endswith("\n\n"))
      Out += '\n';
  }
  void put(llvm::StringRef S, unsigned Indent) {
    if (LineEmpty) {
      Out.append(Indent, ' ');
      LineEmpty = false;
    }
    Out += S.str();
    Fresh = Fresh && S.empty();
  }

  /// Prints the comments between the last token printed and token Next.
  void flushComments(size_t Next, unsigned Indent) {
    for (size_t I = Flushed; I < Next; ++I) {
      antlr4::Token *C = Toks.get(I);
      if (!isComment(C))
        continue;
      std::string Text = llvm::StringRef(C->getText()).rtrim().str();
      if (Printed && C->getLine() == LastLine && !LineEmpty) {
        Out += " " + Text;
        MustBreak = true;
      } else {
        newline();
        if (Printed && C->getLine() > LastLine + 1)
          blankLine();
        put(Text, Indent);
        newline();
        MustBreak = false;
      }
      Printed = true;
      LastLine = C->getLine();
    }
    Flushed = std::max(Flushed, Next);
  }

  /// Prints token T, after the comments before it; Indent if it starts a
  /// line.
  void token(antlr4::Token *T, bool Space, unsigned Indent) {
    flushComments(T->getTokenIndex(), Indent);
    if (MustBreak) {
      newline();
      MustBreak = false;
    }
    if (!Fresh && Space)
      Out += ' ';
    put(T->getText(), Indent);
    Prev = T;
    Printed = true;
    LastLine = T->getLine();
    Flushed = T->getTokenIndex() + 1;
  }

  /// Starts a statement (or an item of a list) on a line of its own at
  /// Indent, after the comments before it (at CommentIndent), keeping one
  /// blank line if there was one.
  void startLine(antlr4::Token *First, unsigned Indent,
                 std::optional<unsigned> CommentIndent = std::nullopt) {
    flushComments(First->getTokenIndex(), CommentIndent.value_or(Indent));
    newline();
    MustBreak = false;
    if (Printed && First->getLine() > LastLine + 1)
      blankLine();
    put("", Indent);
  }

  bool spaceBefore(antlr4::Token *T) const {
    if (!Prev)
      return false;
    std::string P = Prev->getText(), N = T->getText();
    if (N == "," || N == ";" || N == ")" || N == "." || N == "}")
      return false;
    if (P == "(" || P == "." || P == "{")
      return false;
    // A call, or a macro's parameter list.
    if (N == "(" && Prev->getType() == IPLLexer::IDENT)
      return false;
    return true;
  }

  /// Prints the tokens from index From to To (inclusive) on one line, with
  /// canonical spacing; an inline set literal loses its trailing comma.
  void tokens(size_t From, size_t To, unsigned Indent) {
    for (size_t I = From; I <= To; ++I) {
      antlr4::Token *T = Toks.get(I);
      if (T->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
        continue;
      if (T->getText() == "," && nextDefault(I) <= To &&
          Toks.get(nextDefault(I))->getText() == "}")
        continue;
      token(T, spaceBefore(T), Indent);
    }
  }
  size_t nextDefault(size_t I) const {
    for (++I; I < Toks.size(); ++I)
      if (Toks.get(I)->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
        return I;
    return Toks.size();
  }

  void generic(antlr4::ParserRuleContext *Ctx, unsigned Indent) {
    startLine(Ctx->getStart(), Indent);
    tokens(Ctx->getStart()->getTokenIndex(), Ctx->getStop()->getTokenIndex(),
           Indent + ContinuationStep);
  }

  bool hasComment(size_t From, size_t To) const {
    for (size_t I = From; I <= To; ++I)
      if (isComment(Toks.get(I)))
        return true;
    return false;
  }

  void statement(antlr4::ParserRuleContext *S, unsigned Indent) {
    auto *Stmt = dynamic_cast<IPLParser::StatementContext *>(S);
    if (Stmt && Stmt->setDecl() && Stmt->setDecl()->setLiteral())
      return setDecl(Stmt->setDecl(), Indent);
    if (Stmt && Stmt->macroDecl() && !Stmt->macroDecl()->body)
      return ruleMacro(Stmt->macroDecl(), Indent);
    generic(S, Indent);
  }

  /// A set written over several lines (or with comments in it) keeps one
  /// item per line, each with a comma.
  void setDecl(IPLParser::SetDeclContext *D, unsigned Indent) {
    auto *L = D->setLiteral();
    antlr4::Token *Open = L->getStart(), *Close = L->getStop();
    if (Open->getLine() == Close->getLine() &&
        !hasComment(Open->getTokenIndex(), Close->getTokenIndex()))
      return generic(D, Indent);
    startLine(D->getStart(), Indent);
    unsigned Cont = Indent + ContinuationStep, Item = Indent + IndentStep;
    tokens(D->getStart()->getTokenIndex(), Open->getTokenIndex(), Cont);
    for (auto *It : L->setItem()) {
      startLine(It->getStart(), Item);
      tokens(It->getStart()->getTokenIndex(), It->getStop()->getTokenIndex(),
             Item + ContinuationStep);
      size_t After = nextDefault(It->getStop()->getTokenIndex());
      if (Toks.get(After)->getText() == ",")
        token(Toks.get(After), false, Item);
      else
        put(",", Item);
    }
    startLine(Close, Indent, Item);
    token(Close, false, Indent);
    tokens(Close->getTokenIndex() + 1, D->getStop()->getTokenIndex(), Cont);
  }

  /// macro NAME(PARAMS) { ... }: the body indented, one statement a line.
  void ruleMacro(IPLParser::MacroDeclContext *M, unsigned Indent) {
    startLine(M->getStart(), Indent);
    size_t Open = M->getStart()->getTokenIndex();
    while (Toks.get(Open)->getText() != "{")
      ++Open;
    tokens(M->getStart()->getTokenIndex(), Open, Indent + ContinuationStep);
    for (auto *B : M->macroBodyStatement())
      statement(B, Indent + IndentStep);
    antlr4::Token *Close = M->getStop();
    startLine(Close, Indent, Indent + IndentStep);
    token(Close, false, Indent);
  }

  ParsedFile &F;
  antlr4::CommonTokenStream &Toks;
  std::string Out;
  bool LineEmpty = true;
  /// Nothing but the indent on the line yet.
  bool Fresh = true;
  /// A comment ended the line: the next token starts another.
  bool MustBreak = false;
  /// Whether anything was printed yet, and the source line it ended on.
  bool Printed = false;
  size_t LastLine = 0;
  /// The index of the first token (of any channel) not yet dealt with.
  size_t Flushed = 0;
  antlr4::Token *Prev = nullptr;
};

} // namespace

std::optional<std::string> ipec::formatIPL(unsigned BufferID,
                                           DiagnosticEngine &Diags) {
  // The caller compares the result with the buffer as it is, CRs and all.
  auto F = parseFile(withLineFeeds(Diags.sourceMgr(), BufferID),
                     ParseAs::Either, Diags);
  if (!F)
    return std::nullopt;
  return Formatter(*F).run();
}
