#include "protocol/site_report.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "tests/support/matchers.h"

namespace outpost::protocol {
namespace {

using outpost::testing::ThrowsKind;

std::string DigestOf(int i) { return Digest::Of(std::to_string(i)).str(); }

// A site holding `images` images of 10 blobs each, with as many applied transfers.
SiteReport Holding(int images) {
  SiteReport r;
  r.site = "oslo";
  r.created_at = 1'800'000'000;
  for (int i = 0; i < images; ++i) {
    r.images["app" + std::to_string(i) + ":1.0"] = DigestOf(i);
    for (int b = 0; b < 10; ++b) r.blobs.insert(DigestOf(1000 + i * 10 + b));
    r.transfers.push_back({i + 1, DigestOf(5000 + i), true, DigestOf(i), ""});
  }
  r.transfers.push_back({999, DigestOf(9999), false, "", "disk full"});
  return r;
}

TEST(SiteReport, ReadsBackWhatWasWritten) {
  SiteReport r = Holding(3);
  SiteReport back = DecodeSiteReport(EncodeSiteReport(r), "report");
  EXPECT_EQ(back.site, "oslo");
  EXPECT_EQ(back.created_at, r.created_at);
  EXPECT_EQ(back.images, r.images);
  EXPECT_EQ(back.blobs, r.blobs);
  ASSERT_EQ(back.transfers.size(), 4u);
  EXPECT_EQ(back.transfers[3].error, "disk full");
  EXPECT_FALSE(back.transfers[3].applied);
  EXPECT_TRUE(back.transfers[0].applied);
}

TEST(SiteReport, ASiteHoldingAHundredImagesFitsInSixtyFourKilobytes) {
  std::string bytes = EncodeSiteReport(Holding(100));
  EXPECT_LE(bytes.size(), 64u * 1024);
  EXPECT_EQ(DecodeSiteReport(bytes, "report").images.size(), 100u);
}

TEST(SiteReport, BytesThatAreNotAReportAreCorrupt) {
  EXPECT_THAT([] { DecodeSiteReport("not zstd", "report"); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::protocol
