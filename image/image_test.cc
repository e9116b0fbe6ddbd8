#include "image/image.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::image {
namespace {

using outpost::testing::KindOf;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

std::string OciManifest(const std::string& layer_type) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":10,"digest":")" +
         kDigestA + R"("},"layers":[{"mediaType":")" + layer_type + R"(","size":20,"digest":")" + kDigestB +
         R"("}],"x-unknown":{"kept":true}})";
}

TEST(ManifestTest, ParsesOciManifestAndKeepsOriginalBytes) {
  std::string bytes = OciManifest(std::string(media::kOciLayerGzip));
  Manifest m = Manifest::Parse(ManifestBlob::FromBytes(bytes));
  EXPECT_EQ(m.blob.bytes, bytes);
  EXPECT_EQ(m.blob.digest, Digest::Of(bytes));
  EXPECT_EQ(m.config.digest.str(), kDigestA);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].size, 20);
  EXPECT_TRUE(m.is_image());
}

TEST(ManifestTest, InfersOciManifestWhenMediaTypeIsOmitted) {
  std::string bytes = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":1,"digest":")" +
                      kDigestA + R"("},"layers":[]})";
  EXPECT_EQ(ManifestBlob::FromBytes(bytes).media_type, media::kOciManifest);
}

TEST(ManifestTest, MalformedJsonIsCorruption) {
  EXPECT_EQ(KindOf([] { ManifestBlob::FromBytes("{\"schemaVersion\":2,"); }), Error::Kind::kCorruption);
}

TEST(ManifestTest, UnknownManifestMediaTypeIsUnsupported) {
  EXPECT_EQ(KindOf([] { ManifestBlob::FromBytes(R"({"schemaVersion":2,"mediaType":"application/x-foo"})"); }),
            Error::Kind::kUnsupported);
}

TEST(ManifestTest, NonLayerMediaTypeMakesAnArtifact) {
  EXPECT_FALSE(Manifest::Parse(ManifestBlob::FromBytes(OciManifest("application/vnd.example+json"))).is_image());
}

TEST(ManifestTest, MalformedLayerMediaTypeIsCorruption) {
  EXPECT_EQ(KindOf([] { Manifest::Parse(ManifestBlob::FromBytes(OciManifest("not a media type"))); }),
            Error::Kind::kCorruption);
}

TEST(ManifestTest, SchemaOneIsUnsupported) {
  EXPECT_EQ(KindOf([] { ManifestBlob::FromBytes(R"({"schemaVersion":1,"name":"x"})"); }), Error::Kind::kUnsupported);
}

TEST(ManifestTest, InvalidDigestIsCorruption) {
  std::string bytes = OciManifest(std::string(media::kOciLayer));
  bytes.replace(bytes.find(kDigestB), kDigestB.size(), "sha256:abc");
  EXPECT_EQ(KindOf([&] { Manifest::Parse(ManifestBlob::FromBytes(bytes)); }), Error::Kind::kCorruption);
}

TEST(ManifestTest, NegativeSizeIsCorruption) {
  std::string bytes = OciManifest(std::string(media::kOciLayer));
  bytes.replace(bytes.find("\"size\":20"), 9, "\"size\":-2");
  EXPECT_EQ(KindOf([&] { Manifest::Parse(ManifestBlob::FromBytes(bytes)); }), Error::Kind::kCorruption);
}

TEST(IndexTest, ParsesPlatformsOfEntries) {
  std::string bytes = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[)"
                      R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":5,"digest":")" +
                      kDigestA + R"(","platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
  Index index = Index::Parse(ManifestBlob::FromBytes(bytes));
  ASSERT_EQ(index.manifests.size(), 1u);
  ASSERT_TRUE(index.manifests[0].platform);
  EXPECT_EQ(index.manifests[0].platform->str(), "linux/arm/v7");
  EXPECT_TRUE(index.manifests[0].platform->Matches(Platform::Parse("linux/arm")));
  EXPECT_FALSE(index.manifests[0].platform->Matches(Platform::Parse("linux/arm/v6")));
}

TEST(ConfigTest, ReadsDiffIdsAndPlatform) {
  Config c = Config::Parse(R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[")" + kDigestA + "\"]}}");
  ASSERT_EQ(c.diff_ids.size(), 1u);
  EXPECT_EQ(c.diff_ids[0].str(), kDigestA);
  EXPECT_EQ(c.platform.str(), "linux/amd64");
}

TEST(ConfigTest, MissingRootfsIsCorruption) {
  EXPECT_EQ(KindOf([] { Config::Parse(R"({"os":"linux"})"); }), Error::Kind::kCorruption);
}

TEST(MediaTypeTest, LayerCompressionFollowsTheSuffix) {
  EXPECT_EQ(LayerCompression(media::kOciLayerZstd), Compression::kZstd);
  EXPECT_EQ(LayerCompression(media::kDockerLayerGzip), Compression::kGzip);
  EXPECT_EQ(LayerCompression(media::kOciLayer), Compression::kNone);
  EXPECT_EQ(UncompressedLayerMediaType(media::kDockerLayerGzip), media::kDockerLayer);
  EXPECT_FALSE(IsLayerMediaType("application/x-foo"));
}

TEST(MediaTypeTest, SniffsGzipAndZstdMagic) {
  EXPECT_EQ(SniffCompression(std::string("\x1f\x8b\x08", 3)), Compression::kGzip);
  EXPECT_EQ(SniffCompression(std::string("\x28\xb5\x2f\xfd", 4)), Compression::kZstd);
  EXPECT_EQ(SniffCompression(std::string("\x5a\x2a\x4d\x18", 4)), Compression::kZstd);
  EXPECT_EQ(SniffCompression(std::string("\x60\x2a\x4d\x18", 4)), Compression::kNone);
  EXPECT_EQ(SniffCompression("ustar"), Compression::kNone);
}

TEST(VerifyDescriptorTest, SizeOrDigestMismatchIsCorruptionNamingBothDigests) {
  Descriptor d{"x", Digest::Of("abc"), 3, std::nullopt, ""};
  VerifyDescriptor(d, "abc", "blob");
  try {
    VerifyDescriptor(d, "abd", "blob");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(Digest::Of("abd").str()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(Digest::Of("abc").str()), std::string::npos);
  }
}

}  // namespace
}  // namespace outpost::image
