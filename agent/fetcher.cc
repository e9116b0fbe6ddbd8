#include "agent/fetcher.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/verb.hpp>

#include <cstdlib>
#include <exception>

#include "agent/spool.h"
#include "agent/wire.h"
#include "link/units.h"

namespace outpost::agent {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Head, Security or Unsupported errors: the bundle itself is refused, so is the transfer.
bool RefusesBundle(const Error& e) {
  return e.kind() == Error::Kind::kSecurity || e.kind() == Error::Kind::kCorruption ||
         e.kind() == Error::Kind::kUnsupported;
}

// Logs progress at info each time another tenth of the payload is durable.
class ProgressLog {
 public:
  ProgressLog(std::string name, uint64_t total) : name_(std::move(name)), total_(total) {}
  void Update(uint64_t done) {
    if (total_ == 0) return;
    const uint64_t tenth = done * 10 / total_;
    if (tenth <= logged_) return;
    logged_ = tenth;
    spdlog::info("{}: {}% received ({} of {})", name_, tenth * 10, link::FormatBytes(done), link::FormatBytes(total_));
  }

 private:
  std::string name_;
  uint64_t total_;
  uint64_t logged_ = 0;
};

// The test hook's offset, when OUTPOST_TEST_CORRUPT_PAYLOAD is set.
std::optional<uint64_t> TestCorruptOffset() {
  const char* v = std::getenv("OUTPOST_TEST_CORRUPT_PAYLOAD");
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::stoull(v);
}

}  // namespace

std::filesystem::path SpoolPath(const AgentConfig& config, int64_t id) {
  return config.state_dir / "spool" / (std::to_string(id) + ".bundle");
}

std::string TransferName(const AgentConfig& config, const WorkItem& item) {
  const std::string digest = item.bundle.substr(0, std::min<size_t>(item.bundle.size(), 19));
  return "site " + config.site + ": transfer " + std::to_string(item.id) + " (" + digest + ")";
}

Fetcher::Fetcher(const AgentConfig& config, HubClient& client, AgentState& state, const protocol::SigningKey* verify_key)
    : config_(config), client_(client), state_(state), verify_key_(verify_key), corrupt_at_(TestCorruptOffset()) {}

asio::awaitable<void> Fetcher::Fetch(const TransferRow& row) {
  const WorkItem& item = row.item;
  const std::string name = TransferName(config_, item);
  const int64_t id = item.id;
  std::filesystem::create_directories(SpoolPath(config_, id).parent_path());
  Spool::Options options{SpoolPath(config_, id), name, item.head_bytes, item.file_bytes, verify_key_,
                         config_.checkpoint_bytes, [this, id](uint64_t bytes) { state_.SetDurable(id, bytes); }};
  std::optional<Spool> spool;
  try {
    spool.emplace(std::move(options), row.durable_bytes);
  } catch (const Error& e) {
    if (!RefusesBundle(e)) throw;
    state_.SetFailed(id, e.what());
    spdlog::error("{}: failed: {}", name, e.what());
    co_return;
  }
  ProgressLog progress(name, item.file_bytes - item.head_bytes);
  uint64_t acked = spool->durable_payload();
  const std::string base = "/v1/transfers/" + std::to_string(id);
  while (!spool->complete()) {
    const bool head = !spool->head_complete();
    const std::string target = base + (head ? "/head" : "/payload");
    const std::string range = head ? "" : "bytes=" + std::to_string(spool->size() - item.head_bytes) + "-";
    std::exception_ptr broke;
    try {
      std::string flipped;
      const std::function<bool(std::string_view)> sink = [&](std::string_view piece) {
        const uint64_t at = spool->size() - item.head_bytes;
        if (!head && corrupt_at_ && *corrupt_at_ >= at && *corrupt_at_ - at < piece.size()) {
          flipped.assign(piece);
          flipped[*corrupt_at_ - at] ^= 0x01;
          piece = flipped;
          corrupt_at_.reset();
        }
        Spool::AppendResult r = spool->Append(piece);
        if (r.checkpoint_due) {
          spool->Checkpoint();
          progress.Update(spool->durable_payload());
        }
        return !r.bad_chunk;
      };
      HubResponse response = co_await client_.Stream(target, range, sink);
      ThrowUnlessSuccess(response, "GET " + target);
      if (head && spool->head_complete()) spdlog::info("{}: head verified ({} chunks)", name, spool->head().chunks().size());
    } catch (const Error& e) {
      if (!RefusesBundle(e)) {
        broke = std::current_exception();
      } else {
        state_.SetFailed(id, e.what());
        spdlog::error("{}: failed: {}", name, e.what());
      }
    }
    spool->Checkpoint();
    if (broke) std::rethrow_exception(broke);
    // Failed here, or applied or failed meanwhile by a sneakernet import: nothing more to fetch.
    if (TransferState now = state_.Find(id)->state; now == TransferState::kFailed || now == TransferState::kApplied) co_return;
    if (head && !spool->head_complete()) throw NetworkError("hub: ", target, " ended before the head was complete");
    progress.Update(spool->durable_payload());
    if (spool->durable_payload() > acked) {
      const std::string ack_target = base + "/ack";
      const std::string ack_body = AckBody(spool->durable_payload());
      HubResponse ack = co_await client_.Send(http::verb::post, ack_target, ack_body);
      ThrowUnlessSuccess(ack, "POST " + ack_target);
      acked = spool->durable_payload();
    }
  }
  state_.SetReceived(id);
  spdlog::info("{}: received all {}", name, link::FormatBytes(item.file_bytes));
}

}  // namespace outpost::agent
