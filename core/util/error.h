#pragma once
// Errors a user can cause: one message that names the thing (file, field, node) and the problem.
#include <stdexcept>
#include <string>

namespace edgetune {

/// An error caused by user input or the environment; its message is shown to the user as is.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown when a job was cancelled; callers treat it as a clean stop, not a failure. A sibling of Error, not
/// a kind of it: the many `catch (const Error& e) { throw Error(context + e.what()); }` that add context to a
/// failure then let a cancellation pass unchanged, without each remembering to rethrow it first. Only the
/// outermost handlers (the CLI's main, the studio's job runner, catch-alls on std::exception) see both.
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("cancelled") {}
};

}  // namespace edgetune
