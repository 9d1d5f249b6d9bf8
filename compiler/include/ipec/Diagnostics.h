//===- Diagnostics.h - Located, table-driven diagnostics --------*- C++ -*-===//
//
// Every message ipec prints about a source is declared once in
// Diagnostics.def. DiagnosticEngine formats it clang-style through
// llvm::SourceMgr: "file:line:col: error: text", the source line, a caret and
// range underline.
//
//===----------------------------------------------------------------------===//
#ifndef IPEC_DIAGNOSTICS_H
#define IPEC_DIAGNOSTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace ipec {

enum class DiagID : unsigned {
#define DIAG(Id, Severity, Group, Text) Id,
#include "ipec/Diagnostics.def"
  NumDiags
};

enum class Severity { Note, Warning, Error };

enum class DiagnosticFormat { Text, JSON };

class DiagnosticEngine {
public:
  DiagnosticEngine(llvm::SourceMgr &SM, llvm::raw_ostream &OS)
      : SM(SM), OS(OS) {}
  ~DiagnosticEngine() { finish(); }

  /// Applies one -W option, without the "-W": "GROUP", "no-GROUP", "error",
  /// "no-error", "error=GROUP". Fails for an unknown warning group.
  llvm::Error applyWarningOption(llvm::StringRef Option);
  /// Stop reporting after this many errors (0: no limit).
  void setErrorLimit(unsigned N) { ErrorLimit = N; }
  void setFormat(DiagnosticFormat F) { Format = F; }
  /// Writes out anything buffered (JSON keeps a diagnostic until its notes
  /// have arrived). Called by the destructor too.
  void finish();

  /// Reports Id at Loc, underlining Ranges, with %0.. replaced by Args.
  void report(DiagID Id, llvm::SMLoc Loc, llvm::ArrayRef<std::string> Args = {},
              llvm::ArrayRef<llvm::SMRange> Ranges = {});
  /// Reports a diagnostic that has no source location ("ipec: error: ...").
  void reportNoLoc(DiagID Id, llvm::ArrayRef<std::string> Args = {});

  /// A note that follows every diagnostic reported while it is in the
  /// context, such as "in expansion of macro 'X'" at the call site.
  struct ContextNote {
    DiagID Id;
    llvm::SMLoc Loc;
    std::vector<std::string> Args;
    llvm::SMRange Range;
  };
  /// The notes follow a diagnostic innermost (last pushed) first.
  void pushContext(ContextNote N) { Context.push_back(std::move(N)); }
  void popContext() { Context.pop_back(); }
  const std::vector<ContextNote> &context() const { return Context; }
  /// Replaces the context (to report about something that was lowered in
  /// another one) and returns the old one.
  std::vector<ContextNote> swapContext(std::vector<ContextNote> C) {
    std::swap(C, Context);
    return C;
  }

  /// Holds every diagnostic reported from now on (with its context) instead
  /// of counting and printing it, until releaseHeld() reports them in order
  /// or dropHeld() forgets them: for work that may be redone another way.
  void hold() { Holding = true; }
  void releaseHeld();
  void dropHeld();

  unsigned errorCount() const { return NumErrors; }
  unsigned warningCount() const { return NumWarnings; }
  bool hasErrors() const { return NumErrors != 0; }
  void setWarningsAsErrors(bool V) { WarningsAsErrors = V; }
  llvm::SourceMgr &sourceMgr() { return SM; }

  static Severity severityOf(DiagID Id);
  static llvm::StringRef groupOf(DiagID Id);
  static std::string format(DiagID Id, llvm::ArrayRef<std::string> Args);

private:
  void emitText(Severity Sev, llvm::SMLoc Loc, const std::string &Msg,
                llvm::ArrayRef<llvm::SMRange> Ranges);
  void emitJSON(Severity Sev, llvm::StringRef Group, llvm::SMLoc Loc,
                const std::string &Msg, llvm::ArrayRef<llvm::SMRange> Ranges);

  llvm::SourceMgr &SM;
  llvm::raw_ostream &OS;
  unsigned NumErrors = 0;
  unsigned NumWarnings = 0;
  bool WarningsAsErrors = false;
  llvm::StringSet<> Disabled, AsErrors, NotErrors;
  unsigned ErrorLimit = 0;
  bool LimitReached = false;
  /// Whether notes are shown: they follow the diagnostic they belong to.
  bool ShowNotes = true;
  DiagnosticFormat Format = DiagnosticFormat::Text;
  std::vector<ContextNote> Context;
  /// JSON: the diagnostic whose notes are still coming.
  std::optional<llvm::json::Object> Pending;

  struct HeldDiagnostic {
    DiagID Id;
    llvm::SMLoc Loc;
    std::vector<std::string> Args;
    llvm::SmallVector<llvm::SMRange, 1> Ranges;
    std::vector<ContextNote> Context;
  };
  bool Holding = false;
  std::vector<HeldDiagnostic> Held;
};

/// The closest of Candidates to Name, or "" if none is close enough to be a
/// plausible typo.
llvm::StringRef suggestName(llvm::StringRef Name,
                            llvm::ArrayRef<llvm::StringRef> Candidates);

} // namespace ipec

#endif // IPEC_DIAGNOSTICS_H
