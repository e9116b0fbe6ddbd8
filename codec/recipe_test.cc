#include "codec/recipe.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace outpost::codec {
namespace {

TEST(RecipeTest, EveryKindRoundTripsThroughText) {
  for (const char* line : {"v1 none", "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:mem=8:strategy=0:wbits=15",
                           "v1 gzip hdr=1f8b08000000000000ff deflate=pigz:9:block=131072",
                           "v1 zstd level=19 checksum=1 size=12345 workers=1",
                           "v1 zstd level=3 checksum=0 size=none workers=0"}) {
    EXPECT_EQ(Recipe::Parse(line).str(), line);
  }
}

TEST(RecipeTest, OmittedDeflateOptionsTakeTheirDefaults) {
  EXPECT_EQ(Recipe::Parse("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6").str(),
            "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:mem=8:strategy=0:wbits=15");
}

TEST(RecipeTest, MalformedRecipesAreInvalidArguments) {
  for (const char* line : {"", "v2 none", "v1", "v1 lzma", "v1 none x=1",
                           "v1 gzip hdr=1f8b08 deflate=zlib:6", "v1 gzip hdr=1F8B08000000000000FF deflate=zlib:6",
                           "v1 gzip hdr=1f8b08000000000000ff", "v1 gzip hdr=1f8b08000000000000ff deflate=nope:6",
                           "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:12",
                           "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:colour=blue",
                           "v1 zstd level=3 checksum=2 size=none workers=1", "v1 zstd level=3"}) {
    try {
      Recipe::Parse(line);
      ADD_FAILURE() << "accepted: " << line;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kInvalidArgument) << line;
    }
  }
}

}  // namespace
}  // namespace outpost::codec
