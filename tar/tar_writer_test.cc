#include "tar/tar_writer.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tar/tar_reader.h"
#include "tests/support/matchers.h"

namespace outpost::tar {
namespace {

using outpost::testing::ThrowsKind;

TEST(TarWriterTest, WrittenArchiveReadsBackWithTheSameMembers) {
  StringWriter out;
  Writer w(out);
  w.AddDirectory("blobs");
  w.AddFile("blobs/a", "hello");
  std::string long_name = std::string(90, 'd') + "/" + std::string(60, 'f');
  w.AddFile(long_name, std::string(600, 'x'));
  w.Finish();
  EXPECT_EQ(out.str().size() % kBlockSize, 0u);

  StringReader in(out.str());
  Reader r(in);
  Entry e;
  ASSERT_TRUE(r.Next(&e));
  EXPECT_EQ(e.name, "blobs/");
  EXPECT_EQ(e.type, kDirectory);
  ASSERT_TRUE(r.Next(&e));
  EXPECT_EQ(e.name, "blobs/a");
  uint8_t buf[16];
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), r.ReadData(buf, sizeof(buf))), "hello");
  ASSERT_TRUE(r.Next(&e));
  EXPECT_EQ(e.name, long_name);
  EXPECT_EQ(e.size, 600u);
  EXPECT_FALSE(r.Next(&e));
}

TEST(TarWriterTest, UnsafeNameIsRejected) {
  StringWriter out;
  Writer w(out);
  EXPECT_THAT([&] { w.AddFile("../x", "a"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { w.AddFile("/x", "a"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(TarWriterTest, ShortContentIsCorruption) {
  StringWriter out;
  Writer w(out);
  StringReader content("abc");
  EXPECT_THAT([&] { w.AddFile("f", 10, content); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::tar
