// The delta container's versions (docs/layer-delta-format.md): version 1 deltas written by older
// outposts still apply, version 2 segments that lie are Corruption, and what version 2 adds
// (segments, split bsdiff streams, mtimes per kind, a frame sized to its content) round trips.
#include <gtest/gtest.h>
#include <zstd.h>

#include "common/error.h"
#include "delta/bsdiff.h"
#include "delta/format.h"
#include "delta/header_op.h"
#include "delta/layer_delta.h"
#include "delta/test_util.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

using std::string_literals::operator""s;
using testing::ApplyLayer;
using testing::ApplyRawError;
using testing::DeltaContainer;
using testing::RandomBytes;
using testing::StringRandomAccess;
using testing::TarEnd;
using testing::TarFile;
using testing::TarHeader;
using testing::TextBytes;

constexpr uint8_t kLayer = 1, kRaw = 2;

std::string Bytewise(std::string_view target, std::string_view base) {
  std::string x(target);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<char>(x[i] - base[i]);
  return x;
}

std::string EndOp(const std::string& target) {
  std::string op = "\x00"s;
  PutVarint(&op, target.size());
  PutDigest(&op, Digest::Of(target));
  return op;
}

// Every op of version 1 that carries bytes, with its bytes inline as version 1 has them: ADD,
// BSDIFF (raw mode), LITERAL, HEADER (differences, checksum, content), COPY, END.
TEST(DeltaFormat, Version1LayerDeltaStillApplies) {
  std::string old_text = TextBytes(3000, 1), new_text = old_text;
  new_text.replace(1000, 10, "a new line of text\n");
  std::string blob = RandomBytes(1000, 2);
  std::string base = TarFile("a.txt", old_text) + TarFile("b.bin", blob) + TarEnd();
  std::string target = TarFile("a.txt", new_text, 1800000000) + TarFile("b.bin", blob, 1800000000) +
                       TarEnd();
  size_t b_base = 512 + 3072, b_target = 512 + (new_text.size() + 511) / 512 * 512;
  ASSERT_NE(new_text.size() % 512, 0u);
  std::string ops = "\x03\x00"s;  // ADD at 0: a.txt's header
  PutVarint(&ops, 512);
  ops += Bytewise(target.substr(0, 512), base.substr(0, 512));
  std::string payload = BsdiffPackRaw(BsdiffDiff(old_text, new_text));
  ops += "\x05\x00"s;  // BSDIFF of a.txt's content against the base's, right after the header
  for (uint64_t field : {old_text.size(), new_text.size(), payload.size()}) PutVarint(&ops, field);
  ops += payload;
  size_t pad = b_target - 512 - new_text.size();
  ops += "\x01"s;  // LITERAL: a.txt's padding
  PutVarint(&ops, pad);
  ops += std::string(pad, '\0');
  // HEADER (DIFF, CHECKSUM, CONTENT) of b.bin, 72 base bytes further on (a.txt's base padding).
  ops += "\x08\x0d"s;
  PutSignedVarint(&ops, static_cast<int64_t>(b_base - (512 + old_text.size())));
  PutVarint(&ops, 1);
  std::string x = Bytewise(target.substr(b_target, 512), base.substr(b_base, 512));
  std::fill_n(x.begin() + header_op::kChecksumOffset, header_op::kChecksumBytes, '\0');
  ops += x;
  ops += "\x02\x00"s;  // COPY: b.bin's padding and the end of the archive
  PutVarint(&ops, base.size() - b_base - 512 - blob.size());
  ops += EndOp(target);
  EXPECT_EQ(ApplyLayer(base, DeltaContainer(base, ops, 1, kLayer)), target);
}

TEST(DeltaFormat, SplitBsdiffOpIsUnknownInVersion1) {
  std::string base = TextBytes(1000, 3);
  std::string ops = "\x09\x00\x80\x01\x01\x00\x00\x01"s;
  EXPECT_EQ(ApplyRawError(base, DeltaContainer(base, ops, 1, kRaw)), Error::Kind::kCorruption);
}

TEST(DeltaFormat, MtimeSlotsSeparateDirectoriesOnlyInVersion2) {
  std::string dir = TarHeader("usr/", 0, '5'), file = TarHeader("usr/a", 10);
  EXPECT_EQ(header_op::MtimeSlot(dir, 1), 0u);
  EXPECT_EQ(header_op::MtimeSlot(dir, 2), 1u);
  EXPECT_EQ(header_op::MtimeSlot(file, 2), 0u);
  // A slot no HEADER op used yet follows the other.
  header_op::MtimeMemory memory;
  header_op::MtimeField m{'1'}, n{'2'};
  memory.Remember(0, m);
  EXPECT_EQ(memory.Get(1), m);
  memory.Remember(1, n);
  memory.Remember(0, n);
  memory.Remember(0, m);
  EXPECT_EQ(memory.Get(1), n);
}

