#include "sync/image_signature.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "protocol/bundle.h"
#include "sync/image_source.h"
#include "sync/layer_rebuild.h"

namespace outpost::sync {
namespace {

constexpr std::string_view kMagic = "OUTPOSTS";
// The header names each layer with four short fields: 1 MiB is room for thousands of layers.
constexpr uint32_t kMaxHeaderBytes = 1 << 20;
constexpr int kMaxHeaderDepth = 4;  // the header's own deepest value is at depth 2

// Refuses a header nested deeper than it can be or with more layers than an image has, while it
// parses, before the tree grows.
bool HeaderLimits(int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
  using Event = nlohmann::json::parse_event_t;
  if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxHeaderDepth) {
    throw Corruption("header nests deeper than ", std::to_string(kMaxHeaderDepth), " levels");
  }
  return true;
}

void PutU32(Writer& w, uint32_t v) {
  uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                  static_cast<uint8_t>(v >> 24)};
  w.Write(b, 4);
}

uint32_t GetU32(Reader& r, std::string_view what) {
  uint8_t b[4];
  ReadFull(r, b, 4, what);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

}  // namespace

void ImageBlockSignature::Save(const std::filesystem::path& path) const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const LayerBlockSignature& l : layers) {
    layers_json.push_back({{"digest", l.digest.str()}, {"diff_id", l.diff_id.str()}, {"size", l.size},
                           {"media_type", l.media_type}});
  }
  std::string header = nlohmann::json{{"reference", reference}, {"layers", layers_json}}.dump();
  AtomicFile out(path);
  out.Write(kMagic);
  PutU32(out, kImageSignatureVersion);
  PutU32(out, static_cast<uint32_t>(header.size()));
  out.Write(header);
  for (const LayerBlockSignature& l : layers) {
    StringWriter one;  // a layer signature reads to its end: each goes with its length
    l.signature.Write(one);
    PutU32(out, static_cast<uint32_t>(one.str().size()));
    out.Write(one.str());
  }
  out.Commit();
}

ImageBlockSignature ImageBlockSignature::Load(const std::filesystem::path& path) {
  FileReader in(path);
  std::string what = "image signature " + path.string();
  std::string magic(kMagic.size(), '\0');
  ReadFull(in, reinterpret_cast<uint8_t*>(magic.data()), magic.size(), what);
  if (magic != kMagic) throw Corruption(path.string(), " is not an outpost image signature (no OUTPOSTS magic)");
  uint32_t version = GetU32(in, what);
  if (version != kImageSignatureVersion) {
    throw Unsupported(what, " is version ", std::to_string(version), "; this outpost reads version 1: upgrade outpost");
  }
  uint32_t header_len = GetU32(in, what);
  if (header_len > kMaxHeaderBytes) {
    throw Corruption(what, ": header of ", std::to_string(header_len), " bytes is over the ",
                     std::to_string(kMaxHeaderBytes), "-byte limit");
  }
  std::string header(header_len, '\0');
  ReadFull(in, reinterpret_cast<uint8_t*>(header.data()), header.size(), what);
  ImageBlockSignature sig;
  try {
    nlohmann::json j = nlohmann::json::parse(header, HeaderLimits, false);
    if (j.is_discarded() || !j.contains("layers") || !j["layers"].is_array()) throw Corruption("bad header");
    if (j["layers"].size() > protocol::kMaxLayers) {
      throw Corruption("lists ", std::to_string(j["layers"].size()), " layers, over the ",
                       std::to_string(protocol::kMaxLayers), "-layer limit");
    }
    sig.reference = j.at("reference").get<std::string>();
    for (const auto& l : j["layers"]) {
      LayerBlockSignature layer;
      layer.digest = Digest::Parse(l.at("digest").get<std::string>());
      layer.diff_id = Digest::Parse(l.at("diff_id").get<std::string>());
      layer.size = l.at("size").get<uint64_t>();
      layer.media_type = l.at("media_type").get<std::string>();
      // The layer's signature describes its tar, which its declared blob size bounds.
      LimitedReader one(in, GetU32(in, what));
      layer.signature = delta::BlockSignature::Read(one, TarSizeBound(layer.media_type, layer.size));
      sig.layers.push_back(std::move(layer));
    }
  } catch (const nlohmann::json::exception&) {
    throw Corruption(what, ": bad header");
  } catch (const Error& e) {
    throw Error(e.kind(), what + ": " + e.what());
  }
  return sig;
}

ImageBlockSignature ComputeImageBlockSignature(const storage::Reference& ref, storage::StoreFactory* stores,
                                               const std::filesystem::path& scratch) {
  LoadedImage img = LoadImage(ref, stores);
  ImageBlockSignature sig;
  sig.reference = ref.text;
  TempDir dir(scratch, "outpost-sign-");
  for (const LayerRef& l : img.layers) {
    ScratchFile tar(dir.path() / "layer.tar");
    SpoolTar(l, tar.writer());
    RandomAccessFile access(tar.path());
    sig.layers.push_back({l.desc.digest, l.diff_id, static_cast<uint64_t>(l.desc.size), l.desc.media_type,
                          delta::BlockSignature::Build(access)});
  }
  return sig;
}

}  // namespace outpost::sync
