// `outpost pki init DIR` and `outpost pki issue DIR NAME [--host H]... [--days N]`: the small CA
// whose certificates the hub and the agents authenticate each other with.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "link/pki.h"

namespace outpost::cli {

void AddPkiCommand(CLI::App& app) {
  CLI::App* pki = app.add_subcommand("pki", "Make the certificate authority and the TLS certificates of hub and sites.");
  pki->require_subcommand(1);
  pki->footer(kFooter);

  CLI::App* init = pki->add_subcommand(
      "init", "Make a certificate authority in DIR: ca.pem (give it to hub and agents) and ca.key (0600, keep it "
              "offline). Refuses to overwrite an existing CA.");
  auto init_dir = std::make_shared<std::string>();
  init->add_option("DIR", *init_dir, "folder for the CA (created when missing)")->required();
  init->footer(std::string("Example:\n  outpost pki init /etc/outpost/pki   # writes ca.pem and ca.key\n\n") + kFooter);
  init->callback([init_dir] {
    link::InitCa(*init_dir);
    std::printf("%s/ca.pem: CA certificate (valid 10 years); %s/ca.key: its key\n", init_dir->c_str(), init_dir->c_str());
  });

  CLI::App* issue = pki->add_subcommand(
      "issue", "Issue NAME.pem and NAME.key (0600) in DIR, signed by DIR's CA, for TLS client and server "
               "authentication. NAME is the site name an agent authenticates as, or the hub's name. Re-issuing "
               "renews a certificate.");
  struct IssueArgs {
    std::string dir, name;
    link::IssueOptions options;
  };
  auto args = std::make_shared<IssueArgs>();
  issue->add_option("DIR", args->dir, "the CA's folder (outpost pki init)")->required();
  issue->add_option("NAME", args->name, "certificate subject: a site name (oslo) or the hub's name (hub)")->required();
  issue->add_option("--host", args->options.hosts,
                    "a DNS name or IP address agents dial the hub by (repeatable; the hub's certificate needs one)");
  issue->add_option("--days", args->options.days, "validity in days")->default_val(825)->check(CLI::Range(1, 36500));
  issue->footer(std::string("Examples:\n"
                            "  outpost pki issue /etc/outpost/pki hub --host hub.example.org --host 10.0.0.5\n"
                            "  outpost pki issue /etc/outpost/pki oslo   # the agent of site oslo\n\n") + kFooter);
  issue->callback([args] {
    link::IssueCertificate(args->dir, args->name, args->options);
    std::printf("%s/%s.pem: certificate for %s (valid %d days); %s/%s.key: its key\n", args->dir.c_str(),
                args->name.c_str(), args->name.c_str(), args->options.days, args->dir.c_str(), args->name.c_str());
    if (args->options.hosts.empty()) {
      std::printf("no --host: fit for a site's agent; agents will refuse it as the hub's certificate\n");
    }
  });
}

}  // namespace outpost::cli
