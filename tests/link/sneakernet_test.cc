// Sneakernet end to end: bundles the hub exports as parts, carried to a site whose link is down
// and imported there by `outpost agent import`, the site's sealed report carried back
// (`outpost agent report`, `outpost hub import-report`), then the link takes over. Real
// processes for the flow; the refusals are called in-process so each asserts its error kind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <nlohmann/json.hpp>

#include "agent/agent_config.h"
#include "agent/agent_state.h"
#include "agent/sneakernet.h"
#include "common/file.h"
#include "hub/hub_config.h"
#include "hub/sneakernet.h"
#include "link/clock.h"
#include "link/sealed_file.h"
#include "protocol/site_report.h"
#include "storage/image_store.h"
#include "tests/link/link_rig.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// The rig with a watched source (`source/` beside hub.yaml) both sites subscribe to, and a
// 3 MiB payload (the random layer v2 adds).
RigOptions SneakernetOptions() {
  RigOptions o;
  o.payload_bytes = 3 << 20;
  o.sites_yaml =
      "  - name: oslo\n    subscriptions: [{images: [\"test:*\"]}]\n"
      "  - name: bergen\n    subscriptions: [{images: [\"test:*\"]}]\n";
  o.hub_extra = "source: oci:source\npoll_interval: 1s\n";
  return o;
}

RunResult Outpost(const std::string& args) { return RunCommand(OutpostBinary() + " " + args); }

void MustOutpost(const std::string& args) {
  RunResult r = Outpost(args);
  ASSERT_EQ(r.exit_code, 0) << "outpost " << args << "\n" << r.out << r.err;
}

// The digest `tag` names in the OCI layout `dir`, "" when none.
std::string DigestIn(const std::filesystem::path& dir, const std::string& tag) {
  storage::FileStoreFactory files;
  auto store = storage::OpenStore(storage::Reference::Parse("oci:" + dir.string()), &files, false);
  auto d = store->Resolve(tag);
  return d ? d->digest.str() : "";
}

// The rig's images as the source's test:1.0.0 and test:2.0.0; the site also holds v1 as
// test:1.0.0 (the planner diffs against the same repository).
void MakeSource(LinkRig& rig) {
  const std::string home = "oci:" + rig.Path("home").string(), source = "oci:" + rig.Path("source").string();
  MustOutpost("copy -q " + home + ":1.0.0 " + source + ":test:1.0.0");
  MustOutpost("copy -q " + home + ":2.0.0 " + source + ":test:2.0.0");
  MustOutpost("copy -q oci:" + rig.Path("site").string() + ":1.0.0 oci:" + rig.Path("site").string() + ":test:1.0.0");
}

std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Join(const std::vector<std::filesystem::path>& files) {
  std::string out;
  for (const auto& f : files) out += " " + f.string();
  return out;
}

// Exports oslo's needs into `dir` in three parts (the part size from a first, whole export).
std::vector<std::filesystem::path> ExportInThree(LinkRig& rig, const std::string& site, const std::string& dir) {
  const std::string hub = " --config " + rig.Path("hub.yaml").string() + " --site " + site;
  RunResult whole = Outpost("hub export" + hub + " -o " + rig.Path(dir + "-whole").string());
  EXPECT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  std::vector<std::filesystem::path> one = FilesIn(rig.Path(dir + "-whole"));
  EXPECT_EQ(one.size(), 1u);
  const uint64_t size = std::filesystem::file_size(one.at(0));
  RunResult r = Outpost("hub export" + hub + " -o " + rig.Path(dir).string() + " --max-part-size " +
                        std::to_string(size / 3 + 1024));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return FilesIn(rig.Path(dir));
}

