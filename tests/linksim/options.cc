#include "tests/linksim/options.h"

#include <CLI/CLI.hpp>

#include <charconv>

namespace outpost::linksim {
namespace {

constexpr const char* kFooter = R"(Directions: "down" is upstream -> client (hub to agent, the payload), "up" is client -> upstream.
Down offsets (--cut-every, --cut-after, --corrupt-at) count bytes delivered to clients over all
connections together. A cut forwards exactly up to the boundary, then closes both sides with a
FIN (after every forwarded byte) and discards whatever they still send.

Control file: whenever its content changes, its first line is run as a command (the content it
has at start is not; write it atomically, e.g. to a temp file then mv):
  blackhole SECONDS   nothing forwarded either way from now for SECONDS
  cut                 close every current connection now
  rate-down N         the down rate becomes N bytes/s (0 = unlimited)
To repeat a command, change a second line (e.g. a counter).

Example: an agent that reaches its hub at 127.0.0.1:8443 over a 1 MB/s, 40 ms link that drops
every 10 MB and goes dark for 5 s, 30 s in:
  outpost-linksim --upstream 127.0.0.1:8443 --listen 0 --port-file /tmp/link.port \
      --rate-down 1000000 --latency-ms 40 --cut-every 10000000 \
      --blackhole-at 30 --blackhole-for 5 --stats-file /tmp/link.json
  then point the agent at 127.0.0.1:$(cat /tmp/link.port).
SIGTERM or SIGINT prints the stats line on stderr and exits 0.)";

}  // namespace

void AddOptions(CLI::App& app, Options& o) {
  app.footer(kFooter);
  app.add_option("--listen", o.listen_port, "Port to listen on, on 127.0.0.1 (0 = ephemeral)")->capture_default_str();
  app.add_option("--port-file", o.port_file, "Write the bound port here (atomically) once listening");
  auto* up = app.add_option("--upstream", o.upstream, "HOST:PORT to dial for each accepted connection");
  app.add_flag("--connect-proxy", o.connect_proxy,
               "Act as an HTTP CONNECT proxy instead of dialing --upstream (shaping applies after the CONNECT)")
      ->excludes(up);
  app.add_option("--rate-down", o.rate_down, "Down rate in bytes/s, shared by all connections (0 = unlimited)");
  app.add_option("--rate-up", o.rate_up, "Up rate in bytes/s, shared by all connections (0 = unlimited)");
  app.add_option("--latency-ms", o.latency_ms, "One-way delay added to each direction, in ms");
  app.add_option("--cut-every", o.cut_every, "Cut the connection at every multiple of N down bytes");
  app.add_option("--cut-after", o.cut_after, "Cut the connection once, at N down bytes");
  app.add_option_function<uint64_t>(
      "--corrupt-at", [&o](const uint64_t& offset) { o.corrupt_at = offset; },
      "Flip (xor 0xFF) the down byte at this offset, once");
  app.add_option("--blackhole-at", o.blackhole_at, "Black hole starts SECONDS after start (repeatable)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--blackhole-for", o.blackhole_for, "Black hole lasts SECONDS (one per --blackhole-at)")
      ->check(CLI::PositiveNumber);
  app.add_option("--control-file", o.control_file, "Poll this file every 100 ms for commands (see below)");
  app.add_option("--stats-file", o.stats_file, "Write JSON counters here (atomically) every 200 ms and on exit");
}

void Check(Options& o) {
  if (o.blackhole_at.size() != o.blackhole_for.size()) {
    throw CLI::ValidationError("--blackhole-at/--blackhole-for", "give one --blackhole-for per --blackhole-at");
  }
  if (o.connect_proxy) return;
  if (o.upstream.empty()) throw CLI::ValidationError("--upstream", "required (or --connect-proxy)");
  if (!SplitHostPort(o.upstream, o.upstream_host, o.upstream_port)) {
    throw CLI::ValidationError("--upstream", "'" + o.upstream + "' is not HOST:PORT");
  }
}

bool SplitHostPort(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace outpost::linksim
