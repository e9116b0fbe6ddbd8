#include "delta/bsdiff.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <memory>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

constexpr std::string_view kWhat = "bsdiff payload";
constexpr uint8_t kModeZstd = 0;  // each stream its own zstd frame
constexpr uint8_t kModeRaw = 1;   // streams stored as they are

// Highest zstd level for the control and extra streams: above it they hardly shrink (measured on
// the corpus's security update) while zstd's time grows several-fold. The difference runs,
// where level 19 saves 7%, get the level asked for.
constexpr int kControlExtraLevel = 12;

// Length of the common prefix of a and b, compared eight bytes at a time (matches between two
// builds of a binary run for kilobytes).
size_t MatchLength(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return i + static_cast<size_t>(std::countr_zero(x ^ y)) / 8;  // little-endian
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// The shortest match searched for: bsdiff's scan only ever acts on a shorter one when the
// current alignment gives it, and that is always tried.
constexpr size_t kGramBytes = 8;
// How many earlier occurrences of a kGramBytes string are tried per search, and the match length
// that ends a search early. Measured on the corpus's security update against a suffix array's
// longest matches: depth 64 gives a 0.6% larger delta and saves 1 s (the suffix sort and a
// dozen cache misses per search).
constexpr size_t kChainDepth = 64;
constexpr size_t kGoodEnough = 4096;

// The old bytes indexed by their kGramBytes-long strings: a hash table of chains, each holding the
// positions of one hash's strings, newest first (as zlib's deflate keeps them).
class MatchFinder {
 public:
  explicit MatchFinder(std::string_view old) : old_(old), next_(new int32_t[old.size()]) {
    if (old.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw InvalidArgument("bsdiff base of ", std::to_string(old.size()), " bytes is over 2 GiB");
    }
    unsigned bits = 10;
    while ((size_t{2} << bits) < old.size() && bits < kMaxHashBits) ++bits;  // a head per 2 bytes
    shift_ = 64 - bits;
    head_.assign(size_t{1} << bits, kNone);
    for (size_t i = 0; i + kGramBytes <= old.size(); ++i) {
      uint64_t h = Hash(old.data() + i);
      next_[i] = head_[h];
      head_[h] = static_cast<int32_t>(i);
    }
  }

  // The longest match for the start of `needle` among `aligned` (where the current alignment
  // puts it; may be out of range) and the first kChainDepth earlier occurrences of its first
  // kGramBytes; returns its length and stores its position in `*pos`.
  size_t Longest(std::string_view needle, int64_t aligned, size_t* pos) const {
    size_t best = 0;
    if (aligned >= 0 && static_cast<uint64_t>(aligned) < old_.size()) {
      *pos = static_cast<size_t>(aligned);
      best = MatchLength(old_.substr(*pos), needle);
    }
    if (needle.size() < kGramBytes) return best;
    int32_t at = head_[Hash(needle.data())];
    for (size_t tried = 0; at != kNone && tried < kChainDepth && best < kGoodEnough; ++tried) {
      size_t len = MatchLength(old_.substr(static_cast<size_t>(at)), needle);
      if (len > best) {
        best = len;
        *pos = static_cast<size_t>(at);
      }
      at = next_[static_cast<size_t>(at)];
    }
    return best;
  }

 private:
  static constexpr unsigned kMaxHashBits = 23;  // 32 MiB of heads, for a 64 MiB base region
  static constexpr int32_t kNone = -1;
  uint64_t Hash(const char* p) const {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return (v * 0x9E3779B97F4A7C15ull) >> shift_;
  }

  std::string_view old_;
  std::unique_ptr<int32_t[]> next_;  // per old position (set for each indexed one): the previous
                                     // one with the same hash
  std::vector<int32_t> head_;  // per hash: its newest position
  unsigned shift_ = 0;
};

// Emits one control triple: `diff_len` bytes as differences against old[old_from...], then
// new[extra_from, extra_from + extra_len) as extra bytes, then moves the old cursor by `seek`.
void Emit(std::string_view old, std::string_view neu, size_t old_from, size_t new_from,
          size_t diff_len, size_t extra_len, int64_t seek, BsdiffStreams* s) {
  PutVarint(&s->control, diff_len);
  PutVarint(&s->control, extra_len);
  PutSignedVarint(&s->control, seek);
  for (size_t i = 0; i < diff_len; ++i) {
    s->diff.push_back(static_cast<char>(neu[new_from + i] - old[old_from + i]));
  }
  s->extra.append(neu.substr(new_from + diff_len, extra_len));
}

// How far to extend the previous match forward from (last_new, last_old), and the next match
// backward from (scan, pos), as bsdiff scores them: keep a run while more than half its bytes
// agree. Overlaps are split where the score is best.
void ExtendMatches(std::string_view old, std::string_view neu, size_t last_new, size_t last_old,
                   size_t scan, size_t pos, size_t* len_forward, size_t* len_backward) {
  int64_t s = 0, best = 0;
  size_t lenf = 0;
  for (size_t i = 0; last_new + i < scan && last_old + i < old.size();) {
    if (old[last_old + i] == neu[last_new + i]) ++s;
    ++i;
    if (s * 2 - static_cast<int64_t>(i) > best * 2 - static_cast<int64_t>(lenf)) { best = s; lenf = i; }
  }
  size_t lenb = 0;
  if (scan < neu.size()) {
    s = 0, best = 0;
    for (size_t i = 1; scan >= last_new + i && pos >= i; ++i) {
      if (old[pos - i] == neu[scan - i]) ++s;
      if (s * 2 - static_cast<int64_t>(i) > best * 2 - static_cast<int64_t>(lenb)) { best = s; lenb = i; }
    }
  }
  if (last_new + lenf > scan - lenb) {
    size_t overlap = (last_new + lenf) - (scan - lenb);
    s = 0, best = 0;
    size_t lens = 0;
    for (size_t i = 0; i < overlap; ++i) {
      if (neu[last_new + lenf - overlap + i] == old[last_old + lenf - overlap + i]) ++s;
      if (neu[scan - lenb + i] == old[pos - lenb + i]) --s;
      if (s > best) { best = s; lens = i + 1; }
    }
    lenf += lens - overlap;
    lenb -= lens;
  }
  *len_forward = lenf;
  *len_backward = lenb;
}

BsdiffStreams Diff(std::string_view old, std::string_view neu) {
  MatchFinder finder(old);
  BsdiffStreams s;
  size_t scan = 0, len = 0, pos = 0, last_new = 0, last_old = 0;
  int64_t last_offset = 0;
  // Bytes as unsigned values; -1 past either end of the old bytes.
  auto old_at = [&](int64_t i) -> int {
    return i >= 0 && static_cast<size_t>(i) < old.size() ? static_cast<uint8_t>(old[static_cast<size_t>(i)]) : -1;
  };
  auto new_at = [&](size_t i) -> int { return static_cast<uint8_t>(neu[i]); };
  while (scan < neu.size()) {
    size_t old_score = 0;
    size_t scsc = scan += len;
    for (; scan < neu.size(); ++scan) {
      len = finder.Longest(neu.substr(scan), static_cast<int64_t>(scan) + last_offset, &pos);
      // At least `scan` itself is scored, so the decrement below always has a byte to take back.
      for (; scsc < scan + std::max<size_t>(len, 1); ++scsc) {
        if (old_at(static_cast<int64_t>(scsc) + last_offset) == new_at(scsc)) ++old_score;
      }
      if ((len == old_score && len != 0) || len > old_score + 8) break;
      if (old_at(static_cast<int64_t>(scan) + last_offset) == new_at(scan)) --old_score;
    }
    if (len == old_score && scan != neu.size()) continue;
    size_t lenf, lenb;
    ExtendMatches(old, neu, last_new, last_old, scan, pos, &lenf, &lenb);
    size_t extra = (scan - lenb) - (last_new + lenf);
    int64_t seek = static_cast<int64_t>(pos - lenb) - static_cast<int64_t>(last_old + lenf);
    Emit(old, neu, last_old, last_new, lenf, extra, seek, &s);
    last_new = scan - lenb;
    last_old = pos - lenb;
    last_offset = static_cast<int64_t>(pos) - static_cast<int64_t>(scan);
  }
  return s;
}

// Takes one length-prefixed stream off the front of `*rest`.
std::string_view TakeFrame(std::string_view* rest) {
  size_t pos = 0;
  uint64_t n = GetVarint(*rest, &pos, kWhat);
  if (n > rest->size() - pos) throw Corruption(kWhat, " is truncated");
  std::string_view frame = rest->substr(pos, n);
  *rest = rest->substr(pos + n);
  return frame;
}

std::string Unpack(std::string_view frame, uint64_t limit) {
  std::optional<uint64_t> n = compress::ZstdDeclaredSize(frame);
  if (!n || *n > limit) throw Corruption(kWhat, " has a bad stream size");
  return DecompressWithPrefix(frame, {}, *n, kWhat);
}

// The difference stream as runs: varint zeros, varint n, n bytes (the next n bytes, the first of
// them nonzero), repeated. A recompiled binary's differences are long zero runs; as runs they
// are a tenth of the bytes for zstd's slow levels to search.
std::string ZeroRuns(std::string_view diff) {
  std::string out;
  for (size_t i = 0; i < diff.size();) {
    size_t zeros = 0;
    while (i + zeros < diff.size() && diff[i + zeros] == 0) ++zeros;
    size_t n = 0;
    while (i + zeros + n < diff.size() && diff[i + zeros + n] != 0) ++n;
    PutVarint(&out, zeros);
    PutVarint(&out, n);
    out.append(diff.substr(i + zeros, n));
    i += zeros + n;
  }
  return out;
}

// Inverse of ZeroRuns; throws Corruption if the runs are malformed or exceed `limit` bytes.
std::string ExpandZeroRuns(std::string_view runs, uint64_t limit) {
  std::string out;
  for (size_t pos = 0; pos < runs.size();) {
    uint64_t zeros = GetVarint(runs, &pos, kWhat);
    uint64_t n = GetVarint(runs, &pos, kWhat);
    if (zeros > limit - out.size() || n > limit - out.size() - zeros || n > runs.size() - pos) {
      throw Corruption(kWhat, " has a difference run out of range");
    }
    out.append(zeros, '\0');
    out.append(runs.substr(pos, n));
    pos += n;
  }
  return out;
}

}  // namespace

