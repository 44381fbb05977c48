// MainWindow's variant chain: which variant the knobs and the Training dock start from (Use as base, an
// undoable edit), and the model the Training dock trains.
#include "ui/main_window.h"

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUndoCommand>

#include <functional>

#include "core/pipeline/variant_model.h"
#include "ui/jobs.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

using pipeline::Variant;

namespace {

// Changing the base is a project edit like a knob change: undo puts the previous base back.
class BaseCommand : public QUndoCommand {
 public:
  BaseCommand(std::string before, std::string after, std::function<void(const std::string&)> apply)
      : before_(std::move(before)), after_(std::move(after)), apply_(std::move(apply)) {
    setText(QString::fromStdString("base: " + (after_.empty() ? std::string("the original model") : after_)));
  }
  void undo() override { apply_(before_); }
  void redo() override { apply_(after_); }

 private:
  std::string before_, after_;
  std::function<void(const std::string&)> apply_;
};

// The baseline row: the project's model itself (no passes, no file, no base).
bool isProjectModel(const Variant& v) {
  return v.base.empty() && v.model_file.empty() &&
         (!v.recipe.is_object() || v.recipe.value("passes", nlohmann::json::array()).empty());
}

}  // namespace

QString MainWindow::trainOutputDir() const {
  if (!document_->path().isEmpty()) return QFileInfo(document_->path()).absoluteDir().filePath("trained");
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath("trained");
}

QString MainWindow::exportSuggestion(int variant_index) const {
  const auto& variants = document_->project().variants;
  QString name = variant_index >= 0 && variant_index < static_cast<int>(variants.size())
                     ? QString::fromStdString(variants[variant_index].name)
                     : QString("variant");
  name = name.replace(QRegularExpression("[^A-Za-z0-9_.-]+"), "_") + ".onnx";
  // Exports live beside the project, as trained models do (trainOutputDir).
  if (!document_->path().isEmpty()) return QFileInfo(document_->path()).absoluteDir().filePath(name);
  return name;
}

void MainWindow::updateTrainContext() {
  // The teacher's file: the opened ONNX path, or a zoo source (the panel writes such a teacher to a temporary
  // file). The dataset goes as opened: the panel explains itself when it does not fit the model.
  // The training role: the training dataset when one is open, else the test dataset.
  const bool own = train_dataset_ != nullptr;
  train_panel_->setContext(baseline_, QString::fromStdString(document_->project().model_path),
                           own ? train_dataset_ : dataset_,
                           own ? document_->project().train_dataset_spec : document_->project().dataset_spec);
}

void MainWindow::setTrainSource(int index) {
  const int generation = ++train_source_generation_;
  if (!baseline_ || index < 0 || index >= static_cast<int>(document_->project().variants.size())) {
    train_panel_->setSourceModel(nullptr, {});
    return;
  }
  const Variant variant = document_->project().variants[index];
  const std::vector<Variant> variants = document_->project().variants;
  const QString label = QString::fromStdString(variant.name);
  if (isProjectModel(variant)) {  // the baseline itself: nothing to materialize
    train_panel_->setSourceModel(baseline_, label, variant.recipe, variant.knobs, {});
    return;
  }
  auto baseline = baseline_;
  auto* job =
      jobs_->start("Prepare '" + label + "' for training", [=, this](JobContext& job, JobHandle& handle) {
        auto model =
            std::make_shared<const Model>(pipeline::variantModel(*baseline, variants, variant, &job));
        handle.postToUi([=, this] {
          if (generation != train_source_generation_ || baseline != baseline_)
            return;  // another selection since
          train_panel_->setSourceModel(model, label, variant.recipe, variant.knobs, variant.name);
        });
      });
  connect(job, &JobHandle::finished, this, [this, label](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) setStatus("Cannot train from '" + label + "': " + error, 10000);
  });
}

void MainWindow::useAsBase(int index) {
  if (!baseline_) {
    setStatus("Open a model first", 6000);
    return;
  }
  if (index >= static_cast<int>(document_->project().variants.size()) || index < -1) return;
  std::string name;
  if (index >= 0 && !isProjectModel(document_->project().variants[index])) {
    name = document_->project().variants[index].name;
    try {
      pipeline::baseChain(document_->project().variants, document_->project().variants[index]);
    } catch (const std::exception& e) {
      setStatus(
          "Cannot use '" + QString::fromStdString(name) + "' as the base: " + QString::fromUtf8(e.what()),
          10000);
      return;
    }
  }
  if (name == document_->project().current_base) {
    setStatus(name.empty() ? "The base is the original model already"
                           : "'" + QString::fromStdString(name) + "' is the base already",
              5000);
    return;
  }
  undo_->push(new BaseCommand(document_->project().current_base, name,
                              [this](const std::string& n) { applyBase(n); }));
}

void MainWindow::resetBase() {
  useAsBase(-1);
}

void MainWindow::applyBase(const std::string& name) {
  const int generation = ++base_generation_;
  const int index = name.empty() ? -1 : pipeline::findVariantNamed(document_->project().variants, name);
  if (!name.empty() && index < 0) {
    setStatus("'" + QString::fromStdString(name) + "' is no longer a variant: the base is the original model",
              8000);
    return applyBase({});
  }
  document_->project().current_base = name;
  document_->markDirty();
  showBase();
  if (!baseline_) return;
  if (name.empty()) {
    installBaseModel(baseline_);
    return;
  }
  base_model_.reset();  // Apply waits for the new base
  const Variant variant = document_->project().variants[index];
  const std::vector<Variant> variants = document_->project().variants;
  auto baseline = baseline_;
  const QString label = QString::fromStdString(name);
  setStatus("Preparing base '" + label + "'...");
  auto* job = jobs_->start("Prepare base '" + label + "'", [=, this](JobContext& job, JobHandle& handle) {
    auto model = std::make_shared<const Model>(pipeline::variantModel(*baseline, variants, variant, &job));
    handle.postToUi([=, this] {
      if (generation != base_generation_ || baseline != baseline_) return;  // another base or model since
      installBaseModel(model);
    });
  });
  connect(job, &JobHandle::finished, this,
          [this, label, generation](JobHandle::State st, const QString& error) {
            if (st != JobHandle::State::Failed || generation != base_generation_) return;
            setStatus("Cannot use '" + label + "' as the base: " + error + "; the base is the original model",
                      10000);
            applyBase({});
          });
}

void MainWindow::installBaseModel(std::shared_ptr<const Model> model) {
  base_model_ = std::move(model);
  QString problem;
  tuning_->setContext(base_model_, datasetForModel(&problem), document_->project().dataset_spec);
  // The sensitivity sweep is of the project's model: its groups are the knobs' again only there.
  if (document_->project().current_base.empty() && document_->project().sensitivity)
    tuning_->setSensitivity(std::make_shared<SensitivityResult>(*document_->project().sensitivity));
  train_panel_->setBaseModel(base_model_, currentBase());
  setStatus(document_->project().current_base.empty()
                ? QString("The knobs and the Training dock start from the original model")
                : "The knobs and the Training dock start from '" + currentBase() +
                      "' (new variants are made from it; Ctrl+Shift+B goes back to the original model)",
            8000);
  emit baseChanged(currentBase());
}

void MainWindow::showBase() {
  base_label_->setText(document_->project().current_base.empty() ? QString("base: original model")
                                                                 : "base: " + currentBase());
  updateTitle();
  refreshVariants();
}

}  // namespace edgetune::ui
