#include "sync/delta_cache.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "common/version.h"
#include "delta/format.h"

namespace outpost::sync {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "outpost-delta-cache 1";
constexpr std::string_view kSuffix = ".delta";
constexpr size_t kMaxHeaderBytes = 4096;
constexpr auto kStaleTemp = std::chrono::hours(1);

// Passes bytes on to `out` while hashing and counting them.
class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer& out) : out_(out) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    sha_.Update(data, n);
    count_ += n;
    out_.Write(data, n);
  }
  Digest Finish() { return sha_.Finish(); }
  uint64_t count() const { return count_; }

 private:
  Writer& out_;
  Sha256 sha_;
  uint64_t count_ = 0;
};

// The payload's digest and length as an entry's third line: "sha256:<hex> <length>".
std::string PayloadLine(const fs::path& payload) {
  FileReader in(payload);
  NullWriter sink;
  HashingWriter hashing(sink);
  Copy(in, hashing);
  uint64_t length = hashing.count();
  return hashing.Finish().str() + " " + std::to_string(length);
}

// Splits the first three lines off `head`; false when it has fewer.
bool SplitHeader(std::string_view head, std::string_view lines[3], size_t* payload_start) {
  size_t at = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = head.find('\n', at);
    if (end == std::string_view::npos) return false;
    lines[i] = head.substr(at, end - at);
    at = end + 1;
  }
  *payload_start = at;
  return true;
}

// The entry's payload, streamed to `out` and checked; false for anything but a whole, matching
// entry. Throws only what opening the file or `out` throws.
bool ReadEntry(const fs::path& path, const std::string& key_text, Writer& out) {
  FileReader in(path);
  std::string head(kMaxHeaderBytes, '\0');
  head.resize(ReadUpTo(in, reinterpret_cast<uint8_t*>(head.data()), head.size()));
  std::string_view lines[3];
  size_t start = 0;
  if (!SplitHeader(head, lines, &start) || lines[0] != kMagic || lines[1] != key_text) return false;
  size_t space = lines[2].find(' ');
  if (space == std::string_view::npos) return false;
  std::optional<Digest> digest;
  try {
    digest = Digest::Parse(std::string(lines[2].substr(0, space)));
  } catch (const Error&) {
    return false;
  }
  std::string_view length_text = lines[2].substr(space + 1);
  uint64_t length = 0;
  auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc() || end != length_text.data() + length_text.size()) return false;
  HashingWriter hashing(out);
  hashing.Write(reinterpret_cast<const uint8_t*>(head.data()) + start, head.size() - start);
  Copy(in, hashing);
  return hashing.count() == length && hashing.Finish() == *digest;
}

bool IsTemp(const fs::path& p) { return p.filename().string().starts_with("."); }

}  // namespace

std::string DeltaKey::Text() const {
  return "base " + base.str() + " target " + target.str() + " method " + std::string(protocol::MethodName(method)) +
         " options " + options;
}

std::string EncoderFingerprint(const delta::EncodeOptions& o) {
  const char* elf_env = std::getenv("OUTPOST_DELTA_ELF_REFS");
  bool elf_refs = o.model_elf_refs && !(elf_env && std::string_view(elf_env) == "0");
  return "delta-format " + std::to_string(delta::format::kVersion) + " outpost " + std::string(kVersion) + " zstd " +
         std::to_string(o.zstd_level) + " bsdiff " + (o.try_bsdiff ? "1" : "0") + " inner-gzip " +
         (o.open_inner_gzip ? "1" : "0") + " elf-refs " + (elf_refs ? "1" : "0") + " window " +
         std::to_string(o.window_bytes);
}

fs::path DirDeltaCache::EntryPath(const DeltaKey& key) const {
  std::string hex = Digest::Of(key.Text()).hex();
  return dir_ / hex.substr(0, 2) / (hex + std::string(kSuffix));
}

bool DirDeltaCache::Fetch(const DeltaKey& key, Writer& out) {
  fs::path path = EntryPath(key);
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  bool good = false;
  try {
    good = ReadEntry(path, key.Text(), out);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound && e.kind() != Error::Kind::kIO) throw;  // `out` failed
    return false;  // evicted meanwhile, or unreadable
  }
  if (!good) {
    fs::remove(path, ec);  // damaged: the next Store replaces it
    return false;
  }
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // used now (LRU)
  return true;
}

void DirDeltaCache::Store(const DeltaKey& key, const fs::path& payload) {
  fs::path path = EntryPath(key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw IOError("delta cache: cannot create ", path.parent_path().string(), ": ", ec.message());
  std::string header = std::string(kMagic) + "\n" + key.Text() + "\n" + PayloadLine(payload) + "\n";
  if (header.size() > kMaxHeaderBytes) throw InvalidArgument("delta cache: key too long: ", key.Text());
  AtomicFile file(path);
  file.Write(header);
  FileReader in(payload);
  Copy(in, file);
  file.Commit();
  Evict(path);
}

uint64_t DirDeltaCache::TotalBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !IsTemp(it->path())) total += it->file_size(ec);
  }
  return total;
}

void DirDeltaCache::Evict(const fs::path& keep) const {
  struct Entry {
    fs::file_time_type used;
    fs::path path;
    uint64_t bytes;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec)) continue;
    fs::file_time_type used = it->last_write_time(entry_ec);
    if (entry_ec) continue;
    if (IsTemp(it->path())) {
      if (now - used > kStaleTemp) fs::remove(it->path(), entry_ec);  // a killed writer's
      continue;
    }
    entries.push_back({used, it->path(), it->file_size(entry_ec)});
    total += entries.back().bytes;
  }
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= max_bytes_) break;
    if (e.path == keep) continue;
    if (fs::remove(e.path, ec)) total -= e.bytes;
  }
}

}  // namespace outpost::sync
