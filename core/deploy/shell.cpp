// Shell quoting and validation of names, hosts, users and remote paths.
#include "core/deploy/shell.h"

#include "core/util/error.h"

namespace edgetune::deploy {

namespace {
bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 80)) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

std::string shellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') throw Error("a remote command argument contains a NUL byte");
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

std::string shellCommand(std::string_view program, std::initializer_list<std::string_view> args) {
  std::string out(program);
  for (auto a : args) {
    out += ' ';
    out += shellQuote(a);
  }
  return out;
}

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '-' || name[0] == '.') return false;
  for (char c : name)
    if (!isNameChar(c)) return false;
  return true;
}

void validateName(std::string_view name, std::string_view what) {
  if (!isValidName(name))
    throw Error(std::string(what) + " '" + printable(name) +
                "' is not valid: use 1-64 letters, digits, '.', '_' or '-', not starting with '-' or '.'");
}

void validateHost(std::string_view host) {
  bool ok = !host.empty() && host.size() <= 253 && host[0] != '-';
  for (char c : host) ok = ok && (isNameChar(c) || c == ':') && c != '_';
  if (!ok)
    throw Error("host '" + printable(host) +
                "' is not valid: use a host name or IP address (letters, digits, '.', ':' and '-')");
}

void validateUser(std::string_view user) {
  bool ok = !user.empty() && user.size() <= 32 && user[0] != '-';
  for (char c : user) ok = ok && isNameChar(c);
  if (!ok)
    throw Error("user '" + printable(user) + "' is not valid: use 1-32 letters, digits, '.', '_' or '-'");
}

void validateRemotePath(std::string_view path, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return Error(std::string(what) + " '" + printable(path) + "' is not a valid device path: " + why);
  };
  if (path.empty()) throw bad("it is empty");
  if (path.size() > 1024) throw bad("it is longer than 1024 characters");
  std::string_view rest = path;
  if (rest.front() == '/') rest.remove_prefix(1);
  if (rest.empty()) throw bad("it is the root folder");
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty()) throw bad("it has an empty segment ('//' or a trailing '/')");
    if (segment == "." || segment == "..") throw bad("it has a '.' or '..' segment");
    if (segment.front() == '-') throw bad("a segment starts with '-'");
    for (char c : segment)
      if (!isNameChar(c) && c != '+' && c != '@' && c != ',')
        throw bad(std::string("it contains the character '") + printable(std::string_view(&c, 1)) +
                  "' (allowed: letters, digits, '.', '_', '-', '+', '@', ',')");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) throw bad("it has an empty segment ('//' or a trailing '/')");
  }
}

std::string remoteJoin(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

}  // namespace edgetune::deploy
