#include "sync/image_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"
#include "tests/support/bytes.h"
#include "tests/support/matchers.h"

namespace outpost::sync {
namespace {

using outpost::testing::Le32;
using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// An image signature file with `header` and one layer signature declaring a `tar_size`-byte tar.
std::string ImageSignatureFile(const std::string& header, uint64_t tar_size) {
  std::string body;
  delta::PutVarint(&body, tar_size);
  body += std::string(32, '\0');
  delta::PutVarint(&body, 0);
  std::string layer = "OPSG\x01" + delta::CompressWithPrefix(body, {}, 3);
  return "OUTPOSTS" + Le32(1) + Le32(static_cast<uint32_t>(header.size())) + header +
         Le32(static_cast<uint32_t>(layer.size())) + layer;
}

std::string OneLayerHeader(const std::string& media_type, uint64_t size) {
  std::string digest = "sha256:" + std::string(64, 'a');
  return R"({"reference":"r","layers":[{"digest":")" + digest + R"(","diff_id":")" + digest +
         R"(","size":)" + std::to_string(size) + R"(,"media_type":")" + media_type + R"("}]})";
}

TEST(ImageSignatureTest, LayerSignatureWithinItsLayerSizeLoads) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "s", ImageSignatureFile(OneLayerHeader("application/vnd.oci.image.layer.v1.tar", 1024), 1024));
  ImageBlockSignature sig = ImageBlockSignature::Load(dir.path() / "s");
  ASSERT_EQ(sig.layers.size(), 1u);
  EXPECT_EQ(sig.layers[0].signature.index.tar_size, 1024u);
}

// Defect 12.8: a layer signature is bounded by the size its layer declares, before its entries.
TEST(ImageSignatureTest, LayerSignatureLargerThanItsLayerIsRefused) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "s", ImageSignatureFile(OneLayerHeader("application/vnd.oci.image.layer.v1.tar+gzip", 1000), 1ull << 40));
  EXPECT_THAT([&] { ImageBlockSignature::Load(dir.path() / "s"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("more than the 1097536 bytes its layer can hold")));
}

TEST(ImageSignatureTest, DeeplyNestedHeaderIsRefusedWhileParsing) {
  TempDir dir;
  std::string header = R"({"reference":"r","layers":[],"x":)" + std::string(500'000, '[') + std::string(500'000, ']') + "}";
  WriteFileAtomic(dir.path() / "s", ImageSignatureFile(header, 0));
  EXPECT_THAT([&] { ImageBlockSignature::Load(dir.path() / "s"); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("deeper than")));
}

}  // namespace
}  // namespace outpost::sync
