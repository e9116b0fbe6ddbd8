#include "agent/runner.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "agent/agent_state.h"
#include "agent/applier.h"
#include "agent/connector.h"
#include "agent/fetcher.h"
#include "agent/gc.h"
#include "agent/hub_client.h"
#include "agent/inventory.h"
#include "agent/metrics.h"
#include "agent/signer.h"
#include "agent/wire.h"
#include "link/backoff.h"
#include "link/metrics_text.h"
#include "link/tls.h"
#include "registry/store_factory.h"

namespace outpost::agent {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;

// An apply running on its worker thread. The worker fills `outcome` and wakes the io loop
// unless the loop gave up on it (shutdown), after which it touches nothing but this.
struct WorkerApply {
  std::mutex mu;
  bool abandoned = false;
  std::optional<ApplyOutcome> outcome;
};

std::shared_ptr<const protocol::SigningKey> LoadVerifyKey(const AgentConfig& config) {
  if (!config.verify_key) return nullptr;
  return std::make_shared<const protocol::SigningKey>(protocol::SigningKey::LoadPublic(*config.verify_key));
}

double Seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

class Runner {
 public:
  Runner(const AgentConfig& config, const link::Clock& clock, asio::io_context& io)
      : config_(config),
        state_(config.state_dir / "agent.db", clock),
        tls_(link::MakeClientContext(config.tls)),
        key_(LoadVerifyKey(config)),
        stores_(std::make_shared<registry::RegistryStoreFactory>(registry::AccessOptions{})),
        client_(tls_, [this](HubStream& stream) { return Connect(stream); }, config.hub.str(), config.stall_timeout),
        fetcher_(config, client_, state_, key_.get()),
        backoff_(std::chrono::seconds(1), config.backoff_max),
        sleep_(io) {}

  asio::awaitable<void> Run();

  // Cancels what is in flight; Run returns soon after. On the io thread.
  void Stop() {
    spdlog::info("site {}: stopping", config_.site);
    stopping_ = true;
    client_.Close();
    sleep_.cancel();
    if (applying_) {
      std::lock_guard lock(applying_->mu);
      applying_->abandoned = true;
      if (applying_done_) applying_done_->cancel();
    }
  }

  bool apply_cut_short() const { return apply_cut_short_; }

 private:
  asio::awaitable<void> Connect(HubStream& stream);
  asio::awaitable<void> Session();
  asio::awaitable<void> Handle(const WorkItem& item);
  asio::awaitable<void> Apply(const TransferRow& row);
  asio::awaitable<void> Report(const TransferRow& row);
  asio::awaitable<void> SendInventory();
  asio::awaitable<void> SendSignature(const SignatureWanted& wanted);
  void CollectGarbage();
  asio::awaitable<void> Sleep(std::chrono::milliseconds d);

