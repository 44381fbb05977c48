// Device records and their JSON store.
#include "core/deploy/device.h"

#include <cstdlib>

#include "core/deploy/shell.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune::deploy {

std::string toString(AuthMethod method) {
  switch (method) {
    case AuthMethod::Agent:
      return "agent";
    case AuthMethod::Key:
      return "key";
    case AuthMethod::Password:
      return "password";
  }
  return "unknown";
}

AuthMethod authMethodFromString(const std::string& text) {
  if (text == "agent") return AuthMethod::Agent;
  if (text == "key") return AuthMethod::Key;
  if (text == "password") return AuthMethod::Password;
  throw Error("auth '" + text + "' is not one of agent, key, password");
}

void Device::validate() const {
  validateName(name, "device name");
  try {
    validateHost(host);
    validateUser(user);
    if (port < 1 || port > 65535) throw Error("port " + std::to_string(port) + " is not in 1..65535");
    if (auth == AuthMethod::Key && key_file.empty()) throw Error("auth 'key' needs a key file");
  } catch (const Error& e) {
    throw Error("device '" + name + "': " + e.what());
  }
}

std::string Device::describe() const {
  return name + " (" + user + "@" + host + ":" + std::to_string(port) + ")";
}

nlohmann::json Device::toJson() const {
  nlohmann::json j{{"name", name}, {"host", host}, {"port", port}, {"user", user}, {"auth", toString(auth)}};
  if (!key_file.empty()) j["key_file"] = key_file.string();
  if (!known_hosts.empty()) j["known_hosts"] = known_hosts.string();
  return j;
}

Device Device::fromJson(const nlohmann::json& json) {
  Device d;
  try {
    d.name = json.at("name").get<std::string>();
    d.host = json.at("host").get<std::string>();
    d.port = json.value("port", 22);
    d.user = json.at("user").get<std::string>();
    d.auth = authMethodFromString(json.value("auth", std::string("agent")));
    d.key_file = json.value("key_file", std::string());
    d.known_hosts = json.value("known_hosts", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw Error("device entry " + json.dump() + ": " + e.what());
  }
  d.validate();
  return d;
}

std::filesystem::path configDir() {
  if (const char* dir = std::getenv("EDGETUNE_CONFIG_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "edgetune";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".config" / "edgetune";
  throw Error("cannot find a configuration folder: set HOME or EDGETUNE_CONFIG_DIR");
}

std::filesystem::path defaultKnownHostsPath() {
  return configDir() / "known_hosts";
}

DeviceStore::DeviceStore(std::filesystem::path file) : file_(std::move(file)) {}

std::vector<Device> DeviceStore::list() const {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return {};
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(readFile(file_));
  } catch (const nlohmann::json::exception& e) {
    throw Error(file_.string() + ": not a valid device list (" + e.what() + ")");
  }
  std::vector<Device> devices;
  if (!json.contains("devices") || !json["devices"].is_array())
    throw Error(file_.string() + ": not a valid device list (no \"devices\" array)");
  for (const auto& entry : json["devices"]) {
    try {
      devices.push_back(Device::fromJson(entry));
    } catch (const Error& e) {
      throw Error(file_.string() + ": " + e.what());
    }
  }
  return devices;
}

std::optional<Device> DeviceStore::find(const std::string& name) const {
  for (auto& d : list())
    if (d.name == name) return d;
  return std::nullopt;
}

Device DeviceStore::get(const std::string& name) const {
  if (auto d = find(name)) return *d;
  throw Error("no device named '" + name + "' in " + file_.string() +
              " (add it with: edgetune-cli device add)");
}

void DeviceStore::add(const Device& device, bool replace) {
  device.validate();
  auto devices = list();
  for (auto& d : devices) {
    if (d.name == device.name) {
      if (!replace) throw Error("a device named '" + device.name + "' already exists in " + file_.string());
      d = device;
      save(devices);
      return;
    }
  }
  devices.push_back(device);
  save(devices);
}

bool DeviceStore::remove(const std::string& name) {
  auto devices = list();
  const auto before = devices.size();
  std::erase_if(devices, [&](const Device& d) { return d.name == name; });
  if (devices.size() == before) return false;
  save(devices);
  return true;
}

void DeviceStore::save(const std::vector<Device>& devices) const {
  nlohmann::json json{{"version", 1}, {"devices", nlohmann::json::array()}};
  for (const auto& d : devices) json["devices"].push_back(d.toJson());
  std::filesystem::create_directories(file_.parent_path());
  writeFileAtomic(file_, json.dump(2) + "\n");
}

std::string passwordSecretKey(const Device& device) {
  return "edgetune/device/" + device.name + "/password";
}

}  // namespace edgetune::deploy
