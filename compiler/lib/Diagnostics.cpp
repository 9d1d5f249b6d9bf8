//===- Diagnostics.cpp ----------------------------------------------------===//

#include "ipec/Diagnostics.h"

using namespace ipec;
using namespace llvm;

namespace {
struct DiagInfo {
  Severity Sev;
  const char *Group;
  const char *Text;
};

const DiagInfo Table[] = {
#define DIAG(Id, Sev, Group, Text) {Severity::Sev, Group, Text},
#include "ipec/Diagnostics.def"
};

SourceMgr::DiagKind kindOf(Severity S) {
  switch (S) {
  case Severity::Note:
    return SourceMgr::DK_Note;
  case Severity::Warning:
    return SourceMgr::DK_Warning;
  case Severity::Error:
    return SourceMgr::DK_Error;
  }
  llvm_unreachable("bad severity");
}
} // namespace

Severity DiagnosticEngine::severityOf(DiagID Id) {
  return Table[unsigned(Id)].Sev;
}

StringRef DiagnosticEngine::groupOf(DiagID Id) {
  return Table[unsigned(Id)].Group;
}

std::string DiagnosticEngine::format(DiagID Id, ArrayRef<std::string> Args) {
  std::string Out;
  for (const char *P = Table[unsigned(Id)].Text; *P; ++P) {
    if (P[0] == '%' && P[1] >= '0' && P[1] <= '9') {
      unsigned N = unsigned(P[1] - '0');
      if (N < Args.size())
        Out += Args[N];
      ++P;
      continue;
    }
    Out += *P;
  }
  return Out;
}

void DiagnosticEngine::report(DiagID Id, SMLoc Loc, ArrayRef<std::string> Args,
                              ArrayRef<SMRange> Ranges) {
  Severity Sev = severityOf(Id);
  std::string Msg = format(Id, Args);
  StringRef Group = groupOf(Id);
  if (Sev == Severity::Warning && WarningsAsErrors)
    Sev = Severity::Error;
  if (!Group.empty())
    Msg += " [-W" + Group.str() + "]";
  if (Sev == Severity::Error)
    ++NumErrors;
  else if (Sev == Severity::Warning)
    ++NumWarnings;
  SM.PrintMessage(OS, Loc, kindOf(Sev), Msg, Ranges, {}, /*ShowColors=*/false);
}

void DiagnosticEngine::reportNoLoc(DiagID Id, ArrayRef<std::string> Args) {
  report(Id, SMLoc(), Args);
}

StringRef ipec::suggestName(StringRef Name, ArrayRef<StringRef> Candidates) {
  StringRef Best;
  unsigned BestDist = ~0u;
  // Allow roughly one edit in three characters, as clang's typo correction.
  unsigned Limit = std::max<unsigned>(1, (Name.size() + 2) / 3);
  for (StringRef C : Candidates) {
    unsigned D = Name.edit_distance(C, /*AllowReplacements=*/true, Limit);
    if (D <= Limit && D < BestDist) {
      Best = C;
      BestDist = D;
    }
  }
  return Best;
}