BsdiffStreams BsdiffDiff(std::string_view base, std::string_view target) {
  return Diff(base, target);
}

std::string BsdiffPack(const BsdiffStreams& s, int zstd_level) {
  int other_level = std::min(zstd_level, kControlExtraLevel);
  std::string out(1, static_cast<char>(kModeZstd));
  const std::string runs = ZeroRuns(s.diff);
  for (const std::string* stream : {&s.control, &runs}) {
    int level = stream == &runs ? zstd_level : other_level;
    std::string packed = CompressWithPrefix(*stream, {}, level);
    PutVarint(&out, packed.size());
    out += packed;
  }
  out += CompressWithPrefix(s.extra, {}, other_level);
  return out;
}

std::string BsdiffPackRaw(const BsdiffStreams& s) {
  std::string out(1, static_cast<char>(kModeRaw));
  for (const std::string* stream : {&s.control, &s.diff}) {
    PutVarint(&out, stream->size());
    out += *stream;
  }
  out += s.extra;
  return out;
}

std::string BsdiffEncode(std::string_view base, std::string_view target, int zstd_level) {
  return BsdiffPack(Diff(base, target), zstd_level);
}

std::string BsdiffApply(std::string_view base, std::string_view payload, uint64_t target_size,
                        std::vector<BsdiffRegion>* regions) {
  if (payload.empty()) throw Corruption(kWhat, " is empty");
  uint8_t mode = static_cast<uint8_t>(payload[0]);
  std::string_view rest = payload.substr(1);
  std::string control, diff, extra;
  if (mode == kModeZstd) {
    control = Unpack(TakeFrame(&rest), 30 * (target_size + 1));
    diff = ExpandZeroRuns(Unpack(TakeFrame(&rest), target_size), target_size);
    extra = Unpack(rest, target_size);
  } else if (mode == kModeRaw) {
    control = TakeFrame(&rest);
    diff = TakeFrame(&rest);
    extra = rest;
    if (diff.size() > target_size || extra.size() > target_size) {
      throw Corruption(kWhat, " has a stream longer than the target");
    }
  } else {
    throw Corruption(kWhat, " has unknown mode ", std::to_string(mode));
  }
  std::string out;
  out.reserve(target_size);
  size_t cpos = 0, dpos = 0, epos = 0;
  int64_t old_pos = 0;
  while (cpos < control.size()) {
    uint64_t diff_len = GetVarint(control, &cpos, kWhat);
    uint64_t extra_len = GetVarint(control, &cpos, kWhat);
    int64_t seek = GetSignedVarint(control, &cpos, kWhat);
    if (diff_len > diff.size() - dpos || extra_len > extra.size() - epos ||
        old_pos < 0 || static_cast<uint64_t>(old_pos) > base.size() ||
        diff_len > base.size() - static_cast<uint64_t>(old_pos)) {
      throw Corruption(kWhat, " has a control triple out of range");
    }
    if (regions != nullptr && diff_len > 0) {
      regions->push_back(BsdiffRegion{out.size(), static_cast<uint64_t>(old_pos), diff_len});
    }
    for (size_t i = 0; i < diff_len; ++i) {
      out.push_back(static_cast<char>(diff[dpos + i] + base[static_cast<size_t>(old_pos) + i]));
    }
    dpos += diff_len;
    out.append(extra, epos, extra_len);
    epos += extra_len;
    old_pos += static_cast<int64_t>(diff_len) + seek;
  }
  if (out.size() != target_size || dpos != diff.size() || epos != extra.size()) {
    throw Corruption(kWhat, " does not rebuild the expected size");
  }
  return out;
}

}  // namespace outpost::delta
