// Ported from github.com/klauspost/compress v1.15.12, flate/deflate.go (deflateLazy).
#include "deflate/kp_lazy.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "deflate/kp_bit_writer.h"
#include "deflate/kp_huffman.h"
#include "deflate/kp_tokens.h"

namespace outpost::deflate::kp {
namespace {

constexpr int kWindowSize = 1 << 15;
constexpr int kWindowMask = kWindowSize - 1;
constexpr int kMinMatchLength = 4;
constexpr int kHashBits = 17;
constexpr int kMaxHashOffset = 1 << 28;
constexpr uint32_t kMaxFlateBlockTokens = 1 << 15;

struct LevelParams {
  int lazy, nice, chain;
};

LevelParams ParamsFor(int level) {
  switch (level) {
    case 7:
      return {12, 16, 24};
    case 8:
      return {30, 40, 64};
    default:
      return {258, 258, 1024};
  }
}

uint32_t Hash4(const uint8_t* p) {
  uint32_t u;
  std::memcpy(&u, p, 4);
  return (u * 2654435761u) >> (32 - kHashBits);
}

int MatchLength(const uint8_t* a, const uint8_t* b, int max) {
  int n = 0;
  while (n < max && a[n] == b[n]) ++n;
  return n;
}

// Hash chains over a 64 KiB window that slides by 32 KiB; lazy matching (a match is taken only
// if the match at the next byte is not longer).
class LazyEncoder final : public KlauspostEncoder {
 public:
  LazyEncoder(int level, Writer& out, std::string_view dictionary)
      : params_(ParamsFor(level)), writer_(out, 8), window_(2 * kWindowSize) {
    hash_head_.resize(1 << kHashBits);
    hash_prev_.resize(kWindowSize);
    tokens_ = std::make_unique<Tokens>();
    UseDictionary(dictionary);
  }

  void Reset(Writer& out, std::string_view dictionary) override {
    writer_.Reset(out);
    std::fill(hash_head_.begin(), hash_head_.end(), 0);
    std::fill(hash_prev_.begin(), hash_prev_.end(), 0);
    hash_offset_ = 1;
    index_ = window_end_ = block_start_ = 0;
    byte_available_ = sync_ = finished_ = false;
    tokens_->Reset();
    length_ = kMinMatchLength - 1;
    offset_ = 0;
    ii_ = 0;
    max_insert_index_ = 0;
    chain_head_ = -1;
    UseDictionary(dictionary);
  }

  void Write(const uint8_t* data, size_t n) override {
    ThrowIfFinished(finished_);
    while (n > 0) {
      if (window_end_ == static_cast<int>(window_.size())) Step();
      size_t k = Fill(data, n);
      data += k;
      n -= k;
    }
  }

  void SyncFlush() override {
    ThrowIfFinished(finished_);
    sync_ = true;
    Step();
    writer_.WriteStoredHeader(0, false);
    writer_.Flush();
    sync_ = false;
  }

  void Finish() override {
    if (finished_) return;
    finished_ = true;
    sync_ = true;
    Step();
    writer_.WriteStoredHeader(0, true);
    writer_.Flush();
  }

 private:
  // The dictionary is hashed into the window; the first block's stored-size estimate then
  // counts it too (block_start_ stays 0), as in the original.
  void UseDictionary(std::string_view dictionary) {
    if (dictionary.size() > static_cast<size_t>(kWindowSize)) {
      dictionary = dictionary.substr(dictionary.size() - kWindowSize);
    }
    int n = static_cast<int>(dictionary.size());
    if (n > 0) std::memcpy(window_.data(), dictionary.data(), dictionary.size());
    for (int i = 0; i + kMinMatchLength <= n; ++i) Insert(i, Hash4(&window_[i]));
    window_end_ = n;
    index_ = n;
  }

  void Insert(int pos, uint32_t h) {
    hash_prev_[pos & kWindowMask] = hash_head_[h];
    hash_head_[h] = static_cast<uint32_t>(pos + hash_offset_);
  }

  size_t Fill(const uint8_t* data, size_t n);
  void Step();
  bool FindMatch(int pos, int prev_head, int lookahead, int* length, int* offset) const;
  void WriteBlock();
  void AddLiteralToken(uint8_t lit) {
    tokens_->AddLiteral(lit);
    if (tokens_->n == kMaxFlateBlockTokens) WriteBlock();
  }

