// Hostile layouts: nested and shared indexes, concurrent writers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/file.h"
#include "storage/copy.h"
#include "storage/inspect.h"
#include "storage/oci_layout_store.h"
#include "tests/support/images.h"
#include "tests/support/tar.h"
#include "tar/hostile_tar.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// Forwards to a store and counts the manifests and blobs read through it; past 1000 reads it
// refuses, so that a walk without bounds fails fast instead of running for hours.
class CountingStore : public ImageStore {
 public:
  explicit CountingStore(ImageStore& inner) : inner_(inner) {}
  std::string Describe() const override { return inner_.Describe(); }
  std::vector<std::string> ListTags() override { return inner_.ListTags(); }
  image::ManifestBlob ReadManifest(const std::string& t) override {
    Count();
    return inner_.ReadManifest(t);
  }
  std::optional<image::Descriptor> Resolve(const std::string& t) override { return inner_.Resolve(t); }
  bool HasBlob(const Digest& d) override { return inner_.HasBlob(d); }
  std::unique_ptr<Reader> OpenBlob(const Digest& d, uint64_t offset) override {
    Count();
    return inner_.OpenBlob(d, offset);
  }
  void WriteBlob(const Digest& d, int64_t size, Reader& content) override { inner_.WriteBlob(d, size, content); }
  void WriteManifest(const image::ManifestBlob& m, const std::string& tag) override { inner_.WriteManifest(m, tag); }

  int reads = 0;

 private:
  void Count() {
    if (++reads > 1000) throw IOError("test store: more than 1000 reads");
  }

  ImageStore& inner_;
};

// An index naming `child` (an index or manifest) `fanout` times.
image::ManifestBlob IndexOf(const image::ManifestBlob& child, int fanout) {
  std::string entry = R"({"mediaType":")" + child.media_type + R"(","digest":")" + child.digest.str() +
                      R"(","size":)" + std::to_string(child.bytes.size()) + "}";
  std::string entries;
  for (int i = 0; i < fanout; ++i) entries += (i ? "," : "") + entry;
  return image::ManifestBlob::FromBytes(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + entries + "]}");
}

// A layout whose tag "top" heads `levels` indexes, each naming the next `fanout` times, over
// one image. Index blobs are written straight into blobs/ (fast: no fsync per level).
void WriteNestedLayout(const fs::path& dir, int levels, int fanout) {
  auto store = OpenOciLayoutForWrite(dir);
  testing::TestImage img = testing::MakeImage(1);
  testing::WriteImage(*store, img, "image");
  image::ManifestBlob blob = img.manifest;
  for (int i = 0; i < levels; ++i) {
    blob = IndexOf(blob, fanout);
    std::ofstream(dir / "blobs/sha256" / blob.digest.hex(), std::ios::binary) << blob.bytes;
  }
  store->WriteManifest(blob, "top");
}

TEST(HostileLayout, IndexChainDeeperThanTheLimitIsReportedNotFollowed) {
  TempDir dir;
  WriteNestedLayout(dir.path() / "layout", 100, 1);
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  CountingStore counting(*store);
  InspectReport report = Inspect(counting, "top", {});
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr("nests more than 8"));
  EXPECT_LE(counting.reads, image::kMaxIndexDepth + 2);
}

TEST(HostileLayout, IndexesSharingChildrenAreWalkedOnceEach) {
  // 7 levels of 100 entries each: 10^14 paths to the image, 9 distinct documents.
  TempDir dir;
  WriteNestedLayout(dir.path() / "layout", 7, 100);
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  CountingStore counting(*store);
  InspectReport report = Inspect(counting, "top", {});
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(report.images.size(), 1u);
  EXPECT_LE(counting.reads, 12);

  CountingStore source(*store);
  auto dst = OpenOciLayoutForWrite(dir.path() / "copy");
  CopyImage(source, "top", *dst, "top", {});
  EXPECT_LE(source.reads, 12);
}

TEST(HostileLayout, CopyOfATooDeepChainIsCorruptionAndTagsNothing) {
  TempDir dir;
  WriteNestedLayout(dir.path() / "layout", 100, 1);
  auto src = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  CountingStore counting(*src);
  auto dst = OpenOciLayoutForWrite(dir.path() / "dst");
  EXPECT_THAT([&] { CopyImage(counting, "top", *dst, "top", {}); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("nests more than 8")));
  EXPECT_TRUE(dst->ListTags().empty());
  EXPECT_LE(counting.reads, image::kMaxIndexDepth + 2);
}

