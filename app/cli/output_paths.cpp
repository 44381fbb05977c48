#include "app/cli/output_paths.h"

#include "app/cli/cli_common.h"
#include "core/data/dataset.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune::cli {

CommandFiles& CommandFiles::input(const std::string& option, const std::string& path, bool model) {
  if (!path.empty()) inputs_.push_back({option, path, model});
  return *this;
}

CommandFiles& CommandFiles::dataset(const std::string& option, const std::string& spec, bool with_vocab) {
  if (spec.empty()) return *this;
  try {
    const DatasetSpecFiles files = datasetSpecFiles(spec);
    input(option, files.data.string());
    if (with_vocab) input(option + " vocab=", files.vocab.string());
  } catch (const Error&) {
    // Opening the dataset says what is wrong with the spec, in the words of the dataset code.
  }
  return *this;
}

CommandFiles& CommandFiles::output(const std::string& option, const std::string& path) {
  if (!path.empty()) outputs_.push_back({option, path, false});
  return *this;
}

void CommandFiles::check() const {
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const Named& out = outputs_[i];
    for (const Named& in : inputs_)
      if (samePath(out.path, in.path))
        throw UsageError(out.option + " '" + out.path + "' is the same file as " + in.option + " '" +
                         in.path + "': refusing to overwrite the input" + (in.model ? " model" : "") +
                         "; choose another " + out.option);
    for (size_t j = 0; j < i; ++j)
      if (samePath(out.path, outputs_[j].path))
        throw UsageError(out.option + " '" + out.path + "' is the same file as " + outputs_[j].option + " '" +
                         outputs_[j].path +
                         "': two outputs of one command cannot share a file; choose another " + out.option);
  }
}

}  // namespace edgetune::cli
