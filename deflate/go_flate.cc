#include "deflate/go_flate.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "deflate/go_fast.h"
#include "deflate/go_huffman.h"
#include "deflate/go_lazy.h"

namespace outpost::deflate {
namespace go_internal {
namespace {

// Go's write loop around a level's fill (copy input into the window) and step (compress what
// the window holds; with sync_ set, all of it).
class GoCompressor : public Encoder {
 public:
  explicit GoCompressor(Writer& out) : blocks_(out) {}

  void Write(const uint8_t* data, size_t n) override {
    if (finished_) throw InvalidArgument("go flate encoder: write after finish");
    while (n > 0) {
      Step();
      size_t used = Fill(data, n);
      data += used;
      n -= used;
    }
  }

  void SyncFlush() override {
    if (finished_) throw InvalidArgument("go flate encoder: flush after finish");
    sync_ = true;
    Step();
    blocks_.WriteStoredHeader(0, false);
    blocks_.Flush();
    sync_ = false;
  }

  void Finish() override {
    if (finished_) return;
    sync_ = true;
    Step();
    blocks_.WriteStoredHeader(0, true);
    blocks_.Flush();
    finished_ = true;
  }

 protected:
  virtual size_t Fill(const uint8_t* data, size_t n) = 0;
  virtual void Step() = 0;

  BlockWriter blocks_;
  bool sync_ = false;

 private:
  bool finished_ = false;
};

// Levels 0, -2 and 1 collect input into a 65535-byte buffer and code it as one block.
class BufferedCompressor : public GoCompressor {
 public:
  explicit BufferedCompressor(Writer& out) : GoCompressor(out), window_(kMaxStoredBlock) {}

 protected:
  size_t Fill(const uint8_t* data, size_t n) override {
    size_t k = std::min(n, window_.size() - end_);
    std::copy(data, data + k, window_.begin() + static_cast<ptrdiff_t>(end_));
    end_ += k;
    return k;
  }

  std::vector<uint8_t> window_;
  size_t end_ = 0;
};

// NoCompression: stored blocks of 65535 bytes.
class StoreCompressor : public BufferedCompressor {
 public:
  using BufferedCompressor::BufferedCompressor;

 private:
  void Step() override {
    if (end_ > 0 && (end_ == kMaxStoredBlock || sync_)) {
      blocks_.WriteStoredBlock(window_.data(), end_);
      end_ = 0;
    }
  }
};

// HuffmanOnly: every 65535 bytes one literal-only block.
class HuffmanOnlyCompressor : public BufferedCompressor {
 public:
  using BufferedCompressor::BufferedCompressor;

 private:
  void Step() override {
    if ((end_ < window_.size() && !sync_) || end_ == 0) return;
    blocks_.WriteBlockHuff(false, window_.data(), end_);
    end_ = 0;
  }
};

// BestSpeed (Go's encSpeed).
class SpeedCompressor : public BufferedCompressor {
 public:
  explicit SpeedCompressor(Writer& out) : BufferedCompressor(out) {
    tokens_.reserve(kMaxStoredBlock + 1);
  }

 private:
  void Step() override {
    if (end_ < kMaxStoredBlock) {
      if (!sync_) return;
      // Tiny flushed blocks are not worth matching.
      if (end_ < 128) {
        if (end_ == 0) return;
        if (end_ <= 16) {
          blocks_.WriteStoredBlock(window_.data(), end_);
        } else {
          blocks_.WriteBlockHuff(false, window_.data(), end_);
        }
        end_ = 0;
        matcher_.Reset();
        return;
      }
    }
    tokens_.clear();
    matcher_.Encode(window_.data(), end_, &tokens_);
    if (tokens_.size() > end_ - (end_ >> 4)) {
      blocks_.WriteBlockHuff(false, window_.data(), end_);
    } else {
      blocks_.WriteBlockDynamic(tokens_.data(), tokens_.size(), false, window_.data(), end_);
    }
    end_ = 0;
  }

  FastMatcher matcher_;
  std::vector<Token> tokens_;
};

// Levels 2..9: hash chains over a sliding 32 KiB window.
class ChainCompressor : public GoCompressor {
 public:
  ChainCompressor(Writer& out, const LevelParams& params)
      : GoCompressor(out), matcher_(params, blocks_) {}

 private:
  size_t Fill(const uint8_t* data, size_t n) override { return matcher_.Fill(data, n); }
  void Step() override { matcher_.Step(sync_); }

  ChainMatcher matcher_;
};

}  // namespace
}  // namespace go_internal

std::unique_ptr<Encoder> NewGoEncoder(int level, Writer& out) {
  using namespace go_internal;
  switch (level) {
    case 0:
      return std::make_unique<StoreCompressor>(out);
    case -2:
      return std::make_unique<HuffmanOnlyCompressor>(out);
    case 1:
      return std::make_unique<SpeedCompressor>(out);
    case -1:
      return std::make_unique<ChainCompressor>(out, ChainLevel(6));
    default:
      if (level >= 2 && level <= 9) {
        return std::make_unique<ChainCompressor>(out, ChainLevel(level));
      }
      throw InvalidArgument("go flate: invalid compression level ", std::to_string(level),
                            " (want -2..9)");
  }
}

}  // namespace outpost::deflate
