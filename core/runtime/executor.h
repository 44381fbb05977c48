#pragma once
// Executor: runs a Model. ONNX Runtime is the reference (accuracy and latency); the libtorch interpreter
// trains.
#include <memory>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/ir/tensor.h"
#include "core/util/enum_names.h"

namespace edgetune {

/// Something that runs a model on host tensors.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::vector<TensorInfo> inputs() const = 0;
  virtual std::vector<TensorInfo> outputs() const = 0;
  /// Runs the model; returns the requested outputs in order (all graph outputs if `output_names` is empty).
  /// Throws Error naming the input and the problem if an input is missing or has the wrong type/shape.
  virtual std::vector<Tensor> run(const std::vector<NamedTensor>& inputs,
                                  const std::vector<std::string>& output_names = {}) = 0;
};

/// Throws Error("<origin>: input 'x' expects ...") if `tensor` does not match the declared type or shape
/// (dimensions < 0 accept any size). Shared by the executors so they report bad inputs the same way.
void checkInputMatches(const std::string& origin, const TensorInfo& expected, const Tensor& tensor);

/// ONNX Runtime graph optimization levels (values match ORT's GraphOptimizationLevel + 1, 0 is not valid).
enum class GraphOptimization { Disabled = 1, Basic = 2, Extended = 3, All = 4 };
constexpr auto enumNames(GraphOptimization) {
  using N = EnumName<GraphOptimization>;
  return std::array{N{GraphOptimization::Disabled, "disabled"}, N{GraphOptimization::Basic, "basic"},
                    N{GraphOptimization::Extended, "extended"}, N{GraphOptimization::All, "all"}};
}

struct OrtOptions {
  int intra_op_threads = 1;  // 0 = ONNX Runtime's default (one per core)
  GraphOptimization optimization = GraphOptimization::All;
  /// Worker threads spin after a run waiting for more work (ORT's default). Turn off when several sessions
  /// take turns in one process (interleaved timing): an idle session's spinning threads otherwise steal the
  /// cores from the one being timed.
  bool allow_spinning = true;
  bool enable_profiling = false;
  std::string profile_prefix;  // file prefix for ORT's JSON profile when profiling
};

/// ONNX Runtime executor over the model's serialized bytes (works for in-memory models, e.g. pass outputs).
std::unique_ptr<Executor> makeOrtExecutor(const Model& model, const OrtOptions& options = {});
/// ONNX Runtime executor straight from a file (what the bare benchmark loop does too).
std::unique_ptr<Executor> makeOrtExecutor(const std::string& onnx_path, const OrtOptions& options = {});

}  // namespace edgetune
