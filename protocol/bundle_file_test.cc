#include "protocol/bundle_file.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "compress/zstd.h"
#include "protocol/bundle_printer.h"
#include "protocol/test_bundle.h"
#include "tests/support/bytes.h"
#include "tests/support/matchers.h"

namespace outpost::protocol {
namespace {

using outpost::testing::KindOf;

using outpost::testing::Le32;

// A bundle with a manifest, a config and one whole layer of `layer_bytes` pseudo-random bytes
// (so it spans several chunks).
struct Fixture {
  TempDir dir;
  std::string manifest = R"({"schemaVersion":2})";
  std::string config = R"({"rootfs":{}})";
  std::string layer;
  std::filesystem::path path = dir.path() / "b.bundle";

  explicit Fixture(size_t layer_bytes, const SigningKey* key = nullptr) {
    uint32_t x = 1;
    for (size_t i = 0; i < layer_bytes; ++i) {
      x = x * 1103515245 + 12345;
      layer.push_back(static_cast<char>(x >> 16));
    }
    testing::WriteTestBundle(dir.path(), path, layer, key);
  }

  std::string Bytes() const { return ReadFileToString(path, 1 << 30); }
  void Rewrite(const std::string& bytes) const { WriteFileAtomic(path, bytes); }
};

uint32_t GetLe32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

TEST(BundleFileTest, WrittenBundleReadsBackEveryByte) {
  Fixture f(3 * kChunkBytes + 17);
  BundleReader r(f.path);
  EXPECT_EQ(r.version(), kFormatVersion);
  EXPECT_EQ(r.chunks().size(), 4u);
  EXPECT_EQ(r.ReadDocument(r.header().manifest, "manifest"), f.manifest);
  EXPECT_EQ(r.ReadDocument(r.header().config, "config"), f.config);
  auto layer = r.OpenSpan(r.header().layers[0].payload, "layer");
  EXPECT_EQ(ReadAll(*layer, 1 << 30), f.layer);
  r.VerifyChunks();
  EXPECT_FALSE(r.signer().has_value());
}

TEST(BundleFileTest, SpanInTheMiddleOfAChunkReadsCorrectly) {
  Fixture f(2 * kChunkBytes);
  BundleReader r(f.path);
  uint64_t start = r.header().layers[0].payload.offset + kChunkBytes - 5;
  auto span = r.OpenRawSpan(start, 10);
  EXPECT_EQ(ReadAll(*span), f.layer.substr(kChunkBytes - 5, 10));
}

TEST(BundleFileTest, TruncatedBundleIsCorruption) {
  Fixture f(1000);
  std::string bytes = f.Bytes();
  for (size_t cut : {size_t{5}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    f.Rewrite(bytes.substr(0, cut));
    EXPECT_EQ(KindOf([&] { BundleReader r(f.path); }), Error::Kind::kCorruption) << cut;
  }
}

TEST(BundleFileTest, FlippedPayloadByteFailsItsChunk) {
  Fixture f(2 * kChunkBytes);
  std::string bytes = f.Bytes();
  bytes[bytes.size() - 10] ^= 1;
  f.Rewrite(bytes);
  BundleReader r(f.path);
  EXPECT_EQ(KindOf([&] { r.VerifyChunks(); }), Error::Kind::kCorruption);
  auto layer = r.OpenSpan(r.header().layers[0].payload, "layer");
  EXPECT_EQ(KindOf([&] { ReadAll(*layer, 1 << 30); }), Error::Kind::kCorruption);
}

TEST(BundleFileTest, NewerFormatVersionIsRefusedWithUpgradeMessage) {
  Fixture f(10);
  std::string bytes = f.Bytes();
  bytes[8] = static_cast<char>(kFormatVersion + 1);
  f.Rewrite(bytes);
  try {
    BundleReader r(f.path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("upgrade outpost"), std::string::npos);
  }
}

// The bundle rewritten as format version 1 wrote it: the same header as plain JSON.
std::string AsVersionOne(const std::string& v2) {
  uint32_t stored_len = GetLe32(v2, 12);
  StringReader frame(v2.substr(16, stored_len));
  compress::ZstdReader unpacked(frame, "header");
  std::string json = ReadAll(unpacked);
  std::string v1 = v2.substr(0, 8) + Le32(1) + Le32(static_cast<uint32_t>(json.size())) + json;
  return v1 + v2.substr(16 + stored_len);
}

TEST(BundleFileTest, VersionOneBundleWithAPlainJsonHeaderStillReads) {
  Fixture f(kChunkBytes + 3);
  f.Rewrite(AsVersionOne(f.Bytes()));
  BundleReader r(f.path);
  EXPECT_EQ(r.version(), 1u);
  EXPECT_EQ(r.header().target_reference, "oci:/x:v2");
  auto layer = r.OpenSpan(r.header().layers[0].payload, "layer");
  EXPECT_EQ(ReadAll(*layer, 1 << 30), f.layer);
}

TEST(BundleFileTest, DamagedHeaderFrameIsCorruption) {
  Fixture f(10);
  std::string bytes = f.Bytes();
  bytes[16 + GetLe32(bytes, 12) / 2] ^= 0x5a;
  f.Rewrite(bytes);
  EXPECT_EQ(KindOf([&] { BundleReader r(f.path); }), Error::Kind::kCorruption);
}

TEST(BundleFileTest, SignedBundleVerifiesWithItsKeyOnly) {
  SigningKey key = SigningKey::Generate();
  Fixture f(100, &key);
  BundleReader r(f.path, &key);
  ASSERT_TRUE(r.signer().has_value());
  EXPECT_TRUE(r.head().verified());
  SigningKey other = SigningKey::Generate();
  EXPECT_EQ(KindOf([&] { BundleReader(f.path, &other); }), Error::Kind::kSecurity);
}

TEST(BundleFileTest, UnsignedBundleFailsSignatureCheck) {
  Fixture f(100);
  SigningKey key = SigningKey::Generate();
  EXPECT_EQ(KindOf([&] { BundleReader(f.path, &key); }), Error::Kind::kSecurity);
}

TEST(BundleFileTest, TamperedHeaderOrSignatureIsSecurityError) {
  SigningKey key = SigningKey::Generate();
  Fixture f(100, &key);
  std::string bytes = f.Bytes();
  uint64_t payload = BundleReader(f.path).header().payload_bytes;
  std::string tampered = bytes;
  tampered[bytes.size() - payload - 100 - 30] ^= 1;  // in the last chunk's sha256, before the signature
  f.Rewrite(tampered);
  EXPECT_EQ(KindOf([&] { BundleReader(f.path, &key); }), Error::Kind::kSecurity);
  tampered = bytes;
  tampered[bytes.size() - payload - 5] ^= 1;  // inside the 64 signature bytes before the payload
  f.Rewrite(tampered);
  EXPECT_EQ(KindOf([&] { BundleReader(f.path, &key); }), Error::Kind::kSecurity);
}

TEST(BundleFileTest, NotABundleIsCorruptionAndNotDetected) {
  Fixture f(10);
  EXPECT_TRUE(LooksLikeBundle(f.path));
  f.Rewrite("{\"schemaVersion\":2}");
  EXPECT_FALSE(LooksLikeBundle(f.path));
  EXPECT_EQ(KindOf([&] { BundleReader r(f.path); }), Error::Kind::kCorruption);
}

TEST(BundleFileTest, DescriptionNamesTargetMethodAndTotals) {
  Fixture f(10);
  std::string text = DescribeBundle(BundleReader(f.path));
  EXPECT_NE(text.find("oci:/x:v2"), std::string::npos);
  EXPECT_NE(text.find("<- whole"), std::string::npos);
  EXPECT_NE(text.find("a registry would ship"), std::string::npos);
}

TEST(BundleHeaderTest, SpanOutsidePayloadIsCorruption) {
  Header h;
  h.created_by = "t";
  h.payload_bytes = 10;
  h.manifest.payload = {0, 11, Encoding::kRaw};
  EXPECT_EQ(KindOf([&] { Header::FromJson(h.ToJson()); }), Error::Kind::kCorruption);
}

}  // namespace
}  // namespace outpost::protocol
