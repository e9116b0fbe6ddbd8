#include "hub/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "hub/hub.h"
#include "hub/test_support.h"
#include "link/metrics_text.h"
#include "protocol/bundle_file.h"

namespace outpost::hub {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A bundle whose one layer (1 MiB of zeros) is shipped zstd-compressed: a registry would have
// shipped the whole megabyte, so almost all of it is saved.
void WriteCompressibleBundle(const std::filesystem::path& scratch, const std::filesystem::path& path) {
  const std::string manifest = R"({"schemaVersion":2})", config = R"({"rootfs":{}})", layer(1 << 20, '\0');
  protocol::BundleWriter w(scratch);
  protocol::Header h;
  h.target_reference = "oci:/x:v2";
  h.created_by = "test";
  h.manifest = {Digest::Of(manifest), manifest.size(), "application/vnd.oci.image.manifest.v1+json", w.AppendZstd(manifest)};
  h.config = {Digest::Of(config), config.size(), "application/vnd.oci.image.config.v1+json", w.AppendZstd(config)};
  protocol::LayerEntry l;
  l.media_type = "application/vnd.oci.image.layer.v1.tar";
  l.digest = l.diff_id = Digest::Of(layer);
  l.size = layer.size();
  l.payload = w.AppendZstd(layer);
  h.layers.push_back(l);
  h.registry_bytes = layer.size();
  w.Finish(h, path, nullptr);
}

class HubMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteCompressibleBundle(dir_.path(), dir_.path() / "z.bundle");
    config_.state_dir = dir_.path() / "state";
    config_.sites = {testing::Site("oslo"), testing::Site("bergen")};
    HubState state(config_.state_dir, clock_);
    state.AddSites({"oslo", "bergen"});
    applied_ = EnqueueBundle(config_, {"oslo", dir_.path() / "z.bundle", 0, "test:2"}, clock_);
    int64_t failed = EnqueueBundle(config_, {"oslo", dir_.path() / "z.bundle", 0, "test:3"}, clock_);
    EnqueueBundle(config_, {"bergen", dir_.path() / "z.bundle", 0, std::nullopt}, clock_);
    state.BeginSending(applied_);
    state.AddSent(applied_, "oslo", 12345);
    state.Touch("oslo");
    state.Finish(applied_, {true, "sha256:" + std::string(64, 'a'), ""});
    state.Finish(failed, {false, "", "disk full"});
  }

  std::string Render() {
    HubState state(config_.state_dir, clock_);
    return HubMetrics(config_, state, [] { return size_t{2}; }).Render();
  }

  TempDir dir_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T08:00:00Z")};
  HubConfig config_;
  int64_t applied_ = 0;
};

TEST_F(HubMetricsTest, TheExpositionIsWellFormedLineByLine) {
  EXPECT_THAT(link::ExpositionProblems(Render()), IsEmpty());
}

TEST_F(HubMetricsTest, ReportsBytesQueueLastSyncErrorsAndConnectionsFromTheState) {
  std::string text = Render();
  EXPECT_THAT(text, HasSubstr("outpost_hub_link_bytes_sent_total{site=\"oslo\"} 12345\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_link_bytes_sent_total{site=\"bergen\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_transfers{site=\"oslo\",state=\"applied\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_transfers{site=\"oslo\",state=\"failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_transfers{site=\"bergen\",state=\"queued\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_last_sync_timestamp_seconds{site=\"oslo\"} 1796630400\n"));
  EXPECT_THAT(text, Not(HasSubstr("outpost_hub_last_sync_timestamp_seconds{site=\"bergen\"}")));
  EXPECT_THAT(text, HasSubstr("outpost_hub_last_contact_timestamp_seconds{site=\"oslo\"} 1796630400\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_errors_total{kind=\"transfer_failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_connected_agents 2\n"));
}

TEST_F(HubMetricsTest, BytesSavedAreTheRegistryPullLessTheBundleOfEachAppliedTransfer) {
  HubState state(config_.state_dir, clock_);
  uint64_t saved = (1 << 20) - state.Find(applied_)->file_bytes;
  EXPECT_THAT(Render(), HasSubstr("outpost_hub_bytes_saved_total{site=\"oslo\"} " + std::to_string(saved) + "\n"));
  EXPECT_THAT(Render(), HasSubstr("outpost_hub_bytes_saved_total{site=\"bergen\"} 0\n"));
}

TEST_F(HubMetricsTest, DeltaCacheHitsAndMissesAreTheCountsThePlannedTransfersRecorded) {
  EXPECT_THAT(Render(), HasSubstr("outpost_hub_delta_cache_hits_total 0\n"));
  {
    HubState state(config_.state_dir, clock_);
    NewTransfer first;
    first.site = "oslo";
    first.bundle_digest = "sha256:" + std::string(64, 'b');
    first.path = "/b";
    first.counts = {{"delta_cache_hits", 0}, {"delta_cache_misses", 2}};
    NewTransfer second = first;
    second.site = "bergen";
    second.counts = {{"delta_cache_hits", 2}, {"delta_cache_misses", 0}};
    state.Add(first);
    state.Add(second);
  }
  std::string text = Render();
  EXPECT_THAT(text, HasSubstr("outpost_hub_delta_cache_hits_total 2\n"));
  EXPECT_THAT(text, HasSubstr("outpost_hub_delta_cache_misses_total 2\n"));
  EXPECT_THAT(link::ExpositionProblems(text), IsEmpty());
}

}  // namespace
}  // namespace outpost::hub
