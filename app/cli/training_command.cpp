// The shared flow of the training commands (training_command.h).
#include "app/cli/training_command.h"

#include "core/util/error.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/cli/training_options.h"
#include "core/data/readers.h"
#include "core/data/tokenizer.h"
#include "core/zoo/model_source.h"
#endif

namespace edgetune::cli {

void addUnavailableTrainingCommand(CLI::App& app, const char* name, Action& run) {
  auto* cmd = app.add_subcommand(name, "(not available: built without libtorch)");
  cmd->allow_extras();
  cmd->callback([&run, name] {
    run = [name]() -> int {
      throw Error(std::string(name) +
                  " needs the training engine; this edgetune-cli was built without libtorch");
    };
  });
}

#ifdef EDGETUNE_HAVE_TRAINING

Model loadModelSpec(const std::string& spec, const ModelInputArgs& input, const GlobalOptions& global) {
  if (!zoo::isZooSource(spec)) {
    LoadedModel loaded = loadModel(spec, input, /*fold_batchnorm=*/false);
    if (!global.quiet && !global.json) std::cerr << loaded.clean.summary() << "\n";
    return std::move(loaded.model);
  }
  return zoo::loadModelSource(spec);
}

namespace {

// The vocab= file of the text --data spec, which --build-vocab writes. A spec that does not parse is refused
// as itself (Error naming it).
std::string vocabPathOf(const std::string& spec) {
  const std::string vocab = datasetSpecFiles(spec).vocab.string();
  if (vocab.empty())
    throw UsageError("--build-vocab: the --data spec '" + spec + "' has no vocab=PATH to write to");
  return vocab;
}

}  // namespace

CommandFiles trainingFiles(const TrainArgs& a) {
  CommandFiles files;
  if (!zoo::isZooSource(a.model)) files.input("MODEL", a.model, true);
  const bool builds_vocab = a.build_vocab > 0;
  files.dataset("--data", a.data, !builds_vocab)
      .dataset("--val", a.val, !builds_vocab)
      .dataset("--test", a.test, !builds_vocab)
      .output("-o", a.output)
      .output("--checkpoint", a.checkpoint);
  if (builds_vocab) files.output("--build-vocab (vocab= of --data)", vocabPathOf(a.data));
  return files;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

namespace {

// The vocabulary is built from the training texts only (the spec's subset=), so no test text leaks into it.
void buildVocabFor(const std::string& spec, size_t size, const GlobalOptions& global) {
  const std::string vocab_path = vocabPathOf(spec);
  TextCorpus corpus = readTextCorpus(spec);
  std::vector<std::string> vocab = buildWordPieceVocab(corpus.texts, size);
  writeVocab(vocab_path, vocab);
  if (!global.quiet)
    std::cerr << "vocabulary: " << vocab.size() << " tokens from " << corpus.texts.size() << " texts of "
              << corpus.name << " -> " << vocab_path << "\n";
}

// A progress bar on a terminal; otherwise (a log file) one progress line every 30 s.
CliJob makeTrainJob(const GlobalOptions& global, const std::string& title) {
  if (global.quiet || ::isatty(STDERR_FILENO)) return makeJob(global, title);
  return cancelOnInterrupt(std::make_unique<JobContext>(
      [title](const Progress& p) {
        // No ETA until there is a rate to extrapolate from (the job reports a negative one then).
        char eta[48] = "";
        if (p.eta_seconds >= 0) std::snprintf(eta, sizeof eta, "  ETA %.0f s", p.eta_seconds);
        char line[320];
        std::snprintf(line, sizeof line, "%s %5.1f%%  %s%s\n", title.c_str(), 100 * p.fraction,
                      p.message.c_str(), eta);
        std::cerr << line << std::flush;
      },
      std::chrono::seconds(30)));
}

}  // namespace

double ortAccuracy(const Model& model, const std::shared_ptr<const Dataset>& data, int threads,
                   JobContext* job) {
  pipeline::SingleStep step;
  step.kind = "evaluate";
  step.options = {{"data", "test"}, {"threads", threads}};
  step.datasets["test"] = data;
  step.job = job;
  return pipeline::runSingleStep(model, step).output.result.at("top1").get<double>();
}

int runTrainingCommand(const GlobalOptions& global, const TrainArgs& a, const std::string& title,
                       TrainingStep training, const Model& input, const ReportLines& report_lines) {
  // The command checked its files (trainingFiles) before it loaded anything.
  if (a.resume && a.checkpoint.empty()) throw UsageError(title + ": --resume needs --checkpoint DIR");

  if (a.build_vocab > 0) buildVocabFor(a.data, a.build_vocab, global);
  auto train = openDataset(a.data);
  std::shared_ptr<const Dataset> val = a.val.empty() ? nullptr : openDataset(a.val);
  std::shared_ptr<const Dataset> test = a.test.empty() ? nullptr : openDataset(a.test);
  if (test) {
    // Fail before hours of training, not after.
    std::vector<TensorInfo> infos;
    for (const auto& v : input.inputs()) infos.push_back({v.name, v.type, v.shape});
    checkInputsFit(infos, test->features(), test->name());
  }
  if (!global.quiet)
    std::cerr << title << ": " << input.origin() << " on " << train->name()
              << (val ? ", validation " + val->name() : std::string()) << "\n";

  pipeline::SingleStep step;
  step.kind = training.kind;
  step.options = trainerOptions(a, val != nullptr);
  step.options.update(training.options);
  step.models = std::move(training.models);
  step.datasets = std::move(training.datasets);
  step.datasets["train"] = train;
  if (val) step.datasets["validation"] = val;
  auto job = makeTrainJob(global, title);
  step.job = job.get();
  step.on_line = [&global, &title](const std::string& line) {
    if (global.quiet) return;
    endProgress();
    // Epoch lines as they are; anything else the step says (the head it trains) under the command's name.
    std::cerr << (line.rfind("epoch ", 0) == 0 ? "" : title + ": ") << line << "\n" << std::flush;
  };
  const pipeline::SingleStepResult done = pipeline::runSingleStep(input, step);
  done.output.model->save(a.output);

  const nlohmann::json& result = done.output.result;
  nlohmann::json j;
  j["output"] = a.output;
  j["dataset"] = train->name();
  j["epochs"] = result.at("epochs");
  j["seconds"] = result.at("seconds");
  j["history"] = result.at("history");
  std::ostringstream text;
  text << "output       " << a.output << "\n";
  report_lines({input, done, *train, val, test, a.options.threads, job.get()}, j, text);
  emit(global, j, text.str());
  return 0;
}

void trainedLines(const TrainingOutcome& t, nlohmann::json& j, std::ostringstream& text) {
  const nlohmann::json& result = t.done.output.result;
  const int resumed = result.value("resumed_from_epoch", 0);
  j["resumed_from_epoch"] = resumed;
  text << "trained on   " << t.train.name() << ", " << result.at("epochs").get<int>() << " epochs";
  if (resumed) text << " (resumed after epoch " << resumed << ")";
  text << ", " << static_cast<int>(result.at("seconds").get<double>()) << " s\n";
  if (!result.at("history").empty()) {
    const nlohmann::json& last = result.at("history").back();
    text << "final loss   " << last.at("train_loss").get<double>() << ", train accuracy "
         << percent(last.at("train_accuracy").get<double>()) << "\n";
    const double validation = last.at("validation_accuracy").get<double>();
    if (validation >= 0) {
      text << "validation   " << percent(validation) << " (" << t.validation->name() << ")\n";
      j["validation_accuracy"] = validation;
    }
  }
  if (t.test) {
    const double accuracy = ortAccuracy(*t.done.output.model, t.test, t.threads, t.job);
    text << "test         " << percent(accuracy) << " in ONNX Runtime (" << t.test->name() << ")\n";
    j["test_accuracy"] = accuracy;
  }
}

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace edgetune::cli
