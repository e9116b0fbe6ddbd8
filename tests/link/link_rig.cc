#include "tests/link/link_rig.h"

#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "storage/image_store.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"
#include "tests/support/images.h"

namespace outpost::testing {
namespace {

constexpr const char* kDefaultSites =
    "  - name: oslo\n"
    "  - name: bergen\n";

std::string LinksimBinary() { return std::string(OUTPOST_BINARY_DIR) + "/tests/linksim/outpost-linksim"; }

void MustRun(const std::string& command) {
  RunResult r = RunCommand(command);
  if (r.exit_code != 0) throw IOError("test set-up failed: ", command, ": ", r.err);
}

}  // namespace

LinkRig::LinkRig(RigOptions options) : options_(std::move(options)) {
  hub_port_ = FreePort();
  MakePki();
  MakeImagesAndBundle();
  WriteConfigs();
}

LinkRig::~LinkRig() {
  std::vector<Process*> all;
  for (auto& [name, agent] : agents_) all.push_back(agent.get());
  all.push_back(linksim_.get());
  all.push_back(hub_.get());
  for (Process* p : all) {
    if (p != nullptr && p->Running()) {
      p->Signal(SIGTERM);
      if (!p->Wait(std::chrono::seconds(5))) p->Signal(SIGKILL);
    }
  }
}

void LinkRig::MakePki() {
  std::string pki = Path("pki").string();
  MustRun(OutpostBinary() + " pki init " + pki);
  MustRun(OutpostBinary() + " pki issue " + pki + " hub --host 127.0.0.1 --host localhost");
  for (const std::string& site : options_.site_names) MustRun(OutpostBinary() + " pki issue " + pki + " " + site);
  MustRun(OutpostBinary() + " keygen -o " + Path("sign.key").string());
}

void LinkRig::MakeImagesAndBundle() {
  TestLayer base({{"etc/os-release", "ID=test\n"}, {"bin/sh", RandomBytes(4096, 1)}}, true);
  TestLayer app_v1({{"app/version", "1.0.0\n"}}, true);
  TestLayer app_v2({{"app/version", "2.0.0\n"}, {"app/data.bin", RandomBytes(options_.payload_bytes, 2)}}, true);
  storage::FileStoreFactory files;
  auto write = [&](const std::string& ref, const TestImage& img) {
    storage::Reference r = storage::Reference::Parse(ref);
    auto store = storage::OpenStore(r, &files, /*for_write=*/true);
    WriteImage(*store, img, r.tag);
    return img.manifest.digest;
  };
  TestImage v1 = BuildImage({base, app_v1});
  TestImage v2 = BuildImage({base, app_v2});
  write("oci:" + Path("home").string() + ":1.0.0", v1);
  expected_ = write("oci:" + Path("home").string() + ":2.0.0", v2);
  write("oci:" + Path("site").string() + ":1.0.0", v1);
  bundle_ = Path("update.bundle");
  MustRun(OutpostBinary() + " diff --quiet --no-cache --from oci:" + Path("home").string() + ":1.0.0 --to oci:" +
          Path("home").string() + ":2.0.0 --sign-key " + Path("sign.key").string() + " -o " + bundle_.string());
}

void LinkRig::WriteConfigs() {
  std::string pki = Path("pki").string();
  std::ofstream hub(Path("hub.yaml"));
  hub << "listen: 127.0.0.1:" << hub_port_ << "\n"
      << "state_dir: " << Path("hub-state").string() << "\n"
      << "tls: {ca: " << pki << "/ca.pem, cert: " << pki << "/hub.pem, key: " << pki << "/hub.key}\n";
  if (!options_.hub_rate.empty()) hub << "rate: " << options_.hub_rate << "\n";
  hub << "sign_key: " << Path("sign.key").string() << "\n" << options_.hub_extra;
  hub << "sites:\n" << (options_.sites_yaml.empty() ? kDefaultSites : options_.sites_yaml);
  for (const std::string& site : options_.site_names) {
    std::string target = options_.agent_target.empty() ? "oci:" + Path("site").string() : options_.agent_target;
    for (size_t at = target.find("{site}"); at != std::string::npos; at = target.find("{site}")) target.replace(at, 6, site);
    std::ofstream agent(Path("agent-" + site + ".yaml"));
    agent << "site: " << site << "\n"
          << "hub: 127.0.0.1:" << hub_port_ << "\n"  // rewritten to the simulator's port at start
          << "state_dir: " << Path("agent-state-" + site).string() << "\n"
          << "tls: {ca: " << pki << "/ca.pem, cert: " << pki << "/" << site << ".pem, key: " << pki << "/" << site
          << ".key}\n"
          << "target: " << target << "\n"
          << "verify_key: " << Path("sign.key.pub").string() << "\n"
          << "checkpoint: " << options_.checkpoint << "\n"
          << "stall_timeout: " << options_.stall_timeout << "\n"
          << "backoff_max: " << options_.backoff_max << "\n"
          << options_.agent_extra;
  }
}

uint64_t LinkRig::bundle_bytes() const { return std::filesystem::file_size(bundle_); }

void LinkRig::StartHub() {
  std::filesystem::create_directories(Path("hub-state"));
  hub_ = std::make_unique<Process>(std::vector<std::string>{OutpostBinary(), "hub", "--config", Path("hub.yaml")},
                                   options_.hub_env, Path("hub.log"));
}

void LinkRig::StartLinksim(const std::vector<std::string>& args) {
  std::vector<std::string> argv{LinksimBinary(), "--listen", "0", "--port-file", Path("link.port"),
                                "--stats-file", Path("link.stats"), "--control-file", Path("link.control")};
  if (options_.agent_via_proxy) {
    argv.push_back("--connect-proxy");
  } else {
    argv.insert(argv.end(), {"--upstream", "127.0.0.1:" + std::to_string(hub_port_)});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  std::filesystem::remove(Path("link.port"));
  linksim_ = std::make_unique<Process>(argv, std::vector<std::string>{}, Path("linksim.log"));
  if (!WaitUntil([&] { return std::filesystem::exists(Path("link.port")); }, std::chrono::seconds(10))) {
    throw IOError("the link simulator did not start: ", ReadFileToString(Path("linksim.log")));
  }
}

int LinkRig::link_port() const { return std::stoi(ReadFileToString(Path("link.port"))); }

void LinkRig::StartAgent(const std::string& site, const std::string& instance) {
  std::filesystem::path config = Path("agent-" + site + ".yaml");
  std::string text = ReadFileToString(config);
  std::string state = "agent-state-" + site;
  text.replace(text.find(state), state.size(), state + instance);
  std::vector<std::string> env = options_.agent_env;
  std::string hub = "hub: 127.0.0.1:" + std::to_string(hub_port_);
  if (options_.agent_via_proxy) {
    text += text.find("proxy:") == std::string::npos ? "proxy: http://127.0.0.1:" + std::to_string(link_port()) + "\n" : "";
  } else if (linksim_) {
    text.replace(text.find(hub), hub.size(), "hub: 127.0.0.1:" + std::to_string(link_port()));
  }
  std::filesystem::path live = Path("agent-" + site + instance + ".live.yaml");
  WriteFileAtomic(live, text);
  agents_[site + instance] = std::make_unique<Process>(
      std::vector<std::string>{OutpostBinary(), "agent", "--config", live.string()}, env,
      Path("agent-" + site + instance + ".log"));
}

void LinkRig::StartAll(const std::vector<std::string>& linksim_args) {
  StartHub();
  StartLinksim(linksim_args);
  Enqueue();
  StartAgent();
}

void LinkRig::KillAgent() {
  agent().Signal(SIGKILL);
  agent().Wait(std::chrono::seconds(10));
}

void LinkRig::KillHub() {
  hub_->Signal(SIGKILL);
  hub_->Wait(std::chrono::seconds(10));
}

std::string LinkRig::Enqueue(const std::string& site, const std::string& extra) {
  RunResult r = RunCommand(OutpostBinary() + " hub enqueue --config " + Path("hub.yaml").string() + " --site " + site +
                           " " + bundle_.string() + " " + extra);
  if (r.exit_code != 0) throw IOError("outpost hub enqueue failed: ", r.err);
  return r.out;
}

bool LinkRig::Applied() const {
  storage::FileStoreFactory files;
  try {
    auto store = storage::OpenStore(storage::Reference::Parse("oci:" + Path("site").string()), &files, false);
    auto d = store->Resolve("2.0.0");
    return d && d->digest == expected_;
  } catch (const Error&) {
    return false;  // the layout is being written
  }
}

bool LinkRig::WaitApplied(std::chrono::seconds timeout) { return WaitUntil([&] { return Applied(); }, timeout); }

LinkStats LinkRig::Stats() const {
  nlohmann::json j = nlohmann::json::parse(ReadFileToString(Path("link.stats")));
  LinkStats s;
  s.bytes_down = j.at("bytes_down");
  s.bytes_up = j.at("bytes_up");
  s.connections = j.at("connections");
  s.cuts = j.at("cuts");
  s.connects = j.value("connects", 0);
  s.corrupted = j.value("corrupted", false);
  return s;
}

void LinkRig::Control(const std::string& command) { WriteFileAtomic(Path("link.control"), command + "\n"); }

std::string LinkRig::HubLog() const { return ReadFileToString(Path("hub.log")); }
std::string LinkRig::AgentLog() const { return ReadFileToString(Path("agent-oslo.log")); }

std::string LinkRig::HubStateDump() const {
  std::filesystem::path db = Path("hub-state") / "hub.db";
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    throw IOError("cannot open ", db.string());
  }
  std::string out;
  auto rows = [&](const std::string& sql) {
    std::vector<std::vector<std::string>> result;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr);
    while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      result.push_back(row);
    }
    sqlite3_finalize(st);
    return result;
  };
  for (const auto& table : rows("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")) {
    out += "[" + table[0] + "]\n";
    for (const auto& row : rows("SELECT * FROM \"" + table[0] + "\" ORDER BY 1")) {
      for (const std::string& v : row) out += v + "|";
      out += "\n";
    }
  }
  sqlite3_close(h);
  return out;
}

uint64_t LinkRig::Overhead(uint64_t connections, uint64_t requests) const {
  // TLS 1.3 adds 22 bytes to each record of at most 16 KiB; a handshake with an EC certificate
  // chain is about 2 KiB down; a response header about 300 bytes.
  return bundle_bytes() / 16384 * 22 + 22 + connections * 4096 + requests * 512;
}

}  // namespace outpost::testing
