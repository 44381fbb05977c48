#include "ui/train_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "core/util/error.h"
#include "ui/charts.h"

namespace edgetune::ui {
namespace fs = std::filesystem;
using pipeline::Variant;

bool TrainPanel::trainingAvailable() {
#ifdef EDGETUNE_HAVE_TRAINING
  return true;
#else
  return false;
#endif
}

TrainPanel::TrainPanel(JobManager* jobs, TrainingChart* chart, QWidget* parent)
    : QWidget(parent), jobs_(jobs), chart_(chart) {
  output_dir_ = QDir(QDir::tempPath()).filePath("edgetune-trained");
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  layout->addLayout(form);

  mode_ = new QComboBox(this);
  mode_->addItem("Distill from the baseline", static_cast<int>(TrainSettings::Mode::Distill));
  mode_->addItem("Fine-tune with labels", static_cast<int>(TrainSettings::Mode::FineTune));
  mode_->setToolTip(
      "Distill: the baseline model is the teacher (soft targets at temperature T, weight alpha).\n"
      "Fine-tune: recover with the dataset's labels only (pruned weights stay zero).");
  form->addRow("Mode", mode_);

  source_ = new QComboBox(this);
  source_->setObjectName("source");
  source_->addItem("Student (zoo or file)", static_cast<int>(TrainSettings::Source::Student));
  source_->addItem("Selected variant", static_cast<int>(TrainSettings::Source::Variant));
  source_->addItem("Current base: the original model", static_cast<int>(TrainSettings::Source::Baseline));
  form->addRow("Train", source_);

  student_ = new QComboBox(this);
  student_->setEditable(true);
  student_->addItems({"zoo:resnet8?input_channels=1&image_size=28&classes=10",
                      "zoo:resnet20?input_channels=1&image_size=28&classes=10",
                      "zoo:mobilenetv2?input_channels=1&image_size=28&classes=10",
                      "zoo:resnet8?input_channels=3&image_size=32&classes=10"});
  student_->setToolTip(
      "A model-zoo source (zoo:ARCH?key=value&...) or an ONNX file; its class count must match "
      "the dataset's");
  student_->setMinimumContentsLength(20);
  student_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  form->addRow("Student", student_);

  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 1000);
  form->addRow("Epochs", epochs_);
  batch_ = new QSpinBox(this);
  batch_->setRange(2, 4096);  // batch normalization needs more than one example per batch
  form->addRow("Batch", batch_);
  learning_rate_ = new QDoubleSpinBox(this);
  learning_rate_->setObjectName("learning_rate");
  learning_rate_->setDecimals(5);
  learning_rate_->setRange(1e-5, 10);
  learning_rate_->setSingleStep(0.001);
  learning_rate_->setToolTip(
      "Step size of the optimizer. Follows the source until you change it: 0.05 (SGD) for a student trained "
      "from scratch, 0.001 for a trained or pruned model, whose knowledge a large step destroys. A run whose "
      "loss turns NaN, or whose accuracy falls to chance, stops and keeps nothing");
  check_rate_ = new QPushButton("Check", this);
  check_rate_->setObjectName("check_rate");
  auto* rate_row = new QHBoxLayout;
  rate_row->addWidget(learning_rate_, 1);
  rate_row->addWidget(check_rate_);
  form->addRow("Learning rate", rate_row);
  rate_report_ = new QLabel(this);
  rate_report_->setObjectName("rate_report");
  rate_report_->setWordWrap(true);
  rate_report_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  rate_report_->hide();
  form->addRow(rate_report_);
  optimizer_ = new QComboBox(this);
  optimizer_->addItem("SGD (Nesterov momentum)", "sgd");
  optimizer_->addItem("AdamW", "adamw");
  form->addRow("Optimizer", optimizer_);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0.1, 50);
  temperature_->setSingleStep(0.5);
  form->addRow("Temperature T", temperature_);
  alpha_ = new QDoubleSpinBox(this);
  alpha_->setRange(0, 1);
  alpha_->setSingleStep(0.05);
  alpha_->setToolTip("Weight of the teacher's soft targets; 1 - alpha goes to the labels");
  form->addRow("Alpha", alpha_);
  augment_ = new QCheckBox("random crop and flip", this);
  form->addRow("Augmentation", augment_);
  steps_ = new QSpinBox(this);
  steps_->setRange(0, 1000000);
  steps_->setSpecialValueText("all");
  steps_->setToolTip("Limit the steps per epoch for quick runs (0 = all of the training split)");
  form->addRow("Steps per epoch", steps_);
  validation_size_ = new QSpinBox(this);
  validation_size_->setRange(0, 1000000);
  validation_size_->setSpecialValueText("none");
  validation_size_->setToolTip(
      "Examples held out for the per-epoch accuracy and the final measurement: the dataset spec's own seeded "
      "split (subset=val&val_count=N&seed=...), which a saved recipe names too");
  form->addRow("Validation subset", validation_size_);

  auto* buttons = new QHBoxLayout;
  start_ = new QPushButton("Start training", this);
  cancel_ = new QPushButton("Cancel", this);
  buttons->addWidget(start_);
  buttons->addWidget(cancel_);
  layout->addLayout(buttons);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  layout->addWidget(status_);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #b00020");
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(error_);
  layout->addStretch(1);

  setSettings(TrainSettings{});
  explainKnobs();
  connect(start_, &QPushButton::clicked, this, [this] { start(); });
  connect(cancel_, &QPushButton::clicked, this, &TrainPanel::cancel);
  connect(check_rate_, &QPushButton::clicked, this, [this] { checkRate(); });
  connect(mode_, &QComboBox::currentIndexChanged, this, &TrainPanel::updateEnabled);
  connect(source_, &QComboBox::currentIndexChanged, this, &TrainPanel::updateEnabled);
  connect(source_, &QComboBox::currentIndexChanged, this, &TrainPanel::followDefaultLearningRate);
  connect(optimizer_, &QComboBox::currentIndexChanged, this, &TrainPanel::followDefaultLearningRate);
  if (!trainingAvailable())
    status_->setText("training engine not built (configure with EDGETUNE_BUILD_TRAINING=ON)");
  updateEnabled();
}

