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

}  // namespace
}  // namespace outpost::hub
