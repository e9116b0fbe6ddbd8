#include "storage/copy.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "storage/docker_archive_store.h"
#include "storage/oci_layout_store.h"
#include "storage/test_images.h"

namespace outpost::storage {
namespace {

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
