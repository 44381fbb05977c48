#include "ui/lesson_actions.h"

#include <QFileInfo>

#include "core/pipeline/project.h"
#include "core/util/error.h"
#include "ui/lesson_highlight.h"
#include "ui/main_window.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {
using nlohmann::json;

namespace {

TrainSettings trainSettingsFrom(TrainSettings s, const json& lesson) {
  if (lesson.contains("mode"))
    s.mode = lesson["mode"] == "distill" ? TrainSettings::Mode::Distill : TrainSettings::Mode::FineTune;
  if (lesson.contains("source"))
    s.source =
        lesson["source"] == "student" ? TrainSettings::Source::Student : TrainSettings::Source::Baseline;
  s.student = lesson.value("student", s.student);
  s.epochs = lesson.value("epochs", s.epochs);
  s.batch_size = lesson.value("batch_size", s.batch_size);
  s.optimizer = lesson.value("optimizer", s.optimizer);
  // A trained model needs a small step, a student from scratch a large one (TrainSettings): the lesson's
  // source decides unless it names a rate.
  s.learning_rate = lesson.value("learning_rate", TrainSettings::defaultLearningRate(s.source, s.optimizer));
  s.temperature = lesson.value("temperature", s.temperature);
  s.alpha = lesson.value("alpha", s.alpha);
  s.augment = lesson.value("augment", s.augment);
  s.steps_per_epoch = lesson.value("steps_per_epoch", s.steps_per_epoch);
  s.validation_size = lesson.value("validation_size", s.validation_size);
  return s;
}

}  // namespace

LessonActionRunner::LessonActionRunner(MainWindow* window, QObject* parent)
    : QObject(parent), window_(window) {
  connect(window_, &MainWindow::modelOpened, this, [this] { ++models_opened_; });
  connect(window_, &MainWindow::datasetOpened, this, [this] { ++datasets_opened_; });
  connect(window_, &MainWindow::trainingDatasetOpened, this, [this] { ++training_opened_; });
  poll_.setInterval(100);
  connect(&poll_, &QTimer::timeout, this, &LessonActionRunner::poll);
}

void LessonActionRunner::run(const std::vector<LessonAction>& actions, bool first_time) {
  cancel();
  for (const auto& a : actions)
    if (first_time || a.repeatable()) queue_.push_back(a);
  proceed();
}

void LessonActionRunner::cancel() {
  queue_.clear();
  waiting_ = {};
  poll_.stop();
  emit doing(QString());
}

void LessonActionRunner::poll() {
  if (waiting_ && !waiting_()) return;
  waiting_ = {};
  poll_.stop();
  proceed();
}

void LessonActionRunner::proceed() {
  while (!queue_.empty()) {
    const LessonAction action = queue_.front();
    queue_.erase(queue_.begin());
    std::function<bool()> done;
    try {
      done = start(action);
    } catch (const std::exception& e) {
      queue_.clear();
      emit doing(QString());
      emit failed(QString::fromStdString(action.describe()) + ": " + e.what());
      return;
    }
    if (done && !done()) {
      waiting_ = std::move(done);
      emit doing(QString::fromStdString(action.describe()) + "...");
      poll_.start();
      return;
    }
  }
  emit doing(QString());
}

