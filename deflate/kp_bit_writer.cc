// Ported from github.com/klauspost/compress v1.15.12, flate/huffman_bit_writer.go.
#include "deflate/kp_bit_writer.h"

#include <climits>
#include <cstring>

namespace outpost::deflate::kp {
namespace {

constexpr int kCodegenCodeCount = 19;
constexpr uint8_t kBadCode = 255;
constexpr uint32_t kMaxPredefinedTokens = 250;  // below this, a fixed table is considered
constexpr int kGuessHeaderBits = 70 * 8;
constexpr uint8_t kCodegenOrder[kCodegenCodeCount] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                      11, 4,  12, 3, 13, 2, 14, 1, 15};

void PutLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The offset table of literal-only blocks: one (unused) offset code.
const HuffmanEncoder& HuffOffsets() {
  static const HuffmanEncoder enc = [] {
    HuffmanEncoder h;
    std::array<uint16_t, kOffsetCodeCount> freq{};
    freq[0] = 1;
    h.Generate(freq.data(), kOffsetCodeCount, 15);
    return h;
  }();
  return enc;
}

}  // namespace

void HuffmanBitWriter::WriteOutBits() {
  PutLe64(bytes_.data() + nbytes_, bits_);
  bits_ >>= 48;
  nbits_ -= 48;
  nbytes_ += 6;
  if (nbytes_ >= kBufferFlushSize) {
    out_->Write(bytes_.data(), nbytes_);
    nbytes_ = 0;
  }
}

void HuffmanBitWriter::Reset(Writer& out) {
  out_ = &out;
  bits_ = 0;
  nbits_ = 0;
  nbytes_ = 0;
  last_header_ = 0;
  last_huffman_ = false;
}

void HuffmanBitWriter::WriteOwedEob() {
  if (last_header_ > 0) {
    WriteCode(lit_->codes[kEndBlockMarker]);
    last_header_ = 0;
  }
}

void HuffmanBitWriter::Flush() {
  WriteOwedEob();
  while (nbits_ != 0) {
    bytes_[nbytes_++] = static_cast<uint8_t>(bits_);
    bits_ >>= 8;
    nbits_ = nbits_ > 8 ? nbits_ - 8 : 0;
  }
  bits_ = 0;
  if (nbytes_ > 0) out_->Write(bytes_.data(), nbytes_);
  nbytes_ = 0;
}

void HuffmanBitWriter::WriteBytes(const uint8_t* data, size_t n) {
  while (nbits_ != 0) {
    bytes_[nbytes_++] = static_cast<uint8_t>(bits_);
    bits_ >>= 8;
    nbits_ -= 8;
  }
  if (nbytes_ > 0) out_->Write(bytes_.data(), nbytes_);
  nbytes_ = 0;
  if (n > 0) out_->Write(data, n);
}

bool HuffmanBitWriter::CanReuse(const Tokens& t) const {
  for (int i = 0; i < kOffsetCodeCount; ++i) {
    if (t.off_hist[i] != 0 && offset_encoding_.codes[i] == 0) return false;
  }
  for (int i = 0; i < kLiteralCount - 256; ++i) {
    if (t.extra_hist[i] != 0 && lit_->codes[256 + i] == 0) return false;
  }
  for (int i = 0; i < 256; ++i) {
    if (t.lit_hist[i] != 0 && lit_->codes[i] == 0) return false;
  }
  return true;
}

// RFC 1951 3.2.7 run-length coding of the concatenated code lengths into codegen_ (ended by
// kBadCode), counting symbol frequencies in codegen_freq_.
void HuffmanBitWriter::GenerateCodegen(int num_literals, int num_offsets,
                                       const HuffmanEncoder& lit, const HuffmanEncoder& off) {
  codegen_freq_.fill(0);
  uint8_t* cg = codegen_.data();
  for (int i = 0; i < num_literals; ++i) cg[i] = CodeLen(lit.codes[i]);
  for (int i = 0; i < num_offsets; ++i) cg[num_literals + i] = CodeLen(off.codes[i]);
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
      codegen_freq_[size]++;
      --count;
      while (count >= 3) {
        int n = count < 6 ? count : 6;
        cg[out++] = 16;
        cg[out++] = static_cast<uint8_t>(n - 3);
        codegen_freq_[16]++;
        count -= n;
      }
    } else {
      while (count >= 11) {
        int n = count < 138 ? count : 138;
        cg[out++] = 18;
        cg[out++] = static_cast<uint8_t>(n - 11);
        codegen_freq_[18]++;
        count -= n;
      }
      if (count >= 3) {
        cg[out++] = 17;
        cg[out++] = static_cast<uint8_t>(count - 3);
        codegen_freq_[17]++;
        count = 0;
      }
    }
    for (; count > 0; --count) {
      cg[out++] = size;
      codegen_freq_[size]++;
    }
    size = next;
    count = 1;
  }
  cg[out] = kBadCode;
}

