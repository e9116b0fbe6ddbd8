#include "protocol/bundle.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace outpost::protocol {
namespace {

using nlohmann::json;

constexpr std::string_view kMethodNames[] = {"present", "tar-delta", "raw-delta", "whole"};

json SpanJson(const Span& s) {
  return {{"offset", s.offset}, {"length", s.length},
          {"encoding", s.encoding == Encoding::kZstd ? "zstd" : "raw"}};
}

json DocumentJson(const Document& d) {
  return {{"digest", d.digest.str()}, {"size", d.size}, {"media_type", d.media_type},
          {"payload", SpanJson(d.payload)}};
}

// Field access that turns nlohmann's exceptions into Corruption naming the field.
template <typename T>
T Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw Corruption("bundle header: missing field \"", name, "\"");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Corruption("bundle header: field \"", name, "\" has the wrong type");
  }
}

Digest DigestField(const json& j, const char* name) {
  std::string text = Field<std::string>(j, name);
  if (!Digest::IsValid(text)) throw Corruption("bundle header: field \"", name, "\" is not a digest");
  return Digest::Parse(text);
}

Span ParseSpan(const json& j, uint64_t payload_bytes) {
  Span s{Field<uint64_t>(j, "offset"), Field<uint64_t>(j, "length"), Encoding::kRaw};
  std::string enc = Field<std::string>(j, "encoding");
  if (enc == "zstd") {
    s.encoding = Encoding::kZstd;
  } else if (enc != "raw") {
    throw Corruption("bundle header: unknown payload encoding \"", enc, "\"");
  }
  if (s.offset > payload_bytes || s.length > payload_bytes - s.offset) {
    throw Corruption("bundle header: payload span ", std::to_string(s.offset), "+",
                     std::to_string(s.length), " lies outside the ", std::to_string(payload_bytes),
                     "-byte payload");
  }
  return s;
}

Document ParseDocument(const json& j, uint64_t payload_bytes) {
  return {DigestField(j, "digest"), Field<uint64_t>(j, "size"), Field<std::string>(j, "media_type"),
          ParseSpan(Field<json>(j, "payload"), payload_bytes)};
}

CarriedDocument ParseCarried(const json& j, uint64_t payload_bytes) {
  std::string kind = Field<std::string>(j, "kind");
  if (kind != "manifest" && kind != "blob") throw Corruption("bundle header: carried kind \"", kind, "\" is neither manifest nor blob");
  return {ParseDocument(j, payload_bytes), kind == "manifest", Field<std::string>(j, "tag")};
}

LayerEntry ParseLayer(const json& j, const Header& h) {
  LayerEntry l;
  l.media_type = Field<std::string>(j, "media_type");
  l.digest = DigestField(j, "digest");
  l.size = Field<uint64_t>(j, "size");
  l.diff_id = DigestField(j, "diff_id");
  l.method = ParseMethod(Field<std::string>(j, "method"));
  l.recipe = Field<std::string>(j, "recipe");
  if (j.contains("base")) {
    size_t base = Field<size_t>(j, "base");
    if (base >= h.bases.size()) throw Corruption("bundle header: layer names base #", std::to_string(base), " which is not listed");
    l.base = base;
  }
  if (l.method != Method::kWhole && !l.base) {
    throw Corruption("bundle header: layer ", l.digest.str(), " (", MethodName(l.method), ") names no base");
  }
  l.payload = ParseSpan(Field<json>(j, "payload"), h.payload_bytes);
  return l;
}

