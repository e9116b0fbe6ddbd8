// Dialling the hub: TCP (directly or to the proxy, then CONNECT through it), then TLS 1.3 with
// the hub's certificate checked against the CA and the hub's host name. Every step that makes
// no progress for the stall timeout fails.
#pragma once

#include <utility>  // before Asio: its 1.74 awaitable.hpp uses std::exchange unincluded

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>

#include "agent/agent_config.h"

namespace outpost::agent {

using HubStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Connects `stream` (new, made with the client TLS context) to `config.hub`, through
// `config.proxy` when set, and completes the TLS handshake. Closing the stream's socket cancels
// it. Throws NetworkError naming the hub (and the proxy) and what failed; a refused certificate
// is a NetworkError too, with OpenSSL's verify reason.
boost::asio::awaitable<void> ConnectToHub(const AgentConfig& config, HubStream& stream);

}  // namespace outpost::agent
