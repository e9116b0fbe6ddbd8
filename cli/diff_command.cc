// `outpost diff`: writes a bundle that turns the --from images into the --to image.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/progress_option.h"
#include "cli/store_options.h"
#include "common/error.h"
#include "sync/diff.h"
#include "sync/layer_cache.h"
#include "protocol/signing.h"

namespace outpost::cli {
namespace {

struct DiffArgs {
  std::vector<std::string> from;
  std::string from_signature;
  std::string to;
  std::string output;
  std::string sign_key;
  bool quiet = false;
  std::string cache = sync::LayerCache::DefaultDir().string();
  bool no_cache = false;
};

void RunDiff(const DiffArgs& a, storage::StoreFactory& stores) {
  sync::DiffOptions o;
  for (const std::string& f : a.from) o.from.push_back(storage::Reference::Parse(f));
  o.to = storage::Reference::Parse(a.to);
  o.from_signature = a.from_signature;
  o.output = a.output;
  o.stores = &stores;
  if (!a.no_cache) o.cache = a.cache;
  std::optional<protocol::SigningKey> key;
  if (!a.sign_key.empty()) {
    key = protocol::SigningKey::LoadPrivate(a.sign_key);
    o.sign_key = &*key;
  }
  auto progress = MakeProgress(a.quiet);
  o.progress = progress.get();
  sync::DiffReport r = sync::Diff(o);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "outpost: warning: %s\n", w.c_str());
  if (!a.quiet) {
    for (const sync::LayerReport& l : r.layers) {
      std::string what = l.method == protocol::Method::kPresent ? "held by the far side"
                                                                  : sync::SummaryLine(l.payload_bytes, l.blob_bytes);
      std::printf("  %s %-9s %s%s\n", l.digest.short_hex().c_str(), std::string(protocol::MethodName(l.method)).c_str(),
                  what.c_str(), l.note.empty() ? "" : ("  (" + l.note + ")").c_str());
    }
  }
  std::printf("%s: %s\n", a.output.c_str(), sync::SummaryLine(r.bundle_bytes, r.registry_bytes).c_str());
}

}  // namespace

void AddDiffCommand(CLI::App& app, StoreCommand& command) {
  auto* cmd = app.add_subcommand("diff", "Write a bundle that turns the --from images (what the far side holds) into the --to image");
  auto a = std::make_shared<DiffArgs>();
  auto* from = cmd->add_option("--from", a->from, "An image the far side holds (repeatable), as it holds it: a registry or OCI layout (blobs), or "
                               "the docker-archive it loaded (tars: the bundle then carries the recipes that "
                               "recompress them)");
  auto* sig = cmd->add_option("--from-signature", a->from_signature,
                              "The far side's image signature (`outpost signature`), when the hub lacks its image");
  from->excludes(sig);
  cmd->add_option("--to", a->to, "The target image")->required();
  cmd->add_option("-o,--output", a->output, "Bundle file to write")->required();
  cmd->add_option("--sign-key", a->sign_key, "Sign the bundle with this private key (from `outpost keygen`)");
  auto* cache = cmd->add_option("--cache", a->cache,
                                 "Keep proven recipes and tar indexes here, so a layer is compressed and indexed only "
                                 "the first time")
                     ->capture_default_str();
  cmd->add_flag("--no-cache", a->no_cache, "Probe and index every layer afresh and keep nothing")->excludes(cache);
  AddStoreOptions(cmd, &command.access);
  cmd->add_flag("-q,--quiet", a->quiet, "No progress and no per-layer lines");
  cmd->footer(std::string("Example:\n  outpost diff --from oci:/srv/app:1.0 --to oci:/srv/app:2.0 -o app-2.0.bundle --sign-key hub.key\n\n") +
              kFooter);
  cmd->callback([a, &command] {
    if (a->from.empty() && a->from_signature.empty()) throw InvalidArgument("diff needs --from or --from-signature");
    command.run = [a](storage::StoreFactory& s) { RunDiff(*a, s); };
  });
}

}  // namespace outpost::cli
