#include "common/digest.h"

#include "common/error.h"

namespace outpost {
namespace {

constexpr std::string_view kPrefix = "sha256:";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool Digest::IsValid(std::string_view text) {
  if (text.size() != kPrefix.size() + 64 || text.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : text.substr(kPrefix.size())) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

Digest Digest::Parse(std::string_view text) {
  if (!IsValid(text)) {
    throw InvalidArgument("invalid digest \"", std::string(text),
                          "\": expected sha256: followed by 64 lowercase hex digits");
  }
  std::array<uint8_t, 32> bytes;
  std::string_view hex = text.substr(kPrefix.size());
  for (size_t i = 0; i < 32; ++i) {
    bytes[i] = static_cast<uint8_t>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return Digest(bytes);
}

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

std::string Digest::str() const { return std::string(kPrefix) + hex(); }

std::string Digest::hex() const { return HexEncode(bytes_.data(), bytes_.size()); }

std::string HexEncode(const void* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    throw IOError("OpenSSL could not start a sha256 digest");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(const void* data, size_t n) {
  if (n > 0) EVP_DigestUpdate(ctx_, data, n);
}

Digest Sha256::Finish() {
  std::array<uint8_t, 32> out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  return Digest(out);
}

}  // namespace outpost
