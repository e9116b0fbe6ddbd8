// `outpost layer probe BLOB [--json]` and `outpost layer rebuild TAR --recipe LINE -o BLOB`:
// find the recipe that rebuilds a layer blob bit for bit, and rebuild a blob from its tar.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "codec/probe.h"
#include "codec/rebuild.h"
#include "common/error.h"
#include "common/file.h"

namespace outpost::cli {
namespace {

void RunProbe(const std::string& blob_path, bool json) {
  auto start = std::chrono::steady_clock::now();
  codec::ProbeResult r = codec::Probe([&] { return std::make_unique<FileReader>(blob_path); });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    nlohmann::json j = {{"exact", r.exact},
                        {"recipe", r.exact ? r.recipe.str() : ""},
                        {"reason", r.reason},
                        {"blob_digest", r.blob_digest.str()},
                        {"blob_size", r.blob_size},
                        {"diff_id", r.diff_id.str()},
                        {"uncompressed_size", r.uncompressed_size},
                        {"candidates_tried", r.candidates_tried},
                        {"seconds", seconds}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n", r.exact ? r.recipe.str().c_str() : r.reason.c_str());
  }
}

void RunRebuild(const std::string& tar_path, const std::string& recipe_line, const std::string& out_path) {
  codec::Recipe recipe = codec::Recipe::Parse(recipe_line);
  FileReader in(tar_path);
  AtomicFile out(out_path);
  HashingWriter hashing(&out);
  codec::Rebuild(recipe, in, hashing);
  Digest digest = hashing.Finish();
  out.Commit();
  std::printf("%s\n", digest.str().c_str());
}

}  // namespace

void AddLayerCommand(CLI::App& app) {
  CLI::App* layer = app.add_subcommand("layer", "Inspect and rebuild compressed layer blobs exactly.");
  layer->require_subcommand(1);
  layer->footer(kFooter);

  CLI::App* probe = layer->add_subcommand(
      "probe", "Find the recipe (encoder, settings, header bytes) that rebuilds BLOB bit for bit; "
               "prints it as one line, or 'no recipe: <reason>'.");
  struct ProbeArgs {
    std::string blob;
    bool json = false;
  };
  auto p = std::make_shared<ProbeArgs>();  // kept alive by the callback
  probe->add_option("BLOB", p->blob, "compressed layer blob (gzip, zstd or plain tar)")->required()->check(CLI::ExistingFile);
  probe->add_flag("--json", p->json, "print one JSON object: exact, recipe, reason, diff_id, sizes, time");
  probe->footer(std::string("Example:\n  outpost layer probe blobs/sha256/9795e995b4d8... --json\n") + kFooter);
  probe->callback([p] { RunProbe(p->blob, p->json); });

  CLI::App* rebuild = layer->add_subcommand(
      "rebuild", "Compress TAR as RECIPE says and write the blob to -o atomically; prints its sha256.");
  struct RebuildArgs {
    std::string tar, recipe, out;
  };
  auto r = std::make_shared<RebuildArgs>();
  rebuild->add_option("TAR", r->tar, "uncompressed layer tar")->required()->check(CLI::ExistingFile);
  rebuild->add_option("--recipe", r->recipe, "recipe line from `outpost layer probe`")->required();
  rebuild->add_option("-o,--output", r->out, "blob file to write")->required();
  rebuild->footer(std::string("Example:\n  outpost layer rebuild layer.tar --recipe 'v1 gzip hdr=1f8b08000000000000ff "
                              "deflate=go:6' -o layer.tar.gz\n") + kFooter);
  rebuild->callback([r] { RunRebuild(r->tar, r->recipe, r->out); });
}

}  // namespace outpost::cli
