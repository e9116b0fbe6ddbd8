#include "agent/applier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

AgentConfig WithTarget(const std::string& target) {
  AgentConfig c;
  if (target.starts_with("docker://") && target.find('/', 9) == std::string::npos) {
    c.target_registry = target.substr(9);
  } else {
    c.target = storage::Reference::Parse(target);
  }
  return c;
}

TEST(IntoReference, AFileTargetTakesTheBundlesTagUnlessQueuedAs) {
  storage::Reference plain = IntoReference(WithTarget("oci:/srv/layout"), "docker://reg/app:2.0", "");
  EXPECT_EQ(plain.location, "/srv/layout");
  EXPECT_EQ(plain.tag, "");  // sync::Apply takes the bundle's
  storage::Reference as = IntoReference(WithTarget("oci:/srv/layout"), "docker://reg/app:2.0", "test:2.0.0");
  EXPECT_EQ(as.location, "/srv/layout");
  EXPECT_EQ(as.tag, "test:2.0.0");
}

TEST(IntoReference, ARegistryTargetTakesRepositoryAndTagFromTheBundleOrAs) {
  storage::Reference named = IntoReference(WithTarget("docker://registry:5000"), "docker://home:5000/team/app:2.0", "");
  EXPECT_EQ(named.location, "registry:5000/team/app");
  EXPECT_EQ(named.tag, "2.0");
  storage::Reference as = IntoReference(WithTarget("docker://registry:5000"), "oci:/x:v2", "test:2.0.0");
  EXPECT_EQ(as.location, "registry:5000/test");
  EXPECT_EQ(as.tag, "2.0.0");
  EXPECT_THAT([] { IntoReference(WithTarget("docker://registry:5000"), "oci:/x:v2", ""); },
              outpost::testing::ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(IntoReference, ARepositoryTargetIsRenamedOnlyByAs) {
  EXPECT_EQ(IntoReference(WithTarget("docker://registry:5000/app:1"), "oci:/x:v2", "").location,
            "registry:5000/app");
  EXPECT_EQ(IntoReference(WithTarget("docker://registry:5000/app:1"), "oci:/x:v2", "other:3").location,
            "registry:5000/other");
}

TEST(IntoReference, APlatformManifestQueuedByDigestIsPublishedByDigestWithoutATag) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  storage::Reference reg = IntoReference(WithTarget("docker://registry:5000"), "oci:/x", "test@" + digest);
  EXPECT_EQ(reg.location, "registry:5000/test");
  EXPECT_EQ(reg.tag, "");
  EXPECT_EQ(reg.digest->str(), digest);
  storage::Reference file = IntoReference(WithTarget("oci:/srv/layout"), "oci:/x", "test@" + digest);
  EXPECT_EQ(file.location, "/srv/layout");
  EXPECT_EQ(file.tag, "");
  EXPECT_EQ(file.digest->str(), digest);
}

TEST(CarriedTagPrefix, AFileStoreNamesTheRepositoryAndARegistryNothing) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(CarriedTagPrefix(WithTarget("oci:/srv/layout"), "test@" + digest), "test:");
  EXPECT_EQ(CarriedTagPrefix(WithTarget("oci:/srv/layout"), "team/app:2.0"), "team/app:");
  EXPECT_EQ(CarriedTagPrefix(WithTarget("docker://registry:5000"), "test@" + digest), "");
}

}  // namespace
}  // namespace outpost::agent
