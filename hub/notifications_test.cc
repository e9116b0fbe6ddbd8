#include "hub/notifications.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hub/test_support.h"
#include "tests/support/matchers.h"

namespace outpost::hub {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using outpost::testing::ThrowsKind;

constexpr const char* kToken = "0123456789abcdef-secret";

HubConfig Subscribing() {
  HubConfig config;
  SiteConfig oslo = testing::Site("oslo");
  Subscription sub;
  sub.images = {"test:2.*", "app/*:1.*"};
  oslo.subscriptions.push_back(sub);
  config.sites = {oslo, testing::Site("bergen")};
  config.source = SourceConfig{};
  config.notifications_token = kToken;
  return config;
}

std::string Event(const std::string& action, const std::string& repo, const std::string& tag) {
  std::string target = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","repository":")" + repo + "\"";
  if (!tag.empty()) target += R"(,"tag":")" + tag + "\"";
  return R"({"id":"e1","action":")" + action + R"(","target":)" + target + "}}";
}

std::string Envelope(const std::vector<std::string>& events) {
  std::string body = R"({"events":[)";
  for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
  return body + "]}";
}

link::PlainRequest Post(const std::string& body, const std::string& authorization) {
  link::PlainRequest request{boost::beast::http::verb::post, "/v1/notifications", 11};
  request.set(boost::beast::http::field::content_type, "application/vnd.docker.distribution.events.v1+json");
  if (!authorization.empty()) request.set(boost::beast::http::field::authorization, authorization);
  request.body() = body;
  return request;
}

TEST(SubscribedPushes, ListsPushesOfSubscribedTagsAndIgnoresPullsAndOtherRepositories) {
  HubConfig config = Subscribing();
  std::string body = Envelope({Event("pull", "test", "2.0"), Event("push", "test", "2.1"), Event("push", "test", "1.0"),
                               Event("push", "other", "2.0"), Event("push", "app/web", "1.4"), Event("delete", "test", "2.2")});
  EXPECT_THAT(SubscribedPushes(config, body), ElementsAre("test:2.1@sha256:00", "app/web:1.4@sha256:00"));
}

TEST(SubscribedPushes, AManifestPushedByDigestCountsWhenSomeSubscriptionNamesItsRepository) {
  HubConfig config = Subscribing();
  EXPECT_THAT(SubscribedPushes(config, Envelope({Event("push", "app/web", "")})), ElementsAre("app/web@sha256:00"));
  EXPECT_THAT(SubscribedPushes(config, Envelope({Event("push", "other", "")})), IsEmpty());
}

TEST(SubscribedPushes, ABlobPushIsNotAnImageYet) {
  HubConfig config = Subscribing();
  std::string blob = R"({"action":"push","target":{"mediaType":"application/octet-stream","repository":"test","digest":"sha256:00"}})";
  EXPECT_THAT(SubscribedPushes(config, Envelope({blob})), IsEmpty());
}

TEST(SubscribedPushes, SomethingThatIsNotAnEnvelopeIsAnInvalidArgument) {
  HubConfig config = Subscribing();
  EXPECT_THAT([&] { SubscribedPushes(config, "{not json"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("not JSON")));
  EXPECT_THAT([&] { SubscribedPushes(config, R"({"event":[]})"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { SubscribedPushes(config, R"({"events":[1]})"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(BearerMatches, AcceptsOnlyTheExactTokenAfterBearer) {
  EXPECT_TRUE(BearerMatches("Bearer abc", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer abd", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer abcd", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer ab", "abc"));
  EXPECT_FALSE(BearerMatches("abc", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
}

class NotificationsTest : public ::testing::Test {
 protected:
  HubConfig config_ = Subscribing();
  int woken_ = 0;
  std::vector<std::string> pushes_;
  Notifications notifications_{config_, [this](const std::vector<std::string>& pushes) {
                                 ++woken_;
                                 pushes_ = pushes;
                               }};
};

TEST_F(NotificationsTest, ASubscribedPushWithTheTokenWakesTheWatcherOnce) {
  link::PlainReply reply = notifications_.Handle(Post(Envelope({Event("push", "test", "2.1"), Event("push", "test", "2.2")}),
                                                      std::string("Bearer ") + kToken));
  EXPECT_EQ(reply.status, 202u);
  EXPECT_EQ(woken_, 1);
  EXPECT_THAT(pushes_, ElementsAre("test:2.1@sha256:00", "test:2.2@sha256:00"));
}

TEST_F(NotificationsTest, AnEnvelopeWithOnlyPullsIsAcceptedWithoutAWake) {
  EXPECT_EQ(notifications_.Handle(Post(Envelope({Event("pull", "test", "2.1")}), std::string("Bearer ") + kToken)).status, 200u);
  EXPECT_EQ(woken_, 0);
}

TEST_F(NotificationsTest, AWrongOrMissingTokenIsRefusedWith401) {
  std::string body = Envelope({Event("push", "test", "2.1")});
  EXPECT_EQ(notifications_.Handle(Post(body, "Bearer wrong-token-wrong-token")).status, 401u);
  EXPECT_EQ(notifications_.Handle(Post(body, "")).status, 401u);
  EXPECT_EQ(woken_, 0);
}

TEST_F(NotificationsTest, MalformedJsonIsRefusedWith400AndAGetWith405) {
  EXPECT_EQ(notifications_.Handle(Post("{\"events\":", std::string("Bearer ") + kToken)).status, 400u);
  link::PlainRequest get{boost::beast::http::verb::get, "/v1/notifications", 11};
  EXPECT_EQ(notifications_.Handle(get).status, 405u);
  EXPECT_EQ(woken_, 0);
}

HubConfig ParseYaml(const std::string& extra) {
  return ParseHubConfig(link::ConfigMap::Parse("listen: 127.0.0.1:8443\nstate_dir: /s\ntls: {ca: a, cert: b, key: c}\n"
                                               "sites:\n  - name: oslo\n" + extra,
                                               "hub.yaml"));
}

TEST(HubConfig, ReadsHttpListenAndTheNotificationsToken) {
  HubConfig c = ParseYaml("http_listen: 127.0.0.1:9464\nsource: docker://reg:5000\nnotifications_token: 0123456789abcdef\n");
  ASSERT_TRUE(c.http_listen);
  EXPECT_EQ(c.http_listen->first, "127.0.0.1");
  EXPECT_EQ(c.http_listen->second, 9464);
  EXPECT_EQ(c.notifications_token, "0123456789abcdef");
  EXPECT_FALSE(ParseYaml("").http_listen);
}

TEST(HubConfig, ANotificationsTokenNeedsASourceAnHttpListenerAndSixteenCharacters) {
  EXPECT_THAT([] { ParseYaml("http_listen: 127.0.0.1:9464\nnotifications_token: 0123456789abcdef\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("needs a `source`")));
  EXPECT_THAT([] { ParseYaml("source: docker://reg:5000\nnotifications_token: 0123456789abcdef\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("needs `http_listen`")));
  EXPECT_THAT([] { ParseYaml("http_listen: 127.0.0.1:9464\nsource: docker://reg:5000\nnotifications_token: short\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("at least 16")));
  EXPECT_THAT([] { ParseYaml("http_listen: nowhere\n"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("http_listen")));
}

}  // namespace
}  // namespace outpost::hub
