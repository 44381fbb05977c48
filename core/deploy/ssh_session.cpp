// SshSession over libssh: strict known_hosts checking, key/agent/password login, commands, SFTP uploads.
#include "core/deploy/ssh_session.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/deploy/shell.h"

namespace edgetune::deploy {

namespace {

std::string fingerprintOf(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != 0) return "(unknown)";
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  std::string out = text ? text : "(unknown)";
  ssh_string_free_char(text);
  ssh_clean_pubkey_hash(&hash);
  return out;
}

// Fingerprints of the keys known_hosts holds for host:port (plain entries; hashed ones cannot be matched
// back).
std::string storedFingerprints(const std::filesystem::path& known_hosts, const std::string& host, int port) {
  const std::string pattern = port == 22 ? host : "[" + host + "]:" + std::to_string(port);
  std::ifstream in(known_hosts);
  std::string found;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string hosts, type, base64;
    if (!(words >> hosts >> type >> base64) || hosts.empty() || hosts[0] == '#') continue;
    bool match = false;
    std::istringstream names(hosts);
    for (std::string name; std::getline(names, name, ',');) match = match || name == pattern;
    if (!match) continue;
    ssh_key key = nullptr;
    if (ssh_pki_import_pubkey_base64(base64.c_str(), ssh_key_type_from_name(type.c_str()), &key) == SSH_OK) {
      found += (found.empty() ? "" : ", ") + fingerprintOf(key) + " (" + type + ")";
      ssh_key_free(key);
    }
  }
  return found.empty() ? "another key" : found;
}

// Overwrites a secret before its memory is released.
void wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

std::string seconds(std::chrono::milliseconds ms) {
  const double s = static_cast<double>(ms.count()) / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", s);
  return buf;
}

}  // namespace

struct SshSession::Impl {
  Device device;
  ConnectOptions options;
  ssh_session session = nullptr;
  sftp_session sftp = nullptr;
  std::string fingerprint;

  ~Impl() { disconnect(); }

  std::string where() const { return "device " + device.describe(); }

  void disconnect() {
    if (sftp) {
      sftp_free(sftp);
      sftp = nullptr;
    }
    if (session) {
      if (ssh_is_connected(session)) ssh_disconnect(session);
      ssh_free(session);
      session = nullptr;
    }
  }

  void connect() {
    disconnect();
    session = ssh_new();
    if (!session) throw Error("cannot create an SSH session (out of memory)");
    const std::filesystem::path known_hosts =
        device.known_hosts.empty() ? defaultKnownHostsPath() : device.known_hosts;
    std::filesystem::create_directories(known_hosts.parent_path());
    const unsigned int port = static_cast<unsigned int>(device.port);
    const long timeout_s = std::max<long>(1, static_cast<long>((options.timeout.count() + 999) / 1000));
    const int verbosity = SSH_LOG_NOLOG;  // libssh logging could print authentication details
    const bool no = false;
    ssh_options_set(session, SSH_OPTIONS_HOST, device.host.c_str());
    ssh_options_set(session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(session, SSH_OPTIONS_USER, device.user.c_str());
    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s);
    ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    // Without TCP_NODELAY every synchronous SFTP write waits out Nagle + delayed ACK (~40 ms per 32 KiB).
    const int nodelay = 1;
    ssh_options_set(session, SSH_OPTIONS_NODELAY, &nodelay);
    // Only our known_hosts file decides, and ~/.ssh/config must not redirect the connection.
    ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/nonexistent/edgetune-no-global-known-hosts");
    if (ssh_connect(session) != SSH_OK) {
      const std::string why = ssh_get_error(session);
      disconnect();
      throw ConnectionError("cannot connect to " + where() + ": " + why);
    }
    verifyHostKey(known_hosts);
    authenticate();
  }

