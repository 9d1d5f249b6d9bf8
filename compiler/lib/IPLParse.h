//===- IPLParse.h - IPL source to an ANTLR parse tree -----------*- C++ -*-===//
//
// Internal to compiler/lib: the front end and the formatter parse IPL the
// same way, and only they see ANTLR types.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_LIB_IPLPARSE_H
#define IPEC_LIB_IPLPARSE_H

#include "ipec/Diagnostics.h"

#include "IPLLexer.h"
#include "IPLParser.h"
#include "antlr4-runtime.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>
#include <string>
#include <vector>

namespace ipec {
namespace detail {

using grammar::IPLLexer;
using grammar::IPLParser;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::StringRef;

/// Maps ANTLR's code-point indices back to bytes of the source buffer.
class SourceText {
public:
  explicit SourceText(StringRef Buf) : Buf(Buf) {
    if (llvm::all_of(Buf, [](char C) { return (unsigned char)C < 0x80; }))
      return;
    for (size_t I = 0; I < Buf.size(); ++I)
      if (((unsigned char)Buf[I] & 0xc0) != 0x80)
        CodePointToByte.push_back(uint32_t(I));
  }

  size_t byteOffset(size_t CodePoint) const {
    if (CodePointToByte.empty())
      return std::min(CodePoint, Buf.size());
    return CodePoint < CodePointToByte.size() ? CodePointToByte[CodePoint]
                                              : Buf.size();
  }
  SMLoc loc(size_t CodePoint) const {
    return SMLoc::getFromPointer(Buf.data() + byteOffset(CodePoint));
  }
  SMLoc loc(const antlr4::Token *T) const { return loc(T->getStartIndex()); }
  SMRange range(const antlr4::Token *Start, const antlr4::Token *Stop) const {
    if (Stop->getStopIndex() + 1 < Start->getStartIndex())
      Stop = Start;
    return SMRange(loc(Start), loc(Stop->getStopIndex() + 1));
  }
  SMRange range(const antlr4::Token *T) const { return range(T, T); }
  bool isASCII() const { return CodePointToByte.empty(); }
  SMRange range(antlr4::ParserRuleContext *Ctx) const {
    return range(Ctx->getStart(), Ctx->getStop());
  }
  StringRef slice(size_t StartCp, size_t StopCp) const {
    size_t B = byteOffset(StartCp), E = byteOffset(StopCp + 1);
    return Buf.slice(B, E);
  }

  StringRef Buf;

private:
  std::vector<uint32_t> CodePointToByte;
};

class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
  SyntaxErrorListener(const SourceText &Text, DiagnosticEngine &Diags)
      : Text(Text), Diags(Diags) {}

  void syntaxError(antlr4::Recognizer *, antlr4::Token *Bad, size_t Line,
                   size_t Column, const std::string &Msg,
                   std::exception_ptr) override {
    if (!Bad) {
      // The lexer has a catch-all token, so this is only a fallback.
      SMLoc L = Diags.sourceMgr().FindLocForLineAndColumn(
          Diags.sourceMgr().getMainFileID(), unsigned(Line),
          unsigned(Column + 1));
      Diags.report(DiagID::err_syntax, L, {Msg});
      return;
    }
    if (Bad->getType() == IPLLexer::ERROR_CHAR) {
      Diags.report(DiagID::err_unexpected_char, Text.loc(Bad), {Bad->getText()},
                   {Text.range(Bad)});
      return;
    }
    std::string Nice = Msg;
    // ANTLR says "<EOF>"; people say "end of file".
    size_t P;
    while ((P = Nice.find("<EOF>")) != std::string::npos)
      Nice.replace(P, 5, "end of file");
    Diags.report(DiagID::err_syntax, Text.loc(Bad), {Nice},
                 Bad->getType() == antlr4::Token::EOF
                     ? llvm::ArrayRef<SMRange>()
                     : llvm::ArrayRef<SMRange>(Text.range(Bad)));
  }

private:
  const SourceText &Text;
  DiagnosticEngine &Diags;
};

/// The characters of an ASCII buffer as ANTLR reads them, without the
/// UTF-32 copy ANTLRInputStream makes (four bytes per source byte).
class ASCIICharStream : public antlr4::CharStream {
public:
  explicit ASCIICharStream(StringRef Buf) : Buf(Buf) {}

