#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/layer_delta.h"
#include "delta/test_util.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using testing::TarEnd;
using testing::TarFile;

TarIndex IndexOf(const std::string& tar) {
  StringReader r(tar);
  return TarIndex::Build(r);
}

std::string SampleTar() {
  return TarFile("etc/os-release", "ID=test\n") + TarFile("usr/bin/tool", std::string(3000, 't')) +
         TarFile("empty", "") + TarEnd();
}

TEST(TarIndexSerialization, ParseGivesBackEveryField) {
  TarIndex index = IndexOf(SampleTar());
  TarIndex back = TarIndex::Parse(index.Serialize());
  EXPECT_EQ(back.tar_size, index.tar_size);
  EXPECT_EQ(back.tar_digest, index.tar_digest);
  ASSERT_EQ(back.entries.size(), index.entries.size());
  for (size_t i = 0; i < index.entries.size(); ++i) {
    const TarIndexEntry &a = index.entries[i], &b = back.entries[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.size, a.size);
    EXPECT_EQ(b.header_offset, a.header_offset);
    EXPECT_EQ(b.data_offset, a.data_offset);
    EXPECT_EQ(b.content, a.content);
  }
}

TEST(TarIndexSerialization, EveryTruncationIsCorruption) {
  std::string bytes = IndexOf(SampleTar()).Serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      TarIndex::Parse(std::string_view(bytes).substr(0, n));
      ADD_FAILURE() << "parsed a cut at " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption) << n;
    }
  }
  EXPECT_THAT([&] { TarIndex::Parse(bytes + "x"); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(TarIndexSerialization, EntryOutsideTheTarIsCorruption) {
  TarIndex index = IndexOf(SampleTar());
  index.entries[1].size = index.tar_size;  // content running past the end
  EXPECT_THAT([&] { TarIndex::Parse(index.Serialize()); }, ThrowsKind(Error::Kind::kCorruption));
  index = IndexOf(SampleTar());
  std::swap(index.entries[0], index.entries[1]);  // out of order
  EXPECT_THAT([&] { TarIndex::Parse(index.Serialize()); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::delta
