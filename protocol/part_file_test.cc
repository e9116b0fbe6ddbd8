#include "protocol/part_file.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/bytes.h"
#include "tests/support/matchers.h"

namespace outpost::protocol {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// A 20,000-byte "bundle" (the part format does not look inside) cut into parts of 8 KiB.
struct Fixture {
  TempDir dir;
  std::string bytes = outpost::testing::RandomBytes(20000, 7);
  std::filesystem::path bundle = dir.path() / "b.bundle";
  SigningKey key = SigningKey::Generate();
  Carriage carriage;
  std::vector<std::filesystem::path> parts;

  Fixture() {
    WriteFileAtomic(bundle, bytes);
    carriage = {Digest::Of(bytes), bytes.size(), 100, 12, "oslo", "app/web:2.0"};
    parts = WriteParts(bundle, carriage, 8192, dir.path() / "media", &key);
  }

  std::string Assemble(const std::vector<std::filesystem::path>& files, const SigningKey* verify = nullptr) {
    std::vector<CarriedBundle> b = GroupParts(files, verify);
    EXPECT_EQ(b.size(), 1u);
    AssembleParts(b.at(0), dir.path() / "out.bundle");
    return ReadFileToString(dir.path() / "out.bundle");
  }
};

TEST(PartFile, NamesTellTheOperatorSiteTransferTagAndPlace) {
  Fixture f;
  ASSERT_EQ(f.parts.size(), 3u);
  EXPECT_EQ(f.parts[1].filename(), "oslo-t12-app_web_2.0-part2of3.outpost");
}

TEST(PartFile, EachPartFitsTheMaximumAndHeadersSayWhatTheyCarry) {
  Fixture f;
  for (uint32_t i = 0; i < f.parts.size(); ++i) {
    EXPECT_LE(std::filesystem::file_size(f.parts[i]), 8192u);
    PartHeader h = ReadPartHeader(f.parts[i], &f.key);
    EXPECT_EQ(h.index, i + 1);
    EXPECT_EQ(h.count, 3u);
    EXPECT_EQ(h.carriage.site, "oslo");
    EXPECT_EQ(h.carriage.as, "app/web:2.0");
    EXPECT_EQ(h.carriage.transfer, 12);
    EXPECT_EQ(h.carriage.bundle, f.carriage.bundle);
  }
}

TEST(PartFile, PartsInAnyOrderMakeTheBundleAgain) {
  Fixture f;
  EXPECT_EQ(f.Assemble({f.parts[2], f.parts[0], f.parts[1], f.parts[0]}, &f.key), f.bytes);
}

TEST(PartFile, AMissingPartIsNamedWithTheFileToCarry) {
  Fixture f;
  EXPECT_THAT([&] { f.Assemble({f.parts[2], f.parts[0]}); },
              ThrowsKind(Error::Kind::kNotFound, HasSubstr("part 2 of 3 missing: carry oslo-t12-app_web_2.0-part2of3.outpost again")));
  EXPECT_FALSE(std::filesystem::exists(f.dir.path() / "out.bundle"));
}

TEST(PartFile, ATruncatedPartIsNamedAsCorrupt) {
  Fixture f;
  std::filesystem::resize_file(f.parts[1], 5000);
  EXPECT_THAT([&] { f.Assemble(f.parts); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("part 2 of 3")));
}

TEST(PartFile, AFlippedPayloadByteIsNamedAsCorrupt) {
  Fixture f;
  std::string p = ReadFileToString(f.parts[2]);
  p[p.size() - 10] ^= 1;
  WriteFileAtomic(f.parts[2], p);
  EXPECT_THAT([&] { f.Assemble(f.parts); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("part 3 of 3 (" + f.parts[2].string() + ") corrupt")));
}

TEST(PartFile, ADamagedHeaderMakesItsPartMissingOrDamaged) {
  Fixture f;
  std::string p = ReadFileToString(f.parts[0]);
  p[30] ^= 1;
  WriteFileAtomic(f.parts[0], p);
  EXPECT_THAT([&] { f.Assemble(f.parts); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("part 1 of 3 missing or damaged")));
}

TEST(PartFile, AnotherSignerIsRefusedBeforeAnythingIsAssembled) {
  Fixture f;
  SigningKey other = SigningKey::Generate();
  EXPECT_THAT([&] { GroupParts(f.parts, &other); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("signed by")));
}

TEST(PartFile, UnsignedPartsAreRefusedWithAVerifyKey) {
  Fixture f;
  std::vector<std::filesystem::path> unsigned_parts = WriteParts(f.bundle, f.carriage, 8192, f.dir.path() / "u", nullptr);
  EXPECT_THAT([&] { GroupParts(unsigned_parts, &f.key); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("unsigned")));
}

TEST(PartFile, ABundleThatIsNotTheCarriedDigestIsRefusedWhenCut) {
  Fixture f;
  Carriage wrong = f.carriage;
  wrong.bundle = Digest::Of("other");
  EXPECT_THAT([&] { WriteParts(f.bundle, wrong, 8192, f.dir.path() / "w", nullptr); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(PartFile, ANonPartFileIsNotAPart) {
  Fixture f;
  EXPECT_THAT([&] { ReadPartHeader(f.bundle, nullptr); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("not an outpost part")));
}

}  // namespace
}  // namespace outpost::protocol
