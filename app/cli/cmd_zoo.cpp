// edgetune-cli zoo ARCH -o OUT: build a model architecture as ONNX (random PyTorch-style initial weights).
#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/ir/stats.h"
#include "core/zoo/zoo.h"

namespace edgetune::cli {

void addZooCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string arch, output;
    zoo::ZooOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("zoo", "Build a model (resnet18, resnet8/20/56, mobilenetv2, mlp, bert) as ONNX");
  cmd->add_option("arch", args->arch, "Architecture")
      ->required()
      ->check(CLI::IsMember(zoo::zooArchitectures()));
  cmd->add_option("-o,--output", args->output, "Output ONNX file")->required();
  auto& o = args->options;
  // The upper bounds keep every architecture's weights within a few GB (an MLP's first layer grows with the
  // square of --image-size, BERT's embeddings with --vocab-size x --hidden).
  cmd->add_option("--classes", o.classes, "Output classes")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxClasses));
  addSeedOption(cmd, o.seed, "the initial weights");
  cmd->add_option("--input-channels", o.input_channels, "Image channels")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--image-size", o.image_size, "Image height and width")
      ->capture_default_str()
      ->check(CLI::Range(1, 512));
  cmd->add_option("--width", o.width_multiplier, "Width multiplier (resnet*, mobilenetv2)")
      ->capture_default_str()
      ->check(realRange(0, 16, Interval::OpenLow));
  cmd->add_option("--hidden-sizes", o.hidden_sizes, "Hidden layer sizes (mlp)")
      ->delimiter(',')
      ->check(CLI::Range(1, 65'536));
  cmd->add_option("--vocab-size", o.vocab_size, "Vocabulary size (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 250'000));
  cmd->add_option("--hidden", o.hidden, "Hidden size (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 2048));
  cmd->add_option("--layers", o.layers, "Encoder layers (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 48));
  cmd->add_option("--heads", o.heads, "Attention heads (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--intermediate", o.intermediate, "FFN size, 0 = 4 x hidden (bert)")
      ->capture_default_str()
      ->check(CLI::Range(0, 16'384));
  cmd->add_option("--seq-len", o.sequence_length, "Sequence length (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--max-positions", o.max_positions, "Position embeddings (bert)")
      ->capture_default_str()
      ->check(CLI::Range(1, 8192));
  cmd->add_flag("--dynamic-seq", o.dynamic_sequence, "Symbolic sequence length (bert)");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      Model model = zoo::buildZooModel(args->arch, args->options);
      model.save(args->output);
      ModelStats stats = computeStats(model);
      nlohmann::json j = {{"arch", args->arch},
                          {"output", args->output},
                          {"params", stats.params},
                          {"macs", stats.macs},
                          {"nodes", stats.node_count}};
      emit(global, j,
           "wrote " + args->output + ": " + args->arch + ", " + withCommas(stats.params) + " parameters, " +
               humanCount(static_cast<double>(stats.macs)) + "MACs at batch 1, " +
               std::to_string(stats.node_count) + " nodes\n");
      return 0;
    };
  });
}

}  // namespace edgetune::cli
