// `outpost inspect REF`: show an image's or index's digests and layers, verifying every blob.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/store_options.h"
#include "common/error.h"
#include "protocol/bundle_printer.h"
#include "storage/inspect.h"

namespace outpost::cli {
namespace {

struct InspectArgs {
  std::string reference;
  bool json = false;
  std::string platform;
};

void RunInspect(const InspectArgs& args, storage::StoreFactory& stores) {
  if (protocol::LooksLikeBundle(args.reference)) {  // `outpost inspect BUNDLE` (protocol/)
    std::string text = protocol::DescribeBundle(protocol::BundleReader(args.reference));
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  storage::Reference ref = storage::Reference::Parse(args.reference);
  std::unique_ptr<storage::ImageStore> store = stores.Open(ref, /*for_write=*/false);
  storage::InspectOptions options;
  if (!args.platform.empty()) options.platform = image::Platform::Parse(args.platform);
  storage::InspectReport report = storage::Inspect(*store, ref.tag_or_digest(), options);
  std::string out = args.json ? storage::ReportToJson(report) + "\n" : storage::ReportToText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  for (const std::string& problem : report.problems) std::fprintf(stderr, "outpost: %s\n", problem.c_str());
  if (!report.problems.empty()) {
    throw Corruption(ref.text, ": ", std::to_string(report.problems.size()), " blob(s) failed verification");
  }
}

}  // namespace

void AddInspectCommand(CLI::App& app, StoreCommand& command) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show an image's manifest digest, media type, config digest (image ID) and, per layer, digest, diffID, "
      "size, media type and compression (with the gzip header fields). For an index: its platforms and their "
      "manifests. Every blob is verified (sha256 and size); mismatches are listed one per line on stderr and "
      "the exit code is non-zero.");
  cmd->add_option("reference", args->reference,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE[:TAG|:@N] or docker://HOST/REPO[:TAG]")
      ->required();
  cmd->add_flag("--json", args->json, "Print one JSON object (digest, config, layers[] or manifests[], problems[])");
  cmd->add_option("--platform", args->platform, "Pick one image out of an index: OS/ARCH[/VARIANT]");
  AddStoreOptions(cmd, &command.access);
  cmd->footer(std::string("Example:\n  outpost inspect --json oci:/srv/images/app:1.0\n\n") + kFooter);
  cmd->callback([args, &command] { command.run = [args](storage::StoreFactory& s) { RunInspect(*args, s); }; });
}

}  // namespace outpost::cli
