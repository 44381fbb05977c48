#include "app/cli/shared_options.h"

#include <cstdio>
#include <stdexcept>

#include "core/util/name_pattern.h"
#include "core/util/thread_list.h"

namespace edgetune::cli {
namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

CLI::Validator realRange(double low, double high, Interval ends) {
  const bool open_low = ends == Interval::OpenLow || ends == Interval::Open;
  const bool open_high = ends == Interval::OpenHigh || ends == Interval::Open;
  const std::string interval =
      (open_low ? "(" : "[") + number(low) + ", " + number(high) + (open_high ? ")" : "]");
  return CLI::Validator(
      [=](std::string& input) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(input, value)) return "'" + input + "' is not a number";
        // Written so that NaN fails every comparison and lands outside.
        const bool inside =
            (open_low ? value > low : value >= low) && (open_high ? value < high : value <= high);
        return inside ? std::string() : input + " is not in " + interval;
      },
      "FLOAT in " + interval);
}

CLI::Validator namePatternCheck() {
  return CLI::Validator([](std::string& pattern) { return namePatternProblem(pattern); }, "REGEX");
}

CLI::Option* addDataOption(CLI::App* cmd, std::string& spec, const std::string& what) {
  return cmd->add_option(
      "--data", spec, what + " spec, e.g. fashion-mnist or idx:DIR?split=test (see README, Dataset specs)");
}

CLI::Option* addLimitOption(CLI::App* cmd, size_t& limit) {
  return cmd->add_option("--limit", limit, "Examples in the seeded subset (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kMaxExamples));
}

CLI::Option* addSeedOption(CLI::App* cmd, uint64_t& seed, const std::string& what) {
  return cmd->add_option("--seed", seed, "Seed of " + what)->capture_default_str();
}

CLI::Option* addThreadsOption(CLI::App* cmd, int& threads, const std::string& runtime,
                              const std::string& zero_means) {
  return cmd->add_option("--threads", threads, runtime + " intra-op threads (0 = " + zero_means + ")")
      ->capture_default_str()
      ->check(CLI::Range(0, kMaxThreadCount));
}

CLI::Option* addThreadCountsOption(CLI::App* cmd, std::vector<int>& counts) {
  // One comma-separated word, checked item by item with the rules the device runner and the Devices tab use
  // (core/util/thread_list.h), so the message is the same everywhere.
  const CLI::Validator thread_count(
      [](std::string& item) {
        try {
          parseThreadList(item);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      },
      "COUNT in [1 - " + std::to_string(kMaxThreadCount) + "]");
  return cmd->add_option("--threads", counts, "Thread counts to measure at, e.g. 1,2,4")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->capture_default_str()
      ->check(thread_count);
}

CLI::Option* addBatchOption(CLI::App* cmd, int& batch, const std::string& what) {
  return cmd->add_option("--batch", batch, what.empty() ? "Batch size" : "Batch size of " + what)
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxBatch));
}

}  // namespace edgetune::cli
