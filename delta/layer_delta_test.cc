#include "delta/layer_delta.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "deflate/gnu_gzip.h"
#include "delta/op_writer.h"
#include "delta/test_util.h"
#include "delta/zstd_util.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using testing::ApplyLayer;
using testing::ApplyRawError;
using testing::RandomBytes;
using testing::StringRandomAccess;
using testing::TarEnd;
using testing::TarFile;
using testing::TarHeader;
using testing::TextBytes;

std::string Encode(const std::string& base, const std::string& target,
                   LayerDeltaStats* stats = nullptr, EncodeOptions options = {}) {
  StringRandomAccess base_ra(base);
  StringReader in(target);
  StringWriter out;
  options.zstd_level = 3;  // fast; the format does not depend on it
  LayerDeltaStats s = EncodeLayerDelta(base_ra, in, out, options);
  if (stats != nullptr) *stats = s;
  return out.str();
}

std::string RoundTrip(const std::string& base, const std::string& target,
                      LayerDeltaStats* stats = nullptr, EncodeOptions options = {}) {
  std::string delta = Encode(base, target, stats, options);
  EXPECT_EQ(ApplyLayer(base, delta), target);
  return delta;
}

Error::Kind ApplyError(const std::string& base, const std::string& delta) {
  try {
    ApplyLayer(base, delta);
  } catch (const Error& e) {
    return e.kind();
  }
  return Error::Kind::kInvalidArgument;  // "no error" never matches what the tests expect
}

std::string SampleBase() {
  return TarHeader("usr/", 0, '5') + TarFile("usr/bin/tool", RandomBytes(20000, 1)) +
         TarFile("usr/share/doc/readme", TextBytes(5000, 2)) +
         TarFile("usr/lib/libfoo.so.1.2", RandomBytes(40000, 3)) +
         TarFile("etc/old.conf", TextBytes(700, 4)) + TarEnd();
}

TEST(LayerDelta, UnchangedTarIsCopiesAndTiny) {
  std::string base = SampleBase();
  LayerDeltaStats stats;
  std::string delta = RoundTrip(base, base, &stats);
  EXPECT_EQ(stats.copied_entries, 4u);
  EXPECT_EQ(stats.delta_entries + stats.new_entries, 0u);
  EXPECT_LT(delta.size(), 300u);
  EXPECT_EQ(stats.target_digest, Digest::Of(base));
}

TEST(LayerDelta, ChangedNewDeletedAndMovedFilesRoundTrip) {
  std::string base = SampleBase();
  std::string tool = RandomBytes(20000, 1);
  tool[100] ^= 1;
  tool.insert(5000, "inserted");
  std::string target = TarHeader("usr/", 0, '5') + TarFile("usr/bin/tool", tool, 1800000000) +
                       TarFile("opt/moved/readme", TextBytes(5000, 2)) +           // moved
                       TarFile("usr/lib/libfoo.so.1.3", RandomBytes(40000, 3).replace(10, 3, "abc")) +  // renamed + changed
                       TarFile("usr/bin/new", RandomBytes(3000, 9)) + TarEnd();    // etc/old.conf deleted
  LayerDeltaStats stats;
  std::string delta = RoundTrip(base, target, &stats);
  EXPECT_EQ(stats.copied_entries, 1u);
  EXPECT_EQ(stats.delta_entries, 2u);
  EXPECT_EQ(stats.new_entries, 1u);
  EXPECT_LT(delta.size(), 3000u + 1500u);
}

TEST(LayerDelta, KnownTargetDigestIsRecordedInsteadOfRehashing) {
  std::string base = SampleBase();
  std::string target = TarFile("usr/bin/tool", RandomBytes(20000, 1).replace(10, 3, "abc")) + TarEnd();
  EncodeOptions known;
  known.target_digest = Digest::Of(target);
  EXPECT_EQ(RoundTrip(base, target, nullptr, known), Encode(base, target));
  EncodeOptions wrong;
  wrong.target_digest = Digest::Of(std::string("not the target"));
  EXPECT_EQ(ApplyError(base, Encode(base, target, nullptr, wrong)), Error::Kind::kCorruption);
}

