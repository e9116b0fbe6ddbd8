#include "sync/delta_cache.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "sync/diff.h"
#include "sync/test_images.h"
#include "tests/support/bytes.h"

namespace outpost::sync {
namespace {

namespace fs = std::filesystem;
using outpost::testing::Files;
using outpost::testing::RandomBytes;
using outpost::testing::TestLayer;

DeltaKey Key(const std::string& target = "target", protocol::Method method = protocol::Method::kTarDelta) {
  return {Digest::Of("base"), Digest::Of(target), method, EncoderFingerprint({})};
}

// The payload cached for `key`, or nullopt on a miss.
std::optional<std::string> Fetched(DeltaCache& cache, const DeltaKey& key) {
  StringWriter out;
  if (!cache.Fetch(key, out)) return std::nullopt;
  return out.str();
}

class DeltaCacheTest : public ::testing::Test {
 protected:
  // Stores `bytes` for `key` from a payload file, as the diff does.
  void Store(DirDeltaCache& cache, const DeltaKey& key, const std::string& bytes) {
    fs::path payload = dir_.path() / "payload";
    WriteFileAtomic(payload, bytes);
    cache.Store(key, payload);
  }

  TempDir dir_;
  fs::path cache_dir_ = dir_.path() / "delta-cache";
};

TEST_F(DeltaCacheTest, AStoredDeltaIsFoundAgainAlsoByAFreshCacheOnTheSameDirectory) {
  DirDeltaCache cache(cache_dir_);
  EXPECT_FALSE(Fetched(cache, Key()));
  std::string payload = RandomBytes(100000, 7);
  Store(cache, Key(), payload);
  EXPECT_EQ(Fetched(cache, Key()), payload);
  DirDeltaCache restarted(cache_dir_);
  EXPECT_EQ(Fetched(restarted, Key()), payload);
}

TEST_F(DeltaCacheTest, AnotherTargetMethodOrEncoderOptionIsAMiss) {
  DirDeltaCache cache(cache_dir_);
  Store(cache, Key(), "delta");
  EXPECT_FALSE(Fetched(cache, Key("other target")));
  EXPECT_FALSE(Fetched(cache, Key("target", protocol::Method::kRawDelta)));
  DeltaKey other_level = Key();
  delta::EncodeOptions level19;
  level19.zstd_level = 19;
  other_level.options = EncoderFingerprint(level19);
  EXPECT_NE(other_level.options, Key().options);
  EXPECT_FALSE(Fetched(cache, other_level));
}

TEST_F(DeltaCacheTest, ADamagedEntryIsAMissAndIsRemoved) {
  DirDeltaCache cache(cache_dir_);
  std::string payload = RandomBytes(5000, 8);
  Store(cache, Key(), payload);
  fs::path entry = cache.EntryPath(Key());
  std::string good = ReadFileToString(entry);
  std::string flipped = good;
  flipped.back() ^= 1;
  for (const std::string& bad : {flipped, good.substr(0, good.size() - 1), good + "x", good.substr(0, 30)}) {
    WriteFileAtomic(entry, bad);
    EXPECT_FALSE(Fetched(cache, Key()));
    EXPECT_FALSE(fs::exists(entry));
  }
  Store(cache, Key(), payload);
  EXPECT_EQ(Fetched(cache, Key()), payload);
}

TEST_F(DeltaCacheTest, AnEntryCopiedUnderAnotherKeysNameIsAMiss) {
  DirDeltaCache cache(cache_dir_);
  Store(cache, Key("one"), "delta one");
  fs::create_directories(cache.EntryPath(Key("two")).parent_path());
  fs::copy_file(cache.EntryPath(Key("one")), cache.EntryPath(Key("two")));
  EXPECT_FALSE(Fetched(cache, Key("two")));
}

TEST_F(DeltaCacheTest, AKilledWritersTempFileIsNeverReadAndIsSweptOnceStale) {
  DirDeltaCache cache(cache_dir_);
  fs::path entry = cache.EntryPath(Key());
  fs::create_directories(entry.parent_path());
  // What a writer killed before its rename leaves: a hidden temp file beside the entry's name.
  fs::path temp = entry.parent_path() / ("." + entry.filename().string() + ".tmp-killed");
  WriteFileAtomic(temp, "outpost-delta-cache 1\n" + Key().Text() + "\n");
  EXPECT_FALSE(Fetched(cache, Key()));
  EXPECT_EQ(cache.TotalBytes(), 0u);
  fs::last_write_time(temp, fs::file_time_type::clock::now() - std::chrono::hours(2));
  Store(cache, Key("other"), "delta");
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(Fetched(cache, Key("other")), "delta");
}

TEST_F(DeltaCacheTest, BeyondMaxBytesTheLeastRecentlyUsedEntriesAreEvicted) {
  std::string payload = RandomBytes(10000, 9);
  DirDeltaCache cache(cache_dir_, 25000);
  auto age = [&](const std::string& target, int hours) {
    fs::last_write_time(cache.EntryPath(Key(target)), fs::file_time_type::clock::now() - std::chrono::hours(hours));
  };
  Store(cache, Key("a"), payload);
  Store(cache, Key("b"), payload);
  age("a", 3);
  age("b", 2);
  EXPECT_TRUE(Fetched(cache, Key("a")));  // used now: b is the least recently used
  Store(cache, Key("c"), payload);
  EXPECT_TRUE(Fetched(cache, Key("a")));
  EXPECT_FALSE(Fetched(cache, Key("b")));
  EXPECT_TRUE(Fetched(cache, Key("c")));
  EXPECT_LE(cache.TotalBytes(), 25000u);
}

TEST_F(DeltaCacheTest, AnEntryLargerThanMaxBytesIsStillKeptUntilTheNextStore) {
  DirDeltaCache cache(cache_dir_, 100);
  Store(cache, Key("a"), RandomBytes(1000, 1));
  EXPECT_TRUE(Fetched(cache, Key("a")));
  Store(cache, Key("b"), RandomBytes(1000, 2));
  EXPECT_FALSE(Fetched(cache, Key("a")));
  EXPECT_TRUE(Fetched(cache, Key("b")));
}

// The diff with the delta cache: hub:v2 against hub:v1, one layer kept, one changed that a
// recipe rebuilds (a tar delta) and one changed that none does (zlib window 12: a raw delta).
class DiffWithDeltaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Files base = {{"bin/tool", RandomBytes(200000, 1)}};
    Files app = {{"app/lib.so", RandomBytes(300000, 2)}};
    Files data = {{"data/blob", RandomBytes(200000, 3)}};
    TestLayer odd_v1(data, true);
    odd_v1.window_bits = 12;
    WriteImage("v1", {{base, true}, {app, true}, odd_v1});
    app["app/lib.so"].replace(1000, 10, "0123456789");
    data["data/blob"].replace(5000, 10, "abcdefghij");
    TestLayer odd_v2(data, true);
    odd_v2.window_bits = 12;
    WriteImage("v2", {{base, true}, {app, true}, odd_v2});
  }

