#pragma once
// The options several commands share (--data, --limit, --seed, --threads, --batch): one spelling and one help
// text each, with what the command uses it for filled in, so `edgetune-cli X --help` reads the same
// everywhere. A command adds the ones it has.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace edgetune::cli {

/// --data SPEC: `what` ("Dataset", "Calibration dataset", "Training dataset") as a dataset spec.
CLI::Option* addDataOption(CLI::App* cmd, std::string& spec, const std::string& what = "Dataset");
/// --limit N: examples in the seeded subset (the same examples for the same --seed everywhere); 0 = all.
CLI::Option* addLimitOption(CLI::App* cmd, size_t& limit);
/// --seed N: the seed of `what` ("the --limit subset", "data order, augmentation, dropout").
CLI::Option* addSeedOption(CLI::App* cmd, uint64_t& seed, const std::string& what);
/// --threads N: intra-op threads of `runtime` ("ONNX Runtime", "libtorch"); 0 = `zero_means`.
CLI::Option* addThreadsOption(CLI::App* cmd, int& threads, const std::string& runtime,
                              const std::string& zero_means);
/// --threads 1,2,4 (or 1 2 4): the thread counts a command measures at, each >= 1.
CLI::Option* addThreadCountsOption(CLI::App* cmd, std::vector<int>& counts);
/// --batch N: the batch size of `what` ("" = the command's one), >= 1.
CLI::Option* addBatchOption(CLI::App* cmd, int& batch, const std::string& what = "");

}  // namespace edgetune::cli
