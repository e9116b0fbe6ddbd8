// `outpost hub`: the daemon that serves bundles to the sites' agents; `outpost hub enqueue`,
// which queues a bundle for a site, `outpost hub status` (both also while the daemon runs),
// `outpost hub approve`, which releases a held transfer, and `outpost hub plan`, a dry run.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "hub/hub.h"
#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "hub/status.h"
#include "hub/plan_report.h"
#include "link/clock.h"
#include "link/log.h"
#include "link/tls.h"

namespace outpost::cli {
namespace {

struct HubOptions {
  std::string config;
  bool check_config = false;
  bool verbose = false;
};

struct EnqueueFlags {
  std::string config;
  hub::EnqueueOptions options;
  std::string as_ref;
};

void RunHubCommand(const HubOptions& o) {
  if (o.config.empty()) throw InvalidArgument("outpost hub needs --config FILE (see outpost hub --help)");
  hub::HubConfig config = hub::LoadHubConfig(o.config);
  if (o.check_config) {
    link::MakeServerContext(config.tls);  // the certificate, its key and the CA agree
    std::printf("%s: ok (%zu sites: %s)\n", o.config.c_str(), config.sites.size(), config.SiteNames().c_str());
    return;
  }
  link::InitDaemonLogging(o.verbose);
  std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
  hub::RunHub(config, *clock);
}

void AddEnqueueCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("enqueue", "Queue a bundle for a site (prints the transfer id)");
  auto f = std::make_shared<EnqueueFlags>();
  cmd->add_option("--config", f->config, "The hub's config file")->required();
  cmd->add_option("--site", f->options.site, "The site to send it to (a name under sites: in the config)")->required();
  cmd->add_option("bundle", f->options.bundle, "The bundle file (outpost diff -o)")->required();
  cmd->add_option("--priority", f->options.priority, "Higher is fetched first (default 0)");
  cmd->add_option("--as", f->as_ref, "Tag the site publishes it as, REPO:TAG");
  cmd->footer(std::string("Example:\n  outpost hub enqueue --config hub.yaml --site oslo app-2.0.bundle --as app:2.0\n\n") + kFooter);
  cmd->callback([f] {
    if (!f->as_ref.empty()) f->options.as_ref = f->as_ref;
    hub::HubConfig config = hub::LoadHubConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    std::printf("%lld\n", static_cast<long long>(hub::EnqueueBundle(config, f->options, *clock)));
  });
}

struct StatusFlags {
  std::string config;
  std::string site;
  bool json = false;
  int watch = 0;
};

void PrintStatus(const StatusFlags& f) {
  hub::HubConfig config = hub::LoadHubConfig(f.config);
  std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
  hub::HubState state(config.state_dir, *clock);
  for (;;) {
    const link::WallTime now = clock->Now();
    std::vector<hub::SiteStatus> sites = hub::CollectStatus(config, state, now, f.site);
    if (f.json) {
      std::printf("%s\n", hub::StatusJson(sites, now).dump(2).c_str());
    } else {
      if (f.watch > 0) std::printf("\033[H\033[2J%s  (every %d s; Ctrl-C ends)\n", hub::UtcText(now).c_str(), f.watch);
      std::printf("%s", hub::StatusText(sites, now).c_str());
    }
    std::fflush(stdout);
    if (f.watch <= 0) return;
    std::this_thread::sleep_for(std::chrono::seconds(f.watch));
  }
}

void AddStatusCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("status", "Show each site: last contact, link rate now, queued bytes and ETA, transfers and errors");
  auto f = std::make_shared<StatusFlags>();
  cmd->add_option("--config", f->config, "The hub's config file")->required();
  cmd->add_option("--site", f->site, "Only this site");
  cmd->add_flag("--json", f->json, "One JSON object (for scripts)");
  cmd->add_option("--watch", f->watch, "Redraw every SECONDS (a live view on a terminal)")->check(CLI::Range(1, 3600));
  cmd->footer(std::string("Examples:\n  outpost hub status --config /etc/outpost/hub.yaml --watch 2\n"
                          "  outpost hub status --config /etc/outpost/hub.yaml --site oslo --json | jq .sites[0].eta\n\n") +
              kFooter);
  cmd->callback([f] { PrintStatus(*f); });
}

struct ApproveFlags {
  std::string config;
  std::string site;
  int64_t id = 0;
};

void AddApproveCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("approve", "Release a transfer held for being over its max_bundle_bytes");
  auto f = std::make_shared<ApproveFlags>();
  cmd->add_option("--config", f->config, "The hub's config file")->required();
  cmd->add_option("--site", f->site, "The site the transfer is for")->required();
  cmd->add_option("id", f->id, "The transfer id (`outpost hub status` and the hub's log name it)")->required();
  cmd->footer(std::string("Example:\n  outpost hub approve --config hub.yaml --site oslo 12\n\n") + kFooter);
  cmd->callback([f] {
    hub::HubConfig config = hub::LoadHubConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    if (!hub::ApproveTransfer(config, f->site, f->id, *clock)) {
      throw NotFound("site ", f->site, " has no held transfer ", std::to_string(f->id));
    }
    std::printf("transfer %lld queued\n", static_cast<long long>(f->id));
  });
}

struct PlanFlags {
  std::string config;
  std::string site;
  bool json = false;
};

void AddPlanCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("plan", "Dry run: what each site would be sent now, layer by layer, and how long it takes");
  auto f = std::make_shared<PlanFlags>();
  cmd->add_option("--config", f->config, "The hub's config file (with a source)")->required();
  cmd->add_option("--site", f->site, "Only this site");
  cmd->add_flag("--json", f->json, "Print JSON for scripts");
  cmd->footer(std::string("Example:\n  outpost hub plan --config hub.yaml --site oslo\n\n") + kFooter);
  cmd->callback([f] {
    hub::HubConfig config = hub::LoadHubConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    std::optional<std::string> site;
    if (!f->site.empty()) site = f->site;
    std::vector<hub::SitePlan> plans = hub::PlanDryRun(config, site, *clock);
    std::string text = f->json ? hub::PlanJson(plans) : hub::PlanText(plans);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

}  // namespace

void AddHubCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("hub", "Run the hub daemon that serves queued bundles to the sites' agents");
  auto o = std::make_shared<HubOptions>();
  cmd->add_option("--config", o->config, "The hub's config file (YAML: listen, state_dir, tls, sites, ...)");
  cmd->add_flag("--check-config", o->check_config, "Check the config and the TLS files, then exit");
  cmd->add_flag("-v,--verbose", o->verbose, "Log debug lines too (acks, connections)");
  cmd->require_subcommand(0, 1);
  cmd->footer(std::string("Example:\n  outpost hub --config /etc/outpost/hub.yaml\n"
                          "  outpost hub enqueue --config /etc/outpost/hub.yaml --site oslo update.bundle\n\n") +
              kFooter);
  AddEnqueueCommand(*cmd);
  AddStatusCommand(*cmd);
  AddApproveCommand(*cmd);
  AddPlanCommand(*cmd);
  AddHubSneakernetCommands(*cmd);
  cmd->callback([o, cmd] {
    for (const char* sub : {"enqueue", "status", "approve", "plan", "export", "import-report"}) {
      if (cmd->got_subcommand(sub)) return;
    }
    RunHubCommand(*o);
  });
}

}  // namespace outpost::cli
