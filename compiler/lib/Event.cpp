//===- Event.cpp ----------------------------------------------------------===//

#include "ipec/Event.h"
#include "ipec/IR/Policy.h"

#include "llvm/ADT/StringExtras.h"

using namespace ipec;
using namespace llvm;

/// Accepts IPL spellings (fsverity.digest) and upstream ones
/// (fsverity_digest), and has_file for file.
static std::optional<unsigned> propFromCommandLine(StringRef Name) {
  std::string N = Name.str();
  if (N == "has_file")
    N = "file";
  for (StringRef Prefix : {"fsverity_", "dmverity_"})
    if (StringRef(N).startswith(Prefix))
      N[Prefix.size() - 1] = '.';
  return ir::propByName(N);
}

Expected<EventSpec> EventSpec::parse(StringRef OpName,
                                     ArrayRef<std::string> Props) {
  EventSpec S;
  auto Op = ir::opByName(OpName);
  if (!Op)
    return createStringError(std::errc::invalid_argument,
                             "unknown operation '%s'", OpName.str().c_str());
  S.Op = *Op;
  bool SawFileProp = false;
  for (StringRef P : Props) {
    auto [Name, Value] = P.split('=');
    if (Value.empty() && !P.contains('='))
      return createStringError(std::errc::invalid_argument,
                               "expected NAME=VALUE, got '%s'",
                               P.str().c_str());
    auto Prop = propFromCommandLine(Name);
    if (!Prop)
      return createStringError(std::errc::invalid_argument,
                               "unknown property '%s'", Name.str().c_str());
    if (*Prop != IPEVM_PROP_HAS_FILE)
      SawFileProp = true;
    if (ipevm_prop_is_digest(*Prop)) {
      auto [Alg, Hex] = Value.split(':');
      std::string Bytes;
      if (Alg.empty() || !Value.contains(':') || Hex.size() % 2 ||
          !tryGetFromHex(Hex, Bytes))
        return createStringError(std::errc::invalid_argument,
                                 "property '%s' needs ALG:HEX, got '%s'",
                                 Name.str().c_str(), Value.str().c_str());
      DigestValue &D = S.Digests[*Prop - IPEVM_PROP_FIRST_DIGEST];
      D.Present = true;
      D.Alg = Alg.str();
      D.Bytes.assign(Bytes.begin(), Bytes.end());
      continue;
    }
    std::string V = Value.lower();
    bool B;
    if (V == "true" || V == "1")
      B = true;
    else if (V == "false" || V == "0")
      B = false;
    else
      return createStringError(std::errc::invalid_argument,
                               "property '%s' needs true or false, got '%s'",
                               Name.str().c_str(), Value.str().c_str());
    if (B)
      S.Bools |= 1u << *Prop;
    else
      S.Bools &= ~(1u << *Prop);
  }
  if (!(S.Bools & (1u << IPEVM_PROP_HAS_FILE)) && SawFileProp)
    for (unsigned P = 0; P < IPEVM_PROP_COUNT; ++P) {
      bool Set = ipevm_prop_is_digest(P)
                     ? S.Digests[P - IPEVM_PROP_FIRST_DIGEST].Present
                     : P != IPEVM_PROP_HAS_FILE && P != IPEVM_PROP_WRITABLE &&
                           (S.Bools & (1u << P));
      if (Set)
        return createStringError(std::errc::invalid_argument,
                                 "an event with file=false cannot have '%s'",
                                 ir::propName(P).str().c_str());
    }
  return S;
}

ipevm_event EventSpec::event() const {
  ipevm_event E{};
  E.op = Op;
  E.have = (1u << IPEVM_PROP_COUNT) - 1;
  E.bools = Bools;
  for (unsigned I = 0; I < IPEVM_DIGEST_PROPS; ++I) {
    const DigestValue &D = Digests[I];
    if (!D.Present)
      continue;
    E.digest[I].alg = reinterpret_cast<const u8 *>(D.Alg.data());
    E.digest[I].alg_len = u32(D.Alg.size());
    E.digest[I].bytes = D.Bytes.data();
    E.digest[I].len = u32(D.Bytes.size());
  }
  return E;
}
