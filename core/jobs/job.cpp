#include "core/jobs/job.h"

#include "core/util/error.h"

namespace edgetune {

JobContext::JobContext(Sink sink, std::chrono::milliseconds min_interval)
    : sink_(std::move(sink)), min_interval_(min_interval), start_(std::chrono::steady_clock::now()) {}

void JobContext::report(double fraction, const std::string& message) {
  if (!sink_) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (fraction < 1.0 && now - last_report_ < min_interval_) return;
  last_report_ = now;
  Progress p;
  p.fraction = fraction < 0 ? 0 : (fraction > 1 ? 1 : fraction);
  p.message = message;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (p.fraction > 0.01 && elapsed > 0.5) p.eta_seconds = elapsed * (1.0 - p.fraction) / p.fraction;
  sink_(p);
}

void JobContext::throwIfCancelled() const {
  if (cancelled_.load()) throw CancelledError();
}

}  // namespace edgetune
