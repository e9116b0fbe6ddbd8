#include "agent/sneakernet.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "agent/agent_state.h"
#include "agent/applier.h"
#include "agent/fetcher.h"
#include "agent/gc.h"
#include "agent/inventory.h"
#include "common/error.h"
#include "common/file.h"
#include "link/sealed_file.h"
#include "protocol/bundle_file.h"
#include "protocol/part_file.h"
#include "protocol/site_report.h"
#include "registry/store_factory.h"

namespace outpost::agent {
namespace {

using Kind = ImportOutcome::Kind;

// Transfers whose results a report carries: the latest this many.
constexpr int kReportedTransfers = 500;

std::shared_ptr<const protocol::SigningKey> LoadVerifyKey(const AgentConfig& config) {
  if (!config.verify_key) return nullptr;
  return std::make_shared<const protocol::SigningKey>(protocol::SigningKey::LoadPublic(*config.verify_key));
}

WorkItem ItemOf(const protocol::Carriage& c) {
  return WorkItem{c.transfer, c.bundle.str(), c.head_bytes, c.bundle_bytes, c.as};
}

// Assembles, verifies (head with the verify key, sizes the parts claim) and applies one bundle.
ImportOutcome ApplyCarried(const AgentConfig& config, AgentState& state, const protocol::CarriedBundle& carried,
                           const std::shared_ptr<const protocol::SigningKey>& key,
                           const std::shared_ptr<storage::StoreFactory>& stores) {
  const WorkItem item = ItemOf(carried.carriage);
  ImportOutcome out{Kind::kApplied, item.id, item.as, item.bundle, "", "", ""};
  const std::filesystem::path dir = config.state_dir / "import";
  std::filesystem::create_directories(dir);
  const std::filesystem::path bundle = dir / (carried.carriage.bundle.hex() + ".bundle");
  protocol::AssembleParts(carried, bundle);
  struct Remove {
    std::filesystem::path path;
    ~Remove() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  } remove_bundle{bundle};
  const std::string name = TransferName(config, item) + " (carried)";
  RandomAccessFile file(bundle);
  const protocol::BundleHead head = protocol::ReadHead(file, name, key.get());
  if (head.head_bytes() != item.head_bytes || head.file_bytes() != item.file_bytes) {
    throw Corruption(name, ": its head says ", std::to_string(head.head_bytes()), " + payload = ",
                     std::to_string(head.file_bytes()), " bytes; the parts say ", std::to_string(item.head_bytes), " and ",
                     std::to_string(item.file_bytes));
  }
  state.Begin(item);  // stays `fetching` while it applies: a crash here leaves it to the link
  spdlog::info("{}: applying into {}", name, config.target_registry.empty() ? config.target.text : "docker://" + config.target_registry);
  ApplyOutcome applied = ApplyBundle(ApplyJob{config, bundle, name, item.as, key, stores});
  if (applied.applied) {
    state.SetApplied(item.id, applied.manifest, applied.tag);
    out.manifest = applied.manifest;
    out.tag = applied.tag;
  } else {
    state.SetFailed(item.id, applied.error);
    out.kind = Kind::kFailed;
    out.error = applied.error;
  }
  std::error_code ignored;
  std::filesystem::remove(SpoolPath(config, item.id), ignored);
  return out;
}

}  // namespace

std::vector<ImportOutcome> ImportParts(const AgentConfig& config, const std::vector<std::filesystem::path>& files,
                                       const link::Clock& clock) {
  const std::shared_ptr<const protocol::SigningKey> key = LoadVerifyKey(config);
  const std::vector<protocol::CarriedBundle> bundles = protocol::GroupParts(files, key.get());
  std::filesystem::create_directories(config.state_dir);
  AgentState state(config.state_dir / "agent.db", clock);
  for (const protocol::CarriedBundle& b : bundles) {
    if (b.carriage.site != config.site) {
      throw InvalidArgument("the parts of bundle ", b.carriage.bundle.str(), " (transfer ", std::to_string(b.carriage.transfer),
                            ") are for site `", b.carriage.site, "`; this agent is site `", config.site, "`: nothing imported");
    }
    std::optional<TransferRow> row = state.Find(b.carriage.transfer);
    if (row && row->item.bundle != b.carriage.bundle.str()) {
      throw InvalidArgument("transfer ", std::to_string(b.carriage.transfer), " here is bundle ", row->item.bundle,
                            "; the parts carry ", b.carriage.bundle.str(), " (parts from another hub?): nothing imported");
    }
  }
  std::filesystem::create_directories(config.state_dir / "scratch");
  auto stores = std::make_shared<registry::RegistryStoreFactory>(registry::AccessOptions{});
  std::vector<ImportOutcome> outcomes;
  for (const protocol::CarriedBundle& b : bundles) {
    std::optional<TransferRow> row = state.Find(b.carriage.transfer);
    if (row && (row->state == TransferState::kApplied || row->state == TransferState::kFailed)) {
      outcomes.push_back({Kind::kAlreadyDone, row->item.id, row->item.as, row->item.bundle, row->manifest, row->tag, row->error});
      continue;
    }
    if (row && row->state == TransferState::kReceived) {
      outcomes.push_back({Kind::kLeftToLink, row->item.id, row->item.as, row->item.bundle, "", "", ""});
      continue;
    }
    outcomes.push_back(ApplyCarried(config, state, b, key, stores));
  }
  try {
    CollectGarbage(config, state, *stores, {});
  } catch (const std::exception& e) {  // the imports stand; the daemon collects after its next transfer
    spdlog::warn("site {}: garbage collection failed after the import: {}", config.site, e.what());
  }
  return outcomes;
}

std::string OutcomeLine(const ImportOutcome& o) {
  std::string head = "transfer " + std::to_string(o.transfer) + " (" + (o.as.empty() ? "" : o.as + ", ") + "bundle " + o.bundle + "): ";
  switch (o.kind) {
    case Kind::kApplied: return head + "applied manifest " + o.manifest + " tag " + o.tag;
    case Kind::kFailed: return head + "failed: " + o.error;
    case Kind::kAlreadyDone:
      return head + "already " + (o.error.empty() ? "applied (manifest " + o.manifest + " tag " + o.tag + ")" : "failed (" + o.error + ")") +
             "; nothing changed";
    case Kind::kLeftToLink: return head + "already received over the link; the agent applies it";
  }
  return head;
}

std::string MakeSiteReport(const AgentConfig& config, const link::Clock& clock) {
  registry::RegistryStoreFactory stores(registry::AccessOptions{});
  Inventory inventory = TakeInventory(config, stores);
  protocol::SiteReport report;
  report.site = config.site;
  report.created_at = std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
  report.images = std::move(inventory.images);
  report.blobs = std::move(inventory.blobs);
  std::filesystem::create_directories(config.state_dir);
  AgentState state(config.state_dir / "agent.db", clock);
  for (const TransferRow& row : state.Recent(kReportedTransfers)) {
    if (row.state != TransferState::kApplied && row.state != TransferState::kFailed) continue;
    report.transfers.push_back({row.item.id, row.item.bundle, row.state == TransferState::kApplied, row.manifest, row.error});
  }
  return link::Seal(protocol::EncodeSiteReport(report), config.tls);
}

}  // namespace outpost::agent
