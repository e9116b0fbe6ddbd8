#include "deflate/go_huffman.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>

namespace outpost::deflate::go_internal {
namespace {

// RFC 1951 section 3.2.5, indexed by length code - 257 and by distance code.
constexpr std::array<uint8_t, 29> kLengthExtraBits = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
// Go's lengthBase: length - 3 at the start of each code (the last, 258, stands alone).
constexpr std::array<uint32_t, 29> kLengthBase = {0,  1,  2,  3,  4,  5,  6,   7,   8,   10,
                                                  12, 14, 16, 20, 24, 28, 32,  40,  48,  56,
                                                  64, 80, 96, 112, 128, 160, 192, 224, 255};
constexpr std::array<uint8_t, 30> kOffsetExtraBits = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,
                                                      4, 4, 5, 5, 6, 6, 7, 7,  8,  8,
                                                      9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// distance - 1 at the start of each code.
constexpr std::array<uint32_t, 30> kOffsetBase = {
    0,     1,     2,     3,     4,     6,     8,     12,    16,    24,
    32,    48,    64,    96,    128,   192,   256,   384,   512,   768,
    1024,  1536,  2048,  3072,  4096,  6144,  8192,  12288, 16384, 24576};
constexpr std::array<uint8_t, kNumCodegens> kCodegenOrder = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                             11, 4,  12, 3, 13, 2, 14, 1, 15};
constexpr int kEndBlock = 256;
constexpr int kLengthCodesStart = 257;
constexpr uint8_t kBadCode = 255;

// Largest index i with base[i] <= v, for every v below 256.
template <size_t N>
constexpr std::array<uint8_t, 256> CodeTable(const std::array<uint32_t, N>& base) {
  std::array<uint8_t, 256> table{};
  size_t code = 0;
  for (uint32_t v = 0; v < 256; ++v) {
    while (code + 1 < N && base[code + 1] <= v) ++code;
    table[v] = static_cast<uint8_t>(code);
  }
  return table;
}
constexpr std::array<uint8_t, 256> kLengthCode = CodeTable(kLengthBase);
constexpr std::array<uint8_t, 256> kOffsetCodeSmall = CodeTable(kOffsetBase);

inline uint32_t LengthCode(uint32_t xlength) { return kLengthCode[xlength]; }
inline uint32_t OffsetCode(uint32_t xoffset) {
  if (xoffset < 256) return kOffsetCodeSmall[xoffset];
  return kOffsetCodeSmall[xoffset >> 7] + 14;  // distances are at most 32768
}

uint16_t ReverseBits(uint16_t code, int len) {
  uint16_t out = 0;
  for (int i = 0; i < len; ++i) out = static_cast<uint16_t>(out << 1 | ((code >> i) & 1));
  return out;
}

HuffmanEncoder MakeFixedLiteralEncoding() {
  HuffmanEncoder h(kNumLiterals);
  for (int ch = 0; ch < kNumLiterals; ++ch) {
    int bits, len;
    if (ch < 144) {
      bits = ch + 48, len = 8;
    } else if (ch < 256) {
      bits = ch + 400 - 144, len = 9;
    } else if (ch < 280) {
      bits = ch - 256, len = 7;
    } else {
      bits = ch + 192 - 280, len = 8;
    }
    h.SetCode(ch, {ReverseBits(static_cast<uint16_t>(bits), len), static_cast<uint16_t>(len)});
  }
  return h;
}

HuffmanEncoder MakeFixedOffsetEncoding() {
  HuffmanEncoder h(kNumOffsets);
  for (int ch = 0; ch < kNumOffsets; ++ch) {
    h.SetCode(ch, {ReverseBits(static_cast<uint16_t>(ch), 5), 5});
  }
  return h;
}

// The distance code Go uses for literal-only blocks: one symbol (0) of length 1.
HuffmanEncoder MakeHuffOffset() {
  std::array<int32_t, kNumOffsets> freq{};
  freq[0] = 1;
  HuffmanEncoder h(kNumOffsets);
  h.Generate(freq.data(), 15);
  return h;
}

const HuffmanEncoder kFixedLiteral = MakeFixedLiteralEncoding();
const HuffmanEncoder kFixedOffset = MakeFixedOffsetEncoding();
const HuffmanEncoder kHuffOffset = MakeHuffOffset();

void StoreLE64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

}  // namespace

