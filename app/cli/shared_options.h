#pragma once
// The options several commands share (--data, --limit, --seed, --threads, --batch): one spelling and one help
// text each, with what the command uses it for filled in, so `edgetune-cli X --help` reads the same
// everywhere. A command adds the ones it has. Also the range checks every numeric option carries, so a value
// outside its range is a bad argument (exit 2) at parse time, shown in --help, never a crash later.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/benchmark.h"
#include "core/util/thread_list.h"

namespace edgetune::cli {

/// The upper bounds of numeric options several commands share (README, "Command line" lists every range):
/// far above real use, and low enough that no value makes a command allocate for billions of runs.
inline constexpr int64_t kMaxRuns = kMaxBenchmarkRuns;  // --runs, --warmup
inline constexpr int64_t kMaxBatch = 4'096;             // --batch (the benchmark step's own limit)
inline constexpr int64_t kMaxExamples = 1'000'000'000;  // --limit, --test-limit, --steps-per-epoch
inline constexpr int64_t kMaxSamples = 1'000'000;       // --samples, --calib-samples
inline constexpr int64_t kMaxRound = 4'096;             // --round
inline constexpr int64_t kMaxEpochs = 100'000;          // --epochs, --step-epochs, --gradual-epochs
inline constexpr int64_t kMaxTimeoutSeconds = 3'600;    // --timeout
inline constexpr int64_t kMaxClasses = 100'000;         // --classes

/// Which ends of a real interval belong to it (enumerators from 1: none of them is a default).
enum class Interval { Closed = 1, OpenLow, OpenHigh, Open };

/// A CLI11 check that a real-valued option (each item of a list option) lies between `low` and `high`, the
/// ends included as `ends` says; --help and the error show the interval as "[0, 1)". NaN is outside.
CLI::Validator realRange(double low, double high, Interval ends = Interval::Closed);

/// A CLI11 check that each value of a node-name pattern option compiles (core/util/name_pattern.h: RE2
/// syntax, no backreferences or lookaround).
CLI::Validator namePatternCheck();

/// --data SPEC: `what` ("Dataset", "Calibration dataset", "Training dataset") as a dataset spec.
CLI::Option* addDataOption(CLI::App* cmd, std::string& spec, const std::string& what = "Dataset");
/// --limit N: examples in the seeded subset (the same examples for the same --seed everywhere); 0 = all.
CLI::Option* addLimitOption(CLI::App* cmd, size_t& limit);
/// --seed N: the seed of `what` ("the --limit subset", "data order, augmentation, dropout").
CLI::Option* addSeedOption(CLI::App* cmd, uint64_t& seed, const std::string& what);
/// --threads N: intra-op threads of `runtime` ("ONNX Runtime", "libtorch"), 0..kMaxThreadCount; 0 =
/// `zero_means`.
CLI::Option* addThreadsOption(CLI::App* cmd, int& threads, const std::string& runtime,
                              const std::string& zero_means);
/// --threads 1,2,4 (or 1 2 4): the thread counts a command measures at, each in 1..kMaxThreadCount.
CLI::Option* addThreadCountsOption(CLI::App* cmd, std::vector<int>& counts);
/// --batch N: the batch size of `what` ("" = the command's one), in 1..kMaxBatch.
CLI::Option* addBatchOption(CLI::App* cmd, int& batch, const std::string& what = "");

}  // namespace edgetune::cli
