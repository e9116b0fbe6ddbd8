#include "storage/copy.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "storage/docker_archive_store.h"
#include "storage/oci_layout_store.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::ThrowsKind;

TEST(CopyTest, OciToOciKeepsEveryByte) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(2);
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  testing::WriteImage(*src, img, "v1");
  auto dst = OpenOciLayoutForWrite(dir.path() / "dst");
  CopyResult r = CopyImage(*src, "v1", *dst, "copied", {});
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(r.destination_digest, img.manifest.digest);
  EXPECT_EQ(dst->ReadManifest("copied").bytes, img.manifest.bytes);
  for (const std::string& layer : img.layers) {
    EXPECT_EQ(ReadAll(*dst->OpenBlob(Digest::Of(layer), 0)), layer);
  }
}

TEST(CopyTest, IntoDockerArchiveDecompressesAndKeepsTheConfig) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(2);
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  testing::WriteImage(*src, img, "v1");
  std::string notice;
  CopyOptions options;
  options.notice = [&](const std::string& line) { notice = line; };
  {
    auto dst = OpenDockerArchiveForWrite(dir.path() / "out.tar");
    CopyResult r = CopyImage(*src, "v1", *dst, "app:1", options);
    EXPECT_TRUE(r.rewritten);
    EXPECT_NE(r.destination_digest, img.manifest.digest);
  }
  EXPECT_NE(notice.find("image ID"), std::string::npos);
  auto archive = OpenDockerArchive(dir.path() / "out.tar");
  image::Manifest m = image::Manifest::Parse(archive->ReadManifest("app:1"));
  EXPECT_EQ(m.config.digest, Digest::Of(img.config));
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[1].digest, Digest::Of(img.diff_layers[1]));
  EXPECT_EQ(ReadAll(*archive->OpenBlob(m.layers[1].digest, 0)), img.diff_layers[1]);
}

TEST(CopyTest, LayerNotMatchingItsDiffIdFailsAndWritesNothing) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(1);
  img.diff_layers[0] = "something else";  // the config now names a diff_id the layer does not have
  testing::TestImage bad = img;
  std::string config = img.config;
  bad.config = config.replace(config.find("sha256:"), 71, Digest::Of("x").str());
  std::string manifest = img.manifest.bytes;
  manifest.replace(manifest.find(Digest::Of(img.config).str()), 71, Digest::Of(bad.config).str());
  bad.manifest = image::ManifestBlob::FromBytes(manifest);
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  testing::WriteImage(*src, bad, "v1");
  {
    auto dst = OpenDockerArchiveForWrite(dir.path() / "out.tar");
    try {
      CopyImage(*src, "v1", *dst, "app", {});
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
      EXPECT_NE(std::string(e.what()).find("diff_id"), std::string::npos);
    }
  }
  EXPECT_FALSE(fs::exists(dir.path() / "out.tar"));
}

}  // namespace
}  // namespace outpost::storage

namespace outpost::storage {
namespace {

// An index of an amd64 and an arm64 image, written into `store` and tagged "multi".
image::ManifestBlob WriteIndex(ImageStore& store, const testing::TestImage& amd, const testing::TestImage& arm) {
  testing::WriteImage(store, amd, "");
  testing::WriteImage(store, arm, "");
  auto entry = [](const testing::TestImage& img, const std::string& arch) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + img.manifest.digest.str() +
           R"(","size":)" + std::to_string(img.manifest.bytes.size()) + R"(,"platform":{"os":"linux","architecture":")" +
           arch + R"("}})";
  };
  image::ManifestBlob index = image::ManifestBlob::FromBytes(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + entry(amd, "amd64") +
      "," + entry(arm, "arm64") + "]}");
  store.WriteManifest(index, "multi");
  return index;
}

TEST(CopyIndexTest, WholeIndexIsCopiedWithEveryPlatform) {
  TempDir dir;
  testing::TestImage amd = testing::MakeImage(1, "amd64"), arm = testing::MakeImage(1, "arm64");
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  image::ManifestBlob index = WriteIndex(*src, amd, arm);
  auto dst = OpenOciLayoutForWrite(dir.path() / "dst");
  EXPECT_EQ(CopyImage(*src, "multi", *dst, "multi", {}).destination_digest, index.digest);
  EXPECT_EQ(dst->ReadManifest("multi").bytes, index.bytes);
  EXPECT_EQ(dst->ReadManifest(arm.manifest.digest.str()).bytes, arm.manifest.bytes);
  EXPECT_TRUE(dst->HasBlob(Digest::Of(arm.layers[0])));
  EXPECT_EQ(dst->ListTags(), std::vector<std::string>{"multi"});
}

TEST(CopyIndexTest, PlatformPicksOneImageAndADockerArchiveNeedsOne) {
  TempDir dir;
  testing::TestImage amd = testing::MakeImage(1, "amd64"), arm = testing::MakeImage(1, "arm64");
  auto src = OpenOciLayoutForWrite(dir.path() / "src");
  WriteIndex(*src, amd, arm);
  {
    auto dst = OpenDockerArchiveForWrite(dir.path() / "a.tar");
    EXPECT_THAT([&] { CopyImage(*src, "multi", *dst, "x", {}); }, ThrowsKind(Error::Kind::kUnsupported));
  }
  EXPECT_FALSE(fs::exists(dir.path() / "a.tar"));
  CopyOptions options;
  options.platform = image::Platform::Parse("linux/arm64");
  auto dst = OpenOciLayoutForWrite(dir.path() / "dst");
  EXPECT_EQ(CopyImage(*src, "multi", *dst, "arm", options).destination_digest, arm.manifest.digest);
}

}  // namespace
}  // namespace outpost::storage
