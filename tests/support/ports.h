// TCP ports on loopback for tests that start servers (registries, hubs, simulators): pick one
// that is free, wait until one accepts. Test code only.
#pragma once

namespace outpost::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). Throws
// IOError when no socket can be bound.
int FreePort();

// Waits until 127.0.0.1:`port` accepts a connection; false after `seconds`.
bool WaitForPort(int port, int seconds);

}  // namespace outpost::testing
