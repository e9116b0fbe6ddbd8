#include "sync/layer_codec.h"

#include "codec/probe.h"
#include "codec/rebuild.h"
#include "codec/recipe.h"
#include "common/error.h"
#include "common/file.h"

namespace outpost::sync {

RecipeResult ProbeSpooledRecipe(const std::filesystem::path& blob, const Digest& digest,
                                const std::filesystem::path& tar, const Digest& diff_id) {
  codec::KnownBlob known{digest, FileSize(blob), diff_id, FileSize(tar),
                         [tar] { return std::make_unique<FileReader>(tar); }};
  codec::ProbeResult r = codec::Probe([blob] { return std::make_unique<FileReader>(blob); }, known);
  if (!r.exact) return {std::nullopt, r.reason};
  return {r.recipe.str(), ""};
}

void RebuildBlob(Reader& tar, std::string_view recipe, Writer& out) {
  if (recipe.empty()) {
    Copy(tar, out);
    return;
  }
  codec::Rebuild(codec::Recipe::Parse(recipe), tar, out);
}

}  // namespace outpost::sync
