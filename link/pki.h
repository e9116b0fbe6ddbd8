// A small certificate authority for one outpost deployment (`outpost pki`).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "link/clock.h"

namespace outpost::link {

struct IssueOptions {
  std::vector<std::string> hosts;  // subject alternative names: DNS names or IP addresses
  int days = 825;                  // validity
  std::optional<WallTime> not_before;  // default: now (tests make expired certificates with it)
};

// Writes DIR/ca.pem and DIR/ca.key (0600; an EC P-256 key, self-signed, 10 years). Creates DIR.
// Refuses (InvalidArgument) when DIR/ca.key exists: a CA is never overwritten by accident.
void InitCa(const std::filesystem::path& dir);

// Writes DIR/NAME.pem and DIR/NAME.key (0600) signed by DIR's CA, subject CN=NAME, usable for
// both TLS client and server authentication. NAME is a site or host name: [A-Za-z0-9._-], 1..64
// chars (InvalidArgument otherwise). NotFound when DIR holds no CA. Overwrites NAME's files
// (re-issuing is how a certificate is renewed).
void IssueCertificate(const std::filesystem::path& dir, const std::string& name, const IssueOptions& options);

}  // namespace outpost::link
