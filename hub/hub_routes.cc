#include "hub/hub_routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
#include "hub/pacing.h"
#include "link/http.h"
#include "sync/image_signature.h"

namespace outpost::hub {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

// Beast 1.74's string_view is Boost's.
std::string_view Std(boost::beast::string_view s) { return {s.data(), s.size()}; }
boost::beast::string_view Beast(std::string_view s) { return {s.data(), s.size()}; }

std::optional<uint64_t> ParseU64(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// "/v1/transfers/7/head" -> {"v1", "transfers", "7", "head"}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

// The value of `key` in a query string "a=1&wait=30".
std::optional<std::string_view> QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return std::nullopt;
}

// "bytes=START-" or "bytes=START-END" -> {START, END or nullopt}.
std::optional<std::pair<uint64_t, std::optional<uint64_t>>> ParseRange(std::string_view text) {
  constexpr std::string_view kPrefix = "bytes=";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::optional<uint64_t> start = ParseU64(text.substr(0, dash));
  if (!start) return std::nullopt;
  std::string_view last = text.substr(dash + 1);
  if (last.empty()) return std::pair{*start, std::optional<uint64_t>()};
  std::optional<uint64_t> end = ParseU64(last);
  if (!end || *end < *start) return std::nullopt;
  return std::pair{*start, end};
}

std::optional<json> ParseBody(const Request& request) {
  json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  return body;
}

// `keep`: the subscription's (SiteConfig::KeepFor), left out when none applies.
json TransferJson(const Transfer& t, std::optional<uint32_t> keep) {
  json j = {{"id", t.id},
            {"bundle", t.bundle_digest},
            {"head_bytes", t.head_bytes},
            {"file_bytes", t.file_bytes},
            {"priority", t.priority},
            {"as", t.as_ref ? json(*t.as_ref) : json(nullptr)},
            {"acked", t.bytes_acked}};
  if (keep) j["keep"] = *keep;
  return j;
}

// {"images": {"REPO:TAG": "sha256:..."}, "blobs": ["sha256:..."]}, or nullopt.
std::optional<SiteInventory> ParseInventory(const Request& request) {
  std::optional<json> body = ParseBody(request);
  if (!body || !body->contains("images") || !(*body)["images"].is_object()) return std::nullopt;
  if (!body->contains("blobs") || !(*body)["blobs"].is_array()) return std::nullopt;
  SiteInventory out;
  for (const auto& [ref, digest] : (*body)["images"].items()) {
    if (!digest.is_string() || !Digest::IsValid(digest.get<std::string>())) return std::nullopt;
    out.images.emplace(ref, digest.get<std::string>());
  }
  for (const json& blob : (*body)["blobs"]) {
    if (!blob.is_string() || !Digest::IsValid(blob.get<std::string>())) return std::nullopt;
    out.blobs.insert(blob.get<std::string>());
  }
  if (body->contains("signatures")) {
    const json& version = (*body)["signatures"];
    if (!version.is_number_unsigned() || version.get<uint64_t>() > UINT32_MAX) return std::nullopt;
    out.signatures = version.get<uint32_t>();
  }
  return out;
}

// Checks a stored upload: a signature file whose layers the site's inventory holds (when it
// listed blobs). Returns the layer count; throws Error saying what is wrong.
size_t CheckSignature(const std::filesystem::path& file, const std::optional<SiteInventory>& inventory) {
  sync::ImageBlockSignature sig = sync::ImageBlockSignature::Load(file);
  if (sig.layers.empty()) throw Corruption("it signs no layer");
  for (const sync::LayerBlockSignature& layer : sig.layers) {
    if (inventory && !inventory->blobs.empty() && !inventory->blobs.contains(layer.digest.str())) {
      throw Corruption("its layer ", layer.digest.str(), " is not in the site's inventory");
    }
  }
  return sig.layers.size();
}

Reply NoContent() {
  Reply r;
  r.status = 204;
  return r;
}

}  // namespace

Reply ErrorReply(unsigned status, std::string_view message) {
  Reply r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json{{"error", message}}.dump();
  return r;
}

