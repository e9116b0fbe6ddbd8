// outpost-linksim's command line: what the simulator does, as parsed and checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace outpost::linksim {

struct Options {
  uint16_t listen_port = 0;        // 0: an ephemeral port (see port_file)
  std::string port_file;           // written atomically with the bound port once listening
  std::string upstream;            // --upstream as given, "HOST:PORT"; empty with connect_proxy
  std::string upstream_host;       // ... split by Check()
  uint16_t upstream_port = 0;
  bool connect_proxy = false;      // dial what each client's CONNECT names instead
  uint64_t rate_down = 0;          // bytes per second upstream -> client; 0 = unlimited
  uint64_t rate_up = 0;            // bytes per second client -> upstream; 0 = unlimited
  uint64_t latency_ms = 0;         // one-way delay added to each direction
  uint64_t cut_every = 0;          // cut a connection at every multiple of this down offset
  uint64_t cut_after = 0;          // cut once at this down offset
  std::optional<uint64_t> corrupt_at;  // flip the down byte at this offset, once
  std::vector<double> blackhole_at;    // seconds after start, paired with blackhole_for
  std::vector<double> blackhole_for;   // seconds
  std::string control_file;        // polled every 100 ms for commands
  std::string stats_file;          // JSON counters, rewritten every 200 ms and on exit
};

// Declares every option on `app` (its --help explains them with an example) and binds them to
// `options`. Call Check(options) after app.parse().
void AddOptions(CLI::App& app, Options& options);

// Splits `upstream` into its host and port and checks what CLI11 cannot (pairs of black-hole
// options, an upstream xor --connect-proxy). Throws CLI::ValidationError naming the option.
void Check(Options& options);

// Splits "HOST:PORT" (the last colon; "[v6]:port" brackets are removed). Returns false when
// there is no port or it is not 1..65535.
bool SplitHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace outpost::linksim
