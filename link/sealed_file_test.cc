#include "link/sealed_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "link/pki.h"
#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

// A CA with the sites oslo and bergen, and a second CA with its own oslo.
struct Pki {
  TempDir dir;
  Pki() {
    InitCa(dir.path() / "pki");
    IssueCertificate(dir.path() / "pki", "oslo", {});
    IssueCertificate(dir.path() / "pki", "bergen", {});
    InitCa(dir.path() / "rogue");
    IssueCertificate(dir.path() / "rogue", "oslo", {});
  }
  TlsFiles Site(const std::string& name, const std::string& ca = "pki") const {
    return {dir.path() / ca / "ca.pem", dir.path() / ca / (name + ".pem"), dir.path() / ca / (name + ".key")};
  }
  std::filesystem::path ca() const { return dir.path() / "pki" / "ca.pem"; }
};

// Where the signature length field of `sealed` (sealed over `payload_bytes`) starts.
size_t SignedBytes(const std::string& sealed, size_t payload_bytes) {
  size_t cert = 0;
  for (int i = 3; i >= 0; --i) cert = cert << 8 | static_cast<uint8_t>(sealed[12 + static_cast<size_t>(i)]);
  return 16 + cert + 4 + payload_bytes;
}

TEST(SealedFile, ASealedPayloadUnsealsWithTheSiteItsCertificateNames) {
  Pki pki;
  Unsealed u = Unseal(Seal("inventory", pki.Site("oslo")), pki.ca(), "report");
  EXPECT_EQ(u.site, "oslo");
  EXPECT_EQ(u.payload, "inventory");
}

TEST(SealedFile, AChangedPayloadIsRefusedAsTampered) {
  Pki pki;
  std::string sealed = Seal("inventory", pki.Site("oslo"));
  sealed[sealed.find("inventory")] = 'X';
  EXPECT_THAT([&] { Unseal(sealed, pki.ca(), "report"); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("signature does not match")));
}

TEST(SealedFile, AnotherSitesKeyUnderThisSitesCertificateIsRefused) {
  Pki pki;
  std::string oslo = Seal("inventory", pki.Site("oslo"));
  std::string bergen = Seal("inventory", pki.Site("bergen"));
  // oslo's framing and certificate with bergen's signature.
  std::string forged = oslo.substr(0, SignedBytes(oslo, 9)) + bergen.substr(SignedBytes(bergen, 9));
  EXPECT_THAT([&] { Unseal(forged, pki.ca(), "report"); }, ThrowsKind(Error::Kind::kSecurity));
}

TEST(SealedFile, ACertificateFromAnotherCaIsRefused) {
  Pki pki;
  EXPECT_THAT([&] { Unseal(Seal("x", pki.Site("oslo", "rogue")), pki.ca(), "report"); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("did not issue")));
}

TEST(SealedFile, ATruncatedFileIsCorrupt) {
  Pki pki;
  std::string sealed = Seal("inventory", pki.Site("oslo"));
  EXPECT_THAT([&] { Unseal(sealed.substr(0, sealed.size() - 5), pki.ca(), "report"); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::link
