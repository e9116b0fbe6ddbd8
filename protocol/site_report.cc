#include "protocol/site_report.h"

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/error.h"
#include "compress/zstd.h"

namespace outpost::protocol {
namespace {

using json = nlohmann::json;

std::string Compress(const json& j) {
  compress::ZstdParams params;
  params.level = 19;
  return compress::ZstdCompress(j.dump(), params);
}

std::string DigestField(const json& j, const char* key, const std::string& what) {
  std::string v = j.at(key).get<std::string>();
  if (!v.empty() && !Digest::IsValid(v)) throw Corruption(what, ": `", key, "` is not a sha256 digest: ", v);
  return v;
}

}  // namespace

std::string EncodeSiteReport(const SiteReport& r) {
  json transfers = json::array();
  for (const ReportedTransfer& t : r.transfers) {
    transfers.push_back({{"id", t.id}, {"bundle", t.bundle}, {"state", t.applied ? "applied" : "failed"},
                         {"manifest", t.manifest}, {"error", t.error}});
  }
  json j = {{"site", r.site}, {"created_at", r.created_at}, {"images", r.images}, {"blobs", r.blobs}, {"transfers", transfers}};
  std::string out = Compress(j);
  if (out.size() <= kMaxReportBytes) return out;
  j["blobs"] = json::array();
  out = Compress(j);
  if (out.size() > kMaxReportBytes) {
    throw InvalidArgument("the report of site ", r.site, " is ", std::to_string(out.size()), " bytes compressed, over ",
                          std::to_string(kMaxReportBytes));
  }
  return out;
}

SiteReport DecodeSiteReport(std::string_view bytes, const std::string& what) {
  std::optional<uint64_t> size = compress::ZstdDeclaredSize(bytes);
  if (!size || *size > kMaxReportJsonBytes) throw Corruption(what, ": its payload is not a zstd frame of at most 4 MiB");
  json j = json::parse(compress::ZstdDecompress(bytes, {}, *size, what), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Corruption(what, ": its payload is not JSON");
  try {
    SiteReport r;
    r.site = j.at("site").get<std::string>();
    r.created_at = j.at("created_at").get<int64_t>();
    for (const auto& [ref, digest] : j.at("images").items()) {
      if (!Digest::IsValid(digest.get<std::string>())) throw Corruption(what, ": image ", ref, " has no sha256 digest");
      r.images.emplace(ref, digest.get<std::string>());
    }
    for (const json& blob : j.at("blobs")) {
      if (!Digest::IsValid(blob.get<std::string>())) throw Corruption(what, ": a blob is not a sha256 digest");
      r.blobs.insert(blob.get<std::string>());
    }
    for (const json& t : j.at("transfers")) {
      ReportedTransfer rt;
      rt.id = t.at("id").get<int64_t>();
      rt.bundle = DigestField(t, "bundle", what);
      rt.applied = t.at("state").get<std::string>() == "applied";
      rt.manifest = DigestField(t, "manifest", what);
      rt.error = t.at("error").get<std::string>();
      r.transfers.push_back(std::move(rt));
    }
    return r;
  } catch (const json::exception& e) {
    throw Corruption(what, ": its JSON is not a site report (", e.what(), ")");
  }
}

}  // namespace outpost::protocol