TEST(LayerDelta, TargetIndexStandsInForHashingAndALyingOneFailsToApply) {
  std::string base = SampleBase();
  std::string target = TarFile("usr/bin/tool", RandomBytes(20000, 1)) + TarFile("x", TextBytes(700, 4)) +
                       TarFile("usr/share/doc/readme", TextBytes(5000, 5)) + TarEnd();
  StringReader target_reader(target);
  TarIndex index = TarIndex::Build(target_reader);
  EncodeOptions indexed;
  indexed.target_index = &index;
  EXPECT_EQ(RoundTrip(base, target, nullptr, indexed), Encode(base, target));
  // Claims the changed readme is the base's: copied by its word, caught by the END digest.
  StringReader base_reader(base);
  TarIndex base_index = TarIndex::Build(base_reader);
  index.entries[2].content = base_index.entries[2].content;
  EXPECT_EQ(ApplyError(base, Encode(base, target, nullptr, indexed)), Error::Kind::kCorruption);
}

TEST(LayerDelta, IndexThatLiesAboutTheBaseMakesADeltaThatFailsToApply) {
  std::string base = TarFile("a", TextBytes(3000, 1)) + TarFile("b", TextBytes(20000, 2)) + TarEnd();
  std::string other = TarFile("a", TextBytes(3000, 3)) + TarFile("b", TextBytes(20000, 4)) + TarEnd();
  StringReader other_reader(other);
  TarIndex lying = TarIndex::Build(other_reader);  // same layout, other content hashes
  lying.tar_digest = Digest::Of(base);
  StringRandomAccess base_ra(base);
  StringReader target(other);
  StringWriter delta;
  EncodeOptions fast;
  fast.zstd_level = 3;
  EncodeLayerDelta(base_ra, lying, target, delta, fast);
  EXPECT_EQ(ApplyError(base, delta.str()), Error::Kind::kCorruption);
}

TEST(LayerDelta, LinksDirectoriesAndPaxLongNamesRoundTrip) {
  std::string long_name = "usr/share/" + std::string(150, 'n') + "/file.txt";
  std::string base = TarFile(long_name, TextBytes(900, 5)) + TarEnd();
  std::string target = TarHeader("usr/share/", 0, '5') + TarFile(long_name, TextBytes(950, 5)) +
                       TarHeader("usr/bin/link", 0, '2', "/usr/bin/tool") +
                       TarHeader("usr/bin/hard", 0, '1', "usr/bin/tool") + TarEnd();
  RoundTrip(base, target);
}

TEST(LayerDelta, BigFilesCrossWindowBoundaries) {
  std::string big = RandomBytes(300000, 6);
  std::string changed = big;
  changed.insert(70000, "shifted");
  changed[250000] ^= 0x55;
  std::string base = TarFile("data/big.bin", big) + TarFile("data/same.bin", big) + TarEnd();
  std::string target = TarFile("data/big.bin", changed) + TarFile("data/same.bin", big) +
                       TarFile("data/grown.bin", big + big) + TarEnd();
  EncodeOptions options;
  options.window_bytes = 64 << 10;
  LayerDeltaStats stats;
  std::string delta = RoundTrip(base, target, &stats, options);
  EXPECT_EQ(stats.copied_entries, 1u);
  EXPECT_LT(delta.size(), 400000u);  // the grown file's second half has no base window
}

TEST(LayerDelta, EmptyTarsAndZeroRecordPaddingRoundTrip) {
  RoundTrip("", "");
  RoundTrip(TarEnd(), TarEnd());
  std::string base = SampleBase();
  RoundTrip(base, base + std::string(8192, '\0'));
  RoundTrip(base, "");
}

// `tar -i` reads entries after the end-of-archive block, so bytes there would go unchecked.
TEST(LayerDelta, DataAfterTheEndOfArchiveIsCorruption) {
  std::string base = SampleBase();
  EXPECT_THAT([&] { Encode(base, base + std::string(512, '\0') + "trailing junk after the archive"); },
              outpost::testing::ThrowsKind(Error::Kind::kCorruption, ::testing::HasSubstr("end-of-archive")));
}

TEST(LayerDelta, WrongBaseIsCorruption) {
  std::string base = SampleBase();
  std::string delta = Encode(base, base);
  std::string other = base;
  other[700] ^= 1;
  EXPECT_EQ(ApplyError(other, delta), Error::Kind::kCorruption);
  EXPECT_EQ(ApplyError(base + "x", delta), Error::Kind::kCorruption);
}

