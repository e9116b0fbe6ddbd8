#include "delta/bsdiff.h"

#include <divsufsort.h>

#include <algorithm>
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

// Length of the common prefix of a and b.
size_t MatchLength(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Matches shorter than this are not searched for where the old bytes cannot hold one this long
// (see MatchFinder::Longest): bsdiff's scan only ever acts on a short match that the current
// alignment already gives.
constexpr size_t kGramBytes = 8;

// One bit per possible hash of a kGramBytes-long string: set for every such string in the old
// bytes (a Bloom filter with one hash: a clear bit proves there is no such match; at 8 bits per
// old byte about one string in nine tests falsely present).
class GramFilter {
 public:
  explicit GramFilter(std::string_view old) {
    while (bits_ < 8 * old.size() && shift_ > 64 - kMaxBitsLog) {
      bits_ <<= 1;
      --shift_;
    }
    set_.assign(bits_ / 64, 0);
    for (size_t i = 0; i + kGramBytes <= old.size(); ++i) {
      uint64_t h = Hash(old.data() + i);
      set_[h / 64] |= uint64_t{1} << (h % 64);
    }
  }
  // False only if no kGramBytes-long string in the old bytes equals the start of `s`.
  bool MayHold(std::string_view s) const {
    if (s.size() < kGramBytes) return true;
    uint64_t h = Hash(s.data());
    return (set_[h / 64] >> (h % 64)) & 1;
  }

 private:
  static constexpr unsigned kMaxBitsLog = 28;  // 32 MiB, for a 32 MiB window
  uint64_t Hash(const char* p) const {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return (v * 0x9E3779B97F4A7C15ull) >> shift_;
  }
  size_t bits_ = 1 << 16;
  unsigned shift_ = 64 - 16;
  std::vector<uint64_t> set_;
};

// The suffix of the old bytes sharing the longest prefix with `needle` (binary search over the
// suffix array); returns its length and stores its position in `*pos`. The search starts within
// the suffixes sharing the needle's first two bytes (a table of where each two-byte prefix
// starts), which skips most of its steps and finds the same boundary as a search of the whole
// array. Where the old bytes hold no string of the needle's first kGramBytes, the search (a
// dozen cache misses into the suffix array) is skipped and the match taken as empty.
class MatchFinder {
 public:
  explicit MatchFinder(std::string_view old) : old_(old), sa_(old.size()), grams_(old) {
    if (old.empty()) return;
    divsufsort(reinterpret_cast<const sauchar_t*>(old.data()), sa_.data(), static_cast<saidx_t>(old.size()));
    // Where each two-byte prefix's suffixes start in the suffix array, from counts of the
    // prefixes in the text (the last suffix, one byte long, sorts as that byte then zero).
    start_.assign(kBuckets + 1, 0);
    for (size_t i = 0; i < old.size(); ++i) ++start_[PrefixAt(old, i) + 1];
    for (size_t p = 0; p < kBuckets; ++p) start_[p + 1] += start_[p];
  }

  size_t Longest(std::string_view needle, size_t* pos) const {
    size_t n = sa_.size();
    if (n == 0 || !grams_.MayHold(needle)) return 0;
    size_t lo = 0, hi = n - 1;
    if (n > 2) {
      size_t below = Boundary(needle);
      lo = std::clamp<size_t>(below, 1, n - 1) - 1;
      hi = lo + 1;
    }
    size_t lo_len = MatchLength(old_.substr(static_cast<size_t>(sa_[lo])), needle);
    size_t hi_len = MatchLength(old_.substr(static_cast<size_t>(sa_[hi])), needle);
    *pos = static_cast<size_t>(lo_len >= hi_len ? sa_[lo] : sa_[hi]);
    return std::max(lo_len, hi_len);
  }

 private:
  static constexpr size_t kBuckets = 1 << 16;
  static size_t PrefixAt(std::string_view s, size_t i) {
    size_t hi_byte = static_cast<uint8_t>(s[i]);
    size_t lo_byte = i + 1 < s.size() ? static_cast<uint8_t>(s[i + 1]) : 0;
    return hi_byte << 8 | lo_byte;
  }

  bool Below(size_t i, std::string_view needle) const {
    std::string_view suffix = old_.substr(static_cast<size_t>(sa_[i]));
    return std::memcmp(suffix.data(), needle.data(), std::min(suffix.size(), needle.size())) < 0;
  }

  // How many leading suffixes sort below `needle`.
  size_t Boundary(std::string_view needle) const {
    size_t lo = 0, hi = sa_.size();
    if (needle.size() >= 2) {
      size_t p = PrefixAt(needle, 0);
      lo = start_[p];
      hi = start_[p + 1];
    }
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (Below(mid, needle)) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  std::string_view old_;
  std::vector<saidx_t> sa_;
  GramFilter grams_;
  std::vector<uint32_t> start_;
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
      len = finder.Longest(neu.substr(scan), &pos);
      // At least `scan` itself is scored: a match Longest skipped may still be the alignment's.
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
  unsigned long long n = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > limit) {
    throw Corruption(kWhat, " has a bad stream size");
  }
  return DecompressWithPrefix(frame, {}, n, kWhat);
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

std::string BsdiffApply(std::string_view base, std::string_view payload, uint64_t target_size) {
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
