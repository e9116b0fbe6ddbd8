#include "storage/image_store.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// An endless source that counts what it hands out.
class EndlessReader : public Reader {
 public:
  size_t Read(uint8_t* buf, size_t n) override {
    std::fill(buf, buf + n, 'x');
    given += n;
    return n;
  }
  uint64_t given = 0;
};

template <typename R>
void Drain(R& r) {
  uint8_t buf[4096];
  while (r.Read(buf, sizeof(buf)) > 0) {
  }
}

TEST(VerifyingReaderTest, EndlessSourceIsCutOffOneByteAfterTheSize) {
  auto endless = std::make_unique<EndlessReader>();
  EndlessReader& source = *endless;
  VerifyingReader r(std::move(endless), Digest::Of("x"), 10000, "blob b");
  EXPECT_THAT([&] { Drain(r); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("blob b: longer than the 10000 bytes")));
  EXPECT_EQ(source.given, 10001u);
}

TEST(SizedReaderTest, EndlessSourceIsCutOffAndAShortOneIsCorruption) {
  auto endless = std::make_unique<EndlessReader>();
  EndlessReader& source = *endless;
  SizedReader r(std::move(endless), 5000, "layer l");
  EXPECT_THAT([&] { Drain(r); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("longer than the 5000 bytes")));
  EXPECT_EQ(source.given, 5001u);
  SizedReader short_one(std::make_unique<StringReader>("abc"), 5, "layer s");
  EXPECT_THAT([&] { Drain(short_one); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("ended after 3 of its 5 bytes")));
  SizedReader exact(std::make_unique<StringReader>("abcde"), 5, "layer e");
  EXPECT_EQ(ReadAll(exact), "abcde");
}

TEST(FileStoreFactoryTest, RegistryReferenceIsUnsupported) {
  EXPECT_THAT([] { FileStoreFactory().Open(Reference::Parse("docker://r.example/a/b:c"), false); },
              ThrowsKind(Error::Kind::kUnsupported, HasSubstr("docker://r.example/a/b:c")));
}

}  // namespace
}  // namespace outpost::storage