  void consume() override;
  size_t LA(ssize_t I) override;
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  size_t index() override { return Pos; }
  void seek(size_t Index) override { Pos = std::min(Index, Buf.size()); }
  size_t size() override { return Buf.size(); }
  std::string getSourceName() const override {
    return antlr4::IntStream::UNKNOWN_SOURCE_NAME;
  }
  std::string getText(const antlr4::misc::Interval &I) override;
  std::string toString() const override { return Buf.str(); }

private:
  StringRef Buf;
  size_t Pos = 0;
};

/// A token stream that can free the tokens the parser is done with, so that
/// a file parsed a statement at a time holds one statement's tokens.
class ReleasingTokenStream : public antlr4::CommonTokenStream {
public:
  using antlr4::CommonTokenStream::CommonTokenStream;
  /// Frees tokens [From, To). get() returns null for them afterwards.
  void freeTokens(size_t From, size_t To) {
    for (size_t I = From; I < To && I < _tokens.size(); ++I)
      _tokens[I].reset();
  }
};

/// Notes that ANTLR found an error, for a parse that only needs to know.
class FailureListener : public antlr4::BaseErrorListener {
public:
  void syntaxError(antlr4::Recognizer *, antlr4::Token *, size_t, size_t,
                   const std::string &, std::exception_ptr) override {
    Failed = true;
  }
  bool Failed = false;
};

/// One parsed source file and the ANTLR objects its tree lives in.
///
/// parseFile() parses the whole file with full diagnostics: Statements holds
/// every statement. streamFile() parses a statement at a time for the front
/// end: nextStatement() frees the tree and tokens of the statement before it
/// (except a macro declaration's, which later calls expand) and parses with
/// SLL prediction, giving up at the first syntax error (Failed) without a
/// diagnostic; the caller then parses again with parseFile() to report it.
struct ParsedFile {
  std::string Name;
  std::unique_ptr<SourceText> Text;
  std::unique_ptr<antlr4::CharStream> Input;
  std::unique_ptr<antlr4::BaseErrorListener> Listener;
  std::unique_ptr<IPLLexer> Lexer;
  std::unique_ptr<ReleasingTokenStream> Tokens;
  std::unique_ptr<IPLParser> Parser;
  /// Streaming: the parsers that own macro declarations' trees.
  std::vector<std::unique_ptr<IPLParser>> MacroParsers;
  std::vector<IPLParser::StatementContext *> Statements;
  IPLParser::HeaderContext *Header = nullptr;
  /// Included with <...>, directly or through another such file: a library.
  bool System = false;

  bool Streaming = false;
  /// Streaming: a syntax error (or a buffer ANTLR cannot read) was found.
  bool Failed = false;
  /// Streaming: the next statement, or null at the end of the file or after
  /// a syntax error.
  IPLParser::StatementContext *nextStatement();

private:
  std::unique_ptr<IPLParser> makeStreamingParser();
  void freeLastStatement();
  IPLParser::StatementContext *Last = nullptr;
  bool LastIsMacro = false;
  /// Tokens below this index are freed or belong to a macro declaration.
  size_t Freed = 0;

  friend std::unique_ptr<ParsedFile> streamFile(unsigned, bool,
                                                DiagnosticEngine &);
};

/// IPL ends a line at LF, CRLF or a lone CR; llvm::SourceMgr counts LFs.
/// Buffers are therefore read through a copy with each lone CR made an LF
/// (made only if there is one), so that every line and column reported, and
/// every line shown under a diagnostic, is the one an editor shows.
///
/// Adds Buf to SM with lone CRs as LFs; returns its id.
unsigned addSourceBuffer(llvm::SourceMgr &SM,
                         std::unique_ptr<llvm::MemoryBuffer> Buf,
                         SMLoc IncludeLoc);
/// The id of buffer BufferID with lone CRs as LFs: BufferID itself, or a
/// copy with the same name and include location.
unsigned withLineFeeds(llvm::SourceMgr &SM, unsigned BufferID);

/// What a buffer holds: a policy (with its header), a module for include
/// (statements only), or either, told by whether it starts with 'policy'.
enum class ParseAs { Policy, Module, Either };

/// Parses buffer BufferID. Returns null if there were errors (reported to
/// Diags).
std::unique_ptr<ParsedFile> parseFile(unsigned BufferID, ParseAs As,
                                      DiagnosticEngine &Diags);

/// Starts parsing buffer BufferID a statement at a time, after the header if
/// WithHeader. Reports nothing: on an error, the result is Failed.
std::unique_ptr<ParsedFile> streamFile(unsigned BufferID, bool WithHeader,
                                       DiagnosticEngine &Diags);

} // namespace detail
} // namespace ipec

#endif // IPEC_LIB_IPLPARSE_H
