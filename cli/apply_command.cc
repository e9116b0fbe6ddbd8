// `outpost apply`: rebuilds a bundle's target image from local bases into a store.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sync/apply.h"
#include "cli/commands.h"
#include "cli/progress_option.h"
#include "cli/store_options.h"
#include "protocol/signing.h"

namespace outpost::cli {
namespace {

struct ApplyArgs {
  std::string bundle;
  std::vector<std::string> bases;
  std::string into;
  std::string verify_key;
  std::string expect;
  bool quiet = false;
};

void RunApply(const ApplyArgs& a, storage::StoreFactory& stores) {
  sync::ApplyOptions o;
  o.bundle = a.bundle;
  for (const std::string& b : a.bases) o.bases.push_back(storage::Reference::Parse(b));
  o.into = storage::Reference::Parse(a.into);
  o.stores = &stores;
  std::optional<protocol::SigningKey> key;
  if (!a.verify_key.empty()) {
    key = protocol::SigningKey::LoadPublic(a.verify_key);
    o.verify_key = &*key;
  }
  if (!a.expect.empty()) o.expect = Digest::Parse(a.expect);
  auto progress = MakeProgress(a.quiet);
  o.progress = progress.get();
  sync::ApplyReport r = sync::Apply(o);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "outpost: warning: %s\n", w.c_str());
  std::string written = a.into + (r.tag.empty() || !o.into.tag.empty() ? "" : ":" + r.tag);
  if (o.into.transport == storage::Reference::Transport::kDockerArchive) {
    // A docker load archive holds its layers uncompressed and no manifest of its own: what names
    // the image there is its config, the image ID docker shows.
    std::printf("%s image ID %s (as docker load shows it)\n", written.c_str(), r.config.str().c_str());
    return;
  }
  std::printf("%s %s (config %s)\n", written.c_str(), r.manifest.str().c_str(), r.config.short_hex().c_str());
}

}  // namespace

void AddApplyCommand(CLI::App& app, StoreCommand& command) {
  auto* cmd = app.add_subcommand("apply", "Rebuild a bundle's target image, bit for bit, from the images this site holds");
  auto a = std::make_shared<ApplyArgs>();
  cmd->add_option("bundle", a->bundle, "Bundle file (from `outpost diff`)")->required();
  cmd->add_option("--base", a->bases, "An image this site holds (repeatable)");
  cmd->add_option("--into", a->into, "Where to write the target image")->required();
  cmd->add_option("--verify-key", a->verify_key,
                  "Require a valid signature by this public key (without it a signature is reported, not checked)");
  cmd->add_option("--expect", a->expect, "Refuse the bundle unless its target manifest has this digest");
  AddStoreOptions(cmd, &command.access);
  cmd->add_flag("-q,--quiet", a->quiet, "No progress");
  cmd->footer(std::string("Example:\n  outpost apply app-2.0.bundle --base docker-archive:app-1.0.tar --into oci:/srv/app:2.0 --verify-key hub.key.pub\n\n") +
              kFooter);
  cmd->callback([a, &command] { command.run = [a](storage::StoreFactory& s) { RunApply(*a, s); }; });
}

}  // namespace outpost::cli
