#pragma once
// One rule for every file a command writes (models, reports, CSV, JSON, vocabularies, run and checkpoint
// folders): never the same file as one of the command's inputs, never the same as another of its outputs.
// Paths are compared as files (./a.onnx and a.onnx, a symlink or a hard link to the input all match), before
// any work, and a clash is a bad command line: UsageError (exit 2), one line naming both options.
#include <string>
#include <vector>

namespace edgetune::cli {

/// The files a command line names, each with the option that named it ("MODEL", "-o", "--report").
class CommandFiles {
 public:
  /// A file (or folder) the command reads; `model` when it is a model (the message then says "the input
  /// model"). Empty paths are ignored, so optional options can be added as they are.
  CommandFiles& input(const std::string& option, const std::string& path, bool model = false);
  /// The files a dataset spec reads (its PATH, and its vocab= unless `with_vocab` is false: a vocabulary the
  /// command builds is an output). A spec that does not parse is left to the command, which names the
  /// problem.
  CommandFiles& dataset(const std::string& option, const std::string& spec, bool with_vocab = true);
  /// A file or folder the command writes.
  CommandFiles& output(const std::string& option, const std::string& path);

  /// Throws UsageError when an output is the same file as an input or as another output.
  void check() const;

 private:
  struct Named {
    std::string option, path;
    bool model = false;
  };
  std::vector<Named> inputs_, outputs_;
};

}  // namespace edgetune::cli
