#include "sync/image_source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/file.h"
#include "sync/test_images.h"
#include "tests/support/bytes.h"

namespace outpost::sync {
namespace {

using outpost::testing::Files;
using outpost::testing::Gzip;
using outpost::testing::MakeTar;
using outpost::testing::RandomBytes;
using outpost::testing::WriteImage;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = {{"bin/tool", RandomBytes(300000, 7)}, {"etc/conf", "a = 1\n"}};
    ref_ = "oci:" + (dir_.path() / "img").string() + ":v1";
    WriteImage(ref_, {{files_, true}});
    image_ = LoadImage(storage::Reference::Parse(ref_), {});
  }

  // Overwrites the first blob file under the layout whose bytes are `from` with `to`.
  void ReplaceBlob(const std::string& from, const std::string& to) {
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.path() / "img")) {
      if (!f.is_regular_file() || f.file_size() != from.size()) continue;
      std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << to;
      return;
    }
    FAIL() << "blob not found";
  }

  TempDir dir_;
  Files files_;
  std::string ref_;
  LoadedImage image_;
};

TEST_F(SpoolTest, BlobAndTarComeFromOneReadAndMatchTheLayer) {
  StringWriter blob, tar;
  SpoolBlobAndTar(image_.layers[0], blob, tar);
  EXPECT_EQ(tar.str(), MakeTar(files_));
  EXPECT_EQ(blob.str(), Gzip(MakeTar(files_)));
  EXPECT_EQ(Digest::Of(blob.str()), image_.layers[0].desc.digest);
}

TEST_F(SpoolTest, BlobNotMatchingItsDigestIsCorruptionEvenWhenItsTarIsRight) {
  std::string good = Gzip(MakeTar(files_));
  std::string other = good;
  other[4] = 1;  // the gzip header's MTIME: the same tar from other bytes
  ReplaceBlob(good, other);
  StringWriter blob, tar;
  try {
    SpoolBlobAndTar(image_.layers[0], blob, tar);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption) << e.what();
  }
}

TEST_F(SpoolTest, TarNotMatchingItsDiffIdIsCorruption) {
  std::string good = Gzip(MakeTar(files_));
  Files changed = files_;
  changed["etc/conf"] = "a = 2\n";
  std::string bad = Gzip(MakeTar(changed));
  ASSERT_EQ(bad.size(), good.size());
  ReplaceBlob(good, bad);
  StringWriter out;
  try {
    SpoolTar(image_.layers[0], out);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_NE(std::string(e.what()).find("not its diffID"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace outpost::sync
