#include "hub/recipe_cache.h"

#include <cstdlib>

#include "common/error.h"
#include "common/file.h"

namespace outpost::hub {
namespace {

constexpr std::string_view kMagic = "outpost-recipe-cache 1\n";
constexpr std::string_view kDiffId = "diff_id ";
constexpr std::string_view kRecipe = "recipe ";
constexpr size_t kMaxEntryBytes = 4096;

// The text after `key` on the line starting at `*at`; advances `*at` past the line.
std::optional<std::string_view> Field(std::string_view text, size_t* at, std::string_view key) {
  if (text.substr(*at, key.size()) != key) return std::nullopt;
  size_t end = text.find('\n', *at);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view value = text.substr(*at + key.size(), end - *at - key.size());
  *at = end + 1;
  return value;
}

}  // namespace

std::filesystem::path RecipeCache::EntryPath(const Digest& blob) const { return dir_ / "sha256" / blob.hex(); }

std::optional<std::string> RecipeCache::Find(const Digest& blob, const Digest& diff_id) const {
  if (dir_.empty()) return std::nullopt;
  std::string text;
  try {
    text = ReadFileToString(EntryPath(blob), kMaxEntryBytes);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (text.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  size_t at = kMagic.size();
  std::optional<std::string_view> d = Field(text, &at, kDiffId);
  std::optional<std::string_view> r = Field(text, &at, kRecipe);
  if (!d || !r || at != text.size() || *d != diff_id.str()) return std::nullopt;
  return std::string(*r);
}

void RecipeCache::Store(const Digest& blob, const Digest& diff_id, std::string_view recipe) const {
  if (dir_.empty()) return;
  if (recipe.find('\n') != std::string_view::npos) throw InvalidArgument("a recipe is one line");
  std::error_code ec;
  std::filesystem::create_directories(dir_ / "sha256", ec);
  if (ec) throw IOError("cannot create the recipe cache ", (dir_ / "sha256").string(), ": ", ec.message());
  std::string text(kMagic);
  text.append(kDiffId).append(diff_id.str()).append("\n");
  text.append(kRecipe).append(recipe).append("\n");
  WriteFileAtomic(EntryPath(blob), text);
}

std::filesystem::path RecipeCache::DefaultDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "outpost" / "recipes";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "outpost" / "recipes";
  return {};
}

}  // namespace outpost::hub
