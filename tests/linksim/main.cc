// outpost-linksim: a TCP link simulator between an agent and its hub (rate, latency, cuts,
// black holes, corruption, CONNECT proxy), for integration tests and benchmarks of the link on
// kernels without netem. See docs/linksim.md and --help.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "tests/linksim/options.h"
#include "tests/linksim/simulator.h"

int main(int argc, char** argv) {
  CLI::App app{"outpost-linksim: a shaping TCP relay between an agent (client) and its hub (upstream)."};
  outpost::linksim::Options options;
  outpost::linksim::AddOptions(app, options);
  try {
    app.parse(argc, argv);
    outpost::linksim::Check(options);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    boost::asio::io_context io;
    outpost::linksim::Simulator simulator(io, std::move(options));
    if (!simulator.Start()) return 6;
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "outpost-linksim: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
