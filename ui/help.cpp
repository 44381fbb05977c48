#include "ui/help.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFile>
#include <QMainWindow>
#include <QMenuBar>
#include <QMessageBox>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <QWhatsThis>

#include <algorithm>
#include <vector>

namespace edgetune::ui {

namespace {

// A read-only page in a dialog the user can leave open beside the studio.
void showPage(QWidget* parent, const QString& title, const QString& html, const QString& object_name) {
  auto* dialog = new QDialog(parent);
  dialog->setObjectName(object_name);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(title);
  auto* text = new QTextBrowser(dialog);
  text->setHtml(html);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
  QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(text);
  layout->addWidget(buttons);
  dialog->resize(640, 560);
  dialog->show();
}

QString userGuideHtml() {
  QFile file(":/help/guide.html");
  if (!file.open(QIODevice::ReadOnly)) return "<p>The user guide is missing from this build.</p>";
  return QString::fromUtf8(file.readAll());
}

}  // namespace

void explain(QWidget* widget, const QString& tip, const QString& whats_this) {
  widget->setToolTip(tip);
  widget->setWhatsThis("<b>" + tip.toHtmlEscaped() + "</b><p>" + whats_this + "</p>");
}

QString shortcutList(const QWidget* window) {
  std::vector<std::pair<QString, QString>> rows;  // text, shortcut
  for (const QAction* action : window->findChildren<QAction*>()) {
    if (action->shortcut().isEmpty()) continue;
    QString text = action->text();
    text.remove('&');
    const std::pair<QString, QString> row{text, action->shortcut().toString(QKeySequence::NativeText)};
    if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  QString out;
  for (const auto& [text, keys] : rows) out += keys + "\t" + text + "\n";
  return out;
}

void addHelpMenu(QMainWindow* window) {
  QMenu* help = window->menuBar()->addMenu("&Help");
  help->setObjectName("help-menu");  // the studio adds its Lessons submenu here (lesson_menu.h)
  QAction* guide = help->addAction("&User guide", QKeySequence::HelpContents, window, [window] {
    showPage(window, "EdgeTune Studio: user guide", userGuideHtml(), "user-guide");
  });
  guide->setObjectName("user-guide-action");
  QAction* whats_this = QWhatsThis::createAction(window);
  whats_this->setObjectName("whats-this-action");
  help->addAction(whats_this);
  QAction* shortcuts = help->addAction("&Keyboard shortcuts", window, [window] {
    QString html = "<table>";
    for (const QString& line : shortcutList(window).split('\n', Qt::SkipEmptyParts)) {
      const QStringList parts = line.split('\t');
      html += "<tr><td><b>" + parts.value(0).toHtmlEscaped() + "</b>&nbsp;&nbsp;</td><td>" +
              parts.value(1).toHtmlEscaped() + "</td></tr>";
    }
    showPage(window, "Keyboard shortcuts", html + "</table>", "keyboard-shortcuts");
  });
  shortcuts->setObjectName("shortcuts-action");
  help->addSeparator();
  help->addAction("&About EdgeTune Studio", window, [window] {
    QMessageBox::about(window, "About EdgeTune Studio",
                       "EdgeTune Studio: prune, quantize, distill and deploy ONNX models for edge devices, "
                       "with every change measured.");
  });
}

}  // namespace edgetune::ui
