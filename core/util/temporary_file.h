#pragma once
// Temporary files that never outlive the write they serve. Each is named ".NAME.tmp-PID-RANDOM" beside its
// target and registered while it exists, so that a terminating signal removes it (removeTemporariesNow is
// async-signal-safe), and a run after a SIGKILL recognizes it as stale by its dead PID and removes it.
#include <filesystem>
#include <string_view>

namespace edgetune {

/// A new, empty temporary file beside `target`, open for writing. The destructor removes it unless commit()
/// renamed it over the target. Creating one first removes `target`'s stale temporaries.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Appends all of `bytes`; throws Error naming the target on failure.
  void write(std::string_view bytes);
  /// Flushes to disk and renames the temporary over the target; throws Error naming the target on failure.
  void commit();

 private:
  std::filesystem::path target_, path_;
  int fd_ = -1;
  int slot_ = -1;  // in the signal handler's registry; -1 if the registry was full
  bool committed_ = false;
};

/// Removes the temporaries of `target` whose process no longer runs (a run killed by SIGKILL or a power
/// loss leaves them); returns how many. Temporaries of live processes, including this one, stay.
int removeStaleTemporaries(const std::filesystem::path& target);

/// Unlinks every temporary file this process has open. Async-signal-safe: for signal handlers.
void removeTemporariesNow() noexcept;

/// SIGTERM, SIGHUP and SIGQUIT remove this process's temporaries, then end it as the signal would have.
void removeTemporariesOnTermination();

}  // namespace edgetune
