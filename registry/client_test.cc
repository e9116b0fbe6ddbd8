#include "registry/client.h"

#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::registry {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

TEST(ClientTest, BackoffGrowsWithJitterAndStaysCapped) {
  ClientOptions o;
  o.backoff_base = std::chrono::milliseconds(100);
  o.backoff_cap = std::chrono::milliseconds(1000);
  for (int i = 0; i < 20; ++i) {
    auto first = BackoffDelay(1, o, "");
    EXPECT_GE(first.count(), 50);
    EXPECT_LT(first.count(), 100);
    auto third = BackoffDelay(3, o, "");
    EXPECT_GE(third.count(), 200);
    EXPECT_LT(third.count(), 400);
    EXPECT_LT(BackoffDelay(30, o, "").count(), 1000);
  }
}

TEST(ClientTest, RetryAfterIsHonouredUpToItsCap) {
  ClientOptions o;
  o.backoff_base = std::chrono::milliseconds(10);
  o.retry_after_cap = std::chrono::seconds(5);
  EXPECT_EQ(BackoffDelay(1, o, "2"), std::chrono::milliseconds(2000));
  EXPECT_EQ(BackoffDelay(1, o, "3600"), std::chrono::milliseconds(5000));
  EXPECT_LT(BackoffDelay(1, o, "Wed, 21 Oct 2015 07:28:00 GMT").count(), 10);
}

TEST(ClientTest, ErrorsNameRegistryRepositoryStatusAndCode) {
  Error e = RegistryError("127.0.0.1:5000", "team/app", "PUT manifest v1", 400,
                          R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]})");
  EXPECT_STREQ(e.what(),
               "registry 127.0.0.1:5000, repository team/app: PUT manifest v1: HTTP 400 "
               "MANIFEST_BLOB_UNKNOWN (blob unknown to registry)");
  EXPECT_EQ(RegistryError("h", "r", "GET", 404, "").kind(), Error::Kind::kNotFound);
  EXPECT_EQ(RegistryError("h", "r", "GET", 401, "not json").kind(), Error::Kind::kSecurity);
  EXPECT_EQ(RegistryError("h", "r", "PUT", 400, R"({"errors":[{"code":"DIGEST_INVALID"}]})").kind(),
            Error::Kind::kCorruption);
}

TEST(ClientTest, RetryableStatusesAreTransientOnes) {
  EXPECT_TRUE(IsRetryableStatus(503));
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_FALSE(IsRetryableStatus(404));
  EXPECT_FALSE(IsRetryableStatus(401));
}

TEST(ClientTest, PlainHttpTokenRealmOfAnHttpsRegistryIsRefused) {
  Url registry = Url::Parse("https://registry.example");
  EXPECT_THAT([&] { TokenRealm("registry.example", registry, "http://other-host/token"); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("http://other-host/token")));
  EXPECT_EQ(TokenRealm("registry.example", registry, "https://auth.example/token").host, "auth.example");
  // A registry reached over plain http (loopback, --tls-verify=false) has no TLS to lose.
  EXPECT_EQ(TokenRealm("127.0.0.1:5000", Url::Parse("http://127.0.0.1:5000"), "http://127.0.0.1:5001/token").port,
            "5001");
}

TEST(ClientTest, TokenRealmThatIsNoUrlIsSecurityNamingIt) {
  EXPECT_THAT([] { TokenRealm("r.example", Url::Parse("https://r.example"), "ftp://x/token"); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("ftp://x/token")));
}

TEST(ClientTest, LoopbackHostsAreRecognised) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackHost("registry.example:5000"));
}

}  // namespace
}  // namespace outpost::registry