uint64_t BodyLimit(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/inventory") return link::kMaxInventoryBytes;
  if (path.starts_with("/v1/signatures/")) return link::kMaxSignatureBytes;
  return link::kMaxBodyBytes;
}

SitePacing::SitePacing(const SiteConfig& c)
    : config(c), schedule(c.timezone, c.windows, c.rate), bucket(link::kUnlimitedRate, BurstBytes(link::kUnlimitedRate)) {}

Routes::Routes(const HubConfig& config, HubState& state, const link::Clock& clock)
    : config_(config), state_(state), clock_(clock), hub_bucket_(config.rate, BurstBytes(config.rate)) {
  for (const SiteConfig& s : config.sites) sites_.emplace(s.name, std::make_unique<SitePacing>(s));
}

SitePacing* Routes::Pacing(const std::string& site) {
  auto it = sites_.find(site);
  return it == sites_.end() ? nullptr : it->second.get();
}

uint64_t Routes::RateNow(SitePacing& site) const {
  return std::min(site.schedule.RateAt(clock_.Now()), config_.rate);
}

Reply Routes::Route(const std::string& site, const Request& request) {
  auto version = request.find(Beast(link::kProtocolHeader));
  std::string wanted = std::to_string(link::kProtocolVersion);
  if (version == request.end() || Std(version->value()) != wanted) {
    std::string got = version == request.end() ? "none" : std::string(version->value());
    spdlog::warn("site {}: request {} refused: unsupported protocol version {}", site, std::string(request.target()), got);
    Reply r = ErrorReply(400, "unsupported protocol version " + got + "; this hub speaks " + wanted);
    r.close = true;
    return r;
  }
  SitePacing* pacing = Pacing(site);
  if (pacing == nullptr) {
    Reply r = ErrorReply(403, "certificate CN `" + site + "` is not a site of this hub");
    r.close = true;
    return r;
  }
  state_.Touch(site);
  std::string_view target = Std(request.target());
  size_t q = target.find('?');
  std::vector<std::string_view> path = Segments(target.substr(0, q));
  bool get = request.method() == http::verb::get, post = request.method() == http::verb::post;
  if (path.size() == 2 && path[0] == "v1" && path[1] == "work" && get) return Work(site, request);
  if (path.size() == 2 && path[0] == "v1" && path[1] == "inventory" && request.method() == http::verb::put) {
    return Inventory(site, request);
  }
  if (path.size() == 3 && path[0] == "v1" && path[1] == "signatures" && request.method() == http::verb::put) {
    return Signature(site, path[2], request);
  }
  if (path.size() != 4 || path[0] != "v1" || path[1] != "transfers") return ErrorReply(404, "no such endpoint");
  std::optional<uint64_t> id = ParseU64(path[2]);
  std::optional<Transfer> t;
  if (id && *id <= uint64_t{INT64_MAX}) t = state_.Find(static_cast<int64_t>(*id));
  if (t && t->site != site) {
    spdlog::warn("site {} asked for transfer {} of site {}", site, t->id, t->site);
    t.reset();
  }
  if (!t) return ErrorReply(404, "no transfer " + std::string(path[2]) + " for site " + site);
  if (path[3] == "head" && get) return Head(*pacing, *t);
  if (path[3] == "payload" && get) return Payload(*pacing, *t, request);
  if (path[3] == "ack" && post) return Ack(*t, request);
  if (path[3] == "result" && post) return Result(*t, request);
  return ErrorReply(404, "no such endpoint");
}

