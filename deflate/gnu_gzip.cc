#include "deflate/gnu_gzip.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "deflate/gnu_trees.h"

namespace outpost::deflate {
namespace {

constexpr unsigned kWSize = 0x8000;
constexpr unsigned kWMask = kWSize - 1;
constexpr unsigned kWindowSize = 2 * kWSize;
// Bytes past gzip's window that our 8-byte match comparison may read (never used in a result).
constexpr unsigned kWindowSlack = 16;
constexpr unsigned kHashBits = 15;
constexpr unsigned kHashSize = 1u << kHashBits;
constexpr unsigned kHashMask = kHashSize - 1;
constexpr unsigned kMinMatch = 3;
constexpr unsigned kMaxMatch = 258;
constexpr unsigned kHShift = (kHashBits + kMinMatch - 1) / kMinMatch;
constexpr unsigned kMinLookahead = kMaxMatch + kMinMatch + 1;
constexpr unsigned kMaxDist = kWSize - kMinLookahead;
constexpr unsigned kTooFar = 4096;

// gzip's configuration_table: {good_length, max_lazy, nice_length, max_chain} per level.
struct Config {
  unsigned good_length;
  unsigned max_lazy;
  unsigned nice_length;
  unsigned max_chain;
};
constexpr Config kConfig[10] = {
    {0, 0, 0, 0},       {4, 4, 8, 4},       {4, 5, 16, 8},      {4, 6, 32, 32},
    {4, 4, 16, 16},     {8, 16, 32, 32},    {8, 16, 128, 128},  {8, 32, 128, 256},
    {32, 128, 258, 1024}, {32, 258, 258, 4096}};

// Number of equal leading bytes of a and b, at most `max`.
unsigned CommonPrefix(const uint8_t* a, const uint8_t* b, unsigned max) {
  unsigned n = 0;
  while (n < max) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a + n, 8);
    std::memcpy(&y, b + n, 8);
    if (x != y) return std::min(max, n + unsigned(std::countr_zero(x ^ y)) / 8);
    n += 8;
  }
  return max;
}

// gzip's deflate.c: the 64 KiB window read in 32 KiB halves, hash chains, and the fast (levels
// 1-3) and lazy (4-9) match loops. gzip pulls input with read(); this class is driven by pushes
// instead, so it keeps gzip's one outstanding read request (where, how many bytes) and resumes
// the match loop whenever that request is complete, which gives the same window contents,
// lookahead and end-of-input handling as gzip reading a regular file.
class GnuDeflater final : public Encoder {
 public:
  GnuDeflater(int level, Writer& out)
      : level_(level),
        cfg_(kConfig[level]),
        bits_(out),
        blocks_(level, bits_),
        window_(kWindowSize + kWindowSlack, 0),
        prev_(kWSize, 0),
        head_(kHashSize, 0),
        match_length_(level <= 3 ? 0 : kMinMatch - 1) {
    Run();
  }

  void Write(const uint8_t* data, size_t n) override {
    if (finished_) throw InvalidArgument("gzip encoder: write after finish");
    while (n > 0) {
      size_t take = std::min<size_t>(n, want_ - got_);
      std::memcpy(&window_[read_at_ + got_], data, take);
      got_ += take;
      data += take;
      n -= take;
      if (got_ == want_) Run();
    }
  }

  void SyncFlush() override {
    throw Unsupported("GNU gzip has no sync flush; its streams are one deflate run");
  }

  void Finish() override {
    if (finished_) return;
    input_done_ = true;
    Run();
    if (match_available_) blocks_.Tally(0, window_[strstart_ - 1], 0);
    FlushBlock(true);
    bits_.Flush();
    finished_ = true;
  }

 private:
  // One call of gzip's fill_window(): slides the window if needed and reads. Returns false when
  // the read is still waiting for input.
  bool FillWindow() {
    if (!reading_) {
      unsigned more = kWindowSize - lookahead_ - strstart_;
      if (strstart_ >= kWSize + kMaxDist) {
        SlideWindow();
        more += kWSize;
      }
      read_at_ = strstart_ + lookahead_;
      want_ = more;
      got_ = 0;
      reading_ = true;
    }
    if (got_ < want_ && !input_done_) return false;
    reading_ = false;
    if (got_ == 0) {
      eofile_ = true;
      std::memset(&window_[strstart_ + lookahead_], 0, kMinMatch - 1);
    } else {
      lookahead_ += unsigned(got_);
    }
    return true;
  }