TrainPanel::~TrainPanel() {
  if (job_) job_->cancel();
  if (rate_job_) rate_job_->cancel();
}

void TrainPanel::setContext(std::shared_ptr<const Model> baseline, const QString& baseline_path,
                            std::shared_ptr<const Dataset> dataset, const std::string& dataset_spec) {
  baseline_ = std::move(baseline);
  baseline_path_ = baseline_path;
  dataset_ = std::move(dataset);
  dataset_spec_ = dataset_spec;
  updateEnabled();
}

void TrainPanel::setSourceModel(std::shared_ptr<const Model> model, const QString& label,
                                const nlohmann::json& recipe, const nlohmann::json& knobs,
                                const std::string& variant_name) {
  source_model_ = std::move(model);
  source_label_ = source_model_ ? label : QString();
  source_recipe_ = recipe;
  source_knobs_ = knobs;
  source_variant_ = source_model_ ? variant_name : std::string();
  source_->setItemText(1, source_model_ ? "Selected variant: " + label : "Selected variant (none)");
  updateEnabled();
}

void TrainPanel::setBaseModel(std::shared_ptr<const Model> model, const QString& base_name) {
  base_model_ = std::move(model);
  base_name_ = base_model_ ? base_name : QString();
  source_->setItemText(
      2, base_name_.isEmpty() ? "Current base: the original model" : "Current base: " + base_name_);
  updateEnabled();
}

void TrainPanel::setOutputDir(const QString& dir) {
  output_dir_ = dir;
}

TrainSettings TrainPanel::settings() const {
  TrainSettings s;
  s.mode = static_cast<TrainSettings::Mode>(mode_->currentData().toInt());
  s.source = static_cast<TrainSettings::Source>(source_->currentData().toInt());
  s.student = student_->currentText().trimmed().toStdString();
  s.epochs = epochs_->value();
  s.batch_size = batch_->value();
  s.learning_rate = learning_rate_->value();
  s.optimizer = optimizer_->currentData().toString().toStdString();
  s.temperature = temperature_->value();
  s.alpha = alpha_->value();
  s.augment = augment_->isChecked();
  s.steps_per_epoch = steps_->value();
  s.validation_size = validation_size_->value();
  return s;
}

