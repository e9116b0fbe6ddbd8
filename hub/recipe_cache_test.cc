#include "hub/recipe_cache.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"

namespace outpost::hub {
namespace {

const Digest kBlob = Digest::Of("blob");
const Digest kDiffId = Digest::Of("tar");
constexpr std::string_view kRecipe = "v1 gzip hdr=1f8b08000000000000ff deflate=go:6";

TEST(RecipeCacheTest, StoredRecipeIsFoundForItsBlobAndDiffId) {
  TempDir dir;
  RecipeCache cache(dir.path() / "recipes");
  EXPECT_FALSE(cache.Find(kBlob, kDiffId));
  cache.Store(kBlob, kDiffId, kRecipe);
  EXPECT_EQ(cache.Find(kBlob, kDiffId), std::string(kRecipe));
  EXPECT_EQ(RecipeCache(dir.path() / "recipes").Find(kBlob, kDiffId), std::string(kRecipe));
}

TEST(RecipeCacheTest, EntryForAnotherDiffIdIsNotCached) {
  TempDir dir;
  RecipeCache cache(dir.path());
  cache.Store(kBlob, kDiffId, kRecipe);
  EXPECT_FALSE(cache.Find(kBlob, Digest::Of("other tar")));
  EXPECT_FALSE(cache.Find(Digest::Of("other blob"), kDiffId));
}

TEST(RecipeCacheTest, DamagedEntryReadsAsNotCached) {
  TempDir dir;
  RecipeCache cache(dir.path());
  cache.Store(kBlob, kDiffId, kRecipe);
  std::filesystem::path entry = dir.path() / "sha256" / kBlob.hex();
  std::string good = ReadFileToString(entry);
  WriteFileAtomic(entry, good.substr(0, good.size() - 1));  // last newline lost
  EXPECT_FALSE(cache.Find(kBlob, kDiffId));
  WriteFileAtomic(entry, "outpost-recipe-cache 2\n" + good.substr(good.find('\n') + 1));
  EXPECT_FALSE(cache.Find(kBlob, kDiffId));
  WriteFileAtomic(entry, good + "trailing\n");
  EXPECT_FALSE(cache.Find(kBlob, kDiffId));
}

TEST(RecipeCacheTest, EmptyPathCachesNothing) {
  RecipeCache cache{std::filesystem::path()};
  cache.Store(kBlob, kDiffId, kRecipe);
  EXPECT_FALSE(cache.Find(kBlob, kDiffId));
}

TEST(RecipeCacheTest, UnwritableCacheIsAnIOError) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "recipes", "a file where the cache directory should be");
  RecipeCache cache(dir.path() / "recipes");
  try {
    cache.Store(kBlob, kDiffId, kRecipe);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kIO);
  }
}

}  // namespace
}  // namespace outpost::hub