std::function<bool()> LessonActionRunner::start(const LessonAction& action) {
  TuningPanel* tuning = window_->tuningPanel();
  const pipeline::Project& project = window_->project();
  using Kind = LessonAction::Kind;
  switch (action.kind) {
    case Kind::OpenDemo: {
      // Entering the step again must not reopen what is open (that would drop the variants recorded since).
      const QString model =
          QFileInfo::exists(bundledDemoModelPath()) ? bundledDemoModelPath() : demoZooSource();
      const bool with_data =
          QFileInfo::exists(MainWindow::kDemoDataFolder);  // openDemo opens the datasets only then
      const bool data_open = !with_data || (project.dataset_spec == MainWindow::kDemoDatasetSpec &&
                                            project.train_dataset_spec == MainWindow::kDemoTrainingSpec);
      if (project.model_path == model.toStdString() && data_open && window_->baseline()) return {};
      const int models = models_opened_, datasets = datasets_opened_, training = training_opened_;
      window_->openDemo();
      // All three: a step that runs again checks the datasets too, and Apply measures on the test set.
      return [=, this] {
        return models_opened_ > models &&
               (!with_data || (datasets_opened_ > datasets && training_opened_ > training));
      };
    }
    case Kind::OpenModel: {
      const bool zoo = action.value.rfind("zoo:", 0) == 0;
      const std::string source = zoo ? action.value : bundledModelPath(action.value).string();
      if (project.model_path == source && window_->baseline()) return {};
      const int before = models_opened_;
      window_->openModel(QString::fromStdString(source));
      return [this, before] { return models_opened_ > before; };
    }
    case Kind::OpenDataset: {
      const std::string spec = expandResourcesPlaceholder(action.value);
      if (project.dataset_spec == spec && window_->dataset()) return {};
      const int before = datasets_opened_;
      window_->openDataset(QString::fromStdString(spec));
      return [this, before] { return datasets_opened_ > before; };
    }
    case Kind::AddVariant: {
      pipeline::Variant v;
      v.name = action.value;
      v.recipe = pipeline::emptyRecipe();  // descriptive only: the file is the variant
      v.model_file = bundledModelPath(action.value).string();
      window_->addVariant(v);  // measured on a worker, like a trained variant
      return {};
    }
    case Kind::SetKnobs: {
      // setKnobs takes a whole state (a missing knob goes to its default): the lesson changes only its own.
      json knobs = tuning->knobs();
      for (auto it = action.knobs.begin(); it != action.knobs.end(); ++it) knobs[it.key()] = it.value();
      tuning->setKnobs(knobs, true);  // undoable, as if the student had turned them
      return {};
    }
    case Kind::Run:
      if (action.value == "measure") {
        tuning->measureNow();
        return {};
      }
      if (action.value == "apply") {
        // Apply records what was measured for the current knobs on the current base. A finished measurement
        // of the same knobs may belong to the previous base (a base change restarts it only after the
        // debounce), so the runner measures once more itself and applies when that is complete.
        return [this, tuning, started = false]() mutable {
          if (!window_->baseModel()) return false;  // a new base is being prepared
          if (!started || (!tuning->measuring() && tuning->liveKnobs() != tuning->knobs())) {
            started = true;
            tuning->measureNow();
            return false;
          }
          if (tuning->measuring()) return false;
          tuning->apply();
          return true;
        };
      }
      if (action.value == "sensitivity") {
        window_->runSensitivity();
        return {};
      }
      if (action.value == "use_as_base") {
        const int last = static_cast<int>(project.variants.size()) - 1;
        if (last < 0) throw Error("there is no variant yet (Apply records one)");
        const std::string name = last == 0 ? std::string() : project.variants[last].name;
        window_->useAsBase(last == 0 ? -1 : last);
        return [this, name] {
          return window_->currentBase().toStdString() == name && window_->baseModel() != nullptr;
        };
      }
      window_->resetBase();
      return [this] { return window_->currentBase().isEmpty() && window_->baseModel() != nullptr; };
    case Kind::Train:
      // One training run at a time: a second one waits for the first (the panel would refuse it).
      return [this, settings = action.train]() {
        TrainPanel* panel = window_->trainPanel();
        if (panel->running()) return false;
        panel->setSettings(trainSettingsFrom(panel->settings(), settings));
        if (!panel->start()) {
          emit failed("training: " + panel->lastError());
          return true;
        }
        return true;
      };
    case Kind::Show:
      if (auto* w = window_->findChild<QWidget*>(QString::fromStdString(action.value))) revealWidget(w);
      return {};
  }
  return {};
}

}  // namespace edgetune::ui
