#pragma once
// DatasetDialog: File > Open dataset... composes a dataset spec from its fields and previews a few samples
// with their labels (loaded on a worker) before the studio opens it.
#include <QString>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace edgetune::ui {

class JobManager;

/// The dataset dialog: spec fields, the composed spec, and a preview of a few samples with their labels.
class DatasetDialog : public QWidget {
  Q_OBJECT
 public:
  DatasetDialog(JobManager* jobs, QWidget* parent = nullptr);
  void setSpec(const QString& spec);
  QString spec() const;
  /// Loads the dataset on a worker and shows the first `count` samples (emits previewReady).
  void preview(int count = 8);
  int previewCount() const { return preview_count_; }

 signals:
  void previewReady(int shown);
  void accepted(const QString& spec);
  void rejected();

 private:
  void compose();
  JobManager* jobs_;
  QComboBox* format_;
  QLineEdit* path_;
  QComboBox* split_;
  QSpinBox* limit_;
  QLineEdit* extra_;
  QLineEdit* spec_;
  QLabel* status_;
  QWidget* grid_host_;
  int preview_count_ = 0;
  int generation_ = 0;
  bool composing_ = false;
};

}  // namespace edgetune::ui