// ---- HuffmanEncoder ---------------------------------------------------------------------------

HuffmanEncoder::HuffmanEncoder(int size) : codes_(size), nodes_(kNumLiterals + 1) {}

int HuffmanEncoder::BitLength(const int32_t* freq) const {
  int total = 0;
  for (size_t i = 0; i < codes_.size(); ++i) total += freq[i] * codes_[i].len;
  return total;
}

void HuffmanEncoder::Generate(const int32_t* freq, int max_bits) {
  int count = 0;
  for (int i = 0; i < size(); ++i) {
    if (freq[i] != 0) {
      nodes_[count++] = {static_cast<uint16_t>(i), freq[i]};
    } else {
      codes_[i].len = 0;
    }
  }
  if (count <= 2) {
    for (int i = 0; i < count; ++i) codes_[nodes_[i].literal] = {static_cast<uint16_t>(i), 1};
    return;
  }
  std::sort(nodes_.begin(), nodes_.begin() + count, [](const Node& a, const Node& b) {
    return a.freq != b.freq ? a.freq < b.freq : a.literal < b.literal;
  });
  max_bits = std::min(max_bits, count - 1);
  BitCounts(count, max_bits);
  AssignCodes(count, max_bits);
}

// Go's package-merge variant: for each code length, how many symbols get it, over nodes_[0, n)
// sorted by increasing frequency. Fills bit_count_[1..max_bits].
void HuffmanEncoder::BitCounts(int n, int max_bits) {
  struct Level {
    int32_t level, last_freq, next_char_freq, next_pair_freq, needed;
  };
  constexpr int kLimit = 16;
  nodes_[n] = {UINT16_MAX, INT32_MAX};
  Level levels[kLimit] = {};
  int32_t leaf_counts[kLimit][kLimit] = {};
  for (int level = 1; level <= max_bits; ++level) {
    levels[level] = {level, nodes_[1].freq, nodes_[2].freq, nodes_[0].freq + nodes_[1].freq, 0};
    leaf_counts[level][level] = 2;
    if (level == 1) levels[level].next_pair_freq = INT32_MAX;
  }
  levels[max_bits].needed = 2 * n - 4;
  int level = max_bits;
  for (;;) {
    Level& l = levels[level];
    if (l.next_pair_freq == INT32_MAX && l.next_char_freq == INT32_MAX) {
      l.needed = 0;
      levels[level + 1].next_pair_freq = INT32_MAX;
      ++level;
      continue;
    }
    int32_t prev_freq = l.last_freq;
    if (l.next_char_freq < l.next_pair_freq) {
      int32_t next = leaf_counts[level][level] + 1;
      l.last_freq = l.next_char_freq;
      leaf_counts[level][level] = next;
      l.next_char_freq = nodes_[next].freq;
    } else {
      l.last_freq = l.next_pair_freq;
      std::copy(leaf_counts[level - 1], leaf_counts[level - 1] + level, leaf_counts[level]);
      levels[l.level - 1].needed = 2;
    }
    if (--l.needed == 0) {
      if (l.level == max_bits) break;
      levels[l.level + 1].next_pair_freq = prev_freq + l.last_freq;
      ++level;
    } else {
      while (levels[level - 1].needed > 0) --level;
    }
  }
  int bits = 1;
  for (int lv = max_bits; lv > 0; --lv) {
    bit_count_[bits++] = leaf_counts[max_bits][lv] - leaf_counts[max_bits][lv - 1];
  }
}

// Canonical codes: the rarest symbols get the longest codes; within one length, codes go up
// with the symbol value.
void HuffmanEncoder::AssignCodes(int n, int max_bits) {
  uint16_t code = 0;
  int end = n;
  for (int len = 0; len <= max_bits; ++len) {
    code = static_cast<uint16_t>(code << 1);
    int count = bit_count_[len];
    if (len == 0 || count == 0) continue;
    auto first = nodes_.begin() + (end - count);
    std::sort(first, nodes_.begin() + end,
              [](const Node& a, const Node& b) { return a.literal < b.literal; });
    for (auto it = first; it != nodes_.begin() + end; ++it) {
      codes_[it->literal] = {ReverseBits(code, len), static_cast<uint16_t>(len)};
      ++code;
    }
    end -= count;
  }
}

