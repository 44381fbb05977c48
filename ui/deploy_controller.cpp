#include "ui/deploy_controller.h"

#include <QDir>
#include <QTemporaryDir>

#include "core/pipeline/variant_model.h"
#include "core/util/files.h"
#include "ui/jobs.h"

namespace edgetune::ui {
using pipeline::Variant;

DeployController::DeployController(JobManager* jobs, QObject* parent) : QObject(parent), jobs_(jobs) {}

DeployController::~DeployController() = default;

bool DeployController::prepare(std::shared_ptr<const Model> baseline, const std::vector<Variant>& variants,
                               const Variant& variant, QString* error) {
  if (!dir_) dir_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath("edgetune-deploy-XXXXXX"));
  if (!dir_->isValid()) {
    if (error) *error = "Cannot create a temporary folder for the deploy: " + dir_->errorString();
    dir_.reset();
    return false;
  }
  // One file per variant, named after it: the runner reports the path on the device, which ends in this name.
  const std::string stem = fileNameFrom(variant.name, "variant");
  std::string file_name = stem + ".onnx";
  for (int n = 2;; ++n) {
    auto it = targets_.find(file_name);
    if (it == targets_.end() ||
        (it->second.name == variant.name && it->second.model_file == variant.model_file))
      break;
    file_name = stem + "-" + std::to_string(n) + ".onnx";
  }
  const QString path = dir_->filePath(QString::fromStdString(file_name));
  const QString label = QString::fromStdString(variant.name);
  auto* job =
      jobs_->start("Prepare '" + label + "' for deploy", [=, this](JobContext& job, JobHandle& handle) {
        const Model model = pipeline::variantModel(*baseline, variants, variant, &job);
        model.save(path.toStdString());  // atomic: the panel never sees half a file
        handle.postToUi([=, this] {
          targets_[file_name] = {variant.name, variant.model_file};
          emit prepared(path, label, QString::fromStdString(variant.model_file));
        });
      });
  connect(job, &JobHandle::finished, this, [this, label](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) emit failed(label, error);
  });
  return true;
}

const DeployController::Target* DeployController::targetOfFile(const std::string& file_name) const {
  const auto it = targets_.find(file_name);
  return it == targets_.end() ? nullptr : &it->second;
}

}  // namespace edgetune::ui