TEST(Sneakernet, ThreePartsOutOfOrderThenTheReportThenTheLinkEachLandExactly) {
  LinkRig rig(SneakernetOptions());
  MakeSource(rig);
  const std::string agent = " --config " + rig.Path("agent-oslo.yaml").string();
  const std::string hub = " --config " + rig.Path("hub.yaml").string();

  // The site's first report tells the hub what it holds; the hub plans test:2.0.0 against v1.
  MustOutpost("agent report" + agent + " -o " + rig.Path("r0.report").string());
  MustOutpost("hub import-report" + hub + " " + rig.Path("r0.report").string());
  std::vector<std::filesystem::path> parts = ExportInThree(rig, "oslo", "media");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_THAT(parts[1].filename().string(), HasSubstr("oslo-t1-test_2.0.0-part2of3"));

  // Out of order, the link down (no hub, no agent running).
  RunResult imported = Outpost("agent import" + agent + Join({parts[2], parts[0], parts[1]}));
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("applied manifest " + rig.expected().str()));
  EXPECT_EQ(DigestIn(rig.Path("site"), "test:2.0.0"), rig.expected().str());

  // Twice: harmless.
  const std::string index = ReadFileToString(rig.Path("site") / "index.json");
  RunResult again = Outpost("agent import" + agent + Join(parts));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("already applied"));
  EXPECT_EQ(ReadFileToString(rig.Path("site") / "index.json"), index);

  // The report back: the transfer is applied at the hub, the inventory holds test:2.0.0.
  MustOutpost("agent report" + agent + " -o " + rig.Path("r1.report").string());
  RunResult report = Outpost("hub import-report" + hub + " " + rig.Path("r1.report").string());
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_THAT(report.out, HasSubstr("1 transfer result(s) recorded"));
  EXPECT_THAT(rig.HubStateDump(), HasSubstr("test:2.0.0|" + rig.expected().str()));

  // The second update: test:3.0.0 = v2 and one small layer. The plan ships only that layer.
  TestLayer base({{"etc/os-release", "ID=test\n"}, {"bin/sh", RandomBytes(4096, 1)}}, true);
  TestLayer app_v2({{"app/version", "2.0.0\n"}, {"app/data.bin", RandomBytes(3 << 20, 2)}}, true);
  TestLayer extra({{"app/patch", "3.0.0\n"}}, true);
  TestImage v3 = BuildImage({base, app_v2, extra});
  storage::FileStoreFactory files;
  WriteImage(*storage::OpenStore(storage::Reference::Parse("oci:" + rig.Path("source").string()), &files, true), v3,
             "test:3.0.0");
  RunResult plan = Outpost("hub plan" + hub + " --site oslo --json");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  nlohmann::json images = nlohmann::json::parse(plan.out)["sites"][0]["images"];
  ASSERT_EQ(images.size(), 1u) << plan.out;  // not test:2.0.0 again
  EXPECT_EQ(images[0]["ref"], "test:3.0.0");
  int present = 0;
  for (const auto& layer : images[0]["layers"]) present += layer["method"] == "present";
  EXPECT_EQ(present, 2) << plan.out;
  EXPECT_LT(images[0]["bundle_bytes"].get<uint64_t>(), 100'000u) << plan.out;

  rig.StartHub();
  rig.StartLinksim();
  rig.StartAgent();
  ASSERT_TRUE(WaitUntil([&] { return DigestIn(rig.Path("site"), "test:3.0.0") == v3.manifest.digest.str(); }, seconds(120)))
      << rig.AgentLog() << rig.HubLog();
  EXPECT_EQ(DigestIn(rig.Path("site"), "test:2.0.0"), rig.expected().str());
  EXPECT_LT(rig.Stats().bytes_down, 1'000'000u);  // the carried 3 MiB never crossed the link
  // The link only reported the carried transfer (the hub had its result already): never fetched
  // or applied it again.
  std::istringstream log(rig.AgentLog());
  for (std::string line; std::getline(log, line);) {
    if (line.find("transfer 1 (") == std::string::npos) continue;
    EXPECT_EQ(line.find("applying"), std::string::npos) << line;
    EXPECT_EQ(line.find("head verified"), std::string::npos) << line;
  }
}

TEST(Sneakernet, AnImportOfATransferTheLinkIsFetchingEndsItAndTheLinkReportsItApplied) {
  RigOptions o;
  o.payload_bytes = 3 << 20;
  LinkRig rig(o);
  rig.StartAll({"--rate-down", "150000"});
  ASSERT_TRUE(WaitUntil([&] { return rig.Stats().bytes_down >= 500'000; }, seconds(60))) << rig.AgentLog();
  MustOutpost("hub export --config " + rig.Path("hub.yaml").string() + " --site oslo -o " + rig.Path("media").string());
  RunResult imported = Outpost("agent import --config " + rig.Path("agent-oslo.yaml").string() + Join(FilesIn(rig.Path("media"))));
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("applied manifest " + rig.expected().str()));
  EXPECT_TRUE(rig.Applied());
  // The daemon ends its fetch, reports the import's result, and never applies it itself.
  ASSERT_TRUE(WaitUntil([&] { return rig.HubLog().find("transfer 1 (bundle") != std::string::npos &&
                                     rig.HubLog().find(") applied: manifest " + rig.expected().str()) != std::string::npos; },
                        seconds(120)))
      << rig.AgentLog() << rig.HubLog();
  EXPECT_EQ(rig.AgentLog().find("applying into"), std::string::npos) << rig.AgentLog();
  EXPECT_FALSE(std::filesystem::exists(rig.Path("agent-state-oslo") / "spool" / "1.bundle"));
}

// The refusals, in-process: the kind of each error, and nothing changed.
class SneakernetRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeSource(rig_);
    config_ = agent::LoadAgentConfig(rig_.Path("agent-oslo.yaml"));
    hub_ = hub::LoadHubConfig(rig_.Path("hub.yaml"));
    rig_.Enqueue("oslo", "--as test:2.0.0");
    rig_.Enqueue("bergen", "--as test:2.0.0");
    oslo_ = ExportInThree(rig_, "oslo", "oslo-media");
    bergen_ = ExportInThree(rig_, "bergen", "bergen-media");
    index_ = ReadFileToString(rig_.Path("site") / "index.json");
  }

  void ExpectNothingImported() {
    EXPECT_EQ(ReadFileToString(rig_.Path("site") / "index.json"), index_);
    if (!std::filesystem::exists(config_.state_dir)) return;  // refused before the state was opened
    agent::AgentState state(config_.state_dir / "agent.db", *clock_);
    EXPECT_FALSE(state.Find(1).has_value());
  }

  // A copy of oslo's parts with `change` applied to part `index` (0-based).
  std::vector<std::filesystem::path> Damaged(size_t index, const std::function<void(std::string&)>& change) {
    std::filesystem::path dir = rig_.Path("damaged");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<std::filesystem::path> out;
    for (size_t i = 0; i < oslo_.size(); ++i) {
      std::string bytes = ReadFileToString(oslo_[i]);
      if (i == index) change(bytes);
      out.push_back(dir / oslo_[i].filename());
      WriteFileAtomic(out.back(), bytes);
    }
    return out;
  }

  LinkRig rig_{SneakernetOptions()};
  std::unique_ptr<link::Clock> clock_ = link::ClockFromEnvironment();
  agent::AgentConfig config_;
  hub::HubConfig hub_;
  std::vector<std::filesystem::path> oslo_, bergen_;
  std::string index_;
};

