#include "codec/zlib_encoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "codec/test_util.h"

namespace outpost::codec {
namespace {

std::string Inflate(const std::string& raw) {
  z_stream z{};
  inflateInit2(&z, -15);
  std::string out(64 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(ZlibEncoderTest, OutputDoesNotDependOnHowInputIsSplit) {
  std::string data = testing::TextBytes(500000);
  StringWriter whole, pieces;
  ZlibEncoder a(ZlibParams{}, whole);
  a.Write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  a.Finish();
  ZlibEncoder b(ZlibParams{}, pieces);
  for (size_t i = 0; i < data.size(); i += 7777) {
    b.Write(reinterpret_cast<const uint8_t*>(data.data()) + i, std::min<size_t>(7777, data.size() - i));
  }
  b.Finish();
  EXPECT_EQ(whole.str(), pieces.str());
  EXPECT_EQ(Inflate(whole.str()), data);
}

TEST(PigzEncoderTest, BlocksEndOnByteBoundariesAndInflate) {
  for (size_t size : {size_t{0}, size_t{1000}, size_t{131072}, size_t{131073}, size_t{300000}}) {
    std::string data = testing::TextBytes(size, 9);
    StringWriter out;
    PigzEncoder e(6, 131072, out);
    e.Write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    e.Finish();
    EXPECT_EQ(Inflate(out.str()), data) << size;
  }
}

}  // namespace
}  // namespace outpost::codec
