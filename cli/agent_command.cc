// `outpost agent --config FILE`: the site's daemon (agent/, docs/agent-state.md), and `outpost
// agent status`, which reads its state (also while it runs).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <cstdlib>
#include <stop_token>
#include <string>
#include <thread>

#include "agent/agent_config.h"
#include "agent/runner.h"
#include "agent/status.h"
#include "cli/commands.h"
#include "common/error.h"
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
  if (a.config.empty()) throw InvalidArgument("outpost agent needs --config FILE (see outpost agent --help)");
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

struct StatusArgs {
  std::string config;
  bool json = false;
  int limit = 10;
};

void AddStatusCommand(CLI::App& agent_cmd) {
  auto* cmd = agent_cmd.add_subcommand("status", "Show what is arriving, how far it is, what was applied and what failed");
  auto a = std::make_shared<StatusArgs>();
  cmd->add_option("--config", a->config, "The agent's YAML config")->required();
  cmd->add_flag("--json", a->json, "One JSON object (for scripts)");
  cmd->add_option("--limit", a->limit, "Transfers shown (in progress first, then the latest)")->default_val(10)->check(CLI::Range(1, 100000));
  cmd->footer(std::string("Example:\n  outpost agent status --config /etc/outpost/agent.yaml\n\n") + kFooter);
  cmd->callback([a] {
    agent::AgentConfig config = agent::LoadAgentConfig(a->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    agent::AgentState state(config.state_dir / "agent.db", *clock);
    agent::AgentStatus status = agent::CollectAgentStatus(config, state, a->limit);
    if (a->json) {
      std::printf("%s\n", agent::AgentStatusJson(status).dump(2).c_str());
    } else {
      std::printf("%s", agent::AgentStatusText(status).c_str());
    }
  });
}

}  // namespace

void AddAgentCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("agent", "Run the site's agent: fetch bundles from the hub and apply them (foreground)");
  auto a = std::make_shared<AgentArgs>();
  cmd->add_option("--config", a->config, "The agent's YAML config (docs/agent-state.md)");
  cmd->add_flag("--check-config", a->check, "Check the config, its TLS files and verify key, then exit");
  cmd->add_flag("-v,--verbose", a->verbose, "Debug lines in the log");
  cmd->require_subcommand(0, 1);
  cmd->footer(std::string("Example:\n  outpost agent --config /etc/outpost/agent.yaml\n"
                          "  outpost agent status --config /etc/outpost/agent.yaml\n\n") + kFooter);
  AddStatusCommand(*cmd);
  AddAgentSneakernetCommands(*cmd);
  cmd->callback([a, cmd] {
    for (const char* sub : {"status", "import", "report"}) {
      if (cmd->got_subcommand(sub)) return;
    }
    RunAgentCommand(*a);
  });
}

}  // namespace outpost::cli