// ---- BitWriter --------------------------------------------------------------------------------

namespace {
constexpr size_t kBitBufferSize = 64 << 10;  // bytes held before they go to the Writer
}

BitWriter::BitWriter(Writer& out) : out_(out), buf_(kBitBufferSize + 16) {}

void BitWriter::Spill() {
  StoreLE64(buf_.data() + used_, bits_);
  used_ += 6;
  bits_ >>= 48;
  nbits_ -= 48;
  if (used_ >= kBitBufferSize) Drain();
}

void BitWriter::AlignToByte() {
  while (nbits_ > 0) {
    buf_[used_++] = static_cast<uint8_t>(bits_);
    bits_ >>= 8;
    nbits_ = nbits_ > 8 ? nbits_ - 8 : 0;
  }
  bits_ = 0;
  if (used_ >= kBitBufferSize) Drain();
}

void BitWriter::WriteBytes(const uint8_t* data, size_t n) {
  AlignToByte();
  Drain();
  if (n > 0) out_.Write(data, n);
}

void BitWriter::Drain() {
  if (used_ > 0) out_.Write(buf_.data(), used_);
  used_ = 0;
}

// ---- BlockWriter ------------------------------------------------------------------------------

BlockWriter::BlockWriter(Writer& out) : bits_(out) {}

void BlockWriter::Flush() {
  bits_.AlignToByte();
  bits_.Drain();
}

void BlockWriter::WriteStoredHeader(size_t length, bool eof) {
  bits_.WriteBits(eof ? 1 : 0, 3);
  bits_.AlignToByte();
  bits_.WriteBits(static_cast<uint32_t>(length), 16);
  bits_.WriteBits(static_cast<uint16_t>(~length), 16);
}

void BlockWriter::WriteStoredBlock(const uint8_t* input, size_t n) {
  WriteStoredHeader(n, false);
  bits_.WriteBytes(input, n);
}

// Go sizes a stored block as (len + 5) * 8 bits and never stores more than 65535 bytes.
static bool StoredSize(const uint8_t* input, size_t n, int* size) {
  if (input == nullptr || n > kMaxStoredBlock) return false;
  *size = static_cast<int>(n + 5) * 8;
  return true;
}

void BlockWriter::WriteBlock(const Token* tokens, size_t n, bool eof, const uint8_t* input,
                             size_t input_len) {
  int num_literals, num_offsets;
  IndexTokens(tokens, n, &num_literals, &num_offsets);
  int stored_size = 0;
  bool storable = StoredSize(input, input_len, &stored_size);
  int extra_bits = 0;
  if (storable) {
    for (int c = kLengthCodesStart + 8; c < num_literals; ++c) {
      extra_bits += literal_freq_[c] * kLengthExtraBits[c - kLengthCodesStart];
    }
    for (int c = 4; c < num_offsets; ++c) extra_bits += offset_freq_[c] * kOffsetExtraBits[c];
  }
  const HuffmanEncoder* lit = &kFixedLiteral;
  const HuffmanEncoder* off = &kFixedOffset;
  int size = FixedSize(extra_bits);
  GenerateCodegen(num_literals, num_offsets, literal_encoding_, offset_encoding_);
  codegen_encoding_.Generate(codegen_freq_.data(), 7);
  int num_codegens;
  int dynamic_size = DynamicSize(literal_encoding_, offset_encoding_, extra_bits, &num_codegens);
  if (dynamic_size < size) {
    size = dynamic_size;
    lit = &literal_encoding_;
    off = &offset_encoding_;
  }
  if (storable && stored_size < size) {
    WriteStoredHeader(input_len, eof);
    bits_.WriteBytes(input, input_len);
    return;
  }
  if (lit == &kFixedLiteral) {
    bits_.WriteBits(eof ? 3 : 2, 3);
  } else {
    WriteDynamicHeader(num_literals, num_offsets, num_codegens, eof);
  }
  WriteTokens(tokens, n, lit->codes(), off->codes());
}

