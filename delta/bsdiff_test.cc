#include "delta/bsdiff.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/test_util.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

using testing::RandomBytes;

TEST(Bsdiff, RoundTripsEditsInsertionsAndDeletions) {
  std::string base = RandomBytes(50000, 11);
  std::string target = base;
  target.insert(1234, "new bytes here");
  target.erase(30000, 777);
  for (size_t i = 0; i < target.size(); i += 997) target[i] = static_cast<char>(target[i] + 3);
  std::string payload = BsdiffEncode(base, target, 3);
  EXPECT_EQ(BsdiffApply(base, payload, target.size()), target);
  EXPECT_LT(payload.size(), 2000u);
}

TEST(Bsdiff, HandlesEmptyInputs) {
  EXPECT_EQ(BsdiffApply("", BsdiffEncode("", "abc", 3), 3), "abc");
  EXPECT_EQ(BsdiffApply("abc", BsdiffEncode("abc", "", 3), 0), "");
}

TEST(Bsdiff, BeatsZstdOnShiftedPointers) {
  // Code recompiled after an insertion: every 4-byte "pointer" moves by the same amount.
  std::string base, target;
  for (uint32_t i = 0; i < 20000; ++i) {
    uint32_t v = i * 2654435761u, w = v + 16;
    base.append(reinterpret_cast<const char*>(&v), 4);
    target.append(reinterpret_cast<const char*>(&w), 4);
  }
  std::string bsdiff = BsdiffEncode(base, target, 19);
  EXPECT_EQ(BsdiffApply(base, bsdiff, target.size()), target);
  EXPECT_LT(bsdiff.size(), CompressWithPrefix(target, base, 19).size());
}

TEST(Bsdiff, WrongSizeOrDamagedPayloadIsCorruption) {
  std::string base = RandomBytes(5000, 12), target = base + "tail";
  std::string payload = BsdiffEncode(base, target, 3);
  EXPECT_THROW(BsdiffApply(base, payload, target.size() + 1), Error);
  EXPECT_THROW(BsdiffApply(base, payload.substr(0, payload.size() / 2), target.size()), Error);
}

}  // namespace
}  // namespace outpost::delta
