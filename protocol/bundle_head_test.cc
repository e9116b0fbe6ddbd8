#include "protocol/bundle_head.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "common/error.h"
#include "common/file.h"
#include "protocol/bundle_file.h"
#include "protocol/test_bundle.h"
#include "compress/zstd.h"
#include "tests/support/bytes.h"
#include "tests/support/matchers.h"

namespace outpost::protocol {
namespace {

using outpost::testing::Le32;
using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// A small bundle (manifest, config, one whole layer of `layer_bytes`), signed when `key` is set.
struct SmallBundle {
  TempDir dir;
  std::string bytes;
  uint64_t head_bytes = 0;

  explicit SmallBundle(const SigningKey* key, std::string target = "oci:/x:v2", size_t layer_bytes = 3000) {
    std::string layer;
    for (size_t i = 0; i < layer_bytes; ++i) layer.push_back(static_cast<char>(i * 7 + i / 251));
    testing::WriteTestBundle(dir.path(), dir.path() / "b.bundle", layer, key, std::move(target));
    bytes = ReadFileToString(dir.path() / "b.bundle", 1 << 30);
    head_bytes = bytes.size() - BundleHead::Parse(Head(), "t").header().payload_bytes;
  }

  std::string Head() const {
    HeadExtent e = HeadLength(bytes, "t");
    return bytes.substr(0, e.bytes);
  }
};

// A file that answers each read of a range with the next of `versions` (a medium another
// process rewrites between two reads: FUSE, NFS, a USB stick, a spool).
class ChangingFile : public RandomAccess {
 public:
  explicit ChangingFile(std::vector<std::string> versions) : versions_(std::move(versions)) {}
  void ReadAt(uint64_t offset, uint8_t* buf, size_t n) const override {
    const std::string& now = versions_[reads_++ % versions_.size()];
    if (offset > now.size() || n > now.size() - offset) throw Corruption("short read");
    std::memcpy(buf, now.data() + offset, n);
  }
  uint64_t size() const override { return versions_[0].size(); }
  int reads() const { return reads_; }