// One version 2 segment: the side streams' lengths, then (when there are fresh bytes) no
// dictionary, then the streams; `bulk` follows.
std::string Segment(const std::string& ops, const std::string& adds, const std::string& fresh,
                    const std::string& bulk = {}) {
  std::string s;
  for (size_t n : {ops.size(), adds.size(), size_t{0}, size_t{0}, fresh.size()}) PutVarint(&s, n);
  if (!fresh.empty()) PutVarint(&s, 0);
  return s + ops + adds + fresh + bulk;
}

TEST(DeltaFormat, ElfRefOpIsUnknownBeforeVersion3) {
  std::string base = TextBytes(1000, 3);
  std::string ops = "\x0a\x00\x80\x01\x01\x01\x01"s;  // ELF_REF of the whole base, payload "\x01"
  EXPECT_EQ(ApplyRawError(base, DeltaContainer(base, ops, 1, kRaw)), Error::Kind::kCorruption);
  EXPECT_EQ(ApplyRawError(base, DeltaContainer(base, Segment(ops, "", "", "\x01"), 2, kRaw)),
            Error::Kind::kCorruption);
}

TEST(DeltaFormat, Version2SegmentsApplyAndLyingLengthsAreCorruption) {
  std::string base = TextBytes(1000, 4), target = "hello" + base.substr(0, 100);
  std::string ops = "\x01\x05\x02\x00\x64"s + EndOp(target);  // LITERAL 5 (fresh), COPY 100
  auto apply = [&](const std::string& body) {
    return ApplyRawError(base, DeltaContainer(base, body, 2, kRaw));
  };
  {
    StringRandomAccess base_ra(base);
    StringReader in(DeltaContainer(base, Segment(ops, "", "hello"), 2, kRaw));
    StringWriter out;
    ApplyRawDelta(base_ra, in, out);
    EXPECT_EQ(out.str(), target);
  }
  // The same ops over two segments apply (no error).
  EXPECT_EQ(apply(Segment(ops.substr(0, 2), "", "hello") + Segment(ops.substr(2), "", "")),
            Error::Kind::kInvalidArgument);
  // Streams longer or shorter than what the ops use, or than the frame holds.
  EXPECT_EQ(apply(Segment(ops, "", "hello!")), Error::Kind::kCorruption);
  EXPECT_EQ(apply(Segment(ops, "x", "hello")), Error::Kind::kCorruption);
  EXPECT_EQ(apply(Segment(ops, "", "hell")), Error::Kind::kCorruption);
  EXPECT_EQ(apply(Segment(ops.substr(0, ops.size() - 1), "", "hello")), Error::Kind::kCorruption);
  EXPECT_EQ(apply(Segment(ops, "", "hello").substr(0, 20)), Error::Kind::kCorruption);
  EXPECT_EQ(apply(Segment(ops, "", "hello") + "x"), Error::Kind::kCorruption);
  std::string body = Segment(ops, "", "hello");
  body[0] = static_cast<char>(body[0] + 1);  // the ops stream claims one byte more
  EXPECT_EQ(apply(body), Error::Kind::kCorruption);
  // Lengths past the format's limit are refused before anything is allocated.
  std::string huge;
  PutVarint(&huge, uint64_t{1} << 40);
  huge += std::string(4, '\0');
  EXPECT_EQ(apply(huge + ops), Error::Kind::kCorruption);
  // A segment with no ops.
  EXPECT_EQ(apply(Segment("", "", "") + Segment(ops, "", "hello")), Error::Kind::kCorruption);
  // The fresh stream's reference outside the base, or a frame that is not one.
  std::string outside;
  for (size_t n : {ops.size(), size_t{0}, size_t{0}, size_t{0}, size_t{5}}) PutVarint(&outside, n);
  PutVarint(&outside, 10);   // reference length
  PutVarint(&outside, 995);  // reference offset: 995 + 10 > 1000
  PutVarint(&outside, 5);
  EXPECT_EQ(apply(outside + ops + "hello"), Error::Kind::kCorruption);
  std::string not_frame;
  for (size_t n : {ops.size(), size_t{0}, size_t{0}, size_t{0}, size_t{5}}) {
    PutVarint(&not_frame, n);
  }
  for (size_t n : {size_t{10}, size_t{0}, size_t{5}}) PutVarint(&not_frame, n);
  EXPECT_EQ(apply(not_frame + ops + "hello"), Error::Kind::kCorruption);
}

