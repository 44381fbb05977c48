#include "ui/lesson_player.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "ui/lesson_actions.h"
#include "ui/lesson_highlight.h"
#include "ui/main_window.h"

namespace edgetune::ui {

LessonPlayer::LessonPlayer(MainWindow* window, QWidget* parent)
    : QWidget(parent), window_(window), actions_(new LessonActionRunner(window, this)) {
  setObjectName("lesson-player");
  highlight_ = new LessonHighlight(window);
  title_ = new QLabel(this);
  title_->setObjectName("lesson-title");
  title_->setWordWrap(true);
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  counter_ = new QLabel(this);
  counter_->setObjectName("lesson-step");
  counter_->setWordWrap(true);
  text_ = new QTextBrowser(this);
  text_->setObjectName("lesson-text");
  text_->setOpenLinks(false);
  doing_ = new QLabel(this);
  doing_->setObjectName("lesson-doing");
  doing_->setWordWrap(true);
  problem_ = new QLabel(this);
  problem_->setObjectName("lesson-problem");
  problem_->setWordWrap(true);
  problem_->setStyleSheet("color: #b00020");
  problem_->hide();
  back_ = new QPushButton("< Back", this);
  back_->setObjectName("lesson-back");
  next_ = new QPushButton("Next >", this);
  next_->setObjectName("lesson-next");
  next_->setDefault(true);
  close_ = new QPushButton("Close", this);
  close_->setObjectName("lesson-close");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(back_);
  buttons->addWidget(next_);
  buttons->addStretch();
  buttons->addWidget(close_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 4, 6, 4);
  auto* head = new QHBoxLayout;
  head->addWidget(title_, 1);
  head->addWidget(counter_);
  layout->addLayout(head);
  layout->addWidget(text_, 1);
  layout->addWidget(doing_);
  layout->addWidget(problem_);
  layout->addLayout(buttons);

  connect(back_, &QPushButton::clicked, this, &LessonPlayer::back);
  connect(next_, &QPushButton::clicked, this, &LessonPlayer::next);
  connect(close_, &QPushButton::clicked, this, &LessonPlayer::closeLesson);
  // Window-wide while the dock shows (a hidden widget's shortcuts are off); Alt+Left / Alt+Right are free in
  // the studio (the Pipeline dock uses Alt+Up / Alt+Down).
  auto shortcut = [this](const char* name, const QString& text, const QKeySequence& keys,
                         void (LessonPlayer::*slot)()) {
    auto* a = new QAction(text, this);
    a->setObjectName(name);
    a->setShortcut(keys);
    a->setShortcutContext(Qt::WindowShortcut);
    connect(a, &QAction::triggered, this, slot);
    addAction(a);
  };
  shortcut("lesson-back-action", "Lesson: previous step", QKeySequence("Alt+Left"), &LessonPlayer::back);
  shortcut("lesson-next-action", "Lesson: next step", QKeySequence("Alt+Right"), &LessonPlayer::next);
  connect(actions_, &LessonActionRunner::doing, this, [this](const QString& text) {
    doing_->setText(text.isEmpty() ? QString() : "<i>Doing: " + text.toHtmlEscaped() + "</i>");
    doing_->setVisible(!text.isEmpty());
  });
  connect(actions_, &LessonActionRunner::failed, this, [this](const QString& problem) {
    problem_->setText("Could not do this step's actions: " + problem.toHtmlEscaped());
    problem_->show();
  });
  doing_->hide();
  explainButtons();
  closeLesson();
}

LessonPlayer::~LessonPlayer() {
  delete highlight_.data();
}

void LessonPlayer::play(Lesson lesson) {
  closeLesson();
  lesson_ = std::move(lesson);
  entered_.assign(lesson_.steps.size(), false);
  title_->setText(QString::fromStdString(lesson_.title));
  title_->setToolTip(QString::fromStdString(lesson_.summary + "\n\n" + lesson_.source));
  enter(0);
}

void LessonPlayer::next() {
  if (playing() && step_ + 1 < static_cast<int>(lesson_.steps.size())) enter(step_ + 1);
}

void LessonPlayer::back() {
  if (playing() && step_ > 0) enter(step_ - 1);
}

void LessonPlayer::closeLesson() {
  const bool was_playing = playing();
  actions_->cancel();
  if (highlight_) highlight_->setTarget(nullptr);
  lesson_ = Lesson{};
  step_ = -1;
  entered_.clear();
  title_->setText("No lesson");
  counter_->clear();
  text_->setPlainText(
      "Help > Lessons lists the bundled lessons; Help > Lessons > Open lesson file... plays your own.");
  problem_->hide();
  back_->setEnabled(false);
  next_->setEnabled(false);
  if (was_playing) emit closed();
}

QWidget* LessonPlayer::highlightedWidget() const {
  return highlight_ ? highlight_->target() : nullptr;
}

void LessonPlayer::enter(int index) {
  step_ = index;
  const LessonStep& step = lesson_.steps[index];
  const int count = static_cast<int>(lesson_.steps.size());
  counter_->setText(QString("Step %1 of %2").arg(index + 1).arg(count));
  // The step's title leads its words, so the browser holds one scrollable block.
  QString html = "<p><b>" + QString::fromStdString(step.title).toHtmlEscaped() + "</b></p>";
  for (const QString& paragraph : QString::fromStdString(step.text).split("\n\n", Qt::SkipEmptyParts))
    html += "<p>" + paragraph.toHtmlEscaped().replace('\n', "<br>") + "</p>";
  text_->setHtml(html);
  problem_->hide();
  back_->setEnabled(index > 0);
  next_->setEnabled(index + 1 < count);
  const bool first_time = !entered_[index];
  entered_[index] = true;
  // The frame first leaves the previous step's widget; the actions may open tabs or docks.
  highlight_->setTarget(nullptr);
  actions_->run(step.actions, first_time);
  QWidget* target =
      step.highlight.empty() ? nullptr : window_->findChild<QWidget*>(QString::fromStdString(step.highlight));
  if (!step.highlight.empty() && !target) {
    problem_->setText("This studio has no widget '" + QString::fromStdString(step.highlight).toHtmlEscaped() +
                      "' to point at.");
    problem_->show();
  }
  if (target) {
    revealWidget(target);
    highlight_->setTarget(target);
  }
  emit stepEntered(index);
}

}  // namespace edgetune::ui
