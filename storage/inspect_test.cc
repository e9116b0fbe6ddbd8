#include "storage/inspect.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "storage/oci_layout_store.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::ThrowsKind;

TEST(InspectTest, ReportsDigestsDiffIdsAndGzipHeader) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(2);
  auto store = OpenOciLayoutForWrite(dir.path());
  testing::WriteImage(*store, img, "v1");
  InspectReport r = Inspect(*store, "v1", {});
  EXPECT_TRUE(r.problems.empty());
  nlohmann::json j = nlohmann::json::parse(ReportToJson(r));
  EXPECT_EQ(j["digest"], img.manifest.digest.str());
  EXPECT_EQ(j["config"], Digest::Of(img.config).str());
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][1]["digest"], Digest::Of(img.layers[1]).str());
  EXPECT_EQ(j["layers"][1]["diff_id"], Digest::Of(img.diff_layers[1]).str());
  EXPECT_EQ(j["layers"][1]["size"], img.layers[1].size());
  EXPECT_EQ(j["layers"][1]["compression"], "gzip");
  EXPECT_EQ(j["layers"][1]["gzip"]["os"], 3);  // zlib on Unix
  EXPECT_NE(ReportToText(r).find("diffID " + Digest::Of(img.diff_layers[0]).str()), std::string::npos);
}

TEST(InspectTest, EveryMismatchingBlobIsOneProblemNamingFileAndBothDigests) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(3);
  auto store = OpenOciLayoutForWrite(dir.path());
  testing::WriteImage(*store, img, "v1");
  for (int i : {0, 2}) {
    fs::path blob = dir.path() / "blobs/sha256" / Digest::Of(img.layers[i]).hex();
    WriteFileAtomic(blob, "edited by hand");
  }
  InspectReport r = Inspect(*store, "v1", {});
  ASSERT_EQ(r.problems.size(), 2u);
  for (int k : {0, 1}) {
    int i = k == 0 ? 0 : 2;
    EXPECT_NE(r.problems[k].find(Digest::Of(img.layers[i]).hex()), std::string::npos);
    EXPECT_NE(r.problems[k].find("blobs/sha256/"), std::string::npos);
    EXPECT_NE(r.problems[k].find(Digest::Of("edited by hand").str()), std::string::npos);
  }
}

TEST(InspectTest, MissingBlobIsAProblem) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(1);
  auto store = OpenOciLayoutForWrite(dir.path());
  testing::WriteImage(*store, img, "v1");
  fs::remove(dir.path() / "blobs/sha256" / Digest::Of(img.layers[0]).hex());
  InspectReport r = Inspect(*store, "v1", {});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("missing"), std::string::npos);
}

}  // namespace
}  // namespace outpost::storage

namespace outpost::storage {
namespace {

TEST(InspectIndexTest, AbsentPlatformManifestIsNotedNotAProblem) {
  TempDir dir;
  testing::TestImage amd = testing::MakeImage(1, "amd64");
  auto store = OpenOciLayoutForWrite(dir.path());
  testing::WriteImage(*store, amd, "");
  std::string missing = "sha256:" + std::string(64, 'e');
  image::ManifestBlob index = image::ManifestBlob::FromBytes(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + amd.manifest.digest.str() +
      R"(","size":)" + std::to_string(amd.manifest.bytes.size()) + R"(,"platform":{"os":"linux","architecture":"amd64"}},)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + missing +
      R"(","size":10,"platform":{"os":"linux","architecture":"arm64"}}]})");
  WriteFileAtomic(dir.path() / "blobs/sha256" / index.digest.hex(), index.bytes);
  WriteFileAtomic(dir.path() / "index.json", R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":")" +
                                                 index.digest.str() + R"(","size":)" + std::to_string(index.bytes.size()) + "}]}");
  InspectReport r = Inspect(*store, "", {});
  EXPECT_TRUE(r.problems.empty());
  ASSERT_EQ(r.absent.size(), 1u);
  EXPECT_EQ(r.absent[0].digest.str(), missing);
  ASSERT_EQ(r.images.size(), 1u);
  InspectOptions pick;
  pick.platform = image::Platform::Parse("linux/amd64");
  EXPECT_EQ(Inspect(*store, "", pick).top.digest, amd.manifest.digest);
  pick.platform = image::Platform::Parse("linux/s390x");
  EXPECT_THAT([&] { Inspect(*store, "", pick); }, ThrowsKind(Error::Kind::kNotFound));
}

}  // namespace
}  // namespace outpost::storage
