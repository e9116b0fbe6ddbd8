// Recipes proven once, kept across runs: the hub probes a blob's recipe (one full compression)
// the first time it sees the blob and reads it back afterwards, so a diff against a layer it has
// seen costs no compression at all.
//
// An entry says "the recipe R rebuilds the blob B, bit for bit, from the tar whose sha256 is D";
// the probe proved it by recompressing the whole tar. The cache is the hub's own state, trusted
// like its blob store: a diff that uses a cached recipe proves its delta by the rebuilt tar's
// diffID only, and the far side still verifies every blob digest. The format is in
// docs/recipe-format.md ("Recipe cache").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"

namespace outpost::hub {

class RecipeCache {
 public:
  // A cache kept in `dir` (created on the first Store). An empty path makes a cache that holds
  // nothing and stores nothing.
  explicit RecipeCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The recipe stored for `blob` when its entry also names `diff_id`. Absent, unreadable or
  // damaged entries, and entries for another diffID, read as "not cached": the caller probes.
  std::optional<std::string> Find(const Digest& blob, const Digest& diff_id) const;

  // Records that `recipe` rebuilds `blob` from the tar `diff_id` (atomically: a crash leaves the
  // old entry or none). Throws IOError when the entry cannot be written (read-only or full disk);
  // callers treat that as a warning, since the cache only saves time.
  void Store(const Digest& blob, const Digest& diff_id, std::string_view recipe) const;

  // The default cache directory: $XDG_CACHE_HOME/outpost/recipes, else
  // $HOME/.cache/outpost/recipes; empty (no cache) when neither is set.
  static std::filesystem::path DefaultDir();

 private:
  std::filesystem::path EntryPath(const Digest& blob) const;

  std::filesystem::path dir_;
};

}  // namespace outpost::hub