TEST(LayerDelta, VerifiedBaseDigestReplacesHashingButAFalseClaimStillFails) {
  std::string base = SampleBase();
  std::string target = base;
  target[2000] ^= 1;
  std::string delta = Encode(base, target);
  EXPECT_EQ(ApplyLayer(base, delta, Digest::Of(base)), target);
  std::string other = base;
  other[2100] ^= 1;  // inside the file the delta copies from the base
  auto kind = [&](const std::string& b, const Digest& claim) {
    try {
      ApplyLayer(b, delta, claim);
    } catch (const Error& e) {
      return e.kind();
    }
    return Error::Kind::kInvalidArgument;
  };
  EXPECT_EQ(kind(base, Digest::Of(other)), Error::Kind::kCorruption);  // claim is not the recorded base
  EXPECT_EQ(kind(other, Digest::Of(base)), Error::Kind::kCorruption);  // false claim: target digest fails
}

TEST(LayerDelta, TruncatedOrFlippedDeltaIsCorruption) {
  std::string base = SampleBase();
  std::string target = base;
  target[2000] ^= 1;
  std::string delta = Encode(base, target);
  for (size_t cut = 0; cut < delta.size(); cut += std::max<size_t>(1, delta.size() / 40)) {
    EXPECT_EQ(ApplyError(base, delta.substr(0, cut)), Error::Kind::kCorruption) << cut;
  }
  // A flipped byte is detected, or (in zstd's frame header, e.g. a larger window size) changes
  // nothing: the target is still rebuilt exactly, as its sha256 check proves.
  for (size_t at = 0; at < delta.size(); ++at) {
    if (at == 4) continue;  // the version byte: NewerFormatVersionIsUnsupported
    std::string bad = delta;
    bad[at] ^= 0x20;
    try {
      EXPECT_EQ(ApplyLayer(base, bad), target) << at;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption) << at;
    }
  }
  EXPECT_EQ(ApplyError(base, delta + "x"), Error::Kind::kCorruption);
}

TEST(LayerDelta, NewerFormatVersionIsUnsupported) {
  std::string base = SampleBase();
  std::string delta = Encode(base, base);
  EXPECT_EQ(delta[4], format::kVersion);
  delta[4] = format::kVersion + 1;
  EXPECT_EQ(ApplyError(base, delta), Error::Kind::kUnsupported);
}

TEST(LayerDelta, UnsafeTargetPathsAreRefusedAtEncode) {
  std::string base = SampleBase();
  for (std::string name : {"../etc/passwd", "usr/../../x", "/etc/shadow"}) {
    try {
      Encode(base, TarFile(name, "x") + TarEnd());
      ADD_FAILURE() << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kSecurity) << name;
    }
  }
  RoundTrip(base, TarFile("usr/..hidden/a..b", "ok") + TarFile("./x", "ok") + TarEnd());
}

// A delta written directly with the op writer, as a malicious or buggy encoder could.
std::string HandMadeDelta(const std::string& base, const std::string& target) {
  StringWriter out;
  LayerDeltaStats stats;
  OpWriter ops(out, format::Kind::kLayer, base.size(), Digest::Of(base), 3, &stats);
  ops.Literal(target);
  ops.End(target.size(), Digest::Of(target));
  return out.str();
}

TEST(LayerDelta, UnsafeRebuiltPathsAreRefusedAtApply) {
  std::string base = SampleBase();
  std::string evil = TarFile("../evil", "boom") + TarEnd();
  EXPECT_EQ(ApplyError(base, HandMadeDelta(base, evil)), Error::Kind::kSecurity);
  std::string hidden = TarFile("fine", "ok") + TarFile(std::string(150, 'd') + "/../../evil", "x") + TarEnd();
  EXPECT_EQ(ApplyError(base, HandMadeDelta(base, hidden)), Error::Kind::kSecurity);
  std::string good = TarFile("fine", "ok") + TarEnd();
  EXPECT_EQ(ApplyLayer(base, HandMadeDelta(base, good)), good);
  EXPECT_EQ(ApplyError(base, HandMadeDelta(base, good.substr(0, 700))), Error::Kind::kCorruption);
}

// `n` files with varied mtimes; `rebuilt` gives every entry the same new mtime instead.
std::string ManyFiles(int n, bool rebuilt) {
  std::string tar;
  for (int i = 0; i < n; ++i) {
    uint64_t mtime = rebuilt ? 1800000000 : 1700000000 + 7919 * static_cast<uint64_t>(i);
    tar += TarFile("usr/share/f" + std::to_string(i), TextBytes(100 + 37 * i % 3000, i), mtime);
  }
  return tar + TarEnd();
}

