#include "sync/layer_cache.h"

#include <cstdlib>

#include "common/error.h"
#include "common/file.h"

namespace outpost::sync {
namespace {

constexpr std::string_view kRecipeMagic = "outpost-recipe-cache 1\n";
constexpr std::string_view kIndexMagic = "outpost-tar-index 1\n";
constexpr std::string_view kDiffId = "diff_id ";
constexpr std::string_view kRecipe = "recipe ";
constexpr size_t kMaxRecipeEntryBytes = 4096;
constexpr size_t kMaxIndexEntryBytes = 256 << 20;

// The text after `key` on the line starting at `*at`; advances `*at` past the line.
std::optional<std::string_view> Field(std::string_view text, size_t* at, std::string_view key) {
  if (text.substr(*at, key.size()) != key) return std::nullopt;
  size_t end = text.find('\n', *at);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view value = text.substr(*at + key.size(), end - *at - key.size());
  *at = end + 1;
  return value;
}

// The file's bytes after `magic`, or nullopt when it is absent, too large or another format.
std::optional<std::string> ReadEntry(const std::filesystem::path& path, std::string_view magic, size_t limit) {
  std::string bytes;
  try {
    bytes = ReadFileToString(path, limit);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (bytes.substr(0, magic.size()) != magic) return std::nullopt;
  return bytes.substr(magic.size());
}

}  // namespace

std::optional<std::string> LayerCache::FindRecipe(const Digest& blob, const Digest& diff_id) const {
  if (dir_.empty()) return std::nullopt;
  std::optional<std::string> text = ReadEntry(dir_ / "recipes" / "sha256" / blob.hex(), kRecipeMagic, kMaxRecipeEntryBytes);
  if (!text) return std::nullopt;
  size_t at = 0;
  std::optional<std::string_view> d = Field(*text, &at, kDiffId);
  std::optional<std::string_view> r = Field(*text, &at, kRecipe);
  if (!d || !r || at != text->size() || *d != diff_id.str()) return std::nullopt;
  return std::string(*r);
}

void LayerCache::StoreRecipe(const Digest& blob, const Digest& diff_id, std::string_view recipe) const {
  if (recipe.find('\n') != std::string_view::npos) throw InvalidArgument("a recipe is one line");
  std::string text(kRecipeMagic);
  text.append(kDiffId).append(diff_id.str()).append("\n");
  text.append(kRecipe).append(recipe).append("\n");
  Write(dir_ / "recipes" / "sha256" / blob.hex(), text);
}

std::optional<delta::TarIndex> LayerCache::FindIndex(const Digest& diff_id) const {
  if (dir_.empty()) return std::nullopt;
  std::optional<std::string> bytes = ReadEntry(dir_ / "tar-index" / "sha256" / diff_id.hex(), kIndexMagic, kMaxIndexEntryBytes);
  if (!bytes) return std::nullopt;
  try {
    delta::TarIndex index = delta::TarIndex::Parse(*bytes);
    if (index.tar_digest != diff_id) return std::nullopt;
    return index;
  } catch (const Error&) {
    return std::nullopt;
  }
}

void LayerCache::StoreIndex(const delta::TarIndex& index) const {
  Write(dir_ / "tar-index" / "sha256" / index.tar_digest.hex(), std::string(kIndexMagic) + index.Serialize());
}

void LayerCache::Write(const std::filesystem::path& path, std::string_view bytes) const {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw IOError("cannot create the cache directory ", path.parent_path().string(), ": ", ec.message());
  WriteFileAtomic(path, bytes);
}

std::filesystem::path LayerCache::DefaultDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "outpost";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "outpost";
  return {};
}

}  // namespace outpost::sync