void TrainPanel::setSettings(const TrainSettings& s) {
  applying_settings_ = true;  // the rate given here is the one meant, whatever the source
  mode_->setCurrentIndex(std::max(0, mode_->findData(static_cast<int>(s.mode))));
  source_->setCurrentIndex(std::max(0, source_->findData(static_cast<int>(s.source))));
  student_->setEditText(QString::fromStdString(s.student));
  epochs_->setValue(s.epochs);
  batch_->setValue(s.batch_size);
  learning_rate_->setValue(s.learning_rate);
  optimizer_->setCurrentIndex(std::max(0, optimizer_->findData(QString::fromStdString(s.optimizer))));
  temperature_->setValue(s.temperature);
  alpha_->setValue(s.alpha);
  augment_->setChecked(s.augment);
  steps_->setValue(s.steps_per_epoch);
  validation_size_->setValue(s.validation_size);
  default_learning_rate_ = TrainSettings::defaultLearningRate(s.source, s.optimizer);
  applying_settings_ = false;
  updateEnabled();
}

void TrainPanel::followDefaultLearningRate() {
  if (applying_settings_) return;
  const TrainSettings s = settings();
  const double now_default = TrainSettings::defaultLearningRate(s.source, s.optimizer);
  // A rate the user typed stays; one that was the previous default follows the new source or optimizer.
  if (std::abs(s.learning_rate - default_learning_rate_) <= 1e-12) learning_rate_->setValue(now_default);
  default_learning_rate_ = now_default;
}

void TrainPanel::updateEnabled() {
  const bool available = trainingAvailable();
  const bool idle = job_.isNull() && rate_job_.isNull();
  const bool distill = mode_->currentData().toInt() == static_cast<int>(TrainSettings::Mode::Distill);
  const bool student = source_->currentData().toInt() == static_cast<int>(TrainSettings::Source::Student);
  for (QWidget* w : std::initializer_list<QWidget*>{mode_, source_, epochs_, batch_, learning_rate_,
                                                    optimizer_, augment_, steps_, validation_size_})
    w->setEnabled(available && idle);
  student_->setEnabled(available && idle && student);
  temperature_->setEnabled(available && idle && distill);
  alpha_->setEnabled(available && idle && distill);
  start_->setEnabled(available && idle);
  check_rate_->setEnabled(available && idle);
  cancel_->setEnabled(!idle);
}

void TrainPanel::fail(const QString& message) {
  last_error_ = message;
  error_->setText(message);
  emit trainingFailed(message);
  emit statusMessage(message);
}

void TrainPanel::cancel() {
  for (JobHandle* job : {job_.data(), rate_job_.data()}) {
    if (!job) continue;
    job->cancel();
    status_->setText("Cancelling...");
  }
}

#ifndef EDGETUNE_HAVE_TRAINING

bool TrainPanel::start() {
  fail(
      "Cannot train: the training engine is not built (configure with EDGETUNE_BUILD_TRAINING=ON and "
      "libtorch)");
  return false;
}

void TrainPanel::onFinished(JobHandle::State, const QString&) {}

bool TrainPanel::checkRate() {
  fail("Cannot check the learning rate: the training engine is not built");
  return false;
}

void TrainPanel::onRateCheckFinished(JobHandle::State, const QString&) {}

#else