  void verifyHostKey(const std::filesystem::path& known_hosts) {
    ssh_key key = nullptr;
    if (ssh_get_server_publickey(session, &key) != SSH_OK) {
      disconnect();
      throw ConnectionError("cannot read the host key of " + where());
    }
    HostKeyInfo info{device.host, device.port, ssh_key_type_to_char(ssh_key_type(key)), fingerprintOf(key)};
    ssh_key_free(key);
    fingerprint = info.fingerprint_sha256;
    const ssh_known_hosts_e state = ssh_session_is_known_server(session);
    switch (state) {
      case SSH_KNOWN_HOSTS_OK:
        return;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER: {
        const std::string stored = storedFingerprints(known_hosts, device.host, device.port);
        disconnect();
        throw HostKeyChangedError(
            "REFUSED: the host key of " + device.host + ":" + std::to_string(device.port) + " has CHANGED. " +
            known_hosts.string() + " has " + stored + " but the host now presents " +
            info.fingerprint_sha256 + " (" + info.key_type +
            "). Someone may be intercepting the connection, or the device was reinstalled; "
            "if you are sure it is the latter, remove the old line from " +
            known_hosts.string() + ".");
      }
      case SSH_KNOWN_HOSTS_NOT_FOUND:
      case SSH_KNOWN_HOSTS_UNKNOWN: {
        if (!options.confirm_host_key || !options.confirm_host_key(info)) {
          disconnect();
          throw Error("the host key of " + device.host + ":" + std::to_string(device.port) + " (" +
                      info.fingerprint_sha256 + ") was not accepted; not connecting");
        }
        if (ssh_session_update_known_hosts(session) != SSH_OK) {
          const std::string why = ssh_get_error(session);
          disconnect();
          throw Error("cannot add the host key of " + device.host + " to " + known_hosts.string() + ": " +
                      why);
        }
        return;
      }
      case SSH_KNOWN_HOSTS_ERROR:
      default: {
        const std::string why = ssh_get_error(session);
        disconnect();
        throw Error("cannot check the host key of " + where() + " against " + known_hosts.string() + ": " +
                    why);
      }
    }
  }

  void authenticate() {
    int rc = SSH_AUTH_DENIED;
    switch (device.auth) {
      case AuthMethod::Agent:
        // The agent first, then the user's default identities (~/.ssh/id_*), as `ssh` does.
        rc = ssh_userauth_publickey_auto(session, nullptr, nullptr);
        break;
      case AuthMethod::Key: {
        ssh_key key = nullptr;
        const std::string path = device.key_file.string();
        if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
          std::optional<std::string> passphrase;
          if (options.ask_secret) passphrase = options.ask_secret("Passphrase for " + path + ": ");
          if (!passphrase || ssh_pki_import_privkey_file(path.c_str(), passphrase->c_str(), nullptr, nullptr,
                                                         &key) != SSH_OK) {
            if (passphrase) wipe(*passphrase);
            disconnect();
            throw Error(where() + ": cannot read the private key " + path +
                        " (missing, unreadable, not a key, or wrong passphrase)");
          }
          wipe(*passphrase);
        }
        rc = ssh_userauth_publickey(session, nullptr, key);
        ssh_key_free(key);
        break;
      }
      case AuthMethod::Password: {
        std::optional<std::string> password;
        if (options.ask_secret)
          password = options.ask_secret("Password for " + device.user + "@" + device.host + ": ");
        if (!password) {
          disconnect();
          throw Error(where() + ": password login needs a password and none was given");
        }
        rc = ssh_userauth_password(session, nullptr, password->c_str());
        wipe(*password);
        break;
      }
    }
    if (rc != SSH_AUTH_SUCCESS) {
      const std::string why = rc == SSH_AUTH_ERROR ? std::string(": ") + ssh_get_error(session) : "";
      disconnect();
      throw Error(where() + ": authentication by " + toString(device.auth) + " was refused" + why);
    }
  }

  void ensureConnected() {
    if (!session || !ssh_is_connected(session))
      throw ConnectionError("the connection to " + where() + " is closed");
  }

  sftp_session sftpSession() {
    ensureConnected();
    if (sftp) return sftp;
    sftp = sftp_new(session);
    if (!sftp || sftp_init(sftp) != SSH_OK) {
      const std::string why = ssh_get_error(session);
      if (sftp) sftp_free(sftp);
      sftp = nullptr;
      throw ConnectionError(where() + ": cannot start SFTP: " + why);
    }
    return sftp;
  }
};

SshSession::SshSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SshSession::~SshSession() = default;

std::unique_ptr<SshSession> SshSession::connect(const Device& device, ConnectOptions options) {
  device.validate();
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->options = std::move(options);
  impl->connect();
  return std::unique_ptr<SshSession>(new SshSession(std::move(impl)));
}

const Device& SshSession::device() const {
  return impl_->device;
}
const std::string& SshSession::hostKeyFingerprint() const {
  return impl_->fingerprint;
}
bool SshSession::isConnected() const {
  return impl_->session && ssh_is_connected(impl_->session);
}
void SshSession::reconnect() {
  impl_->connect();
}

