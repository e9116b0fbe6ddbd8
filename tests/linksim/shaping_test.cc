#include "tests/linksim/shaping.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/linksim/connect_request.h"

namespace outpost::linksim {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0{};

TEST(LinksimTokenBucket, SlicesAreOneTwentiethOfTheRateButAtLeast512Bytes) {
  EXPECT_EQ(TokenBucket(100000, kT0).slice(), 5000u);
  EXPECT_EQ(TokenBucket(1000, kT0).slice(), 512u);
}

TEST(LinksimTokenBucket, WaitsForTheMissingTokensAtTheRate) {
  TokenBucket bucket(100000, kT0);
  EXPECT_EQ(bucket.WaitFor(5000, kT0), Clock::duration::zero());
  bucket.Take(5000);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(bucket.WaitFor(5000, kT0)), milliseconds(50));
  EXPECT_EQ(bucket.WaitFor(5000, kT0 + milliseconds(50)), Clock::duration::zero());
}

TEST(LinksimTokenBucket, NeverWaitsWhenUnlimited) {
  TokenBucket bucket(0, kT0);
  bucket.Take(1 << 30);
  EXPECT_EQ(bucket.WaitFor(bucket.slice(), kT0), Clock::duration::zero());
}

TEST(LinksimBlackholes, CoverTheirIntervalAndMergeTheOnesThatTouch) {
  Blackholes holes;
  holes.Add(kT0 + milliseconds(100), milliseconds(100));
  holes.Add(kT0 + milliseconds(150), milliseconds(100));
  EXPECT_FALSE(holes.Until(kT0 + milliseconds(99)));
  EXPECT_EQ(holes.Until(kT0 + milliseconds(120)), kT0 + milliseconds(250));
  EXPECT_FALSE(holes.Until(kT0 + milliseconds(250)));
  EXPECT_EQ(holes.Total(kT0, kT0 + milliseconds(200)), milliseconds(100));
  EXPECT_EQ(holes.Total(kT0, kT0 + milliseconds(1000)), milliseconds(150));
}

TEST(LinksimDownFaults, WritesStopAtEachCutBoundaryAndCutThere) {
  DownFaults faults(1000, 0, std::nullopt);
  EXPECT_EQ(faults.Limit(900, 5000), 100u);
  EXPECT_TRUE(faults.CutAt(1000));
  EXPECT_EQ(faults.Limit(1000, 5000), 1000u);
  EXPECT_FALSE(faults.CutAt(1500));
  EXPECT_TRUE(faults.CutAt(2000));
}

TEST(LinksimDownFaults, CutAfterCutsOnce) {
  DownFaults faults(0, 700, std::nullopt);
  EXPECT_EQ(faults.Limit(0, 5000), 700u);
  EXPECT_TRUE(faults.CutAt(700));
  EXPECT_EQ(faults.Limit(700, 5000), 5000u);
  EXPECT_FALSE(faults.CutAt(1400));
}

TEST(LinksimDownFaults, FlipsTheByteOnceAndOnlyWhenItWasWritten) {
  DownFaults faults(0, 0, 12);
  std::string bytes(10, 'a');
  auto* data = reinterpret_cast<uint8_t*>(bytes.data());
  EXPECT_FALSE(faults.Corrupt(0, data, 10));
  auto flipped = faults.Corrupt(10, data, 10);
  ASSERT_EQ(flipped, 2u);
  EXPECT_EQ(bytes[2], static_cast<char>('a' ^ 0xFF));
  faults.Settle(2, data, flipped);  // the write stopped short of it
  EXPECT_EQ(bytes[2], 'a');
  EXPECT_FALSE(faults.corrupted());
  faults.Settle(10, data, faults.Corrupt(10, data, 10));
  EXPECT_TRUE(faults.corrupted());
  EXPECT_FALSE(faults.Corrupt(10, data, 10));
}

TEST(LinksimConnectHead, ParsesTheTargetOfACompleteHead) {
  std::string head = "CONNECT hub.example:8443 HTTP/1.1\r\nHost: hub.example:8443\r\n\r\nextra";
  ASSERT_EQ(ConnectHeadEnd(head), head.size() - 5);
  auto target = ParseConnectHead(head);
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "hub.example");
  EXPECT_EQ(target->port, 8443);
  EXPECT_FALSE(ConnectHeadEnd("CONNECT a:1 HTTP/1.1\r\n"));
  EXPECT_FALSE(ParseConnectHead("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(ParseConnectHead("CONNECT nohost HTTP/1.1\r\n\r\n"));
}

}  // namespace
}  // namespace outpost::linksim