 private:
  std::vector<std::string> versions_;
  mutable std::atomic<int> reads_ = 0;
};

TEST(BundleHeadTest, HeadLengthGrowsFromTheFirstSixteenBytesToTheExactHead) {
  SmallBundle b(nullptr);
  std::string prefix = b.bytes.substr(0, 3);
  HeadExtent e = HeadLength(prefix, "t");
  int steps = 0;
  while (!e.complete) {
    ASSERT_GT(e.bytes, prefix.size());
    prefix = b.bytes.substr(0, e.bytes);
    e = HeadLength(prefix, "t");
    ++steps;
  }
  EXPECT_EQ(e.bytes, b.head_bytes);
  EXPECT_EQ(steps, 3);  // magic+version+H, then the chunk count, then the signature length
}

TEST(BundleHeadTest, ParsedHeadVerifiesItsChunksInAnyOrder) {
  SmallBundle b(nullptr, "oci:/x:v2", 3 * kChunkBytes + 5);
  BundleHead head = BundleHead::Parse(b.Head(), "bundle t");
  ASSERT_EQ(head.chunks().size(), 4u);
  EXPECT_EQ(head.file_bytes(), b.bytes.size());
  for (size_t i : {3, 0, 2, 1}) {
    std::string chunk = b.bytes.substr(head.head_bytes() + head.ChunkOffset(i), head.chunks()[i].length);
    head.VerifyChunk(i, chunk);
    chunk[0] ^= 1;
    EXPECT_THAT([&] { head.VerifyChunk(i, chunk); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("chunk " + std::to_string(i))));
  }
  EXPECT_THAT([&] { head.VerifyChunk(4, ""); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(BundleHeadTest, HeadWithAByteMoreOrLessIsCorruption) {
  SmallBundle b(nullptr);
  EXPECT_THAT([&] { BundleHead::Parse(b.Head() + "x", "t"); }, ThrowsKind(Error::Kind::kCorruption));
  std::string head = b.Head();
  EXPECT_THAT([&] { BundleHead::Parse(head.substr(0, head.size() - 1), "t"); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("truncated")));
}

// A target name of about 120 KB of letters (70 KB compressed) that do not compress, so the head is longer than
// ReadHead's first read and is read (at least) twice.
std::string LongTarget(std::string tag) {
  uint32_t x = 7;
  for (int i = 0; i < 120'000; ++i) {
    x = x * 1103515245 + 12345;
    tag.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  return tag;
}

// Defect 12.1: a file alternating a hub-signed head and an unsigned head for another image,
// read through a RandomAccess that returns the other version on the next read of any range.
TEST(BundleHeadTest, HeadThatChangesBetweenReadsIsNeverAcceptedUnsigned) {
  SigningKey hub = SigningKey::Generate();
  SmallBundle good(&hub, LongTarget("oci:/x:good-"));
  SmallBundle evil(nullptr, LongTarget("oci:/x:evil-"));
  ASSERT_GT(good.head_bytes, 64u << 10);
  size_t size = std::max(good.bytes.size(), evil.bytes.size());
  std::string good_bytes = good.bytes + std::string(size - good.bytes.size(), '\0');
  std::string evil_bytes = evil.bytes + std::string(size - evil.bytes.size(), '\0');
  int accepted = 0;
  for (int period = 1; period <= 4; ++period) {
    for (int evil_at = 0; evil_at < period; ++evil_at) {
      std::vector<std::string> versions(static_cast<size_t>(period), good_bytes);
      versions[static_cast<size_t>(evil_at)] = evil_bytes;
      auto file = std::make_shared<ChangingFile>(versions);
      try {
        BundleHead head = ReadHead(*file, "bundle t", &hub);
        EXPECT_EQ(head.header().target_reference.substr(0, 12), "oci:/x:good-") << period << " " << evil_at;
        ++accepted;
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), Error::Kind::kSecurity) << e.what();
      }
    }
  }
  EXPECT_GT(accepted, 0);  // the alternation is survivable when the last read is the signed one
}

TEST(BundleHeadTest, HeadIsReadOnceWhenItFitsTheFirstRead) {
  SmallBundle b(nullptr);
  auto file = std::make_shared<ChangingFile>(std::vector{b.bytes});
  ReadHead(*file, "t");
  EXPECT_EQ(file->reads(), 1);
}

// Defect 12.2: every single-byte flip of a signed head under a verify key is Security (exit 8),
// never "bad zstd data" (Corruption) or an upgrade message.
TEST(BundleHeadTest, EveryFlippedByteOfASignedHeadIsSecurityUnderAVerifyKey) {
  SigningKey key = SigningKey::Generate();
  SmallBundle b(&key);
  std::string head = b.Head();
  BundleHead::Parse(head, "t", &key);
  for (size_t i = 0; i < head.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bytes = b.bytes;
      bytes[i] = static_cast<char>(bytes[i] ^ mask);
      auto file = std::make_shared<ChangingFile>(std::vector{bytes});
      EXPECT_THAT([&] { BundleReader r(file, "t", &key); }, ThrowsKind(Error::Kind::kSecurity)) << "byte " << i;
    }
  }
}

TEST(BundleHeadTest, VersionZeroIsCorruptionNotAnUpgrade) {
  SmallBundle b(nullptr);
  std::string head = b.Head();
  head[8] = 0;
  EXPECT_THAT([&] { BundleHead::Parse(head, "bundle t"); },
              ThrowsKind(Error::Kind::kCorruption, ::testing::AllOf(HasSubstr("version 0"), ::testing::Not(HasSubstr("upgrade")))));
}

TEST(BundleHeadTest, NewerVersionSignedByTheKeyIsUnsupported) {
  SigningKey key = SigningKey::Generate();
  SmallBundle b(nullptr);
  std::string head = b.Head();
  head[8] = static_cast<char>(kFormatVersion + 1);
  // Re-sign the changed bytes: a genuine newer bundle from the hub.
  std::string signed_part = head.substr(0, head.size() - 4);
  SignatureBytes sig = key.Sign(signed_part);
  PublicKeyBytes pub = key.public_key();
  std::string resigned = signed_part + Le32(96) + std::string(pub.begin(), pub.end()) + std::string(sig.begin(), sig.end());
  EXPECT_THAT([&] { BundleHead::Parse(resigned, "t", &key); }, ThrowsKind(Error::Kind::kUnsupported, HasSubstr("upgrade outpost")));
}

// A version 1 head (plain JSON header) around `json`, with no chunks.
std::string HeadAround(const std::string& json) {
  return "OUTPOSTB" + Le32(1) + Le32(static_cast<uint32_t>(json.size())) + json + Le32(0) + Le32(0);
}

std::string HeaderJson(const std::string& bases, const std::string& layers, const std::string& extra = "") {
  std::string doc = R"({"digest":"sha256:)" + std::string(64, 'a') +
                    R"(","size":1,"media_type":"m","payload":{"offset":0,"length":0,"encoding":"raw"}})";
  return R"({"target_reference":"t","created_by":"c","payload_bytes":0,"registry_bytes":0,"manifest":)" + doc +
         ",\"config\":" + doc + ",\"bases\":[" + bases + "],\"layers\":[" + layers + "]" + extra + "}";
}

