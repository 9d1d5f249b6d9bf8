//===- IPLParse.cpp -------------------------------------------------------===//

#include "IPLParse.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace ipec;
using namespace ipec::detail;
using namespace ipec::grammar;
using llvm::SMLoc;
using llvm::StringRef;

std::unique_ptr<ParsedFile> detail::parseFile(unsigned BufferID, ParseAs As,
                                              DiagnosticEngine &Diags) {
  const llvm::MemoryBuffer *Buf = Diags.sourceMgr().getMemoryBuffer(BufferID);
  StringRef Src = Buf->getBuffer();
  size_t Nul = Src.find('\0');
  if (Nul != StringRef::npos) {
    Diags.report(DiagID::err_nul_byte, SMLoc::getFromPointer(Src.data() + Nul));
    return nullptr;
  }
  auto F = std::make_unique<ParsedFile>();
  F->Name = Buf->getBufferIdentifier().str();
  F->Text = std::make_unique<SourceText>(Src);
  try {
    F->Input = std::make_unique<antlr4::ANTLRInputStream>(Src.str());
  } catch (const std::exception &) {
    Diags.report(DiagID::err_invalid_utf8, SMLoc::getFromPointer(Src.data()));
    return nullptr;
  }
  unsigned ErrorsBefore = Diags.errorCount();
  F->Listener = std::make_unique<SyntaxErrorListener>(*F->Text, Diags);
  F->Lexer = std::make_unique<IPLLexer>(F->Input.get());
  F->Lexer->removeErrorListeners();
  F->Lexer->addErrorListener(F->Listener.get());
  F->Tokens = std::make_unique<antlr4::CommonTokenStream>(F->Lexer.get());
  F->Parser = std::make_unique<IPLParser>(F->Tokens.get());
  F->Parser->removeErrorListeners();
  F->Parser->addErrorListener(F->Listener.get());
  bool Main = As == ParseAs::Policy;
  if (As == ParseAs::Either) {
    F->Tokens->fill();
    for (antlr4::Token *T : F->Tokens->getTokens())
      if (T->getChannel() == antlr4::Token::DEFAULT_CHANNEL) {
        Main = T->getText() == "policy";
        break;
      }
    F->Tokens->seek(0);
  }
  if (Main) {
    IPLParser::PolicyContext *Tree = F->Parser->policy();
    F->Header = Tree->header();
    F->Statements = Tree->statement();
  } else {
    F->Statements = F->Parser->module()->statement();
  }
  if (Diags.errorCount() != ErrorsBefore)
    return nullptr;
  return F;
}
