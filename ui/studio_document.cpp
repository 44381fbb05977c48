#include "ui/studio_document.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

#include <filesystem>

#include "core/util/files.h"

namespace edgetune::ui {

StudioDocument::StudioDocument(const QString& recovery_path, QObject* parent)
    : QObject(parent), recovery_path_(recovery_path) {
  if (recovery_path_.isEmpty()) {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    QDir().mkpath(dir);
    recovery_path_ = dir + "/recovery.edgetune.json";
  }
  autosave_timer_.setInterval(20000);
  connect(&autosave_timer_, &QTimer::timeout, this, [this] {
    if (dirty_) autosave();
  });
  autosave_timer_.start();
}

StudioDocument::~StudioDocument() {
  waitForAutosave();
}

void StudioDocument::setPath(const QString& path) {
  path_ = path;
  emit changed();
}

void StudioDocument::markDirty() {
  dirty_ = true;
  emit changed();
}

void StudioDocument::markClean() {
  dirty_ = false;
  emit changed();
}

// Trained models live beside the project: a variant's model file outside the project's folder (a run made
// before the project was first saved goes to the studio's own folder) is copied into <folder>/trained, so the
// folder carries everything the project needs and can be moved or shared. The original stays (another
// project may use it); a file that is gone is left for the project to report when it is used.
static void gatherModelFiles(pipeline::Project& project, const std::filesystem::path& folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path canonical_folder = fs::weakly_canonical(folder, ec);
  for (auto& v : project.variants) {
    if (v.model_file.empty()) continue;
    const fs::path source = fs::weakly_canonical(fs::path(v.model_file), ec);
    if (ec || !fs::is_regular_file(source, ec)) continue;
    const auto relative = source.lexically_relative(canonical_folder);
    if (!relative.empty() && *relative.begin() != "..") continue;  // already inside
    const fs::path dir = canonical_folder / "trained";
    fs::create_directories(dir);
    fs::path target = dir / source.filename();
    for (int n = 2; fs::exists(target, ec); ++n)
      target = dir / (source.stem().string() + "-" + std::to_string(n) + source.extension().string());
    writeFileAtomic(target, readFile(source));
    v.model_file = target.string();
  }
}

void StudioDocument::saveAs(const QString& path) {
  pipeline::Project gathered = project_;
  gatherModelFiles(gathered, std::filesystem::absolute(path.toStdString()).parent_path());
  gathered.save(path.toStdString());
  project_ = std::move(gathered);
  path_ = path;
  markClean();
}

void StudioDocument::load(const QString& path) {
  pipeline::Project loaded = pipeline::Project::load(path.toStdString());
  project_ = std::move(loaded);
  path_ = path;
}

void StudioDocument::autosave() {
  const pipeline::Project p = snapshot_ ? snapshot_() : project_;
  nlohmann::json j = p.toJson();
  j["recovery_of"] = path_.toStdString();
  const std::string text = j.dump(2), path = recovery_path_.toStdString();
  // fsync can take hundreds of ms on a busy disk: write on a worker, one autosave at a time.
  if (!autosave_done_.isFinished()) {
    // The previous write is still going: try again shortly instead of blocking the UI thread.
    QTimer::singleShot(500, this, &StudioDocument::autosave);
    return;
  }
  autosave_done_ = QtConcurrent::run([text, path] {
    try {
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      writeFileAtomic(path, text);
    } catch (const std::exception& e) {
      qWarning("autosave failed: %s", e.what());
    }
  });
}

void StudioDocument::waitForAutosave() {
  autosave_done_.waitForFinished();
}

void StudioDocument::removeRecovery() {
  QFile::remove(recovery_path_);
}

}  // namespace edgetune::ui
