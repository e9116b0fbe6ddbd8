#include "link/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

TEST(ParseRate, ReadsBitsAndBytesPerSecond) {
  EXPECT_EQ(ParseRate("64kbit"), 8000u);
  EXPECT_EQ(ParseRate("2mbit"), 250000u);
  EXPECT_EQ(ParseRate("2Mbit/s"), 250000u);
  EXPECT_EQ(ParseRate("1gbit"), 125000000u);
  EXPECT_EQ(ParseRate("500kB"), 500000u);
  EXPECT_EQ(ParseRate("1MB"), 1000000u);
  EXPECT_EQ(ParseRate("8KiB"), 8192u);
  EXPECT_EQ(ParseRate("1MiB"), 1048576u);
  EXPECT_EQ(ParseRate("1.5mbit"), 187500u);
  EXPECT_EQ(ParseRate("1200"), 1200u);
  EXPECT_EQ(ParseRate("1bit"), 1u);
}

TEST(ParseRate, RejectsZeroAndUnknownUnitsNamingTheText) {
  for (const char* bad : {"0", "0kbit", "", "fast", "2kb", "-5MB", "1e3"}) {
    EXPECT_THAT([&] { ParseRate(bad); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("rate `")));
  }
}

TEST(ParseBytes, ReadsDecimalAndBinarySizes) {
  EXPECT_EQ(ParseBytes("64KiB"), 65536u);
  EXPECT_EQ(ParseBytes("1MiB"), 1048576u);
  EXPECT_EQ(ParseBytes("2GiB"), 2147483648u);
  EXPECT_EQ(ParseBytes("500kB"), 500000u);
  EXPECT_EQ(ParseBytes("1GB"), 1000000000u);
  EXPECT_EQ(ParseBytes("812"), 812u);
  EXPECT_THAT([] { ParseBytes("1mbit"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("size `1mbit`")));
}

TEST(ParseDuration, ReadsUnitsAndBareSeconds) {
  EXPECT_EQ(ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(ParseDuration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(ParseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(ParseDuration("1d"), std::chrono::hours(24));
  EXPECT_EQ(ParseDuration("45"), std::chrono::seconds(45));
  EXPECT_THAT([] { ParseDuration("soon"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("duration `soon`")));
}

TEST(FormatRate, WritesBitsPerSecondWithOneDecimal) {
  EXPECT_EQ(FormatRate(8000), "64 kbit/s");
  EXPECT_EQ(FormatRate(187500), "1.5 Mbit/s");
  EXPECT_EQ(FormatRate(10), "80 bit/s");
  EXPECT_EQ(FormatRate(UINT64_MAX), "unlimited");
}

TEST(FormatBytes, WritesBinaryUnits) {
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 30), "3 GiB");
}

TEST(FormatProgress, NamesBothSizesAndThePercentageDone) {
  EXPECT_EQ(FormatProgress(512, 2048), "512 B of 2 KiB (25%)");
  EXPECT_EQ(FormatProgress(0, 0), "0 B of 0 B");
}

}  // namespace
}  // namespace outpost::link
