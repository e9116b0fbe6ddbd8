// `outpost signature REF -o SIG`: the far side's description of an image it holds, for a hub
// that no longer holds that image (`outpost diff --from-signature SIG`).
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/store_options.h"
#include "common/file.h"
#include "sync/image_signature.h"
#include "sync/image_source.h"
#include "protocol/bundle_printer.h"

namespace outpost::cli {
namespace {

struct SignatureArgs {
  std::string reference;
  std::string output;
};

void RunSignature(const SignatureArgs& a, storage::StoreFactory& stores) {
  sync::ImageBlockSignature sig =
      sync::ComputeImageBlockSignature(storage::Reference::Parse(a.reference), &stores, sync::DefaultScratchDir());
  sig.Save(a.output);
  std::printf("%s: %zu layers, %s\n", a.output.c_str(), sig.layers.size(),
              protocol::HumanBytes(FileSize(a.output)).c_str());
}

}  // namespace

void AddSignatureCommand(CLI::App& app, StoreCommand& command) {
  auto* cmd = app.add_subcommand("signature",
                                 "Describe an image this site holds (per layer: entry index, content hashes, librsync "
                                 "block signatures) so a hub without it can make a bundle against it");
  auto a = std::make_shared<SignatureArgs>();
  cmd->add_option("reference", a->reference, "The image this site holds")->required();
  cmd->add_option("-o,--output", a->output, "Signature file to write")->required();
  AddStoreOptions(cmd, &command.access);
  cmd->footer(std::string("Example:\n  outpost signature docker-archive:app-1.0.tar -o app-1.0.sig\n"
                          "  (at the hub) outpost diff --from-signature app-1.0.sig --to oci:/srv/app:2.0 -o app.bundle\n\n") +
              kFooter);
  cmd->callback([a, &command] { command.run = [a](storage::StoreFactory& s) { RunSignature(*a, s); }; });
}

}  // namespace outpost::cli