// Enforces the header limits while nlohmann builds the tree, so a crafted header is refused
// before it allocates more than the limits allow.
class LimitGuard {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    using Event = json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxHeaderDepth) {
      throw Corruption("bundle header nests deeper than ", std::to_string(kMaxHeaderDepth), " levels");
    }
    if (event == Event::key && depth == 1) root_key_ = parsed.get<std::string>();
    if (event == Event::value || event == Event::object_end || event == Event::array_end) {
      if (++values_ > kMaxHeaderValues) {
        throw Corruption("bundle header has more than ", std::to_string(kMaxHeaderValues), " JSON values");
      }
      if (depth == 2 && root_key_ == "layers" && ++layers_ > kMaxLayers) {
        throw Corruption("bundle header lists more than ", std::to_string(kMaxLayers), " layers");
      }
      if (depth == 2 && root_key_ == "bases" && ++bases_ > kMaxBases) {
        throw Corruption("bundle header lists more than ", std::to_string(kMaxBases), " bases");
      }
    }
    return true;
  }

 private:
  std::string root_key_;
  size_t values_ = 0;
  size_t layers_ = 0;
  size_t bases_ = 0;
};

}  // namespace

std::string_view MethodName(Method m) { return kMethodNames[static_cast<size_t>(m)]; }

Method ParseMethod(std::string_view name) {
  for (size_t i = 0; i < std::size(kMethodNames); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  throw Corruption("bundle header: unknown layer method \"", std::string(name), "\"");
}

std::string Header::ToJson() const {
  json bases_json = json::array();
  for (const BaseLayer& b : bases) {
    bases_json.push_back({{"digest", b.digest.str()}, {"diff_id", b.diff_id.str()}, {"size", b.size}});
  }
  json layers_json = json::array();
  for (const LayerEntry& l : layers) {
    json j = {{"media_type", l.media_type}, {"digest", l.digest.str()}, {"size", l.size},
              {"diff_id", l.diff_id.str()}, {"method", MethodName(l.method)},
              {"recipe", l.recipe}, {"payload", SpanJson(l.payload)}};
    if (l.base) j["base"] = *l.base;
    layers_json.push_back(std::move(j));
  }
  json j = {{"target_reference", target_reference}, {"manifest", DocumentJson(manifest)},
            {"config", DocumentJson(config)}, {"bases", bases_json}, {"layers", layers_json},
            {"payload_bytes", payload_bytes}, {"registry_bytes", registry_bytes},
            {"created_by", created_by}};
  if (!carried.empty()) {
    json carried_json = json::array();
    for (const CarriedDocument& c : carried) {
      json d = DocumentJson(c.document);
      d["kind"] = c.manifest ? "manifest" : "blob";
      d["tag"] = c.tag;
      carried_json.push_back(std::move(d));
    }
    j["carried"] = std::move(carried_json);
  }
  return j.dump();
}

Header Header::FromJson(std::string_view text) {
  if (text.size() > kMaxHeaderBytes) {
    throw Corruption("bundle header is over the ", std::to_string(kMaxHeaderBytes), "-byte limit");
  }
  json j = json::parse(text, LimitGuard(), false);
  if (j.is_discarded() || !j.is_object()) throw Corruption("bundle header is not a JSON object");
  Header h;
  h.payload_bytes = Field<uint64_t>(j, "payload_bytes");
  h.registry_bytes = Field<uint64_t>(j, "registry_bytes");
  h.target_reference = Field<std::string>(j, "target_reference");
  h.created_by = Field<std::string>(j, "created_by");
  h.manifest = ParseDocument(Field<json>(j, "manifest"), h.payload_bytes);
  h.config = ParseDocument(Field<json>(j, "config"), h.payload_bytes);
  for (const json& b : Field<json>(j, "bases")) {
    h.bases.push_back({DigestField(b, "digest"), DigestField(b, "diff_id"), Field<uint64_t>(b, "size")});
  }
  for (const json& l : Field<json>(j, "layers")) h.layers.push_back(ParseLayer(l, h));
  if (j.contains("carried")) {
    const json carried = Field<json>(j, "carried");
    if (!carried.is_array() || carried.size() > kMaxCarried) {
      throw Corruption("bundle header: \"carried\" is not a list of at most ", std::to_string(kMaxCarried), " documents");
    }
    for (const json& c : carried) h.carried.push_back(ParseCarried(c, h.payload_bytes));
  }
  return h;
}

}  // namespace outpost::protocol
