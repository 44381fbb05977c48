#pragma once
// Background jobs for the studio: work runs on a thread pool with a core JobContext; progress, results and
// completion reach the UI thread through queued calls, so the UI thread never waits on a job.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QTimer>

#include <functional>
#include <memory>

#include "core/jobs/job.h"

namespace edgetune::ui {

/// One running (or finished) job as the UI sees it. Lives on the UI thread; deleted by its JobManager.
class JobHandle : public QObject {
  Q_OBJECT
 public:
  enum class State { Running = 1, Succeeded, Failed, Cancelled };

  int id() const { return id_; }
  const QString& title() const { return title_; }
  State state() const { return state_; }
  double fraction() const { return fraction_; }
  const QString& message() const { return message_; }
  double etaSeconds() const { return eta_seconds_; }
  const QString& error() const { return error_; }
  bool isRunning() const { return state_ == State::Running; }

  /// Asks the work to stop (JobContext::cancel); the job finishes as Cancelled once the work notices.
  void cancel();
  /// From the worker: runs `fn` on the UI thread (queued). Safe because a handle outlives its work.
  void postToUi(std::function<void()> fn);

 signals:
  void progressChanged(double fraction, const QString& message, double eta_seconds);
  void finished(edgetune::ui::JobHandle::State state, const QString& error);

 private:
  friend class JobManager;
  JobHandle(int id, QString title, QObject* parent);
  void setProgress(const Progress& p);
  void finish(State state, const QString& error);

  int id_;
  QString title_;
  State state_ = State::Running;
  double fraction_ = 0;
  QString message_;
  double eta_seconds_ = -1;
  QString error_;
  std::shared_ptr<JobContext> context_;
};

/// Starts jobs and keeps their handles; the jobs dock lists them.
class JobManager : public QObject {
  Q_OBJECT
 public:
  explicit JobManager(QObject* parent = nullptr);
  ~JobManager() override;

  using Work = std::function<void(JobContext& context, JobHandle& handle)>;
  /// Runs `work` on a worker thread. Exceptions become a Failed state with their message; CancelledError
  /// (or any exception after cancel()) becomes Cancelled.
  JobHandle* start(const QString& title, Work work);

  QList<JobHandle*> jobs() const { return jobs_; }
  int runningCount() const;
  /// Removes finished handles (they are deleted later).
  void clearFinished();
  /// Cancels everything and waits for the pool (only at shutdown and in tests).
  void cancelAllAndWait();

 signals:
  void jobStarted(edgetune::ui::JobHandle* job);
  void jobFinished(edgetune::ui::JobHandle* job);
  void jobsChanged();

 private:
  QThreadPool pool_;
  QList<JobHandle*> jobs_;
  int next_id_ = 1;
};

/// Measures how long the UI thread's event loop stalls: a 10 ms heartbeat timer records the largest gap
/// beyond its interval (overall and while jobs are running).
class StallMonitor : public QObject {
  Q_OBJECT
 public:
  explicit StallMonitor(QObject* parent = nullptr, int interval_ms = 10);
  void setJobsRunning(bool running) { jobs_running_ = running; }
  double maxStallMs() const { return max_stall_ms_; }
  double maxStallWhileJobsMs() const { return max_stall_jobs_ms_; }
  /// The longest stall counted in CPU time the UI thread itself used during the gap: separates our own work
  /// from waiting for a core on a busy machine (wall-clock stalls include both).
  double maxBusyStallMs() const { return max_busy_ms_; }
  qint64 beats() const { return beats_; }
  void reset();

 signals:
  void stallRecorded(double stall_ms);

 private:
  void beat();
  QTimer timer_;
  QElapsedTimer clock_;
  int interval_ms_;
  qint64 last_ms_ = 0;
  qint64 beats_ = 0;
  bool jobs_running_ = false;
  double max_stall_ms_ = 0, max_stall_jobs_ms_ = 0, max_busy_ms_ = 0;
  double last_cpu_ms_ = 0;
};

}  // namespace edgetune::ui
