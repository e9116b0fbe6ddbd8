#include <gtest/gtest.h>

#include "common/error.h"
#include "storage/image_store.h"

namespace outpost::storage {
namespace {

using T = Reference::Transport;

TEST(ReferenceTest, OciLayoutWithTag) {
  Reference r = Reference::Parse("oci:/srv/img:1.0");
  EXPECT_EQ(r.transport, T::kOci);
  EXPECT_EQ(r.location, "/srv/img");
  EXPECT_EQ(r.tag, "1.0");
  EXPECT_EQ(r.tag_or_digest(), "1.0");
}

TEST(ReferenceTest, OciLayoutWithDigest) {
  std::string d = "sha256:" + std::string(64, 'c');
  Reference r = Reference::Parse("oci:dir@" + d);
  EXPECT_EQ(r.location, "dir");
  ASSERT_TRUE(r.digest);
  EXPECT_EQ(r.tag_or_digest(), d);
}

TEST(ReferenceTest, DockerArchiveTagMayHoldAColon) {
  Reference r = Reference::Parse("docker-archive:/tmp/a.tar:busybox:latest");
  EXPECT_EQ(r.transport, T::kDockerArchive);
  EXPECT_EQ(r.location, "/tmp/a.tar");
  EXPECT_EQ(r.tag, "busybox:latest");
}

TEST(ReferenceTest, OciArchiveWithoutTag) {
  Reference r = Reference::Parse("oci-archive:x.tar");
  EXPECT_EQ(r.transport, T::kOciArchive);
  EXPECT_EQ(r.tag, "");
}

TEST(ReferenceTest, DockerFirstComponentIsHostOnlyWithDotColonOrLocalhost) {
  Reference a = Reference::Parse("docker://localhost:5000/team/app:2");
  EXPECT_EQ(a.host(), "localhost:5000");
  EXPECT_EQ(a.repository(), "team/app");
  EXPECT_EQ(a.tag, "2");
  Reference b = Reference::Parse("docker://registry.example.com/app");
  EXPECT_EQ(b.host(), "registry.example.com");
  EXPECT_EQ(b.tag, "latest");
  Reference c = Reference::Parse("docker://team/app");
  EXPECT_EQ(c.host(), "docker.io");
  EXPECT_EQ(c.repository(), "team/app");
  Reference d = Reference::Parse("docker://busybox");
  EXPECT_EQ(d.repository(), "library/busybox");
  Reference e = Reference::Parse("docker://localhost/app");
  EXPECT_EQ(e.host(), "localhost");
}

TEST(ReferenceTest, DockerDigestReplacesDefaultTag) {
  std::string d = "sha256:" + std::string(64, 'd');
  Reference r = Reference::Parse("docker://127.0.0.1:5000/app@" + d);
  EXPECT_EQ(r.host(), "127.0.0.1:5000");
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.tag_or_digest(), d);
}

TEST(ReferenceTest, MalformedReferencesAreInvalidArgument) {
  for (const char* bad : {"", "foo", "oci:", "oci::tag", "docker://Upper/Case", "docker://h.com/a:b@sha256:12",
                          "docker://h.com/a:-bad", "oci:d@sha256:zz"}) {
    try {
      Reference::Parse(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace outpost::storage
