#pragma once
// StudioDocument: the project the studio edits, the file it is saved in, whether it has unsaved changes, and
// the recovery file (written on a worker every 20 s while there are; a crash leaves it behind, a clean exit
// removes it).
#include <QFuture>
#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>

#include "core/pipeline/project.h"

namespace edgetune::ui {

class StudioDocument : public QObject {
  Q_OBJECT
 public:
  /// `recovery_path`: where the recovery file goes ("" = <AppLocalData>/recovery.edgetune.json).
  explicit StudioDocument(const QString& recovery_path, QObject* parent = nullptr);
  ~StudioDocument() override;

  pipeline::Project& project() { return project_; }
  const pipeline::Project& project() const { return project_; }
  /// The project file ("" while the project was never saved).
  const QString& path() const { return path_; }
  void setPath(const QString& path);
  bool isDirty() const { return dirty_; }
  void markDirty();
  void markClean();

  /// Writes the project to `path` (atomically; throws Error) and makes it the document's clean file.
  /// Variants' model files outside the project's folder are copied into its "trained" folder first.
  void saveAs(const QString& path);
  /// Replaces the project with the one saved in `path` (throws Error; nothing changes then), named by it.
  void load(const QString& path);

  const QString& recoveryPath() const { return recovery_path_; }
  /// What the recovery file holds: the project as the studio shows it at that moment (e.g. with the knobs of
  /// the tuning panel); the project as it is by default.
  void setSnapshot(std::function<pipeline::Project()> snapshot) { snapshot_ = std::move(snapshot); }
  /// Writes the recovery file now, on a worker (the autosave timer calls it while the project is dirty).
  void autosave();
  /// Blocks until the last autosave is on disk (tests, shutdown).
  void waitForAutosave();
  /// A clean exit leaves no recovery file behind.
  void removeRecovery();

 signals:
  /// The file or the dirty flag changed (what the window title shows).
  void changed();

 private:
  pipeline::Project project_;
  QString path_;
  QString recovery_path_;
  bool dirty_ = false;
  std::function<pipeline::Project()> snapshot_;
  QTimer autosave_timer_;
  QFuture<void> autosave_done_;
};

}  // namespace edgetune::ui
