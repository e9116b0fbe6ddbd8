// Content digests: "sha256:<64 hex>" as the OCI spec writes them.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost {

// A sha256 digest. Value type; compares and hashes by its bytes.
class Digest {
 public:
  Digest() = default;
  explicit Digest(const std::array<uint8_t, 32>& bytes) : bytes_(bytes) {}

  // Parses "sha256:<64 lowercase hex>". Throws InvalidArgument naming `text` for anything else
  // (other algorithms, upper case, wrong length), since a digest string is always compared as
  // text somewhere and two spellings of one digest would break that.
  static Digest Parse(std::string_view text);
  // True when Parse would accept `text`.
  static bool IsValid(std::string_view text);
  // The digest of `data`.
  static Digest Of(std::string_view data);

  // "sha256:<hex>".
  std::string str() const;
  // The 64 hex digits alone (the file name under blobs/sha256/).
  std::string hex() const;
  // The first 12 hex digits, for messages.
  std::string short_hex() const { return hex().substr(0, 12); }
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  std::array<uint8_t, 32> bytes_{};
};

// Streaming sha256 (OpenSSL EVP). Feed bytes with Update, take the result once with Finish.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Returns the digest of everything fed so far; the object is spent afterwards.
  Digest Finish();

 private:
  EVP_MD_CTX* ctx_;
};

// Lowercase hex of `n` bytes.
std::string HexEncode(const void* data, size_t n);

}  // namespace outpost

template <>
struct std::hash<outpost::Digest> {
  size_t operator()(const outpost::Digest& d) const noexcept {
    size_t h;
    static_assert(sizeof(h) <= 32);
    __builtin_memcpy(&h, d.bytes().data(), sizeof(h));
    return h;
  }
};
