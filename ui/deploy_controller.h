#pragma once
// DeployController: writes a variant's model to a temporary ONNX file for the Devices panel (on a worker),
// and remembers which variant each such file is, so that a benchmark a device reports for it (the runner
// names the model by its path there, which ends in the file's name) can be attached to that variant.
#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/pipeline/project.h"

class QTemporaryDir;

namespace edgetune::ui {

class JobManager;

class DeployController : public QObject {
  Q_OBJECT
 public:
  /// Which variant a deploy file is: its name and model file (what identifies a variant in the project).
  struct Target {
    std::string name, model_file;
  };

  explicit DeployController(JobManager* jobs, QObject* parent = nullptr);
  ~DeployController() override;

  /// Writes `variant`'s model (its file, or `baseline` with its chain in `variants` applied) to a temporary
  /// file named after it, as a job; emits prepared, or failed with the job's error. Returns false with the
  /// reason in `error` when no temporary folder can be made (nothing is started then).
  bool prepare(std::shared_ptr<const Model> baseline, const std::vector<pipeline::Variant>& variants,
               const pipeline::Variant& variant, QString* error);
  /// The variant whose deploy file has this name (a path's last component), or null.
  const Target* targetOfFile(const std::string& file_name) const;
  /// Forgets every deploy file (another model was opened: benchmarks of the old files are not its variants').
  void clearTargets() { targets_.clear(); }

 signals:
  /// `path` holds the model of the variant named `name` (with model file `model_file`).
  void prepared(const QString& path, const QString& name, const QString& model_file);
  void failed(const QString& name, const QString& error);

 private:
  JobManager* jobs_;
  std::unique_ptr<QTemporaryDir> dir_;
  std::map<std::string, Target> targets_;  // by file name
};

}  // namespace edgetune::ui
