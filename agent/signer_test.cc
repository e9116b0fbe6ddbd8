#include "agent/signer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "sync/image_signature.h"
#include "sync/test_images.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

using outpost::testing::TestLayer;
using outpost::testing::ThrowsKind;

class SignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.state_dir = dir_.path() / "state";
    config_.target = storage::Reference::Parse("oci:" + (dir_.path() / "site").string());
    v1_ = outpost::testing::WriteImage(config_.target.text + ":test:1.0.0",
                                       {TestLayer({{"bin/tool", std::string(200000, 't')}}, true),
                                        TestLayer({{"app/version", "1.0.0\n"}}, true)});
  }

  TempDir dir_;
  AgentConfig config_;
  Digest v1_;
  storage::FileStoreFactory stores_;
};

TEST_F(SignerTest, TheTargetsImageIsSignedByDigestInOutpostSignaturesFormat) {
  std::string bytes = SignTargetImage(config_, stores_, {"test:1.0.0", v1_.str()});
  WriteFileAtomic(dir_.path() / "got.sig", bytes);
  sync::ImageBlockSignature sig = sync::ImageBlockSignature::Load(dir_.path() / "got.sig");
  ASSERT_EQ(sig.layers.size(), 2u);
  sync::ImageBlockSignature direct = sync::ComputeImageBlockSignature(
      storage::Reference::Parse(config_.target.text + ":test:1.0.0"), nullptr, dir_.path());
  EXPECT_EQ(sig.layers[0].digest, direct.layers[0].digest);
  EXPECT_EQ(sig.layers[1].diff_id, direct.layers[1].diff_id);
  EXPECT_LT(bytes.size(), 200000u / 20) << "a signature is a small fraction of its layers";
}

TEST_F(SignerTest, AnImageTheTargetNoLongerHoldsIsNotFound) {
  const std::string gone = "sha256:" + std::string(64, 'b');
  EXPECT_THAT([&] { SignTargetImage(config_, stores_, {"test:0.9", gone}); }, ThrowsKind(Error::Kind::kNotFound));
}

}  // namespace
}  // namespace outpost::agent
