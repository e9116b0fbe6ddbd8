// Sneakernet (docs/sneakernet-format.md, README "Sneakernet"): `outpost hub export` and
// `outpost hub import-report` at home, `outpost agent import` and `outpost agent report` at a
// site. Each only parses options and calls hub/sneakernet.h or agent/sneakernet.h.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/sneakernet.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/file.h"
#include "hub/hub_config.h"
#include "hub/sneakernet.h"
#include "link/clock.h"
#include "link/units.h"

namespace outpost::cli {
namespace {

struct ExportFlags {
  std::string config;
  hub::ExportOptions options;
  std::string max_part_size;
};

void AddExportCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("export", "Write what a site needs as signed parts to carry there (sneakernet)");
  auto f = std::make_shared<ExportFlags>();
  cmd->add_option("--config", f->config, "The hub's config file")->required();
  cmd->add_option("--site", f->options.site, "The site the parts are for")->required();
  cmd->add_option("--image", f->options.images, "Only this REPO:TAG (repeatable; default: everything the site needs)");
  cmd->add_option("-o,--output", f->options.out_dir, "Folder the parts are written to (e.g. the mounted media)")->required();
  cmd->add_option("--max-part-size", f->max_part_size, "Largest part file, e.g. 4GiB for FAT32 media (default: one part per bundle)");
  cmd->footer(std::string("Plans the site against its last inventory (as the hub does for the link), then writes each\n"
                          "queued transfer of the site as parts named SITE-tID[-REPO_TAG]-partIofN.outpost.\n\n"
                          "Examples:\n"
                          "  outpost hub export --config hub.yaml --site oslo -o /media/usb --max-part-size 4GiB\n"
                          "  outpost hub export --config hub.yaml --site oslo --image app:2.0 -o /media/usb\n\n") +
              kFooter);
  cmd->callback([f] {
    if (!f->max_part_size.empty()) f->options.max_part_bytes = link::ParseBytes(f->max_part_size);
    hub::HubConfig config = hub::LoadHubConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    hub::ExportResult result = hub::ExportForSite(config, f->options, *clock);
    for (int64_t id : result.planned) std::printf("planned transfer %lld\n", static_cast<long long>(id));
    for (const hub::ExportedTransfer& t : result.transfers) {
      std::printf("transfer %lld%s: bundle %s, %s in %zu part(s)\n", static_cast<long long>(t.id),
                  t.as_ref.empty() ? "" : (" as " + t.as_ref).c_str(), t.bundle_digest.c_str(),
                  link::FormatBytes(t.bundle_bytes).c_str(), t.parts.size());
      for (const auto& part : t.parts) std::printf("  %s\n", part.string().c_str());
    }
    if (result.transfers.empty()) std::printf("site %s needs nothing the hub knows of\n", f->options.site.c_str());
  });
}

struct ImportReportFlags {
  std::string config;
  std::filesystem::path report;
};

void AddImportReportCommand(CLI::App& hub_cmd) {
  auto* cmd = hub_cmd.add_subcommand("import-report", "Take a site's report carried back by hand: its inventory and results");
  auto f = std::make_shared<ImportReportFlags>();
  cmd->add_option("--config", f->config, "The hub's config file")->required();
  cmd->add_option("report", f->report, "The file `outpost agent report` wrote at the site")->required();
  cmd->footer(std::string("The report must be sealed by a site certificate of the hub's CA.\n\n"
                          "Example:\n  outpost hub import-report --config hub.yaml /media/usb/oslo.report\n\n") +
              kFooter);
  cmd->callback([f] {
    hub::HubConfig config = hub::LoadHubConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    hub::ImportedReport r = hub::ImportSiteReport(config, f->report, *clock);
    std::printf("site %s: inventory of %zu images, %zu blobs; %zu transfer result(s) recorded\n", r.site.c_str(), r.images,
                r.blobs, r.finished.size());
  });
}

struct AgentImportFlags {
  std::string config;
  std::vector<std::filesystem::path> parts;
};

void AddImportCommand(CLI::App& agent_cmd) {
  auto* cmd = agent_cmd.add_subcommand("import", "Apply bundles carried by hand (parts from `outpost hub export`), in any order");
  auto f = std::make_shared<AgentImportFlags>();
  cmd->add_option("--config", f->config, "The agent's YAML config")->required();
  cmd->add_option("parts", f->parts, "The part files (any order; several bundles at once)")->required();
  cmd->footer(std::string("Checks each part and the bundle with verify_key, applies into the target as the link would,\n"
                          "and names any part missing or damaged. Importing again changes nothing.\n\n"
                          "Example:\n  outpost agent import --config /etc/outpost/agent.yaml /media/usb/oslo-t*.outpost\n\n") +
              kFooter);
  cmd->callback([f] {
    agent::AgentConfig config = agent::LoadAgentConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    bool failed = false;
    for (const agent::ImportOutcome& o : agent::ImportParts(config, f->parts, *clock)) {
      std::printf("%s\n", agent::OutcomeLine(o).c_str());
      failed = failed || o.kind == agent::ImportOutcome::Kind::kFailed;
    }
    if (failed) throw Corruption("a carried bundle failed to apply (above); the hub learns it with the next report");
  });
}

struct AgentReportFlags {
  std::string config;
  std::filesystem::path output;
};

void AddReportCommand(CLI::App& agent_cmd) {
  auto* cmd = agent_cmd.add_subcommand("report", "Write the site's sealed report (inventory and results) to carry to the hub");
  auto f = std::make_shared<AgentReportFlags>();
  cmd->add_option("--config", f->config, "The agent's YAML config")->required();
  cmd->add_option("-o,--output", f->output, "The report file")->required();
  cmd->footer(std::string("Signed with the site's TLS key; the hub checks it against its CA.\n\n"
                          "Example:\n  outpost agent report --config /etc/outpost/agent.yaml -o /media/usb/oslo.report\n\n") +
              kFooter);
  cmd->callback([f] {
    agent::AgentConfig config = agent::LoadAgentConfig(f->config);
    std::unique_ptr<link::Clock> clock = link::ClockFromEnvironment();
    std::string report = agent::MakeSiteReport(config, *clock);
    WriteFileAtomic(f->output, report);
    std::printf("%s: report of site %s (%zu bytes)\n", f->output.string().c_str(), config.site.c_str(), report.size());
  });
}

}  // namespace

void AddHubSneakernetCommands(CLI::App& hub_cmd) {
  AddExportCommand(hub_cmd);
  AddImportReportCommand(hub_cmd);
}

void AddAgentSneakernetCommands(CLI::App& agent_cmd) {
  AddImportCommand(agent_cmd);
  AddReportCommand(agent_cmd);
}

}  // namespace outpost::cli