void BlockWriter::WriteBlockDynamic(const Token* tokens, size_t n, bool eof, const uint8_t* input,
                                    size_t input_len) {
  int num_literals, num_offsets;
  IndexTokens(tokens, n, &num_literals, &num_offsets);
  GenerateCodegen(num_literals, num_offsets, literal_encoding_, offset_encoding_);
  codegen_encoding_.Generate(codegen_freq_.data(), 7);
  int num_codegens;
  int size = DynamicSize(literal_encoding_, offset_encoding_, 0, &num_codegens);
  int stored_size;
  if (StoredSize(input, input_len, &stored_size) && stored_size < size + (size >> 4)) {
    WriteStoredHeader(input_len, eof);
    bits_.WriteBytes(input, input_len);
    return;
  }
  WriteDynamicHeader(num_literals, num_offsets, num_codegens, eof);
  WriteTokens(tokens, n, literal_encoding_.codes(), offset_encoding_.codes());
}

void BlockWriter::WriteBlockHuff(bool eof, const uint8_t* input, size_t n) {
  literal_freq_.fill(0);
  for (size_t i = 0; i < n; ++i) ++literal_freq_[input[i]];
  literal_freq_[kEndBlock] = 1;
  constexpr int kLiterals = kEndBlock + 1;
  offset_freq_[0] = 1;  // the other entries do not count: kHuffOffset gives them length 0
  literal_encoding_.Generate(literal_freq_.data(), 15);
  GenerateCodegen(kLiterals, 1, literal_encoding_, kHuffOffset);
  codegen_encoding_.Generate(codegen_freq_.data(), 7);
  int num_codegens;
  int size = DynamicSize(literal_encoding_, kHuffOffset, 0, &num_codegens);
  int stored_size;
  if (StoredSize(input, n, &stored_size) && stored_size < size + (size >> 4)) {
    WriteStoredHeader(n, eof);
    bits_.WriteBytes(input, n);
    return;
  }
  WriteDynamicHeader(kLiterals, 1, num_codegens, eof);
  const HuffCode* codes = literal_encoding_.codes();
  for (size_t i = 0; i < n; ++i) bits_.WriteCode(codes[input[i]]);
  bits_.WriteCode(codes[kEndBlock]);
}

void BlockWriter::IndexTokens(const Token* tokens, size_t n, int* num_literals,
                              int* num_offsets) {
  literal_freq_.fill(0);
  offset_freq_.fill(0);
  for (size_t i = 0; i < n; ++i) {
    Token t = tokens[i];
    if (t < kMatchType) {
      ++literal_freq_[t];
      continue;
    }
    ++literal_freq_[kLengthCodesStart + LengthCode((t - kMatchType) >> 22)];
    ++offset_freq_[OffsetCode(t & ((1u << 22) - 1))];
  }
  ++literal_freq_[kEndBlock];
  int nl = kNumLiterals;
  while (literal_freq_[nl - 1] == 0) --nl;
  int no = kNumOffsets;
  while (no > 0 && offset_freq_[no - 1] == 0) --no;
  if (no == 0) {
    offset_freq_[0] = 1;
    no = 1;
  }
  literal_encoding_.Generate(literal_freq_.data(), 15);
  offset_encoding_.Generate(offset_freq_.data(), 15);
  *num_literals = nl;
  *num_offsets = no;
}