namespace {

// "%g" without trailing zeros: "T=4 a=0.9" reads better than "T=4.000000".
std::string shortNumber(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::optional<TrainJobPlan> TrainPanel::makePlan() {
  if (job_ || rate_job_) {
    fail(QString("A training job is already going (job #%1): wait for it or cancel it first")
             .arg(job_ ? job_->id() : rate_job_->id()));
    return std::nullopt;
  }
  error_->clear();
  last_error_.clear();
  const TrainSettings s = settings();
  if (!dataset_) {
    fail("Cannot train: no dataset is open (File > Open dataset, Ctrl+D)");
    return std::nullopt;
  }
  if (s.mode == TrainSettings::Mode::Distill && !baseline_) {
    fail("Cannot distill: open a baseline model first (it is the teacher)");
    return std::nullopt;
  }
  std::shared_ptr<const Model>
      fixed_source;  // set for variant / baseline; the student is loaded on the worker
  std::string label;
  // What the trained variant is made from (its base; "" = the project's model), and the recipe and knobs it
  // keeps as a description of that source.
  std::string made_from;
  nlohmann::json source_recipe = pipeline::emptyRecipe(), source_knobs = nlohmann::json::object();
  if (s.source == TrainSettings::Source::Variant) {
    if (!source_model_) {
      fail("Cannot train the selected variant: no variant is selected");
      return std::nullopt;
    }
    fixed_source = source_model_;
    label = source_label_.toStdString();
    made_from = source_variant_;
    if (source_recipe_.is_object()) source_recipe = source_recipe_;
    if (source_knobs_.is_object()) source_knobs = source_knobs_;
  } else if (s.source == TrainSettings::Source::Baseline) {
    if (!baseline_) {
      fail("Cannot train the baseline: no model is open");
      return std::nullopt;
    }
    fixed_source = base_model_ ? base_model_ : baseline_;
    made_from = base_model_ ? base_name_.toStdString() : std::string();
    label = made_from.empty() ? "baseline" : made_from;
  } else {
    if (s.student.empty()) {
      fail("Cannot train: enter a student (e.g. zoo:resnet8?input_channels=1&image_size=28&classes=10)");
      return std::nullopt;
    }
    label = shortSourceName(s.student);
  }
  // The run trains and validates on the dataset spec's own seeded split, and the trained variant records the
  // two specs: a recipe made from it reads exactly these examples (recipe_bridge.cpp).
  const auto n_val = static_cast<size_t>(s.validation_size);
  std::string train_spec, validation_spec;
  if (!dataset_spec_.empty()) {
    try {
      train_spec = trainingSplitSpec(dataset_spec_, TrainingSplitPart::Train, n_val, s.seed);
      validation_spec = trainingSplitSpec(dataset_spec_, TrainingSplitPart::Validation, n_val, s.seed);
    } catch (const Error& e) {
      fail(QString("Cannot train on this dataset: %1").arg(QString::fromUtf8(e.what())));
      return std::nullopt;
    }
  }
  if (static_cast<size_t>(s.validation_size) >= dataset_->size()) {
    fail(QString("Cannot train: the validation subset (%1) must be smaller than dataset '%2' (%3 examples)")
             .arg(s.validation_size)
             .arg(QString::fromStdString(dataset_->name()))
             .arg(dataset_->size()));
    return std::nullopt;
  }
  try {
    if (fixed_source) checkTrainable(*fixed_source, label, *dataset_);
  } catch (const Error& e) {
    fail(QString::fromUtf8(e.what()));
    return std::nullopt;
  }

  std::string name = trainModeName(s.mode) + " " + label;
  if (s.mode == TrainSettings::Mode::Distill)
    name += " T=" + shortNumber(s.temperature) + " a=" + shortNumber(s.alpha);
  name += ", " + std::to_string(s.epochs) + " ep";

  TrainJobPlan plan;
  plan.settings = s;
  plan.fixed_source = std::move(fixed_source);
  plan.label = label;
  plan.name = name;
  plan.made_from = made_from;
  plan.source_recipe = std::move(source_recipe);
  plan.source_knobs = std::move(source_knobs);
  plan.train_spec = train_spec;
  plan.validation_spec = validation_spec;
  plan.validation_count = n_val;
  plan.out_dir = output_dir_.toStdString();
  plan.baseline_path = baseline_path_.toStdString();
  plan.baseline = baseline_;
  plan.dataset = dataset_;
  return plan;
}

bool TrainPanel::start() {
  std::optional<TrainJobPlan> made = makePlan();
  if (!made) return false;
  TrainJobPlan plan = std::move(*made);
  const std::string name = plan.name;
  auto outcome = std::make_shared<TrainJobOutcome>();
  outcome_ = outcome;
  QPointer<TrainingChart> chart = chart_;
  if (chart) chart->clearPoints();

  job_ = jobs_->start(QString::fromStdString("Train: " + name),
                      [plan = std::move(plan), outcome, chart](JobContext& job, JobHandle& handle) {
                        runTrainJob(plan, job, handle, chart, *outcome);
                      });
  connect(job_, &JobHandle::finished, this, &TrainPanel::onFinished);
  connect(job_, &JobHandle::progressChanged, this,
          [this](double, const QString& message, double eta_seconds) {
            status_->setText(eta_seconds >= 0
                                 ? QString("%1 (about %2 s left)").arg(message).arg(std::lround(eta_seconds))
                                 : message);
          });
  status_->setText("Training " + QString::fromStdString(name) + "...");
  updateEnabled();
  emit runningChanged(true);
  return true;
}

bool TrainPanel::checkRate() {
  std::optional<TrainJobPlan> made = makePlan();
  if (!made) return false;
  auto outcome = std::make_shared<RateCheckOutcome>();
  rate_outcome_ = outcome;
  const QString name = QString::fromStdString("Learning-rate check: " + made->label);
  rate_job_ = jobs_->start(name, [plan = std::move(*made), outcome](JobContext& job, JobHandle&) {
    const RateCheck check = runRateCheckJob(plan, kRateCheckSteps, job);
    std::lock_guard lock(outcome->mutex);
    outcome->suggested_rate = check.suggested_rate;
    outcome->report = describeRateCheck(check);
  });
  connect(rate_job_, &JobHandle::finished, this, &TrainPanel::onRateCheckFinished);
  connect(rate_job_, &JobHandle::progressChanged, this,
          [this](double, const QString& message, double) { status_->setText(message); });
  status_->setText(name + "...");
  rate_report_->hide();
  updateEnabled();
  emit runningChanged(true);
  return true;
}

void TrainPanel::onRateCheckFinished(JobHandle::State state, const QString& error) {
  auto outcome = rate_outcome_;
  rate_job_.clear();
  rate_outcome_.reset();
  double suggested = 0;
  std::string report;
  if (outcome) {
    std::lock_guard lock(outcome->mutex);
    suggested = outcome->suggested_rate;
    report = outcome->report;
  }
  if (state == JobHandle::State::Succeeded) {
    // The suggestion replaces the box's value as if the user had typed it (it stops following the source).
    if (suggested > 0) learning_rate_->setValue(suggested);
    rate_report_->setText(QString::fromStdString(report));
    rate_report_->show();
    status_->setText(suggested > 0 ? QString("Learning rate set to %1 by the check").arg(suggested)
                                   : QString("No rate lowered the loss: see the check's report"));
    emit rateChecked(suggested, QString::fromStdString(report));
  } else if (state == JobHandle::State::Cancelled) {
    status_->setText("Learning-rate check cancelled");
  } else {
    status_->setText("Learning-rate check failed");
    fail("Learning-rate check failed: " + (error.isEmpty() ? QString("no result") : error));
  }
  updateEnabled();
  emit runningChanged(false);
}

void TrainPanel::onFinished(JobHandle::State state, const QString& error) {
  auto outcome = outcome_;
  job_.clear();
  outcome_.reset();
  std::string path;
  Variant variant;
  if (outcome) {
    std::lock_guard lock(outcome->mutex);
    path = outcome->output_path;
    variant = outcome->variant;
  }
  if (state == JobHandle::State::Succeeded && !path.empty()) {
    last_output_ = QString::fromStdString(path);
    last_variant_ = variant;
    QString summary = "Trained '" + QString::fromStdString(variant.name) + "' -> " + last_output_;
    if (variant.metrics.accuracy)
      summary += QString(", accuracy %1%").arg(100 * *variant.metrics.accuracy, 0, 'f', 1);
    status_->setText(summary);
    emit statusMessage(summary);
    updateEnabled();
    emit runningChanged(false);
    emit trainedVariant(variant, last_output_);
    return;
  }
  // Cancelled right after the file was written (or failed while measuring): nothing may stay behind.
  if (!path.empty()) {
    std::error_code ec;
    fs::remove(path, ec);
  }
  if (state == JobHandle::State::Cancelled) {
    status_->setText("Training cancelled; nothing was written");
    emit statusMessage("Training cancelled");
  } else {
    status_->setText("Training failed");
    fail("Training failed: " + (error.isEmpty() ? QString("no result") : error));
  }
  updateEnabled();
  emit runningChanged(false);
}

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace edgetune::ui