ExecResult SshSession::exec(const std::string& command, std::chrono::milliseconds timeout,
                            std::string_view input) {
  impl_->ensureConnected();
  if (timeout.count() <= 0) timeout = impl_->options.timeout;
  ssh_channel channel = ssh_channel_new(impl_->session);
  if (!channel) throw ConnectionError(impl_->where() + ": cannot open a channel");
  struct Closer {
    ssh_channel c;
    ~Closer() {
      ssh_channel_close(c);
      ssh_channel_free(c);
    }
  } closer{channel};
  if (ssh_channel_open_session(channel) != SSH_OK ||
      ssh_channel_request_exec(channel, command.c_str()) != SSH_OK)
    throw ConnectionError(impl_->where() +
                          ": cannot start a remote command: " + ssh_get_error(impl_->session));
  if (!input.empty() && ssh_channel_write(channel, input.data(), static_cast<uint32_t>(input.size())) !=
                            static_cast<int>(input.size()))
    throw ConnectionError(impl_->where() + ": cannot send input to a remote command");
  ssh_channel_send_eof(channel);

  ExecResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<char> buffer(1 << 15);
  auto drain = [&](int is_stderr, std::string& into) {
    int n = 0;
    while ((n = ssh_channel_read_nonblocking(channel, buffer.data(), static_cast<uint32_t>(buffer.size()),
                                             is_stderr)) > 0)
      into.append(buffer.data(), static_cast<size_t>(n));
    if (n == SSH_ERROR)
      throw ConnectionError("the connection to " + impl_->where() + " was lost during a command");
  };
  for (;;) {
    const int n =
        ssh_channel_read_timeout(channel, buffer.data(), static_cast<uint32_t>(buffer.size()), 0, 10);
    if (n == SSH_ERROR)
      throw ConnectionError("the connection to " + impl_->where() + " was lost during a command");
    if (n > 0) result.out.append(buffer.data(), static_cast<size_t>(n));
    drain(1, result.err);
    // Checked right after reading, so output that arrives together with EOF costs no extra wait.
    if (ssh_channel_is_eof(channel)) {
      drain(0, result.out);
      drain(1, result.err);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw ConnectionError(impl_->where() + ": a remote command did not finish within " + seconds(timeout));
  }
  result.exit_code = ssh_channel_get_exit_status(channel);
  return result;
}

std::string SshSession::execChecked(const std::string& command, const std::string& what,
                                    std::chrono::milliseconds timeout) {
  ExecResult r = exec(command, timeout);
  if (r.exit_code != 0) {
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    if (err.size() > 600) err = err.substr(0, 600) + "...";
    throw Error(impl_->where() + ": " + what + " failed (exit " + std::to_string(r.exit_code) + ")" +
                (err.empty() ? "" : ": " + err));
  }
  return r.out;
}

void SshSession::upload(const std::filesystem::path& local, const std::string& remote_path,
                        const UploadProgress& progress, int mode) {
  std::ifstream in(local, std::ios::binary);
  if (!in) throw Error(local.string() + ": cannot open the file to upload it");
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(local, ec);
  sftp_session sftp = impl_->sftpSession();
  sftp_file file =
      sftp_open(sftp, remote_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, static_cast<mode_t>(mode));
  if (!file) {
    if (!isConnected())
      throw ConnectionError("the connection to " + impl_->where() + " was lost while opening " + remote_path);
    throw Error(impl_->where() + ": cannot create " + remote_path + " (SFTP error " +
                std::to_string(sftp_get_error(sftp)) + ": " + ssh_get_error(impl_->session) + ")");
  }
  struct FileCloser {
    sftp_file f;
    ~FileCloser() {
      if (f) sftp_close(f);
    }
  } closer{file};
  // 32 KiB per SFTP write: every server accepts it and progress stays fine-grained.
  std::vector<char> buffer(1 << 15);
  uint64_t done = 0;
  if (progress) progress(0, total);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    const ssize_t written = sftp_write(file, buffer.data(), n);
    if (written != static_cast<ssize_t>(n)) {
      const bool lost = !isConnected() || sftp_get_error(sftp) == SSH_FX_CONNECTION_LOST ||
                        sftp_get_error(sftp) == SSH_FX_NO_CONNECTION || written < 0;
      const std::string msg = "upload of " + local.filename().string() + " to " + impl_->where() +
                              " broke off after " + std::to_string(done) + " of " + std::to_string(total) +
                              " bytes";
      if (lost) throw ConnectionError(msg + ": the connection was lost");
      throw Error(msg + ": " + ssh_get_error(impl_->session));
    }
    done += n;
    if (progress) progress(done, total);
  }
  if (in.bad()) throw Error(local.string() + ": read error during upload");
  closer.f = nullptr;
  if (sftp_close(file) != SSH_NO_ERROR)
    throw ConnectionError("upload of " + local.filename().string() + " to " + impl_->where() +
                          ": closing the remote file failed");
}

void SshSession::removeFile(const std::string& remote_path) {
  sftp_session sftp = impl_->sftpSession();
  if (sftp_unlink(sftp, remote_path.c_str()) != SSH_OK && sftp_get_error(sftp) != SSH_FX_NO_SUCH_FILE) {
    if (!isConnected()) throw ConnectionError("the connection to " + impl_->where() + " was lost");
  }
}

}  // namespace edgetune::deploy
