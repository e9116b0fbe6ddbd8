// Feeds arbitrary bytes to the bundle reader as the agent will meet them: HeadLength on the
// prefix, BundleHead::Parse on the head (unsigned, and under a verify key), then the rest of the
// input as payload: every chunk checked (VerifyChunk), the documents and layer spans read
// through a chunk source. It must succeed or throw outpost::Error, never crash.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "protocol/bundle_file.h"
#include "protocol/bundle_head.h"

namespace {

using namespace outpost::protocol;

// The payload as the input has it (chunks past its end are unavailable: NotFound).
class InputChunks : public ChunkSource {
 public:
  explicit InputChunks(std::string payload) : payload_(std::move(payload)) {}
  void ReadChunk(size_t index, uint64_t offset, uint32_t length, std::string* out) const override {
    if (offset > payload_.size() || length > payload_.size() - offset) {
      throw outpost::NotFound("chunk ", std::to_string(index), " has not arrived");
    }
    out->assign(payload_, offset, length);
  }

 private:
  std::string payload_;
};

// Reads at most 1 MiB of a span (a zstd span may decode to far more; the reader's own bounds
// are the applier's, tested elsewhere).
void Drain(const BundleReader& reader, const Span& span) {
  auto in = reader.OpenSpan(span, "span");
  outpost::LimitedReader limited(*in, 1 << 20);
  uint8_t buf[4096];
  while (limited.Read(buf, sizeof(buf)) > 0) {
  }
}

void Exercise(const std::string& input, const SigningKey* key) {
  HeadExtent extent = HeadLength(input, "fuzz");
  if (!extent.complete || extent.bytes > input.size()) return;
  BundleHead head = BundleHead::Parse(input.substr(0, extent.bytes), "fuzz", key);
  std::string payload = input.substr(extent.bytes);
  for (size_t i = 0; i < head.chunks().size() && head.ChunkOffset(i) < payload.size(); ++i) {
    try {
      head.VerifyChunk(i, std::string_view(payload).substr(head.ChunkOffset(i), head.chunks()[i].length));
    } catch (const outpost::Error&) {
    }
  }
  BundleReader reader(std::move(head), std::make_unique<InputChunks>(std::move(payload)));
  const Header& h = reader.header();
  for (const Span* span : {&h.manifest.payload, &h.config.payload}) {
    try {
      Drain(reader, *span);
    } catch (const outpost::Error&) {
    }
  }
  for (const LayerEntry& layer : h.layers) {
    try {
      Drain(reader, layer.payload);
    } catch (const outpost::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SigningKey key = SigningKey::Generate();
  std::string input(reinterpret_cast<const char*>(data), size);
  for (const SigningKey* k : {static_cast<const SigningKey*>(nullptr), &key}) {
    try {
      Exercise(input, k);
    } catch (const outpost::Error&) {
    }
  }
  return 0;
}
