#include "codec/pgzip_layout.h"

#include <gtest/gtest.h>

#include "codec/test_util.h"

namespace outpost::codec {
namespace {

// Records what pgzip asks of each block encoder, as text.
struct Recorder : deflate::Encoder {
  Recorder(std::string* out, size_t dict) : log(out) { *log += "[dict=" + std::to_string(dict); }
  void Write(const uint8_t*, size_t n) override { *log += " write=" + std::to_string(n); }
  void SyncFlush() override { *log += " flush"; }
  void Finish() override { *log += " finish"; }
  ~Recorder() override { *log += "]"; }
  std::string* log;
};

std::string Layout(size_t input, size_t block) {
  std::string log;
  StringWriter out;
  PgzipEncoder e([&](Writer&, std::string_view dict) { return std::make_unique<Recorder>(&log, dict.size()); }, block, out);
  std::string data(input, 'x');
  e.Write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  e.Finish();
  return log;
}

TEST(PgzipEncoderTest, BlocksAreSeededWithThePreviousTailAndTheLastIsClosed) {
  EXPECT_EQ(Layout(2500000, 1 << 20),
            "[dict=0 write=1048576 flush][dict=16384 write=1048576 flush][dict=16384 write=402848 flush finish]");
}

TEST(PgzipEncoderTest, InputOfWholeBlocksEndsWithAnEmptyClosedBlock) {
  EXPECT_EQ(Layout(40000, 20000), "[dict=0 write=20000 flush][dict=16384 write=20000 flush][dict=16384 write=0 flush finish]");
}

TEST(PgzipEncoderTest, EmptyInputIsOneClosedBlock) { EXPECT_EQ(Layout(0, 1 << 20), "[dict=0 write=0 flush finish]"); }

}  // namespace
}  // namespace outpost::codec
