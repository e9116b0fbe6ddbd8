#include "deflate/test_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace outpost::deflate::testing {
namespace {

namespace fs = std::filesystem;

// SplitMix64: small, fast and the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

std::vector<std::string> Vocabulary(Rng& rng) {
  std::vector<std::string> words;
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    size_t len = 1 + rng.Below(4) + rng.Below(6);
    for (size_t j = 0; j < len; ++j) w += static_cast<char>('a' + rng.Below(26));
    words.push_back(w);
  }
  return words;
}

std::string ReadFile(const fs::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string data;
  data.resize(limit);
  in.read(data.data(), static_cast<std::streamsize>(limit));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

std::vector<fs::path> RegularFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Repeats `data` (or zeros, if it is empty) up to exactly `n` bytes.
std::string FillTo(std::string data, size_t n) {
  if (data.empty()) return std::string(n, '\0');
  std::string out;
  out.reserve(n);
  while (out.size() < n) out.append(data, 0, std::min(data.size(), n - out.size()));
  return out;
}

}  // namespace

std::string EnglishText(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> words = Vocabulary(rng);
  std::string out;
  out.reserve(n + 16);
  size_t line = 0;
  while (out.size() < n) {
    // Skewed choice: small indexes (common words) much more often.
    size_t r = rng.Below(words.size());
    const std::string& w = words[r * r / words.size() * r / words.size()];
    out += w;
    line += w.size() + 1;
    size_t p = rng.Below(20);
    if (p == 0) out += '.';
    if (p == 1) out += ',';
    if (line > 72) {
      out += '\n';
      line = 0;
    } else {
      out += ' ';
    }
  }
  out.resize(n);
  return out;
}

std::string ZeroRuns(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string out(n, '\0');
  size_t pos = 0;
  while (pos < n) {
    pos += rng.Below(70000);
    size_t burst = 1 + rng.Below(300);
    for (size_t i = pos; i < std::min(n, pos + burst); ++i) out[i] = static_cast<char>(rng.Next());
    pos += burst;
  }
  return out;
}

std::string TinyRecords(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string out;
  out.reserve(n + 64);
  for (uint64_t i = 0; out.size() < n; ++i) {
    out += "key=" + std::to_string(i) + " value=" + std::to_string(rng.Below(100000)) +
           (rng.Below(3) == 0 ? " flag\n" : "\n");
  }
  out.resize(n);
  return out;
}

std::string Binaries(size_t n) {
  std::string out;
  for (const fs::path& p : RegularFiles("/usr/bin")) {
    if (out.size() >= n) break;
    std::string head = ReadFile(p, 4);
    if (head != "\x7f" "ELF") continue;
    out += ReadFile(p, n - out.size());
  }
  return FillTo(std::move(out), n);
}

std::string DocTar(size_t n) {
  std::string out;
  for (const fs::path& dir : {fs::path("/usr/share/doc"), fs::path("/usr/share/common-licenses")}) {
    for (const fs::path& p : RegularFiles(dir)) {
      if (out.size() >= n) break;
      std::string content = ReadFile(p, 1 << 20);
      std::string header(512, '\0');
      std::string name = p.string().substr(1, 99);
      std::copy(name.begin(), name.end(), header.begin());
      std::string size = std::to_string(content.size());
      std::copy(size.begin(), size.end(), header.begin() + 124);
      std::copy_n("ustar\0" "00", 8, header.begin() + 257);
      out += header;
      out += content;
      out.append((512 - content.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return FillTo(std::move(out), n);
}

std::string MixedBytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string out;
  out.reserve(n + 70000);
  while (out.size() < n) {
    size_t piece = 1 + rng.Below(40000);
    switch (rng.Below(4)) {
      case 0: out += EnglishText(piece, rng.Next()); break;
      case 1: out.append(piece, '\0'); break;
      case 2: out += RandomBytes(piece % 3000, rng.Next()); break;
      default:
        if (!out.empty()) {
          size_t from = rng.Below(out.size());
          out.append(out, from, std::min(piece, out.size() - from));
        }
    }
  }
  out.resize(n);
  return out;
}

std::string LayerMix(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string bins = Binaries(8 << 20);
  std::string docs = DocTar(8 << 20);
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    size_t piece = std::min(n - out.size(), 1 + rng.Below(2 << 20));
    switch (rng.Below(6)) {
      case 0: out += EnglishText(piece, rng.Next()); break;
      case 1: out += RandomBytes(piece, rng.Next()); break;
      case 2: out += ZeroRuns(piece, rng.Next()); break;
      case 3: out += TinyRecords(piece, rng.Next()); break;
      case 4: out.append(bins, rng.Below(bins.size() - piece / 2 - 1), piece); break;
      default: out.append(docs, rng.Below(docs.size() - piece / 2 - 1), piece); break;
    }
  }
  out.resize(n);
  return out;
}

}  // namespace outpost::deflate::testing