Reply Routes::Work(const std::string& site, const Request& request) {
  std::string_view target = Std(request.target());
  size_t q = target.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  uint64_t wait = 0;
  if (auto text = QueryValue(query, "wait")) {
    std::optional<uint64_t> v = ParseU64(*text);
    if (!v) return ErrorReply(400, "wait must be a number of seconds (0.." + std::to_string(link::kMaxPollWait.count()) + ")");
    wait = std::min<uint64_t>(*v, link::kMaxPollWait.count());
  }
  SitePacing& pacing = *Pacing(site);
  link::WallTime now = clock_.Now();
  uint64_t rate = std::min(pacing.schedule.RateAt(now), config_.rate);
  json transfers = json::array();
  for (const Transfer& t : state_.OpenTransfers(site)) transfers.push_back(TransferJson(t, pacing.config.KeepFor(t.as_ref)));
  json signatures = json::array();
  for (const SignatureRow& s : state_.WantedSignatures(site)) signatures.push_back({{"image", s.ref}, {"manifest", s.manifest}});
  Reply r;
  if (transfers.empty() && signatures.empty() && wait > 0) r.poll = std::chrono::seconds(wait);
  r.content_type = "application/json";
  r.body = json{{"site", site},
                {"transfers", transfers},
                {"signatures", signatures},
                {"window",
                 {{"open", rate > 0},
                  {"rate", rate == link::kUnlimitedRate ? json(nullptr) : json(rate)},
                  {"next_change", UtcText(pacing.schedule.NextChange(now))}}}}
               .dump();
  return r;
}

std::optional<Reply> Routes::Closed(SitePacing& site) {
  link::WallTime now = clock_.Now();
  uint64_t rate = site.schedule.RateAt(now);
  if (rate > 0) {
    if (site.bucket.rate() != rate) site.bucket.SetRate(rate, BurstBytes(rate));
    return std::nullopt;
  }
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(site.schedule.NextOpen(now) - now);
  uint64_t secs = RetryAfterSeconds(clock_.RealDuration(wait));
  Reply r = ErrorReply(503, "no sync window of site " + site.config.name + " is open; the next opens in " +
                                std::to_string(secs) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(secs));
  return r;
}

Reply Routes::Head(SitePacing& site, const Transfer& t) {
  if (auto closed = Closed(site)) return *closed;
  Reply r;
  r.content_type = "application/octet-stream";
  r.file = FileRange{t.id, t.bundle_digest, t.path, 0, t.head_bytes, RateNow(site), t.payload_bytes() == 0};
  return r;
}

Reply Routes::Payload(SitePacing& site, const Transfer& t, const Request& request) {
  auto header = request.find(http::field::range);
  if (header == request.end()) return ErrorReply(400, "a payload request needs a Range header (bytes=START- or bytes=START-END)");
  auto range = ParseRange(Std(header->value()));
  if (!range) return ErrorReply(400, "malformed Range `" + std::string(header->value()) + "` (bytes=START- or bytes=START-END)");
  uint64_t total = t.payload_bytes(), start = range->first;
  if (start >= total) {
    Reply r = ErrorReply(416, "range starts at " + std::to_string(start) + ", the payload has " + std::to_string(total) + " bytes");
    r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
    return r;
  }
  if (auto closed = Closed(site)) return *closed;
  uint64_t last = std::min(range->second.value_or(total - 1), total - 1);
  link::WallTime now = clock_.Now();
  uint64_t rate = RateNow(site);
  auto until = std::chrono::duration_cast<std::chrono::milliseconds>(site.schedule.NextChange(now) - now);
  uint64_t grant = GrantBytes(last - start + 1, rate, clock_.RealDuration(until));
  if (grant == 0) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(site.schedule.NextOpen(site.schedule.NextChange(now)) - now);
    Reply r = ErrorReply(503, "the sync window of site " + site.config.name + " is closing");
    r.headers.emplace_back("Retry-After", std::to_string(RetryAfterSeconds(clock_.RealDuration(wait))));
    return r;
  }
  last = start + grant - 1;
  Reply r;
  r.status = 206;
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Content-Range", "bytes " + std::to_string(start) + "-" + std::to_string(last) + "/" + std::to_string(total));
  r.file = FileRange{t.id, t.bundle_digest, t.path, t.head_bytes + start, grant, rate, last + 1 == total};
  return r;
}

Reply Routes::Ack(const Transfer& t, const Request& request) {
  std::optional<json> body = ParseBody(request);
  if (!body || !body->contains("received") || !(*body)["received"].is_number_unsigned()) {
    return ErrorReply(400, "an ack is {\"received\": N}");
  }
  uint64_t received = (*body)["received"].get<uint64_t>();
  if (received > t.payload_bytes()) {
    return ErrorReply(400, "ack of " + std::to_string(received) + " bytes, transfer " + std::to_string(t.id) + " has " +
                               std::to_string(t.payload_bytes()));
  }
  state_.Ack(t.id, received);
  spdlog::debug("site {}: transfer {} acked {} of {} payload bytes", t.site, t.id, received, t.payload_bytes());
  return NoContent();
}