TEST_F(SneakernetRefusal, PartsSignedByAnUnknownKeyAreRefused) {
  ASSERT_EQ(Outpost("keygen -o " + rig_.Path("other.key").string()).exit_code, 0);
  config_.verify_key = rig_.Path("other.key.pub");
  EXPECT_THAT([&] { agent::ImportParts(config_, oslo_, *clock_); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("signed by")));
  ExpectNothingImported();
}

TEST_F(SneakernetRefusal, AnotherSitesBundleIsRefused) {
  EXPECT_THAT([&] { agent::ImportParts(config_, bergen_, *clock_); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("for site `bergen`")));
  ExpectNothingImported();
}

TEST_F(SneakernetRefusal, ATruncatedPartIsNamedToCarryAgain) {
  auto parts = Damaged(1, [](std::string& b) { b.resize(b.size() / 2); });
  EXPECT_THAT([&] { agent::ImportParts(config_, parts, *clock_); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("part 2 of 3 (" + parts[1].string() + ") truncated")));
  ExpectNothingImported();
}

TEST_F(SneakernetRefusal, ACorruptedPartIsNamedToCarryAgain) {
  auto parts = Damaged(2, [](std::string& b) { b[b.size() - 100] ^= 0x40; });
  EXPECT_THAT([&] { agent::ImportParts(config_, parts, *clock_); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("part 3 of 3 (" + parts[2].string() + ") corrupt")));
  ExpectNothingImported();
}

TEST_F(SneakernetRefusal, AMissingPartIsNamedToCarryAgain) {
  EXPECT_THAT([&] { agent::ImportParts(config_, {oslo_[0], oslo_[2]}, *clock_); },
              ThrowsKind(Error::Kind::kNotFound, HasSubstr("part 2 of 3 missing: carry " + oslo_[1].filename().string())));
  ExpectNothingImported();
}

TEST_F(SneakernetRefusal, AReportSealedByAnotherSiteOrChangedIsRefused) {
  const std::string before = rig_.HubStateDump();
  protocol::SiteReport report;
  report.site = "oslo";
  report.images = {{"test:9", "sha256:" + std::string(64, '9')}};
  link::TlsFiles bergen{rig_.Path("pki/ca.pem"), rig_.Path("pki/bergen.pem"), rig_.Path("pki/bergen.key")};
  WriteFileAtomic(rig_.Path("forged.report"), link::Seal(protocol::EncodeSiteReport(report), bergen));
  EXPECT_THAT([&] { hub::ImportSiteReport(hub_, rig_.Path("forged.report"), *clock_); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("sealed by site `bergen`")));
  std::string sealed = link::Seal(protocol::EncodeSiteReport(report), config_.tls);
  sealed[sealed.size() / 2] ^= 1;
  WriteFileAtomic(rig_.Path("changed.report"), sealed);
  EXPECT_THAT([&] { hub::ImportSiteReport(hub_, rig_.Path("changed.report"), *clock_); }, ThrowsKind(Error::Kind::kSecurity));
  EXPECT_EQ(rig_.HubStateDump(), before);
}

}  // namespace
}  // namespace outpost::testing
