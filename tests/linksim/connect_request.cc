#include "tests/linksim/connect_request.h"

#include "tests/linksim/options.h"

namespace outpost::linksim {

std::optional<size_t> ConnectHeadEnd(std::string_view received) {
  size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  return end + 4;
}

std::optional<ConnectTarget> ParseConnectHead(std::string_view head) {
  std::string_view line = head.substr(0, head.find("\r\n"));
  constexpr std::string_view kMethod = "CONNECT ";
  if (line.substr(0, kMethod.size()) != kMethod) return std::nullopt;
  line.remove_prefix(kMethod.size());
  size_t space = line.find(' ');
  if (space == std::string_view::npos || line.substr(space + 1, 7) != "HTTP/1.") return std::nullopt;
  ConnectTarget target;
  if (!SplitHostPort(std::string(line.substr(0, space)), target.host, target.port)) return std::nullopt;
  return target;
}

}  // namespace outpost::linksim
