#include "agent/applier.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "protocol/bundle_file.h"
#include "sync/apply.h"

namespace outpost::agent {

storage::Reference IntoReference(const AgentConfig& config, const std::string& bundle_target, const std::string& as) {
  if (!config.target_registry.empty()) {
    std::string name = as;
    if (name.empty()) {
      storage::Reference named;
      try {
        named = storage::Reference::Parse(bundle_target);
      } catch (const Error&) {
      }
      if (named.transport != storage::Reference::Transport::kDocker || named.tag.empty()) {
        throw InvalidArgument("the bundle's target \"", bundle_target, "\" names no repository and tag for registry ",
                              config.target_registry, " (queue it with --as REPO:TAG)");
      }
      name = named.repository() + ":" + named.tag;
    }
    return storage::Reference::Parse("docker://" + config.target_registry + "/" + name);
  }
  if (as.empty()) return config.target;
  if (config.target.transport == storage::Reference::Transport::kDocker) {
    return storage::Reference::Parse("docker://" + config.target.host() + "/" + as);
  }
  storage::Reference into = config.target;
  into.tag = as;
  into.digest.reset();
  into.text += ":" + as;
  return into;
}

ApplyOutcome ApplyBundle(const ApplyJob& job) {
  ApplyOutcome outcome;
  try {
    const std::filesystem::path scratch = job.config.state_dir / "scratch";
    std::filesystem::create_directories(scratch);
    RandomAccessFile file(job.spool);
    const protocol::BundleHead head = protocol::ReadHead(file, job.what, job.verify_key.get());
    sync::ApplyOptions o;
    o.bundle = job.spool;
    o.into = IntoReference(job.config, head.header().target_reference, job.as);
    o.bases = {job.config.target_registry.empty() ? job.config.target : o.into};
    o.verify_key = job.verify_key.get();
    o.stores = job.stores.get();
    o.scratch = scratch;
    sync::ApplyReport report = sync::Apply(o);
    for (const std::string& w : report.warnings) spdlog::warn("{}: {}", job.what, w);
    outcome.applied = true;
    outcome.manifest = report.manifest.str();
    outcome.tag = report.tag;
  } catch (const std::exception& e) {  // Error, and bad_alloc: this runs on a worker thread
    outcome.error = e.what();
  }
  return outcome;
}

}  // namespace outpost::agent