  void SlideWindow() {
    std::memcpy(window_.data(), window_.data() + kWSize, kWSize);
    match_start_ -= kWSize;
    strstart_ -= kWSize;
    block_start_ -= kWSize;
    for (auto& h : head_) h = uint16_t(h >= kWSize ? h - kWSize : 0);
    for (auto& p : prev_) p = uint16_t(p >= kWSize ? p - kWSize : 0);
  }

  // Runs the match loop until it needs input it does not have yet (or the input ended).
  void Run() {
    for (;;) {
      while (lookahead_ < kMinLookahead && !eofile_) {
        if (!FillWindow()) return;
      }
      if (!started_) {
        started_ = true;
        ins_h_ = ((unsigned(window_[0]) << kHShift) ^ window_[1]) & kHashMask;
      }
      if (lookahead_ == 0) return;
      if (level_ <= 3) {
        StepFast();
      } else {
        StepLazy();
      }
    }
  }

  // gzip's INSERT_STRING: hashes window[s..s+2], links s into its chain, returns the old head.
  unsigned InsertString(unsigned s) {
    ins_h_ = ((ins_h_ << kHShift) ^ window_[s + kMinMatch - 1]) & kHashMask;
    unsigned match_head = head_[ins_h_];
    prev_[s & kWMask] = uint16_t(match_head);
    head_[ins_h_] = uint16_t(s);
    return match_head;
  }

  unsigned LongestMatch(unsigned cur_match) {
    unsigned chain_length = cfg_.max_chain;
    const uint8_t* scan = &window_[strstart_];
    unsigned best_len = prev_length_;
    unsigned limit = strstart_ > kMaxDist ? strstart_ - kMaxDist : 0;
    uint8_t scan_end1 = scan[best_len - 1];
    uint8_t scan_end = scan[best_len];
    if (prev_length_ >= cfg_.good_length) chain_length >>= 2;
    do {
      const uint8_t* match = &window_[cur_match];
      if (match[best_len] != scan_end || match[best_len - 1] != scan_end1 ||
          match[0] != scan[0] || match[1] != scan[1]) {
        continue;
      }
      // Like gzip, byte 2 is taken as equal (it is, when the hashes agree) and not compared.
      unsigned len = 3 + CommonPrefix(scan + 3, match + 3, kMaxMatch - 3);
      if (len > best_len) {
        match_start_ = cur_match;
        best_len = len;
        if (len >= cfg_.nice_length) break;
        scan_end1 = scan[best_len - 1];
        scan_end = scan[best_len];
      }
    } while ((cur_match = prev_[cur_match & kWMask]) > limit && --chain_length != 0);
    return best_len;
  }

  bool MayMatch(unsigned hash_head) const {
    return hash_head != 0 && strstart_ - hash_head <= kMaxDist &&
           strstart_ <= kWindowSize - kMinLookahead;
  }

  bool Tally(unsigned dist, unsigned lc) {
    return blocks_.Tally(dist, lc, uint64_t(int64_t(strstart_) - block_start_));
  }

  void FlushBlock(bool eof) {
    const uint8_t* stored = block_start_ >= 0 ? &window_[size_t(block_start_)] : nullptr;
    blocks_.FlushBlock(stored, uint64_t(int64_t(strstart_) - block_start_), eof);
    block_start_ = strstart_;
  }

  // One iteration of gzip's deflate_fast() (levels 1-3: no lazy evaluation).
  void StepFast() {
    unsigned hash_head = InsertString(strstart_);
    if (MayMatch(hash_head)) {
      match_length_ = std::min(LongestMatch(hash_head), lookahead_);
    }
    bool flush;
    if (match_length_ >= kMinMatch) {
      flush = Tally(strstart_ - match_start_, match_length_ - kMinMatch);
      lookahead_ -= match_length_;
      if (match_length_ <= cfg_.max_lazy) {  // gzip's max_insert_length
        --match_length_;
        do InsertString(++strstart_);
        while (--match_length_ != 0);
        ++strstart_;
      } else {
        strstart_ += match_length_;
        match_length_ = 0;
        ins_h_ = ((unsigned(window_[strstart_]) << kHShift) ^ window_[strstart_ + 1]) & kHashMask;
      }
    } else {
      flush = Tally(0, window_[strstart_]);
      --lookahead_;
      ++strstart_;
    }
    if (flush) FlushBlock(false);
  }

