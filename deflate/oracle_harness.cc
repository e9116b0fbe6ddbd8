#include "deflate/oracle_harness.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <zlib.h>

#include <random>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"

namespace outpost::deflate::testing {

std::string RunOracle(const std::string& program, const std::string& args, std::string_view input) {
  if (fs::path(program).is_absolute() && !fs::exists(program)) {
    throw NotFound("oracle ", program, " was not built (is golang-go installed?)");
  }
  TempDir dir;
  fs::path in = dir.path() / "in", out = dir.path() / "out";
  std::ofstream(in, std::ios::binary).write(input.data(), static_cast<std::streamsize>(input.size()));  // no fsync
  std::string cmd = Concat(program, " ", args, " < '", in.string(), "' > '", out.string(), "'");
  if (std::system(cmd.c_str()) != 0) throw IOError("oracle command failed: ", cmd);
  return ReadFileToString(out, size_t{1} << 30);
}

void FeedEncoder(Encoder& encoder, std::string_view input, const std::vector<size_t>& pieces, size_t flush_every,
                 bool flush_tail) {
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = 0, since_flush = 0;
  auto write = [&](size_t n) {
    while (n > 0) {
      size_t k = flush_every > 0 ? std::min(n, flush_every - since_flush) : n;
      encoder.Write(p + pos, k);
      pos += k;
      n -= k;
      since_flush += k;
      if (flush_every > 0 && since_flush == flush_every) {
        encoder.SyncFlush();
        since_flush = 0;
      }
    }
  };
  for (size_t n : pieces) write(std::min(n, input.size() - pos));
  write(input.size() - pos);
  if (flush_tail && flush_every > 0 && since_flush > 0) encoder.SyncFlush();
  encoder.Finish();
}

std::vector<size_t> RandomPieces(size_t total, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<size_t> pieces;
  for (size_t sum = 0; sum < total;) {
    size_t n = rng() % 3 == 0 ? rng() % 16 : rng() % 100000;
    pieces.push_back(n);
    sum += n;
  }
  return pieces;
}

std::string Inflate(std::string_view data, int window_bits, std::string_view dict) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) throw IOError("zlib inflateInit2 failed");
  if (!dict.empty()) {
    inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size()));
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[1 << 14];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw Corruption("test stream does not inflate (zlib code ", std::to_string(rc), ")");
  return out;
}

std::string Hex(std::string_view bytes) { return HexEncode(bytes.data(), bytes.size()); }

std::string Diff(std::string_view ours, std::string_view theirs) {
  size_t n = std::min(ours.size(), theirs.size());
  size_t i = static_cast<size_t>(std::mismatch(ours.begin(), ours.begin() + static_cast<ptrdiff_t>(n), theirs.begin()).first -
                                 ours.begin());
  if (i == ours.size() && i == theirs.size()) return "identical";
  return Concat("first difference at byte ", std::to_string(i), " of ", std::to_string(theirs.size()),
                " (ours: ", std::to_string(ours.size()), " bytes)");
}

}  // namespace outpost::deflate::testing