// Run-length codes the code lengths of both alphabets into codegen_ (symbol, then the extra
// value after each 16/17/18), ended by kBadCode, and counts each symbol in codegen_freq_.
void BlockWriter::GenerateCodegen(int num_literals, int num_offsets, const HuffmanEncoder& lit,
                                  const HuffmanEncoder& off) {
  codegen_freq_.fill(0);
  uint8_t* cg = codegen_.data();
  for (int i = 0; i < num_literals; ++i) cg[i] = static_cast<uint8_t>(lit.codes()[i].len);
  for (int i = 0; i < num_offsets; ++i) {
    cg[num_literals + i] = static_cast<uint8_t>(off.codes()[i].len);
  }
  cg[num_literals + num_offsets] = kBadCode;
  uint8_t size = cg[0];
  int count = 1;
  int out = 0;
  for (int in = 1; size != kBadCode; ++in) {
    uint8_t next = cg[in];
    if (next == size) {
      ++count;
      continue;
    }
    if (size != 0) {
      cg[out++] = size;
      ++codegen_freq_[size];
      --count;
      while (count >= 3) {
        int run = std::min(count, 6);
        cg[out++] = 16;
        cg[out++] = static_cast<uint8_t>(run - 3);
        ++codegen_freq_[16];
        count -= run;
      }
    } else {
      while (count >= 11) {
        int run = std::min(count, 138);
        cg[out++] = 18;
        cg[out++] = static_cast<uint8_t>(run - 11);
        ++codegen_freq_[18];
        count -= run;
      }
      if (count >= 3) {
        cg[out++] = 17;
        cg[out++] = static_cast<uint8_t>(count - 3);
        ++codegen_freq_[17];
        count = 0;
      }
    }
    for (; count > 0; --count) {
      cg[out++] = size;
      ++codegen_freq_[size];
    }
    size = next;
    count = 1;
  }
  cg[out] = kBadCode;
}

int BlockWriter::DynamicSize(const HuffmanEncoder& lit, const HuffmanEncoder& off,
                             int extra_bits, int* num_codegens) const {
  int nc = kNumCodegens;
  while (nc > 4 && codegen_freq_[kCodegenOrder[nc - 1]] == 0) --nc;
  *num_codegens = nc;
  int header = 3 + 5 + 5 + 4 + 3 * nc + codegen_encoding_.BitLength(codegen_freq_.data()) +
               codegen_freq_[16] * 2 + codegen_freq_[17] * 3 + codegen_freq_[18] * 7;
  return header + lit.BitLength(literal_freq_.data()) + off.BitLength(offset_freq_.data()) +
         extra_bits;
}

int BlockWriter::FixedSize(int extra_bits) const {
  return 3 + kFixedLiteral.BitLength(literal_freq_.data()) +
         kFixedOffset.BitLength(offset_freq_.data()) + extra_bits;
}

void BlockWriter::WriteDynamicHeader(int num_literals, int num_offsets, int num_codegens,
                                     bool eof) {
  bits_.WriteBits(eof ? 5 : 4, 3);
  bits_.WriteBits(num_literals - 257, 5);
  bits_.WriteBits(num_offsets - 1, 5);
  bits_.WriteBits(num_codegens - 4, 4);
  const HuffCode* cg_codes = codegen_encoding_.codes();
  for (int i = 0; i < num_codegens; ++i) bits_.WriteBits(cg_codes[kCodegenOrder[i]].len, 3);
  for (int i = 0;;) {
    uint8_t symbol = codegen_[i++];
    if (symbol == kBadCode) break;
    bits_.WriteCode(cg_codes[symbol]);
    if (symbol == 16) {
      bits_.WriteBits(codegen_[i++], 2);
    } else if (symbol == 17) {
      bits_.WriteBits(codegen_[i++], 3);
    } else if (symbol == 18) {
      bits_.WriteBits(codegen_[i++], 7);
    }
  }
}

void BlockWriter::WriteTokens(const Token* tokens, size_t n, const HuffCode* lit,
                              const HuffCode* off) {
  for (size_t i = 0; i < n; ++i) {
    Token t = tokens[i];
    if (t < kMatchType) {
      bits_.WriteCode(lit[t]);
      continue;
    }
    uint32_t xlength = (t - kMatchType) >> 22;
    uint32_t lcode = LengthCode(xlength);
    bits_.WriteCode(lit[lcode + kLengthCodesStart]);
    if (kLengthExtraBits[lcode] > 0) {
      bits_.WriteBits(xlength - kLengthBase[lcode], kLengthExtraBits[lcode]);
    }
    uint32_t xoffset = t & ((1u << 22) - 1);
    uint32_t ocode = OffsetCode(xoffset);
    bits_.WriteCode(off[ocode]);
    if (kOffsetExtraBits[ocode] > 0) {
      bits_.WriteBits(xoffset - kOffsetBase[ocode], kOffsetExtraBits[ocode]);
    }
  }
  bits_.WriteCode(lit[kEndBlock]);
}

}  // namespace outpost::deflate::go_internal