int HuffmanBitWriter::Codegens() const {
  int n = kCodegenCodeCount;
  while (n > 4 && codegen_freq_[kCodegenOrder[n - 1]] == 0) --n;
  return n;
}

int HuffmanBitWriter::HeaderSize() const {
  return 3 + 5 + 5 + 4 + 3 * Codegens() +
         codegen_encoding_.BitLength(codegen_freq_.data(), kCodegenCodeCount) +
         codegen_freq_[16] * 2 + codegen_freq_[17] * 3 + codegen_freq_[18] * 7;
}

int HuffmanBitWriter::ExtraBitSize() const {
  int total = 0;
  for (int i = 0; i < kLiteralCount - 257; ++i) {
    total += literal_freq_[257 + i] * kLengthExtraBits[i];
  }
  for (int i = 0; i < kOffsetCodeCount; ++i) total += offset_freq_[i] * kOffsetExtraBits[i];
  return total;
}

int HuffmanBitWriter::TokenBits() const {
  return lit_->BitLength(literal_freq_.data(), static_cast<int>(literal_freq_.size())) +
         offset_encoding_.BitLength(offset_freq_.data(), static_cast<int>(offset_freq_.size()));
}

int HuffmanBitWriter::FixedSize(int extra_bits) const {
  return 3 + HuffmanEncoder::FixedLiterals().BitLength(literal_freq_.data(), kLiteralCount) +
         HuffmanEncoder::FixedOffsets().BitLength(offset_freq_.data(), kOffsetCodeCount) +
         extra_bits;
}

int HuffmanBitWriter::StoredSize(BlockInput in, bool* storable) const {
  *storable = in.data != nullptr && in.size <= static_cast<size_t>(kMaxStoreBlockSize);
  return *storable ? static_cast<int>(in.size + 5) * 8 : 0;
}

void HuffmanBitWriter::WriteDynamicHeader(int num_literals, int num_offsets, int num_codegens,
                                          bool eof) {
  WriteBits(eof ? 5 : 4, 3);
  WriteBits(static_cast<uint64_t>(num_literals - 257), 5);
  WriteBits(static_cast<uint64_t>(num_offsets - 1), 5);
  WriteBits(static_cast<uint64_t>(num_codegens - 4), 4);
  for (int i = 0; i < num_codegens; ++i) {
    WriteBits(CodeLen(codegen_encoding_.codes[kCodegenOrder[i]]), 3);
  }
  for (int i = 0;;) {
    uint8_t word = codegen_[i++];
    if (word == kBadCode) break;
    WriteCode(codegen_encoding_.codes[word]);
    if (word == 16) {
      WriteBits(codegen_[i++], 2);
    } else if (word == 17) {
      WriteBits(codegen_[i++], 3);
    } else if (word == 18) {
      WriteBits(codegen_[i++], 7);
    }
  }
}

void HuffmanBitWriter::WriteStoredHeader(size_t length, bool eof) {
  WriteOwedEob();
  if (length == 0 && eof) {
    // An empty final block is cheaper as a fixed block: 10 bits instead of 5 bytes.
    WriteFixedHeader(true);
    WriteBits(0, 7);
    Flush();
    return;
  }
  WriteBits(eof ? 1 : 0, 3);
  Flush();
  WriteBits(length & 0xffff, 16);
  WriteBits(~length & 0xffff, 16);
}

void HuffmanBitWriter::WriteFixedHeader(bool eof) {
  WriteOwedEob();
  WriteBits(eof ? 3 : 2, 3);
}

void HuffmanBitWriter::WriteStored(BlockInput in, bool eof) {
  WriteStoredHeader(in.size, eof);
  WriteBytes(in.data, in.size);
}