std::string Repeat(const std::string& item, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i ? "," : "") + item;
  return out;
}

TEST(BundleHeadTest, HeaderWithinTheLimitsParses) {
  std::string base = R"({"digest":"sha256:)" + std::string(64, 'b') + R"(","diff_id":"sha256:)" + std::string(64, 'c') + R"(","size":1})";
  BundleHead head = BundleHead::Parse(HeadAround(HeaderJson(Repeat(base, kMaxBases), "")), "t");
  EXPECT_EQ(head.header().bases.size(), kMaxBases);
}

// Defect 12.2: the limits are hit while parsing, after at most a limit's worth of values.
TEST(BundleHeadTest, HeaderOverALimitIsCorruptionNamingTheLimit) {
  std::string base = R"({"digest":"sha256:)" + std::string(64, 'b') + R"(","diff_id":"sha256:)" + std::string(64, 'c') + R"(","size":1})";
  EXPECT_THAT([&] { BundleHead::Parse(HeadAround(HeaderJson(Repeat(base, kMaxBases + 1), "")), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("more than 1000 bases")));
  EXPECT_THAT([&] { BundleHead::Parse(HeadAround(HeaderJson("", Repeat("{}", kMaxLayers + 1))), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("more than 1000 layers")));
  std::string nested = std::string(3'000'000, '[') + std::string(3'000'000, ']');
  EXPECT_THAT([&] { BundleHead::Parse(HeadAround(HeaderJson("", "", ",\"x\":" + nested)), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("deeper than 8")));
  EXPECT_THAT([&] { BundleHead::Parse(HeadAround(HeaderJson("", "", ",\"x\":[" + Repeat("1", 200'000) + "]")), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("JSON values")));
}

TEST(BundleHeadTest, OversizedLengthsAreRefusedFromThePrefixAlone) {
  EXPECT_THAT([&] { HeadLength("OUTPOSTB" + Le32(2) + Le32(kMaxHeaderBytes + 1), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("header length")));
  EXPECT_THAT([&] { HeadLength("OUTPOSTB" + Le32(2) + Le32(0) + Le32(kMaxChunks + 1), "t"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("chunk count")));
  EXPECT_THAT([&] { HeadLength("OUTPOSTX", "t"); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("not an outpost bundle")));
}

TEST(BundleHeadTest, ZstdBombHeaderStopsAtTheDecodedLimit) {
  std::string json = HeaderJson("", "", ",\"x\":\"" + std::string(kMaxHeaderBytes, 'y') + "\"");
  std::string stored = compress::ZstdCompress(json, compress::ZstdParams{.level = 3});
  ASSERT_LT(stored.size(), 4096u);
  std::string head = "OUTPOSTB" + Le32(2) + Le32(static_cast<uint32_t>(stored.size())) + stored + Le32(0) + Le32(0);
  EXPECT_THAT([&] { BundleHead::Parse(head, "t"); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("larger than")));
}

// The fuzz target's seeds (fuzz/bundle_head_seeds.py wrote them) are bundles this build reads.
TEST(BundleHeadTest, FuzzSeedsAreBundlesThisBuildReads) {
  std::filesystem::path dir = std::filesystem::path(OUTPOST_SOURCE_DIR) / "fuzz" / "corpus" / "bundle_head";
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_LT(entry.file_size(), 4096u) << entry.path();
    BundleReader r(entry.path());
    r.VerifyChunks();
    EXPECT_EQ(r.ReadDocument(r.header().manifest, "manifest"), R"({"schemaVersion":2})");
    EXPECT_EQ(r.ReadDocument(r.header().config, "config"), R"({"rootfs":{}})");
    EXPECT_EQ(r.signer().has_value(), entry.path().filename() == "v2-signed.bundle");
    ++seeds;
  }
  EXPECT_GE(seeds, 4);
}

}  // namespace
}  // namespace outpost::protocol
