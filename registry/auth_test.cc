#include "registry/auth.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::registry {
namespace {

using outpost::testing::ThrowsKind;

TEST(AuthTest, BearerChallengeParametersAreRead) {
  auto c = ParseChallenge(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->param("realm"), "https://auth.example/token");
  EXPECT_EQ(c->param("service"), "registry.example");
  EXPECT_EQ(c->param("scope"), "repository:a/b:pull,push");
}

TEST(AuthTest, BasicChallengeIsRecognised) {
  auto c = ParseChallenge(R"(Basic realm="Registry Realm")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->param("realm"), "Registry Realm");
  EXPECT_FALSE(ParseChallenge(""));
}

TEST(AuthTest, Base64RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "user:p@ss:word"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_THAT([&] { Base64Decode("abc"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(AuthTest, CredsFlagWinsOverAuthFile) {
  AccessOptions options;
  options.creds = "alice:secret";
  options.authfile = "/nonexistent";
  Credentials c = FindCredentials("r.example", options);
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, "secret");
  options.creds = "nocolon";
  EXPECT_THAT([&] { FindCredentials("r.example", options); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(AuthTest, AuthFileEntryIsFoundByHost) {
  TempDir dir;
  std::string path = (dir.path() / "config.json").string();
  WriteFileAtomic(path, R"({"auths":{"https://other:5000/v1/":{"auth":"eDp5"},)"
                        R"("127.0.0.1:5000":{"auth":")" + Base64Encode("bob:pw") + R"("}}})");
  AccessOptions options;
  options.authfile = path;
  Credentials c = FindCredentials("127.0.0.1:5000", options);
  EXPECT_EQ(c.username, "bob");
  EXPECT_EQ(c.password, "pw");
  EXPECT_EQ(FindCredentials("other:5000", options).username, "x");
  EXPECT_TRUE(FindCredentials("unknown:1", options).empty());
}

TEST(AuthTest, TokenResponseWithoutTokenIsSecurityError) {
  try {
    ParseTokenResponse(R"({"expires_in":300})", "https://auth/token");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kSecurity);
  }
  auto [token, expiry] = ParseTokenResponse(R"({"access_token":"abc","expires_in":300})", "r");
  EXPECT_EQ(token, "abc");
  EXPECT_GT(expiry, TokenCache::Clock::now() + std::chrono::seconds(280));
}

TEST(AuthTest, AuthFileEntryWithNonStringPasswordIsInvalidArgumentNamingIt) {
  TempDir dir;
  std::string path = (dir.path() / "config.json").string();
  WriteFileAtomic(path, R"({"auths":{"r.example":{"username":"bob","password":7}}})");
  AccessOptions options;
  options.authfile = path;
  EXPECT_THAT([&] { FindCredentials("r.example", options); },
              outpost::testing::ThrowsKind(Error::Kind::kInvalidArgument, ::testing::HasSubstr(path)));
}

TEST(AuthTest, HugeTokenLifetimeIsKeptForADayNotWrappedIntoThePast) {
  auto [token, expiry] = ParseTokenResponse(R"({"token":"t","expires_in":18446744073709551615})", "r");
  EXPECT_LE(expiry, TokenCache::Clock::now() + std::chrono::hours(24));
  auto [token2, expiry2] = ParseTokenResponse(R"({"token":"t","expires_in":4294967296})", "r");
  EXPECT_GT(expiry2, TokenCache::Clock::now() + std::chrono::hours(23));
}

TEST(AuthTest, CachedTokenExpires) {
  TokenCache cache;
  cache.Put("s", "t", TokenCache::Clock::now() + std::chrono::hours(1));
  EXPECT_EQ(cache.Get("s"), "t");
  cache.Put("s", "t", TokenCache::Clock::now() - std::chrono::seconds(1));
  EXPECT_FALSE(cache.Get("s"));
}

}  // namespace
}  // namespace outpost::registry
