// The seam between the diff/apply pipelines and the exact codec: find the recipe that rebuilds
// a blob from its tar, and rebuild it. (A blob is opened as its tar with
// compress::OpenDecompressed.)
//
// An uncompressed layer's recipe is the empty string (the blob is the tar). Every other recipe is
// an exact-codec recipe line. Until a recipe is proven for a compressed layer the pipelines fall
// back to raw deltas or whole blobs; they never ship a guess.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/io.h"
#include "image/image.h"

namespace outpost::sync {

struct RecipeResult {
  std::optional<std::string> recipe;  // proven on the whole blob
  std::string reason;                 // why there is none
};

// Finds and proves the recipe that rebuilds the compressed blob spooled to `blob` from its
// uncompressed tar spooled to `tar`, both already checked against `digest` and `diff_id`
// (candidates read the tar instead of decompressing the blob again). Never throws for "no
// recipe"; throws Corruption when the blob itself does not decompress. Reads only the two files,
// so it may run on another thread while they stay in place.
RecipeResult ProbeSpooledRecipe(const std::filesystem::path& blob, const Digest& digest,
                                const std::filesystem::path& tar, const Digest& diff_id);

// Writes the blob that `recipe` makes from `tar` into `out`. Throws InvalidArgument for a recipe
// this build does not understand (the bundle came from a newer hub), Corruption on bad input.
void RebuildBlob(Reader& tar, std::string_view recipe, Writer& out);

}  // namespace outpost::sync