void HuffmanBitWriter::IndexTokens(const Tokens& t, bool filled, int* num_literals,
                                   int* num_offsets) {
  std::memcpy(literal_freq_.data(), t.lit_hist.data(), sizeof(t.lit_hist));
  std::memcpy(literal_freq_.data() + 256, t.extra_hist.data(), sizeof(t.extra_hist));
  offset_freq_ = t.off_hist;
  *num_literals = 0;
  *num_offsets = 0;
  if (t.n == 0) return;
  if (filled) {
    *num_literals = kLiteralCount;
    *num_offsets = kOffsetCodeCount;
    return;
  }
  int nl = static_cast<int>(literal_freq_.size());
  while (literal_freq_[nl - 1] == 0) --nl;
  int no = static_cast<int>(offset_freq_.size());
  while (no > 0 && offset_freq_[no - 1] == 0) --no;
  if (no == 0) {
    // No matches: one offset code anyway, so the offset tree can be coded.
    offset_freq_[0] = 1;
    no = 1;
  }
  *num_literals = nl;
  *num_offsets = no;
}

void HuffmanBitWriter::Generate() {
  lit_->Generate(literal_freq_.data(), kLiteralCount, 15);
  offset_encoding_.Generate(offset_freq_.data(), kOffsetCodeCount, 15);
}

void HuffmanBitWriter::WriteTokens(const Tokens& t, const HuffmanEncoder& lit,
                                   const HuffmanEncoder& off) {
  uint32_t n = t.n;
  if (n == 0) return;
  bool defer_eob = t.tokens[n - 1] == kEndBlockMarker;
  if (defer_eob) --n;
  const HCode* lits = lit.codes.data();
  const HCode* lengths = lit.codes.data() + 257;
  const HCode* offs = off.codes.data();
  uint64_t bits = bits_;
  unsigned nbits = nbits_;
  auto put = [&](uint64_t value, unsigned nb) {
    bits |= value << nbits;
    nbits += nb;
    if (nbits >= 48) {
      PutLe64(bytes_.data() + nbytes_, bits);
      bits >>= 48;
      nbits -= 48;
      nbytes_ += 6;
      if (nbytes_ >= kBufferFlushSize) {
        out_->Write(bytes_.data(), nbytes_);
        nbytes_ = 0;
      }
    }
  };
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t tok = t.tokens[i];
    if (tok < 256) {
      put(CodeBits(lits[tok]), CodeLen(lits[tok]));
      continue;
    }
    uint32_t xlength = (tok >> kLengthShift) & 255;
    uint32_t lcode = kLengthCodes[xlength] & 31u;
    put(CodeBits(lengths[lcode]), CodeLen(lengths[lcode]));
    if (lcode >= 8) put(xlength - kLengthBase[lcode], kLengthExtraBits[lcode]);
    uint32_t offset = tok & kOffsetMask;
    uint32_t ocode = (offset >> 16) & 31;
    put(CodeBits(offs[ocode]), CodeLen(offs[ocode]));
    if (ocode >= 4) {
      put((offset - kOffsetBase[ocode]) & kMatchOffsetOnlyMask, kOffsetExtraBits[ocode]);
    }
  }
  bits_ = bits;
  nbits_ = nbits;
  if (defer_eob) WriteCode(lits[kEndBlockMarker]);
}

void HuffmanBitWriter::WriteFixedTokens(Tokens& tokens, bool sync) {
  if (!sync) tokens.AddEob();
  WriteTokens(tokens, HuffmanEncoder::FixedLiterals(), HuffmanEncoder::FixedOffsets());
}

void HuffmanBitWriter::WriteBlockDynamic(Tokens& tokens, bool eof, BlockInput input, bool sync) {
  sync = sync || eof;
  if (sync) tokens.AddEob();
  // A literal-only table cannot be reused, and a final block must start fresh.
  if ((last_huffman_ || eof) && last_header_ > 0) {
    WriteCode(lit_->codes[kEndBlockMarker]);
    last_header_ = 0;
    last_huffman_ = false;
  }
  if (last_header_ > 0 && !CanReuse(tokens)) {
    WriteCode(lit_->codes[kEndBlockMarker]);
    last_header_ = 0;
  }
  int num_literals = 0;
  int num_offsets = 0;
  IndexTokens(tokens, !sync, &num_literals, &num_offsets);
  bool storable = false;
  int ssize = StoredSize(input, &storable);
  int extra_bits = storable || last_header_ > 0 ? ExtraBitSize() : 0;
  int size = 0;

  if (last_header_ > 0) {
    // Open table: compare reusing it with an estimate of a fresh one.
    int new_size = last_header_ + tokens.EstimatedBits();
    new_size += CodeLen(lit_->codes[kEndBlockMarker]) + (new_size >> log_new_table_penalty_);
    int reuse_size = TokenBits() + extra_bits;
    if (new_size < reuse_size) {
      WriteCode(lit_->codes[kEndBlockMarker]);
      size = new_size;
      last_header_ = 0;
    } else {
      size = reuse_size;
    }
    if (tokens.n < kMaxPredefinedTokens && FixedSize(extra_bits) + 7 < size) {
      if (storable && ssize <= size) return WriteStored(input, eof);
      WriteFixedHeader(eof);
      return WriteFixedTokens(tokens, sync);
    }
    if (storable && ssize <= size) return WriteStored(input, eof);
  }

  if (last_header_ == 0) {
    literal_freq_[kEndBlockMarker] = 1;
    Generate();
    GenerateCodegen(num_literals, num_offsets, *lit_, offset_encoding_);
    codegen_encoding_.Generate(codegen_freq_.data(), kCodegenCodeCount, 7);
    int num_codegens = Codegens();
    size = HeaderSize() + TokenBits() + extra_bits;
    if (tokens.n < kMaxPredefinedTokens) {
      int pre_size = FixedSize(extra_bits);
      if (pre_size <= size) {
        if (storable && ssize <= pre_size) return WriteStored(input, eof);
        WriteFixedHeader(eof);
        return WriteFixedTokens(tokens, sync);
      }
    }
    if (storable && ssize <= size) return WriteStored(input, eof);
    WriteDynamicHeader(num_literals, num_offsets, num_codegens, eof);
    if (!sync) last_header_ = HeaderSize();
    last_huffman_ = false;
  }
  if (sync) last_header_ = 0;
  WriteTokens(tokens, *lit_, offset_encoding_);
}

