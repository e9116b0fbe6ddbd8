// `outpost copy SRC DST`: copy an image or a whole index between stores, keeping its digests.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/store_options.h"
#include "common/error.h"
#include "storage/copy.h"

namespace outpost::cli {
namespace {

namespace fs = std::filesystem;

struct CopyArgs {
  std::string source;
  std::string destination;
  std::string platform;
  bool quiet = false;
};

void PrintLine(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

void CopyInto(const storage::Reference& src_ref, storage::ImageStore& src, const storage::Reference& dst_ref,
              const CopyArgs& args, storage::StoreFactory& stores);

void RunCopy(const CopyArgs& args, storage::StoreFactory& stores) {
  storage::Reference src_ref = storage::Reference::Parse(args.source);
  storage::Reference dst_ref = storage::Reference::Parse(args.destination);
  auto src = stores.Open(src_ref, /*for_write=*/false);
  // A layout directory this copy creates is removed again if the copy fails: no partial output.
  std::error_code ec;
  bool new_layout = dst_ref.transport == storage::Reference::Transport::kOci && !fs::exists(dst_ref.location, ec);
  if (ec) throw IOError("cannot check ", dst_ref.location, ": ", ec.message());
  try {
    CopyInto(src_ref, *src, dst_ref, args, stores);
  } catch (...) {
    std::error_code ignored;
    if (new_layout) fs::remove_all(dst_ref.location, ignored);
    throw;
  }
}

void CopyInto(const storage::Reference& src_ref, storage::ImageStore& src, const storage::Reference& dst_ref,
              const CopyArgs& args, storage::StoreFactory& stores) {
  auto dst = stores.Open(dst_ref, /*for_write=*/true);
  storage::CopyOptions options;
  if (!args.platform.empty()) options.platform = image::Platform::Parse(args.platform);
  if (!args.quiet && ::isatty(STDERR_FILENO)) options.progress = PrintLine;
  options.notice = PrintLine;
  std::string tag = dst_ref.tag;
  if (tag.empty() && !src_ref.tag.empty() && src_ref.tag[0] != '@') tag = src_ref.tag;
  if (tag.empty() && dst_ref.transport == storage::Reference::Transport::kOci) tag = "latest";
  storage::CopyResult result = storage::CopyImage(src, src_ref.tag_or_digest(), *dst, tag, options);
  if (!args.quiet) PrintLine("copied " + result.destination_digest.str() + " to " + dst_ref.text);
}

}  // namespace

void AddCopyCommand(CLI::App& app, StoreCommand& command) {
  auto args = std::make_shared<CopyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "copy",
      "Copy an image, or an index with all its platforms, from SRC to DST keeping every digest the destination "
      "can hold. Into a docker-archive (uncompressed layers only) the layers are decompressed, checked against "
      "the config's diffIDs and the manifest rewritten; the config digest (image ID) stays the same. Every blob "
      "is verified while it is copied; nothing is tagged unless all blobs arrived intact.");
  cmd->add_option("source", args->source, "Image to read (oci:, oci-archive:, docker-archive:, docker://)")->required();
  cmd->add_option("destination", args->destination, "Where to write it (oci:, docker-archive:, docker://)")->required();
  cmd->add_option("--platform", args->platform, "Copy only this platform's image of an index: OS/ARCH[/VARIANT]");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress or summary on stderr");
  AddStoreOptions(cmd, &command.access);
  cmd->footer(std::string("Example:\n  outpost copy oci:/srv/images/app:1.0 docker-archive:/tmp/app.tar:app:1.0\n\n") +
              kFooter);
  cmd->callback([args, &command] { command.run = [args](storage::StoreFactory& s) { RunCopy(*args, s); }; });
}

}  // namespace outpost::cli
