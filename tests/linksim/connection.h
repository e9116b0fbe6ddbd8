// One accepted client connection and its upstream.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>

#include <memory>
#include <string>

#include "tests/linksim/link_state.h"
#include "tests/linksim/pump.h"

namespace outpost::linksim {

// Dials the upstream (--upstream, or what the client's CONNECT names with --connect-proxy),
// then forwards both ways through two Pumps. Always held by a shared_ptr: every pending handler
// holds one, so the connection lives until its last handler has run. Registers itself in
// LinkState::open until closed.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(LinkState& link, tcp::socket client);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads the CONNECT head or dials the fixed upstream, then forwards.
  void Start();
  // The simulator closes the connection (a fault): counts a cut, then each side gets a FIN
  // after every byte already written to it, and what it still sends is discarded until it
  // closes (or a second has passed). No-op once closed.
  void Cut();
  // Closes both sides now (an end failed, or both directions finished). No-op once closed.
  void Close();
  // A pump has finished its direction; closes the connection when both have.
  void OnPumpDone();
  bool closed() const { return closed_; }

 private:
  void ReadConnectHead();
  void OnConnectHead(const std::string& head, std::string rest);
  void Dial(const std::string& host, uint16_t port, std::string early);
  // The upstream could not be reached: a 502 for a CONNECT client, else just closes.
  void DialFailed();
  // Writes `response` to the client, then closes gently or forwards (`early` going up first).
  void Answer(std::string response, bool then_close, std::string early);
  void Forward(std::string early);
  // Marks the connection closed and cancels everything pending; the sockets stay open.
  void Shutdown();
  // Shutdown, then each side gets a FIN after what was written to it (see Cut).
  void CloseGently();

  LinkState& link_;
  tcp::socket client_;
  tcp::socket upstream_;
  tcp::resolver resolver_;
  std::string head_;  // CONNECT bytes received so far
  Pump down_;
  Pump up_;
  bool closed_ = false;
};

}  // namespace outpost::linksim