Reply Routes::Result(const Transfer& t, const Request& request) {
  std::optional<json> body = ParseBody(request);
  std::string state;
  TransferResult result;
  try {
    if (body) {
      state = body->value("state", "");
      result.manifest = body->value("manifest", "");
      result.error = body->value("error", "");
    }
  } catch (const json::exception&) {
    state.clear();  // a member of another type than string
  }
  if (state != "applied" && state != "failed") {
    return ErrorReply(400, "a result is {\"state\": \"applied\", \"manifest\": ...} or {\"state\": \"failed\", \"error\": ...}");
  }
  result.applied = state == "applied";
  if (!state_.Finish(t.id, result)) {
    spdlog::debug("site {}: transfer {} result repeated (already {})", t.site, t.id, StateName(t.state));
    return NoContent();
  }
  if (result.applied) {
    spdlog::info("site {}: transfer {} (bundle {}) applied: manifest {}{}", t.site, t.id, t.bundle_digest, result.manifest,
                 t.as_ref ? " as " + *t.as_ref : "");
  } else {
    spdlog::warn("site {}: transfer {} (bundle {}) failed: {}", t.site, t.id, t.bundle_digest, result.error);
  }
  return NoContent();
}

Reply Routes::Inventory(const std::string& site, const Request& request) {
  std::optional<SiteInventory> inventory = ParseInventory(request);
  if (!inventory) {
    return ErrorReply(400, "an inventory is {\"images\": {\"REPO:TAG\": \"sha256:...\"}, \"blobs\": [\"sha256:...\"]}");
  }
  state_.SetInventory(site, *inventory);
  spdlog::info("site {}: inventory of {} images, {} blobs", site, inventory->images.size(), inventory->blobs.size());
  if (on_inventory_) on_inventory_(site);
  return NoContent();
}

Reply Routes::Signature(const std::string& site, std::string_view manifest, const Request& request) {
  if (!Digest::IsValid(manifest)) return ErrorReply(400, "PUT /v1/signatures/DIGEST names a manifest digest (sha256:<hex>)");
  const std::string digest(manifest);
  std::optional<SignatureRow> wanted = state_.Signature(site, digest);
  if (!wanted) return ErrorReply(404, "the hub asked site " + site + " for no signature of " + digest);
  if (wanted->path) return NoContent();  // received before: the first stands
  const std::filesystem::path dir = config_.state_dir / "signatures" / site;
  std::filesystem::create_directories(dir);
  const std::string hex = Digest::Parse(digest).hex();
  const std::filesystem::path upload = dir / (hex + ".upload"), stored = dir / (hex + ".sig");
  size_t layers = 0;
  {
    AtomicFile out(upload);
    out.Write(request.body());
    out.Commit();
  }
  try {
    layers = CheckSignature(upload, state_.Inventory(site));
  } catch (const Error& e) {
    std::filesystem::remove(upload);
    std::string why = e.what();  // names the upload's file, which is the hub's business
    for (size_t at = why.find(upload.string()); at != std::string::npos; at = why.find(upload.string())) {
      why.replace(at, upload.string().size(), "the body");
    }
    spdlog::warn("site {}: signature of {} ({}) refused: {}", site, wanted->ref, digest, why);
    return ErrorReply(400, "signature of " + digest + " refused: " + why +
                               "; send the file `outpost signature` writes (image signature version " +
                               std::to_string(sync::kImageSignatureVersion) + ")");
  }
  std::filesystem::rename(upload, stored);
  state_.ReceiveSignature(site, digest, stored, request.body().size());
  spdlog::info("site {}: signature of {} ({}) received: {} bytes, {} layer(s)", site, wanted->ref, digest,
               request.body().size(), layers);
  if (on_signature_) on_signature_(site);
  return NoContent();
}

}  // namespace outpost::hub