TEST(DeltaFormat, SplitBsdiffStreamsThatLieAreCorruption) {
  std::string base = TextBytes(4000, 5), target = base;
  target.insert(2000, "a line inserted here\n");
  BsdiffStreams s = BsdiffDiff(base, target);
  ASSERT_FALSE(s.extra.empty());
  auto delta = [&](uint64_t control, uint64_t diff, uint64_t extra, const std::string& fresh) {
    std::string ops = "\x09\x00"s;
    for (uint64_t n : {base.size(), target.size(), control, diff, extra}) PutVarint(&ops, n);
    ops += EndOp(target);
    std::string seg;
    for (size_t n : {ops.size(), size_t{0}, s.control.size(), s.diff.size(), fresh.size()}) {
      PutVarint(&seg, n);
    }
    if (!fresh.empty()) PutVarint(&seg, 0);
    return DeltaContainer(base, seg + ops + s.control + s.diff + fresh, 2, kRaw);
  };
  {
    StringRandomAccess base_ra(base);
    StringReader in(delta(s.control.size(), s.diff.size(), s.extra.size(), s.extra));
    StringWriter out;
    ApplyRawDelta(base_ra, in, out);
    EXPECT_EQ(out.str(), target);
  }
  size_t c = s.control.size(), d = s.diff.size(), e = s.extra.size();
  EXPECT_EQ(ApplyRawError(base, delta(c + 1, d, e, s.extra)), Error::Kind::kCorruption);
  EXPECT_EQ(ApplyRawError(base, delta(c, d - 1, e, s.extra)), Error::Kind::kCorruption);
  EXPECT_EQ(ApplyRawError(base, delta(c, d, target.size() + 1, s.extra)), Error::Kind::kCorruption);
  // An extra byte no op uses, and a flipped extra byte (the rebuilt target's sha256 is wrong).
  EXPECT_EQ(ApplyRawError(base, delta(c, d, e, s.extra + "x")), Error::Kind::kCorruption);
  std::string flipped = s.extra;
  flipped[0] ^= 1;
  EXPECT_EQ(ApplyRawError(base, delta(c, d, e, flipped)), Error::Kind::kCorruption);
}

TEST(DeltaFormat, LongNewFilesSpanSegmentsAndRoundTrip) {
  std::string base = TarFile("a", TextBytes(2000, 6)) + TarEnd();
  std::string target = TarFile("a", TextBytes(2100, 6)) + TarFile("big1", RandomBytes(5 << 19, 7)) +
                       TarFile("big2", RandomBytes(5 << 19, 8)) + TarFile("z", TextBytes(900, 9)) +
                       TarEnd();
  StringRandomAccess base_ra(base);
  StringReader in(target);
  StringWriter out;
  EncodeOptions options;
  options.zstd_level = 1;
  EncodeLayerDelta(base_ra, in, out, options);
  EXPECT_EQ(out.str()[4], format::kVersion);
  EXPECT_EQ(ApplyLayer(base, out.str()), target);
}

TEST(DeltaFormat, DirectoriesAndFilesWithTheirOwnNewMtimesCostNoMtimeBytes) {
  std::string base, target;
  for (int i = 0; i < 30; ++i) {
    std::string dir = "d" + std::to_string(i) + "/", file = dir + "f";
    std::string text = TextBytes(700, 10 + static_cast<uint32_t>(i));
    base += TarHeader(dir, 0, '5') + TarFile(file, text);
    target += TarHeader(dir, 0, '5', {}, 1800000000) + TarFile(file, text, 1900000000);
  }
  base += TarEnd();
  target += TarEnd();
  StringRandomAccess base_ra(base);
  StringReader in(target);
  StringWriter out;
  EncodeOptions options;
  options.zstd_level = 3;
  LayerDeltaStats stats = EncodeLayerDelta(base_ra, in, out, options);
  EXPECT_EQ(ApplyLayer(base, out.str()), target);
  // Only the first directory and the first file carry their new mtime as differences.
  EXPECT_EQ(stats.method_delta_bytes[static_cast<int>(Method::kAdd)], 2u * 512);
}

TEST(DeltaFormat, ShortFrameDeclaresItsSizeAndLongOneStreams) {
  for (size_t n : {size_t{0}, size_t{1000}, size_t{5} << 20}) {
    std::string data = TextBytes(n, 11);
    StringWriter out;
    ZstdFrameWriter writer(out, 3, 24);
    for (size_t at = 0; at < n; at += 100000) {
      writer.Write(std::string_view(data).substr(at, 100000));
    }
    writer.Finish();
    unsigned long long declared = ZSTD_getFrameContentSize(out.str().data(), out.str().size());
    if (n <= (4u << 20)) EXPECT_EQ(declared, n);
    else EXPECT_EQ(declared, ZSTD_CONTENTSIZE_UNKNOWN);
    StringReader in(out.str());
    ZstdFrameReader reader(in, "test frame");
    EXPECT_EQ(ReadAll(reader, 8 << 20), data);
  }
}

}  // namespace
}  // namespace outpost::delta
