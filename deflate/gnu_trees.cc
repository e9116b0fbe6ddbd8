#include "deflate/gnu_trees.h"

#include <algorithm>
#include <cstring>

namespace outpost::deflate {
namespace {

constexpr int kMaxBits = 15;
constexpr int kMaxBlBits = 7;
constexpr int kLiterals = 256;
constexpr int kEndBlock = 256;
constexpr int kLengthCodes = 29;
constexpr int kRep3To6 = 16;
constexpr int kRepZero3To10 = 17;
constexpr int kRepZero11To138 = 18;
constexpr int kStoredBlock = 0;
constexpr int kStaticTrees = 1;
constexpr int kDynTrees = 2;

constexpr int kExtraLBits[kLengthCodes] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr int kExtraDBits[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
constexpr int kExtraBlBits[19] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};
constexpr uint8_t kBlOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

uint16_t ReverseBits(unsigned code, int len) {
  unsigned res = 0;
  for (int i = 0; i < len; ++i, code >>= 1) res = (res << 1) | (code & 1);
  return static_cast<uint16_t>(res);
}

// Assigns canonical codes to tree[0..max_code] from their lengths and the per-length counts.
void AssignCodes(GnuTreeNode* tree, int max_code, const uint16_t* bl_count) {
  uint16_t next_code[kMaxBits + 1];
  unsigned code = 0;
  for (int bits = 1; bits <= kMaxBits; ++bits) {
    code = (code + bl_count[bits - 1]) << 1;
    next_code[bits] = static_cast<uint16_t>(code);
  }
  for (int n = 0; n <= max_code; ++n) {
    int len = tree[n].len;
    if (len != 0) tree[n].code = ReverseBits(next_code[len]++, len);
  }
}

// gzip's ct_init tables, built once.
struct StaticTables {
  uint8_t length_code[256];
  uint8_t dist_code[512];
  int base_length[kLengthCodes] = {};
  int base_dist[30] = {};
  GnuTreeNode ltree[288];
  GnuTreeNode dtree[30];

  StaticTables() {
    int length = 0;
    int code = 0;
    for (code = 0; code < kLengthCodes - 1; ++code) {
      base_length[code] = length;
      for (int n = 0; n < (1 << kExtraLBits[code]); ++n) length_code[length++] = uint8_t(code);
    }
    length_code[length - 1] = uint8_t(code);  // length 258 gets code 285, not 284 + 31
    int dist = 0;
    for (code = 0; code < 16; ++code) {
      base_dist[code] = dist;
      for (int n = 0; n < (1 << kExtraDBits[code]); ++n) dist_code[dist++] = uint8_t(code);
    }
    dist >>= 7;
    for (; code < 30; ++code) {
      base_dist[code] = dist << 7;
      for (int n = 0; n < (1 << (kExtraDBits[code] - 7)); ++n) {
        dist_code[256 + dist++] = uint8_t(code);
      }
    }
    uint16_t bl_count[kMaxBits + 1] = {};
    for (int n = 0; n < 288; ++n) {
      ltree[n].len = n < 144 ? 8 : n < 256 ? 9 : n < 280 ? 7 : 8;
      ++bl_count[ltree[n].len];
    }
    AssignCodes(ltree, 287, bl_count);
    for (int n = 0; n < 30; ++n) {
      dtree[n].len = 5;
      dtree[n].code = ReverseBits(unsigned(n), 5);
    }
  }

