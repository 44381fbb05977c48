#pragma once
// The Devices panel: SSH devices (add / edit / remove), "Test connection", and one-click deployment of the
// current model with an optional on-device benchmark. All network work runs as background jobs; questions the
// work needs answered (a new host key, a password) are asked on the UI thread through settable prompts.
#include <QElapsedTimer>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>

#include "core/deploy/device.h"
#include "core/deploy/device_benchmark.h"
#include "core/deploy/device_info.h"
#include "core/deploy/ssh_session.h"
#include "core/jobs/job.h"
#include "ui/device_form.h"  // the form behind Add / Edit

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QTimer;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace edgetune::ui {

class JobManager;
class JobHandle;

/// Devices, connection tests and deployment of one model file (see file comment).
class DevicesPanel : public QWidget {
  Q_OBJECT
 public:
  /// First contact with a host: show the fingerprint, return true to trust it (added to known_hosts).
  using HostKeyPrompt = std::function<bool(const QString& host, const QString& fingerprint)>;
  /// Asks for a password; nullopt = the user cancelled. `remember` (initially false) asks to keep it in the
  /// keychain; it is only shown when a SecretStore is set.
  using PasswordPrompt = std::function<std::optional<QString>(const QString& prompt, bool* remember)>;

  /// `secrets` (may be null: passwords are then asked every time) must outlive the panel.
  explicit DevicesPanel(JobManager* jobs, deploy::SecretStore* secrets = nullptr, QWidget* parent = nullptr);

  // --- configuration (defaults suit the studio; tests point them at temporary files) ---
  /// The devices file (default deploy::configDir()/devices.json); reloads the list.
  void setDeviceStoreFile(const QString& path);
  QString deviceStoreFile() const;
  /// Folders searched for runner builds (edgetune-runner + libonnxruntime.so.1, per-arch subfolders);
  /// default: the folder of the studio's executable, like `edgetune-cli deploy`.
  void setRunnerDirs(const QStringList& dirs);
  /// EdgeTune's folder on devices (default "edgetune", i.e. ~/edgetune).
  void setRemoteRoot(const QString& remote_root);
  void setConnectTimeoutMs(int timeout_ms);
  /// How long connecting (and each read or write) may take before the attempt fails (default 10 s).
  int connectTimeoutMs() const { return timeout_ms_; }
  /// Default: a QMessageBox question showing host, key type and SHA-256 fingerprint.
  void setHostKeyPrompt(HostKeyPrompt prompt);
  /// Default: a QInputDialog with echo off, then (with a SecretStore) a question whether to keep it.
  void setPasswordPrompt(PasswordPrompt prompt);
  void setSecretStore(deploy::SecretStore* secrets) { secrets_ = secrets; }

  // --- devices ---
  QStringList deviceNames() const;
  /// Adds (or replaces) a device in the store and selects it; false with statusText() set on a bad device.
  bool addDevice(const deploy::Device& device, bool replace = false);
  /// Removes the device and its saved password (if any).
  bool removeDevice(const QString& name);
  void selectDevice(const QString& name);
  QString selectedDevice() const;
  /// The form dialogs behind the Add / Edit buttons.
  void addDeviceWithForm();
  void editSelectedWithForm();

  // --- deployment ---
  /// The model the Deploy button sends (an ONNX file, with its companions found beside it) and its label.
  void setModel(const QString& onnx_path, const QString& label);
  QString modelPath() const { return model_path_; }
  void setBenchmarkEnabled(bool on);
  /// Thread counts as the user types them: "1,2,4".
  void setBenchmarkThreads(const QString& threads);
  void setBenchmarkRuns(int runs);
  void setProfileEnabled(bool on);

  /// Starts "Test connection" for the selected device; null when nothing is selected or a job is running.
  JobHandle* testConnection();
  /// Starts deploy (+ benchmark) of the model to the selected device; null when it cannot start.
  JobHandle* deploySelected();
  bool busy() const { return !running_.isNull(); }

  // --- what the user sees (for tests and the main window's status bar) ---
  QString statusText() const;
  bool statusIsError() const { return status_is_error_; }
  QString deviceInfoText() const;
  const std::optional<deploy::DeviceInfo>& lastDeviceInfo() const { return last_info_; }
  const std::optional<deploy::DeviceBenchmark>& lastBenchmark() const { return last_bench_; }
  QTableWidget* benchmarkTable() const { return bench_table_; }
  QTableWidget* profileTable() const { return profile_table_; }

 signals:
  void devicesChanged();
  void connectionTested(const QString& device, bool ok);
  void deployFinished(const QString& device, bool ok, const QString& message);
  /// A benchmark finished on `device`: DeviceBenchmark::toJson() (attach it to the variant that was
  /// deployed).
  void benchmarkReady(const QString& device, const nlohmann::json& bench);

 private:
  struct PendingSecret;
  deploy::ConnectOptions connectOptions(JobContext& job, JobHandle& handle, const deploy::Device& device,
                                        const std::shared_ptr<PendingSecret>& pending);
  std::optional<std::string> askPasswordOnUi(const deploy::Device& device, const std::string& prompt,
                                             PendingSecret& pending);
  void keepPendingSecret(const deploy::Device& device, PendingSecret& pending);
  void reloadList(const QString& select = {});
  void setStatus(const QString& text, bool error);
  void updateButtons();
  void showBenchmark(const deploy::DeviceBenchmark& bench);
  std::optional<deploy::Device> selected();
  void watch(JobHandle* handle, const QString& device, bool deploying);

  JobManager* jobs_;
  deploy::SecretStore* secrets_;
  deploy::DeviceStore store_;
  QStringList runner_dirs_;
  QString remote_root_ = QStringLiteral("edgetune");
  int timeout_ms_ = 10000;
  // While a job connects, the status counts the seconds against the timeout (a silent host shows progress).
  QTimer* connect_ticker_;
  QElapsedTimer connect_clock_;
  QString connect_message_;
  HostKeyPrompt host_key_prompt_;
  PasswordPrompt password_prompt_;
  QString model_path_, model_label_;
  QPointer<JobHandle> running_;
  bool status_is_error_ = false;
  std::optional<deploy::DeviceInfo> last_info_;
  std::optional<deploy::DeviceBenchmark> last_bench_;

  QListWidget* list_;
  QPushButton *add_, *edit_, *remove_, *test_, *deploy_, *cancel_;
  QLabel *model_label_view_, *status_;
  QPlainTextEdit* info_;
  QCheckBox *bench_, *profile_;
  QLineEdit* threads_;
  QSpinBox* runs_;
  QProgressBar* progress_;
  QTableWidget *bench_table_, *profile_table_;
};

}  // namespace edgetune::ui
