// edgetune-cli device add|list|test|remove: the SSH devices models are deployed to.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "core/deploy/device.h"
#include "core/deploy/device_info.h"
#include "core/deploy/ssh_session.h"

namespace edgetune::cli {

/// Connection options that ask on the terminal: the host key on first contact (or accept it with --yes),
/// passwords and key passphrases with echo off. Shared with cmd_deploy.cpp.
deploy::ConnectOptions terminalConnectOptions(bool accept_new_host_key) {
  deploy::ConnectOptions options;
  options.confirm_host_key = [accept_new_host_key](const deploy::HostKeyInfo& info) {
    std::cerr << "The authenticity of host " << info.host << ":" << info.port << " can't be established.\n"
              << info.key_type << " key fingerprint is " << info.fingerprint_sha256 << ".\n";
    if (accept_new_host_key) {
      std::cerr << "Accepted (--yes).\n";
      return true;
    }
    if (!::isatty(STDIN_FILENO)) {
      std::cerr << "Not a terminal: pass --yes to accept it.\n";
      return false;
    }
    std::cerr << "Trust it and continue connecting (yes/no)? ";
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "yes" || answer == "y";
  };
  options.ask_secret = [](const std::string& prompt) -> std::optional<std::string> {
    if (!::isatty(STDIN_FILENO)) return std::nullopt;
    std::cerr << prompt << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string secret;
    std::getline(std::cin, secret);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return secret;
  };
  return options;
}

void addDeviceCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto* device = app.add_subcommand("device", "Manage SSH devices (add, list, test, remove)");
  device->require_subcommand(1);

  struct AddArgs {
    std::string name, host, user, auth = "agent", key_file, known_hosts;
    int port = 22;
    bool replace = false;
  };
  auto add = std::make_shared<AddArgs>();
  auto* addCmd =
      device->add_subcommand("add", "Add a device (passwords are never stored; they are asked when needed)");
  addCmd->add_option("name", add->name, "Device name (letters, digits, '.', '_', '-')")->required();
  addCmd->add_option("--host", add->host, "Host name or IP address")->required();
  addCmd->add_option("--port", add->port, "SSH port")->capture_default_str()->check(CLI::Range(1, 65535));
  addCmd->add_option("--user", add->user, "Login name")->required();
  addCmd->add_option("--auth", add->auth, "agent, key or password")
      ->capture_default_str()
      ->check(CLI::IsMember({"agent", "key", "password"}));
  addCmd->add_option("--key", add->key_file, "Private key file (with --auth key)");
  addCmd->add_option("--known-hosts", add->known_hosts, "known_hosts file (default: EdgeTune's own)");
  addCmd->add_flag("--replace", add->replace, "Replace a device of the same name");
  addCmd->callback([add, &global, &run] {
    run = [add, &global] {
      // known_hosts is written (host keys accepted on first contact are added), never over the key.
      CommandFiles().input("--key", add->key_file).output("--known-hosts", add->known_hosts).check();
      deploy::Device d;
      d.name = add->name;
      d.host = add->host;
      d.port = add->port;
      d.user = add->user;
      d.auth = deploy::authMethodFromString(add->auth);
      if (!add->key_file.empty()) d.key_file = std::filesystem::absolute(add->key_file);
      if (!add->known_hosts.empty()) d.known_hosts = std::filesystem::absolute(add->known_hosts);
      if (d.auth == deploy::AuthMethod::Key && d.key_file.empty()) d.key_file = "";  // validate() names it
      deploy::DeviceStore store;
      store.add(d, add->replace);
      emit(global, d.toJson(), "added device " + d.describe() + " to " + store.file().string() + "\n");
      return 0;
    };
  });

  auto* listCmd = device->add_subcommand("list", "List devices");
  listCmd->callback([&global, &run] {
    run = [&global] {
      deploy::DeviceStore store;
      nlohmann::json list = nlohmann::json::array();
      std::string text;
      for (const auto& d : store.list()) {
        list.push_back(d.toJson());
        text += d.name + "\t" + d.user + "@" + d.host + ":" + std::to_string(d.port) + "\t" +
                toString(d.auth) + "\n";
      }
      if (text.empty()) text = "no devices (add one with: edgetune-cli device add NAME --host H --user U)\n";
      emit(global, list, text);
      return 0;
    };
  });

  struct TestArgs {
    std::string name, remote_dir = "edgetune";
    bool yes = false;
    int timeout_s = 15;
  };
  auto test = std::make_shared<TestArgs>();
  auto* testCmd = device->add_subcommand("test", "Connect and report the device's OS, CPU, RAM and runtime");
  testCmd->add_option("name", test->name, "Device name")->required();
  testCmd->add_flag("-y,--yes", test->yes, "Accept the host key on first contact without asking");
  testCmd->add_option("--remote-dir", test->remote_dir, "EdgeTune's folder on the device")
      ->capture_default_str();
  testCmd->add_option("--timeout", test->timeout_s, "Seconds for each network step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxTimeoutSeconds));
  testCmd->callback([test, &global, &run] {
    run = [test, &global] {
      const deploy::Device d = deploy::DeviceStore().get(test->name);
      auto options = terminalConnectOptions(test->yes);
      options.timeout = std::chrono::seconds(test->timeout_s);
      auto session = deploy::SshSession::connect(d, options);
      const deploy::DeviceInfo info = deploy::probeDevice(*session, test->remote_dir);
      nlohmann::json j = info.toJson();
      j["device"] = d.name;
      j["host_key"] = session->hostKeyFingerprint();
      emit(global, j,
           "Connected to " + d.describe() + " (host key " + session->hostKeyFingerprint() + ")\n" +
               info.toText());
      return 0;
    };
  });

  auto removeName = std::make_shared<std::string>();
  auto* removeCmd = device->add_subcommand("remove", "Remove a device");
  removeCmd->add_option("name", *removeName, "Device name")->required();
  removeCmd->callback([removeName, &global, &run] {
    run = [removeName, &global] {
      deploy::DeviceStore store;
      if (!store.remove(*removeName))
        throw Error("no device named '" + *removeName + "' in " + store.file().string());
      emit(global, {{"removed", *removeName}}, "removed device " + *removeName + "\n");
      return 0;
    };
  });
}

}  // namespace edgetune::cli
