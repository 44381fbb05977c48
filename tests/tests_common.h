#pragma once
// Helpers shared by the tests: temporary folders, fixture paths, output comparison through ONNX Runtime.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/runtime/executor.h"

namespace edgetune::test {

/// A fresh temporary folder removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// True if `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The edgetune::Error message `f` throws, or "" when it does not throw.
std::string errorOf(const std::function<void()>& f);

/// Path of a committed fixture under tests/fixtures.
std::filesystem::path fixture(const std::string& name);

/// Random inputs for every model input (dynamic dimensions become `dynamic_dim`); seeded.
/// Integer inputs get values in [0, int_high).
std::vector<NamedTensor> randomInputs(const Model& model, uint64_t seed, int64_t dynamic_dim = 1,
                                      int64_t int_high = 2);

/// Max |a-b| over all outputs divided by max(1, max |a|): the "relative to the output scale" measure.
double relativeMaxDiff(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

/// Runs both models in ONNX Runtime on the same inputs and returns relativeMaxDiff of their outputs.
double compareInOrt(const Model& a, const Model& b, const std::vector<NamedTensor>& inputs);

}  // namespace edgetune::test