TEST(HostileLayout, FailedCopyOfAnIndexAddsNoManifestToAnExistingStore) {
  TempDir dir;
  testing::TestImage amd = testing::MakeImage(1, "amd64"), arm = testing::MakeImage(1, "arm64");
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  testing::WriteImage(*src, amd, "");
  testing::WriteImage(*src, arm, "");
  std::string entries = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                        amd.manifest.digest.str() + R"(","size":)" + std::to_string(amd.manifest.bytes.size()) +
                        R"(},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                        arm.manifest.digest.str() + R"(","size":)" + std::to_string(arm.manifest.bytes.size()) + "}";
  src->WriteManifest(image::ManifestBlob::FromBytes(
                         R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                         entries + "]}"),
                     "multi");
  WriteFileAtomic(dir.path() / "src/blobs/sha256" / Digest::Of(arm.layers[0]).hex(), "damaged");
  auto dst = OpenOciLayoutForWrite(dir.path() / "dst");
  testing::WriteImage(*dst, testing::MakeImage(2, "s390x"), "kept");
  std::string index_before = ReadFileToString(dir.path() / "dst/index.json");
  EXPECT_THAT([&] { CopyImage(*src, "multi", *dst, "multi", {}); }, ThrowsKind(Error::Kind::kCorruption));
  EXPECT_EQ(ReadFileToString(dir.path() / "dst/index.json"), index_before);
}

TEST(HostileLayout, ConcurrentWritersKeepEveryTag) {
  TempDir dir;
  fs::path layout = dir.path() / "layout";
  testing::TestImage img = testing::MakeImage(1);
  testing::WriteImage(*OpenOciLayoutForWrite(layout), img, "seed");
  constexpr int kTagsPerWriter = 40;
  auto writer = [&](const std::string& prefix) {
    auto store = OpenOciLayoutForWrite(layout);
    for (int i = 0; i < kTagsPerWriter; ++i) store->WriteManifest(img.manifest, prefix + std::to_string(i));
  };
  std::thread a(writer, "a"), b(writer, "b");
  a.join();
  b.join();
  EXPECT_EQ(OpenOciLayout(OpenDirectoryTree(layout))->ListTags().size(), 2u * kTagsPerWriter + 1);
}

TEST(HostileLayout, GzipOfSomethingElseIsRefusedBeforeItIsInflated) {
  TempDir dir;
  fs::path file = dir.path() / "image.tar.gz";
  WriteFileAtomic(file, testing::Gzip(std::string(4 << 20, 'x')));
  EXPECT_THAT([&] { OpenTarTree(file); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("does not hold a tar")));
}

TEST(HostileLayout, GzipBombIsStoppedAtTheInflationLimit) {
  // A valid header, then 64 MiB of zeros: about 1000 times the gzip's size.
  TempDir dir;
  fs::path file = dir.path() / "image.tar.gz";
  constexpr uint64_t kContent = 64 << 20;
  WriteFileAtomic(file, testing::Gzip(tar::testing::Block({.name = "big", .size = kContent}) +
                                      std::string(kContent, '\0') + tar::testing::End()));
  ASSERT_LT(fs::file_size(file) * 256, kContent);
  EXPECT_THAT([&] { OpenTarTree(file); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("decompression bomb")));
}

TEST(HostileLayout, SymlinkLoopIsCalledALoop) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(1);
  testing::WriteImage(*OpenOciLayoutForWrite(dir.path() / "layout"), img, "v1");
  fs::path blob = dir.path() / "layout/blobs/sha256" / Digest::Of(img.layers[0]).hex();
  fs::remove(blob);
  fs::create_symlink(blob.filename().string() + ".b", blob);
  fs::create_symlink(blob.filename(), blob.string() + ".b");
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  EXPECT_THAT([&] { store->OpenBlob(Digest::Of(img.layers[0]), 0); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("symlink loop")));
}

TEST(HostileLayout, Sha512EntryIsUnsupportedNamingTheAlgorithm) {
  TempDir dir;
  fs::path layout = dir.path() / "layout";
  OpenOciLayoutForWrite(layout);
  WriteFileAtomic(layout / "index.json", R"({"schemaVersion":2,"manifests":[{"mediaType":)"
                                         R"("application/vnd.oci.image.manifest.v1+json","digest":"sha512:)" +
                                             std::string(128, 'a') + R"(","size":10}]})");
  auto store = OpenOciLayout(OpenDirectoryTree(layout));
  EXPECT_THAT([&] { store->ReadManifest(""); },
              ThrowsKind(Error::Kind::kUnsupported, HasSubstr("sha512 digest algorithm")));
}

TEST(HostileLayout, OversizedDocumentIsNamed) {
  TempDir dir;
  fs::path layout = dir.path() / "layout";
  OpenOciLayoutForWrite(layout);
  {
    std::ofstream big(layout / "index.json", std::ios::binary);
    big << R"({"schemaVersion":2,"manifests":[)" << std::string((64 << 20) + 10, ' ') << "]}";
  }
  auto store = OpenOciLayout(OpenDirectoryTree(layout));
  EXPECT_THAT([&] { store->ListTags(); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("index.json is larger than")));
}

}  // namespace
}  // namespace outpost::storage