  const AgentConfig& config_;
  AgentState state_;
  asio::ssl::context tls_;
  std::shared_ptr<const protocol::SigningKey> key_;
  std::shared_ptr<registry::RegistryStoreFactory> stores_;
  HubClient client_;
  Fetcher fetcher_;
  link::Backoff backoff_;
  asio::steady_timer sleep_;
  std::shared_ptr<WorkerApply> applying_;
  asio::steady_timer* applying_done_ = nullptr;
  bool stopping_ = false;
  bool apply_cut_short_ = false;
  bool inventory_due_ = true;  // on each connection and after each apply
  std::vector<WorkItem> work_;  // the hub's last work list: its transfers' bases are protected
  // Manifests the hub asked a signature of that this agent could not sign or the hub refused:
  // not tried again before the next inventory.
  std::set<std::string> signatures_tried_;
};

asio::awaitable<void> Runner::Connect(HubStream& stream) {
  co_await ConnectToHub(config_, stream);
  spdlog::info("site {}: connected to hub {}{}", config_.site, config_.hub.str(),
               config_.proxy ? " via proxy " + config_.proxy->str() : "");
}

asio::awaitable<void> Runner::Run() {
  while (!stopping_) {
    std::chrono::milliseconds wait{0};
    try {
      co_await Session();
    } catch (const HubBusy& busy) {
      wait = busy.wait();
      spdlog::info("site {}: {}; asking again in {} s", config_.site, busy.what(), busy.wait().count());
    } catch (const std::exception& e) {  // Error, and the filesystem's errors on the spool's disk
      if (stopping_) break;
      link::ProcessErrors().Add("link");
      wait = backoff_.Next();
      spdlog::warn("site {}: {}; reconnecting in {:.1f} s", config_.site, e.what(), Seconds(wait));
    }
    if (stopping_) break;
    client_.Disconnect();
    co_await Sleep(wait);
  }
  spdlog::info("site {}: stopped", config_.site);
}

asio::awaitable<void> Runner::Sleep(std::chrono::milliseconds d) {
  boost::system::error_code ec;
  sleep_.expires_after(d);
  co_await sleep_.async_wait(asio::redirect_error(use_awaitable, ec));
}

asio::awaitable<void> Runner::Session() {
  for (const TransferRow& row : state_.Unreported()) {
    if (stopping_) co_return;
    co_await Report(row);
  }
  const std::string target = "/v1/work?wait=" + std::to_string(config_.poll_wait.count());
  const std::chrono::milliseconds poll = config_.poll_wait;
  inventory_due_ = true;
  while (!stopping_) {
    if (inventory_due_) co_await SendInventory();
    std::string body;
    HubResponse work = co_await client_.Send(http::verb::get, target, body, poll);
    ThrowUnlessSuccess(work, "GET /v1/work");
    backoff_.Reset();
    work_ = ParseWorkList(work.body);
    const std::vector<SignatureWanted> wanted = ParseWantedSignatures(work.body);
    for (const SignatureWanted& w : wanted) {  // first: the hub's plan waits for them
      if (stopping_) co_return;
      co_await SendSignature(w);
    }
    for (const WorkItem& item : work_) {
      if (stopping_) co_return;
      co_await Handle(item);
    }
    // The hub answers at once while it lists signatures; those tried already must not make
    // this loop spin.
    bool all_tried = std::all_of(wanted.begin(), wanted.end(),
                                 [&](const SignatureWanted& w) { return signatures_tried_.contains(w.manifest); });
    if (work_.empty() && !wanted.empty() && all_tried && !stopping_) co_await Sleep(poll);
  }
}

asio::awaitable<void> Runner::Handle(const WorkItem& item) {
  TransferRow row = state_.Begin(item);
  if (row.state == TransferState::kFetching) {
    co_await fetcher_.Fetch(row);
    row = *state_.Find(item.id);
  }
  if (row.state == TransferState::kReceived) {
    co_await Apply(row);
    row = *state_.Find(item.id);
  }
  if (row.state == TransferState::kApplied || row.state == TransferState::kFailed) {
    std::error_code ignored;
    std::filesystem::remove(SpoolPath(config_, item.id), ignored);
    CollectGarbage();
    co_await Report(row);
  }
}

// On the io thread, as the inventory: a layout's index and a few registry requests. Whatever
// fails is logged and tried again after the next transfer.
void Runner::CollectGarbage() {
  try {
    if (agent::CollectGarbage(config_, state_, *stores_, work_) > 0) inventory_due_ = true;
  } catch (const std::exception& e) {  // Error, and the filesystem's errors on the target's disk
    spdlog::warn("site {}: garbage collection failed (the target is unchanged or partly collected; tried again after "
                 "the next transfer): {}", config_.site, e.what());
  }
}

asio::awaitable<void> Runner::Apply(const TransferRow& row) {
  const std::string name = TransferName(config_, row.item);
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer done(executor, asio::steady_timer::time_point::max());
  auto worker = std::make_shared<WorkerApply>();
  applying_ = worker;
  applying_done_ = &done;
  spdlog::info("{}: applying into {}", name, config_.target_registry.empty() ? config_.target.text
                                                                              : "docker://" + config_.target_registry);
  std::thread([worker, executor, timer = &done,
               job = ApplyJob{config_, SpoolPath(config_, row.item.id), name, row.item.as, key_, stores_}] {
    ApplyOutcome outcome = ApplyBundle(job);
    std::lock_guard lock(worker->mu);
    if (worker->abandoned) return;
    worker->outcome = std::move(outcome);
    asio::post(executor, [worker, timer] {
      if (!worker->abandoned) timer->cancel();
    });
  }).detach();
  boost::system::error_code ec;
  co_await done.async_wait(asio::redirect_error(use_awaitable, ec));
  std::optional<ApplyOutcome> outcome;
  {
    std::lock_guard lock(worker->mu);
    outcome = worker->outcome;
    worker->abandoned = true;  // nothing may wake this timer once it is gone
  }
  applying_.reset();
  applying_done_ = nullptr;
  if (!outcome) {
    apply_cut_short_ = true;
    spdlog::warn("{}: stopping during its apply; the target is unchanged and the apply is redone at next start", name);
    co_return;
  }
  if (outcome->applied) {
    inventory_due_ = true;
    state_.SetApplied(row.item.id, outcome->manifest, outcome->tag);
    spdlog::info("{}: applied manifest {} tag {}", name, outcome->manifest, outcome->tag);
  } else {
    state_.SetFailed(row.item.id, outcome->error);
    spdlog::error("{}: failed: {}", name, outcome->error);
  }
}

asio::awaitable<void> Runner::Report(const TransferRow& row) {
  const std::string name = TransferName(config_, row.item);
  const std::string target = "/v1/transfers/" + std::to_string(row.item.id) + "/result";
  std::string body = ResultBody(row);
  HubResponse response = co_await client_.Send(http::verb::post, target, body);
  switch (ClassifyResultStatus(response.status)) {
    case ResultAnswer::kConfirmed:
      spdlog::info("{}: reported {}", name, StateName(row.state));
      break;
    case ResultAnswer::kRefused:
      spdlog::warn("{}: the hub refused its result ({}: {}); the result ({}) stays here only", name, response.status,
                   ErrorText(response.body), StateName(row.state));
      break;
    case ResultAnswer::kRetry:
      ThrowUnlessSuccess(response, "POST " + target);
  }
  state_.SetReported(row.item.id);
}

// The target is listed on the io thread (a few registry requests): the runner has nothing else
// to do meanwhile. A target that cannot be listed is logged and tried again before the next poll.
asio::awaitable<void> Runner::SendInventory() {
  std::string body;
  try {
    body = InventoryBody(TakeInventory(config_, *stores_));
  } catch (const Error& e) {
    spdlog::warn("site {}: cannot list the target for the hub's inventory: {}", config_.site, e.what());
    co_return;
  }
  const std::string target = "/v1/inventory";
  HubResponse response = co_await client_.Send(http::verb::put, target, body);
  inventory_due_ = false;
  if (response.status == 404) {
    spdlog::warn("site {}: the hub takes no inventory (an older hub); it plans nothing for this site", config_.site);
    co_return;
  }
  ThrowUnlessSuccess(response, "PUT /v1/inventory");
  signatures_tried_.clear();
  spdlog::info("site {}: inventory sent ({} bytes)", config_.site, body.size());
}

// Signed on the io thread, as the inventory is listed: the runner has nothing else to do until
// the hub has it, and a signature costs a read of the image's layers (seconds for hundreds of MB).
asio::awaitable<void> Runner::SendSignature(const SignatureWanted& wanted) {
  if (signatures_tried_.contains(wanted.manifest)) co_return;
  std::string body;
  try {
    body = SignTargetImage(config_, *stores_, wanted);
  } catch (const std::exception& e) {  // Error, and the filesystem's errors on the scratch disk
    signatures_tried_.insert(wanted.manifest);
    spdlog::warn("site {}: cannot sign {} ({}) for the hub: {}; the hub sends whole blobs once its wait is over",
                 config_.site, wanted.image, wanted.manifest, e.what());
    co_return;
  }
  const std::string target = "/v1/signatures/" + wanted.manifest;
  HubResponse response = co_await client_.Send(http::verb::put, target, body);
  if (ClassifyResultStatus(response.status) == ResultAnswer::kRefused) {
    signatures_tried_.insert(wanted.manifest);
    spdlog::warn("site {}: the hub refused the signature of {} ({}): {}: {}", config_.site, wanted.image,
                 wanted.manifest, response.status, ErrorText(response.body));
    co_return;
  }
  ThrowUnlessSuccess(response, "PUT " + target);
  spdlog::info("site {}: signature of {} ({}) sent: {} bytes", config_.site, wanted.image, wanted.manifest, body.size());
}

}  // namespace

AgentExit RunAgent(const AgentConfig& config, const link::Clock& clock, std::stop_token stop) {
  std::filesystem::create_directories(config.state_dir / "spool");
  std::filesystem::remove_all(config.state_dir / "scratch");  // what an apply cut short left
  asio::io_context io;
  Runner runner(config, clock, io);
  std::unique_ptr<MetricsListener> metrics;
  if (config.metrics_listen) metrics = std::make_unique<MetricsListener>(config, clock);
  if (metrics) metrics->Start();
  spdlog::info("site {}: agent started; hub {}, target {}", config.site, config.hub.str(),
               config.target_registry.empty() ? config.target.text : "docker://" + config.target_registry);
  std::exception_ptr failed;
  asio::co_spawn(io, runner.Run(), [&failed](std::exception_ptr e) { failed = e; });
  std::stop_callback on_stop(stop, [&] { asio::post(io, [&runner] { runner.Stop(); }); });
  io.run();
  if (failed) std::rethrow_exception(failed);
  return runner.apply_cut_short() ? AgentExit::kApplyCutShort : AgentExit::kStopped;
}

}  // namespace outpost::agent
