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
  if (cancelled()) throw CancelledError();
}

std::unique_ptr<JobContext> JobContext::child(double begin, double end, std::string label, Sink sink) {
  auto forward = [this, begin, end, label = std::move(label), sink = std::move(sink)](const Progress& p) {
    if (sink) sink(p);
    report(begin + (end - begin) * p.fraction, label.empty() ? p.message : label + ": " + p.message);
  };
  auto context = std::make_unique<JobContext>(std::move(forward), min_interval_);
  context->parent_ = this;
  return context;
}

}  // namespace edgetune
