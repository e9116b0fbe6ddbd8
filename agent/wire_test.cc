#include "agent/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/hub_client.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

const HostPort kProxy{"squid", 3128}, kHub{"hub.example", 8443};

TEST(ProxyConnect, AsksForTheHubByHostAndPort) {
  EXPECT_EQ(ConnectRequest(kHub), "CONNECT hub.example:8443 HTTP/1.1\r\nHost: hub.example:8443\r\n\r\n");
  EXPECT_EQ(ConnectRequest({"::1", 443}), "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
}

TEST(ProxyConnect, AcceptsA200) {
  CheckConnectResponse("HTTP/1.1 200 Connection established\r\n\r\n", kProxy, kHub);
  CheckConnectResponse("HTTP/1.0 200 OK\r\nProxy-Agent: x\r\n\r\n", kProxy, kHub);
}

TEST(ProxyConnect, RefusesAnythingElseNamingProxyHubAndStatus) {
  EXPECT_THAT([] { CheckConnectResponse("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", kProxy, kHub); },
              ThrowsKind(Error::Kind::kNetwork, AllOf(HasSubstr("squid:3128"), HasSubstr("hub.example:8443"),
                                                       HasSubstr("407 Proxy Authentication Required"))));
  EXPECT_THAT([] { CheckConnectResponse("SSH-2.0-OpenSSH\r\n\r\n", kProxy, kHub); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("not an HTTP answer")));
}

TEST(ProtocolVersion, AcceptsOneAndRefusesOthersSayingBoth) {
  CheckProtocolVersion("1");
  EXPECT_THAT([] { CheckProtocolVersion("2"); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("hub speaks protocol 2; this agent speaks 1")));
  EXPECT_THAT([] { CheckProtocolVersion(std::nullopt); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("this agent speaks 1")));
}

TEST(RetryAfter, ReadsSecondsAndCapsThemAtADay) {
  EXPECT_EQ(ParseRetryAfter("120"), std::chrono::seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 "), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter("999999"), std::chrono::seconds(86400));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter("-5"));
}

TEST(RetryAfter, A503WithItIsBusyNotAnError) {
  HubResponse busy{503, R"({"error":"outside the site's windows"})", std::chrono::seconds(42), ""};
  try {
    ThrowUnlessSuccess(busy, "GET /v1/transfers/7/payload");
    FAIL() << "no throw";
  } catch (const HubBusy& e) {
    EXPECT_EQ(e.wait(), std::chrono::seconds(42));
    EXPECT_THAT(e.what(), HasSubstr("outside the site's windows"));
  }
  HubResponse unavailable{503, "{}", std::nullopt, ""};
  EXPECT_THAT([&] { ThrowUnlessSuccess(unavailable, "GET x"); }, ThrowsKind(Error::Kind::kNetwork));
  ThrowUnlessSuccess({206, "", std::nullopt, ""}, "GET x");
}

TEST(ContentRangeHeader, ParsesTheGrantedRange) {
  auto r = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 100u);
  EXPECT_EQ(r->last, 199u);
  EXPECT_EQ(r->total, 1000u);
  EXPECT_FALSE(ParseContentRange("bytes 200-100/1000"));
  EXPECT_FALSE(ParseContentRange("bytes 0-1000/1000"));
  EXPECT_FALSE(ParseContentRange("items 0-1/2"));
}

TEST(WorkListBody, ReadsTheTransfersInOrder) {
  std::vector<WorkItem> items = ParseWorkList(R"({"site":"oslo","transfers":[
      {"id":7,"bundle":"sha256:ab","head_bytes":4310,"file_bytes":20975842,"priority":0,"as":"test:2.0.0","acked":0,"keep":2},
      {"id":3,"bundle":"sha256:cd","head_bytes":10,"file_bytes":10,"priority":0,"as":null,"acked":0}],
      "window":{"open":true,"rate":null,"next_change":null}})");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, 7);
  EXPECT_EQ(items[0].as, "test:2.0.0");
  EXPECT_EQ(items[1].as, "");
  EXPECT_EQ(items[0].keep, 2u);
  EXPECT_EQ(items[1].keep, std::nullopt);  // an older hub, or no subscription
  EXPECT_THAT([] { ParseWorkList(R"({"transfers":[{"id":1}]})"); }, ThrowsKind(Error::Kind::kNetwork));
  EXPECT_THAT([] { ParseWorkList("<html>"); }, ThrowsKind(Error::Kind::kNetwork));
}

TEST(WorkListBody, ReadsTheSignaturesTheHubWantsAndNoneFromAnOlderHub) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  std::vector<SignatureWanted> wanted = ParseWantedSignatures(
      R"({"site":"oslo","transfers":[],"signatures":[{"image":"test:1.0.0","manifest":")" + digest + R"("}]})");
  ASSERT_EQ(wanted.size(), 1u);
  EXPECT_EQ(wanted[0].image, "test:1.0.0");
  EXPECT_EQ(wanted[0].manifest, digest);
  EXPECT_TRUE(ParseWantedSignatures(R"({"site":"oslo","transfers":[]})").empty());
  EXPECT_THAT([] { ParseWantedSignatures(R"({"signatures":[{"image":"test:1","manifest":"latest"}]})"); },
              ThrowsKind(Error::Kind::kNetwork));
  EXPECT_THAT([] { ParseWantedSignatures(R"({"signatures":[{"image":7}]})"); }, ThrowsKind(Error::Kind::kNetwork));
}

TEST(Bodies, AckAndResultAreTheProtocolsJson) {
  EXPECT_EQ(AckBody(1048576), R"({"received":1048576})");
  TransferRow applied;
  applied.state = TransferState::kApplied;
  applied.manifest = "sha256:m";
  applied.tag = "t:1";
  EXPECT_EQ(ResultBody(applied), R"({"manifest":"sha256:m","state":"applied","tag":"t:1"})");
  TransferRow failed;
  failed.state = TransferState::kFailed;
  failed.error = "bad";
  EXPECT_EQ(ResultBody(failed), R"({"error":"bad","state":"failed"})");
  EXPECT_EQ(ErrorText(R"({"error":"no such transfer"})"), "no such transfer");
}

TEST(ResultStatus, OnlyPermanentRefusalsEndTheReporting) {
  EXPECT_EQ(ClassifyResultStatus(200), ResultAnswer::kConfirmed);
  EXPECT_EQ(ClassifyResultStatus(204), ResultAnswer::kConfirmed);
  for (int status : {400, 403, 404, 409, 413, 416}) EXPECT_EQ(ClassifyResultStatus(status), ResultAnswer::kRefused) << status;
  for (int status : {408, 429, 500, 502, 503, 301}) EXPECT_EQ(ClassifyResultStatus(status), ResultAnswer::kRetry) << status;
}

}  // namespace
}  // namespace outpost::agent
