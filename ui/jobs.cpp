#include "ui/jobs.h"

#include <ctime>

#include "core/util/error.h"

namespace edgetune::ui {

JobHandle::JobHandle(int id, QString title, QObject* parent)
    : QObject(parent), id_(id), title_(std::move(title)) {}

void JobHandle::cancel() {
  if (context_) context_->cancel();
}

void JobHandle::postToUi(std::function<void()> fn) {
  QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection);
}

void JobHandle::setProgress(const Progress& p) {
  if (state_ != State::Running) return;
  fraction_ = p.fraction;
  message_ = QString::fromStdString(p.message);
  eta_seconds_ = p.eta_seconds;
  emit progressChanged(fraction_, message_, eta_seconds_);
}

void JobHandle::finish(State state, const QString& error) {
  state_ = state;
  error_ = error;
  if (state == State::Succeeded) fraction_ = 1.0;
  emit finished(state, error);
}

JobManager::JobManager(QObject* parent) : QObject(parent) {
  // More threads than cores on purpose: a cancelled job that is still unwinding (e.g. inside an ONNX Runtime
  // session creation) must not hold back the next model open or layout.
  pool_.setMaxThreadCount(4);
}

JobManager::~JobManager() {
  cancelAllAndWait();
}

JobHandle* JobManager::start(const QString& title, Work work) {
  auto* handle = new JobHandle(next_id_++, title, this);
  // Progress from the worker reaches the handle through queued calls (the sink runs on the worker).
  handle->context_ = std::make_shared<JobContext>([handle](const Progress& p) {
    QMetaObject::invokeMethod(
        handle, [handle, p] { handle->setProgress(p); }, Qt::QueuedConnection);
  });
  jobs_.append(handle);
  auto context = handle->context_;
  pool_.start([this, handle, context, work = std::move(work)] {
    JobHandle::State state = JobHandle::State::Succeeded;
    QString error;
    try {
      work(*context, *handle);
      if (context->cancelled()) state = JobHandle::State::Cancelled;
    } catch (const CancelledError&) {
      state = JobHandle::State::Cancelled;
    } catch (const std::exception& e) {
      state = context->cancelled() ? JobHandle::State::Cancelled : JobHandle::State::Failed;
      error = QString::fromStdString(e.what());
    }
    // The last queued call for this handle: everything posted before it has been delivered when it runs.
    QMetaObject::invokeMethod(
        handle,
        [this, handle, state, error] {
          handle->finish(state, error);
          emit jobFinished(handle);
          emit jobsChanged();
        },
        Qt::QueuedConnection);
  });
  emit jobStarted(handle);
  emit jobsChanged();
  return handle;
}

int JobManager::runningCount() const {
  int n = 0;
  for (auto* j : jobs_) n += j->isRunning() ? 1 : 0;
  return n;
}

void JobManager::clearFinished() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (!(*it)->isRunning()) {
      (*it)->deleteLater();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  emit jobsChanged();
}

void JobManager::cancelAllAndWait() {
  for (auto* j : jobs_) j->cancel();
  pool_.waitForDone();
}

static double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

StallMonitor::StallMonitor(QObject* parent, int interval_ms) : QObject(parent), interval_ms_(interval_ms) {
  timer_.setTimerType(Qt::PreciseTimer);
  timer_.setInterval(interval_ms_);
  connect(&timer_, &QTimer::timeout, this, &StallMonitor::beat);
  clock_.start();
  last_ms_ = clock_.elapsed();
  last_cpu_ms_ = threadCpuMs();
  timer_.start();
}

void StallMonitor::reset() {
  max_stall_ms_ = max_stall_jobs_ms_ = max_busy_ms_ = 0;
  last_ms_ = clock_.elapsed();
  last_cpu_ms_ = threadCpuMs();
}

void StallMonitor::beat() {
  const qint64 now = clock_.elapsed();
  const double stall = static_cast<double>(now - last_ms_ - interval_ms_);
  const double cpu = threadCpuMs();
  const double busy = cpu - last_cpu_ms_;
  last_ms_ = now;
  last_cpu_ms_ = cpu;
  ++beats_;
  if (stall <= 0) return;
  max_busy_ms_ = std::max(max_busy_ms_, std::min(stall, busy));
  if (stall > max_stall_ms_) max_stall_ms_ = stall;
  if (jobs_running_ && stall > max_stall_jobs_ms_) max_stall_jobs_ms_ = stall;
  emit stallRecorded(stall);
}

}  // namespace edgetune::ui
