#include "hub/hub_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::hub {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

constexpr const char* kHub =
    "listen: 127.0.0.1:8443\n"
    "state_dir: /var/lib/outpost-hub\n"
    "tls: {ca: /pki/ca.pem, cert: /pki/hub.pem, key: /pki/hub.key}\n"
    "rate: 2mbit\n"
    "sites:\n"
    "  - name: oslo\n"
    "    rate: 256kbit\n"
    "    timezone: Europe/Oslo\n"
    "    windows:\n"
    "      - {days: mon-fri, start: \"22:00\", end: \"06:00\"}\n"
    "      - {days: \"sat,sun\", start: \"00:00\", end: \"24:00\", rate: 1mbit}\n"
    "  - name: bergen\n";

HubConfig Parse(const std::string& yaml) { return ParseHubConfig(link::ConfigMap::Parse(yaml, "hub.yaml")); }

TEST(HubConfig, ReadsListenTlsRatesSitesAndWindows) {
  HubConfig c = Parse(kHub);
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8443);
  EXPECT_EQ(c.state_dir, "/var/lib/outpost-hub");
  EXPECT_EQ(c.tls.key, "/pki/hub.key");
  EXPECT_EQ(c.rate, 250'000u);
  ASSERT_EQ(c.sites.size(), 2u);
  EXPECT_EQ(c.sites[0].rate, 32'000u);
  EXPECT_EQ(c.sites[0].timezone, "Europe/Oslo");
  ASSERT_EQ(c.sites[0].windows.size(), 2u);
  EXPECT_EQ(c.sites[0].windows[0].start_minute, 22 * 60);
  EXPECT_EQ(c.sites[0].windows[0].end_minute, 6 * 60);
  EXPECT_EQ(c.sites[0].windows[1].rate, 125'000u);
  EXPECT_EQ(c.sites[1].timezone, "UTC");
  EXPECT_EQ(c.sites[1].rate, link::kUnlimitedRate);
  EXPECT_TRUE(c.sites[1].windows.empty());
  EXPECT_EQ(c.SiteNames(), "oslo, bergen");
  EXPECT_EQ(c.FindSite("bergen"), &c.sites[1]);
  EXPECT_EQ(c.FindSite("tromso"), nullptr);
}

TEST(HubConfig, AnUnknownKeyIsAnErrorNamingTheKeyAndLine) {
  std::string yaml = kHub;
  yaml.insert(yaml.find("  - name: bergen"), "    colour: red\n");
  EXPECT_THAT([&] { Parse(yaml); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:12: unknown key `colour` in `sites[0]`")));
  EXPECT_THAT([&] { Parse(std::string(kHub) + "proxy: x\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:13: unknown key `proxy`")));
}

TEST(HubConfig, AMalformedWindowNamesItsKeyAndLine) {
  std::string yaml = kHub;
  yaml.replace(yaml.find("mon-fri"), 7, "someday");
  EXPECT_THAT([&] { Parse(yaml); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:10: `sites[0].windows[0].days`")));
}

TEST(HubConfig, AnUnknownTimezoneNamesItsLine) {
  std::string yaml = kHub;
  yaml.replace(yaml.find("Europe/Oslo"), 11, "Europe/Atlantis");
  EXPECT_THAT([&] { Parse(yaml); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:8: `sites[0].timezone`")));
}

TEST(HubConfig, AMalformedListenAddressNamesTheKey) {
  std::string yaml = kHub;
  yaml.replace(0, yaml.find('\n'), "listen: 8443");
  EXPECT_THAT([&] { Parse(yaml); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:1: `listen`")));
}

TEST(HubConfig, ASiteConfiguredTwiceIsAnError) {
  EXPECT_THAT([&] { Parse(std::string(kHub) + "  - name: oslo\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:13: `sites[2].name`: site `oslo` is configured twice")));
}

TEST(HubConfig, ASiteNameThatCannotBeACertificateNameIsAnError) {
  EXPECT_THAT([&] { Parse(std::string(kHub) + "  - name: tromsø\n"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("`sites[2].name`")));
}

TEST(HubConfig, TheStateDirIsRequired) {
  std::string yaml = kHub;
  yaml.erase(yaml.find("state_dir"), yaml.find("tls:") - yaml.find("state_dir"));
  EXPECT_THAT([&] { Parse(yaml); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("`state_dir`: is required")));
}

TEST(ParseListen, AcceptsHostPortAndBracketedIpv6) {
  EXPECT_EQ(ParseListen("0.0.0.0:0"), std::make_pair(std::string("0.0.0.0"), uint16_t{0}));
  EXPECT_EQ(ParseListen("[::1]:8443"), std::make_pair(std::string("::1"), uint16_t{8443}));
  EXPECT_THAT([] { ParseListen("host:99999"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([] { ParseListen(":80"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

constexpr const char* kWatching =
    "listen: 127.0.0.1:8443\n"
    "state_dir: /var/lib/outpost-hub\n"
    "tls: {ca: /pki/ca.pem, cert: /pki/hub.pem, key: /pki/hub.key}\n"
    "source: docker://registry.home:5000\n"
    "poll_interval: 30s\n"
    "sites:\n"
    "  - name: oslo\n"
    "    subscriptions:\n"
    "      - {images: [\"test:*\", \"app/*:1.*\"], priority: 5, max_bundle_bytes: 10MiB, platforms: [linux/amd64]}\n"
    "  - name: bergen\n";

TEST(HubConfig, ReadsTheSourceThePollIntervalAndEachSitesSubscriptions) {
  HubConfig c = Parse(kWatching);
  ASSERT_TRUE(c.source.has_value());
  EXPECT_EQ(c.source->registry, "registry.home:5000");
  EXPECT_EQ(c.source->poll_interval, std::chrono::seconds(30));
  EXPECT_EQ(c.source->ImageRef("app/web", "sha256:ab"), "docker://registry.home:5000/app/web@sha256:ab");
  ASSERT_EQ(c.sites[0].subscriptions.size(), 1u);
  const Subscription& sub = c.sites[0].subscriptions[0];
  EXPECT_EQ(sub.priority, 5);
  EXPECT_EQ(sub.max_bundle_bytes, 10u << 20);
  EXPECT_EQ(sub.platforms, (std::vector<std::string>{"linux/amd64"}));
  EXPECT_TRUE(sub.Matches("test:2.0.0"));
  EXPECT_TRUE(sub.Matches("app/web:1.4"));
  EXPECT_FALSE(sub.Matches("app/web:2.0"));
  EXPECT_FALSE(sub.Matches("other:1.0"));
  EXPECT_EQ(c.sites[0].Subscribed("test:1"), &sub);
  EXPECT_EQ(c.sites[1].Subscribed("test:1"), nullptr);
}

TEST(HubConfig, ASubscriptionKeepsTwoVersionsUnlessToldAndOnlyItsTransfersCarryKeep) {
  HubConfig c = Parse(kWatching);
  EXPECT_EQ(c.sites[0].subscriptions[0].keep, 2u);
  EXPECT_EQ(c.sites[0].KeepFor(std::string("test:3")), 2u);
  EXPECT_EQ(c.sites[0].KeepFor(std::string("other:1")), std::nullopt);
  EXPECT_EQ(c.sites[0].KeepFor(std::nullopt), std::nullopt);
  std::string never = kWatching;
  never.replace(never.find("priority: 5"), 11, "keep: 0");
  EXPECT_EQ(Parse(never).sites[0].KeepFor(std::string("test:3")), 0u);
  std::string negative = kWatching;
  negative.replace(negative.find("priority: 5"), 11, "keep: -1");
  EXPECT_THAT([&] { Parse(negative); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("keep")));
}

TEST(HubConfig, AnOciSourceIsTakenFromTheConfigFilesFolderAndPollsEveryMinuteByDefault) {
  std::string yaml = kWatching;
  yaml.replace(yaml.find("docker://registry.home:5000"), 27, "oci:images");
  yaml.erase(yaml.find("poll_interval: 30s\n"), 19);
  HubConfig c = ParseHubConfig(link::ConfigMap::Parse(yaml, "/etc/outpost/hub.yaml"));
  EXPECT_EQ(c.source->layout, "/etc/outpost/images");
  EXPECT_EQ(c.source->poll_interval, std::chrono::seconds(60));
  EXPECT_EQ(c.source->ImageRef("test", "sha256:ab"), "oci:/etc/outpost/images@sha256:ab");
}

TEST(HubConfig, SubscriptionsAreRefusedWithoutASourceOrWithUnknownKeysOrBadGlobs) {
  std::string without = kWatching;
  without.erase(without.find("source:"), without.find("sites:") - without.find("source:"));
  EXPECT_THAT([&] { Parse(without); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("need a top-level `source`")));
  std::string unknown = kWatching;
  unknown.replace(unknown.find("priority: 5"), 11, "arch: [linux/amd64]");
  EXPECT_THAT([&] { Parse(unknown); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("unknown key `arch`")));
  std::string platform = kWatching;
  platform.replace(platform.find("linux/amd64"), 11, "amd64");
  EXPECT_THAT([&] { Parse(platform); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("is not OS/ARCH")));
  std::string glob = kWatching;
  glob.replace(glob.find("\"test:*\""), 8, "\"test\"");
  EXPECT_THAT([&] { Parse(glob); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("`test` is not a REPO:TAG glob")));
  std::string source = kWatching;
  source.replace(source.find("docker://registry.home:5000"), 27, "docker://registry.home/repo");
  EXPECT_THAT([&] { Parse(source); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("neither docker://HOST[:PORT] nor oci:DIR")));
}

}  // namespace
}  // namespace outpost::hub
