// TarIndex::Build and Similarity (declared in layer_delta.h).
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "delta/layer_delta.h"
#include "delta/varint.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

// Hashes the current entry's remaining content.
Digest HashContent(tar::Reader& tar, uint8_t* buf) {
  Sha256 sha;
  for (size_t got; (got = tar.ReadData(buf, kChunkBytes)) > 0;) sha.Update(buf, got);
  return sha.Finish();
}

}  // namespace

TarIndex TarIndex::Build(outpost::Reader& in) {
  HashingReader hashing(in);
  tar::Reader tar(hashing);
  auto buf = std::make_unique<uint8_t[]>(kChunkBytes);
  TarIndex index;
  tar::Entry e;
  uint64_t previous_size = 0;
  while (tar.Next(&e)) {
    TarIndexEntry entry;
    entry.name = e.name;
    entry.type = e.type;
    entry.size = e.size;
    entry.header_offset = e.offset + (tar::kBlockSize - previous_size % tar::kBlockSize) % tar::kBlockSize;
    entry.data_offset = e.data_offset;
    if (e.size > 0) entry.content = HashContent(tar, buf.get());
    previous_size = e.size;
    index.entries.push_back(std::move(entry));
  }
  while (tar.ReadTrailer(buf.get(), kChunkBytes) > 0) {
  }
  index.tar_size = hashing.count();
  index.tar_digest = hashing.Finish();
  return index;
}

std::string TarIndex::Serialize() const {
  std::string out;
  PutVarint(&out, tar_size);
  PutDigest(&out, tar_digest);
  PutVarint(&out, entries.size());
  for (const TarIndexEntry& e : entries) {
    PutBytes(&out, e.name);
    out.push_back(e.type);
    PutVarint(&out, e.size);
    PutVarint(&out, e.header_offset);
    PutVarint(&out, e.data_offset - e.header_offset);
    if (e.size > 0) PutDigest(&out, e.content);
  }
  return out;
}

TarIndex TarIndex::Parse(std::string_view in) {
  constexpr std::string_view kWhat = "tar index";
  TarIndex index;
  size_t pos = 0;
  index.tar_size = GetVarint(in, &pos, kWhat);
  index.tar_digest = GetDigest(in, &pos, kWhat);
  uint64_t count = GetVarint(in, &pos, kWhat);
  if (count > in.size()) throw Corruption(kWhat, " has a bad entry count");
  uint64_t end = 0;  // where the previous entry's content ends
  for (uint64_t i = 0; i < count; ++i) {
    TarIndexEntry e;
    e.name = std::string(GetBytes(in, &pos, kWhat));
    if (pos >= in.size()) throw Corruption(kWhat, " is truncated");
    e.type = in[pos++];
    e.size = GetVarint(in, &pos, kWhat);
    e.header_offset = GetVarint(in, &pos, kWhat);
    uint64_t header_len = GetVarint(in, &pos, kWhat);
    e.data_offset = e.header_offset + header_len;
    if (e.header_offset < end || header_len > index.tar_size || e.data_offset > index.tar_size ||
        e.size > index.tar_size - e.data_offset) {
      throw Corruption(kWhat, ": entry ", std::to_string(i), " lies outside the tar or out of order");
    }
    end = e.data_offset + e.size;
    if (e.size > 0) e.content = GetDigest(in, &pos, kWhat);
    index.entries.push_back(std::move(e));
  }
  if (pos != in.size()) throw Corruption(kWhat, " has trailing bytes");
  return index;
}

double Similarity(const TarIndex& base, const TarIndex& target) {
  std::unordered_set<Digest> contents;
  std::unordered_set<std::string> names;
  for (const TarIndexEntry& e : base.entries) {
    if (e.size > 0) contents.insert(e.content);
    names.insert(e.name);
  }
  double total = 0, score = 0;
  for (const TarIndexEntry& e : target.entries) {
    // Every entry costs at least its header block, so metadata-only layers still compare.
    double weight = static_cast<double>(e.size + tar::kBlockSize);
    total += weight;
    bool named = names.contains(e.name);
    if (e.size > 0 ? contents.contains(e.content) : named) score += weight;
    else if (named) score += weight / 2;
  }
  return total == 0 ? 0 : score / total;
}

}  // namespace outpost::delta
