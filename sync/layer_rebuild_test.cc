#include "sync/layer_rebuild.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::sync {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// Endless zeros (what a 67 KB zstd frame of 2 GiB decodes to), counting what was taken.
class Zeros : public Reader {
 public:
  size_t Read(uint8_t* buf, size_t n) override {
    std::memset(buf, 0, n);
    taken += n;
    return n;
  }
  uint64_t taken = 0;
};

protocol::LayerEntry WholeEntry(std::string media_type, uint64_t size) {
  protocol::LayerEntry e;
  e.media_type = std::move(media_type);
  e.method = protocol::Method::kWhole;
  e.size = size;
  e.digest = e.diff_id = Digest::Of("declared");
  return e;
}

// Defect 12.3: a whole layer whose payload decodes past its declared size stops there.
TEST(LayerRebuildTest, WholeBlobStopsWritingAtItsDeclaredSize) {
  protocol::LayerEntry e = WholeEntry("application/vnd.oci.image.layer.v1.tar+gzip", 10000);
  Zeros payload;
  NullWriter out;
  EXPECT_THAT([&] { RebuildBlobOf(e, payload, {}, out, "layer 1/1 x"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("layer 1/1 x's blob is larger than the 10000 bytes")));
  EXPECT_LE(out.count(), 10000u);
  EXPECT_LE(payload.taken, 10000u + (1u << 20));  // at most one read buffer past the bound
}

TEST(LayerRebuildTest, WholeTarStopsWritingAtItsDeclaredSize) {
  protocol::LayerEntry e = WholeEntry("application/vnd.oci.image.layer.v1.tar", 4096);
  Zeros payload;
  NullWriter out;
  TempDir scratch;
  EXPECT_THAT([&] { RebuildTar(e, payload, {}, scratch.path(), out); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("larger than the 4096 bytes")));
  EXPECT_LE(out.count(), 4096u);
}

TEST(LayerRebuildTest, TarBoundIsTheBlobSizeTimesTheDensestRatio) {
  EXPECT_EQ(TarSizeBound("application/vnd.oci.image.layer.v1.tar", 1000), 1000u);
  EXPECT_EQ(TarSizeBound("application/vnd.oci.image.layer.v1.tar+gzip", 1000), 1000u * 1032 + (64 << 10));
  EXPECT_EQ(TarSizeBound("application/vnd.oci.image.layer.v1.tar+zstd", 1000), 1000u * 32768 + (64 << 10));
  EXPECT_EQ(TarSizeBound("application/vnd.oci.image.layer.v1.tar+zstd", UINT64_MAX / 2), UINT64_MAX);
}

// Defect 12.12: what the delta applier throws names the layer, its method and its base.
TEST(LayerRebuildTest, DeltaErrorsNameTheLayerAndItsBase) {
  protocol::LayerEntry e = WholeEntry("application/vnd.oci.image.layer.v1.tar", 100);
  e.method = protocol::Method::kTarDelta;
  e.base = 3;
  StringReader payload("not a delta at all, too short? no: long enough to hold the 46-byte header....");
  class EmptyBase : public RandomAccess {
   public:
    void ReadAt(uint64_t, uint8_t*, size_t) const override {}
    uint64_t size() const override { return 0; }
  } base;
  BaseAccess access;
  access.tar = &base;
  NullWriter out;
  TempDir scratch;
  EXPECT_THAT([&] { RebuildTar(e, payload, access, scratch.path(), out, "layer 2/5 sha256:abc"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("layer 2/5 sha256:abc (tar-delta against base #3): not an outpost delta")));
}

}  // namespace
}  // namespace outpost::sync