TEST(LayerDelta, RebuildWithEveryMtimeChangedCostsUnderHalfAByteAnEntry) {
  std::string base = ManyFiles(2000, false);
  std::string target = ManyFiles(2000, true);
  LayerDeltaStats stats;
  std::string delta = RoundTrip(base, target, &stats);
  EXPECT_EQ(stats.copied_entries, 2000u);
  EXPECT_LT(delta.size(), 1000u);
}

TEST(LayerDelta, ChangedMtimesOfDirectoriesLinksAndLongNamesRoundTrip) {
  std::string long_name = "usr/share/" + std::string(150, 'n');
  std::string base = TarHeader("usr/", 0, '5', {}, 5) + TarHeader("usr/l", 0, '2', "x", 6) +
                     TarFile("usr/a", "aaa", 7) + TarFile("usr/b", "bbbb", 8) +
                     TarFile(long_name, "long", 3) + TarEnd();
  std::string target = TarHeader("usr/", 0, '5', {}, 9) + TarHeader("usr/l", 0, '2', "x", 9) +
                       TarFile("usr/a", "aaa", 9) + TarFile("usr/b", "bbbc", 8) +
                       TarFile(long_name, "long", 9) + TarEnd();
  LayerDeltaStats stats;
  RoundTrip(base, target, &stats);
  EXPECT_EQ(stats.copied_entries, 2u);
}

TEST(LayerDelta, HeaderWithNonStandardChecksumStillRoundTripsExactly) {
  std::string base = TarFile("usr/a", "content", 5) + TarEnd();
  std::string target = TarFile("usr/a", "content", 6) + TarEnd();
  // Seven digits and a NUL instead of six digits, NUL, space: same value, other bytes.
  std::string digits = target.substr(148, 6);
  target.replace(148, 8, "0" + digits + std::string(1, '\0'));
  RoundTrip(base, target);
  target[148 + 7] = ' ';  // seven digits and a space
  RoundTrip(base, target);
}

// A version 1 raw delta whose op stream is `ops` as given.
std::string RawOps(const std::string& base, std::string_view ops) {
  return testing::DeltaContainer(base, ops, 1, 2);
}

TEST(LayerDelta, BadHeaderOpsAreCorruption) {
  std::string base = TarHeader("usr/a", 100000) + std::string(1000, 'c');
  auto bad = [&](std::string_view ops) { return ApplyRawError(base, RawOps(base, ops)); };
  using std::string_literals::operator""s;
  EXPECT_EQ(bad("\x08"s), Error::Kind::kCorruption);               // no flags
  EXPECT_EQ(bad("\x08\x00"s), Error::Kind::kCorruption);           // no offset
  EXPECT_EQ(bad("\x08\x00\x00"s), Error::Kind::kCorruption);       // no block count
  EXPECT_EQ(bad("\x08\x10\x00\x01"s), Error::Kind::kCorruption);   // unknown flag
  EXPECT_EQ(bad("\x08\x00\x00\x00"s), Error::Kind::kCorruption);   // zero blocks
  EXPECT_EQ(bad("\x08\x00\x00\x04"s), Error::Kind::kCorruption);   // blocks past the base end
  EXPECT_EQ(bad("\x08\x00\x01\x01"s), Error::Kind::kCorruption);   // offset before the base
  EXPECT_EQ(bad("\x08\x00\x00\xff\xff\xff\x7f"s), Error::Kind::kCorruption);  // huge count
  EXPECT_EQ(bad("\x08\x01\x00\x01"s + std::string(100, '\0')), Error::Kind::kCorruption);  // short
  // The copied content is longer than what the base has after the header.
  EXPECT_EQ(bad("\x08\x08\x00\x01"s), Error::Kind::kCorruption);
  // Content copied after a block that is not a tar header.
  EXPECT_EQ(bad("\x08\x08\x02\x01"s), Error::Kind::kCorruption);
  // A HEADER op with nothing wrong rebuilds the header.
  std::string ok = "\x08\x00\x00\x01\x00\x80\x04"s;
  ok += std::string(reinterpret_cast<const char*>(Digest::Of(base.substr(0, 512)).bytes().data()), 32);
  StringRandomAccess base_ra(base);
  StringReader in(RawOps(base, ok));
  StringWriter out;
  ApplyRawDelta(base_ra, in, out);
  EXPECT_EQ(out.str(), base.substr(0, 512));
}

