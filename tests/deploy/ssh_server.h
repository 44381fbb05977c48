#pragma once
// A real OpenSSH server on 127.0.0.1 for the deploy tests: its own host key, client key and authorized_keys
// in a folder, a random free port, started in the foreground (-D) and killed at the end. Needs root and
// /usr/sbin/sshd.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/deploy/device.h"

namespace edgetune::test {

/// Runs a shell command locally; returns its exit status (and stdout in `out` if given).
inline int runLocal(const std::string& command, std::string* out = nullptr) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  const int status = pclose(pipe);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// SHA-256 fingerprint of a public key file as ssh-keygen prints it ("SHA256:...").
inline std::string keygenFingerprint(const std::filesystem::path& public_key) {
  std::string out;
  runLocal("ssh-keygen -l -E sha256 -f '" + public_key.string() + "'", &out);
  std::istringstream words(out);
  std::string bits, fingerprint;
  words >> bits >> fingerprint;
  return fingerprint;
}

class SshServer {
 public:
  /// Why the tests cannot run here, or "" when they can.
  static std::string skipReason() {
    if (geteuid() != 0) return "the SSH tests start sshd, which needs root (run the tests as root)";
    if (!std::filesystem::exists("/usr/sbin/sshd"))
      return "/usr/sbin/sshd is missing (Debian package openssh-server)";
    if (runLocal("command -v ssh-keygen >/dev/null") != 0) return "ssh-keygen is missing (openssh-client)";
    return "";
  }

  explicit SshServer(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::filesystem::create_directories("/run/sshd");  // sshd's privilege-separation folder
    keygen(dir_ / "host_key");
    keygen(dir_ / "other_host_key");
    keygen(dir_ / "client_key");
    keygen(dir_ / "stranger_key");
    std::filesystem::copy_file(dir_ / "client_key.pub", dir_ / "authorized_keys",
                               std::filesystem::copy_options::overwrite_existing);
    port_ = freePort();
  }
  ~SshServer() { stop(); }

  /// Starts sshd with `host_key` ("host_key" or "other_host_key") and waits until it accepts connections.
  void start(const std::string& host_key = "host_key") {
    stop();
    host_key_ = host_key;
    const auto config = dir_ / "sshd_config";
    std::ofstream(config) << "Port " << port_ << "\n"
                          << "ListenAddress 127.0.0.1\n"
                          << "HostKey " << (dir_ / host_key).string() << "\n"
                          << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
                          << "PidFile " << (dir_ / "sshd.pid").string()
                          << "\n"
                          // Passwords for the account the password test creates; root logs in by key only.
                          << "UsePAM no\nStrictModes no\nPasswordAuthentication yes\n"
                          << "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                          << "Subsystem sftp internal-sftp\nLogLevel VERBOSE\n";
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // no stray sshd if the test process dies
      const std::string cfg = config.string(), log = (dir_ / "sshd.log").string();
      execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", cfg.c_str(), "-E", log.c_str(), nullptr);
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepting()) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("sshd exited at start-up; see " + (dir_ / "sshd.log").string());
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("sshd did not start listening");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    killSessions();
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Kills every per-connection sshd process (the listener stays up): a connection lost mid-transfer.
  void killSessions() const {
    if (pid_ <= 0) return;
    for (pid_t child : descendants(pid_)) kill(child, SIGKILL);
  }

  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string hostKeyFingerprint() const { return keygenFingerprint(dir_ / (host_key_ + ".pub")); }
  std::string fingerprintOf(const std::string& key) const { return keygenFingerprint(dir_ / (key + ".pub")); }

  /// A device that logs in as root with the client key, checking host keys against `known_hosts`.
  deploy::Device device(const std::filesystem::path& known_hosts,
                        const std::string& key = "client_key") const {
    deploy::Device d;
    d.name = "loopback";
    d.host = "127.0.0.1";
    d.port = port_;
    d.user = "root";
    d.auth = deploy::AuthMethod::Key;
    d.key_file = dir_ / key;
    d.known_hosts = known_hosts;
    return d;
  }

 private:
  static void keygen(const std::filesystem::path& path) {
    if (runLocal("ssh-keygen -q -t ed25519 -N '' -f '" + path.string() + "' </dev/null >/dev/null 2>&1") != 0)
      throw std::runtime_error("ssh-keygen failed for " + path.string());
  }

  static int freePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  bool accepting() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    return ok;
  }

  static std::vector<pid_t> descendants(pid_t root) {
    std::vector<pid_t> found;
    std::set<pid_t> parents{root};
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const auto close_paren = line.rfind(')');
        if (close_paren == std::string::npos) continue;
        std::istringstream rest(line.substr(close_paren + 2));
        char state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        const pid_t pid = std::stoi(name);
        if (parents.count(ppid) && !parents.count(pid)) {
          parents.insert(pid);
          found.push_back(pid);
          grew = true;
        }
      }
    }
    return found;
  }

  std::filesystem::path dir_;
  std::string host_key_ = "host_key";
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace edgetune::test
