#include "sync/layer_cache.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"

namespace outpost::sync {
namespace {

const Digest kBlob = Digest::Of("blob");
const Digest kDiffId = Digest::Of("tar");
constexpr std::string_view kRecipe = "v1 gzip hdr=1f8b08000000000000ff deflate=go:6";

TEST(LayerCacheTest, StoredRecipeIsFoundForItsBlobAndDiffId) {
  TempDir dir;
  LayerCache cache(dir.path() / "recipes");
  EXPECT_FALSE(cache.FindRecipe(kBlob, kDiffId));
  cache.StoreRecipe(kBlob, kDiffId, kRecipe);
  EXPECT_EQ(cache.FindRecipe(kBlob, kDiffId), std::string(kRecipe));
  EXPECT_EQ(LayerCache(dir.path() / "recipes").FindRecipe(kBlob, kDiffId), std::string(kRecipe));
}

TEST(LayerCacheTest, EntryForAnotherDiffIdIsNotCached) {
  TempDir dir;
  LayerCache cache(dir.path());
  cache.StoreRecipe(kBlob, kDiffId, kRecipe);
  EXPECT_FALSE(cache.FindRecipe(kBlob, Digest::Of("other tar")));
  EXPECT_FALSE(cache.FindRecipe(Digest::Of("other blob"), kDiffId));
}

TEST(LayerCacheTest, DamagedEntryReadsAsNotCached) {
  TempDir dir;
  LayerCache cache(dir.path());
  cache.StoreRecipe(kBlob, kDiffId, kRecipe);
  std::filesystem::path entry = dir.path() / "recipes" / "sha256" / kBlob.hex();
  std::string good = ReadFileToString(entry);
  WriteFileAtomic(entry, good.substr(0, good.size() - 1));  // last newline lost
  EXPECT_FALSE(cache.FindRecipe(kBlob, kDiffId));
  WriteFileAtomic(entry, "outpost-recipe-cache 2\n" + good.substr(good.find('\n') + 1));
  EXPECT_FALSE(cache.FindRecipe(kBlob, kDiffId));
  WriteFileAtomic(entry, good + "trailing\n");
  EXPECT_FALSE(cache.FindRecipe(kBlob, kDiffId));
}

TEST(LayerCacheTest, EmptyPathCachesNothing) {
  LayerCache cache{std::filesystem::path()};
  cache.StoreRecipe(kBlob, kDiffId, kRecipe);
  EXPECT_FALSE(cache.FindRecipe(kBlob, kDiffId));
}

TEST(LayerCacheTest, UnwritableCacheIsAnIOError) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "recipes", "a file where the cache directory should be");
  LayerCache cache(dir.path() / "recipes");
  try {
    cache.StoreRecipe(kBlob, kDiffId, kRecipe);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kIO);
  }
}

delta::TarIndex SampleIndex() {
  delta::TarIndex index;
  index.tar_size = 2048;
  index.tar_digest = Digest::Of("a tar");
  index.entries.push_back({"etc/hosts", '0', 10, 0, 512, Digest::Of("hosts")});
  return index;
}

TEST(LayerCacheTest, StoredIndexIsFoundByItsTarDigest) {
  TempDir dir;
  LayerCache cache(dir.path());
  delta::TarIndex index = SampleIndex();
  EXPECT_FALSE(cache.FindIndex(index.tar_digest));
  cache.StoreIndex(index);
  std::optional<delta::TarIndex> back = cache.FindIndex(index.tar_digest);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->entries.size(), 1u);
  EXPECT_EQ(back->entries[0].name, "etc/hosts");
  EXPECT_EQ(back->entries[0].content, Digest::Of("hosts"));
}

TEST(LayerCacheTest, DamagedOrMisfiledIndexReadsAsNotCached) {
  TempDir dir;
  LayerCache cache(dir.path());
  delta::TarIndex index = SampleIndex();
  cache.StoreIndex(index);
  std::filesystem::path entry = dir.path() / "tar-index" / "sha256" / index.tar_digest.hex();
  std::string good = ReadFileToString(entry);
  WriteFileAtomic(entry, good.substr(0, good.size() - 3));
  EXPECT_FALSE(cache.FindIndex(index.tar_digest));
  std::filesystem::path other = dir.path() / "tar-index" / "sha256" / Digest::Of("other").hex();
  WriteFileAtomic(other, good);  // an index filed under another tar's digest
  EXPECT_FALSE(cache.FindIndex(Digest::Of("other")));
}

}  // namespace
}  // namespace outpost::sync
