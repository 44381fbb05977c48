// edgetune: the studio. Without arguments it opens the bundled demo; `edgetune MODEL.onnx` or
// `edgetune PROJECT.json` opens that. Without a display it runs the headless CLI demo instead.
#include <QApplication>
#include <QFileInfo>

#include <unistd.h>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/util/temporary_file.h"
#include "ui/main_window.h"

namespace {

bool haveDisplay() {
  const char* platform = std::getenv("QT_QPA_PLATFORM");
  if (platform && *platform) return true;  // the user chose a platform (offscreen, xcb, wayland...)
  return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
}

}  // namespace

int main(int argc, char** argv) {
  if (!haveDisplay()) {
    // No display: the headless demo of edgetune-cli (same folder) is the useful thing to run.
    std::cerr << "edgetune: no display found; running the headless demo (edgetune-cli demo)\n";
    const std::string self = argv[0];
    const auto slash = self.rfind('/');
    const std::string cli =
        (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/edgetune-cli";
    execl(cli.c_str(), cli.c_str(), "demo", static_cast<char*>(nullptr));
    std::cerr << "edgetune: cannot run " << cli << "\n";
    return 1;
  }
  edgetune::removeTemporariesOnTermination();  // a `kill` or a logout leaves no half-written file
  QApplication app(argc, argv);
  QApplication::setOrganizationName("EdgeTune");
  QApplication::setApplicationName("EdgeTune Studio");
  edgetune::ui::MainWindow window;
  window.show();
  const QStringList args = app.arguments().mid(1);
  if (args.isEmpty()) {
    window.openDemo();
  } else {
    const QString path = args.first();
    if (path.endsWith(".json", Qt::CaseInsensitive))
      window.loadProject(path);
    else
      window.openModel(path);
  }
  return app.exec();
}
