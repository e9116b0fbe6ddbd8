// What the hub learns about layers, kept across runs: the recipe proven for a blob (one full
// compression to find) and the entry index of a tar (a full decompression and hash to build).
// A diff against layers the hub has seen before then costs neither.
//
// A recipe entry says "the recipe R rebuilds the blob B, bit for bit, from the tar whose sha256
// is D"; the probe proved it by recompressing the whole tar. An index entry says "the tar whose
// sha256 is D has these entries". The cache is the hub's own state, trusted like its blob store:
// a diff that uses a cached recipe proves its delta by the rebuilt tar's diffID only, and the far
// side still verifies every blob digest. Format: docs/recipe-format.md ("Hub cache").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "delta/layer_delta.h"

namespace outpost::sync {

class LayerCache {
 public:
  // A cache kept in `dir` (created on the first Store). An empty path makes a cache that holds
  // nothing and stores nothing.
  explicit LayerCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The recipe stored for `blob` when its entry also names `diff_id`. Absent, unreadable or
  // damaged entries, and entries for another diffID, read as "not cached": the caller probes.
  std::optional<std::string> FindRecipe(const Digest& blob, const Digest& diff_id) const;
  // Records that `recipe` rebuilds `blob` from the tar `diff_id` (atomically: a crash leaves the
  // old entry or none). Throws IOError when the entry cannot be written (read-only or full disk);
  // callers treat that as a warning, since the cache only saves time.
  void StoreRecipe(const Digest& blob, const Digest& diff_id, std::string_view recipe) const;

  // The index stored for the tar `diff_id`; nullopt like FindRecipe (a damaged entry included).
  std::optional<delta::TarIndex> FindIndex(const Digest& diff_id) const;
  // Records the index of the tar `diff_id` (which must be index.tar_digest). Throws like
  // StoreRecipe.
  void StoreIndex(const delta::TarIndex& index) const;

  // The default cache directory: $XDG_CACHE_HOME/outpost, else $HOME/.cache/outpost; empty (no
  // cache) when neither is set.
  static std::filesystem::path DefaultDir();

 private:
  void Write(const std::filesystem::path& path, std::string_view bytes) const;

  std::filesystem::path dir_;
};

}  // namespace outpost::sync
