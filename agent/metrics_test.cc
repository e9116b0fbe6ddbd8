#include "agent/metrics.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/test_clock.h"
#include "common/file.h"
#include "link/metrics_text.h"

namespace outpost::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

WorkItem Item(int64_t id) { return WorkItem{id, "sha256:" + std::string(64, 'a'), 100, 5000, "app:2.0"}; }

class AgentMetricsTest : public ::testing::Test {
 protected:
  TempDir dir_;
  testing::FixedClock clock_;
  AgentState state_{dir_.path() / "agent.db", clock_};
};

TEST_F(AgentMetricsTest, AFreshAgentReportsZerosAndNoLastApply) {
  std::string text = AgentMetricsText(state_);
  EXPECT_THAT(link::ExpositionProblems(text), IsEmpty());
  EXPECT_THAT(text, HasSubstr("outpost_agent_bytes_received_total 0\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_transfers_total{result=\"applied\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("\noutpost_agent_last_apply_timestamp_seconds ")));
}

TEST_F(AgentMetricsTest, ReportsBytesResultsTheLastApplyAndFailuresFromTheState) {
  state_.Begin(Item(1));
  state_.SetDurable(1, 5000);
  state_.SetReceived(1);
  state_.SetApplied(1, "sha256:" + std::string(64, 'b'), "app:2.0");
  state_.Begin(Item(2));
  state_.SetDurable(2, 700);
  state_.SetFailed(2, "signature");
  state_.Begin(Item(3));
  std::string text = AgentMetricsText(state_);
  EXPECT_THAT(link::ExpositionProblems(text), IsEmpty());
  EXPECT_THAT(text, HasSubstr("outpost_agent_bytes_received_total 5700\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_transfers_total{result=\"applied\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_transfers_total{result=\"failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_transfers_in_progress 1\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_last_apply_timestamp_seconds 1800000000\n"));
  EXPECT_THAT(text, HasSubstr("outpost_agent_errors_total{kind=\"apply_failed\"} 1\n"));
}

// GET `target` from 127.0.0.1:port; the whole response.
std::string Get(uint16_t port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(AgentMetricsTest, TheListenerServesMetricsOnAnEphemeralPortItWritesDown) {
  AgentConfig config;
  config.site = "oslo";
  config.state_dir = dir_.path();
  config.metrics_listen = HostPort{"127.0.0.1", 0};
  MetricsListener listener(config, clock_);
  listener.Start();
  EXPECT_EQ(ReadFileToString(dir_.path() / "metrics_port"), std::to_string(listener.port()) + "\n");
  std::string response = Get(listener.port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  EXPECT_THAT(response, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(response, HasSubstr("outpost_agent_transfers_total"));
  EXPECT_THAT(Get(listener.port(), "/other"), HasSubstr("404"));
}

TEST(AgentConfig, ReadsMetricsListenWithPortZeroAllowedThereOnly) {
  const std::string yaml = "site: oslo\nhub: h:1\nstate_dir: s\ntls: {ca: a, cert: b, key: c}\ntarget: oci:/t\n";
  auto parse = [](const std::string& text) { return ParseAgentConfig(link::ConfigMap::Parse(text, "agent.yaml"), std::nullopt); };
  EXPECT_FALSE(parse(yaml).metrics_listen);
  EXPECT_EQ(parse(yaml + "metrics_listen: 127.0.0.1:9465\n").metrics_listen->str(), "127.0.0.1:9465");
  EXPECT_EQ(parse(yaml + "metrics_listen: 127.0.0.1:0\n").metrics_listen->port, 0);
  EXPECT_THROW(parse(yaml + "metrics_listen: nowhere\n"), Error);
}

}  // namespace
}  // namespace outpost::agent
