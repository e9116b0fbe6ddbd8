// A site's report carried by hand to the hub: what its target holds (as PUT /v1/inventory
// says) and the results of its transfers (as POST /v1/transfers/ID/result says), as zstd JSON
// (docs/sneakernet-format.md, "Site report"). The agent seals it with its TLS identity
// (link/sealed_file.h); this is only the payload.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::protocol {

// The most a report's payload may take, compressed: a site holding 100 images fits in far less.
inline constexpr size_t kMaxReportBytes = 60 * 1024;
// The most its JSON may take once decompressed.
inline constexpr size_t kMaxReportJsonBytes = 4 << 20;

// One transfer's result, as the agent would report it over the link.
struct ReportedTransfer {
  int64_t id = 0;
  std::string bundle;    // "sha256:..." of the bundle file
  bool applied = false;
  std::string manifest;  // applied: the manifest published
  std::string error;     // failed: why
};

struct SiteReport {
  std::string site;
  int64_t created_at = 0;                      // unix seconds, the agent's clock
  std::map<std::string, std::string> images;   // "REPO:TAG" -> manifest digest
  std::set<std::string> blobs;                 // digests of the blobs those manifests name
  std::vector<ReportedTransfer> transfers;     // applied and failed ones
};

// zstd-compressed JSON. When that would be over kMaxReportBytes the blobs are left out (the hub
// plans by manifest digests, as with an inventory over its limit); still over it: InvalidArgument.
std::string EncodeSiteReport(const SiteReport& report);

// Decodes EncodeSiteReport's bytes (`what` names them). Throws Corruption for anything else:
// not zstd, over the limits, not the JSON above, a digest that is not sha256:<hex>.
SiteReport DecodeSiteReport(std::string_view bytes, const std::string& what);

}  // namespace outpost::protocol
