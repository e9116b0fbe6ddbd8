// Container images made of real Debian packages, the way the corpus script
// (/work/shared/corpus/make_corpus.sh) makes them: a layer is the files of some .debs
// (`dpkg-deb -x`, in order) as one tar with sorted names, root-owned, times clamped to a fixed
// build time, gzip'ed by zlib level 6. The .debs come from /var/cache/outpost/debs (or
// $OUTPOST_DEBS), which tests/link/fetch_debs.sh fills (packaging/install-deps.sh --test runs
// it): new/ holds apt's candidate of each package, old/ the bookworm release's version of the
// updated ones. Test code only.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/images.h"

namespace outpost::testing {

// The .debs of the story's test:VERSION (1.0.0, 2.0.0, 3.0.0), as paths in the cache (a
// PACKAGE_*.deb pattern for a package it lacks):
// layer 0 is a base (perl, OpenSSL), layer 1 the app's packages (haproxy, the PostgreSQL and
// MariaDB clients, systemd, ...). 2.0.0 takes Debian's security updates of apache2-utils and
// libgpgme11 and adds redis-tools; 3.0.0 also updates libzstd-dev.
std::vector<std::vector<std::string>> StoryDebs(const std::string& version);

// The cache's .debs that `layers` name and it lacks; empty when all are there.
std::vector<std::string> MissingDebs(const std::vector<std::vector<std::string>>& layers);

// A gzip layer of the files of `debs` (paths), unpacked in order into a fresh
// folder under `scratch` and tarred. Throws IOError naming the command that failed.
TestLayer DebLayer(const std::vector<std::string>& debs, const std::filesystem::path& scratch);

// test:VERSION of the story (StoryDebs), built under `scratch`.
TestImage StoryImage(const std::string& version, const std::filesystem::path& scratch);

}  // namespace outpost::testing
