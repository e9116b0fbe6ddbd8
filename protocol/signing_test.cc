#include "protocol/signing.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::protocol {
namespace {

using outpost::testing::ThrowsKind;

TEST(SigningTest, SignatureVerifiesWithTheSameKeyOnly) {
  SigningKey a = SigningKey::Generate();
  SigningKey b = SigningKey::Generate();
  SignatureBytes sig = a.Sign("header and chunk table");
  EXPECT_TRUE(a.Verify("header and chunk table", sig));
  EXPECT_FALSE(a.Verify("header and chunk tablf", sig));
  EXPECT_FALSE(b.Verify("header and chunk table", sig));
}

TEST(SigningTest, KeysRoundTripThroughPemFiles) {
  TempDir dir;
  SigningKey key = SigningKey::Generate();
  key.SavePrivate(dir.path() / "key");
  key.SavePublic(dir.path() / "key.pub");
  SigningKey priv = SigningKey::LoadPrivate(dir.path() / "key");
  SigningKey pub = SigningKey::LoadPublic(dir.path() / "key.pub");
  EXPECT_EQ(priv.public_key(), key.public_key());
  EXPECT_FALSE(pub.has_private());
  EXPECT_TRUE(pub.Verify("m", priv.Sign("m")));
  auto perms = std::filesystem::status(dir.path() / "key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
}

TEST(SigningTest, PublicKeyCannotSign) {
  TempDir dir;
  SigningKey::Generate().SavePublic(dir.path() / "key.pub");
  SigningKey pub = SigningKey::LoadPublic(dir.path() / "key.pub");
  EXPECT_THAT([&] { pub.Sign("m"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(SigningTest, GarbageKeyFileIsInvalidArgument) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "key", "not a key\n");
  try {
    SigningKey::LoadPrivate(dir.path() / "key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kInvalidArgument);
  }
}

}  // namespace
}  // namespace outpost::protocol
