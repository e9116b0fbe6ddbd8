// The hub's layer-delta cache: a delta encoded once for (base layer, target layer, method,
// encoder options) is kept and reused, so a fleet of sites on the same version costs one
// computation per changed layer (docs/hub-state.md, "Delta cache").
//
// The diff asks the cache through DiffOptions::delta_cache, an interface: the engine knows
// nothing of where entries live, and a caller without a cache passes nothing. A cached payload
// is the very bytes the encoder wrote, so a bundle is byte-identical with and without the cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/digest.h"
#include "common/io.h"
#include "delta/layer_delta.h"
#include "protocol/bundle.h"

namespace outpost::sync {

// What a delta payload depends on: the base and target layers (blob digests), how it was
// encoded (kTarDelta or kRawDelta), and every encoder option that changes its bytes.
struct DeltaKey {
  Digest base;
  Digest target;
  protocol::Method method = protocol::Method::kTarDelta;
  std::string options;  // EncoderFingerprint(...)

  // "base sha256:<hex> target sha256:<hex> method tar-delta options <options>": one line.
  std::string Text() const;
};

// The encoder options that change a delta's bytes, with the delta format and outpost versions,
// as one line ("delta-format 3 outpost 0.9.0 zstd 17 bsdiff 1 inner-gzip 1 elf-refs 1 window N").
// Reads OUTPOST_DELTA_ELF_REFS as the encoder does.
std::string EncoderFingerprint(const delta::EncodeOptions& options);

class DeltaCache {
 public:
  virtual ~DeltaCache() = default;
  // Writes the payload stored for `key` to `out` and returns true; false when there is none or
  // it is damaged (then `out` may hold part of it: the caller discards it). Never throws for a
  // bad entry; throws what `out` throws.
  virtual bool Fetch(const DeltaKey& key, Writer& out) = 0;
  // Keeps the payload in the file `payload` for `key`. Throws IOError when it cannot (the caller
  // treats that as a warning: the cache only saves time).
  virtual void Store(const DeltaKey& key, const std::filesystem::path& payload) = 0;
};

// A DeltaCache in a directory: one file per entry, written atomically, checked against its
// sha256 on every read, the least recently used evicted beyond `max_bytes`. Thread-safe and
// safe to share between processes (each write is a rename; a reader sees a whole entry or none).
class DirDeltaCache : public DeltaCache {
 public:
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{10} << 30;  // 10 GiB

  // Entries under `dir` (created on the first Store).
  explicit DirDeltaCache(std::filesystem::path dir, uint64_t max_bytes = kDefaultMaxBytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  // A hit marks the entry used now (its mtime), for eviction. A damaged entry is removed.
  bool Fetch(const DeltaKey& key, Writer& out) override;
  // Writes the entry, then evicts the least recently used entries (by mtime) until the entries
  // total at most max_bytes (the new one is kept even when it alone is larger). Leftover temp
  // files of a killed writer older than an hour go too.
  void Store(const DeltaKey& key, const std::filesystem::path& payload) override;

  // The entry file for `key`: DIR/<first two hex digits>/<sha256 hex of key.Text()>.delta.
  std::filesystem::path EntryPath(const DeltaKey& key) const;
  // The bytes of every entry file now.
  uint64_t TotalBytes() const;

 private:
  void Evict(const std::filesystem::path& keep) const;

  std::filesystem::path dir_;
  uint64_t max_bytes_;
};

}  // namespace outpost::sync
