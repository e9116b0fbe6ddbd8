// Real registries for integration tests: Debian's docker-registry (distribution 2.8) started on
// 127.0.0.1 with a free port and a temporary storage directory, in the set-ups the registry
// tests need, plus helpers to run skopeo and the outpost binary.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/file.h"
#include "tests/support/command.h"
#include "tests/support/ports.h"

namespace outpost::testing {

class TestRegistry {
 public:
  enum class Mode {
    kHttp,      // plain HTTP, anonymous
    kTls,       // TLS with a CA made for the test (cert_dir() holds ca.crt)
    kBasicTls,  // TLS plus htpasswd (bcrypt) basic auth: kUser / kPassword
    kToken,     // plain HTTP, `auth: token` against token_server.py (bearer tokens)
    kTlsToken,  // TLS, with a token realm on plain http (the downgrade a client must refuse)
  };
  static constexpr const char* kUser = "tester";
  static constexpr const char* kPassword = "s3cret-pw";

  // `extra_config` is appended to config.yml (top-level keys, e.g. a `notifications:` block);
  // `port` 0: a free one.
  explicit TestRegistry(Mode mode, std::string extra_config = "", int port = 0);
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // SIGKILLs the registry process (storage stays).
  void Kill();
  // Starts it again on the same port and storage; returns once it accepts connections.
  void Start();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // A --cert-dir for clients: the test CA as ca.crt (TLS modes).
  std::string cert_dir() const { return (dir_.path() / "client-certs").string(); }
  // One line per token the token server issued (kToken, kTlsToken).
  std::string token_log() const { return (dir_.path() / "tokens.log").string(); }
  // One line per request the token server received, issued or not.
  std::string token_requests_log() const { return token_log() + ".requests"; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  void MakeCertificates();
  void WriteConfig();

  Mode mode_;
  std::string extra_config_;
  TempDir dir_;
  int port_;
  int token_port_ = 0;
  pid_t pid_ = -1;
  pid_t token_pid_ = -1;
};

// Starts `argv` in the background with output to `log`; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log);
// The path of a script in tests/registry/.
std::string Script(const std::string& name);
// Makes an OCI layout image with make_image.py; returns the top manifest/index digest.
std::string MakeImage(const std::filesystem::path& dir, const std::string& tag, const std::string& sizes,
                      bool index = false);

}  // namespace outpost::testing
