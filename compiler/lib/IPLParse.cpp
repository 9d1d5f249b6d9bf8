//===- IPLParse.cpp -------------------------------------------------------===//

#include "IPLParse.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace ipec;
using namespace ipec::detail;
using namespace ipec::grammar;
using llvm::SMLoc;
using llvm::StringRef;

static bool hasLoneCR(StringRef S) {
  for (size_t I = S.find('\r'); I != StringRef::npos; I = S.find('\r', I + 1))
    if (I + 1 == S.size() || S[I + 1] != '\n')
      return true;
  return false;
}

static std::unique_ptr<llvm::MemoryBuffer>
copyWithLineFeeds(const llvm::MemoryBuffer &Buf) {
  StringRef S = Buf.getBuffer();
  std::string Out(S);
  for (size_t I = 0; I < Out.size(); ++I)
    if (Out[I] == '\r' && (I + 1 == Out.size() || Out[I + 1] != '\n'))
      Out[I] = '\n';
  return llvm::MemoryBuffer::getMemBufferCopy(Out, Buf.getBufferIdentifier());
}

unsigned detail::addSourceBuffer(llvm::SourceMgr &SM,
                                 std::unique_ptr<llvm::MemoryBuffer> Buf,
                                 SMLoc IncludeLoc) {
  if (hasLoneCR(Buf->getBuffer()))
    Buf = copyWithLineFeeds(*Buf);
  return SM.AddNewSourceBuffer(std::move(Buf), IncludeLoc);
}

unsigned detail::withLineFeeds(llvm::SourceMgr &SM, unsigned BufferID) {
  const llvm::MemoryBuffer *Buf = SM.getMemoryBuffer(BufferID);
  if (!hasLoneCR(Buf->getBuffer()))
    return BufferID;
  return SM.AddNewSourceBuffer(copyWithLineFeeds(*Buf),
                               SM.getParentIncludeLoc(BufferID));
}

// ANTLRInputStream's behaviour, over bytes.
void ASCIICharStream::consume() {
  if (Pos >= Buf.size())
    throw antlr4::IllegalStateException("cannot consume EOF");
  ++Pos;
}

size_t ASCIICharStream::LA(ssize_t I) {
  if (I == 0)
    return 0;
  if (I < 0) {
    ++I; // LA(-1) is the previous character.
    if (ssize_t(Pos) + I - 1 < 0)
      return antlr4::IntStream::EOF;
  }
  size_t At = size_t(ssize_t(Pos) + I - 1);
  if (At >= Buf.size())
    return antlr4::IntStream::EOF;
  return (unsigned char)Buf[At];
}

std::string ASCIICharStream::getText(const antlr4::misc::Interval &I) {
  if (I.a < 0 || I.b < 0)
    return "";
  size_t Start = size_t(I.a), Stop = std::min(size_t(I.b), Buf.size() - 1);
  if (Start >= Buf.size() || Stop < Start)
    return "";
  return Buf.slice(Start, Stop + 1).str();
}

/// The buffer as ANTLR characters, or null if it is not UTF-8.
static std::unique_ptr<antlr4::CharStream> charStream(StringRef Src,
                                                      const SourceText &Text) {
  if (Text.isASCII())
    return std::make_unique<ASCIICharStream>(Src);
  try {
    return std::make_unique<antlr4::ANTLRInputStream>(Src.str());
  } catch (const std::exception &) {
    return nullptr;
  }
}

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
  F->Input = charStream(Src, *F->Text);
  if (!F->Input) {
    Diags.report(DiagID::err_invalid_utf8, SMLoc::getFromPointer(Src.data()));
    return nullptr;
  }
  unsigned ErrorsBefore = Diags.errorCount();
  F->Listener = std::make_unique<SyntaxErrorListener>(*F->Text, Diags);
  F->Lexer = std::make_unique<IPLLexer>(F->Input.get());
  F->Lexer->removeErrorListeners();
  F->Lexer->addErrorListener(F->Listener.get());
  F->Tokens = std::make_unique<ReleasingTokenStream>(F->Lexer.get());
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

std::unique_ptr<IPLParser> ParsedFile::makeStreamingParser() {
  // Attaching a parser does not rewind the token stream.
  auto P = std::make_unique<IPLParser>(Tokens.get());
  P->removeErrorListeners();
  P->addErrorListener(Listener.get());
  P->setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  // SLL prediction is cheaper; on an input where it would differ from full
  // LL it fails, and the caller parses again with parseFile().
  P->getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  return P;
}

std::unique_ptr<ParsedFile> detail::streamFile(unsigned BufferID,
                                               bool WithHeader,
                                               DiagnosticEngine &Diags) {
  const llvm::MemoryBuffer *Buf = Diags.sourceMgr().getMemoryBuffer(BufferID);
  StringRef Src = Buf->getBuffer();
  auto F = std::make_unique<ParsedFile>();
  F->Streaming = true;
  F->Name = Buf->getBufferIdentifier().str();
  F->Text = std::make_unique<SourceText>(Src);
  if (Src.contains('\0') || !(F->Input = charStream(Src, *F->Text))) {
    F->Failed = true;
    return F;
  }
  F->Listener = std::make_unique<FailureListener>();
  F->Lexer = std::make_unique<IPLLexer>(F->Input.get());
  F->Lexer->removeErrorListeners();
  F->Lexer->addErrorListener(F->Listener.get());
  F->Tokens = std::make_unique<ReleasingTokenStream>(F->Lexer.get());
  F->Parser = F->makeStreamingParser();
  if (WithHeader) {
    try {
      F->Header = F->Parser->header();
    } catch (const std::exception &) {
      F->Failed = true;
    }
    F->Failed |= static_cast<FailureListener &>(*F->Listener).Failed;
  }
  return F;
}

void ParsedFile::freeLastStatement() {
  if (!Last)
    return;
  size_t Start = Last->getStart()->getTokenIndex();
  size_t Stop = Last->getStop()->getTokenIndex();
  if (LastIsMacro) {
    Tokens->freeTokens(Freed, Start);
    Freed = Stop + 1;
  } else {
    // The statement's last token stays: the parser finds the previous
    // token through it.
    Tokens->freeTokens(Freed, Stop);
    Freed = Stop;
    Parser->getTreeTracker().reset();
  }
  Last = nullptr;
}

IPLParser::StatementContext *ParsedFile::nextStatement() {
  freeLastStatement();
  if (Failed)
    return nullptr;
  auto &Errors = static_cast<FailureListener &>(*Listener);
  try {
    if (Tokens->LA(1) == antlr4::Token::EOF)
      return nullptr;
    // 'macro' is a keyword: IDENT never spells it.
    LastIsMacro = Tokens->LT(1)->getText() == "macro";
    if (LastIsMacro)
      MacroParsers.push_back(makeStreamingParser());
    IPLParser &P = LastIsMacro ? *MacroParsers.back() : *Parser;
    Last = P.statement();
  } catch (const std::exception &) {
    Failed = true;
  }
  if (Errors.Failed)
    Failed = true;
  if (Failed) {
    Last = nullptr;
    return nullptr;
  }
  return Last;
}
