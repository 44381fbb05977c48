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

/// Thrown when a job was cancelled; callers treat it as a clean stop, not a failure.
class CancelledError : public Error {
 public:
  CancelledError() : Error("cancelled") {}
};

}  // namespace edgetune
