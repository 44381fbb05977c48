#pragma once
// A real Secret Service for keychain tests: a private D-Bus session bus (dbus-daemon) and
// gnome-keyring-daemon with a fresh "login" keyring unlocked by a test password, all under one temporary
// folder. It sets this process's DBUS_SESSION_BUS_ADDRESS / XDG_* variables, so start it before the first
// keychain call.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace edgetune::test {

class SecretService {
 public:
  /// Why it cannot run here, or "" when it can.
  static std::string skipReason() {
    if (!std::filesystem::exists("/usr/bin/dbus-daemon"))
      return "dbus-daemon is missing (Debian package dbus)";
    if (!std::filesystem::exists("/usr/bin/gnome-keyring-daemon"))
      return "gnome-keyring-daemon is missing (Debian package gnome-keyring)";
    return "";
  }

  explicit SecretService(const std::filesystem::path& dir) {
    for (const char* sub : {"data", "runtime", "config"}) std::filesystem::create_directories(dir / sub);
    std::filesystem::permissions(dir / "runtime", std::filesystem::perms::owner_all);
    setenv("XDG_DATA_HOME", (dir / "data").c_str(), 1);
    setenv("XDG_RUNTIME_DIR", (dir / "runtime").c_str(), 1);
    setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
    address_ = startBus();
    setenv("DBUS_SESSION_BUS_ADDRESS", address_.c_str(), 1);
    startKeyring();
    // The daemon owns org.freedesktop.secrets shortly after start; wait for it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::system("dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus "
                       "org.freedesktop.DBus.GetNameOwner string:org.freedesktop.secrets >/dev/null 2>&1") !=
           0) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("gnome-keyring-daemon did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~SecretService() {
    for (pid_t pid : {keyring_pid_, bus_pid_}) {
      if (pid <= 0) continue;
      kill(pid, SIGTERM);
      int status = 0;
      waitpid(pid, &status, 0);
    }
  }
  const std::string& busAddress() const { return address_; }

 private:
  std::string startBus() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    bus_pid_ = fork();
    if (bus_pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      close(fds[0]);
      const std::string fd = "--print-address=" + std::to_string(fds[1]);
      execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", fd.c_str(),
            nullptr);
      _exit(127);
    }
    close(fds[1]);
    std::string address;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') address += c;
    close(fds[0]);
    if (address.empty()) throw std::runtime_error("dbus-daemon printed no address");
    return address;
  }

  void startKeyring() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    keyring_pid_ = fork();
    if (keyring_pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      close(fds[1]);
      dup2(fds[0], 0);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl("/usr/bin/gnome-keyring-daemon", "gnome-keyring-daemon", "--foreground", "--unlock",
            "--components=secrets", nullptr);
      _exit(127);
    }
    close(fds[0]);
    const std::string password = "edgetune-test-keyring";  // unlocks the throw-away login keyring
    if (write(fds[1], password.data(), password.size()) < 0)
      throw std::runtime_error("cannot unlock the keyring");
    close(fds[1]);
  }

  std::string address_;
  pid_t bus_pid_ = -1, keyring_pid_ = -1;
};

}  // namespace edgetune::test
