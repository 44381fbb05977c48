#pragma once
// Job plumbing shared by the CLI and the studio: progress (fraction, message, ETA) and cooperative
// cancellation.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace edgetune {

/// One progress report.
struct Progress {
  double fraction = 0.0;  // 0..1
  std::string message;
  double eta_seconds = -1.0;  // < 0 while unknown
};

/// Handed to long work: report progress (throttled) and poll for cancellation.
/// Thread-safe: work runs on a worker thread, cancel() may come from any thread.
class JobContext {
 public:
  using Sink = std::function<void(const Progress&)>;
  explicit JobContext(Sink sink = {},
                      std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));

  /// Reports progress; forwarded to the sink at most every `min_interval` (and always at fraction 1).
  void report(double fraction, const std::string& message);
  void cancel() { cancelled_.store(true); }
  /// True after cancel() on this context or on the one it is a child of.
  bool cancelled() const { return cancelled_.load() || (parent_ && parent_->cancelled()); }
  /// Throws CancelledError if cancel() was called; long loops call this often.
  void throwIfCancelled() const;

  /// A context for one part of this job, the slice [begin, end) of its range: its reports reach `sink` (if
  /// set) as they are, and this context scaled into the slice with `label` before the message; cancelling
  /// this context cancels the child. A pipeline gives one to each step, so progress and ETA compose instead
  /// of restarting. The child must not outlive this context.
  std::unique_ptr<JobContext> child(double begin, double end, std::string label = {}, Sink sink = {});

 private:
  JobContext* parent_ = nullptr;
  Sink sink_;
  std::chrono::milliseconds min_interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_report_{};
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
};

}  // namespace edgetune
