// A hub, a link simulator and an agent as real processes on loopback, with a CA, a signed
// ~20 MB bundle and the images on both sides: what the link's integration tests and benchmarks
// drive. Test code only.
//
//   agent --TLS--> outpost-linksim (rate, latency, cuts, black holes, corruption) --> hub
//
// The home side holds test v1 and v2 (v2 adds one layer of `payload_mb` random bytes); the site's
// target layout holds v1. The bundle turns v1 into v2 and is signed; the agent verifies it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "tests/link/process.h"

namespace outpost::testing {

struct RigOptions {
  uint64_t payload_bytes = 20 << 20;  // the random file v2 adds
  // The hub's `sites:` entries as YAML list items (each starts "  - name: ..."); default: the
  // sites oslo and bergen, always open, no cap.
  std::string sites_yaml;
  std::string hub_rate;                    // hub-wide cap ("" none)
  std::string checkpoint = "64KiB";
  std::string stall_timeout = "5s";
  std::string backoff_max = "2s";
  std::vector<std::string> hub_env;        // e.g. OUTPOST_TEST_CLOCK=...
  std::vector<std::string> agent_env;
  bool agent_via_proxy = false;            // the simulator runs as a CONNECT proxy
  std::string hub_extra;                   // top-level hub.yaml lines (e.g. "source: ...\n")
  std::string agent_target;                // the agents' `target` ("": oci: the rig's site layout);
                                           // "{site}" in it becomes the agent's site name
  std::vector<std::string> site_names = {"oslo", "bergen"};  // certificates and agent configs made
  std::string agent_extra;                 // agent.yaml lines (e.g. "metrics_listen: ...\n")
};

// The simulator's counters (its --stats-file).
struct LinkStats {
  uint64_t bytes_down = 0, bytes_up = 0, connections = 0, cuts = 0, connects = 0;
  bool corrupted = false;
};

class LinkRig {
 public:
  // Makes the CA and certificates (hub and each of site_names), the images, the signed bundle and the
  // configs in a fresh temporary folder. Starts nothing.
  explicit LinkRig(RigOptions options = {});
  ~LinkRig();

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path Path(const std::string& name) const { return dir() / name; }
  const std::filesystem::path& bundle() const { return bundle_; }
  uint64_t bundle_bytes() const;
  // The v2 manifest digest the site must end with.
  const Digest& expected() const { return expected_; }

  // The hub on its fixed port (the same after a restart, so the simulator's upstream holds).
  void StartHub();
  Process& hub() { return *hub_; }
  // The simulator in front of the hub with `args` added (--rate-down ..., --cut-every ...).
  void StartLinksim(const std::vector<std::string>& args = {});
  Process& linksim() { return *linksim_; }
  // An agent for `site`; `instance` tells apart several agents of one site (each with its own
  // state folder), e.g. to load one site's bucket with two transfers at once.
  void StartAgent(const std::string& site = "oslo", const std::string& instance = "");
  Process& agent() { return *agents_.at("oslo"); }
  // The usual start: the hub, the simulator with `linksim_args`, the bundle queued for oslo, and
  // oslo's agent, in that order.
  void StartAll(const std::vector<std::string>& linksim_args = {});
  void KillAgent();  // kill -9, reaped
  void KillHub();

  // `outpost hub enqueue` of the bundle for `site`; returns the command's stdout.
  std::string Enqueue(const std::string& site = "oslo", const std::string& extra = "");
  // True when the site's target layout has v2's tag at the expected digest.
  bool Applied() const;
  // Waits (up to `timeout`) until Applied(); on timeout adds the logs to the failure.
  bool WaitApplied(std::chrono::seconds timeout);
  LinkStats Stats() const;
  // The simulator writes `command` to its control file ("blackhole 60", "cut").
  void Control(const std::string& command);
  std::string HubLog() const;
  std::string AgentLog() const;
  // Every row of every table of the hub's SQLite state, as text (to compare before/after).
  std::string HubStateDump() const;
  int hub_port() const { return hub_port_; }
  int link_port() const;
  // Bytes of payload the link carries besides the bundle on a clean run of `connections`
  // connections and `requests` requests: TLS records, handshakes, HTTP headers.
  uint64_t Overhead(uint64_t connections, uint64_t requests) const;

 private:
  void MakePki();
  void MakeImagesAndBundle();
  void WriteConfigs();

  RigOptions options_;
  TempDir dir_;
  std::filesystem::path bundle_;
  Digest expected_;
  int hub_port_ = 0;
  std::unique_ptr<Process> hub_, linksim_;
  std::map<std::string, std::unique_ptr<Process>> agents_;  // by site + instance
};

}  // namespace outpost::testing