void HuffmanBitWriter::WriteHuffLiterals(const uint8_t* p, size_t n, const HCode* enc) {
  uint64_t bits = bits_;
  unsigned nbits = nbits_;
  for (size_t i = 0; i < n; ++i) {
    HCode c = enc[p[i]];
    bits |= CodeBits(c) << nbits;
    nbits += CodeLen(c);
    if (nbits >= 48) {
      PutLe64(bytes_.data() + nbytes_, bits);
      bits >>= 48;
      nbits -= 48;
      nbytes_ += 6;
      if (nbytes_ >= kBufferFlushSize) {
        out_->Write(bytes_.data(), nbytes_);
        nbytes_ = 0;
      }
    }
  }
  bits_ = bits;
  nbits_ = nbits;
}

void HuffmanBitWriter::WriteBlockHuff(bool eof, BlockInput input, bool sync) {
  literal_freq_.fill(0);
  if (!last_huffman_) offset_freq_.fill(0);
  constexpr int kNumLiterals = kEndBlockMarker + 1;
  for (size_t i = 0; i < input.size; ++i) literal_freq_[input.data[i]]++;
  bool storable = false;
  int ssize = StoredSize(input, &storable);
  if (storable && input.size > 1024) {
    // Quick test for incompressible data: a flat histogram.
    double abs = 0;
    double avg = static_cast<double>(input.size) / 256;
    double max = static_cast<double>(input.size * 2);
    for (int i = 0; i < 256; ++i) {
      double diff = static_cast<double>(literal_freq_[i]) - avg;
      abs += diff * diff;
      if (abs > max) break;
    }
    if (abs < max) return WriteStored(input, eof);
  }
  literal_freq_[kEndBlockMarker] = 1;
  tmp_->Generate(literal_freq_.data(), kNumLiterals, 15);
  int est_bits = tmp_->CanReuseBits(literal_freq_.data(), kNumLiterals);
  if (est_bits < INT32_MAX) {
    est_bits += last_header_;
    if (last_header_ == 0) est_bits += kGuessHeaderBits;
    est_bits += est_bits >> log_new_table_penalty_;
  }
  if (storable && ssize <= est_bits) return WriteStored(input, eof);

  if (last_header_ > 0) {
    int reuse_size = lit_->CanReuseBits(literal_freq_.data(), 256);
    if (est_bits < reuse_size) {
      WriteCode(lit_->codes[kEndBlockMarker]);
      last_header_ = 0;
    }
  }
  if (last_header_ == 0) {
    std::swap(lit_, tmp_);
    GenerateCodegen(kNumLiterals, 1, *lit_, HuffOffsets());
    codegen_encoding_.Generate(codegen_freq_.data(), kCodegenCodeCount, 7);
    WriteDynamicHeader(kNumLiterals, 1, Codegens(), eof);
    last_huffman_ = true;
    last_header_ = HeaderSize();
  }
  WriteHuffLiterals(input.data, input.size, lit_->codes.data());
  if (eof || sync) {
    WriteCode(lit_->codes[kEndBlockMarker]);
    last_header_ = 0;
    last_huffman_ = false;
  }
}

}  // namespace outpost::deflate::kp
