#include "tests/registry/test_registry.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "common/error.h"

namespace outpost::testing {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string Script(const std::string& name) { return std::string(OUTPOST_SOURCE_DIR) + "/tests/registry/" + name; }

std::string MakeImage(const std::filesystem::path& dir, const std::string& tag, const std::string& sizes,
                      bool index) {
  std::string out;
  std::string cmd = "python3 " + Script("make_image.py") + " " + dir.string() + " " + tag + " " + sizes +
                    (index ? " --index" : "");
  if (Shell(cmd, &out) != 0) throw IOError("make_image.py failed: ", out);
  return out.substr(0, out.find('\n'));
}

TestRegistry::TestRegistry(Mode mode, std::string extra_config, int port)
    : mode_(mode), extra_config_(std::move(extra_config)), port_(port != 0 ? port : FreePort()) {
  if (mode_ != Mode::kHttp) MakeCertificates();
  if (mode_ == Mode::kBasicTls) {
    std::string cmd = std::string("htpasswd -Bbn ") + kUser + " " + kPassword + " > " +
                      (dir_.path() / "htpasswd").string();
    if (Shell(cmd) != 0) throw IOError("htpasswd failed");
  }
  if (mode_ == Mode::kToken || mode_ == Mode::kTlsToken) {
    token_port_ = FreePort();
    token_pid_ = Spawn({"python3", Script("token_server.py"), std::to_string(token_port_),
                        (dir_.path() / "token.key").string(), (dir_.path() / "token.crt").string(),
                        "outpost-test-issuer", "outpost-test-registry", std::string(kUser) + ":" + kPassword,
                        token_log()},
                       (dir_.path() / "token.out").string());
    if (!WaitForPort(token_port_, 20)) throw IOError("token server did not start");
  }
  WriteConfig();
  Start();
}

TestRegistry::~TestRegistry() {
  Kill();
  if (token_pid_ > 0) {
    kill(token_pid_, SIGKILL);
    waitpid(token_pid_, nullptr, 0);
  }
}

void TestRegistry::MakeCertificates() {
  std::string d = dir_.path().string();
  fs::create_directories(cert_dir());
  std::string cmd =
      "cd " + d + " && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && " +
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=outpost-test-ca "
      "-addext basicConstraints=critical,CA:TRUE && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
      "-extfile san.ext && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 "
      "-subj /CN=outpost-test-token-signer && cp ca.crt " + cert_dir() + "/ca.crt";
  std::string out;
  if (Shell(cmd, &out) != 0) throw IOError("openssl failed: ", out);
}

void TestRegistry::WriteConfig() {
  std::string d = dir_.path().string();
  std::string config =
      "version: 0.1\n"
      "log:\n  level: error\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: " + d + "/storage\n  delete:\n    enabled: true\n"
      "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n  secret: outpost-test-secret\n";
  if (mode_ == Mode::kTls || mode_ == Mode::kBasicTls || mode_ == Mode::kTlsToken) {
    config += "  tls:\n    certificate: " + d + "/server.crt\n    key: " + d + "/server.key\n";
  }
  if (mode_ == Mode::kBasicTls) {
    config += "auth:\n  htpasswd:\n    realm: outpost-test\n    path: " + d + "/htpasswd\n";
  }
  if (mode_ == Mode::kToken || mode_ == Mode::kTlsToken) {
    config += "auth:\n  token:\n    realm: http://127.0.0.1:" + std::to_string(token_port_) +
              "/token\n    service: outpost-test-registry\n    issuer: outpost-test-issuer\n"
              "    rootcertbundle: " + d + "/token.crt\n";
  }
  WriteFileAtomic(dir_.path() / "config.yml", config + extra_config_);
}

void TestRegistry::Start() {
  pid_ = Spawn({"docker-registry", "serve", (dir_.path() / "config.yml").string()},
               (dir_.path() / "registry.log").string());
  if (!WaitForPort(port_, 20)) throw IOError("docker-registry did not start; see ", dir_.path().string());
}

void TestRegistry::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace outpost::testing
