#include "app/cli/shared_options.h"

#include <stdexcept>

#include "core/util/thread_list.h"

namespace edgetune::cli {

CLI::Option* addDataOption(CLI::App* cmd, std::string& spec, const std::string& what) {
  return cmd->add_option(
      "--data", spec, what + " spec, e.g. fashion-mnist or idx:DIR?split=test (see README, Dataset specs)");
}

CLI::Option* addLimitOption(CLI::App* cmd, size_t& limit) {
  return cmd->add_option("--limit", limit, "Examples in the seeded subset (0 = all)")->capture_default_str();
}

CLI::Option* addSeedOption(CLI::App* cmd, uint64_t& seed, const std::string& what) {
  return cmd->add_option("--seed", seed, "Seed of " + what)->capture_default_str();
}

CLI::Option* addThreadsOption(CLI::App* cmd, int& threads, const std::string& runtime,
                              const std::string& zero_means) {
  return cmd->add_option("--threads", threads, runtime + " intra-op threads (0 = " + zero_means + ")")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
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
      "COUNT");
  return cmd->add_option("--threads", counts, "Thread counts to measure at, e.g. 1,2,4")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->capture_default_str()
      ->check(thread_count);
}

CLI::Option* addBatchOption(CLI::App* cmd, int& batch, const std::string& what) {
  return cmd->add_option("--batch", batch, what.empty() ? "Batch size" : "Batch size of " + what)
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace edgetune::cli
