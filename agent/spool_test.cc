#include "agent/spool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "protocol/test_bundle.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

using ::testing::ElementsAre;
using outpost::testing::ThrowsKind;

// A signed bundle of three payload chunks (a 2.5 MiB layer) and a spool fed from it.
class SpoolTest : public ::testing::Test {
 protected:
  SpoolTest() {
    std::string layer(5 * protocol::kChunkBytes / 2, '\0');
    for (size_t i = 0; i < layer.size(); ++i) layer[i] = static_cast<char>((i * 7919) >> 8);
    protocol::testing::WriteTestBundle(dir_.path(), dir_.path() / "b.bundle", layer, &key_);
    bundle_ = ReadFileToString(dir_.path() / "b.bundle");
    head_bytes_ = protocol::HeadLength(bundle_, "b").bytes;
  }

  Spool::Options Options(uint64_t checkpoint = 64 * 1024, const protocol::SigningKey* key = nullptr) {
    return Spool::Options{spool_path_, "transfer 7", head_bytes_, bundle_.size(), key ? key : &key_, checkpoint,
                          [this](uint64_t b) { persisted_.push_back(b); }};
  }

  // Feeds bundle bytes [from, to) in pieces of `piece` bytes, checkpointing when due.
  void Feed(Spool& spool, uint64_t to, size_t piece = 100'000) {
    while (spool.size() < to) {
      size_t n = std::min<uint64_t>(piece, to - spool.size());
      Spool::AppendResult r = spool.Append(std::string_view(bundle_).substr(spool.size(), n));
      ASSERT_FALSE(r.bad_chunk);
      if (r.checkpoint_due) spool.Checkpoint();
    }
  }

  uint64_t ChunkStart(size_t i) {
    return head_bytes_ + protocol::BundleHead::Parse(bundle_.substr(0, head_bytes_), "b").ChunkOffset(i);
  }

  TempDir dir_;
  protocol::SigningKey key_ = protocol::SigningKey::Generate();
  std::string bundle_;
  uint64_t head_bytes_ = 0;
  std::filesystem::path spool_path_ = dir_.path() / "7.bundle";
  std::vector<uint64_t> persisted_;
};

TEST_F(SpoolTest, AFedSpoolIsTheBundleFileAndCheckpointsEveryInterval) {
  Spool spool(Options(1 << 20), 0);
  Feed(spool, bundle_.size());
  spool.Checkpoint();
  EXPECT_TRUE(spool.complete());
  EXPECT_TRUE(spool.head().verified());
  EXPECT_EQ(ReadFileToString(spool_path_), bundle_);
  ASSERT_GE(persisted_.size(), 3u);
  EXPECT_EQ(persisted_.back(), bundle_.size());
  for (size_t i = 1; i < persisted_.size(); ++i) EXPECT_GT(persisted_[i], persisted_[i - 1]);
  EXPECT_EQ(spool.durable_payload(), bundle_.size() - head_bytes_);
}

TEST_F(SpoolTest, CheckpointIsDueOnlyAfterTheInterval) {
  Spool spool(Options(256 * 1024), 0);
  EXPECT_FALSE(spool.Append(std::string_view(bundle_).substr(0, head_bytes_ + 1000)).checkpoint_due);
  EXPECT_TRUE(spool.Append(std::string_view(bundle_).substr(head_bytes_ + 1000, 300 * 1024)).checkpoint_due);
  spool.Checkpoint();
  EXPECT_THAT(persisted_, ElementsAre(head_bytes_ + 1000 + 300 * 1024));
  EXPECT_EQ(spool.durable(), head_bytes_ + 1000 + 300 * 1024);
}

TEST_F(SpoolTest, RestartCutsTheFileBackToTheDurableOffsetAndResumesThere) {
  uint64_t durable = 0;
  {
    Spool spool(Options(), 0);
    Feed(spool, head_bytes_ + 1'500'000);
    spool.Checkpoint();
    durable = spool.durable();
    spool.Append(std::string_view(bundle_).substr(spool.size(), 5000));  // never made durable
  }
  Spool spool(Options(), durable);
  EXPECT_EQ(spool.size(), durable);
  EXPECT_EQ(std::filesystem::file_size(spool_path_), durable);
  EXPECT_TRUE(spool.head_complete());
  Feed(spool, bundle_.size(), 77'777);
  EXPECT_EQ(ReadFileToString(spool_path_), bundle_);
}

TEST_F(SpoolTest, AnIncompleteHeadIsFetchedAgainWhole) {
  {
    Spool spool(Options(), 0);
    spool.Append(std::string_view(bundle_).substr(0, head_bytes_ - 10));
    spool.Checkpoint();
  }
  Spool spool(Options(), head_bytes_ - 10);
  EXPECT_EQ(spool.size(), 0u);
  EXPECT_FALSE(spool.head_complete());
  EXPECT_EQ(persisted_.back(), 0u);
}

TEST_F(SpoolTest, ASpoolShorterThanTheRowKeepsOnlyWhatItHolds) {
  {
    Spool spool(Options(), 0);
    Feed(spool, head_bytes_ + 5000);
    spool.Checkpoint();
  }
  std::filesystem::resize_file(spool_path_, head_bytes_ + 100);
  Spool spool(Options(), head_bytes_ + 5000);
  EXPECT_EQ(spool.size(), head_bytes_ + 100);
  EXPECT_EQ(persisted_.back(), head_bytes_ + 100);
}

TEST_F(SpoolTest, ABadChunkIsCutOffAndOnlyItIsFetchedAgain) {
  Spool spool(Options(64 * 1024), 0);
  Feed(spool, ChunkStart(1) + 10);
  spool.Checkpoint();
  std::string damaged = bundle_.substr(spool.size(), ChunkStart(2) + 5 - spool.size());
  damaged[1000] ^= 0x01;
  Spool::AppendResult r = spool.Append(damaged);
  ASSERT_TRUE(r.bad_chunk);
  EXPECT_EQ(*r.bad_chunk, 1u);
  EXPECT_EQ(spool.size(), ChunkStart(1));
  EXPECT_EQ(spool.durable(), ChunkStart(1));  // the row was lowered with the file
  EXPECT_EQ(persisted_.back(), ChunkStart(1));
  EXPECT_EQ(std::filesystem::file_size(spool_path_), ChunkStart(1));
  Feed(spool, bundle_.size());
  EXPECT_EQ(ReadFileToString(spool_path_), bundle_);
}

TEST_F(SpoolTest, AHeadSignedByAnotherKeyIsASecurityError) {
  protocol::SigningKey other = protocol::SigningKey::Generate();
  Spool spool(Options(64 * 1024, &other), 0);
  EXPECT_THAT([&] { spool.Append(std::string_view(bundle_).substr(0, head_bytes_ + 10)); },
              ThrowsKind(Error::Kind::kSecurity));
}

TEST_F(SpoolTest, BytesPastTheEndAreCorruption) {
  Spool spool(Options(), 0);
  Feed(spool, bundle_.size());
  EXPECT_THAT([&] { spool.Append("x"); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::agent
