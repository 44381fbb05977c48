#pragma once
// Devices the user deploys to (host, port, user, how to log in) and the JSON store that keeps them.
// Passwords are never stored here: password auth asks each time through a callback, and the studio may keep
// them in the system keychain through a SecretStore.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgetune::deploy {

/// How to log in. No 0 value on purpose (a default-constructed enum is not a valid choice).
enum class AuthMethod { Agent = 1, Key = 2, Password = 3 };
std::string toString(AuthMethod method);
/// "agent", "key", "password"; throws Error naming the value otherwise.
AuthMethod authMethodFromString(const std::string& text);

/// One SSH-reachable device.
struct Device {
  std::string name;  // the user's handle, validated by validateName
  std::string host;
  int port = 22;
  std::string user;
  AuthMethod auth = AuthMethod::Agent;
  std::filesystem::path key_file;     // for AuthMethod::Key
  std::filesystem::path known_hosts;  // empty: defaultKnownHostsPath()

  /// Throws Error naming the device and the field that is wrong.
  void validate() const;
  /// "name (user@host:port)" for messages.
  std::string describe() const;
  nlohmann::json toJson() const;
  static Device fromJson(const nlohmann::json& json);
};

/// EdgeTune's configuration folder: $EDGETUNE_CONFIG_DIR, else $XDG_CONFIG_HOME/edgetune, else
/// ~/.config/edgetune.
std::filesystem::path configDir();
/// The known_hosts file EdgeTune uses when a device names none: configDir()/known_hosts.
std::filesystem::path defaultKnownHostsPath();

/// The list of devices in a JSON file (configDir()/devices.json by default), written atomically.
class DeviceStore {
 public:
  explicit DeviceStore(std::filesystem::path file = configDir() / "devices.json");
  /// Reads the file (an absent file is an empty list); throws Error naming the file on bad JSON.
  std::vector<Device> list() const;
  std::optional<Device> find(const std::string& name) const;
  /// Throws Error naming the device if it does not exist.
  Device get(const std::string& name) const;
  /// Adds, or replaces when `replace` is true; throws Error if the name exists and !replace.
  void add(const Device& device, bool replace = false);
  /// Returns false if there was no such device.
  bool remove(const std::string& name);
  const std::filesystem::path& file() const { return file_; }

 private:
  void save(const std::vector<Device>& devices) const;
  std::filesystem::path file_;
};

/// Where a front end keeps secrets (the studio: the system keychain through QtKeychain). Keys are opaque.
class SecretStore {
 public:
  virtual ~SecretStore() = default;
  virtual std::optional<std::string> load(const std::string& key) = 0;
  virtual void store(const std::string& key, const std::string& secret) = 0;
  virtual void erase(const std::string& key) = 0;
};
/// The SecretStore key for a device's password ("edgetune/device/<name>/password").
std::string passwordSecretKey(const Device& device);

}  // namespace edgetune::deploy
