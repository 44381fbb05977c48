// DevicesPanel: devices, connection tests and deploy + benchmark jobs (see devices_panel.h).
#include "ui/devices_panel.h"

#include <QCheckBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <future>
#include <sstream>

#include "core/deploy/deploy.h"
#include "core/deploy/shell.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/resources.h"
#include "core/util/thread_list.h"
#include "ui/jobs.h"

namespace edgetune::ui {

using deploy::Device;

// A password the user asked to keep: stored in the keychain only after it logged in successfully.
struct DevicesPanel::PendingSecret {
  std::string secret;
  bool remember = false;
  bool from_keychain = false;
};

namespace {
QString q(const std::string& s) {
  return QString::fromStdString(s);
}

// Runs `fn` on the UI thread and waits for its answer on the worker, polling for cancellation so that a
// cancelled job never stays blocked on an unanswered dialog.
template <class T>
T askOnUi(JobContext& job, JobHandle& handle, std::function<T()> fn) {
  auto promise = std::make_shared<std::promise<T>>();
  auto answer = promise->get_future();
  handle.postToUi([promise, fn = std::move(fn)] {
    try {
      promise->set_value(fn());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  while (answer.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) job.throwIfCancelled();
  return answer.get();
}

std::vector<int> parseThreads(const QString& text) {
  try {
    return parseThreadList(text.toStdString());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("threads: ") + e.what());
  }
}

// A folder name for the model on the device from the user's label (validateName's alphabet), else the stem.
std::string remoteModelName(const QString& label, const std::filesystem::path& model) {
  std::string name = fileNameFrom(label.toStdString(), "");
  if (!deploy::isValidName(name)) name = fileNameFrom(model.stem().string(), "model");
  return name;
}

// A read-only table cell.
QTableWidgetItem* cell(const QString& text) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(item->flags() & ~Qt::ItemIsEditable);
  return item;
}
}  // namespace

// ---------------------------------------------------------------- DevicesPanel

DevicesPanel::DevicesPanel(JobManager* jobs, deploy::SecretStore* secrets, QWidget* parent)
    : QWidget(parent), jobs_(jobs), secrets_(secrets) {
  runner_dirs_ = {QString::fromStdString(programDir().string())};
  connect_ticker_ = new QTimer(this);
  connect_ticker_->setInterval(250);
  connect(connect_ticker_, &QTimer::timeout, this, [this] {
    if (!running_) {
      connect_ticker_->stop();
      return;
    }
    const double elapsed_ms = static_cast<double>(connect_clock_.elapsed());
    progress_->setValue(static_cast<int>(1000 * std::min(0.45, 0.05 + 0.4 * elapsed_ms / timeout_ms_)));
    setStatus(QString("%1… %2 s (gives up after %3 s)")
                  .arg(connect_message_)
                  .arg(static_cast<int>(elapsed_ms / 1000))
                  .arg(timeout_ms_ / 1000.0, 0, 'g', 3),
              false);
  });

  list_ = new QListWidget(this);
  add_ = new QPushButton("Add…", this);
  edit_ = new QPushButton("Edit…", this);
  remove_ = new QPushButton("Remove", this);
  test_ = new QPushButton("Test connection", this);
  auto* device_buttons = new QHBoxLayout;
  for (auto* b : {add_, edit_, remove_, test_}) device_buttons->addWidget(b);
  device_buttons->addStretch();
  info_ = new QPlainTextEdit(this);
  info_->setReadOnly(true);
  info_->setPlaceholderText("Test connection shows the device's OS, CPU, SIMD flags, RAM and runtime here.");
  info_->setMaximumHeight(150);

  auto* deploy_box = new QGroupBox("Deploy", this);
  model_label_view_ = new QLabel("No model", deploy_box);
  bench_ = new QCheckBox("Benchmark on the device", deploy_box);
  bench_->setChecked(true);
  threads_ = new QLineEdit("1", deploy_box);
  threads_->setToolTip("Intra-op thread counts to measure, e.g. 1,2,4");
  runs_ = new QSpinBox(deploy_box);
  runs_->setRange(1, 100000);
  runs_->setValue(50);
  profile_ = new QCheckBox("Per-node profile", deploy_box);
  deploy_ = new QPushButton("Deploy", deploy_box);
  cancel_ = new QPushButton("Cancel", deploy_box);
  progress_ = new QProgressBar(deploy_box);
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  auto* bench_row = new QHBoxLayout;
  bench_row->addWidget(bench_);
  bench_row->addWidget(new QLabel("threads", deploy_box));
  bench_row->addWidget(threads_);
  bench_row->addWidget(new QLabel("runs", deploy_box));
  bench_row->addWidget(runs_);
  bench_row->addWidget(profile_);
  bench_row->addStretch();
  auto* action_row = new QHBoxLayout;
  action_row->addWidget(deploy_);
  action_row->addWidget(cancel_);
  action_row->addWidget(progress_, 1);
  auto* deploy_layout = new QVBoxLayout(deploy_box);
  deploy_layout->addWidget(model_label_view_);
  deploy_layout->addLayout(bench_row);
  deploy_layout->addLayout(action_row);

  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  bench_table_ = new QTableWidget(0, 6, this);
  bench_table_->setHorizontalHeaderLabels({"threads", "median ms", "p90 ms", "p99 ms", "min ms", "peak MiB"});
  bench_table_->verticalHeader()->hide();
  bench_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  profile_table_ = new QTableWidget(0, 4, this);
  profile_table_->setHorizontalHeaderLabels({"node", "op", "µs / run", "share"});
  profile_table_->verticalHeader()->hide();
  profile_table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  profile_table_->hide();

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(list_, 1);
  layout->addLayout(device_buttons);
  layout->addWidget(info_);
  layout->addWidget(deploy_box);
  layout->addWidget(status_);
  layout->addWidget(bench_table_, 1);
  layout->addWidget(profile_table_, 1);

  host_key_prompt_ = [this](const QString& host, const QString& fingerprint) {
    return QMessageBox::question(this, "New device host key",
                                 "EdgeTune has not connected to " + host +
                                     " before.\n\nIts host key fingerprint is\n" + fingerprint +
                                     "\n\nCompare it with the device's own (ssh-keygen -lf "
                                     "/etc/ssh/ssh_host_ed25519_key.pub on the device). Trust this key?",
                                 QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
  };
  password_prompt_ = [this](const QString& prompt, bool* remember) -> std::optional<QString> {
    bool ok = false;
    const QString secret = QInputDialog::getText(this, "Password", prompt, QLineEdit::Password, {}, &ok);
    if (!ok) return std::nullopt;
    if (secrets_ && remember)
      *remember = QMessageBox::question(
                      this, "Keep the password?", "Keep this password in the system keychain for next time?",
                      QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    return secret;
  };

  connect(list_, &QListWidget::currentRowChanged, this, [this] { updateButtons(); });
  connect(add_, &QPushButton::clicked, this, &DevicesPanel::addDeviceWithForm);
  connect(edit_, &QPushButton::clicked, this, &DevicesPanel::editSelectedWithForm);
  connect(remove_, &QPushButton::clicked, this, [this] {
    const QString name = selectedDevice();
    if (name.isEmpty()) return;
    if (QMessageBox::question(this, "Remove device", "Remove " + name + " from EdgeTune's devices?") ==
        QMessageBox::Yes)
      removeDevice(name);
  });
  connect(test_, &QPushButton::clicked, this, [this] { testConnection(); });
  connect(deploy_, &QPushButton::clicked, this, [this] { deploySelected(); });
  connect(cancel_, &QPushButton::clicked, this, [this] {
    if (running_) running_->cancel();
  });
  connect(profile_, &QCheckBox::toggled, this, [this](bool on) {
    if (on) bench_->setChecked(true);
  });
  reloadList();
}

void DevicesPanel::setDeviceStoreFile(const QString& path) {
  store_ = deploy::DeviceStore(path.toStdString());
  reloadList();
}
QString DevicesPanel::deviceStoreFile() const {
  return q(store_.file().string());
}
void DevicesPanel::setRunnerDirs(const QStringList& dirs) {
  runner_dirs_ = dirs;
}
void DevicesPanel::setRemoteRoot(const QString& remote_root) {
  remote_root_ = remote_root;
}
void DevicesPanel::setConnectTimeoutMs(int timeout_ms) {
  timeout_ms_ = timeout_ms;
}
void DevicesPanel::setHostKeyPrompt(HostKeyPrompt prompt) {
  host_key_prompt_ = std::move(prompt);
}
void DevicesPanel::setPasswordPrompt(PasswordPrompt prompt) {
  password_prompt_ = std::move(prompt);
}

QStringList DevicesPanel::deviceNames() const {
  QStringList names;
  for (int i = 0; i < list_->count(); ++i) names << list_->item(i)->data(Qt::UserRole).toString();
  return names;
}

void DevicesPanel::reloadList(const QString& select) {
  const QString keep = select.isEmpty() ? selectedDevice() : select;
  list_->clear();
  try {
    for (const Device& d : store_.list()) {
      auto* item =
          new QListWidgetItem(q(d.name + "   " + d.user + "@" + d.host + ":" + std::to_string(d.port)));
      item->setData(Qt::UserRole, q(d.name));
      item->setToolTip(q(d.describe() + ", " + deploy::toString(d.auth)));
      list_->addItem(item);
      if (q(d.name) == keep) list_->setCurrentItem(item);
    }
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
  }
  if (!list_->currentItem() && list_->count() > 0) list_->setCurrentRow(0);
  updateButtons();
}

bool DevicesPanel::addDevice(const Device& device, bool replace) {
  try {
    store_.add(device, replace);
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
    return false;
  }
  reloadList(q(device.name));
  setStatus(q((replace ? "saved device " : "added device ") + device.describe()), false);
  emit devicesChanged();
  return true;
}

bool DevicesPanel::removeDevice(const QString& name) {
  std::optional<Device> device;
  try {
    device = store_.find(name.toStdString());
    if (!device || !store_.remove(name.toStdString())) {
      setStatus("no device named '" + name + "'", true);
      return false;
    }
    if (secrets_ && device->auth == deploy::AuthMethod::Password)
      secrets_->erase(deploy::passwordSecretKey(*device));
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
  }
  reloadList();
  setStatus("removed device " + name, false);
  emit devicesChanged();
  return true;
}

void DevicesPanel::selectDevice(const QString& name) {
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->data(Qt::UserRole).toString() == name) list_->setCurrentRow(i);
}

QString DevicesPanel::selectedDevice() const {
  auto* item = list_->currentItem();
  return item ? item->data(Qt::UserRole).toString() : QString();
}

std::optional<Device> DevicesPanel::selected() {
  const QString name = selectedDevice();
  if (name.isEmpty()) {
    setStatus("select a device first (or add one)", true);
    return std::nullopt;
  }
  try {
    return store_.get(name.toStdString());
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
    return std::nullopt;
  }
}

void DevicesPanel::addDeviceWithForm() {
  DeviceForm form(this);
  form.setWindowTitle("Add device");
  if (form.exec() == QDialog::Accepted) addDevice(form.device());
}

void DevicesPanel::editSelectedWithForm() {
  const auto old = selected();
  if (!old) return;
  DeviceForm form(this);
  form.setWindowTitle("Edit device");
  form.setDevice(*old);
  if (form.exec() != QDialog::Accepted) return;
  const Device edited = form.device();
  // A saved password belongs to the old login; ask again after an edit rather than replay it elsewhere.
  try {
    if (secrets_ && old->auth == deploy::AuthMethod::Password)
      secrets_->erase(deploy::passwordSecretKey(*old));
  } catch (const Error&) {
    // no keychain: nothing was saved either
  }
  if (edited.name != old->name) store_.remove(old->name);
  addDevice(edited, true);
}

void DevicesPanel::setModel(const QString& onnx_path, const QString& label) {
  model_path_ = onnx_path;
  model_label_ = label.isEmpty() ? q(std::filesystem::path(onnx_path.toStdString()).stem().string()) : label;
  model_label_view_->setText(onnx_path.isEmpty() ? QStringLiteral("No model") : "Model: " + model_label_);
  model_label_view_->setToolTip(onnx_path);
  updateButtons();
}

void DevicesPanel::setBenchmarkEnabled(bool on) {
  bench_->setChecked(on);
}
void DevicesPanel::setBenchmarkThreads(const QString& threads) {
  threads_->setText(threads);
}
void DevicesPanel::setBenchmarkRuns(int runs) {
  runs_->setValue(runs);
}
void DevicesPanel::setProfileEnabled(bool on) {
  profile_->setChecked(on);
}

QString DevicesPanel::statusText() const {
  return status_->text();
}
QString DevicesPanel::deviceInfoText() const {
  return info_->toPlainText();
}

void DevicesPanel::setStatus(const QString& text, bool error) {
  status_is_error_ = error;
  status_->setText(text);
  status_->setStyleSheet(error ? "color: #b00020" : "");
}

void DevicesPanel::updateButtons() {
  const bool has = list_->currentItem() != nullptr, idle = !busy();
  edit_->setEnabled(has && idle);
  remove_->setEnabled(has && idle);
  test_->setEnabled(has && idle);
  deploy_->setEnabled(has && idle && !model_path_.isEmpty());
  cancel_->setEnabled(!idle);
  add_->setEnabled(idle);
}

// ---------------------------------------------------------------- connecting from a worker

std::optional<std::string> DevicesPanel::askPasswordOnUi(const Device& device, const std::string& prompt,
                                                         PendingSecret& pending) {
  // The keychain first (once: a second question in the same login means the saved one was refused).
  if (secrets_ && device.auth == deploy::AuthMethod::Password && !pending.from_keychain) {
    try {
      if (auto saved = secrets_->load(deploy::passwordSecretKey(device))) {
        pending.from_keychain = true;
        return saved;
      }
    } catch (const Error& e) {
      setStatus(q(e.what()), true);  // no keychain: ask instead
    }
  }
  if (!password_prompt_) return std::nullopt;
  bool remember = false;
  const auto answer = password_prompt_(q(device.describe() + ": " + prompt), secrets_ ? &remember : nullptr);
  if (!answer) return std::nullopt;
  pending.remember = remember && device.auth == deploy::AuthMethod::Password;
  pending.secret = pending.remember ? answer->toStdString() : std::string();
  return answer->toStdString();
}

void DevicesPanel::keepPendingSecret(const Device& device, PendingSecret& pending) {
  if (!pending.remember || !secrets_) return;
  try {
    secrets_->store(deploy::passwordSecretKey(device), pending.secret);
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
  }
  pending.secret.assign(pending.secret.size(), '\0');
  pending.secret.clear();
  pending.remember = false;
}

deploy::ConnectOptions DevicesPanel::connectOptions(JobContext& job, JobHandle& handle, const Device& device,
                                                    const std::shared_ptr<PendingSecret>& pending) {
  deploy::ConnectOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms_);
  QPointer<DevicesPanel> self(this);
  options.confirm_host_key = [self, &job, &handle](const deploy::HostKeyInfo& info) {
    return askOnUi<bool>(job, handle, [self, info] {
      if (!self || !self->host_key_prompt_) return false;
      return self->host_key_prompt_(
          q(info.host + ":" + std::to_string(info.port) + " (" + info.key_type + ")"),
          q(info.fingerprint_sha256));
    });
  };
  options.ask_secret = [self, &job, &handle, device, pending](const std::string& prompt) {
    return askOnUi<std::optional<std::string>>(job, handle, [self, device, pending, prompt] {
      if (!self) return std::optional<std::string>();
      return self->askPasswordOnUi(device, prompt, *pending);
    });
  };
  return options;
}

void DevicesPanel::watch(JobHandle* handle, const QString& device, bool deploying) {
  running_ = handle;
  progress_->setValue(0);
  connect(handle, &JobHandle::progressChanged, this, [this](double fraction, const QString& message, double) {
    progress_->setValue(static_cast<int>(fraction * 1000));
    if (!message.isEmpty()) setStatus(message, false);
    if (message.startsWith("connecting to")) {
      connect_message_ = message;
      connect_clock_.start();
      connect_ticker_->start();
    } else {
      connect_ticker_->stop();
    }
  });
  connect(handle, &JobHandle::finished, this,
          [this, device, deploying](JobHandle::State state, const QString& error) {
            connect_ticker_->stop();
            running_ = nullptr;
            updateButtons();
            const bool ok = state == JobHandle::State::Succeeded;
            if (state == JobHandle::State::Failed) setStatus(device + ": " + error, true);
            if (state == JobHandle::State::Cancelled) setStatus(device + ": cancelled", true);
            if (ok) progress_->setValue(1000);
            if (deploying)
              emit deployFinished(device, ok, ok ? statusText() : error);
            else
              emit connectionTested(device, ok);
          });
  updateButtons();
}

JobHandle* DevicesPanel::testConnection() {
  if (busy()) return nullptr;
  const auto device = selected();
  if (!device) return nullptr;
  const std::string remote_root = remote_root_.toStdString();
  auto pending = std::make_shared<PendingSecret>();
  QPointer<DevicesPanel> self(this);
  setStatus("connecting to " + q(device->describe()) + "…", false);
  auto* handle =
      jobs_->start("Test connection: " + q(device->name), [=, this](JobContext& job, JobHandle& h) {
        job.report(0.05, "connecting to " + device->describe());
        auto session = deploy::SshSession::connect(*device, connectOptions(job, h, *device, pending));
        job.report(0.5, "asking " + device->name + " what it is");
        const deploy::DeviceInfo info = deploy::probeDevice(*session, remote_root);
        const std::string fingerprint = session->hostKeyFingerprint();
        h.postToUi([self, device, info, fingerprint, pending] {
          if (!self) return;
          self->keepPendingSecret(*device, *pending);
          self->last_info_ = info;
          self->info_->setPlainText(
              q("Connected to " + device->describe() + "\nHost key " + fingerprint + "\n" + info.toText()));
          self->setStatus(q("connected to " + device->describe() + ": " + info.os_name + ", " + info.arch),
                          false);
        });
      });
  watch(handle, q(device->name), false);
  return handle;
}

JobHandle* DevicesPanel::deploySelected() {
  if (busy()) return nullptr;
  if (model_path_.isEmpty()) {
    setStatus("no model to deploy (open or export one first)", true);
    return nullptr;
  }
  const auto device = selected();
  if (!device) return nullptr;
  const bool bench = bench_->isChecked() || profile_->isChecked();
  deploy::RemoteBenchOptions bo;
  try {
    bo.threads = parseThreads(threads_->text());
  } catch (const Error& e) {
    setStatus(q(e.what()), true);
    return nullptr;
  }
  bo.runs = runs_->value();
  bo.profile = profile_->isChecked();
  const std::filesystem::path model = model_path_.toStdString();
  deploy::DeployOptions options;
  options.model_name = remoteModelName(model_label_, model);
  options.remote_root = remote_root_.toStdString();
  std::vector<std::filesystem::path> runner_dirs;
  for (const QString& d : runner_dirs_) runner_dirs.push_back(d.toStdString());
  auto pending = std::make_shared<PendingSecret>();
  QPointer<DevicesPanel> self(this);
  setStatus("deploying " + model_label_ + " to " + q(device->describe()) + "…", false);

  auto* handle = jobs_->start("Deploy to " + q(device->name), [=, this](JobContext& job, JobHandle& h) {
    job.report(0.0, "connecting to " + device->describe());
    auto session = deploy::SshSession::connect(*device, connectOptions(job, h, *device, pending));
    h.postToUi([self, device, pending] {
      if (self) self->keepPendingSecret(*device, *pending);
    });
    const double upload_end = bench ? 0.6 : 1.0;
    const auto upload = job.child(0.02, upload_end);
    const deploy::DeployResult deployed = deploy::deployModel(*session, model, options, upload.get());
    std::string done = "deployed " + std::to_string(deployed.files.size()) + " file(s) to " + device->name +
                       ":" + deployed.remote_dir;
    if (!bench) {
      h.postToUi([self, done] {
        if (self) self->setStatus(q(done), false);
      });
      return;
    }
    job.throwIfCancelled();
    const auto runner_job = job.child(upload_end, 0.8);
    const auto runners = deploy::findRunners(runner_dirs);
    const std::string runner = deploy::ensureRunner(*session, runners, options, runner_job.get());
    job.throwIfCancelled();
    job.report(0.8, "benchmarking on " + device->name);
    deploy::DeviceBenchmark result = deploy::runRemoteBenchmark(
        *session, runner, deploy::remoteJoin(deployed.remote_dir, model.filename().string()), bo);
    result.device = device->name;
    h.postToUi([self, result, done] {
      if (!self) return;
      self->showBenchmark(result);
      self->setStatus(q(done + ", benchmarked"), false);
      emit self->benchmarkReady(q(result.device), result.toJson());
    });
  });
  watch(handle, q(device->name), true);
  return handle;
}

void DevicesPanel::showBenchmark(const deploy::DeviceBenchmark& bench) {
  last_bench_ = bench;
  bench_table_->setRowCount(static_cast<int>(bench.latency.size()));
  for (int r = 0; r < static_cast<int>(bench.latency.size()); ++r) {
    const auto& l = bench.latency[static_cast<size_t>(r)];
    bench_table_->setItem(r, 0, cell(QString::number(l.threads)));
    bench_table_->setItem(r, 1, cell(QString::number(l.median_ms, 'f', 3)));
    bench_table_->setItem(r, 2, cell(QString::number(l.p90_ms, 'f', 3)));
    bench_table_->setItem(r, 3, cell(QString::number(l.p99_ms, 'f', 3)));
    bench_table_->setItem(r, 4, cell(QString::number(l.min_ms, 'f', 3)));
    bench_table_->setItem(
        r, 5, cell(QString::number(static_cast<double>(l.peak_rss_bytes) / (1024.0 * 1024.0), 'f', 1)));
  }
  bench_table_->setToolTip(q(bench.device + " (" + bench.arch + ", " + std::to_string(bench.cpu_cores) +
                             " cores, ONNX Runtime " + bench.onnxruntime_version + ")"));
  int64_t total_us = 0;
  for (const auto& n : bench.profile) total_us += n.total_us;
  profile_table_->setVisible(!bench.profile.empty());
  const int rows = static_cast<int>(std::min<size_t>(bench.profile.size(), 20));
  profile_table_->setRowCount(rows);
  for (int r = 0; r < rows; ++r) {
    const auto& n = bench.profile[static_cast<size_t>(r)];
    profile_table_->setItem(r, 0, cell(q(n.name)));
    profile_table_->setItem(r, 1, cell(q(n.op)));
    profile_table_->setItem(r, 2, cell(QString::number(n.mean_us, 'f', 1)));
    profile_table_->setItem(r, 3,
                            cell(total_us > 0 ? QString::number(100.0 * static_cast<double>(n.total_us) /
                                                                    static_cast<double>(total_us),
                                                                'f', 1) +
                                                    " %"
                                              : QString()));
  }
}

}  // namespace edgetune::ui
