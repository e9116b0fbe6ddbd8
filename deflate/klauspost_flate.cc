#include "deflate/klauspost_flate.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "deflate/kp_bit_writer.h"
#include "deflate/kp_fast.h"
#include "deflate/kp_lazy.h"
#include "deflate/kp_tokens.h"

namespace outpost::deflate {
namespace {

using kp::BlockInput;
using kp::ThrowIfFinished;
using kp::kMaxStoreBlockSize;

// Levels 0, -2 and 1-6: input is cut into fixed windows, each compressed on its own (levels 1-6
// still match into the previous 32 KiB).
class WindowedEncoder final : public KlauspostEncoder {
 public:
  enum class Mode { kStored, kHuffmanOnly, kFast };

  WindowedEncoder(Mode mode, int level, Writer& out, std::string_view dictionary)
      : mode_(mode),
        writer_(out, mode == Mode::kHuffmanOnly ? 10 : 7),
        window_(mode == Mode::kHuffmanOnly ? 32 << 10 : kMaxStoreBlockSize) {
    if (mode_ != Mode::kFast) return;
    fast_ = kp::FastEncoder::Create(level);
    tokens_ = std::make_unique<kp::Tokens>();
    UseDictionary(dictionary);
  }

  void Reset(Writer& out, std::string_view dictionary) override {
    writer_.Reset(out);
    window_end_ = 0;
    finished_ = false;
    if (mode_ != Mode::kFast) return;
    fast_->Reset();
    tokens_->Reset();
    UseDictionary(dictionary);
  }

  void Write(const uint8_t* data, size_t n) override {
    ThrowIfFinished(finished_);
    while (n > 0) {
      if (window_end_ == window_.size()) Step(false);
      size_t k = std::min(n, window_.size() - window_end_);
      std::memcpy(window_.data() + window_end_, data, k);
      window_end_ += k;
      data += k;
      n -= k;
    }
  }

  void SyncFlush() override {
    ThrowIfFinished(finished_);
    Step(true);
    writer_.WriteStoredHeader(0, false);
    writer_.Flush();
  }

  void Finish() override {
    if (finished_) return;
    finished_ = true;
    Step(true);
    writer_.WriteStoredHeader(0, true);
    writer_.Flush();
  }

 private:
  // The dictionary is matched like input whose tokens are dropped.
  void UseDictionary(std::string_view dictionary) {
    if (dictionary.size() > static_cast<size_t>(kp::kMaxMatchOffset)) {
      dictionary = dictionary.substr(dictionary.size() - kp::kMaxMatchOffset);
    }
    fast_->Encode(*tokens_, reinterpret_cast<const uint8_t*>(dictionary.data()),
                  static_cast<int32_t>(dictionary.size()));
    tokens_->Reset();
  }

  BlockInput Window() const { return BlockInput{window_.data(), window_end_}; }

  void Step(bool sync) {
    switch (mode_) {
      case Mode::kStored:
        if (window_end_ > 0 && (window_end_ == window_.size() || sync)) WriteStored();
        return;
      case Mode::kHuffmanOnly:
        if ((window_end_ < window_.size() && !sync) || window_end_ == 0) return;
        writer_.WriteBlockHuff(false, Window(), sync);
        window_end_ = 0;
        return;
      case Mode::kFast:
        StepFast(sync);
        return;
    }
  }

  void WriteStored() {
    writer_.WriteStoredHeader(window_end_, false);
    writer_.WriteBytes(window_.data(), window_end_);
    window_end_ = 0;
  }

  void StepFast(bool sync) {
    if (window_end_ < window_.size()) {
      if (!sync) return;
      if (window_end_ < 128) {
        // Tiny flushed windows: stored or literal-only, and the history is forgotten.
        if (window_end_ == 0) return;
        if (window_end_ <= 32) {
          WriteStored();
        } else {
          writer_.WriteBlockHuff(false, Window(), true);
        }
        tokens_->Reset();
        window_end_ = 0;
        fast_->Reset();
        return;
      }
    }
    fast_->Encode(*tokens_, window_.data(), static_cast<int32_t>(window_end_));
    size_t n = tokens_->n;
    if (n == 0) {
      WriteStored();
    } else if (n > window_end_ - (window_end_ >> 4)) {
      // Matches removed less than 1/16 of the input: literals only.
      writer_.WriteBlockHuff(false, Window(), sync);
    } else {
      writer_.WriteBlockDynamic(*tokens_, false, Window(), sync);
    }
    tokens_->Reset();
    window_end_ = 0;
  }

  Mode mode_;
  kp::HuffmanBitWriter writer_;
  std::vector<uint8_t> window_;
  size_t window_end_ = 0;
  bool finished_ = false;
  std::unique_ptr<kp::FastEncoder> fast_;
  std::unique_ptr<kp::Tokens> tokens_;
};

}  // namespace

std::unique_ptr<KlauspostEncoder> NewKlauspostEncoder(int level, Writer& out,
                                                      std::string_view dictionary) {
  using Mode = WindowedEncoder::Mode;
  if (level == -1) level = 5;
  if (level == 0) return std::make_unique<WindowedEncoder>(Mode::kStored, 0, out, dictionary);
  if (level == -2) {
    return std::make_unique<WindowedEncoder>(Mode::kHuffmanOnly, -2, out, dictionary);
  }
  if (level >= 1 && level <= 6) {
    return std::make_unique<WindowedEncoder>(Mode::kFast, level, out, dictionary);
  }
  if (level >= 7 && level <= 9) return kp::NewLazyEncoder(level, out, dictionary);
  throw Error(Error::Kind::kInvalidArgument,
              "klauspost flate: invalid compression level " + std::to_string(level) +
                  " (want -2..9)");
}

}  // namespace outpost::deflate
