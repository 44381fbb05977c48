#pragma once
// SshSession: one logged-in SSH connection to a Device (libssh), with strict host-key checking, timeouts on
// every network step, remote commands and SFTP uploads. libssh stays out of this header.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/deploy/device.h"
#include "core/util/error.h"

namespace edgetune::deploy {

/// The connection broke or a network step timed out; the operation may succeed if retried.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

/// The device presented a host key different from the one in known_hosts; never retried.
class HostKeyChangedError : public Error {
 public:
  using Error::Error;
};

/// What the user is asked to confirm on first contact with a host.
struct HostKeyInfo {
  std::string host;
  int port = 22;
  std::string key_type;            // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  std::string fingerprint_sha256;  // "SHA256:base64..." as ssh-keygen -l prints it
};

/// Returns true to trust the key (it is then added to the known_hosts file).
using ConfirmHostKey = std::function<bool(const HostKeyInfo&)>;
/// Asks the user for a secret (password or key passphrase); nullopt = the user declined.
using AskSecret = std::function<std::optional<std::string>(const std::string& prompt)>;

struct ConnectOptions {
  std::chrono::milliseconds timeout{15000};  // connect, authentication and every read/write
  ConfirmHostKey confirm_host_key;           // empty: unknown hosts are refused
  AskSecret ask_secret;                      // empty: password auth and encrypted keys fail
};

/// The questions a login may put to a person (a terminal, a dialog), for code that connects on behalf of a
/// caller that has one (a pipeline step run by `edgetune-cli deploy`); unattended code has none.
struct LoginPrompts {
  ConfirmHostKey confirm_host_key;  // empty: unknown hosts are refused
  AskSecret ask_secret;             // empty: password auth and encrypted keys fail
};

/// Output of one remote command.
struct ExecResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// One authenticated SSH connection. Not thread-safe: use it from one thread at a time.
class SshSession {
 public:
  /// Connects, verifies the host key against the device's known_hosts file and logs in.
  /// Throws HostKeyChangedError (naming the host and both fingerprints), ConnectionError (unreachable,
  /// timed out) or Error (refused key, authentication failed).
  static std::unique_ptr<SshSession> connect(const Device& device, ConnectOptions options);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  const Device& device() const;
  /// SHA-256 fingerprint of the host key this session verified.
  const std::string& hostKeyFingerprint() const;
  bool isConnected() const;
  /// Drops the connection (if any) and connects again with the same device and options.
  void reconnect();

  /// Runs `command` (trusted program text + shellQuote()d arguments) in the login shell, feeding `input` to
  /// its stdin. Throws ConnectionError if the connection is lost or the command does not finish within
  /// `timeout` (0 = the session timeout).
  ExecResult exec(const std::string& command,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                  std::string_view input = {});
  /// exec() that throws Error("<device>: <what> failed (exit N): <stderr>") on a non-zero exit; returns
  /// stdout.
  std::string execChecked(const std::string& command, const std::string& what,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  /// Called during uploads with bytes sent so far and the total; may throw (e.g. CancelledError) to stop.
  using UploadProgress = std::function<void(uint64_t done_bytes, uint64_t total_bytes)>;
  /// Writes `local` to `remote_path` over SFTP (created or truncated, mode `mode`). Remote paths are relative
  /// to the login folder unless absolute. Throws ConnectionError when the connection drops.
  void upload(const std::filesystem::path& local, const std::string& remote_path,
              const UploadProgress& progress = {}, int mode = 0644);
  /// Removes a remote file if it exists (no error if it does not).
  void removeFile(const std::string& remote_path);

 private:
  struct Impl;
  explicit SshSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetune::deploy
