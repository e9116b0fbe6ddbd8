#include "storage/docker_archive_store.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "tar/tar_writer.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::KindOf;

// A legacy `docker save` archive of `img`: <id>.json config, <n>/layer.tar layers.
std::string LegacyArchive(const testing::TestImage& img, const std::string& manifest_json = "") {
  std::vector<std::pair<std::string, std::string>> files;
  std::string layers;
  for (size_t i = 0; i < img.diff_layers.size(); ++i) {
    files.push_back({"l" + std::to_string(i) + "/layer.tar", img.diff_layers[i]});
    layers += (i ? ",\"" : "\"") + files.back().first + "\"";
  }
  std::string config_name = Digest::Of(img.config).hex() + ".json";
  files.push_back({config_name, img.config});
  files.push_back({"manifest.json", manifest_json.empty() ? R"([{"Config":")" + config_name +
                                                                R"(","RepoTags":["app:1"],"Layers":[)" + layers + "]}]"
                                                          : manifest_json});
  return testing::MakeTar(files);
}

TEST(DockerArchiveStoreTest, LegacyArchiveShowsSkopeosManifestWithDiffIdsAsLayerDigests) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(2);
  WriteFileAtomic(dir.path() / "a.tar", LegacyArchive(img));
  auto store = OpenDockerArchive(dir.path() / "a.tar");
  image::ManifestBlob m = store->ReadManifest("app:1");
  std::string expected = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
                         R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":)" +
                         std::to_string(img.config.size()) + R"(,"digest":")" + Digest::Of(img.config).str() +
                         R"("},"layers":[)";
  for (size_t i = 0; i < 2; ++i) {
    expected += (i ? "," : "") + std::string(R"({"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":)") +
                std::to_string(img.diff_layers[i].size()) + R"(,"digest":")" + Digest::Of(img.diff_layers[i]).str() + "\"}";
  }
  EXPECT_EQ(m.bytes, expected + "]}");
  EXPECT_EQ(store->ListTags(), std::vector<std::string>{"app:1"});
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of(img.diff_layers[1]), 0)), img.diff_layers[1]);
  EXPECT_EQ(store->ReadManifest("@0").digest, m.digest);
}

TEST(DockerArchiveStoreTest, GzipCompressedArchiveFileIsRead) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(1);
  WriteFileAtomic(dir.path() / "a.tar.gz", testing::Gzip(LegacyArchive(img)));
  auto store = OpenDockerArchive(dir.path() / "a.tar.gz");
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of(img.config), 0)), img.config);
}

TEST(DockerArchiveStoreTest, MemberNamedDotDotIsASecurityError) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "a.tar", testing::TarWithRawName("../x", "x"));
  std::string message;
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }, &message), Error::Kind::kSecurity);
  EXPECT_NE(message.find("a.tar"), std::string::npos);
  EXPECT_NE(message.find("../x"), std::string::npos);
}

TEST(DockerArchiveStoreTest, AbsoluteMemberNameIsASecurityError) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "a.tar", testing::TarWithRawName("/etc/x", "x"));
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }), Error::Kind::kSecurity);
}

TEST(DockerArchiveStoreTest, TruncatedArchiveIsCorruptionNamingTheFile) {
  TempDir dir;
  std::string tar = LegacyArchive(testing::MakeImage(1));
  WriteFileAtomic(dir.path() / "a.tar", tar.substr(0, 1500));
  std::string message;
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }, &message), Error::Kind::kCorruption);
  EXPECT_NE(message.find("a.tar"), std::string::npos);
}

TEST(DockerArchiveStoreTest, CorruptTarHeaderIsCorruption) {
  TempDir dir;
  std::string tar = LegacyArchive(testing::MakeImage(1));
  tar[150] ^= 0x55;  // inside the first header's checksum field
  WriteFileAtomic(dir.path() / "a.tar", tar);
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }), Error::Kind::kCorruption);
}

TEST(DockerArchiveStoreTest, MalformedManifestJsonIsCorruptionNamingTheMember) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "a.tar", LegacyArchive(testing::MakeImage(1), "[{\"Config\":"));
  std::string message;
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }, &message), Error::Kind::kCorruption);
  EXPECT_NE(message.find("a.tar:manifest.json"), std::string::npos);
}

TEST(DockerArchiveStoreTest, ArchiveWithoutManifestIsNotAnArchive) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "a.tar", testing::MakeTar({{"hello", "world"}}));
  EXPECT_EQ(KindOf([&] { OpenDockerArchive(dir.path() / "a.tar"); }), Error::Kind::kCorruption);
}

TEST(DockerArchiveStoreTest, WrittenArchiveAppearsOnlyAtCommitAndReadsBack) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(2);
  // An uncompressed variant of the image, as copy produces for a docker-archive.
  std::string layers;
  for (size_t i = 0; i < 2; ++i) {
    layers += (i ? "," : "") + std::string(R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")") +
              Digest::Of(img.diff_layers[i]).str() + R"(","size":)" + std::to_string(img.diff_layers[i].size()) + "}";
  }
  image::ManifestBlob manifest = image::ManifestBlob::FromBytes(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      Digest::Of(img.config).str() + R"(","size":)" + std::to_string(img.config.size()) + R"(},"layers":[)" + layers + "]}");
  fs::path file = dir.path() / "out.tar";
  {
    auto writer = OpenDockerArchiveForWrite(file);
    EXPECT_FALSE(writer->HoldsCompressedLayers());
    for (const std::string& blob : {img.config, img.diff_layers[0], img.diff_layers[1]}) {
      StringReader r(blob);
      writer->WriteBlob(Digest::Of(blob), static_cast<int64_t>(blob.size()), r);
    }
    writer->WriteManifest(manifest, "app");
    EXPECT_FALSE(fs::exists(file));
    writer->Commit();
  }
  auto store = OpenDockerArchive(file);
  EXPECT_EQ(store->ListTags(), std::vector<std::string>{"app:latest"});
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of(img.config), 0)), img.config);
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of(img.diff_layers[1]), 0)), img.diff_layers[1]);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(DockerArchiveStoreTest, FailedWriteLeavesNoFileBehind) {
  TempDir dir;
  testing::TestImage img = testing::MakeImage(1);
  {
    auto writer = OpenDockerArchiveForWrite(dir.path() / "out.tar");
    StringReader r(img.config);
    writer->WriteBlob(Digest::Of(img.config), static_cast<int64_t>(img.config.size()), r);
    EXPECT_EQ(KindOf([&] { writer->WriteManifest(img.manifest, "app"); }), Error::Kind::kUnsupported);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 0);
}

}  // namespace
}  // namespace outpost::storage
