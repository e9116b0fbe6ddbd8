// `outpost keygen -o KEY`: makes an Ed25519 key pair for signing bundles.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "protocol/signing.h"

namespace outpost::cli {

void AddKeygenCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Make an Ed25519 key pair for signing bundles (KEY and KEY.pub, PEM)");
  auto out = std::make_shared<std::string>();
  cmd->add_option("-o,--output", *out, "Private key file to write; the public key goes to KEY.pub")->required();
  cmd->footer(std::string("Example:\n  outpost keygen -o hub.key   # writes hub.key (mode 0600) and hub.key.pub\n\n") + kFooter);
  cmd->callback([out] {
    std::error_code ec;
    bool exists = std::filesystem::exists(*out, ec);
    if (ec) throw IOError("cannot check whether ", *out, " exists: ", ec.message());
    if (exists) throw InvalidArgument(*out, " exists: refusing to overwrite a key");
    protocol::SigningKey key = protocol::SigningKey::Generate();
    key.SavePrivate(*out);
    key.SavePublic(*out + ".pub");
    std::printf("%s: %s\n", out->c_str(), protocol::KeyFingerprint(key.public_key()).c_str());
  });
}

}  // namespace outpost::cli