  int DistCode(unsigned dist) const {
    return dist < 256 ? dist_code[dist] : dist_code[256 + (dist >> 7)];
  }
};

const StaticTables& Tables() {
  static const StaticTables tables;
  return tables;
}

}  // namespace

// ---- GnuBitWriter ----

void GnuBitWriter::SendBits(uint32_t value, int length) {
  bits_ |= uint64_t(value) << nbits_;
  nbits_ += length;
  while (nbits_ >= 8) {
    buf_.push_back(uint8_t(bits_));
    bits_ >>= 8;
    nbits_ -= 8;
  }
  if (buf_.size() >= kBufSize) Flush();
}

void GnuBitWriter::Windup() {
  if (nbits_ > 0) buf_.push_back(uint8_t(bits_));
  bits_ = 0;
  nbits_ = 0;
}

void GnuBitWriter::SendBytes(const uint8_t* data, size_t n) {
  buf_.insert(buf_.end(), data, data + n);
  if (buf_.size() >= kBufSize) Flush();
}

void GnuBitWriter::Flush() {
  if (!buf_.empty()) out_.Write(buf_.data(), buf_.size());
  buf_.clear();
}

// ---- GnuBlockWriter ----

struct GnuBlockWriter::TreeDesc {
  GnuTreeNode* dyn_tree;
  const GnuTreeNode* static_tree;
  const int* extra_bits;
  int extra_base;
  int elems;
  int max_length;
  int max_code;
};

GnuBlockWriter::GnuBlockWriter(int level, GnuBitWriter& bits)
    : level_(level), bits_(bits), l_buf_(kLitBufSize), dist_(kLitBufSize) {
  InitBlock();
}

void GnuBlockWriter::InitBlock() {
  for (int n = 0; n < kLCodes; ++n) dyn_ltree_[n].freq = 0;
  for (int n = 0; n < kDCodes; ++n) dyn_dtree_[n].freq = 0;
  for (int n = 0; n < kBlCodes; ++n) bl_tree_[n].freq = 0;
  dyn_ltree_[kEndBlock].freq = 1;
  opt_len_ = static_len_ = 0;
  last_lit_ = last_dist_ = 0;
}

bool GnuBlockWriter::Tally(unsigned dist, unsigned lc, uint64_t in_length) {
  const StaticTables& t = Tables();
  l_buf_[last_lit_] = uint8_t(lc);
  dist_[last_lit_] = uint16_t(dist);
  ++last_lit_;
  if (dist == 0) {
    ++dyn_ltree_[lc].freq;
  } else {
    ++dyn_ltree_[t.length_code[lc] + kLiterals + 1].freq;
    ++dyn_dtree_[t.DistCode(dist - 1)].freq;
    ++last_dist_;
  }
  // gzip guesses every 4096 symbols whether ending the block here pays off.
  if (level_ > 2 && (last_lit_ & 0xfff) == 0) {
    uint64_t out_length = uint64_t(last_lit_) * 8;
    for (int dcode = 0; dcode < kDCodes; ++dcode) {
      out_length += uint64_t(dyn_dtree_[dcode].freq) * (5 + kExtraDBits[dcode]);
    }
    out_length >>= 3;
    if (last_dist_ < last_lit_ / 2 && out_length < in_length / 2) return true;
  }
  return last_lit_ == kLitBufSize - 1 || last_dist_ == kDistBufSize;
}

bool GnuBlockWriter::Smaller(const GnuTreeNode* tree, int n, int m) const {
  return tree[n].freq < tree[m].freq || (tree[n].freq == tree[m].freq && depth_[n] <= depth_[m]);
}

void GnuBlockWriter::PqDownHeap(const GnuTreeNode* tree, int k) {
  int v = heap_[k];
  int j = k << 1;
  while (j <= heap_len_) {
    if (j < heap_len_ && Smaller(tree, heap_[j + 1], heap_[j])) ++j;
    if (Smaller(tree, v, heap_[j])) break;
    heap_[k] = heap_[j];
    k = j;
    j <<= 1;
  }
  heap_[k] = v;
}

void GnuBlockWriter::BuildTree(TreeDesc& desc) {
  GnuTreeNode* tree = desc.dyn_tree;
  const GnuTreeNode* stree = desc.static_tree;
  int max_code = -1;
  int node = desc.elems;
  heap_len_ = 0;
  heap_max_ = kHeapSize;
  for (int n = 0; n < desc.elems; ++n) {
    if (tree[n].freq != 0) {
      heap_[++heap_len_] = max_code = n;
      depth_[n] = 0;
    } else {
      tree[n].len = 0;
    }
  }
  // Deflate needs at least two codes of non-zero frequency: force them as gzip does.
  while (heap_len_ < 2) {
    int added = heap_[++heap_len_] = (max_code < 2 ? ++max_code : 0);
    tree[added].freq = 1;
    depth_[added] = 0;
    --opt_len_;
    if (stree != nullptr) static_len_ -= stree[added].len;
  }
  desc.max_code = max_code;
  for (int n = heap_len_ / 2; n >= 1; --n) PqDownHeap(tree, n);
  do {
    int n = heap_[1];
    heap_[1] = heap_[heap_len_--];
    PqDownHeap(tree, 1);
    int m = heap_[1];
    heap_[--heap_max_] = n;
    heap_[--heap_max_] = m;
    tree[node].freq = uint16_t(tree[n].freq + tree[m].freq);
    depth_[node] = uint8_t(std::max(depth_[n], depth_[m]) + 1);
    tree[n].dad = tree[m].dad = uint16_t(node);
    heap_[1] = node++;
    PqDownHeap(tree, 1);
  } while (heap_len_ >= 2);
  heap_[--heap_max_] = heap_[1];
  GenBitLen(desc);
  GenCodes(tree, max_code);
}

void GnuBlockWriter::GenBitLen(TreeDesc& desc) {
  GnuTreeNode* tree = desc.dyn_tree;
  const GnuTreeNode* stree = desc.static_tree;
  const int max_length = desc.max_length;
  int overflow = 0;
  bl_count_.fill(0);
  tree[heap_[heap_max_]].len = 0;  // the root
  int h;
  for (h = heap_max_ + 1; h < kHeapSize; ++h) {
    int n = heap_[h];
    int bits = tree[tree[n].dad].len + 1;
    if (bits > max_length) bits = max_length, ++overflow;
    tree[n].len = uint16_t(bits);
    if (n > desc.max_code) continue;  // not a leaf
    ++bl_count_[bits];
    int xbits = n >= desc.extra_base ? desc.extra_bits[n - desc.extra_base] : 0;
    uint64_t f = tree[n].freq;
    opt_len_ += f * uint64_t(bits + xbits);
    if (stree != nullptr) static_len_ += f * uint64_t(stree[n].len + xbits);
  }
  if (overflow == 0) return;
  // Move overflowing leaves up as gzip does: find the deepest non-full level each time.
  do {
    int bits = max_length - 1;
    while (bl_count_[bits] == 0) --bits;
    --bl_count_[bits];
    bl_count_[bits + 1] += 2;
    --bl_count_[max_length];
    overflow -= 2;
  } while (overflow > 0);
  // Reassign lengths to the leaves in heap order (which is by frequency).
  for (int bits = max_length; bits != 0; --bits) {
    int n = bl_count_[bits];
    while (n != 0) {
      int m = heap_[--h];
      if (m > desc.max_code) continue;
      if (tree[m].len != bits) {
        opt_len_ += uint64_t(int64_t(bits) - tree[m].len) * tree[m].freq;
        tree[m].len = uint16_t(bits);
      }
      --n;
    }
  }
}

void GnuBlockWriter::GenCodes(GnuTreeNode* tree, int max_code) {
  AssignCodes(tree, max_code, bl_count_.data());
}

void GnuBlockWriter::ScanTree(GnuTreeNode* tree, int max_code) {
  int prevlen = -1;
  int nextlen = tree[0].len;
  int count = 0;
  int max_count = 7;
  int min_count = 4;
  if (nextlen == 0) max_count = 138, min_count = 3;
  tree[max_code + 1].len = 0xffff;  // guard
  for (int n = 0; n <= max_code; ++n) {
    int curlen = nextlen;
    nextlen = tree[n + 1].len;
    if (++count < max_count && curlen == nextlen) continue;
    if (count < min_count) {
      bl_tree_[curlen].freq = uint16_t(bl_tree_[curlen].freq + count);
    } else if (curlen != 0) {
      if (curlen != prevlen) ++bl_tree_[curlen].freq;
      ++bl_tree_[kRep3To6].freq;
    } else if (count <= 10) {
      ++bl_tree_[kRepZero3To10].freq;
    } else {
      ++bl_tree_[kRepZero11To138].freq;
    }
    count = 0;
    prevlen = curlen;
    if (nextlen == 0) {
      max_count = 138, min_count = 3;
    } else if (curlen == nextlen) {
      max_count = 6, min_count = 3;
    } else {
      max_count = 7, min_count = 4;
    }
  }
}

void GnuBlockWriter::SendTree(const GnuTreeNode* tree, int max_code) {
  int prevlen = -1;
  int nextlen = tree[0].len;
  int count = 0;
  int max_count = 7;
  int min_count = 4;
  if (nextlen == 0) max_count = 138, min_count = 3;
  for (int n = 0; n <= max_code; ++n) {
    int curlen = nextlen;
    nextlen = tree[n + 1].len;  // the guard ScanTree set ends the last run
    if (++count < max_count && curlen == nextlen) continue;
    if (count < min_count) {
      do SendCode(curlen, bl_tree_.data());
      while (--count != 0);
    } else if (curlen != 0) {
      if (curlen != prevlen) {
        SendCode(curlen, bl_tree_.data());
        --count;
      }
      SendCode(kRep3To6, bl_tree_.data());
      bits_.SendBits(uint32_t(count - 3), 2);
    } else if (count <= 10) {
      SendCode(kRepZero3To10, bl_tree_.data());
      bits_.SendBits(uint32_t(count - 3), 3);
    } else {
      SendCode(kRepZero11To138, bl_tree_.data());
      bits_.SendBits(uint32_t(count - 11), 7);
    }
    count = 0;
    prevlen = curlen;
    if (nextlen == 0) {
      max_count = 138, min_count = 3;
    } else if (curlen == nextlen) {
      max_count = 6, min_count = 3;
    } else {
      max_count = 7, min_count = 4;
    }
  }
}

int GnuBlockWriter::BuildBlTree() {
  ScanTree(dyn_ltree_.data(), l_max_code_);
  ScanTree(dyn_dtree_.data(), d_max_code_);
  TreeDesc bl{bl_tree_.data(), nullptr, kExtraBlBits, 0, kBlCodes, kMaxBlBits, 0};
  BuildTree(bl);
  int max_blindex;
  for (max_blindex = kBlCodes - 1; max_blindex >= 3; --max_blindex) {
    if (bl_tree_[kBlOrder[max_blindex]].len != 0) break;
  }
  opt_len_ += 3 * uint64_t(max_blindex + 1) + 5 + 5 + 4;
  return max_blindex;
}

void GnuBlockWriter::SendAllTrees(int lcodes, int dcodes, int blcodes) {
  bits_.SendBits(uint32_t(lcodes - 257), 5);
  bits_.SendBits(uint32_t(dcodes - 1), 5);
  bits_.SendBits(uint32_t(blcodes - 4), 4);
  for (int rank = 0; rank < blcodes; ++rank) bits_.SendBits(bl_tree_[kBlOrder[rank]].len, 3);
  SendTree(dyn_ltree_.data(), lcodes - 1);
  SendTree(dyn_dtree_.data(), dcodes - 1);
}

void GnuBlockWriter::CompressBlock(const GnuTreeNode* ltree, const GnuTreeNode* dtree) {
  const StaticTables& t = Tables();
  for (unsigned i = 0; i < last_lit_; ++i) {
    unsigned lc = l_buf_[i];
    unsigned dist = dist_[i];
    if (dist == 0) {
      SendCode(int(lc), ltree);
      continue;
    }
    int code = t.length_code[lc];
    SendCode(code + kLiterals + 1, ltree);
    if (kExtraLBits[code] != 0) {
      bits_.SendBits(lc - unsigned(t.base_length[code]), kExtraLBits[code]);
    }
    --dist;
    code = t.DistCode(dist);
    SendCode(code, dtree);
    if (kExtraDBits[code] != 0) {
      bits_.SendBits(dist - unsigned(t.base_dist[code]), kExtraDBits[code]);
    }
  }
  SendCode(kEndBlock, ltree);
}

void GnuBlockWriter::FlushBlock(const uint8_t* stored, uint64_t stored_len, bool eof) {
  const StaticTables& t = Tables();
  TreeDesc l{dyn_ltree_.data(), t.ltree, kExtraLBits, kLiterals + 1, kLCodes, kMaxBits, 0};
  TreeDesc d{dyn_dtree_.data(), t.dtree, kExtraDBits, 0, kDCodes, kMaxBits, 0};
  BuildTree(l);
  BuildTree(d);
  l_max_code_ = l.max_code;
  d_max_code_ = d.max_code;
  int max_blindex = BuildBlTree();
  uint64_t opt_lenb = (opt_len_ + 3 + 7) >> 3;
  uint64_t static_lenb = (static_len_ + 3 + 7) >> 3;
  if (static_lenb <= opt_lenb) opt_lenb = static_lenb;
  // (gzip's whole-file "stored" method needs a seekable output, which gzip never has.)
  if (stored_len + 4 <= opt_lenb && stored != nullptr) {
    bits_.SendBits((kStoredBlock << 1) + unsigned(eof), 3);
    bits_.Windup();
    uint16_t len = uint16_t(stored_len);
    uint8_t header[4] = {uint8_t(len), uint8_t(len >> 8), uint8_t(~len), uint8_t(~len >> 8)};
    bits_.SendBytes(header, 4);
    bits_.SendBytes(stored, size_t(stored_len));
  } else if (static_lenb == opt_lenb) {
    bits_.SendBits((kStaticTrees << 1) + unsigned(eof), 3);
    CompressBlock(t.ltree, t.dtree);
  } else {
    bits_.SendBits((kDynTrees << 1) + unsigned(eof), 3);
    SendAllTrees(l.max_code + 1, d.max_code + 1, max_blindex + 1);
    CompressBlock(dyn_ltree_.data(), dyn_dtree_.data());
  }
  InitBlock();
  if (eof) bits_.Windup();
}

}  // namespace outpost::deflate
