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
#include "llvm/Support/SMLoc.h"

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

/// One parsed source file and the ANTLR objects its tree lives in.
struct ParsedFile {
  std::string Name;
  std::unique_ptr<SourceText> Text;
  std::unique_ptr<antlr4::ANTLRInputStream> Input;
  std::unique_ptr<SyntaxErrorListener> Listener;
  std::unique_ptr<IPLLexer> Lexer;
  std::unique_ptr<antlr4::CommonTokenStream> Tokens;
  std::unique_ptr<IPLParser> Parser;
  std::vector<IPLParser::StatementContext *> Statements;
  IPLParser::HeaderContext *Header = nullptr;
  /// Included with <...>, directly or through another such file: a library.
  bool System = false;
};

/// What a buffer holds: a policy (with its header), a module for include
/// (statements only), or either, told by whether it starts with 'policy'.
enum class ParseAs { Policy, Module, Either };

/// Parses buffer BufferID. Returns null if there were errors (reported to
/// Diags).
std::unique_ptr<ParsedFile> parseFile(unsigned BufferID, ParseAs As,
                                      DiagnosticEngine &Diags);

} // namespace detail
} // namespace ipec

#endif // IPEC_LIB_IPLPARSE_H
