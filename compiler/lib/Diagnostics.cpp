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

static bool isWarningGroup(StringRef Group) {
  for (const DiagInfo &D : Table)
    if (D.Sev == Severity::Warning && Group == D.Group)
      return true;
  return false;
}

Error DiagnosticEngine::applyWarningOption(StringRef Option) {
  if (Option == "error") {
    WarningsAsErrors = true;
    return Error::success();
  }
  if (Option == "no-error") {
    WarningsAsErrors = false;
    return Error::success();
  }
  StringRef Group = Option;
  StringSet<> *Into = nullptr;
  if (Group.consume_front("error="))
    Into = &AsErrors;
  else if (Group.consume_front("no-error="))
    Into = &NotErrors;
  else if (Group.consume_front("no-"))
    Into = &Disabled;
  if (!isWarningGroup(Group))
    return createStringError(std::errc::invalid_argument,
                             "unknown warning option '-W%s'",
                             Option.str().c_str());
  if (Into)
    Into->insert(Group);
  else
    Disabled.erase(Group);
  return Error::success();
}

void DiagnosticEngine::report(DiagID Id, SMLoc Loc, ArrayRef<std::string> Args,
                              ArrayRef<SMRange> Ranges) {
  if (Holding) {
    Held.push_back({Id, Loc, std::vector<std::string>(Args.begin(), Args.end()),
                    SmallVector<SMRange, 1>(Ranges.begin(), Ranges.end()),
                    Context});
    return;
  }
  Severity Sev = severityOf(Id);
  StringRef Group = groupOf(Id);
  if (Sev == Severity::Note) {
    if (!ShowNotes)
      return;
  } else {
    ShowNotes = false;
    if (Sev == Severity::Warning && Disabled.count(Group))
      return;
    if (Sev == Severity::Warning &&
        (AsErrors.count(Group) || (WarningsAsErrors && !NotErrors.count(Group))))
      Sev = Severity::Error;
    if (Sev == Severity::Error)
      ++NumErrors;
    else
      ++NumWarnings;
    if (!LimitReached && ErrorLimit && NumErrors > ErrorLimit) {
      LimitReached = true;
      std::string Stop = "too many errors emitted, stopping now "
                         "[-ferror-limit=" +
                         std::to_string(ErrorLimit) + "]";
      if (Format == DiagnosticFormat::JSON)
        emitJSON(Severity::Error, "", SMLoc(), Stop, {});
      else
        emitText(Severity::Error, SMLoc(), Stop, {});
    }
    if (LimitReached)
      return;
    ShowNotes = true;
  }
  std::string Msg = format(Id, Args);
  if (Format == DiagnosticFormat::JSON)
    emitJSON(Sev, Group, Loc, Msg, Ranges);
  else
    emitText(Sev, Loc, Group.empty() ? Msg : Msg + " [-W" + Group.str() + "]",
             Ranges);
  if (Sev == Severity::Note)
    return;
  for (auto It = Context.rbegin(); It != Context.rend(); ++It) {
    std::string Note = format(It->Id, It->Args);
    SmallVector<SMRange, 1> R;
    if (It->Range.isValid())
      R.push_back(It->Range);
    if (Format == DiagnosticFormat::JSON)
      emitJSON(Severity::Note, "", It->Loc, Note, R);
    else
      emitText(Severity::Note, It->Loc, Note, R);
  }
}

void DiagnosticEngine::emitText(Severity Sev, SMLoc Loc, const std::string &Msg,
                                ArrayRef<SMRange> Ranges) {
  if (!Loc.isValid()) {
    OS << "ipec: " << (Sev == Severity::Error     ? "error: "
                       : Sev == Severity::Warning ? "warning: "
                                                  : "note: ")
       << Msg << "\n";
    return;
  }
  SM.PrintMessage(OS, Loc, kindOf(Sev), Msg, Ranges, {}, /*ShowColors=*/false);
}

static json::Object position(const SourceMgr &SM, SMLoc Loc) {
  auto [Line, Col] = SM.getLineAndColumn(Loc);
  return json::Object{{"line", Line}, {"column", Col}};
}

void DiagnosticEngine::emitJSON(Severity Sev, StringRef Group, SMLoc Loc,
                                const std::string &Msg,
                                ArrayRef<SMRange> Ranges) {
  json::Object D{{"severity", Sev == Severity::Error     ? "error"
                              : Sev == Severity::Warning ? "warning"
                                                         : "note"},
                 {"message", Msg}};
  if (!Group.empty())
    D["option"] = ("-W" + Group).str();
  if (Loc.isValid()) {
    unsigned Buf = SM.FindBufferContainingLoc(Loc);
    D["file"] = SM.getMemoryBuffer(Buf)->getBufferIdentifier().str();
    json::Object Pos = position(SM, Loc);
    D["line"] = *Pos.get("line");
    D["column"] = *Pos.get("column");
    json::Array R;
    for (SMRange Range : Ranges)
      R.push_back(json::Object{{"start", position(SM, Range.Start)},
                               {"end", position(SM, Range.End)}});
    D["ranges"] = std::move(R);
    json::Array Includes;
    for (SMLoc Inc = SM.getParentIncludeLoc(Buf); Inc.isValid();
         Inc = SM.getParentIncludeLoc(SM.FindBufferContainingLoc(Inc))) {
      unsigned IB = SM.FindBufferContainingLoc(Inc);
      json::Object Pos = position(SM, Inc);
      Pos["file"] = SM.getMemoryBuffer(IB)->getBufferIdentifier().str();
      Includes.push_back(std::move(Pos));
    }
    if (!Includes.empty())
      D["included_from"] = std::move(Includes);
  }
  if (Sev == Severity::Note && Pending) {
    Pending->getArray("notes")->push_back(std::move(D));
    return;
  }
  finish();
  D["notes"] = json::Array();
  Pending = std::move(D);
}

void DiagnosticEngine::finish() {
  if (!Pending)
    return;
  OS << json::Value(std::move(*Pending)) << "\n";
  Pending.reset();
  OS.flush();
}

void DiagnosticEngine::releaseHeld() {
  Holding = false;
  std::vector<HeldDiagnostic> List = std::move(Held);
  Held.clear();
  std::vector<ContextNote> Outer = std::move(Context);
  for (HeldDiagnostic &D : List) {
    Context = std::move(D.Context);
    report(D.Id, D.Loc, D.Args, D.Ranges);
  }
  Context = std::move(Outer);
}

void DiagnosticEngine::dropHeld() {
  Holding = false;
  Held.clear();
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