  void WriteImage(const std::string& tag, const std::vector<TestLayer>& layers) {
    outpost::testing::WriteImage("oci:" + (dir_.path() / "hub").string() + ":" + tag, layers);
  }

  // The bundle's bytes, diffed with `cache` (nullptr: none) into a fresh file.
  std::string Bundle(DeltaCache* cache, DiffReport* report = nullptr) {
    DiffOptions o;
    o.from = {storage::Reference::Parse("oci:" + (dir_.path() / "hub").string() + ":v1")};
    o.to = storage::Reference::Parse("oci:" + (dir_.path() / "hub").string() + ":v2");
    o.output = dir_.path() / ("bundle-" + std::to_string(++bundles_));
    o.scratch = dir_.path();
    o.delta_cache = cache;
    DiffReport r = Diff(o);
    if (report) *report = r;
    return ReadFileToString(o.output, 1 << 30);
  }

  TempDir dir_;
  int bundles_ = 0;
};

TEST_F(DiffWithDeltaCacheTest, TheBundleIsTheSameWithoutTheCacheColdAndWarm) {
  std::string without = Bundle(nullptr);
  DirDeltaCache cache(dir_.path() / "delta-cache");
  DiffReport cold, warm;
  EXPECT_EQ(Bundle(&cache, &cold), without);
  EXPECT_EQ(Bundle(&cache, &warm), without);
  ASSERT_EQ(cold.layers.size(), 3u);
  EXPECT_EQ(cold.layers[1].method, protocol::Method::kTarDelta);
  EXPECT_EQ(cold.layers[2].method, protocol::Method::kRawDelta);
  // Three deltas: the tar delta of each changed layer (encoded while its recipe is probed, so
  // also for the layer no recipe rebuilds) and that layer's raw delta.
  EXPECT_EQ(cold.delta_cache_hits, 0u);
  EXPECT_EQ(cold.delta_cache_misses, 3u);
  EXPECT_EQ(warm.delta_cache_hits, 3u);
  EXPECT_EQ(warm.delta_cache_misses, 0u);
}

TEST_F(DiffWithDeltaCacheTest, ADamagedEntryIsEncodedAgainIntoTheSameBundle) {
  DirDeltaCache cache(dir_.path() / "delta-cache");
  std::string cold = Bundle(&cache);
  for (const auto& e : fs::recursive_directory_iterator(dir_.path() / "delta-cache")) {
    if (!e.is_regular_file()) continue;
    std::string bytes = ReadFileToString(e.path(), 1 << 30);
    bytes[bytes.size() / 2] ^= 0x40;
    WriteFileAtomic(e.path(), bytes);
  }
  DiffReport report;
  EXPECT_EQ(Bundle(&cache, &report), cold);
  EXPECT_EQ(report.delta_cache_hits, 0u);
  EXPECT_EQ(report.delta_cache_misses, 3u);
}

}  // namespace
}  // namespace outpost::sync
