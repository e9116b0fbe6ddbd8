#include "registry/url.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::registry {
namespace {

using outpost::testing::ThrowsKind;

TEST(UrlTest, ParsesHostPortAndTarget) {
  Url u = Url::Parse("https://127.0.0.1:5000/v2/a/b/blobs/uploads/x?_state=y");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "5000");
  EXPECT_EQ(u.target, "/v2/a/b/blobs/uploads/x?_state=y");
  EXPECT_EQ(u.authority(), "127.0.0.1:5000");
}

TEST(UrlTest, DefaultPortComesFromScheme) {
  EXPECT_EQ(Url::Parse("https://auth.example.com/token").port, "443");
  EXPECT_EQ(Url::Parse("http://example.com").target, "/");
  EXPECT_EQ(Url::Parse("http://example.com").authority(), "example.com");
}

TEST(UrlTest, RelativeLocationKeepsTheOrigin) {
  Url base = Url::Parse("http://localhost:5000/v2/");
  Url next = base.Resolve("/v2/x/tags/list?last=b&n=2");
  EXPECT_EQ(next.str(), "http://localhost:5000/v2/x/tags/list?last=b&n=2");
  EXPECT_TRUE(next.SameOrigin(base));
  EXPECT_FALSE(base.Resolve("https://s3.example.com/blob").SameOrigin(base));
}

TEST(UrlTest, NonHttpSchemeIsInvalidArgument) {
  EXPECT_THAT([&] { Url::Parse("ftp://x/y"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { Url::Parse("/no/scheme"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(UrlTest, QueryValuesArePercentEncoded) {
  EXPECT_EQ(AddQuery("/token", "scope", "repository:a/b:pull,push"),
            "/token?scope=repository%3Aa%2Fb%3Apull%2Cpush");
  EXPECT_EQ(AddQuery("/u?_state=x", "digest", "sha256:ab"), "/u?_state=x&digest=sha256%3Aab");
}

}  // namespace
}  // namespace outpost::registry
