#include "fuzz/fixed_tars.h"

#include "tests/support/bytes.h"
#include "tests/support/tar.h"

namespace outpost::fuzz {
namespace {

testing::Files BaseFiles() {
  return {{"bin/tool", testing::RandomBytes(6000, 1)},
          {"etc/config", testing::TextBytes(3000, 2)},
          {"etc/empty", ""}};
}

}  // namespace

const std::string& FixedBaseTar() {
  static const std::string tar = testing::MakeTar(BaseFiles());
  return tar;
}

const std::string& FixedTargetTar() {
  static const std::string tar = [] {
    testing::Files files = BaseFiles();
    files["etc/config"].replace(1000, 12, "edited bytes");
    files["usr/share/new"] = testing::TextBytes(1500, 3);
    return testing::MakeTar(files);
  }();
  return tar;
}

}  // namespace outpost::fuzz
