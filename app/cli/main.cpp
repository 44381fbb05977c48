// edgetune-cli: the headless face of EdgeTune Studio. Argument parsing and wiring only; the work is in core.
#include <filesystem>
#include <iostream>
#include <new>

#include "app/cli/cli_common.h"
#include "core/util/error.h"
#include "core/util/temporary_file.h"

int main(int argc, char** argv) {
  using namespace edgetune::cli;
  edgetune::removeTemporariesOnTermination();  // a `kill` or a closed terminal leaves no half-written file
  CLI::App app{"edgetune-cli: inspect, optimize, evaluate and benchmark ONNX models for edge devices"};
  app.require_subcommand(1);
  app.fallthrough();  // --json and --quiet may follow the subcommand
  GlobalOptions global;
  app.add_flag("--json", global.json, "Print machine-readable JSON on stdout");
  app.add_flag("-q,--quiet", global.quiet, "No progress bar");
  Action run;
  addInspectCommand(app, global, run);
  addCleanCommand(app, global, run);
  addEvalCommand(app, global, run);
  addBenchCommand(app, global, run);
  addZooCommand(app, global, run);
  addDemoCommand(app, global, run);
  addPruneCommand(app, global, run);
  addSensitivityCommand(app, global, run);
  addQuantizeCommand(app, global, run);
  addDeviceCommand(app, global, run);
  addDeployCommand(app, global, run);
  addTrainCommand(app, global, run);
  addFinetuneCommand(app, global, run);
  addDistillCommand(app, global, run);
  addRecoverCommand(app, global, run);
  addQatCommand(app, global, run);
  addRunCommand(app, global, run);
  addExportCommand(app, global, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return exitOnParseError(app, e);
  }
  try {
    return run ? run() : 0;
  } catch (const edgetune::CancelledError&) {
    endProgress();
    std::cerr << "edgetune-cli: cancelled\n";
    return kExitCancelled;
  } catch (const UsageError& e) {
    endProgress();
    std::cerr << "edgetune-cli: error: " << e.what() << "\n";
    return kExitBadArguments;
  } catch (const edgetune::Error& e) {
    endProgress();
    std::cerr << "edgetune-cli: error: " << e.what() << "\n";
    return kExitFailed;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that the file system refuses (a run folder over a file, a folder not writable):
    // its message names the path and the problem.
    endProgress();
    std::cerr << "edgetune-cli: error: " << e.what() << "\n";
    return kExitFailed;
  } catch (const std::bad_alloc&) {
    // A model or dataset larger than this machine's memory is a failed operation, not a bug in EdgeTune.
    endProgress();
    std::cerr << "edgetune-cli: error: out of memory\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    endProgress();
    std::cerr << "edgetune-cli: internal error: " << e.what() << "\n";
    return kExitInternalError;
  }
}
