// The link simulator: the listener, the control file, the stats file and the signals, around
// the connections it accepts. Runs on one io_context thread.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>

#include <string>

#include "tests/linksim/link_state.h"

namespace outpost::linksim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Simulator {
 public:
  // Listens on 127.0.0.1:options.listen_port and schedules the --blackhole-at intervals from
  // now. Throws boost::system::system_error when the port cannot be bound.
  Simulator(asio::io_context& io, Options options);
  // Closes the open connections, so the handlers `io` still holds no longer reach this.
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Reads the control file's current content as its baseline, writes the port file, then
  // accepts connections, polls the control file and writes the stats file until SIGTERM or
  // SIGINT, which writes the stats file once more, prints the stats line on stderr and stops
  // `io`. Returns false when the port file cannot be written.
  bool Start();
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void Accept();
  void PollControl();
  // Runs one control command (the first line of the control file); unknown ones are reported
  // on stderr and ignored.
  void RunCommand(const std::string& line);
  // Applies `act` (Cut or Close) to every open connection.
  void ForEachOpen(void (Connection::*act)());
  void WriteStatsEvery200ms();
  Stats Snapshot() const;
  void OnSignal();

  asio::io_context& io_;
  LinkState link_;
  tcp::acceptor acceptor_;
  asio::steady_timer control_timer_;
  asio::steady_timer stats_timer_;
  asio::signal_set signals_;
  std::string control_content_;  // the control file's content when last polled
};

}  // namespace outpost::linksim