  // One iteration of gzip's deflate() lazy loop (levels 4-9).
  void StepLazy() {
    unsigned hash_head = InsertString(strstart_);
    prev_length_ = match_length_;
    unsigned prev_match = match_start_;
    match_length_ = kMinMatch - 1;
    if (MayMatch(hash_head) && prev_length_ < cfg_.max_lazy) {
      match_length_ = std::min(LongestMatch(hash_head), lookahead_);
      if (match_length_ == kMinMatch && strstart_ - match_start_ > kTooFar) --match_length_;
    }
    if (prev_length_ >= kMinMatch && match_length_ <= prev_length_) {
      bool flush = Tally(strstart_ - 1 - prev_match, prev_length_ - kMinMatch);
      lookahead_ -= prev_length_ - 1;
      prev_length_ -= 2;
      do InsertString(++strstart_);
      while (--prev_length_ != 0);
      match_available_ = false;
      match_length_ = kMinMatch - 1;
      ++strstart_;
      if (flush) FlushBlock(false);
    } else if (match_available_) {
      if (Tally(0, window_[strstart_ - 1])) FlushBlock(false);
      ++strstart_;
      --lookahead_;
    } else {
      match_available_ = true;
      ++strstart_;
      --lookahead_;
    }
  }

  const int level_;
  const Config cfg_;
  GnuBitWriter bits_;
  GnuBlockWriter blocks_;
  std::vector<uint8_t> window_;
  std::vector<uint16_t> prev_;  // chain links, indexed by position & kWMask
  std::vector<uint16_t> head_;  // newest position per hash
  unsigned strstart_ = 0;
  unsigned lookahead_ = 0;
  unsigned match_start_ = 0;
  unsigned prev_length_ = kMinMatch - 1;
  unsigned match_length_;  // deflate_fast starts at 0, the lazy loop at kMinMatch - 1
  bool match_available_ = false;
  int64_t block_start_ = 0;
  unsigned ins_h_ = 0;
  bool started_ = false;
  bool eofile_ = false;
  // gzip's pending read(): `want_` bytes at window offset `read_at_`, `got_` so far.
  bool reading_ = false;
  bool input_done_ = false;
  bool finished_ = false;
  unsigned read_at_ = 0;
  size_t want_ = 0;
  size_t got_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> NewGnuGzipEncoder(int level, Writer& out) {
  if (level < 1 || level > 9) {
    throw InvalidArgument("gzip level ", std::to_string(level), " is outside 1..9");
  }
  return std::make_unique<GnuDeflater>(level, out);
}

void WriteGnuGzipHeader(const GnuGzipHeader& header, Writer& out) {
  constexpr uint8_t kFlagName = 0x08;
  constexpr uint8_t kOsUnix = 3;
  uint8_t xfl = header.level == 1 ? 4 : header.level == 9 ? 2 : 0;
  uint32_t t = header.mtime;
  uint8_t bytes[10] = {0x1f, 0x8b, 8, uint8_t(header.name.empty() ? 0 : kFlagName),
                       uint8_t(t), uint8_t(t >> 8), uint8_t(t >> 16), uint8_t(t >> 24),
                       xfl, kOsUnix};
  out.Write(bytes, sizeof bytes);
  if (!header.name.empty()) {
    out.Write(reinterpret_cast<const uint8_t*>(header.name.c_str()), header.name.size() + 1);
  }
}

uint64_t GnuGzipCompress(Reader& in, const GnuGzipHeader& header, Writer& out) {
  WriteGnuGzipHeader(header, out);
  auto encoder = NewGnuGzipEncoder(header.level, out);
  std::vector<uint8_t> buf(kWindowSize);
  uLong crc = crc32(0, nullptr, 0);
  uint64_t total = 0;
  while (size_t n = in.Read(buf.data(), buf.size())) {
    encoder->Write(buf.data(), n);
    crc = crc32_z(crc, buf.data(), n);
    total += n;
  }
  encoder->Finish();
  uint32_t c = uint32_t(crc);
  uint32_t size = uint32_t(total);
  uint8_t trailer[8] = {uint8_t(c),    uint8_t(c >> 8),    uint8_t(c >> 16),    uint8_t(c >> 24),
                        uint8_t(size), uint8_t(size >> 8), uint8_t(size >> 16), uint8_t(size >> 24)};
  out.Write(trailer, sizeof trailer);
  return total;
}

}  // namespace outpost::deflate
