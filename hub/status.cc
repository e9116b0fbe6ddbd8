#include "hub/status.h"

#include <nlohmann/json.hpp>

#include <sstream>

#include "common/error.h"
#include "link/schedule.h"
#include "link/units.h"

namespace outpost::hub {
namespace {

uint64_t Remaining(const Transfer& t) { return t.payload_bytes() > t.bytes_acked ? t.payload_bytes() - t.bytes_acked : 0; }

std::string RateText(uint64_t rate) {
  if (rate == link::kUnlimitedRate) return "uncapped";
  return rate == 0 ? "closed" : link::FormatRate(rate);
}

// "3h 20m", "45s": how long until `t`.
std::string Until(link::WallTime now, link::WallTime t) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
  if (s < 0) s = 0;
  std::ostringstream out;
  if (s >= 86400) out << s / 86400 << "d " << s % 86400 / 3600 << "h";
  else if (s >= 3600) out << s / 3600 << "h " << s % 3600 / 60 << "m";
  else if (s >= 60) out << s / 60 << "m " << s % 60 << "s";
  else out << s << "s";
  return out.str();
}

nlohmann::json TransferJson(const Transfer& t) {
  nlohmann::json j = {{"id", t.id},           {"bundle", t.bundle_digest},     {"as", t.as_ref.value_or("")},
                      {"state", StateName(t.state)}, {"priority", t.priority}, {"payload_bytes", t.payload_bytes()},
                      {"bytes_acked", t.bytes_acked},  {"bytes_sent", t.bytes_sent}, {"attempts", t.attempts},
                      {"queued_at", t.queued_at}};
  if (!t.finished_at.empty()) j["finished_at"] = t.finished_at;
  if (!t.manifest.empty()) j["manifest"] = t.manifest;
  if (!t.last_error.empty()) j["error"] = t.last_error;
  return j;
}

std::string TransferLine(const Transfer& t) {
  std::ostringstream out;
  out << "  #" << t.id << " " << StateName(t.state) << " " << (t.as_ref ? *t.as_ref : t.bundle_digest.substr(0, 19));
  if (!t.finished()) {
    const uint64_t total = t.payload_bytes();
    out << "  " << link::FormatProgress(t.bytes_acked, total);
    if (t.bytes_sent > t.bytes_acked + t.head_bytes) out << ", " << link::FormatBytes(t.bytes_sent) << " sent";
  } else {
    out << "  " << t.finished_at;
    if (!t.manifest.empty()) out << "  " << t.manifest.substr(0, 19);
  }
  if (!t.last_error.empty()) out << "\n      error: " << t.last_error;
  return out.str();
}

}  // namespace

std::vector<SiteStatus> CollectStatus(const HubConfig& config, HubState& state, link::WallTime now,
                                      const std::string& site, int recent) {
  if (!site.empty() && config.FindSite(site) == nullptr) {
    throw NotFound(config.file.string(), ": no site `", site, "` (sites: ", config.SiteNames(), ")");
  }
  std::vector<SiteStatus> out;
  for (const SiteConfig& c : config.sites) {
    if (!site.empty() && c.name != site) continue;
    link::Schedule schedule(c.timezone, c.windows, c.rate);
    SiteStatus s;
    s.row = state.Site(c.name);
    s.rate_now = schedule.RateAt(now);
    s.next_change = schedule.NextChange(now);
    s.open = state.OpenTransfers(c.name);
    s.held = state.HeldTransfers(c.name);
    s.recent = state.FinishedTransfers(c.name, recent);
    for (const Transfer& t : s.open) s.remaining += Remaining(t);
    s.done = schedule.FinishTime(s.remaining, now);
    out.push_back(std::move(s));
  }
  return out;
}

nlohmann::json StatusJson(const std::vector<SiteStatus>& sites, link::WallTime now) {
  nlohmann::json list = nlohmann::json::array();
  for (const SiteStatus& s : sites) {
    nlohmann::json transfers = nlohmann::json::array();
    for (const Transfer& t : s.open) transfers.push_back(TransferJson(t));
    for (const Transfer& t : s.held) transfers.push_back(TransferJson(t));
    for (const Transfer& t : s.recent) transfers.push_back(TransferJson(t));
    nlohmann::json j = {{"name", s.row.name},
                        {"last_contact", s.row.last_contact},
                        {"bytes_sent", s.row.bytes_sent},
                        {"bytes_today", s.row.bytes_today},
                        {"rate_now", s.rate_now == link::kUnlimitedRate ? nlohmann::json(nullptr) : nlohmann::json(s.rate_now)},
                        {"window_changes_at", UtcText(s.next_change)},
                        {"remaining", s.remaining},
                        {"eta", s.done ? nlohmann::json(UtcText(*s.done)) : nlohmann::json(nullptr)},
                        {"transfers", transfers}};
    list.push_back(std::move(j));
  }
  return {{"now", UtcText(now)}, {"sites", list}};
}

std::string StatusText(const std::vector<SiteStatus>& sites, link::WallTime now) {
  std::ostringstream out;
  for (const SiteStatus& s : sites) {
    out << "site " << s.row.name << ": last contact " << (s.row.last_contact.empty() ? "never" : s.row.last_contact)
        << "; " << link::FormatBytes(s.row.bytes_today) << " sent today, " << link::FormatBytes(s.row.bytes_sent)
        << " in all\n";
    out << "  link " << RateText(s.rate_now) << " now, changes in " << Until(now, s.next_change) << "; ";
    if (s.open.empty()) {
      out << "nothing queued" << (s.held.empty() ? "" : ", " + std::to_string(s.held.size()) + " held") << "\n";
    } else {
      out << link::FormatBytes(s.remaining) << " to send in " << s.open.size() << " transfer(s), "
          << (s.done ? "done in about " + Until(now, *s.done) : std::string("not within a year at its windows")) << "\n";
    }
    for (const Transfer& t : s.open) out << TransferLine(t) << "\n";
    for (const Transfer& t : s.held) {
      out << TransferLine(t) << "\n      over max_bundle_bytes: `outpost hub approve --site " << s.row.name << " " << t.id
          << "` sends it\n";
    }
    for (const Transfer& t : s.recent) out << TransferLine(t) << "\n";
  }
  return out.str();
}

}  // namespace outpost::hub