  LevelParams params_;
  HuffmanBitWriter writer_;
  std::vector<uint8_t> window_;
  int window_end_ = 0;
  int block_start_ = 0;  // INT_MAX: the block began before the window
  int index_ = 0;
  int hash_offset_ = 1;
  int length_ = kMinMatchLength - 1;
  int offset_ = 0;
  int max_insert_index_ = 0;
  int chain_head_ = -1;
  uint16_t ii_ = 0;  // literals since the last match; wraps like the original's
  bool byte_available_ = false;
  bool sync_ = false;
  bool finished_ = false;
  std::vector<uint32_t> hash_head_;
  std::vector<uint32_t> hash_prev_;
  std::unique_ptr<Tokens> tokens_;
  HuffmanEncoder literal_costs_;  // level 9: literal code lengths of the window ahead
};

size_t LazyEncoder::Fill(const uint8_t* data, size_t n) {
  if (index_ >= 2 * kWindowSize - (kMinMatchLength + kMaxMatchLength)) {
    // Slide the window down by 32 KiB.
    std::memcpy(window_.data(), window_.data() + kWindowSize, kWindowSize);
    index_ -= kWindowSize;
    window_end_ -= kWindowSize;
    block_start_ = block_start_ >= kWindowSize ? block_start_ - kWindowSize : INT_MAX;
    hash_offset_ += kWindowSize;
    if (hash_offset_ > kMaxHashOffset) {
      int delta = hash_offset_ - 1;
      hash_offset_ -= delta;
      chain_head_ -= delta;
      auto rebase = [delta](uint32_t& v) {
        v = static_cast<int>(v) > delta ? static_cast<uint32_t>(static_cast<int>(v) - delta) : 0;
      };
      std::for_each(hash_prev_.begin(), hash_prev_.end(), rebase);
      std::for_each(hash_head_.begin(), hash_head_.end(), rebase);
    }
  }
  size_t k = std::min(n, window_.size() - static_cast<size_t>(window_end_));
  std::memcpy(window_.data() + window_end_, data, k);
  window_end_ += static_cast<int>(k);
  return k;
}

void LazyEncoder::WriteBlock() {
  if (index_ > 0) {
    BlockInput input;
    if (block_start_ <= index_) {
      input = BlockInput{window_.data() + block_start_, static_cast<size_t>(index_ - block_start_)};
    }
    block_start_ = index_;
    writer_.WriteBlockDynamic(*tokens_, false, input, sync_);
  }
  tokens_->Reset();
}

bool LazyEncoder::FindMatch(int pos, int prev_head, int lookahead, int* length_out,
                            int* offset_out) const {
  const uint8_t* win = window_.data();
  int min_match_look = std::min(kMaxMatchLength, lookahead);
  int nice = std::min(params_.nice, min_match_look);
  int tries = params_.chain;
  int length = kMinMatchLength - 1;
  uint8_t w_end = win[pos + length];
  const uint8_t* w_pos = win + pos;
  int min_index = std::max(pos - kWindowSize, 0);
  bool ok = false;
  int offset = 0;
  int gain = 0;
  constexpr int kBaseCost = 6;
  for (int i = prev_head; tries > 0; --tries) {
    if (w_end == win[i + length]) {
      int n = MatchLength(win + i, w_pos, min_match_look);
      if (n > length) {
        bool better = true;
        if (params_.chain >= 100) {
          // Level 9: weigh the literal bits a match saves against its extra bits.
          int new_gain = 0;
          for (int j = 0; j < n; ++j) new_gain += CodeLen(literal_costs_.codes[w_pos[j]]);
          new_gain -= kOffsetExtraBits[OffsetCode(static_cast<uint32_t>(pos - i))] + kBaseCost +
                      kLengthExtraBits[kLengthCodes[(n - 3) & 255]];
          better = new_gain > gain;
          if (better) gain = new_gain;
        }
        if (better) {
          length = n;
          offset = pos - i;
          ok = true;
          if (n >= nice) break;
          w_end = win[pos + n];
        }
      }
    }
    if (i <= min_index) break;
    i = static_cast<int>(hash_prev_[i & kWindowMask]) - hash_offset_;
    if (i < min_index) break;
  }
  *length_out = length;
  *offset_out = offset;
  return ok;
}

void LazyEncoder::Step() {
  const uint8_t* win = window_.data();
  if (window_end_ - index_ < kMinMatchLength + kMaxMatchLength && !sync_) return;
  if (window_end_ != index_ && params_.chain > 100) {
    std::array<uint16_t, 256> hist{};
    for (int i = index_; i < window_end_; ++i) hist[win[i]]++;
    literal_costs_.Generate(hist.data(), 256, 15);
  }
  max_insert_index_ = window_end_ - (kMinMatchLength - 1);

  for (;;) {
    int lookahead = window_end_ - index_;
    if (lookahead < kMinMatchLength + kMaxMatchLength) {
      if (!sync_) return;
      if (lookahead == 0) {
        if (byte_available_) {
          tokens_->AddLiteral(win[index_ - 1]);
          byte_available_ = false;
        }
        if (tokens_->n > 0) WriteBlock();
        return;
      }
    }
    if (index_ < max_insert_index_) {
      uint32_t h = Hash4(win + index_);
      chain_head_ = static_cast<int>(hash_head_[h]);
      Insert(index_, h);
    }
    int prev_length = length_;
    int prev_offset = offset_;
    length_ = kMinMatchLength - 1;
    offset_ = 0;
    int min_index = std::max(index_ - kWindowSize, 0);
    if (chain_head_ - hash_offset_ >= min_index && lookahead > prev_length &&
        prev_length < params_.lazy) {
      int len = 0;
      int off = 0;
      if (FindMatch(index_, chain_head_ - hash_offset_, lookahead, &len, &off)) {
        length_ = len;
        offset_ = off;
      }
    }

    if (prev_length >= kMinMatchLength && length_ <= prev_length) {
      // The previous match wins. First see whether a match ending at the same place but
      // starting earlier in the history is longer.
      constexpr int kCheckOff = 2;
      int prev_index = index_ - 1;
      if (prev_index + prev_length + kCheckOff < max_insert_index_) {
        int end = std::min(lookahead, kMaxMatchLength) + prev_index;
        int idx = prev_index + prev_length - (4 - kCheckOff);
        int ch2 = static_cast<int>(hash_head_[Hash4(win + idx)]) - hash_offset_ - prev_length +
                  (4 - kCheckOff);
        if (ch2 > min_index) {
          int len = MatchLength(win + prev_index, win + ch2, end - prev_index);
          if (len > prev_length) {
            prev_length = len;
            prev_offset = prev_index - ch2;
          }
        }
      }
      tokens_->AddMatch(static_cast<uint32_t>(prev_length - 3),
                        static_cast<uint32_t>(prev_offset - 1));
      // Hash the positions the match covers (index and index-1 are done).
      int new_index = index_ + prev_length - 1;
      int end = std::min(new_index, max_insert_index_) + kMinMatchLength - 1;
      int start = std::min(index_ + 1, max_insert_index_);
      for (int di = start; di + kMinMatchLength <= end; ++di) Insert(di, Hash4(win + di));
      index_ = new_index;
      byte_available_ = false;
      length_ = kMinMatchLength - 1;
      if (tokens_->n == kMaxFlateBlockTokens) WriteBlock();
      ii_ = 0;
      continue;
    }

    if (length_ >= kMinMatchLength) ii_ = 0;
    if (!byte_available_) {
      ++index_;
      byte_available_ = true;
      continue;
    }
    ++ii_;
    AddLiteralToken(win[index_ - 1]);
    ++index_;
    // A long run without matches: skip ahead, emitting literals without searching.
    if (int n = static_cast<int>(ii_) - params_.chain; n > 0) {
      n = 1 + (n >> 6);
      for (int j = 0; j < n; ++j) {
        if (index_ >= window_end_ - 1) break;
        AddLiteralToken(win[index_ - 1]);
        if (index_ < max_insert_index_) {
          uint32_t h = Hash4(win + index_);
          chain_head_ = static_cast<int>(hash_head_[h]);
          Insert(index_, h);
        }
        ++index_;
      }
      AddLiteralToken(win[index_ - 1]);
      byte_available_ = false;
    }
  }
}

}  // namespace

void ThrowIfFinished(bool finished) {
  if (finished) {
    throw Error(Error::Kind::kInvalidArgument, "klauspost flate: write after the stream ended");
  }
}

std::unique_ptr<KlauspostEncoder> NewLazyEncoder(int level, Writer& out,
                                                 std::string_view dictionary) {
  return std::make_unique<LazyEncoder>(level, out, dictionary);
}

}  // namespace outpost::deflate::kp
