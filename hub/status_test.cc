#include "hub/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "hub/test_support.h"
#include "link/schedule.h"
#include "tests/support/matchers.h"

namespace outpost::hub {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

class HubStatusTest : public ::testing::Test {
 protected:
  HubStatusTest() {
    config_.file = "hub.yaml";
    SiteConfig oslo = testing::Site("oslo");
    oslo.rate = 1000;
    oslo.timezone = "Europe/Oslo";
    link::Window office;
    office.days = link::ParseDays("mon-fri");
    office.start_minute = link::ParseTimeOfDay("09:00");
    office.end_minute = link::ParseTimeOfDay("17:00");
    oslo.windows = {office};
    config_.sites = {oslo, testing::Site("bergen")};
  }
  int64_t Queue(const std::string& site, uint64_t payload) {
    return state_.Add({site, "sha256:" + std::string(64, 'b'), dir_.path() / "x.bundle", 100, 100 + payload, 0, "app:2.0"});
  }

  TempDir dir_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T14:00:00Z")};  // Monday 15:00 in Oslo
  HubState state_{dir_.path(), clock_};
  HubConfig config_;
};

TEST_F(HubStatusTest, RemainingBytesAndTheEtaFollowTheSitesWindows) {
  int64_t id = Queue("oslo", 10'000'000);
  state_.Ack(id, 1'000'000);
  std::vector<SiteStatus> sites = CollectStatus(config_, state_, clock_.Now());
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].remaining, 9'000'000u);
  EXPECT_EQ(sites[0].rate_now, 1000u);
  // 7.2 MB until 17:00 today, the last 1.8 MB from 09:00 Tuesday: 09:30 local, 08:30 UTC.
  EXPECT_EQ(sites[0].done, link::ParseUtcTime("2026-12-08T08:30:00Z"));
  EXPECT_EQ(sites[1].remaining, 0u);
}

TEST_F(HubStatusTest, JsonNamesEachSitesTransfersErrorsAndEta) {
  Queue("oslo", 1000);
  int64_t failed = Queue("bergen", 1000);
  state_.Touch("bergen");
  state_.Finish(failed, {false, "", "apply: base sha256:abc not found"});
  nlohmann::json j = StatusJson(CollectStatus(config_, state_, clock_.Now()), clock_.Now());
  EXPECT_EQ(j["now"], "2026-12-07T14:00:00Z");
  EXPECT_EQ(j["sites"][0]["transfers"][0]["state"], "queued");
  EXPECT_EQ(j["sites"][0]["eta"], "2026-12-07T14:00:01Z");
  EXPECT_EQ(j["sites"][1]["last_contact"], "2026-12-07T14:00:00Z");
  EXPECT_EQ(j["sites"][1]["transfers"][0]["error"], "apply: base sha256:abc not found");
  EXPECT_TRUE(j["sites"][1]["rate_now"].is_null());  // uncapped
}

TEST_F(HubStatusTest, TextShowsProgressAndTheWindow) {
  int64_t id = Queue("oslo", 4'000'000);
  state_.Ack(id, 1'000'000);
  std::string text = StatusText(CollectStatus(config_, state_, clock_.Now(), "oslo"), clock_.Now());
  EXPECT_THAT(text, HasSubstr("site oslo: last contact never"));
  EXPECT_THAT(text, HasSubstr("changes in 2h 0m"));
  EXPECT_THAT(text, HasSubstr("(25%)"));
  EXPECT_THAT(text, HasSubstr("app:2.0"));
}

TEST_F(HubStatusTest, AHeldTransferIsListedWithTheApproveCommandAndNotCountedAsRemaining) {
  NewTransfer t{"oslo", "sha256:" + std::string(64, 'c'), dir_.path() / "y.bundle", 100, 5100, 0, "test:2.0.0"};
  t.held = true;
  int64_t id = state_.Add(t);
  std::vector<SiteStatus> sites = CollectStatus(config_, state_, clock_.Now(), "oslo");
  EXPECT_EQ(sites[0].remaining, 0u);
  nlohmann::json j = StatusJson(sites, clock_.Now());
  ASSERT_EQ(j["sites"][0]["transfers"].size(), 1u);
  EXPECT_EQ(j["sites"][0]["transfers"][0]["state"], "held");
  EXPECT_EQ(j["sites"][0]["transfers"][0]["id"], id);
  std::string text = StatusText(sites, clock_.Now());
  EXPECT_THAT(text, HasSubstr("nothing queued, 1 held\n"));
  EXPECT_THAT(text, HasSubstr("#" + std::to_string(id) + " held test:2.0.0"));
  EXPECT_THAT(text, HasSubstr("over max_bundle_bytes: `outpost hub approve --site oslo " + std::to_string(id) + "` sends it"));
}

TEST_F(HubStatusTest, AnUnknownSiteIsNotFoundNamingTheConfiguredOnes) {
  EXPECT_THAT([&] { CollectStatus(config_, state_, clock_.Now(), "tromso"); }, ThrowsKind(Error::Kind::kNotFound));
}

}  // namespace
}  // namespace outpost::hub
