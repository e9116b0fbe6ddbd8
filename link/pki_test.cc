#include "link/pki.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "common/file.h"
#include "link/openssl_util.h"
#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

// The certificate's extension `nid` as `openssl x509 -text` prints it.
std::string ExtensionText(X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  if (index < 0) return "";
  std::unique_ptr<BIO, OpenSslDeleter<BIO_free>> bio(BIO_new(BIO_s_mem()));
  X509V3_EXT_print(bio.get(), X509_get_ext(cert, index), 0, 0);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

IssueOptions Options(std::vector<std::string> hosts, int days = 825) {
  IssueOptions options;
  options.hosts = std::move(hosts);
  options.days = days;
  return options;
}

TEST(Pki, InitCaWritesASelfSignedCaWithAPrivateKey) {
  TempDir dir;
  InitCa(dir.path() / "pki");
  X509Ptr ca = ReadCertificate(dir.path() / "pki" / "ca.pem");
  EXPECT_THAT(ExtensionText(ca.get(), NID_basic_constraints), HasSubstr("CA:TRUE"));
  EXPECT_THAT(ExtensionText(ca.get(), NID_key_usage), HasSubstr("Certificate Sign"));
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK);
  EXPECT_EQ(ModeOf(dir.path() / "pki" / "ca.key"), 0600u);
  EXPECT_EQ(EVP_PKEY_get_id(ReadPrivateKey(dir.path() / "pki" / "ca.key").get()), EVP_PKEY_EC);
}

TEST(Pki, InitCaRefusesToOverwriteACa) {
  TempDir dir;
  InitCa(dir.path());
  std::string before = ReadFileToString(dir.path() / "ca.key");
  EXPECT_THAT([&] { InitCa(dir.path()); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("refusing to overwrite")));
  EXPECT_EQ(ReadFileToString(dir.path() / "ca.key"), before);
}

TEST(Pki, IssuedCertificateNamesTheSiteAndHostsForBothAuthentications) {
  TempDir dir;
  InitCa(dir.path());
  IssueCertificate(dir.path(), "hub", Options({"hub.example.org", "10.0.0.1"}, 30));
  X509Ptr cert = ReadCertificate(dir.path() / "hub.pem");
  X509Ptr ca = ReadCertificate(dir.path() / "ca.pem");
  EXPECT_EQ(X509_check_issued(ca.get(), cert.get()), X509_V_OK);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "hub");
  EXPECT_EQ(ExtensionText(cert.get(), NID_subject_alt_name), "DNS:hub.example.org, IP Address:10.0.0.1");
  EXPECT_EQ(ExtensionText(cert.get(), NID_ext_key_usage), "TLS Web Server Authentication, TLS Web Client Authentication");
  EXPECT_THAT(ExtensionText(cert.get(), NID_basic_constraints), HasSubstr("CA:FALSE"));
  int days = 0, seconds = 0;
  ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get()));
  EXPECT_EQ(days, 30);
  EXPECT_EQ(ModeOf(dir.path() / "hub.key"), 0600u);
  EXPECT_EQ(X509_check_private_key(cert.get(), ReadPrivateKey(dir.path() / "hub.key").get()), 1);
}

TEST(Pki, IssuedCertificatesHaveDistinctSerials) {
  TempDir dir;
  InitCa(dir.path());
  IssueCertificate(dir.path(), "a", {});
  IssueCertificate(dir.path(), "b", {});
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ReadCertificate(dir.path() / "a.pem").get()),
                             X509_get0_serialNumber(ReadCertificate(dir.path() / "b.pem").get())),
            0);
}

TEST(Pki, IssueRefusesBadNamesHostsAndDays) {
  TempDir dir;
  InitCa(dir.path());
  for (const char* name : {"", "../x", "a b", "ca", std::string(65, 'a').c_str()}) {
    EXPECT_THAT([&] { IssueCertificate(dir.path(), name, {}); }, ThrowsKind(Error::Kind::kInvalidArgument));
  }
  EXPECT_THAT([&] { IssueCertificate(dir.path(), "hub", Options({"a,IP:1.2.3.4"})); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("host `a,IP:1.2.3.4`")));
  EXPECT_THAT([&] { IssueCertificate(dir.path(), "hub", Options({}, 0)); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(Pki, IssueWithoutACaIsNotFound) {
  TempDir dir;
  EXPECT_THAT([&] { IssueCertificate(dir.path(), "oslo", {}); }, ThrowsKind(Error::Kind::kNotFound, HasSubstr("pki init")));
}

}  // namespace
}  // namespace outpost::link
