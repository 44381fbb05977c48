#pragma once
// Safe remote command lines: POSIX shell quoting and validation of names and paths taken from users.
// No remote command is built by pasting user text unquoted; every variable part goes through shellQuote()
// after one of the validators below.
#include <initializer_list>
#include <string>
#include <string_view>

namespace edgetune::deploy {

/// Quotes `text` as one POSIX shell word: 'text' with each ' written as '\''. Safe for any bytes except NUL
/// (throws Error for NUL, which no shell argument can hold).
std::string shellQuote(std::string_view text);

/// Joins already-trusted program text with quoted arguments: command("sha256sum", {"--", path}).
std::string shellCommand(std::string_view program, std::initializer_list<std::string_view> args);

/// A device or model name: 1-64 of [A-Za-z0-9._-], not starting with '-' or '.'. Throws Error naming `what`.
void validateName(std::string_view name, std::string_view what);
/// True if validateName would accept `name`.
bool isValidName(std::string_view name);

/// A host name or IP address: 1-253 of [A-Za-z0-9.:-], not starting with '-' (so it cannot become an option).
void validateHost(std::string_view host);
/// A login name: 1-32 of [A-Za-z0-9._-], not starting with '-'.
void validateUser(std::string_view user);

/// A path on the device made of validated segments separated by '/': no empty, "." or ".." segment, no
/// control characters or quotes; may be absolute. Throws Error naming `what`.
void validateRemotePath(std::string_view path, std::string_view what);

/// Joins remote path segments with '/'.
std::string remoteJoin(std::string_view a, std::string_view b);

}  // namespace edgetune::deploy