std::string GnuGzip(const std::string& plain) {
  StringReader in(plain);
  StringWriter out;
  deflate::GnuGzipHeader header;
  header.level = 9;
  deflate::GnuGzipCompress(in, header, out);
  return out.str();
}

TEST(LayerDelta, InnerGzipFilesAreDeltaEncodedUncompressedAndRebuiltExactly) {
  std::string old_text = TextBytes(60000, 31);
  std::string base = TarFile("usr/share/doc/p/changelog.Debian.gz", GnuGzip(old_text)) + TarEnd();
  std::string target = TarFile("usr/share/doc/p/changelog.Debian.gz", GnuGzip("p (1.1) fixes\n" + old_text)) +
                       TarFile("usr/share/man/man1/new.1.gz", GnuGzip(TextBytes(9000, 32))) + TarEnd();
  LayerDeltaStats stats;
  RoundTrip(base, target, &stats);
  // The changelog; the new man page goes as it is (zstd -3 of its text is not smaller).
  EXPECT_EQ(stats.method_target_bytes[static_cast<int>(Method::kInnerGzip)],
            GnuGzip("p (1.1) fixes\n" + old_text).size());
  EXPECT_LT(stats.method_delta_bytes[static_cast<int>(Method::kInnerGzip)], 3000u);
  // Not made by GNU gzip (a corrupted tail): no exact rebuild, so the bytes go another way.
  std::string odd = GnuGzip(TextBytes(5000, 33));
  odd[odd.size() - 5] ^= 1;
  std::string odd_target = TarFile("usr/share/doc/p/changelog.Debian.gz", odd) + TarEnd();
  RoundTrip(base, odd_target, &stats);
  EXPECT_EQ(stats.method_target_bytes[static_cast<int>(Method::kInnerGzip)], 0u);
}

TEST(LayerDelta, SmallEditedFilesLeaveTheirBsdiffStreamsToTheOuterStream) {
  // Many small files, each with the same kind of edit: raw bsdiff streams share the outer
  // stream's context, where a zstd frame per file could not.
  std::string base, target;
  for (int i = 0; i < 20; ++i) {
    std::string text = TextBytes(4000, 40 + i), edited = text;
    edited.replace(2000, 30, "# changed for release 2.0 now!");
    std::string name = "app/module" + std::to_string(i) + ".py";
    base += TarFile(name, text);
    target += TarFile(name, edited);
  }
  base += TarEnd();
  target += TarEnd();
  LayerDeltaStats stats;
  std::string delta = RoundTrip(base, target, &stats);
  int bsdiff = static_cast<int>(Method::kBsdiff);
  EXPECT_GT(stats.method_target_bytes[bsdiff], 0u);
  // Raw streams: about the target's size before the outer stream compresses them.
  EXPECT_GE(stats.method_delta_bytes[bsdiff], stats.method_target_bytes[bsdiff]);
  EXPECT_LT(delta.size(), 2500u);
}

TEST(RawDelta, RoundTripsArbitraryBytesAcrossWindows) {
  std::string base = RandomBytes(200000, 7);
  std::string target = base.substr(1000) + RandomBytes(5000, 8);
  StringRandomAccess base_ra(base);
  StringReader in(target);
  StringWriter delta;
  EncodeOptions options;
  options.window_bytes = 64 << 10;
  options.zstd_level = 3;
  EncodeRawDelta(base_ra, in, delta, options);
  EXPECT_LT(delta.str().size(), 8000u);
  StringReader delta_in(delta.str());
  StringWriter out;
  EXPECT_EQ(ApplyRawDelta(base_ra, delta_in, out), Digest::Of(target));
  EXPECT_EQ(out.str(), target);
  StringReader as_layer(delta.str());
  EXPECT_THAT([&] { VerifyLayerDelta(base_ra, as_layer); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(TarIndex, SimilarityPrefersTheBaseSharingContent) {
  std::string target = SampleBase();
  StringReader t(target), b1(target), b2(TarFile("other", "x") + TarEnd());
  TarIndex ti = TarIndex::Build(t), same = TarIndex::Build(b1), other = TarIndex::Build(b2);
  EXPECT_EQ(ti.entries.size(), 5u);
  EXPECT_EQ(ti.tar_digest, Digest::Of(target));
  EXPECT_DOUBLE_EQ(Similarity(same, ti), 1.0);
  EXPECT_LT(Similarity(other, ti), 0.01);
}

}  // namespace
}  // namespace outpost::delta
