// `outpost agent --config FILE`: the site's daemon (agent/, docs/agent-state.md).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <stop_token>
#include <string>
#include <thread>

#include "agent/agent_config.h"
#include "agent/runner.h"
#include "cli/commands.h"
#include "link/clock.h"
#include "link/log.h"
#include "link/tls.h"
#include "protocol/signing.h"

namespace outpost::cli {
namespace {

struct AgentArgs {
  std::string config;
  bool check = false;
  bool verbose = false;
};

// Loads everything the agent needs before it dials: the config, the TLS files, the verify key.
agent::AgentConfig CheckAgentConfig(const std::string& file) {
  agent::AgentConfig config = agent::LoadAgentConfig(file);
  link::MakeClientContext(config.tls);
  if (config.verify_key) protocol::SigningKey::LoadPublic(*config.verify_key);
  return config;
}

// SIGINT and SIGTERM ask the agent to stop: blocked in every thread (call this before any other
// thread starts) and taken by one thread that requests the stop (the agent then exits 0).
std::stop_token StopOnSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source stop;
  std::thread([signals, stop]() mutable {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0) stop.request_stop();
  }).detach();
  return stop.get_token();
}

void RunAgentCommand(const AgentArgs& a) {
  agent::AgentConfig config = CheckAgentConfig(a.config);
  if (a.check) {
    std::printf("%s: ok (site %s, hub %s)\n", a.config.c_str(), config.site.c_str(), config.hub.str().c_str());
    return;
  }
  link::InitDaemonLogging(a.verbose);
  std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
  if (agent::RunAgent(config, *clock, StopOnSignals()) == agent::AgentExit::kApplyCutShort) {
    // The apply's worker thread still runs: end the process before anything is destroyed
    // under it. The target is unchanged; the transfer stays `received` and is applied at start.
    spdlog::shutdown();
    std::_Exit(0);
  }
}

}  // namespace

void AddAgentCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("agent", "Run the site's agent: fetch bundles from the hub and apply them (foreground)");
  auto a = std::make_shared<AgentArgs>();
  cmd->add_option("--config", a->config, "The agent's YAML config (docs/agent-state.md)")->required();
  cmd->add_flag("--check-config", a->check, "Check the config, its TLS files and verify key, then exit");
  cmd->add_flag("-v,--verbose", a->verbose, "Debug lines in the log");
  cmd->footer(std::string("Example:\n  outpost agent --config /etc/outpost/agent.yaml\n\n") + kFooter);
  cmd->callback([a] { RunAgentCommand(*a); });
}

}  // namespace outpost::cli
