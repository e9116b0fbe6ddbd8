#include "link/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

constexpr std::string_view kHub = R"(listen: 0.0.0.0:8443
state: state/hub.db
tls:
  ca: /etc/outpost/ca.pem
  cert: hub.pem
sites:
  - name: oslo
    rate: 2mbit
    stall_timeout: 30s
  - name: bergen
    spool: 1GiB
    port: 99999
)";

TEST(ConfigMap, ReadsScalarsNestedMapsAndLists) {
  ConfigMap config = ConfigMap::Parse(kHub, "hub.yaml");
  EXPECT_EQ(config.String("listen"), "0.0.0.0:8443");
  EXPECT_EQ(config.Map("tls").String("cert"), "hub.pem");
  std::vector<ConfigMap> sites = config.MapList("sites");
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].OptionalRate("rate"), 250000u);
  EXPECT_EQ(sites[0].OptionalDuration("stall_timeout"), std::chrono::seconds(30));
  EXPECT_EQ(sites[1].OptionalBytes("spool"), uint64_t{1} << 30);
  EXPECT_EQ(sites[1].OptionalRate("rate"), std::nullopt);
  EXPECT_TRUE(config.MapList("absent").empty());
  EXPECT_FALSE(config.Has("absent"));
}

TEST(ConfigMap, NamesFileLineAndKeyPathInErrors) {
  ConfigMap config = ConfigMap::Parse(kHub, "hub.yaml");
  std::vector<ConfigMap> sites = config.MapList("sites");
  EXPECT_THAT([&] { sites[1].Int("port", 1, 65535); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:12: `sites[1].port`: expected a whole number from 1 to 65535")));
  EXPECT_THAT([&] { config.Map("tls").String("key"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:4: `tls.key`: is required")));
  EXPECT_THAT([&] { sites[0].AllowOnly({"name", "spool"}); },
              ThrowsKind(Error::Kind::kInvalidArgument,
                         HasSubstr("hub.yaml:8: unknown key `rate` in `sites[0]` (expected one of: name, spool)")));
}

TEST(ConfigMap, PutsUnitErrorsAtTheirKey) {
  ConfigMap config = ConfigMap::Parse("rate: 2 parsecs\n", "agent.yaml");
  EXPECT_THAT([&] { config.OptionalRate("rate"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("agent.yaml:1: `rate`: rate `2 parsecs`")));
}

TEST(ConfigMap, AllowsTheExpectedKeys) {
  ConfigMap config = ConfigMap::Parse(kHub, "hub.yaml");
  config.AllowOnly({"listen", "state", "tls", "sites"});
}

TEST(ConfigMap, ReportsYamlSyntaxErrorsWithTheLine) {
  EXPECT_THAT([&] { ConfigMap::Parse("a: 1\nb: [unclosed\n", "hub.yaml"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("hub.yaml:")));
  EXPECT_THAT([&] { ConfigMap::Parse("- a\n- b\n", "hub.yaml"); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("must be a mapping")));
}

TEST(ConfigMap, RejectsAListWhereAValueBelongs) {
  ConfigMap config = ConfigMap::Parse("listen: [a, b]\n", "hub.yaml");
  EXPECT_THAT([&] { config.String("listen"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("`listen`")));
}

TEST(ConfigMap, ResolvesRelativePathsFromTheConfigsFolder) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "hub.yaml", kHub);
  ConfigMap config = ConfigMap::Load(dir.path() / "hub.yaml");
  EXPECT_EQ(config.Path("state"), dir.path() / "state/hub.db");
  EXPECT_EQ(config.Map("tls").Path("ca"), "/etc/outpost/ca.pem");
  EXPECT_EQ(config.Map("tls").Path("cert"), dir.path() / "hub.pem");
  EXPECT_EQ(config.Map("tls").OptionalPath("key"), std::nullopt);
}

TEST(ConfigMap, LoadOfAMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT([&] { ConfigMap::Load(dir.path() / "hub.yaml"); }, ThrowsKind(Error::Kind::kNotFound));
}

}  // namespace
}  // namespace outpost::link
