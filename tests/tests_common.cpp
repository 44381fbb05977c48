#include "tests/tests_common.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/util/error.h"

namespace edgetune::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("edgetune-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

fs::path fixture(const std::string& name) {
  return fs::path(EDGETUNE_TEST_DATA) / name;
}

std::vector<NamedTensor> randomInputs(const Model& model, uint64_t seed, int64_t dynamic_dim,
                                      int64_t int_high) {
  std::mt19937_64 rng(seed);
  std::vector<NamedTensor> result;
  for (const auto& in : model.inputs()) {
    std::vector<int64_t> shape = in.shape;
    for (auto& d : shape)
      if (d < 0) d = dynamic_dim;
    Tensor t(in.type, shape);
    if (in.type == DataType::Float32) {
      std::normal_distribution<float> dist(0.f, 1.f);
      for (auto& v : t.values<float>()) v = dist(rng);
    } else if (in.type == DataType::Int64) {
      std::uniform_int_distribution<int64_t> dist(0, int_high - 1);
      for (auto& v : t.values<int64_t>()) v = dist(rng);
    } else if (in.type == DataType::Int32) {
      std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(int_high - 1));
      for (auto& v : t.values<int32_t>()) v = dist(rng);
    } else {
      throw Error("randomInputs: unsupported input type " + dataTypeName(in.type));
    }
    result.push_back({in.name, std::move(t)});
  }
  return result;
}

double relativeMaxDiff(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return INFINITY;
  double max_diff = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape() != b[i].shape() || a[i].type() != DataType::Float32 || b[i].type() != DataType::Float32)
      return INFINITY;
    auto x = a[i].values<float>();
    auto y = b[i].values<float>();
    for (size_t j = 0; j < x.size(); ++j) {
      scale = std::max(scale, static_cast<double>(std::fabs(x[j])));
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(x[j] - y[j])));
    }
  }
  return max_diff / scale;
}

double compareInOrt(const Model& a, const Model& b, const std::vector<NamedTensor>& inputs) {
  auto ea = makeOrtExecutor(a);
  auto eb = makeOrtExecutor(b);
  return relativeMaxDiff(ea->run(inputs), eb->run(inputs));
}

}  // namespace edgetune::test
