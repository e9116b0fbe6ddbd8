#include "agent/agent_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

constexpr const char* kMinimal = R"(site: oslo
hub: hub.example:8443
state_dir: /var/lib/outpost-agent
tls: {ca: pki/ca.pem, cert: pki/oslo.pem, key: pki/oslo.key}
target: oci:/srv/layout
)";

AgentConfig Parse(const std::string& yaml, std::optional<std::string> env_proxy = std::nullopt) {
  return ParseAgentConfig(link::ConfigMap::Parse(yaml, "agent.yaml"), std::move(env_proxy));
}

TEST(AgentConfig, ReadsTheRequiredKeysAndDefaultsTheRest) {
  AgentConfig c = Parse(kMinimal);
  EXPECT_EQ(c.site, "oslo");
  EXPECT_EQ(c.hub.host, "hub.example");
  EXPECT_EQ(c.hub.port, 8443);
  EXPECT_EQ(c.target.location, "/srv/layout");
  EXPECT_FALSE(c.proxy);
  EXPECT_FALSE(c.verify_key);
  EXPECT_EQ(c.checkpoint_bytes, 64u * 1024);
  EXPECT_EQ(c.stall_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.backoff_max, std::chrono::minutes(5));
  EXPECT_EQ(c.poll_wait, std::chrono::seconds(55));
}

TEST(AgentConfig, ReadsTheTunables) {
  AgentConfig c = Parse(std::string(kMinimal) +
                        "checkpoint: 1MiB\nstall_timeout: 2s\nbackoff_max: 10s\npoll_wait: 5s\nverify_key: hub.pub\n"
                        "proxy: http://squid:3128\n");
  EXPECT_EQ(c.checkpoint_bytes, 1u << 20);
  EXPECT_EQ(c.stall_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.backoff_max, std::chrono::seconds(10));
  EXPECT_EQ(c.poll_wait, std::chrono::seconds(5));
  ASSERT_TRUE(c.proxy);
  EXPECT_EQ(c.proxy->str(), "squid:3128");
}

TEST(AgentConfig, RefusesAnUnknownKeyNamingItAndItsLine) {
  EXPECT_THAT([] { Parse(std::string(kMinimal) + "poll_wiat: 5s\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, AllOf(HasSubstr("agent.yaml:6"), HasSubstr("poll_wiat"))));
  EXPECT_THAT([] { Parse("site: oslo\nhub: h:1\nstate_dir: s\ntls: {ca: a, cert: b, key: c, pin: d}\ntarget: oci:/x\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("pin")));
}

TEST(AgentConfig, RefusesBadValuesNamingTheKey) {
  EXPECT_THAT([] { Parse(std::string(kMinimal) + "poll_wait: 2m\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("poll_wait")));
  EXPECT_THAT([] { Parse(std::string(kMinimal) + "proxy: https://squid:3128\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("proxy")));
  EXPECT_THAT([] { Parse("site: oslo\nhub: hub.example\nstate_dir: s\ntls: {ca: a, cert: b, key: c}\ntarget: oci:/x\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub")));
  EXPECT_THAT([] { Parse("site: oslo\nhub: h:1\nstate_dir: s\ntls: {ca: a, cert: b, key: c}\ntarget: ftp:/x\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("target")));
  EXPECT_THAT([] { Parse("hub: h:1\nstate_dir: s\ntls: {ca: a, cert: b, key: c}\ntarget: oci:/x\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("site")));
}

TEST(AgentConfig, TakesTheProxyFromTheEnvironmentUnlessTheFileNamesOne) {
  EXPECT_EQ(Parse(kMinimal, "http://envproxy:8080").proxy->str(), "envproxy:8080");
  EXPECT_EQ(Parse(std::string(kMinimal) + "proxy: http://squid:3128/\n", "http://envproxy:8080").proxy->str(),
            "squid:3128");
  EXPECT_FALSE(Parse(kMinimal, "").proxy);
}

TEST(AgentConfig, AcceptsARegistryWithoutRepositoryAsTarget) {
  AgentConfig c = Parse("site: oslo\nhub: h:1\nstate_dir: s\ntls: {ca: a, cert: b, key: c}\ntarget: docker://registry:5000\n");
  EXPECT_EQ(c.target_registry, "registry:5000");
}

TEST(HostPort, ParsesNamesAndBracketedAddresses) {
  EXPECT_EQ(ParseHostPort("hub:443", "hub").str(), "hub:443");
  EXPECT_EQ(ParseHostPort("[::1]:8443", "hub").host, "::1");
  EXPECT_THAT([] { ParseHostPort("hub:0", "hub"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([] { ParseHostPort("hub:70000", "hub"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([] { ParseHostPort("::1:80", "hub"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

}  // namespace
}  // namespace outpost::agent
