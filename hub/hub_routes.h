// From one request of a site to its response (docs/protocol.md, "Requests"): everything the hub
// decides, without sockets. The server (hub_server.h) reads requests, asks Route, and writes
// what it says: a small JSON or empty body, or a range of a bundle file it then paces itself.
#pragma once

#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "link/clock.h"
#include "link/schedule.h"
#include "link/token_bucket.h"

namespace outpost::hub {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// Bytes of a bundle file a response carries after its header, paced by the site's buckets.
struct FileRange {
  int64_t transfer = 0;
  std::string bundle_digest;
  std::filesystem::path path;
  uint64_t offset = 0;  // in the file
  uint64_t length = 0;
  uint64_t rate = 0;    // bytes per second at the start (kUnlimitedRate: unpaced)
  bool reaches_end = false;  // the last payload byte is in this range
};

// What to answer.
struct Reply {
  unsigned status = 200;
  std::string content_type;  // "" when there is no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Range, Retry-After
  std::optional<FileRange> file;  // the body: these bytes (Content-Length is their length)
  // GET /v1/work found nothing and may wait: ask again (at most once a second) until then.
  std::optional<std::chrono::seconds> poll;
  bool close = false;  // close the connection after this response
};

// A site's pacing: its windows and the one token bucket all its connections share.
struct SitePacing {
  SitePacing(const SiteConfig& config);
  const SiteConfig& config;
  link::Schedule schedule;
  link::TokenBucket bucket;
};

// Thread-safe: every piece of state is in HubState, the buckets lock themselves.
class Routes {
 public:
  // `config`, `state` and `clock` must outlive this.
  Routes(const HubConfig& config, HubState& state, const link::Clock& clock);

  // The response to `request` from the site whose certificate says `site` (which may not be a
  // configured site: 403). Logs what it records.
  Reply Route(const std::string& site, const Request& request);

  // GET /v1/work of a configured site (a long poll asks again with this, once a second).
  Reply Work(const std::string& site, const Request& request);

  // Called (on the serving thread) with the site's name after it reported a new inventory.
  void OnInventory(std::function<void(const std::string&)> callback) { on_inventory_ = std::move(callback); }
  // Called (on the serving thread) with the site's name after it sent a signature the hub asked for.
  void OnSignature(std::function<void(const std::string&)> callback) { on_signature_ = std::move(callback); }

  // The site's pacing, nullptr for a site not configured.
  SitePacing* Pacing(const std::string& site);
  link::TokenBucket& hub_bucket() { return hub_bucket_; }
  HubState& state() { return state_; }

 private:
  Reply Head(SitePacing& site, const Transfer& t);
  Reply Payload(SitePacing& site, const Transfer& t, const Request& request);
  Reply Ack(const Transfer& t, const Request& request);
  Reply Result(const Transfer& t, const Request& request);
  Reply Inventory(const std::string& site, const Request& request);
  Reply Signature(const std::string& site, std::string_view manifest, const Request& request);
  // Outside every window: 503. Otherwise nullopt and the site's bucket at the current rate.
  std::optional<Reply> Closed(SitePacing& site);
  // The rate for a response now: the window's rate capped by the hub's.
  uint64_t RateNow(SitePacing& site) const;

  const HubConfig& config_;
  HubState& state_;
  const link::Clock& clock_;
  std::map<std::string, std::unique_ptr<SitePacing>, std::less<>> sites_;
  link::TokenBucket hub_bucket_;
  std::function<void(const std::string&)> on_inventory_;
  std::function<void(const std::string&)> on_signature_;
};

// The largest request body the hub reads for `target` (the request line's target):
// link::kMaxInventoryBytes for /v1/inventory, link::kMaxSignatureBytes for /v1/signatures/...,
// link::kMaxBodyBytes for everything else.
uint64_t BodyLimit(std::string_view target);

// A JSON error reply: {"error": message}.
Reply ErrorReply(unsigned status, std::string_view message);

}  // namespace outpost::hub
