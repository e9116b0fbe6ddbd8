// Garbage collection at the site (docs/agent-state.md, "Garbage collection"): after a publish,
// the versions of a repository beyond its `keep` are removed from the target, except any that a
// transfer not applied yet may need as a delta base.
//
// A version is a tag "REPO:TAG" the agent itself published (a transfer with an `as`, applied and
// not removed since); versions are ordered by when the agent applied them, and a tag published
// again counts once, as its latest. A repository's keep is the one the hub sent with its most
// recently applied transfer that carried one; none, or 0, removes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_state.h"
#include "storage/image_store.h"

namespace outpost::agent {

// "app/web" of "app/web:1.0": everything before the last ':'.
std::string RepositoryOf(const std::string& as);

// What a collection would do with the versions published.
struct GcChoice {
  std::vector<PublishedVersion> remove;  // beyond keep, oldest first
  std::vector<PublishedVersion> spared;  // beyond keep but a base in flight (`is_base`)
};

// Chooses, per repository of `published` (AgentState::Published, oldest first), the versions
// beyond its keep. Never one whose manifest a kept version also has (a registry deletes by
// digest), never one for which `is_base` is true; `is_base` is asked only about versions beyond
// keep.
GcChoice ChooseRemovals(const std::vector<PublishedVersion>& published,
                        const std::function<bool(const PublishedVersion&)>& is_base);

// The blob digests every transfer not applied yet may use as bases: the agent's fetching and
// received transfers, and those of `queued` (the hub's work list) with no result here, read from
// the heads in their spools. nullopt when one's head is not on disk yet (its bases are unknown).
std::optional<std::set<std::string>> PendingBases(const AgentConfig& config, AgentState& state,
                                                  const std::vector<WorkItem>& queued);

// Removes from the target (an oci: layout or a docker:// registry) the versions ChooseRemovals
// picks, with the bases of PendingBases protected (the whole collection waits while a pending
// transfer's bases are unknown), records each in `state` and logs one line per image. Returns
// how many versions left the target. Throws what reading the target throws; a registry that
// refuses deletes is a warning, not an error.
size_t CollectGarbage(const AgentConfig& config, AgentState& state, storage::StoreFactory& stores,
                      const std::vector<WorkItem>& queued);

}  // namespace outpost::agent
