#include "ui/live_measurement.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/pipeline/measurement_explanation.h"
#include "core/pipeline/variant_model.h"
#include "core/util/format.h"
#include "ui/charts.h"
#include "ui/jobs.h"
#include "ui/knob_recipe.h"
#include "ui/quick_recovery.h"

namespace edgetune::ui {
using nlohmann::json;
using pipeline::VariantMetrics;

// Fraction of each baseline node's largest float weight that `after` removed or zeroed (NaN: no weight).
static std::vector<double> prunedFractions(const Model& before, const Model& after) {
  std::vector<double> out(before.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  std::unordered_map<std::string, int> after_index;
  for (int i = 0; i < after.graph().node_size(); ++i) after_index[after.graph().node(i).name()] = i;
  auto largestWeight = [](const Model& m, const onnx::NodeProto& n) -> const onnx::TensorProto* {
    const onnx::TensorProto* best = nullptr;
    int64_t best_count = 1;
    for (const auto& in : n.input()) {
      const auto* t = m.initializer(in);
      if (!t || t->data_type() != onnx::TensorProto::FLOAT || t->dims_size() < 2) continue;
      int64_t c = 1;
      for (auto d : t->dims()) c *= d;
      if (c > best_count) {
        best = t;
        best_count = c;
      }
    }
    return best;
  };
  for (int i = 0; i < before.graph().node_size(); ++i) {
    const auto& a = before.graph().node(i);
    const auto* wa = largestWeight(before, a);
    if (!wa) continue;
    int64_t count_before = 1;
    for (auto d : wa->dims()) count_before *= d;
    auto it = after_index.find(a.name());
    if (it == after_index.end()) continue;
    const auto* wb = largestWeight(after, after.graph().node(it->second));
    if (!wb) continue;
    const Tensor t = tensorFromProto(*wb);
    int64_t nonzero = 0;
    for (float v : t.values<float>()) nonzero += v != 0.0f ? 1 : 0;
    out[i] = 1.0 - static_cast<double>(nonzero) / static_cast<double>(count_before);
  }
  return out;
}

LiveMeasurement::LiveMeasurement(JobManager* jobs, KnobChart* chart, QObject* parent)
    : QObject(parent),
      jobs_(jobs),
      chart_(chart),
      cpu_(hostCpuSupport()),
      quick_(new QuickRecovery(jobs, this)) {
  connect(quick_, &QuickRecovery::estimated, this,
          [this](const json& knobs, const VariantMetrics& m, int round) {
            if (chart_) chart_->setRecoveredPoint(knobs, m);
            if (knobs != knobs_) return;
            recovered_ =
                QString(
                    "<br>after a quick recovery (layer statistics re-estimated on %1 examples, round %2 of "
                    "%3): accuracy %4% [%5, %6] on %7 examples")
                    .arg(QuickRecovery::kStatisticsExamples)
                    .arg(round)
                    .arg(QuickRecovery::kRounds)
                    .arg(100 * m.accuracy.value_or(0), 0, 'f', 2)
                    .arg(100 * m.accuracy_low.value_or(0), 0, 'f', 2)
                    .arg(100 * m.accuracy_high.value_or(0), 0, 'f', 2)
                    .arg(m.accuracy_count.value_or(0));
            emit summaryChanged(summary(metrics_, dataset_ != nullptr));
          });
  connect(quick_, &QuickRecovery::unavailable, this, [this](const QString& why) {
    recovered_ = "<br><i>no quick-recovery estimate: " + why.toHtmlEscaped() + "</i>";
    emit summaryChanged(summary(metrics_, dataset_ != nullptr));
  });
}

void LiveMeasurement::markKnobChange() {
  markContextChange();
  knob_to_chart_ms_ = knob_to_latency_ms_ = knob_to_accuracy_ms_ = -1;
}

void LiveMeasurement::markContextChange() {
  since_change_.start();
  change_pending_timing_ = true;
}

QString LiveMeasurement::summary(const VariantMetrics& m, bool have_dataset) const {
  QString text = QString("<b>%1</b><br>size %2")
                     .arg(QString::fromStdString(variantNameFromKnobs(knobs_)).toHtmlEscaped(),
                          QString::fromStdString(formatBytes(m.size_bytes.value_or(0))));
  if (m.params) text += QString(", %1 params").arg(*m.params);
  // Every number says what it was measured on: the input shape and the data.
  const QString shapes = QString::fromStdString(options_.input_shapes.describe());
  if (m.latency_ms)
    text += QString("<br>latency %1 ms (p90 %2)%3")
                .arg(*m.latency_ms, 0, 'f', 3)
                .arg(m.latency_p90_ms.value_or(0), 0, 'f', 3)
                .arg(shapes.isEmpty() ? QString() : " at " + shapes.toHtmlEscaped());
  if (m.accuracy)
    text += QString("<br>accuracy %1% [%2, %3] on %4 examples of %5")
                .arg(100 * *m.accuracy, 0, 'f', 2)
                .arg(100 * m.accuracy_low.value_or(0), 0, 'f', 2)
                .arg(100 * m.accuracy_high.value_or(0), 0, 'f', 2)
                .arg(m.accuracy_count.value_or(0))
                .arg(QString::fromStdString(dataset_name_).toHtmlEscaped());
  else if (!have_dataset)
    text += "<br><i>open a dataset (Ctrl+D) to measure accuracy</i>";
  for (const std::string& line : pipeline::explainMeasurement({reference_, m, recipe_, classes_, cpu_}))
    text += "<br><span style='color:#8a4b00'>" + QString::fromStdString(line).toHtmlEscaped() + "</span>";
  return text + recovered_ + coverage_;
}

void LiveMeasurement::startQuickRecovery() {
  if (!pruned_ || !dataset_ || !metrics_.accuracy) return;
  quick_->start(baseline_, pruned_, statistics_dataset_ ? statistics_dataset_ : dataset_, dataset_, knobs_,
                options_.accuracy_seed, metrics_.accuracy_count.value_or(0));
}

void LiveMeasurement::start(std::shared_ptr<const Model> baseline, std::shared_ptr<const Dataset> dataset,
                            const json& knobs, const json& recipe) {
  if (job_) job_->cancel();  // the new job replaces the previous one
  quick_->cancel();          // and the estimate of the previous configuration stops competing for the CPU
  const int generation = ++generation_;
  metrics_ = VariantMetrics{};
  coverage_.clear();
  recovered_.clear();
  pruned_.reset();
  baseline_ = baseline;
  dataset_ = dataset;
  recipe_ = recipe;
  knobs_ = knobs;
  classes_ = dataset ? dataset->numClasses() : 0;
  dataset_name_ = dataset ? dataset->name() : std::string();
  emit summaryChanged("<i>measuring...</i>");
  const bool have_dataset = dataset != nullptr;
  const pipeline::MeasureOptions options = options_;
  const QString title = "Measure " + QString::fromStdString(variantNameFromKnobs(knobs));
  JobHandle* job = jobs_->start(title, [=, this](JobContext& context, JobHandle& handle) {
    std::vector<PassReport> reports;
    Model model = pipeline::applyRecipe(*baseline, recipe, nullptr, &reports);
    context.throwIfCancelled();
    auto ratios = std::make_shared<std::vector<double>>(prunedFractions(*baseline, model));
    // What prune and quantize left alone is shown with the measurement, as the CLI prints it.
    QString coverage;
    for (const auto& line : pipeline::coverageLines(reports))
      coverage += "<br>" + QString::fromStdString(line).toHtmlEscaped();
    // A pruned float model gets a quick-recovery estimate once measured (quantized ones have no float
    // layers to re-estimate).
    const bool pruned = std::any_of(ratios->begin(), ratios->end(), [](double r) { return r > 0; }) &&
                        knobs.value("quant_mode", std::string("none")) == "none";
    std::shared_ptr<const Model> pruned_model = pruned ? std::make_shared<const Model>(model) : nullptr;
    handle.postToUi([this, generation, ratios, coverage, pruned_model] {
      if (generation != generation_) return;
      coverage_ = coverage;
      pruned_ = pruned_model;
      emit pruningRatios(*ratios);
    });
    // Throttle accuracy updates to ~10 per second so the UI thread stays idle.
    auto last_post = std::make_shared<std::chrono::steady_clock::time_point>();
    pipeline::measureVariant(model, dataset.get(), options, context, [&](const pipeline::MeasureUpdate& u) {
      const auto now = std::chrono::steady_clock::now();
      if (u.stage == pipeline::MeasureUpdate::Stage::Accuracy && !u.accuracy_final &&
          now - *last_post < std::chrono::milliseconds(100))
        return;
      *last_post = now;
      const VariantMetrics m = u.metrics;
      handle.postToUi([this, generation, knobs, m, have_dataset] {
        if (generation != generation_) return;
        metrics_ = m;
        if (chart_) chart_->setPoint(knobs, m);
        if (change_pending_timing_) {
          change_pending_timing_ = false;
          knob_to_chart_ms_ = static_cast<double>(since_change_.elapsed());
          emit firstChartUpdate(knob_to_chart_ms_);
        }
        // The targets are per stage (size at once, latency, a first accuracy): each first arrival is timed.
        if (m.latency_ms && knob_to_latency_ms_ < 0 && since_change_.isValid())
          knob_to_latency_ms_ = static_cast<double>(since_change_.elapsed());
        if (m.accuracy && knob_to_accuracy_ms_ < 0 && since_change_.isValid())
          knob_to_accuracy_ms_ = static_cast<double>(since_change_.elapsed());
        emit summaryChanged(summary(m, have_dataset));
        emit measurementUpdated(m);
      });
    });
  });
  job_ = job;
  connect(job, &JobHandle::finished, this, [this, job](JobHandle::State state, const QString& error) {
    const bool current = job_ == job;
    if (current) job_ = nullptr;
    if (current && state == JobHandle::State::Succeeded) startQuickRecovery();
    if (state == JobHandle::State::Failed) {
      emit summaryChanged("<span style='color:#b00'>" + error.toHtmlEscaped() + "</span>");
      emit failed(error);
    }
  });
}

}  // namespace edgetune::ui
