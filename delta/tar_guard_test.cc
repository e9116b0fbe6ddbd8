#include "delta/tar_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/layer_delta.h"
#include "tar/hostile_tar.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;
namespace t = tar::testing;

// Passes `tar` through a TarGuard in 100-byte writes; returns what came out.
std::string Guard(const std::string& tar) {
  StringWriter out;
  TarGuard guard(out);
  for (size_t at = 0; at < tar.size(); at += 100) {
    guard.Write(reinterpret_cast<const uint8_t*>(tar.data()) + at, std::min<size_t>(100, tar.size() - at));
  }
  guard.Finish();
  return out.str();
}

TEST(TarGuard, PassesASafeTarUnchanged) {
  std::string tar = t::Pax({{"size", "0"}}) + t::Block({.name = "empty"}) + t::File("a/b", "content") + t::End();
  EXPECT_EQ(Guard(tar), tar);
}

TEST(TarGuard, EntryHiddenBehindAPaxSizeOfZeroIsSecurity) {
  EXPECT_THAT([&] { Guard(t::HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n")); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("../../../../tmp/x")));
}

TEST(TarGuard, EntryAfterALoneZeroBlockIsCorruption) {
  std::string tar = t::File("a", "x") + std::string(512, '\0') + t::File("../../evil", "y") + t::End();
  EXPECT_THAT([&] { Guard(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("end-of-archive")));
}

TEST(TarGuard, HardLinkOutOfTheRootIsSecurity) {
  std::string tar = t::Block({.name = "l", .type = '1', .linkname = "../../etc/shadow"}) + t::End();
  EXPECT_THAT([&] { Guard(tar); }, ThrowsKind(Error::Kind::kSecurity));
}

// The delta engine's index lists the entries the guard and the extractors see.
TEST(TarGuard, TarIndexListsTheEntryAPaxSizeOfZeroUsedToHide) {
  StringReader in(t::HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n"));
  TarIndex index = TarIndex::Build(in);
  ASSERT_EQ(index.entries.size(), 2u);
  EXPECT_EQ(index.entries[1].name, "../../../../tmp/x");
}

}  // namespace
}  // namespace outpost::delta
