//===- Bytecode.cpp - Serialize an ipevm module ---------------------------===//

#include "ipec/Bytecode.h"

#include "llvm/ADT/StringMap.h"

#include <cassert>

using namespace ipec;
using namespace ipec::bc;

namespace {

/// Little-endian byte sink.
class Writer {
public:
  std::vector<uint8_t> Bytes;

  void u8(uint8_t V) { Bytes.push_back(V); }
  void u16(uint16_t V) {
    u8(V & 0xff);
    u8(V >> 8);
  }
  void u32(uint32_t V) {
    u16(V & 0xffff);
    u16(V >> 16);
  }
  void bytes(const std::vector<uint8_t> &V) {
    Bytes.insert(Bytes.end(), V.begin(), V.end());
  }
  void align4() {
    while (Bytes.size() % 4)
      u8(0);
  }
  uint32_t size() const { return uint32_t(Bytes.size()); }
  void patch32(size_t At, uint32_t V) {
    for (int I = 0; I < 4; ++I)
      Bytes[At + I] = uint8_t(V >> (8 * I));
  }
};

/// Interns strings in order of first use, so the layout is deterministic.
class StringTable {
public:
  struct Ref {
    uint32_t Off, Len;
  };
  Ref intern(const std::string &S) {
    auto [It, Inserted] = Offsets.try_emplace(S, uint32_t(Data.size()));
    if (Inserted)
      Data.insert(Data.end(), S.begin(), S.end());
    return {It->second, uint32_t(S.size())};
  }
  std::vector<uint8_t> Data;

private:
  llvm::StringMap<uint32_t> Offsets;
};

void writeStr(Writer &W, StringTable::Ref R) {
  W.u32(R.Off);
  W.u32(R.Len);
}

} // namespace

std::vector<uint8_t> bc::serialize(const Module &M) {
  StringTable Strings;
  StringTable::Ref NameRef = Strings.intern(M.Name);
  std::vector<StringTable::Ref> AlgRefs;
  for (const Table &T : M.Tables)
    AlgRefs.push_back(Strings.intern(T.Alg));
  std::vector<std::pair<StringTable::Ref, StringTable::Ref>> SrcRefs;
  for (const SourceLocation &L : M.SourceMap)
    SrcRefs.push_back({Strings.intern(L.File), Strings.intern(L.Text)});

  // Section payloads, each built on its own so offsets are section-relative.
  Writer Entry;
  for (uint32_t E : M.Entry)
    Entry.u32(E);

  Writer Code;
  for (const Insn &I : M.Code) {
    Code.u8(I.Code);
    Code.u8(I.A);
    Code.u16(I.B);
    Code.u32(I.X);
    Code.u32(I.Y);
  }

  Writer Tables;
  Tables.u32(uint32_t(M.Tables.size()));
  size_t DescStart = Tables.size();
  for (size_t I = 0; I < M.Tables.size(); ++I)
    for (int J = 0; J < IPEVM_TABLE_SIZE / 4; ++J)
      Tables.u32(0);
  for (size_t I = 0; I < M.Tables.size(); ++I) {
    const Table &T = M.Tables[I];
    uint32_t KeysOff = Tables.size();
    for (const auto &K : T.Keys) {
      assert(K.size() == T.KeyLen && "key length differs from table");
      Tables.bytes(K);
    }
    Tables.align4();
    uint32_t ValsOff = 0;
    if (!T.Values.empty()) {
      ValsOff = Tables.size();
      for (uint32_t V : T.Values)
        Tables.u32(V);
    }
    size_t D = DescStart + I * IPEVM_TABLE_SIZE;
    uint32_t Desc[8] = {AlgRefs[I].Off,
                        AlgRefs[I].Len,
                        T.KeyLen,
                        uint32_t(T.Keys.size()),
                        KeysOff,
                        ValsOff,
                        T.Values.empty() ? 0 : T.Owner,
                        T.Values.empty()
                            ? 0u
                            : IPEVM_TF_VALUED | (T.Rules ? IPEVM_TF_RULES : 0) |
                                  (T.Actions ? IPEVM_TF_ACTIONS : 0)};
    for (int J = 0; J < 8; ++J)
      Tables.patch32(D + 4 * J, Desc[J]);
  }

  Writer SrcMap;
  for (size_t I = 0; I < M.SourceMap.size(); ++I) {
    writeStr(SrcMap, SrcRefs[I].first);
    SrcMap.u32(M.SourceMap[I].Line);
    SrcMap.u32(M.SourceMap[I].Column);
    writeStr(SrcMap, SrcRefs[I].second);
  }

  struct Section {
    uint32_t Id;
    const std::vector<uint8_t> *Data;
  };
  std::vector<Section> Sections = {{IPEVM_SEC_STRTAB, &Strings.Data},
                                   {IPEVM_SEC_ENTRY, &Entry.Bytes},
                                   {IPEVM_SEC_CODE, &Code.Bytes},
                                   {IPEVM_SEC_TABLES, &Tables.Bytes}};
  if (!M.SourceMap.empty())
    Sections.push_back({IPEVM_SEC_SRCMAP, &SrcMap.Bytes});
  std::vector<uint8_t> Source(M.Source.begin(), M.Source.end());
  if (!Source.empty())
    Sections.push_back({IPEVM_SEC_SOURCE, &Source});

  Writer Out;
  Out.u8(IPEVM_MAGIC0);
  Out.u8(IPEVM_MAGIC1);
  Out.u8(IPEVM_MAGIC2);
  Out.u8(IPEVM_MAGIC3);
  Out.u16(IPEVM_FORMAT_VERSION);
  Out.u16(IPEVM_HEADER_SIZE);
  for (uint16_t V : M.Version)
    Out.u16(V);
  Out.u16(0); // reserved0
  Out.u32(0); // flags
  size_t TotalSizeAt = Out.size();
  Out.u32(0); // total_size, patched below
  Out.u32(uint32_t(Sections.size()));
  writeStr(Out, NameRef);
  Out.u32(M.RuleCount);
  Out.u32(0); // reserved1
  assert(Out.size() == IPEVM_HEADER_SIZE);

  uint32_t Offset = IPEVM_HEADER_SIZE + Sections.size() * IPEVM_SECTION_SIZE;
  for (const Section &S : Sections) {
    Out.u32(S.Id);
    Out.u32(Offset);
    Out.u32(uint32_t(S.Data->size()));
    Out.u32(0);
    Offset += (S.Data->size() + 3) & ~size_t(3);
  }
  for (const Section &S : Sections) {
    Out.bytes(*S.Data);
    Out.align4();
  }
  Out.patch32(TotalSizeAt, Out.size());
  return std::move(Out.Bytes);
}
